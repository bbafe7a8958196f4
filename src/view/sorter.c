/*
 * sorter.c - filter and sort the table into an index array.
 *
 * Every flow gets a 128-bit key built once per sort (order first, then a
 * tuple tie-break, then the slot index), so comparisons never touch the
 * entries themselves: 100k flows sort in a few milliseconds because the
 * comparator stays in cache.
 */
#include "sorter.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const key_names[SORT_KEY_MAX] = {
	[SORT_STATE] = "state", [SORT_BYTES] = "bytes", [SORT_RATE] = "rate",
	[SORT_AGE] = "age", [SORT_PROCESS] = "process", [SORT_DEST] = "destination",
};

const char *sorter_key_name(enum sorter_key k)
{
	return (unsigned)k < SORT_KEY_MAX ? key_names[k] : "?";
}

int sorter_key_parse(const char *name)
{
	for (int i = 0; i < SORT_KEY_MAX; i++)
		if (!strcmp(name, key_names[i]) || (!strcmp(name, "dest") && i == SORT_DEST))
			return i;
	return -1;
}

static bool match_str(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle);
}

static bool match_addr(const struct flow *f, const union flow_addr *a, const char *needle)
{
	char buf[INET6_ADDRSTRLEN];

	return strstr(flow_addr_str(f->family, a, buf, sizeof(buf)), needle);
}

static bool search_match(const char *q, const struct flowtab_entry *e)
{
	const struct flow *f = &e->f;
	bool addrish = true, digits = true;

	if (match_str(f->process_name, q) || match_str(f->src_domain, q) ||
	    match_str(f->dst_domain, q) || match_str(f->src_geo.country_name, q) ||
	    match_str(f->dst_geo.country_name, q) || match_str(f->src_geo.city_name, q) ||
	    match_str(f->dst_geo.city_name, q) || match_str(f->protocol, q) ||
	    match_str(f->src_geo.country_iso, q) || match_str(f->dst_geo.country_iso, q))
		return true;
	for (const char *p = q; *p; p++) {
		if (*p < '0' || *p > '9')
			digits = false;
		if (!strchr("0123456789abcdefABCDEF.:", *p))
			addrish = false;
	}
	if (addrish && f->has & FLOW_HAS_TUPLE &&
	    (match_addr(f, &f->orig.src, q) || match_addr(f, &f->orig.dst, q)))
		return true;
	if (digits && f->has & FLOW_HAS_PORTS) {
		char buf[12];

		snprintf(buf, sizeof(buf), "%u", f->orig.sport);
		if (strstr(buf, q))
			return true;
		snprintf(buf, sizeof(buf), "%u", f->orig.dport);
		if (strstr(buf, q))
			return true;
	}
	return false;
}

bool sorter_match(const struct sorter *s, const struct flowtab_entry *e)
{
	const struct flow *f = &e->f;
	unsigned int p = s->filter & (SORTER_TCP | SORTER_UDP | SORTER_ICMP | SORTER_SCTP);
	unsigned int fam = s->filter & (SORTER_V4 | SORTER_V6);

	if (p) {
		unsigned int bit = f->l4proto == IPPROTO_TCP ? SORTER_TCP :
				   f->l4proto == IPPROTO_UDP ? SORTER_UDP :
				   f->l4proto == IPPROTO_ICMP || f->l4proto == IPPROTO_ICMPV6 ? SORTER_ICMP :
				   f->l4proto == IPPROTO_SCTP ? SORTER_SCTP : 0;
		if (!(p & bit))
			return false;
	}
	if (fam && !(fam & (f->family == AF_INET ? SORTER_V4 :
			    f->family == AF_INET6 ? SORTER_V6 : 0)))
		return false;
	return !s->search[0] || search_match(s->search, e);
}

/* First bytes of an address as a big-endian number. */
static uint64_t addr_key(const union flow_addr *a)
{
	return (uint64_t)ntohl(a->w[0]) << 32 | ntohl(a->w[1]);
}

static uint64_t name_key(const char *s)
{
	uint64_t k = 0;
	int i = 0;

	if (!s)
		return UINT64_MAX;
	for (; i < 8 && s[i]; i++)
		k = k << 8 | (unsigned char)s[i];
	return k << (8 * (8 - i));
}

/* The tie-break shared by every order: transport, family, destination,
 * then source. */
