/*
 * view_sorter.c - the sorter's windows and its incremental keys.
 *
 * Windows: display positions [first, first + count) hold what a full sort
 * puts there, for windows at the top and bottom (one heap pass), in the
 * middle (radix select of the first row, down to the slot index when keys
 * tie), most of the list, both directions.
 *
 * Incremental: a sorter kept up to date through the table's dirty list,
 * and the per-owner sums the table keeps, against a from-scratch sort and
 * a from-scratch pass, after random news, updates with counters, destroys,
 * expiries, frames, reused ids and slots, pauses, filters and orders (a
 * fixed seed); and a stale rate that must lose its place.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procsum.h"
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

/* Whether display position i is in the last window (sorter_at reads it). */
static bool covered(const struct sorter *s, uint32_t i)
{
	uint32_t p = s->reverse ? s->n - 1 - i : i;

	return p >= s->win_lo && p - s->win_lo < s->win_n;
}

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* n member slots of the sorter's own (every third slot left out), keys
 * with few distinct values (ties), or all equal (ties to the index);
 * sorted: the members in order. */
static uint32_t fill(struct sorter *s, uint32_t slots, int kind, struct sorter_item *sorted)
{
	uint32_t n = 0;

	memset(s->member, 0, (slots + 63) / 64 * sizeof(*s->member));
	for (uint32_t i = 0; i < slots; i++) {
		if (i % 3 == 2)
			continue;
		s->keys[i].hi = kind == 2 ? 5 : kind == 1 ? rnd(7) : (uint64_t)rnd(1000) << 40 | rnd(1000);
		s->keys[i].lo = kind == 2 ? 9 : rnd(1000);
		s->member[i / 64] |= 1ull << (i % 64);
		sorted[n].hi = s->keys[i].hi;
		sorted[n].lo = s->keys[i].lo;
		sorted[n++].idx = i;
	}
	s->nslots = slots;
	s->n = n;
	s->moved_all = true;	/* every key is new, as after sorter_build */
	qsort(sorted, n, sizeof(*sorted), cmp_item);
	return n;
}

static bool window_ok(struct sorter *s, const struct sorter_item *sorted, uint32_t first,
		      uint32_t count)
{
	if (sorter_window(s, first, count))
		return false;
	for (uint32_t i = first; i < first + count && i < s->n; i++)
		if (!covered(s, i) || sorter_at(s, i) != sorted[s->reverse ? s->n - 1 - i : i].idx)
			return false;
	return true;
}

static void test_windows(void)
{
	enum { SLOTS = 30000 };
	struct sorter s = { 0 };
	struct sorter_item *sorted = malloc(SLOTS * sizeof(*sorted));
	static const char *const kinds[] = { "spread keys", "few keys", "one key" };

	s.keys = malloc(SLOTS * sizeof(*s.keys));
	s.member = malloc((SLOTS + 63) / 64 * sizeof(*s.member));
	s.cap = SLOTS;
	for (int kind = 0; kind < 3; kind++) {
		uint32_t n = fill(&s, SLOTS, kind, sorted);
		const struct {
			uint32_t first, count;
			const char *what;
		} w[] = {
			{ 0, 40, "the top" }, { 0, 1, "the first row alone" },
			{ 1, 40, "one row down" }, { n - 40, 40, "the bottom" },
			{ n / 2, 50, "the middle" }, { 7777, 120, "elsewhere" },
			{ n - 1, 40, "a window past the end" }, { 0, n, "everything" },
			{ n / 3, n / 2, "most of it" },
		};

		for (int rev = 0; rev < 2; rev++) {
			bool good = true;

			s.reverse = rev;
			for (size_t k = 0; k < sizeof(w) / sizeof(w[0]); k++) {
				bool one = window_ok(&s, sorted, w[k].first, w[k].count);

				if (!one)
					printf("# %s, %s%s: wrong\n", kinds[kind], w[k].what,
					       rev ? ", reversed" : "");
				good &= one;
			}
			ok(good, "%s%s: every window holds what a full sort puts there", kinds[kind],
			   rev ? ", reversed" : "");
		}
	}
	/* small lists: the heap's bounds */
	for (uint32_t slots = 1; slots <= 80; slots += 13) {
		bool good = true;
		uint32_t n = fill(&s, slots, 1, sorted);

		for (int rev = 0; rev < 2; rev++)
			for (uint32_t c = 1; c <= n + 1; c++) {
				s.reverse = rev;
				good &= window_ok(&s, sorted, 0, c) &&
					window_ok(&s, sorted, n > c ? n - c : 0, c);
			}
		ok(good, "%u rows: the first and last ones, both ways", n);
	}
	free(sorted);
	sorter_release(&s);
}

