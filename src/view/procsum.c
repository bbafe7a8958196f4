/*
 * procsum.c - group flows by process in one pass.
 *
 * A process is the table's owner record (pid, name): flows of one process
 * share its handle, so a row is found by indexing an array with the handle,
 * no hashing and no string compare.  This replaced sorting every flow by
 * process on each redraw (n log n) and then a hash of (pid, name) per flow:
 * at 1M flows, 60-70 ms became what one pass over the entries costs.
 */
#include "procsum.h"

#include <stdlib.h>
#include <string.h>

#include "sorter.h"

static int cmp_busy(const void *a, const void *b)
{
	const struct procsum_row *x = a, *y = b;

	if (x->rate != y->rate)
		return x->rate > y->rate ? -1 : 1;
	if (flowtab_sum(x->sent, x->recv) != flowtab_sum(y->sent, y->recv))
		return flowtab_sum(x->sent, x->recv) > flowtab_sum(y->sent, y->recv) ? -1 : 1;
	if (x->flows != y->flows)
		return x->flows > y->flows ? -1 : 1;
	if (x->has_pid != y->has_pid)
		return x->has_pid ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Room for a row per owner handle the table has made, all unused. */
static int reset_index(struct procsum *p, const struct flowtab *t)
{
	uint32_t need = t->owners.n + 1;

	if (need > p->row_of_cap) {
		uint32_t *r = realloc(p->row_of, need * sizeof(*r));

		if (!r)
			return -1;
		p->row_of = r;
		p->row_of_cap = need;
	}
	memset(p->row_of, 0, need * sizeof(*p->row_of));
	return 0;
}

static struct procsum_row *new_row(struct procsum *p)
{
	struct procsum_row *r;

	if (p->n == p->cap) {
		uint32_t cap = p->cap ? p->cap * 2 : 64;
		struct procsum_row *nr = realloc(p->rows, cap * sizeof(*nr));

		if (!nr)
			return NULL;
		p->rows = nr;
		p->cap = cap;
	}
	r = &p->rows[p->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

int procsum_build(struct procsum *p, const struct flowtab *t, const struct flowmatch *m)
{
	bool all = flowmatch_all(m);

	p->n = 0;
	if (reset_index(p, t))
		return -1;
	for (uint32_t i = 0; i < t->n; i++) {
		const struct flowtab_entry *e = &t->e[i];
		uint32_t *slot = &p->row_of[e->owner];
		struct procsum_row *r;

		if (!flowtab_shown(t, i) || (!all && !flowmatch_test(m, t, e)))
			continue;
		if (*slot) {
			r = &p->rows[*slot - 1];
		} else {
			const struct flowtab_owner *o = flowtab_owner(t, e);

			if (!(r = new_row(p)))
				return -1;
			*slot = p->n;
			r->idx = i;
			r->pid = o->pid;
			r->has_pid = o->has_pid;
		}
		r->flows++;
		if (e->has & FLOW_HAS_COUNTERS) {
			r->counters = true;
			r->sent = flowtab_sum(r->sent, e->orig_bytes);
			r->recv = flowtab_sum(r->recv, e->reply_bytes);
			r->rate = flowtab_sum(r->rate, sorter_rate(e, t->now_ns));
		}
	}
	/* the index only groups: sorting moves the rows under it, and the
	 * next build starts it afresh */
	if (p->n)	/* rows is NULL before the first row: qsort wants a pointer */
		qsort(p->rows, p->n, sizeof(*p->rows), cmp_busy);
	return 0;
}

void procsum_release(struct procsum *p)
{
	free(p->rows);
	free(p->row_of);
	memset(p, 0, sizeof(*p));
}