static void tie_keys(const struct flow *f, uint64_t *t1, uint64_t *t2)
{
	*t1 = (uint64_t)f->l4proto << 49 | (uint64_t)(f->family == AF_INET6) << 48 |
	      (uint64_t)ntohl(f->orig.dst.w[0]) << 16 | f->orig.dport;
	*t2 = (uint64_t)ntohl(f->orig.src.w[0]) << 32 | (uint64_t)f->orig.sport << 16 |
	      (f->id & 0xffff);
}

static void make_key(const struct sorter *s, const struct flowtab *t,
		     const struct flowtab_entry *e, struct sorter_item *it)
{
	const struct flow *f = &e->f;
	uint64_t t1, t2;

	tie_keys(f, &t1, &t2);
	switch (s->key) {
	case SORT_STATE:
	default:
		it->hi = (uint64_t)e->rank << 57 | t1;
		it->lo = t2;
		break;
	case SORT_BYTES:
		it->hi = ~flowtab_sum(f->orig_bytes, f->reply_bytes);
		it->lo = t1;
		break;
	case SORT_RATE:
		it->hi = ~(uint64_t)sorter_rate(e, t->now_ns);
		it->lo = t1;
		break;
	case SORT_AGE:
		it->hi = f->has & FLOW_HAS_START ? f->start_ns : e->first_ns;
		it->lo = t1;
		break;
	case SORT_PROCESS:
		it->hi = name_key(f->process_name);
		it->lo = (uint64_t)(f->has & FLOW_HAS_PID ? f->pid : UINT32_MAX) << 32 |
			 (t1 >> 16 & 0xffffffff);
		break;
	case SORT_DEST:
		it->hi = addr_key(&f->orig.dst);
		it->lo = (uint64_t)f->orig.dport << 48 | (t2 >> 16);
		break;
	}
}

static inline bool item_less(const struct sorter_item *a, const struct sorter_item *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi;
	if (a->lo != b->lo)
		return a->lo < b->lo;
	return a->idx < b->idx;
}

static inline void swap_items(struct sorter_item *a, struct sorter_item *b)
{
	struct sorter_item t = *a;

	*a = *b;
	*b = t;
}

/* Quicksort with median of three that only finishes the part of the array
 * overlapping positions [lo, hi): a screen shows ~50 rows of 100k flows, so
 * partitions wholly outside the window are left unsorted (in place, and
 * correctly on their side of it).  Keys are unique (the index ends them). */
