/*
 * sorter.c - the order of the table's shown flows, kept per slot.
 *
 * Every slot has a 128-bit key (order first, then a tuple tie-break; the
 * slot index ends every tie), computed when the slot changes, so a window
 * is selected by reading 16 bytes a flow, never the entries: a redraw at a
 * million flows reads 16 MB of keys in order instead of 112 MB of entries,
 * and recomputes the keys of what changed.  The keys replace the array of
 * (key, index) items that was built for every sort (24 bytes a flow): an
 * index is the key's position, membership one bit.
 */
#include "sorter.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A middle window's first row is found by a radix select over 16-bit
 * digits of the keys; a digit's bucket this small is sorted instead. */
#define SELECT_SMALL 4096u

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

static void make_key(enum sorter_key key, const struct flowtab *t,
		     const struct flowtab_entry *e, struct sorter_slot *k)
{
	const struct flowtab_owner *o;
	uint64_t t1, t2;

	tie_keys(e, &t1, &t2);
	switch (key) {
	case SORT_STATE:
	default:
		k->hi = (uint64_t)e->rank << 57 | t1;
		k->lo = t2;
		break;
	case SORT_BYTES:
		k->hi = ~flowtab_sum(e->orig_bytes, e->reply_bytes);
		k->lo = t1;
		break;
	case SORT_RATE:
		/* stale with time: the table marks the slot when it turns */
		k->hi = ~(uint64_t)sorter_rate(e, t->now_ns);
		k->lo = t1;
		break;
	case SORT_AGE:
		k->hi = e->since_ns;
		k->lo = t1;
		break;
	case SORT_PROCESS:
		/* only here: the owner is one more cache line a flow */
		o = flowtab_owner(t, e);
		k->hi = name_key(o->name);
		k->lo = (uint64_t)(o->has_pid ? o->pid : UINT32_MAX) << 32 |
			(t1 >> 16 & 0xffffffff);
		break;
	case SORT_DEST:
		k->hi = addr_key(&e->orig.dst);
		k->lo = (uint64_t)e->orig.dport << 48 | (t2 >> 16);
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

/* --- the keys ------------------------------------------------------------- */

static uint32_t words(uint32_t slots)
{
	return (slots + 63) / 64;
}

static bool is_member(const struct sorter *s, uint32_t i)
{
	return s->member[i / 64] >> (i % 64) & 1;
}

/* Room for a key and a bit for every slot of t; bits past the slots the
 * keys cover stay 0. */
static int reserve(struct sorter *s, const struct flowtab *t)
{
	uint32_t cap = t->cap > t->n ? t->cap : t->n;
	struct sorter_slot *k;
	uint64_t *m;

	if (cap <= s->cap && s->keys)
		return 0;
	if (!(k = realloc(s->keys, (size_t)cap * sizeof(*k))))
		return -1;
	s->keys = k;
	if (!(m = realloc(s->member, (size_t)words(cap) * sizeof(*m))))
		return -1;
	memset(m + words(s->cap), 0, (size_t)(words(cap) - words(s->cap)) * sizeof(*m));
	s->member = m;
	s->cap = cap;
	return 0;
}

static bool same_match(const struct flowmatch *a, const struct flowmatch *m)
{
	static const struct flowmatch none;

	if (!m)
		m = &none;
	return a->filter == m->filter && a->netns == m->netns && !strcmp(a->search, m->search);
}

/* Remember that slot i's key or bit may have changed, for the next
 * window; past a thirty-second of the slots a pass is as cheap. */
static void moved(struct sorter *s, uint32_t i)
{
	uint32_t limit = s->nslots / 32 > 4096 ? s->nslots / 32 : 4096;

	if (s->moved_all)
		return;
	if (s->nmoved == s->moved_cap) {
		uint32_t cap = s->moved_cap ? s->moved_cap * 2 : 256;
		uint32_t *m = cap <= limit ? realloc(s->moved, (size_t)cap * sizeof(*m)) : NULL;

		if (!m) {
			s->moved_all = true;
			return;
		}
		s->moved = m;
		s->moved_cap = cap;
	}
	s->moved[s->nmoved++] = i;
}

/* Slot i's key and bit as the table has it now; +1, -1 or 0 members. */
static int refresh_slot(struct sorter *s, const struct flowtab *t, const struct flowmatch *m,
			bool all, uint32_t i)
{
	const struct flowtab_entry *e = &t->e[i];
	bool was = is_member(s, i);
	bool now = flowtab_shown(t, i) && (all || flowmatch_test(m, t, e));

	if (now) {
		make_key(s->key, t, e, &s->keys[i]);
		s->member[i / 64] |= 1ull << (i % 64);
	} else {
		s->member[i / 64] &= ~(1ull << (i % 64));
	}
	return (int)now - (int)was;
}

int sorter_build(struct sorter *s, const struct flowtab *t, const struct flowmatch *m)
{
	bool all = flowmatch_all(m);

	s->built = false;
	if (reserve(s, t))
		return -1;
	memset(s->member, 0, (size_t)words(s->cap) * sizeof(*s->member));
	s->n = 0;
	for (uint32_t i = 0; i < t->n; i++)
		s->n += (uint32_t)refresh_slot(s, t, m, all, i);
	s->nslots = t->n;
	s->moved_all = true;
	s->built = true;
	s->built_key = s->key;
	memset(&s->built_m, 0, sizeof(s->built_m));
	if (m)
		s->built_m = *m;
	s->win_n = 0;
	return 0;
}

int sorter_update(struct sorter *s, struct flowtab *t, const struct flowmatch *m)
{
	bool all = flowmatch_all(m);

	if (!s->built || s->built_key != s->key || !same_match(&s->built_m, m) || t->dirty_all) {
		if (sorter_build(s, t, m))
			return -1;
		flowtab_dirty_clear(t);
		return 0;
	}
	if (reserve(s, t)) {
		s->built = false;
		return -1;
	}
	/* a slot past nslots is new: on the list, its bit still 0 */
	if (t->n > s->nslots)
		s->nslots = t->n;
	for (uint32_t k = 0; k < t->ndirty; k++) {
		s->n = (uint32_t)((int64_t)s->n + refresh_slot(s, t, m, all, t->dirty[k]));
		moved(s, t->dirty[k]);
	}
	flowtab_dirty_clear(t);
	return 0;
}

/* --- windows ---------------------------------------------------------- */

static int win_room(struct sorter *s, uint32_t n)
{
	struct sorter_item *w;

	if (n <= s->win_cap)
		return 0;
	if (!(w = realloc(s->win, (size_t)n * sizeof(*w))))
		return -1;
	s->win = w;
	s->win_cap = n;
	return 0;
}

/* Each member slot of s, in slot order, as an item x. */
#define FOR_MEMBERS(s, x, body)							\
	for (uint32_t w_ = 0; w_ < words((s)->nslots); w_++)			\
		for (uint64_t b_ = (s)->member[w_]; b_; b_ &= b_ - 1) {		\
			uint32_t i_ = w_ * 64 + (uint32_t)__builtin_ctzll(b_);	\
			const struct sorter_item x = { (s)->keys[i_].hi,		\
						       (s)->keys[i_].lo, i_ };	\
			body							\
		}

/* The k first members of the order not before floor (NULL: from the
 * first), or with high the k last, into s->win in order: one pass with a
 * heap of k, where each other member costs one compare with its top. */
static uint32_t collect(struct sorter *s, const struct sorter_item *floor, uint32_t k, bool high)
{
	struct sorter_item *h = s->win;
	uint32_t got = 0;

	FOR_MEMBERS(s, x, {
		if (floor && item_less(&x, floor))
			continue;
		if (got < k) {
			h[got++] = x;
			if (got == k)
				for (uint32_t j = k / 2; j-- > 0;)
					sift_down(h, k, j, high);
		} else if (heap_above(&h[0], &x, high)) {
			h[0] = x;
			sift_down(h, k, 0, high);
		}
	})
	sort_window(h, got, 0, got);
	return got;
}

static int cmp_slot(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The k first members (high: the k last) from the last window, which held
 * that end, and the slots moved since: every member before the window's
 * last row (high: after its first) is in the window, unmoved, or among the
 * moved, so when there are k of them (or they are all there is) they are
 * the answer.  Returns the rows found, or UINT32_MAX when a pass is
 * needed. */
static uint32_t from_last(struct sorter *s, uint32_t k, bool high)
{
	const struct sorter_item edge = s->win[high ? 0 : s->win_n - 1];
	struct sorter_item *c;
	uint32_t got = 0, nm;

	if (win_room(s, s->win_n + s->nmoved))
		return UINT32_MAX;
	c = s->win;
	if (s->nmoved)	/* moved is NULL before the first: no pointer for qsort */
		qsort(s->moved, s->nmoved, sizeof(*s->moved), cmp_slot);
	for (uint32_t j = 0; j < s->win_n; j++)
		if (!s->nmoved ||
		    !bsearch(&c[j].idx, s->moved, s->nmoved, sizeof(*s->moved), cmp_slot))
			c[got++] = c[j];
	for (uint32_t j = 0; j < s->nmoved; j++) {
		uint32_t i = s->moved[j];
		struct sorter_item x;

		if ((j && i == s->moved[j - 1]) || !is_member(s, i))
			continue;
		x.hi = s->keys[i].hi;
		x.lo = s->keys[i].lo;
		x.idx = i;
		if (high ? !item_less(&x, &edge) : !item_less(&edge, &x))
			c[got++] = x;
	}
	nm = got < k ? got : k;
	if (got < k && got < s->n)
		return UINT32_MAX;
	if (high) {
		sort_window(c, got, got - nm, got);
		memmove(c, c + got - nm, (size_t)nm * sizeof(*c));
	} else {
		sort_window(c, got, 0, nm);
	}
	return nm;
}

static uint32_t digit(const struct sorter_item *x, unsigned int level)
{
	if (level < 4)
		return (uint32_t)(x->hi >> (48 - 16 * level)) & 0xffff;
	if (level < 8)
		return (uint32_t)(x->lo >> (48 - 16 * (level - 4))) & 0xffff;
	return x->idx >> (16 - 16 * (level - 8)) & 0xffff;
}

static void set_digit(struct sorter_item *p, unsigned int level, uint32_t d)
{
	if (level < 4)
		p->hi |= (uint64_t)d << (48 - 16 * level);
	else if (level < 8)
		p->lo |= (uint64_t)d << (48 - 16 * (level - 4));
	else
		p->idx |= d << (16 - 16 * (level - 8));
}

/* Whether x's first 'level' digits are p's. */
static bool prefix_eq(const struct sorter_item *x, const struct sorter_item *p,
		      unsigned int level)
{
	if (level <= 4)
		return !level || !((x->hi ^ p->hi) >> (64 - 16 * level));
	if (x->hi != p->hi)
		return false;
	if (level <= 8)
		return !((x->lo ^ p->lo) >> (64 - 16 * (level - 4)));
	if (x->lo != p->lo)
		return false;
	return !((x->idx ^ p->idx) >> (32 - 16 * (level - 8)));
}

/* The member at ascending rank r (< s->n), by digits: each pass counts
 * the members under the prefix found so far per next digit, and keeps the
 * digit whose bucket holds rank r, until the bucket is small enough to
 * sort.  Memory: a 256 KiB count and the last bucket, never a list of
 * every member. */
static int select_rank(struct sorter *s, uint32_t r, struct sorter_item *out)
{
	uint32_t *hist = malloc(65536 * sizeof(*hist)), below = 0;
	struct sorter_item p = { 0, 0, 0 }, *tmp;

	if (!hist)
		return -1;
	for (unsigned int level = 0;; level++) {
		uint32_t b = 0, acc = below, got = 0;

		memset(hist, 0, 65536 * sizeof(*hist));
		FOR_MEMBERS(s, x, {
			if (prefix_eq(&x, &p, level))
				hist[digit(&x, level)]++;
		})
		while (acc + hist[b] <= r)
			acc += hist[b++];
		set_digit(&p, level, b);
		below = acc;
		if (hist[b] > SELECT_SMALL && level < 9)
			continue;
		if (!(tmp = malloc((size_t)hist[b] * sizeof(*tmp)))) {
			free(hist);
			return -1;
		}
		FOR_MEMBERS(s, x, {
			if (prefix_eq(&x, &p, level + 1))
				tmp[got++] = x;
		})
		sort_window(tmp, got, r - below, r - below + 1);
		*out = tmp[r - below];
		free(tmp);
		free(hist);
		return 0;
	}
}

/* The window for ascending positions [lo, hi). */
static int select_window(struct sorter *s, uint32_t lo, uint32_t hi)
{
	struct sorter_item floor;
	uint32_t got;

	/* a few changes since the last window at this end: from it */
	if (!s->moved_all && s->win_n && ((lo == 0 && s->win_end & SORTER_LOW) ||
					  (hi == s->n && s->win_end & SORTER_HIGH))) {
		bool high = !(lo == 0 && s->win_end & SORTER_LOW);

		if ((got = from_last(s, hi - lo, high)) != UINT32_MAX) {
			s->win_lo = high ? s->n - got : 0;
			s->win_n = got;
			s->windows_kept++;
			return 0;
		}
	}
	s->win_lo = lo;
	s->win_n = 0;
	if (lo == hi)
		return 0;
	if ((uint64_t)(hi - lo) * 4 >= s->n) {
		/* most of the list: every member, partly sorted */
		got = 0;
		if (win_room(s, s->n))
			return -1;
		FOR_MEMBERS(s, x, { s->win[got++] = x; })
		sort_window(s->win, got, lo, hi);
		memmove(s->win, s->win + lo, (size_t)(hi - lo) * sizeof(*s->win));
		s->win_n = hi - lo;
		return 0;
	}
	if (win_room(s, hi - lo))
		return -1;
	if (lo == 0) {
		s->win_n = collect(s, NULL, hi, false);
	} else if (hi == s->n) {
		s->win_n = collect(s, NULL, hi - lo, true);
	} else {
		if (select_rank(s, lo, &floor))
			return -1;
		s->win_n = collect(s, &floor, hi - lo, false);
	}
	return 0;
}

int sorter_window(struct sorter *s, uint32_t first, uint32_t count)
{
	uint32_t lo = first < s->n ? first : s->n;
	uint32_t hi = count < s->n - lo ? lo + count : s->n;
	int rc;

	if (s->reverse) {
		uint32_t l = s->n - hi;

		hi = s->n - lo;
		lo = l;
	}
	s->windows++;
	rc = select_window(s, lo, hi);
	s->win_end = 0;
	if (!rc && s->win_n && s->win_lo == 0)
		s->win_end |= SORTER_LOW;
	if (!rc && s->win_n && s->win_lo + s->win_n == s->n)
		s->win_end |= SORTER_HIGH;
	s->nmoved = 0;
	s->moved_all = rc != 0;
	return rc;
}

int sorter_run(struct sorter *s, const struct flowtab *t, const struct flowmatch *m)
{
	bool all = flowmatch_all(m);
	uint32_t n = 0;

	s->built = false;	/* the keys, if any, are not this list's */
	s->moved_all = true;
	s->win_end = 0;
	s->win_lo = s->win_n = s->n = 0;
	if (win_room(s, t->n))
		return -1;
	for (uint32_t i = 0; i < t->n; i++) {
		const struct flowtab_entry *e = &t->e[i];
		struct sorter_slot k;

		if (!flowtab_shown(t, i) || (!all && !flowmatch_test(m, t, e)))
			continue;
		make_key(s->key, t, e, &k);
		s->win[n].hi = k.hi;
		s->win[n].lo = k.lo;
		s->win[n++].idx = i;
	}
	sort_window(s->win, n, 0, n);
	s->n = s->win_n = n;
	return 0;
}

size_t sorter_bytes(const struct sorter *s)
{
	return (size_t)s->cap * sizeof(*s->keys) + (size_t)words(s->cap) * sizeof(*s->member) +
	       (size_t)s->win_cap * sizeof(*s->win) + (size_t)s->moved_cap * sizeof(*s->moved);
}

void sorter_release(struct sorter *s)
{
	free(s->keys);
	free(s->member);
	free(s->win);
	free(s->moved);
	s->keys = NULL;
	s->member = NULL;
	s->win = NULL;
	s->moved = NULL;
	s->n = s->nslots = s->cap = s->win_lo = s->win_n = s->win_cap = 0;
	s->nmoved = s->moved_cap = 0;
	s->moved_all = true;
	s->win_end = 0;
	s->built = false;
}
