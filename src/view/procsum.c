/*
 * procsum.c - group flows by process.
 *
 * A process is the table's owner record (pid, name, namespace): flows of
 * one process share its handle, and the table keeps each handle's sums as
 * it applies records (flowtab.h), so the rows of the unfiltered view are
 * one per owner, read from those sums and sorted: at 1M flows and 1000
 * processes that replaced a pass over every flow per redraw (110-180 ms)
 * with a sort of the rows.  A filter or search still takes one pass, the
 * row found by indexing an array with the handle, no hashing and no
 * string compare.
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
	return x->owner < y->owner ? -1 : x->owner > y->owner;
}

static struct procsum_row *new_row(struct procsum *p, const struct flowtab *t, uint32_t owner)
{
	const struct flowtab_owner *o = flowtab_owner_at(t, owner);
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
	r->owner = owner;
	r->netns = o->netns;
	r->pid = o->pid;
	r->has_pid = o->has_pid;
	return r;
}

static void sort_rows(struct procsum *p)
{
	if (p->n)	/* rows is NULL before the first row: qsort wants a pointer */
		qsort(p->rows, p->n, sizeof(*p->rows), cmp_busy);
}

int procsum_scan(struct procsum *p, const struct flowtab *t, const struct flowmatch *m)
{
	bool all = flowmatch_all(m);
	uint32_t need = t->owners.n;

	p->n = 0;
	if (need > p->row_of_cap) {
		uint32_t *r = realloc(p->row_of, need * sizeof(*r));

		if (!r)
			return -1;
		p->row_of = r;
		p->row_of_cap = need;
	}
	memset(p->row_of, 0, need * sizeof(*p->row_of));
	for (uint32_t i = 0; i < t->n; i++) {
		const struct flowtab_entry *e = &t->e[i];
		struct procsum_row *r;

		if (!flowtab_shown(t, i) || (!all && !flowmatch_test(m, t, e)))
			continue;
		if (p->row_of[e->owner]) {
			r = &p->rows[p->row_of[e->owner] - 1];
		} else {
			if (!(r = new_row(p, t, e->owner)))
				return -1;
			p->row_of[e->owner] = p->n;
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
	 * next scan starts it afresh */
	sort_rows(p);
	return 0;
}

int procsum_build(struct procsum *p, const struct flowtab *t, const struct flowmatch *m)
{
	if (!flowmatch_all(m))
		return procsum_scan(p, t, m);
	p->n = 0;
	for (uint32_t h = 0; h < t->owners.n; h++) {
		const struct flowtab_sum *s = flowtab_owner_sum(t, h);
		struct procsum_row *r;

		/* a freed handle's sums are all zero: no flows */
		if (!s->flows)
			continue;
		if (!(r = new_row(p, t, h)))
			return -1;
		r->flows = s->flows;
		r->counters = s->counters != 0;
		r->sent = flowtab_sum_bytes(s->sent);
		r->recv = flowtab_sum_bytes(s->recv);
		r->rate = s->rate;
	}
	sort_rows(p);
	return 0;
}

void procsum_release(struct procsum *p)
{
	free(p->rows);
	free(p->row_of);
	memset(p, 0, sizeof(*p));
}
