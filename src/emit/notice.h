/*
 * notice.h - the emitter's one way to say something on stderr: notices
 * (what a run lacks or did on its own: counters off, no GeoIP database, an
 * empty table, missing capabilities), errors and usage errors.  Each writes
 * one line that starts "flowtop-emit: ", so modules never spell the
 * program's name.  --quiet silences notices only, so that a cron job that
 * succeeds says nothing and one that fails still says why.  Nothing here
 * owns memory; the quiet flag is set once, before any thread starts.
 */
#ifndef FLOWTOP_NOTICE_H
#define FLOWTOP_NOTICE_H

#include <stdbool.h>

#define NOTICE_PROG "flowtop-emit"

/* Silence notice() from now on (--quiet); errors still print. */
void notice_set_quiet(bool quiet);

/* A notice: one line on stderr, the program's prefix and a newline added;
 * nothing when quiet. */
void notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An error: as notice(), but --quiet does not silence it.  Word it error
 * first, lowercase, subject quoted: "cannot open 'x': No such file". */
void notice_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A usage error: the message, then "try 'flowtop-emit --help'" (the same
 * words as flowtop-view), and exit with status 2. */
void notice_usage(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* Only the hint and exit 2, after getopt has already said what was wrong. */
void notice_usage_hint(void) __attribute__((noreturn));

#endif
