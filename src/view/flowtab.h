/*
 * flowtab.h - the view's live flow table: records in, current flows out.
 *
 * struct flowtab owns its entries (one array, reused through a free list),
 * the hash index over them, and three small tables of what many flows
 * share: names (state, application protocol), places (one end's DNS name
 * and geo) and owners (pid and process name).  An entry keeps only what the
 * view shows, with 32-bit handles into those tables.  Strings in the tables
 * belong to the caller's string pool; the tables are the only holders of
 * pool pointers that outlive a record, which is what lets
 * flowtab_reintern() move them all.  Entries are addressed by index; an
 * index stays valid while the entry is live, and while the table is held
 * (paused) even a removed entry stays readable until flowtab_hold(t, false).
 *
 * For the screen's sake the table also keeps, as it applies records, what
 * would otherwise take a pass over every flow per redraw: a list of the
 * slots that changed since its consumer (the ui's sorter) last took it,
 * and per owner (process and namespace) the sums the per-process view
 * shows.  Rates go stale with the stream's clock; the table queues each
 * fresh rate's deadline, so that a rate turning stale changes the sums and
 * marks its slot like any other change.
 */
#ifndef FLOWTOP_VIEW_FLOWTAB_H
#define FLOWTOP_VIEW_FLOWTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "field.h"
#include "flow.h"
#include "htab.h"

/* Default cap on live flows; --max-flows changes it.  Not the kernel's
 * nf_conntrack_max: the stream may come from another namespace, host or a
 * file (flowtop passes it where it is larger).  About 135 MiB RSS when
 * full on the screen (bench-scale). */
#define FLOWTAB_MAX_DEFAULT 1000000u

enum {
	FT_LIVE = 1 << 0,	/* slot in use */
	FT_CLOSED = 1 << 1,	/* destroyed: shown dimmed until it expires */
	FT_BY_ID = 1 << 2,	/* keyed by conntrack.id, else by tuple */
	FT_DEAD = 1 << 3,	/* removed while held; freed on release */
	FT_SAMPLED = 1 << 4,	/* rate_ms holds a counter sample's time */
	FT_FRESH = 1 << 5,	/* a rate not stale yet: counted in its owner's
				 * sum, its deadline queued */
	FT_DIRTY = 1 << 6,	/* on the dirty list (kept while the slot is
				 * freed and reused: the list names the slot) */
};

/* A rate older than this (stream time) is shown as zero. */
#define FLOWTAB_RATE_STALE_NS (10 * 1000000000ull)

/* The dirty list holds at most this many slots, or a sixteenth of the
 * table if more; past it the table says "everything changed" (a pass over
 * every entry in order costs about what a sixteenth of them at random
 * does). */
#define FLOWTAB_DIRTY_MIN 4096u

/* State ranks for the default sort: ESTABLISHED first, stateless last. */
enum { FT_RANK_OTHER = 8, FT_RANK_STATELESS = 9 };

/* One end's name and place, shared by every flow that has the same. */
struct flowtab_place {
	const char *domain;		/* reverse DNS name or NULL */
	const char *country_name, *city_name;
	char country_iso[3];		/* "" when unknown */
};

/* The local socket's owner in its namespace, shared likewise: the same
 * process name and pid in two namespaces are two owners (two rows of the
 * per-process view). */
struct flowtab_owner {
	const char *name;		/* process name or NULL */
	uint32_t pid;
	uint32_t has_pid;		/* whether pid is known */
	uint32_t netns;			/* the flows' namespace handle (their
					 * entries hold the same one) */
	uint32_t zero;			/* records compare as bytes: no padding */
};

/* What the shown flows of one owner add up to, kept by owner handle as
 * records are applied.  Byte sums are 128-bit (lo, hi) so that taking a
 * flow out is exact where a saturated sum could not be undone. */
struct flowtab_sum {
	uint64_t sent[2], recv[2];	/* flows with counters only */
	uint64_t rate;			/* their fresh rates */
	uint32_t flows;			/* shown flows */
	uint32_t counters;		/* of them, with byte counters */
};

/* Where a flow lives, in a stream that watches other network namespaces
 * (flowtop-emit --netns, --all-netns): shared by the flows of a namespace.
 * The inode is part of a flow's key: two namespaces can hold the same
 * tuple, and the same conntrack id. */
struct flowtab_netns {
	const char *name;		/* ip-netns name or NULL */
	const char *container_id, *container_name, *container_runtime;
	uint64_t ino;			/* 0 when the stream does not say */
};

/* A set of fixed-size records that entries refer to by handle, each kept
 * once with a count of its users; handle 0 is the all-zero record ("none")
 * and is never counted or freed. */
struct flowtab_shared {
	unsigned char *rec;
	uint32_t *refs;
	void *aux;			/* per handle, not hashed: mutable state
					 * of the record's users (NULL: none) */
	uint32_t aux_size;		/* bytes of aux a handle */
	uint32_t size;			/* bytes a record */
	uint32_t n, cap;		/* records made, room */
	uint32_t max;			/* handles must fit below this */
	uint32_t freelist;		/* a freed handle, its record holds the next */
	uint32_t live;			/* records in use, 0 aside */
	struct htab index;		/* hash of the record -> handle */
	/* while set (the table held), a record whose last user goes stays
	 * whole and findable until released: a frozen process row reads it */
	bool defer;
	uint32_t *later;		/* such handles, one reference each */
	uint32_t nlater, later_cap;
};

