/*
 * sorter.h - which flows the view shows, and in what order.
 *
 * struct sorter owns the sorted index array (and the per-process rows) it
 * builds from a flowtab it does not own; indices point into that table and
 * are valid until the table next changes (or, held, until it is released).
 * It keeps no string pointers (see strpool.h).
 */
#ifndef FLOWTOP_VIEW_SORTER_H
#define FLOWTOP_VIEW_SORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Protocol filter bits; no bit set means every protocol. */
enum {
	SORTER_TCP = 1 << 0,
	SORTER_UDP = 1 << 1,
	SORTER_ICMP = 1 << 2,	/* icmp and ipv6-icmp */
	SORTER_SCTP = 1 << 3,
	SORTER_V4 = 1 << 4,	/* family filter bits; none means both */
	SORTER_V6 = 1 << 5,
};

#define SORTER_SEARCH_MAX 64

/* A rate older than this (stream time) is shown as zero. */
#define SORTER_RATE_STALE_NS (10 * 1000000000ull)

struct sorter_item {
	uint64_t hi, lo;
	uint32_t idx;
};

/* One row of the per-process view.  It names its process through a flow
 * (a table index, like the sorted items) rather than a string pointer: a
 * paused screen keeps these rows while the string pool is rebuilt. */
struct sorter_proc {
	uint32_t idx;		/* a flow of this process: its name is the row's */
	uint32_t pid;
	bool has_pid;
	uint32_t flows;
	uint64_t sent, recv, rate;
};

struct sorter {
	enum sorter_key key;
	bool reverse;
	unsigned int filter;		/* SORTER_* bits */
	char search[SORTER_SEARCH_MAX];	/* case-insensitive substring, "" = none */

	struct sorter_item *items;	/* the result: n shown flows, in order */
	uint32_t n, cap;
	struct sorter_proc *procs;	/* sorter_procs() result */
	uint32_t nprocs, proccap;
};

/* Build the filtered, fully sorted list of t's flows into s->items.
 * Returns 0, or -1 when out of memory. */
int sorter_run(struct sorter *s, const struct flowtab *t);

/* Build the filtered list with its sort keys, unsorted (-1: no memory). */
int sorter_build(struct sorter *s, const struct flowtab *t);

/* Sort just enough that display positions [first, first + count) hold the
 * right flows in the right order (what a screen shows). */
void sorter_window(struct sorter *s, uint32_t first, uint32_t count);

/* The table index of the flow at display position i (< s->n); the items
 * stay ascending and 'reverse' is applied here. */
static inline uint32_t sorter_at(const struct sorter *s, uint32_t i)
{
	return s->items[s->reverse ? s->n - 1 - i : i].idx;
}

/* Group s->items (after sorter_run) by process into s->procs, busiest
 * first.  Returns 0, or -1 when out of memory. */
int sorter_procs(struct sorter *s, const struct flowtab *t);

/* Free what the sorter holds. */
void sorter_release(struct sorter *s);

/* The process name of row p: NULL for flows without a process. */
static inline const char *sorter_proc_name(const struct sorter_proc *p,
					   const struct flowtab *t)
{
	return t->e[p->idx].f.process_name;
}

/* The name of a sort key ("state", "bytes", ...), and back (-1 unknown). */
const char *sorter_key_name(enum sorter_key k);
int sorter_key_parse(const char *name);

/* Whether entry e passes the sorter's filter and search. */
bool sorter_match(const struct sorter *s, const struct flowtab_entry *e);

/* The rate to show for e at stream time now. */
static inline uint32_t sorter_rate(const struct flowtab_entry *e, uint64_t now)
{
	return now - e->rate_ts <= SORTER_RATE_STALE_NS ? e->rate : 0;
}

#endif