/* --- a table kept against one computed afresh ------------------------------------ */

enum { NID = 400 };

static const char *const states[] = { "ESTABLISHED", "SYN_SENT", "TIME_WAIT", "CLOSE", NULL };
static const char *const procs[] = { "curl", "nginx", "sshd", NULL };

static uint64_t bytes[NID + 1];

static struct flow rec(int action, uint32_t id, uint64_t ts)
{
	struct flow f = { 0 };

	f.action = (uint8_t)action;
	f.ts_ns = ts;
	f.id = id;
	f.has = FLOW_HAS_ID | FLOW_HAS_TUPLE | FLOW_HAS_PORTS;
	f.family = AF_INET;
	f.orig.src.w[0] = htonl(0x0a000000u | id);
	f.orig.dst.w[0] = htonl(0xc0000200u | (id % 7));
	f.l4proto = id % 3 ? IPPROTO_TCP : IPPROTO_UDP;
	f.orig.sport = (uint16_t)(1000 + id);
	f.orig.dport = (uint16_t)(80 + id % 5);
	f.netns_ino = id % 4 == 0 ? 101 : id % 4 == 1 ? 102 : 0;
	if (f.l4proto == IPPROTO_TCP)
		f.state = states[rnd(5)];
	return f;
}

/* A record with counters a little (or a lot) past the last ones. */
static void counters(struct flow *f, uint32_t id)
{
	uint32_t r = rnd(20);

	if (r == 0)
		bytes[id] = (1ull << 63) + rnd(1000);	/* sums past 2^64 */
	else if (r == 1)
		bytes[id] = rnd(100);			/* a counter reset */
	else
		bytes[id] += rnd(5) ? rnd(100000) : 0;
	f->has |= FLOW_HAS_COUNTERS;
	f->orig_bytes = bytes[id];
	f->reply_bytes = bytes[id] / 3;
}

static void owner(struct flow *f)
{
	f->process_name = procs[rnd(4)];
	if (rnd(3)) {
		f->pid = 100 + rnd(3);
		f->has |= FLOW_HAS_PID;
	}
}

static bool rows_equal(const struct procsum *a, const struct procsum *b)
{
	if (a->n != b->n)
		return false;
	for (uint32_t i = 0; i < a->n; i++) {
		const struct procsum_row *x = &a->rows[i], *y = &b->rows[i];

		if (x->owner != y->owner || x->netns != y->netns || x->pid != y->pid ||
		    x->has_pid != y->has_pid || x->counters != y->counters ||
		    x->flows != y->flows || x->sent != y->sent || x->recv != y->recv ||
		    x->rate != y->rate)
			return false;
	}
	return true;
}

/* The incremental sorter's windows against a full sort of the table. */
static bool same_order(struct sorter *inc, struct sorter *ref, struct flowtab *t,
		       const struct flowmatch *m)
{
	uint32_t n;

	ref->key = inc->key;
	ref->reverse = inc->reverse;
	if (sorter_update(inc, t, m) || sorter_run(ref, t, m) || inc->n != ref->n)
		return false;
	n = ref->n;
	/* the first window at the top follows the last check's: found from
	 * it and the slots moved since; the bottom twice likewise */
	for (int k = 0; k < 7; k++) {
		uint32_t count = k == 4 ? n : 1 + rnd(40);
		uint32_t first = k == 0 || k == 6 ? 0 : k == 1 || k == 2 ? (n > count ? n - count : 0) :
				 rnd(n + 1);

		if (sorter_window(inc, first, count))
			return false;
		for (uint32_t i = first; i < first + count && i < n; i++)
			if (!covered(inc, i) || sorter_at(inc, i) != sorter_at(ref, i))
				return false;
	}
	return true;
}

