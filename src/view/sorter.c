/*
 * sorter.c - sort the table's shown flows into an index array.
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
static void tie_keys(const struct flowtab_entry *f, uint64_t *t1, uint64_t *t2)
{
	*t1 = (uint64_t)f->l4proto << 49 | (uint64_t)(f->family == AF_INET6) << 48 |
	      (uint64_t)ntohl(f->orig.dst.w[0]) << 16 | f->orig.dport;
	*t2 = (uint64_t)ntohl(f->orig.src.w[0]) << 32 | (uint64_t)f->orig.sport << 16 |
	      (f->id & 0xffff);
}

static void make_key(const struct sorter *s, const struct flowtab *t,
		     const struct flowtab_entry *e, struct sorter_item *it)
{
	const struct flowtab_entry *f = e;
	const struct flowtab_owner *o;
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
		it->hi = e->since_ns;
		it->lo = t1;
		break;
	case SORT_PROCESS:
		/* only here: the owner is one more cache line a flow */
		o = flowtab_owner(t, e);
		it->hi = name_key(o->name);
		it->lo = (uint64_t)(o->has_pid ? o->pid : UINT32_MAX) << 32 |
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

int sorter_build(struct sorter *s, const struct flowtab *t, const struct flowmatch *m)
{
	bool all = flowmatch_all(m);

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

		if (!flowtab_shown(t, i) || (!all && !flowmatch_test(m, t, e)))
			continue;
		it = &s->items[s->n++];
		make_key(s, t, e, it);
		it->idx = i;
	}
	return 0;
}

/* Whether a comes before b in a heap kept at the low end (the k first
 * items, a max-heap) or the high end (the k last, a min-heap). */
static inline bool heap_above(const struct sorter_item *a, const struct sorter_item *b,
			      bool high)
{
	return high ? item_less(a, b) : item_less(b, a);
}

static void sift_down(struct sorter_item *h, size_t k, size_t i, bool high)
{
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= k)
			return;
		if (c + 1 < k && heap_above(&h[c + 1], &h[c], high))
			c++;
		if (!heap_above(&h[c], &h[i], high))
			return;
		swap_items(&h[c], &h[i]);
		i = c;
	}
}

/* Put the k first (high: the k last) items of the order at that end of v,
 * in order, the rest anywhere else.  One pass with a heap of k held at the
 * end itself: each other item costs one compare with its top, where a
 * window quicksort would partition the whole array several times. */
static void select_end(struct sorter_item *v, size_t n, size_t k, bool high)
{
	struct sorter_item *h = high ? v + n - k : v, *rest = high ? v : v + k;

	for (size_t i = k / 2; i-- > 0;)
		sift_down(h, k, i, high);
	for (size_t i = 0; i < n - k; i++)
		if (heap_above(&h[0], &rest[i], high)) {
			swap_items(&h[0], &rest[i]);
			sift_down(h, k, 0, high);
		}
	sort_window(h, k, 0, k);
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
	/* the top of the list (or its bottom) is what a screen shows most */
	if (lo == 0 && hi && hi <= s->n / 16)
		select_end(s->items, s->n, hi, false);
	else if (hi == s->n && lo > s->n - s->n / 16 && lo < s->n)
		select_end(s->items, s->n, s->n - lo, true);
	else
		sort_window(s->items, s->n, lo, hi);
}

int sorter_run(struct sorter *s, const struct flowtab *t, const struct flowmatch *m)
{
	if (sorter_build(s, t, m))
		return -1;
	sort_window(s->items, s->n, 0, s->n);
	return 0;
}

void sorter_release(struct sorter *s)
{
	free(s->items);
	s->items = NULL;
	s->n = s->cap = 0;
}
