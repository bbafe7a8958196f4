/*
 * flowtab.h - the view's live flow table: records in, current flows out.
 *
 * struct flowtab owns its entries (one array, reused through a free list)
 * and the hash index over them.  Strings inside entries belong to the
 * caller's string pool; the table is the only holder of pool pointers that
 * outlive a record, which is what lets flowtab_reintern() move them all.  Entries are addressed by index; an index stays
 * valid while the entry is live, and while the table is held (paused) even
 * a removed entry stays readable until flowtab_hold(t, false).
 */
#ifndef FLOWTOP_VIEW_FLOWTAB_H
#define FLOWTOP_VIEW_FLOWTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "field.h"
#include "flow.h"

/* Default cap on live flows; --max-flows changes it. */
#define FLOWTAB_MAX_DEFAULT 1000000u

enum {
	FT_LIVE = 1 << 0,	/* slot in use */
	FT_CLOSED = 1 << 1,	/* destroyed: shown dimmed until it expires */
	FT_BY_ID = 1 << 2,	/* keyed by conntrack.id, else by tuple */
	FT_DEAD = 1 << 3,	/* removed while held; freed on release */
};

/* State ranks for the default sort: ESTABLISHED first, stateless last. */
enum { FT_RANK_OTHER = 8, FT_RANK_STATELESS = 9 };

struct flowtab_entry {
	/* a hash walk reads hnext and khash of each entry in its chain; only
	 * where khash matches does it compare the key, which lies in f over
	 * the entry's first three cache lines (family at byte 21, the tuple
	 * at 48, the id at 140) */
	uint32_t hnext;		/* hash chain: index + 1, 0 ends */
	uint32_t khash;		/* hash of the key */
	uint8_t flags;		/* FT_* */
	uint8_t rank;		/* sort rank of f.state */
	struct flow f;
	uint64_t first_ns;	/* stream time it was first seen */
	uint64_t rate_ts;	/* stream time of the last counter sample */
	uint64_t rate_bytes;	/* both directions' bytes at that sample */
	uint64_t closed_mono;	/* monotonic ns when it was closed */
	uint32_t rate;		/* bytes/s between the last two samples */
	uint32_t seen;		/* last snapshot generation it was in */
};

struct flowtab_stats {
	uint64_t opened, closed;	/* flows added, flows gone */
	uint64_t overruns;		/* overrun markers seen */
	uint64_t full;			/* new flows dropped at the cap */
	uint64_t snapshots;		/* completed snapshot frames */
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
	uint32_t gen;		/* snapshot generation */
	bool in_frame;
	bool held;
	bool any_counters;	/* some record carried counters */
	uint64_t linger_ns;	/* how long a closed flow stays; 0 = at once */
	uint64_t now_ns;	/* latest record time: the stream's clock */
	uint32_t nclosed;	/* entries with FT_CLOSED still in the table */
	uint32_t ndead;		/* entries with FT_DEAD */
	uint64_t next_expiry;	/* earliest closed_mono + linger */
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

/* Replace every string pointer of every entry with fn(ctx, s): used to move
 * the table to a fresh string pool.  Returns 0, or -1 when fn fails. */
int flowtab_reintern(struct flowtab *t, field_intern_fn fn, void *ctx);

/* Bytes the table holds for its entries and index. */
size_t flowtab_bytes(const struct flowtab *t);

/* a + b, or UINT64_MAX when the sum does not fit: a flow with 16 EiB must
 * not sort or show as one with a few bytes. */
static inline uint64_t flowtab_sum(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* Whether slot i is a flow to show (live and not removed). */
static inline bool flowtab_shown(const struct flowtab *t, uint32_t i)
{
	return (t->e[i].flags & (FT_LIVE | FT_DEAD)) == FT_LIVE;
}

#endif
