/*
 * follow.h - follow mode: a framed snapshot, then kernel events as they
 * come, refresh dumps that catch what events cannot (counters, lost
 * events), a framed resync after an event overrun, and late names as
 * updates.  One poll loop drives the event socket, the dump socket, the
 * resolver and the output; a reader that lags stops the loop taking input
 * (the kernel then drops events: an overrun, resynchronised later) rather
 * than let memory grow.
 *
 * Borrows everything from struct emitter (see emitter.h), which must have
 * an output and a tracker; owns only the loop's state, for the length of
 * follow_run().
 */
#ifndef FLOWTOP_FOLLOW_H
#define FLOWTOP_FOLLOW_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "emitter.h"

/* Run until a stop signal, a reader that went away, or a failure.  stops:
 * the signals main keeps blocked, let in only while waiting.  0 when
 * stopped (a reader gone shows as a failed write with EPIPE), or -1 with
 * the failure said (see emitter_fail) or a failed write in em. */
int follow_run(struct emitter *em, const sigset_t *stops);

/* The time from the end of a refresh dump to the next: interval_ms (the
 * user's --interval), stretched so that dumps that cost cost_ms take at
 * most 5% of the time where the table has counters, 1% where it has none
 * (events then bring every change). */
uint64_t follow_refresh_gap(uint64_t interval_ms, uint64_t cost_ms, bool counters);

#endif