static void test_random(void)
{
	struct flowtab t;
	struct sorter inc = { 0 }, ref = { 0 };
	struct procsum pa = { 0 }, pb = { 0 };
	struct flowmatch m = { 0 };
	uint64_t ts = 1000000000000ull, mono = 1;
	uint32_t frozen[30], nfrozen = 0, steps = 0, bad_order = 0, bad_sums = 0, bad_pause = 0;
	uint32_t checks = 0, pauses = 0, stale = 0;
	bool paused = false;

	flowtab_init(&t, 300, 2000000000ull);
	for (int step = 0; step < 6000; step++, steps++) {
		uint32_t op = rnd(100), id = 1 + rnd(NID);
		struct flow f;

		ts += rnd(4) ? rnd(400) * 1000000ull : rnd(6) * 1000000000ull;
		mono += rnd(300) * 1000000ull;
		if (op < 25) {
			f = rec(rnd(2) ? FLOW_NEW : FLOW_SNAPSHOT, id, ts);
			owner(&f);
			if (rnd(2))
				counters(&f, id);
			flowtab_apply(&t, &f, mono);
		} else if (op < 55) {
			f = rec(FLOW_UPDATE, id, ts);
			counters(&f, id);
			flowtab_apply(&t, &f, mono);
		} else if (op < 63) {
			f = rec(FLOW_DESTROY, id, ts);
			if (rnd(2))
				counters(&f, id);
			flowtab_apply(&t, &f, mono);
		} else if (op < 68) {
			f = rec(FLOW_UPDATE, id, ts);
			owner(&f);
			flowtab_apply(&t, &f, mono);
		} else if (op < 73) {
			flowtab_expire(&t, mono);
		} else if (op < 75) {
			/* a frame of some of the flows: the rest are swept */
			flowtab_apply(&t, &(struct flow){ .action = FLOW_MARK_SNAPSHOT_BEGIN,
							  .ts_ns = ts }, mono);
			for (uint32_t k = 1; k <= NID; k += 1 + rnd(3)) {
				f = rec(FLOW_SNAPSHOT, k, ts);
				counters(&f, k);
				flowtab_apply(&t, &f, mono);
			}
			flowtab_apply(&t, &(struct flow){ .action = FLOW_MARK_SNAPSHOT_END,
							  .ts_ns = ts }, mono);
		} else if (op < 78) {
			paused = !paused;
			flowtab_hold(&t, paused);
			pauses += paused;
			if (paused) {
				/* what the screen shows when the pause begins */
				bad_order += !same_order(&inc, &ref, &t, &m);
				sorter_window(&inc, 0, 30);
				nfrozen = inc.n < 30 ? inc.n : 30;
				for (uint32_t i = 0; i < nfrozen; i++)
					frozen[i] = sorter_at(&inc, i);
			}
		} else if (op < 84 && !paused) {
			static const unsigned int filters[] = { 0, FLOWMATCH_TCP, FLOWMATCH_UDP, 0 };

			m.filter = filters[rnd(4)];
			m.netns = rnd(4) ? 0 : 101;
			strcpy(m.search, rnd(4) ? "" : rnd(2) ? "nginx" : "192.0.2.3");
		} else if (op < 90 && !paused) {
			inc.key = (enum sorter_key)rnd(SORT_KEY_MAX);
			inc.reverse = rnd(2);
		} else if (op < 92) {
			/* the stream's clock alone moves (another flow's record) */
			ts += 11000000000ull;
			stale++;
		}
		if (paused) {
			/* the keys are not updated: the list stays as it was */
			sorter_window(&inc, 0, 30);
			for (uint32_t i = 0; i < nfrozen; i++)
				bad_pause += sorter_at(&inc, i) != frozen[i];
			continue;
		}
		checks++;
		bad_order += !same_order(&inc, &ref, &t, &m);
		procsum_build(&pa, &t, NULL);
		procsum_scan(&pb, &t, NULL);
		bad_sums += !rows_equal(&pa, &pb);
	}
	ok(checks > 2000 && pauses > 50 && stale > 50, "random steps: %u checked, %u pauses, %u clock jumps",
	   checks, pauses, stale);
	ok(bad_order == 0, "the incremental order is a full sort's (%u of %u differ)", bad_order,
	   checks);
	ok(bad_sums == 0, "per-process sums are a pass over the flows' (%u of %u differ)", bad_sums,
	   checks);
	ok(bad_pause == 0, "paused, the list stays as it was (%u differ)", bad_pause);
	ok(inc.windows_kept > inc.windows / 4, "%llu of %llu windows found from the last one",
	   (unsigned long long)inc.windows_kept, (unsigned long long)inc.windows);

	/* more changes than the dirty list holds: everything is redone */
	if (paused)
		flowtab_hold(&t, false);
	flowtab_release(&t);
	flowtab_init(&t, 0, 0);
	inc.key = SORT_STATE;
	inc.reverse = false;
	bad_order = !same_order(&inc, &ref, &t, NULL);
	for (uint32_t k = 0; k < 3 * FLOWTAB_DIRTY_MIN; k++) {
		struct flow f = rec(FLOW_NEW, 1000 + k, ts);

		flowtab_apply(&t, &f, mono);
	}
	ok(t.dirty_all, "%u new flows: the table lost count of them", 3 * FLOWTAB_DIRTY_MIN);
	bad_order += !same_order(&inc, &ref, &t, NULL);
	ok(bad_order == 0 && !t.dirty_all && t.ndirty == 0, "and the sorter redid every key");
	flowtab_release(&t);
	sorter_release(&inc);
	sorter_release(&ref);
	procsum_release(&pa);
	procsum_release(&pb);
}