struct flowtab_entry {
	uint32_t hnext;		/* hash chain: index + 1, 0 ends (no stored
				 * hash: 8 bytes a flow with the padding, and
				 * chains are half an entry long on average) */
	uint32_t id;		/* conntrack.id */
	uint32_t has;		/* FLOW_HAS_* of the record fields merged */
	struct flow_tuple orig;	/* original direction */
	uint8_t flags;		/* FT_* */
	uint8_t rank;		/* sort rank of the state */
	uint8_t family, l4proto;
	uint16_t zone, icmp_id;
	uint8_t icmp_type, icmp_code;
	uint16_t state;		/* name handle of conntrack.state, 0 none */
	uint16_t protocol;	/* name handle of network.protocol, 0 none */
	uint16_t seen;		/* last snapshot generation it was in */
	uint32_t src, dst;	/* place handles of the two ends, 0 none */
	uint32_t owner;		/* owner handle, 0 none */
	uint32_t netns;		/* netns handle, 0 none (a plain stream) */
	uint32_t rate;		/* bytes/s between the last two samples */
	uint32_t rate_ms;	/* stream time of the last counter sample, ms,
				 * modulo 2^32 (differences wrap safely) */
	uint64_t orig_bytes, reply_bytes;
	uint64_t since_ns;	/* event.start, or when the stream first
				 * showed the flow: what its age counts from */
};

struct flowtab_stats {
	uint64_t opened, closed;	/* flows added, flows gone */
	uint64_t overruns;		/* overrun markers seen */
	uint64_t full;			/* new flows dropped at the cap */
	uint64_t snapshots;		/* completed snapshot frames */
	uint64_t refreshes;		/* refresh markers seen */
};

/* A fresh rate's deadline: the stream time (ms modulo 2^32) from which
 * it is stale.  Valid while the slot's rate_ms still gives that time. */
struct flowtab_stale {
	uint32_t due_ms;
	uint32_t idx;
};

/* A closed flow waiting for its linger to end. */
struct flowtab_closed {
	uint64_t mono;		/* monotonic ns when it was closed */
	uint32_t idx;		/* entry, or UINT32_MAX when it went early */
};

struct flowtab {
	struct flowtab_entry *e;
	uint32_t n;		/* slots used so far (high-water mark) */
	uint32_t cap;		/* slots allocated */
	uint32_t live;		/* entries with FT_LIVE and not FT_DEAD */
	uint32_t max;		/* cap on live */
	uint32_t freelist;	/* index + 1 */
	uint32_t *buckets;	/* index + 1 */
	uint32_t nbuckets;
	uint16_t gen;		/* snapshot generation */
	bool in_frame;
	bool held;
	bool any_counters;	/* some record carried counters */
	bool any_netns;		/* some record named its namespace */
	uint64_t linger_ns;	/* how long a closed flow stays; 0 = at once */
	uint64_t now_ns;	/* latest record time: the stream's clock */
	uint32_t nclosed;	/* entries with FT_CLOSED still in the table */
	uint32_t ndead;		/* entries with FT_DEAD */
	/* closed flows in the order they closed: with one linger for all,
	 * the oldest expires first, so expiry never scans the table */
	struct flowtab_closed *fifo;
	uint32_t fhead, ftail, fcap;	/* ring; fcap a power of two */
	uint64_t next_expiry;	/* when the oldest closed flow goes; 0 none */
	/* monotonic ns when a marker (snapshot-end, refresh) last said the
	 * producer had found the table whole; 0 never.  At scale refreshes
	 * are minutes apart: the status says how long ago. */
	uint64_t confirmed_mono;
	struct flowtab_shared names, places, owners, netns;	/* owners' aux:
								 * struct flowtab_sum */
	/* slots changed since flowtab_dirty_clear(): new, updated, closed,
	 * removed, freed, reused, their rate gone stale */
	uint32_t *dirty;
	uint32_t ndirty, dirty_cap;
	bool dirty_all;		/* too many to list: every slot may have */
	/* min-heap of fresh rates' deadlines; entries whose slot's rate has
	 * moved on are dropped when they come up, or when the heap is
	 * compacted (past twice what the last compaction kept) */
	struct flowtab_stale *stale;
	uint32_t nstale, stale_cap, stale_kept;
	struct flowtab_stats st;
};

/* Set up an empty table with room for at most max live flows. */
int flowtab_init(struct flowtab *t, uint32_t max, uint64_t linger_ns);

/* Free everything the table holds. */
void flowtab_release(struct flowtab *t);

/* Apply one record (or marker); mono is the monotonic clock now.  Returns
 * true when the table stored it (its strings now belong to the table),
 * false when it was dropped: a flow the table does not know that arrives
 * with the table full, or as a destroy. */