static void sort_window(struct sorter_item *v, size_t n, size_t lo, size_t hi)
{
	while (n > 16 && lo < hi) {
		size_t m = n / 2, i, j;

		if (item_less(&v[m], &v[0]))
			swap_items(&v[m], &v[0]);
		if (item_less(&v[n - 1], &v[0]))
			swap_items(&v[n - 1], &v[0]);
		if (item_less(&v[n - 1], &v[m]))
			swap_items(&v[n - 1], &v[m]);
		swap_items(&v[m], &v[n - 2]);
		{
			const struct sorter_item p = v[n - 2];

			i = 0;
			j = n - 2;
			for (;;) {
				while (item_less(&v[++i], &p))
					;
				while (item_less(&p, &v[--j]))
					;
				if (i >= j)
					break;
				swap_items(&v[i], &v[j]);
			}
			swap_items(&v[i], &v[n - 2]);
		}
		/* v[i] is in its final place; left [0, i), right [i + 1, n) */
		if (lo < i && hi > i + 1) {
			if (i < n - i - 1) {
				sort_window(v, i, lo, hi < i ? hi : i);
				lo = 0;
				hi -= i + 1;
				v += i + 1;
				n -= i + 1;
			} else {
				sort_window(v + i + 1, n - i - 1, 0, hi - i - 1);
				hi = i;
				n = i;
			}
		} else if (lo < i) {
			hi = hi < i ? hi : i;
			n = i;
		} else if (hi > i + 1) {
			lo = lo > i + 1 ? lo - i - 1 : 0;
			hi -= i + 1;
			v += i + 1;
			n -= i + 1;
		} else {
			return;
		}
	}
	if (lo >= hi)
		return;
	for (size_t i = 1; i < n; i++) {
		struct sorter_item x = v[i];
		size_t j = i;

		for (; j > 0 && item_less(&x, &v[j - 1]); j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

int sorter_build(struct sorter *s, const struct flowtab *t)
{
	if (s->cap < t->n) {
		struct sorter_item *it = realloc(s->items, (size_t)t->n * sizeof(*it));

		if (!it)
			return -1;
		s->items = it;
		s->cap = t->n;
	}
	s->n = 0;
	for (uint32_t i = 0; i < t->n; i++) {
		const struct flowtab_entry *e = &t->e[i];
		struct sorter_item *it;

		if (!flowtab_shown(t, i) || !sorter_match(s, e))
			continue;
		it = &s->items[s->n++];
		make_key(s, t, e, it);
		it->idx = i;
	}
	return 0;
}

void sorter_window(struct sorter *s, uint32_t first, uint32_t count)
{
	uint32_t lo = first < s->n ? first : s->n;
	uint32_t hi = count < s->n - lo ? lo + count : s->n;

	if (s->reverse) {
		uint32_t l = s->n - hi;

		hi = s->n - lo;
		lo = l;
	}
	sort_window(s->items, s->n, lo, hi);
}

int sorter_run(struct sorter *s, const struct flowtab *t)
{
	if (sorter_build(s, t))
		return -1;
	sort_window(s->items, s->n, 0, s->n);
	return 0;
}

static int cmp_proc_group(const void *a, const void *b)
{
	const struct sorter_item *x = a, *y = b;

	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return 0;
}

static int cmp_proc_busy(const void *a, const void *b)
{
	const struct sorter_proc *x = a, *y = b;

	if (x->rate != y->rate)
		return x->rate > y->rate ? -1 : 1;
	if (flowtab_sum(x->sent, x->recv) != flowtab_sum(y->sent, y->recv))
		return flowtab_sum(x->sent, x->recv) > flowtab_sum(y->sent, y->recv) ? -1 : 1;
	if (x->flows != y->flows)
		return x->flows > y->flows ? -1 : 1;
	if (x->has_pid != y->has_pid)
		return x->has_pid ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

int sorter_procs(struct sorter *s, const struct flowtab *t)
{
	struct sorter_item *g;

	s->nprocs = 0;
	if (!s->n)
		return 0;
	/* group by (pid, interned name pointer): equal names share a pointer */
	if (!(g = malloc((size_t)s->n * sizeof(*g))))
		return -1;
	for (uint32_t i = 0; i < s->n; i++) {
		const struct flow *f = &t->e[s->items[i].idx].f;

		g[i].hi = f->has & FLOW_HAS_PID ? f->pid : (uint64_t)1 << 32;
		g[i].lo = (uint64_t)(uintptr_t)f->process_name;
		g[i].idx = s->items[i].idx;
	}
	qsort(g, s->n, sizeof(*g), cmp_proc_group);
	for (uint32_t i = 0; i < s->n; i++) {
		const struct flowtab_entry *e = &t->e[g[i].idx];
		struct sorter_proc *p;

		if (i == 0 || g[i].hi != g[i - 1].hi || g[i].lo != g[i - 1].lo) {
			if (s->nprocs == s->proccap) {
				uint32_t cap = s->proccap ? s->proccap * 2 : 64;
				struct sorter_proc *np = realloc(s->procs, cap * sizeof(*np));

				if (!np) {
					free(g);
					return -1;
				}
				s->procs = np;
				s->proccap = cap;
			}
			p = &s->procs[s->nprocs++];
			memset(p, 0, sizeof(*p));
			p->idx = g[i].idx;
			p->pid = e->f.pid;
			p->has_pid = e->f.has & FLOW_HAS_PID;
		}
		p = &s->procs[s->nprocs - 1];
		p->flows++;
		p->sent = flowtab_sum(p->sent, e->f.orig_bytes);
		p->recv = flowtab_sum(p->recv, e->f.reply_bytes);
		p->rate = flowtab_sum(p->rate, sorter_rate(e, t->now_ns));
	}
	free(g);
	qsort(s->procs, s->nprocs, sizeof(*s->procs), cmp_proc_busy);
	return 0;
}

void sorter_release(struct sorter *s)
{
	free(s->items);
	free(s->procs);
	s->items = NULL;
	s->procs = NULL;
	s->n = s->cap = s->nprocs = s->proccap = 0;
}
