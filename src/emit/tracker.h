/*
 * tracker.h - what follow mode remembers of each flow it has written, so a
 * periodic dump can tell what changed and what vanished without an event.
 *
 * struct tracker owns its entries (a dense vector plus an open-addressing
 * index keyed by conntrack id and told apart by the original tuple).  Entry pointers are valid until the next
 * tracker_put() or tracker_remove().
 */
#ifndef FLOWTOP_TRACKER_H
#define FLOWTOP_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

enum {
	TRACKED_PROCESS	= 1 << 0,	/* process fields were written */
	TRACKED_SRC_NAME = 1 << 1,
	TRACKED_DST_NAME = 1 << 2,
	TRACKED_UID = 1 << 3,		/* uid is known (pid: TRACKED_PROCESS) */
};

struct tracked {
	uint32_t id;
	uint32_t gen;			/* last dump generation that saw it */
	uint8_t family, l4proto, flags;
	uint8_t has_ports, has_icmp;
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id;
	uint16_t zone;
	struct flow_tuple orig;
	const char *state;		/* static name from flow_state_name() */
	uint32_t pid, uid;		/* the local socket's owner, if found */
	uint32_t status;
	uint64_t orig_bytes, orig_packets, reply_bytes, reply_packets;
};

struct tracker;

struct tracker *tracker_new(void);
void tracker_free(struct tracker *t);

/* Number of flows tracked. */
size_t tracker_count(const struct tracker *t);

/* Look up a flow by conntrack id and original tuple (ids are hashes and
 * can collide); NULL when not tracked. */
struct tracked *tracker_find(struct tracker *t, const struct flow *f);

/* Record f (which must have an id) as written, seen in generation gen.
 * Returns true when it is new or differs from what was recorded in state,
 * status, counters or enrichment; -1 on allocation failure. */
int tracker_put(struct tracker *t, const struct flow *f, uint32_t gen);

/* Whether a tracked flow needs no more work: the kernel's fields in f are
 * what was written, and it has every TRACKED_* bit in want (the enrichment
 * that may still come).  If so it is marked seen in generation gen. */
bool tracker_settled(struct tracked *e, const struct flow *f, unsigned int want, uint32_t gen);

/* Forget a flow; returns whether it was tracked. */
bool tracker_remove(struct tracker *t, const struct flow *f);

/* Fill a minimal flow (id, tuple, and the owner's pid and uid when known)
 * from an entry, for destroy and update records that the emitter makes
 * itself, and for kernel destroy events that come after the socket went. */
void tracker_to_flow(const struct tracked *e, struct flow *f);

/* Give f the owner (pid, uid) remembered for it, where f has none. */
void tracker_owner(const struct tracked *e, struct flow *f);

/* Call fn for each entry last seen before generation gen, then forget them. */
int tracker_sweep(struct tracker *t, uint32_t gen,
		  int (*fn)(const struct tracked *e, void *data), void *data);

/* Call fn for each entry; fn may not add or remove entries. */
int tracker_each(struct tracker *t, int (*fn)(struct tracked *e, void *data), void *data);

#endif
