/*
 * sorter.h - the order of the flows the view shows.
 *
 * struct sorter owns the sorted index array it builds from a flowtab it
 * does not own (which flows: flowmatch.h); indices point into that table and
 * are valid until the table next changes (or, held, until it is released).
 * It keeps no string pointers (see strpool.h).
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
#define SORTER_RATE_STALE_NS (10 * 1000000000ull)

struct sorter_item {
	uint64_t hi, lo;
	uint32_t idx;
};

struct sorter {
	enum sorter_key key;
	bool reverse;

	struct sorter_item *items;	/* the result: n shown flows, in order */
	uint32_t n, cap;
};

/* Build the fully sorted list of the flows of t that m lets through (NULL:
 * all) into s->items.  Returns 0, or -1 when out of memory. */
int sorter_run(struct sorter *s, const struct flowtab *t, const struct flowmatch *m);

/* Build the list of the flows m lets through with their sort keys,
 * unsorted (-1: no memory). */
int sorter_build(struct sorter *s, const struct flowtab *t, const struct flowmatch *m);

/* Sort just enough that display positions [first, first + count) hold the
 * right flows in the right order (what a screen shows). */
void sorter_window(struct sorter *s, uint32_t first, uint32_t count);

/* The table index of the flow at display position i (< s->n); the items
 * stay ascending and 'reverse' is applied here. */
static inline uint32_t sorter_at(const struct sorter *s, uint32_t i)
{
	return s->items[s->reverse ? s->n - 1 - i : i].idx;
}

/* Free what the sorter holds. */
void sorter_release(struct sorter *s);

/* The name of a sort key ("state", "bytes", ...), and back (-1 unknown). */
const char *sorter_key_name(enum sorter_key k);
int sorter_key_parse(const char *name);

/* The rate to show for e at stream time now. */
static inline uint32_t sorter_rate(const struct flowtab_entry *e, uint64_t now)
{
	/* in ms modulo 2^32, as the table keeps sample times */
	return (uint32_t)(now / 1000000u) - e->rate_ms <= SORTER_RATE_STALE_NS / 1000000u ?
	       e->rate : 0;
}

#endif
