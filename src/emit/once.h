/*
 * once.h - --once: dump the table, write one snapshot record a flow, end.
 * Borrows everything from struct emitter (see emitter.h); owns nothing.
 */
#ifndef FLOWTOP_ONCE_H
#define FLOWTOP_ONCE_H

#include <signal.h>

#include "emitter.h"

/* Dump, enrich and write every flow that passes the filters; with DNS, a
 * first pass only asks for the names, waited for at most --dns-timeout.
 * stops: the stop signals, let in only while waiting for names.  0 (also
 * when a stop signal cut it short), or -1 with the failure said (see
 * emitter_fail) or a failed write in em. */
int once_run(struct emitter *em, const sigset_t *stops);

#endif