/* A rate that goes stale loses its place in the rate order and its share
 * of its process's rate, though its flow had no record since. */
static void test_stale(void)
{
	struct flowtab t;
	struct sorter s = { .key = SORT_RATE };
	struct procsum ps = { 0 };
	const uint64_t S = 1000000000ull, T0 = 1000 * S;
	struct flow f;

	flowtab_init(&t, 0, 0);
	/* A: 1000 B/s from samples at 1 s and 2 s; B: 10 B/s at 5 s and 6 s */
	for (uint32_t k = 0; k < 2; k++) {
		f = rec(FLOW_UPDATE, 1, T0 + (1 + k) * S);
		f.process_name = "a";
		f.has |= FLOW_HAS_COUNTERS;
		f.orig_bytes = 1000 * k;
		flowtab_apply(&t, &f, 0);
	}
	for (uint32_t k = 0; k < 2; k++) {
		f = rec(FLOW_UPDATE, 2, T0 + (5 + k) * S);
		f.process_name = "b";
		f.has |= FLOW_HAS_COUNTERS;
		f.orig_bytes = 10 * k;
		flowtab_apply(&t, &f, 0);
	}
	f = rec(FLOW_NEW, 3, T0 + 6 * S);
	flowtab_apply(&t, &f, 0);
	sorter_update(&s, &t, NULL);
	sorter_window(&s, 0, 3);
	ok(s.n == 3 && t.e[sorter_at(&s, 0)].id == 1 && t.e[sorter_at(&s, 1)].id == 2,
	   "by rate: 1000 B/s, then 10 B/s");
	/* at 12.5 s A's last sample is 10.5 s old, B's 6.5 s */
	f = rec(FLOW_UPDATE, 3, T0 + 12500000000ull);
	flowtab_apply(&t, &f, 0);
	sorter_update(&s, &t, NULL);
	sorter_window(&s, 0, 3);
	ok(t.e[sorter_at(&s, 0)].id == 2, "A's rate is stale: B is first now (got id %u)",
	   t.e[sorter_at(&s, 0)].id);
	procsum_build(&ps, &t, NULL);
	{
		uint64_t ra = 0, rb = 0;

		for (uint32_t i = 0; i < ps.n; i++) {
			const char *n = procsum_name(&ps.rows[i], &t);

			if (n && !strcmp(n, "a"))
				ra = ps.rows[i].rate;
			if (n && !strcmp(n, "b"))
				rb = ps.rows[i].rate;
		}
		ok(ra == 0 && rb == 10, "and its process's rate drops it: a %llu, b %llu",
		   (unsigned long long)ra, (unsigned long long)rb);
	}
	/* a new sample makes it fresh again */
	f = rec(FLOW_UPDATE, 1, T0 + 13 * S);
	f.has |= FLOW_HAS_COUNTERS;
	f.orig_bytes = 1000 + 5500;
	flowtab_apply(&t, &f, 0);
	sorter_update(&s, &t, NULL);
	sorter_window(&s, 0, 3);
	ok(t.e[sorter_at(&s, 0)].id == 1 && sorter_rate(&t.e[sorter_at(&s, 0)], t.now_ns) == 500,
	   "a new sample puts it back (500 B/s over 11 s)");
	flowtab_release(&t);
	sorter_release(&s);
	procsum_release(&ps);
}

int main(void)
{
	test_windows();
	test_random();
	test_stale();
	return tap_done();
}
