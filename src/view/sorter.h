/*
 * sorter.h - the order of the flows the view shows.
 *
 * struct sorter owns, per slot of a flowtab it does not own, the slot's
 * sort key and whether the slot is in the list (which flows: flowmatch.h),
 * and the rows of the last window it selected.  The screen keeps it up to
 * date through the table's dirty list (sorter_update), so a redraw after a
 * change costs the changed slots and one pass over the keys, not a pass
 * over the entries.  Indices point into the table and are valid until the
 * table next changes (or, held, until it is released).  It keeps no string
 * pointers (see strpool.h).
 */
#ifndef FLOWTOP_VIEW_SORTER_H
#define FLOWTOP_VIEW_SORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowmatch.h"
#include "flowtab.h"

enum sorter_key {
	SORT_STATE,		/* ESTABLISHED ... CLOSE, stateless last */
	SORT_BYTES,		/* most bytes first */
	SORT_RATE,		/* fastest first */
	SORT_AGE,		/* oldest first */
	SORT_PROCESS,		/* process name, then pid */
	SORT_DEST,		/* destination address, then port */
	SORT_KEY_MAX,
};

/* A rate older than this (stream time) is shown as zero. */
#define SORTER_RATE_STALE_NS FLOWTAB_RATE_STALE_NS

/* A slot's key: the order first, then a tuple tie-break; the slot index
 * ends every tie. */
struct sorter_slot {
	uint64_t hi, lo;
};

/* A row of a window: a key with its slot. */
struct sorter_item {
	uint64_t hi, lo;
	uint32_t idx;
};

struct sorter {
	enum sorter_key key;
	bool reverse;

	uint32_t n;			/* flows in the list */

	/* per slot below nslots: key (valid for members) and membership */
	struct sorter_slot *keys;
	uint64_t *member;		/* bitmap */
	uint32_t nslots, cap;
	bool built;			/* keys are for built_key and built_m */
	enum sorter_key built_key;
	struct flowmatch built_m;

	/* ascending positions [win_lo, win_lo + win_n), in order */
	struct sorter_item *win;
	uint32_t win_lo, win_n, win_cap;
	uint8_t win_end;		/* SORTER_LOW, SORTER_HIGH: the ends it holds */
	/* slots whose key or membership changed since that window: the next
	 * window at the same end is found among them and it, no pass */
	uint32_t *moved;
	uint32_t nmoved, moved_cap;
	bool moved_all;			/* too many, or all: the next takes a pass */
	uint64_t windows, windows_kept;	/* selected; of them found that way */
};

enum { SORTER_LOW = 1, SORTER_HIGH = 2 };

/* Build the fully sorted list of the flows of t that m lets through (NULL:
 * all): every position is then readable with sorter_at().  For a one-off
 * list (--batch): it does not keep per-slot keys.  Returns 0, or -1 when
 * out of memory. */
int sorter_run(struct sorter *s, const struct flowtab *t, const struct flowmatch *m);

/* Compute every slot's key and membership afresh (a pass over the
 * entries); the table's dirty list is left alone.  -1: no memory. */
int sorter_build(struct sorter *s, const struct flowtab *t, const struct flowmatch *m);

/* Bring the keys up to date with t: only the slots on t's dirty list,
 * unless the order or filter changed since the last build, or t lost
 * count of its changes (then sorter_build).  Takes the dirty list
 * (flowtab_dirty_clear).  -1: no memory, and the next call builds. */
int sorter_update(struct sorter *s, struct flowtab *t, const struct flowmatch *m);

/* Select the rows at display positions [first, first + count) (what a
 * screen shows) from the keys, in order; sorter_at() reads them.  A window
 * at the top or bottom of the list costs one pass over the keys, or only
 * the slots changed since when the last window was at the same end; one in
 * the middle a few passes (a radix select of its first row), and memory
 * for the window only.  -1 when out of memory: no rows then. */
int sorter_window(struct sorter *s, uint32_t first, uint32_t count);

/* The table index of the flow at display position i, which the last
 * sorter_window() or sorter_run() covered; 'reverse' is applied here. */
static inline uint32_t sorter_at(const struct sorter *s, uint32_t i)
{
	return s->win[(s->reverse ? s->n - 1 - i : i) - s->win_lo].idx;
}

/* Bytes the sorter holds. */
size_t sorter_bytes(const struct sorter *s);

/* Free what the sorter holds. */
void sorter_release(struct sorter *s);

/* The name of a sort key ("state", "bytes", ...), and back (-1 unknown). */
const char *sorter_key_name(enum sorter_key k);
int sorter_key_parse(const char *name);

/* The rate to show for e at stream time now. */
static inline uint32_t sorter_rate(const struct flowtab_entry *e, uint64_t now)
{
	return flowtab_rate(e, now);
}

#endif
