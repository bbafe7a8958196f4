/*
 * procsum.h - the per-process view: flows, bytes and rate summed per local
 * process (and per network namespace, when the stream watches several:
 * a process's flows in two containers are two rows), busiest first.
 *
 * struct procsum owns its rows and its index over them.  A row names its
 * process through one of its flows (a table index) rather than a string
 * pointer, so rows stay valid while the string pool is rebuilt; they are
 * valid until the table next changes (or, held, until it is released).
 */
#ifndef FLOWTOP_VIEW_PROCSUM_H
#define FLOWTOP_VIEW_PROCSUM_H

#include <stdbool.h>
#include <stdint.h>

#include "flowmatch.h"
#include "flowtab.h"
#include "htab.h"

struct procsum_row {
	uint32_t idx;		/* a flow of this process: its name is the row's */
	uint32_t owner, netns;	/* the table's handles it groups by */
	uint32_t pid;
	bool has_pid;
	bool counters;		/* some flow of the row has byte counters */
	uint32_t flows;
	uint64_t sent, recv, rate;
};

struct procsum {
	struct procsum_row *rows;	/* n rows, busiest first */
	uint32_t n, cap;
	uint32_t *row_of;		/* owner handle -> row index + 1 (the last
					 * one used, when there are namespaces) */
	uint32_t row_of_cap;
	struct htab by_netns;		/* hash of (owner, netns) -> row index + 1 */
};

/* Sum the flows of t that m lets through (NULL: all) per process, in one
 * pass.  Returns 0, or -1 when out of memory. */
int procsum_build(struct procsum *p, const struct flowtab *t, const struct flowmatch *m);

/* Free what p holds. */
void procsum_release(struct procsum *p);

/* The process name of row r: NULL for flows without a process. */
static inline const char *procsum_name(const struct procsum_row *r, const struct flowtab *t)
{
	return flowtab_owner(t, &t->e[r->idx])->name;
}

#endif
