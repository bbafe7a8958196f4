/*
 * procsum.c - group flows by process in one pass.
 *
 * A process is the table's owner record (pid, name): flows of one process
 * share its handle, so a row is found by indexing an array with the handle,
 * no hashing and no string compare.  This replaced sorting every flow by
 * process on each redraw (n log n) and then a hash of (pid, name) per flow:
 * at 1M flows, 60-70 ms became what one pass over the entries costs.
 * A stream of several namespaces groups by (owner, namespace) handles.
 */
#include "procsum.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
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

static uint64_t netns_key(uint32_t owner, uint32_t netns)
{
	uint64_t k = (uint64_t)owner << 32 | netns;

	return hash_bytes(&k, sizeof(k));
}

/* The row of e's (owner, namespace), made if new; NULL when out of memory.
 * The owner's array slot remembers its last row: flows of a namespace
 * mostly come together (each namespace is dumped in one go), so the hash
 * is asked only when the namespace changes; a plain stream never asks. */
static struct procsum_row *row_for(struct procsum *p, const struct flowtab *t, uint32_t i)
{
	const struct flowtab_entry *e = &t->e[i];
	uint32_t *slot = &p->row_of[e->owner];
	uint64_t h = 0;
	struct procsum_row *r;

	if (*slot && p->rows[*slot - 1].netns == e->netns)
		return &p->rows[*slot - 1];
	if (*slot) {
		struct htab_pos pos;

		h = netns_key(e->owner, e->netns);
		for (uintptr_t v = htab_first(&p->by_netns, h, &pos); v;
		     v = htab_next(&p->by_netns, &pos))
			if (p->rows[v - 1].owner == e->owner && p->rows[v - 1].netns == e->netns) {
				*slot = (uint32_t)v;
				return &p->rows[v - 1];
			}
	}
	if (!(r = new_row(p)))
		return NULL;
	r->idx = i;
	r->owner = e->owner;
	r->netns = e->netns;
	r->pid = flowtab_owner(t, e)->pid;
	r->has_pid = flowtab_owner(t, e)->has_pid;
	if (t->netns.live && htab_put(&p->by_netns, h ? h : netns_key(e->owner, e->netns), p->n)) {
		p->n--;
		return NULL;
	}
	*slot = p->n;
	return r;
}

int procsum_build(struct procsum *p, const struct flowtab *t, const struct flowmatch *m)
{
	bool all = flowmatch_all(m);

	p->n = 0;
	htab_clear(&p->by_netns);
	if (reset_index(p, t))
		return -1;
	for (uint32_t i = 0; i < t->n; i++) {
		const struct flowtab_entry *e = &t->e[i];
		struct procsum_row *r;

		if (!flowtab_shown(t, i) || (!all && !flowmatch_test(m, t, e)))
			continue;
		if (!(r = row_for(p, t, i)))
			return -1;
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
	htab_release(&p->by_netns);
	memset(p, 0, sizeof(*p));
}
