/*
 * notice.h - the emitter's notices: what a run lacks or did on its own
 * (counters off, no GeoIP database, an empty table, missing capabilities),
 * as opposed to errors.  --quiet silences notices only, so that a cron job
 * that succeeds says nothing and one that fails still says why.
 */
#ifndef FLOWTOP_NOTICE_H
#define FLOWTOP_NOTICE_H

#include <stdbool.h>

void notice_set_quiet(bool quiet);

/* One line on stderr, "flowtop-emit: " and a newline added; nothing when
 * quiet. */
void notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
