/*
 * view_sorter.c - the sorter's window: display positions [first, first +
 * count) hold what a full sort puts there, for windows at the top (the
 * one-pass heap), at the bottom, in the middle (the window quicksort), in
 * both directions, with many equal keys, and again on an array that an
 * earlier window left half sorted.
 */
#include <stdlib.h>
#include <string.h>

#include "sorter.h"
#include "tap.h"

static int cmp_item(const void *a, const void *b)
{
	const struct sorter_item *x = a, *y = b;

	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* A deterministic shuffle of n items whose hi takes few values (ties). */
static void fill(struct sorter *s, uint32_t n, unsigned seed)
{
	srand(seed);
	s->n = n;
	for (uint32_t i = 0; i < n; i++) {
		s->items[i].hi = (uint64_t)(rand() % 7);
		s->items[i].lo = (uint64_t)(rand() % 1000);
		s->items[i].idx = i;
	}
}

/* Whether positions [first, first + count) of s match the full order. */
static bool window_ok(struct sorter *s, const struct sorter_item *sorted, uint32_t first,
		      uint32_t count)
{
	for (uint32_t i = first; i < first + count && i < s->n; i++) {
		uint32_t want = sorted[s->reverse ? s->n - 1 - i : i].idx;

		if (sorter_at(s, i) != want)
			return false;
	}
	return true;
}

int main(void)
{
	enum { N = 20000 };
	struct sorter s = { 0 };
	struct sorter_item *sorted = malloc(N * sizeof(*sorted));
	static const struct {
		uint32_t first, count;
		const char *what;
	} w[] = {
		{ 0, 40, "the top (heap)" },
		{ 0, 1, "the first row alone (heap)" },
		{ 1, 40, "one row down (quicksort)" },
		{ N - 40, 40, "the bottom" },
		{ N / 2, 50, "the middle" },
		{ N - 1, 40, "a window past the end" },
		{ 0, N, "everything" },
	};

	s.items = malloc(N * sizeof(*s.items));
	s.cap = N;
	for (int rev = 0; rev < 2; rev++) {
		for (size_t k = 0; k < sizeof(w) / sizeof(w[0]); k++) {
			fill(&s, N, (unsigned)(k + 1));
			memcpy(sorted, s.items, N * sizeof(*sorted));
			qsort(sorted, N, sizeof(*sorted), cmp_item);
			s.reverse = rev;
			sorter_window(&s, w[k].first, w[k].count);
			ok(window_ok(&s, sorted, w[k].first, w[k].count), "%s%s", w[k].what,
			   rev ? ", reversed" : "");
			/* a second window on what the first left behind */
			sorter_window(&s, 0, 40);
			ok(window_ok(&s, sorted, 0, 40), "then the top again%s",
			   rev ? ", reversed" : "");
		}
	}
	/* small tables: the heap's bounds (one row; as many as it takes) */
	for (uint32_t n = 1; n <= 80; n += 13) {
		bool good = true;

		for (int rev = 0; rev < 2; rev++)
			for (uint32_t c = 1; c <= n / 16 + 1; c++) {
				fill(&s, n, n + c);
				memcpy(sorted, s.items, n * sizeof(*sorted));
				qsort(sorted, n, sizeof(*sorted), cmp_item);
				s.reverse = rev;
				sorter_window(&s, 0, c);
				good &= window_ok(&s, sorted, 0, c);
			}
		ok(good, "%u rows: the first ones, both ways", n);
	}
	free(sorted);
	sorter_release(&s);
	return tap_done();
}
