/*
 * tracker.h - follow mode's one judge of a flow's life in the stream.
 *
 * Kernel events and table dumps race: conntrack puts a flow in its table
 * before it sends the NEW event and takes it out before it sends DESTROY,
 * and a dump buffer read after an event may be older than the event.  Every
 * sighting of a flow (an event, a snapshot dump, a refresh dump) goes
 * through tracker_observe(), which alone decides what, if anything, the
 * stream says about it, so that each flow reads new (or snapshot), updates,
 * exactly one destroy, and nothing after; see tracker.c for the rules.
 *
 * struct tracker owns its entries (a dense vector plus an open-addressing
 * index keyed by conntrack id and told apart by the original tuple, and
 * beside the vector the counters and IPv6 address pairs), the dead ones
 * included for a while.  Entry pointers are valid until the next
 * call that adds or removes entries (tracker_put, tracker_observe,
 * tracker_remove, tracker_sweep, tracker_expire).
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
	TRACKED_COUNTERS = 1 << 4,	/* counters were written */
	TRACKED_DUMPED = 1 << 5,	/* the state written came from a dump */
};

/* Where a flow is in its life, as the stream tells it. */
enum tracked_life {
	TRACKED_ALIVE,		/* written, and seen by the last dump */
	TRACKED_MISSING,	/* written, but the last refresh dump did not see it */
	TRACKED_PENDING,	/* a refresh dump saw it, its NEW event not yet read */
	TRACKED_DEAD,		/* its destroy was written (or a frame dropped it) */
};

/* Who ended a dead flow's life; decides what may start a new one. */
enum tracked_death {
	TRACKED_BY_EVENT,	/* the kernel's DESTROY */
	TRACKED_BY_SWEEP,	/* a dump no longer had it */
	TRACKED_BY_FILTER,	/* it stopped matching the filters */
};

/* One flow, in as few bytes as tell it apart from the others and tell a
 * change from none (48 a flow; the counters, kept only where the kernel
 * sends them, and IPv6 addresses live beside it in the tracker).  Read
 * life, death, gen and flags; the rest is the tracker's. */
struct tracked {
	uint32_t id;
	uint32_t gen;			/* alive: last dump generation that saw it;
					 * dead: the generation it died in */
	uint32_t since_ms;		/* when it became pending, missing or dead
					 * (the clock's low 32 bits, compared
					 * wrap-safe: ages are seconds) */
	uint32_t pid, uid;		/* the local socket's owner, if found */
	uint32_t status;
	uint16_t icmp_id, zone;
	uint8_t family, l4proto, flags;
	uint8_t life : 2, death : 2;	/* enum tracked_life, enum tracked_death */
	uint8_t has : 2;		/* TRACKER_HAS_* (tracker.c) */
	uint8_t state;			/* index of the state name (tracker.c), 0: none */
	uint8_t icmp_type, icmp_code;
	uint16_t sport, dport;
	uint32_t addr[2];		/* IPv4: source, destination; IPv6: [0] is
					 * the pair's place in the tracker's table */
};

/* How a sighting reached the emitter. */
enum tracker_src {
	TRACKER_EVENT,		/* a kernel event; f->action new, update or destroy */
	TRACKER_SNAPSHOT,	/* a framed full dump: first one, resyncs */
	TRACKER_REFRESH,	/* an interval dump */
};

/* The emitter's clock as the tracker needs it. */
struct tracker_now {
	uint32_t gen;		/* generation of the dump in progress or last done */
	bool dumping;		/* a dump of generation gen is in progress */
	uint64_t ms;		/* monotonic milliseconds */
	uint64_t drained_ms;	/* last time the event queue was seen empty */
};

struct tracker;

/* An empty tracker; NULL when out of memory. */
struct tracker *tracker_new(void);
/* Free t and every entry (NULL: nothing). */
void tracker_free(struct tracker *t);

/* Number of entries held, pending and dead ones included. */
size_t tracker_count(const struct tracker *t);

/* Bytes of memory the tracker holds (entries, index, side tables), for
 * measuring what a flow costs. */
size_t tracker_bytes(const struct tracker *t);

/* Look up a flow by conntrack id and original tuple (ids are hashes and
 * can collide); NULL when not tracked. */
struct tracked *tracker_find(struct tracker *t, const struct flow *f);

/* Make room for n flows in all, before a dump of that many: the index
 * then never doubles (rehashing every flow) while the dump comes in.
 * 0, or -1 when out of memory (nothing is lost: it grows as it goes). */
int tracker_reserve(struct tracker *t, size_t n);

/* Decide what the stream says about one sighting of f (which must have an
 * id); match: whether f passes the filters.  Returns 1 when f is to be
 * written, with f->action set to the record's action (snapshot, new,
 * update or destroy) and the remembered owner filled in; 0 when nothing is
 * to be written; -1 with errno on allocation failure. */
int tracker_observe(struct tracker *t, struct flow *f, enum tracker_src src, bool match,
		    const struct tracker_now *now);

/* tracker_observe() for a caller that has looked f up already: e is
 * tracker_find(t, f), NULL included.  One probe of the index less. */
int tracker_observe_entry(struct tracker *t, struct tracked *e, struct flow *f,
			  enum tracker_src src, bool match, const struct tracker_now *now);

/* Record f (which must have an id) as written and alive, seen in
 * generation gen, whatever was there.  Returns 1 when it is new or differs
 * from what was recorded in state, status, counters or enrichment, 0 when
 * nothing changed, -1 with errno on allocation failure. */
int tracker_put(struct tracker *t, const struct flow *f, uint32_t gen);

/* Whether an alive flow needs no more work: the kernel's fields in f are
 * what was written, and it has every TRACKED_* bit in want (the enrichment
 * that may still come).  If so it is marked seen in generation gen.  False
 * for flows in any other part of their life. */
bool tracker_settled(struct tracker *t, struct tracked *e, const struct flow *f,
		     unsigned int want, uint32_t gen);

/* Forget a flow at once, leaving no trace; returns whether it was tracked. */
bool tracker_remove(struct tracker *t, const struct flow *f);

/* Fill a minimal flow (id, tuple, and the owner's pid and uid when known)
 * from an entry, for destroy and update records that the emitter makes
 * itself, and for kernel destroy events that come after the socket went. */
void tracker_to_flow(const struct tracker *t, const struct tracked *e, struct flow *f);

/* Give f the owner (pid, uid) remembered for it, where f has none. */
void tracker_owner(const struct tracked *e, struct flow *f);

/* End of a dump of generation now->gen (src: TRACKER_SNAPSHOT or
 * TRACKER_REFRESH): settle the flows it did not see.  destroy is called for
 * each flow whose destroy record must be written now (refresh dumps only;
 * a snapshot frame's end drops the unseen silently, as readers do). */
int tracker_sweep(struct tracker *t, enum tracker_src src, const struct tracker_now *now,
		  int (*destroy)(const struct tracked *e, void *data), void *data);

/* Forget dead flows that nothing stale can mention any more. */
void tracker_expire(struct tracker *t, const struct tracker_now *now);

/* Call fn for each flow alive in the stream (written, not destroyed); fn
 * may not add or remove entries. */
int tracker_each(struct tracker *t, int (*fn)(struct tracked *e, void *data), void *data);

#endif
