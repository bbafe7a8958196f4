/*
 * procsum.h - the per-process view: flows, bytes and rate summed per local
 * process (and per network namespace, when the stream watches several:
 * a process's flows in two containers are two rows), busiest first.
 *
 * struct procsum owns its rows.  A row names its process by the table's
 * owner handle (an owner is a process in a namespace) rather than a string
 * pointer, so rows stay valid while the string pool is rebuilt; they are
 * valid until the table next changes (or, held, until it is released).
 */
#ifndef FLOWTOP_VIEW_PROCSUM_H
#define FLOWTOP_VIEW_PROCSUM_H

#include <stdbool.h>
#include <stdint.h>

#include "flowmatch.h"
#include "flowtab.h"

struct procsum_row {
	uint32_t owner, netns;	/* the table's handles: the row's process */
	uint32_t pid;
	bool has_pid;
	bool counters;		/* some flow of the row has byte counters */
	uint32_t flows;
	uint64_t sent, recv, rate;
};

struct procsum {
	struct procsum_row *rows;	/* n rows, busiest first */
	uint32_t n, cap;
	uint32_t *row_of;		/* owner handle -> row index + 1 (scan) */
	uint32_t row_of_cap;
};

/* The rows of the flows of t that m lets through (NULL: all), sorted.
 * With every flow let through they come from the sums the table keeps
 * (a row per owner, no pass over the flows); a filter costs a pass
 * (procsum_scan).  Returns 0, or -1 when out of memory. */
int procsum_build(struct procsum *p, const struct flowtab *t, const struct flowmatch *m);

/* The same rows from one pass over the flows, whatever m: what the sums
 * must equal. */
int procsum_scan(struct procsum *p, const struct flowtab *t, const struct flowmatch *m);

/* Free what p holds. */
void procsum_release(struct procsum *p);

/* The process name of row r: NULL for flows without a process. */
static inline const char *procsum_name(const struct procsum_row *r, const struct flowtab *t)
{
	return flowtab_owner_at(t, r->owner)->name;
}

#endif
