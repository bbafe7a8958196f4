/*
 * refresh.h - the policy for snapshots that are read again when a look-up
 * misses (the socket dump, the /proc walk): a miss may read again only
 * after a least wait, or ten times what the last read cost if that is
 * longer, so that a stream of misses (flows whose socket is already gone)
 * costs at most about a tenth of the time however big the snapshot is.
 *
 * struct refresh is a plain value embedded in its user; it owns nothing.
 * Times are clock_mono_ns() (clock.h).
 */
#ifndef FLOWTOP_REFRESH_H
#define FLOWTOP_REFRESH_H

#include <stdbool.h>
#include <stdint.h>

struct refresh {
	uint64_t min_ns;	/* the least wait between two reads */
	uint64_t began_ns;	/* when the last read began */
	uint64_t next_ns;	/* earliest read on a miss; 0: now */
};

/* A refresher whose reads are at least min_ms apart. */
void refresh_init(struct refresh *r, unsigned int min_ms);

/* A read begins now; returns the time (clock_mono_ns). */
uint64_t refresh_begin(struct refresh *r);

/* The read that refresh_begin() started is done: the next one on a miss
 * waits min_ms, or ten times this one's cost if longer. */
void refresh_done(struct refresh *r);

/* Whether a miss may read again now. */
bool refresh_due(const struct refresh *r);

#endif