bool flowtab_apply(struct flowtab *t, const struct flow *rec, uint64_t mono);

/* Remove closed flows older than the linger time.  Returns the monotonic
 * time of the next expiry, or 0 when nothing waits. */
uint64_t flowtab_expire(struct flowtab *t, uint64_t mono);

/* Hold (pause) or release: while held, removed entries stay readable. */
void flowtab_hold(struct flowtab *t, bool hold);

/* The sort rank of a state name (ESTABLISHED 0 ... CLOSE 7). */
uint8_t flowtab_rank(const char *state);

/* Replace every string pointer the table holds with fn(ctx, s): used to
 * move the table to a fresh string pool.  Returns 0, or -1 when fn fails. */
int flowtab_reintern(struct flowtab *t, field_intern_fn fn, void *ctx);

/* A hint, before records with these conntrack ids are applied: the hash
 * buckets and chain heads their look-ups will read are fetched into the
 * cache meanwhile.  Changes nothing; a plain stream's only (the key of a
 * stream with namespaces holds the inode too). */
void flowtab_prefetch(const struct flowtab *t, const uint32_t *ids, size_t n);

/* Forget the dirty list: the consumer has seen every change so far. */
void flowtab_dirty_clear(struct flowtab *t);

/* Bytes the table holds for its entries, index and shared tables. */
size_t flowtab_bytes(const struct flowtab *t);

/* e as a struct flow, as far as the view keeps it (the fields that
 * linefmt, sorter and search read); strings are the table's. */
void flowtab_flow(const struct flowtab *t, const struct flowtab_entry *e, struct flow *f);

/* a + b, or UINT64_MAX when the sum does not fit: a flow with 16 EiB must
 * not sort or show as one with a few bytes. */
static inline uint64_t flowtab_sum(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* A 128-bit byte sum as the view shows it: saturated to 64 bits. */
static inline uint64_t flowtab_sum_bytes(const uint64_t s[2])
{
	return s[1] ? UINT64_MAX : s[0];
}

/* The rate to show for e at stream time now: zero once stale. */
static inline uint32_t flowtab_rate(const struct flowtab_entry *e, uint64_t now)
{
	/* in ms modulo 2^32, as the table keeps sample times */
	return (uint32_t)(now / 1000000u) - e->rate_ms <= FLOWTAB_RATE_STALE_NS / 1000000u ?
	       e->rate : 0;
}

/* Whether slot i is a flow to show (live and not removed). */
static inline bool flowtab_shown(const struct flowtab *t, uint32_t i)
{
	return (t->e[i].flags & (FT_LIVE | FT_DEAD)) == FT_LIVE;
}

/* The string of a name handle (state, protocol), NULL for none. */
static inline const char *flowtab_name(const struct flowtab *t, uint16_t h)
{
	const char *s;

	__builtin_memcpy(&s, t->names.rec + (size_t)h * sizeof(s), sizeof(s));
	return s;
}

/* e's conntrack.state and network.protocol, NULL when unknown. */
static inline const char *flowtab_state(const struct flowtab *t, const struct flowtab_entry *e)
{
	return flowtab_name(t, e->state);
}

static inline const char *flowtab_protocol(const struct flowtab *t, const struct flowtab_entry *e)
{
	return flowtab_name(t, e->protocol);
}

/* An end's place: end 0 the source, 1 the destination; never NULL. */
static inline const struct flowtab_place *flowtab_place(const struct flowtab *t,
							const struct flowtab_entry *e, int end)
{
	return (const struct flowtab_place *)(const void *)
		(t->places.rec + (size_t)(end ? e->dst : e->src) * sizeof(struct flowtab_place));
}

/* Owner handle h's record and sums (h below t->owners.n). */
static inline const struct flowtab_owner *flowtab_owner_at(const struct flowtab *t, uint32_t h)
{
	return (const struct flowtab_owner *)(const void *)
		(t->owners.rec + (size_t)h * sizeof(struct flowtab_owner));
}

static inline const struct flowtab_sum *flowtab_owner_sum(const struct flowtab *t, uint32_t h)
{
	return (const struct flowtab_sum *)t->owners.aux + h;
}

/* Namespace handle h's record (h below t->netns.n). */
static inline const struct flowtab_netns *flowtab_netns_at(const struct flowtab *t, uint32_t h)
{
	return (const struct flowtab_netns *)(const void *)
		(t->netns.rec + (size_t)h * sizeof(struct flowtab_netns));
}

/* The flow's owner; never NULL (a zero owner when there is none). */
static inline const struct flowtab_owner *flowtab_owner(const struct flowtab *t,
							const struct flowtab_entry *e)
{
	return (const struct flowtab_owner *)(const void *)
		(t->owners.rec + (size_t)e->owner * sizeof(struct flowtab_owner));
}

/* The flow's namespace and container; never NULL (all zero in a plain
 * stream). */
static inline const struct flowtab_netns *flowtab_netns(const struct flowtab *t,
							const struct flowtab_entry *e)
{
	return (const struct flowtab_netns *)(const void *)
		(t->netns.rec + (size_t)e->netns * sizeof(struct flowtab_netns));
}

#endif
