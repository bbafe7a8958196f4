/*
 * htab.c - the open-addressing table: values found by hash in the order
 * they were put, deletion that keeps every other value findable (including
 * runs that wrap around the end), growth, filtering; and the hash family.
 */
#include <errno.h>
#include <stdlib.h>

#include "hash.h"
#include "htab.h"
#include "tap.h"

#define N 5000

/* Every value v in 1..N was put under hash h(v); count the ones found. */
static size_t found_all(const struct htab *t, uint64_t (*h)(uintptr_t), const char *gone)
{
	size_t n = 0;

	for (uintptr_t v = 1; v <= N; v++) {
		struct htab_pos pos;
		uintptr_t x;

		for (x = htab_first(t, h(v), &pos); x && x != v; x = htab_next(t, &pos))
			;
		if (x == v && !(gone && gone[v]))
			n++;
	}
	return n;
}

static uint64_t h_good(uintptr_t v)
{
	return hash_u64(v);
}

/* few distinct hashes: long runs, many values per hash */
static uint64_t h_bad(uintptr_t v)
{
	return v % 7 * 0x100000001ull;
}

/* hashes near the end of a 16-slot table: runs wrap around */
static uint64_t h_wrap(uintptr_t v)
{
	return 13 + v % 3;
}

static bool keep_odd(uintptr_t v, void *ctx)
{
	(*(size_t *)ctx)++;
	return v & 1;
}

int main(void)
{
	uint64_t (*const hs[])(uintptr_t) = { h_good, h_bad, h_wrap };
	static const char *const names[] = { "good hash", "7 hashes", "wrapping runs" };
	struct htab t;
	struct htab_pos pos;
	char *gone = calloc(N + 1, 1);
	size_t calls = 0, n, walk;
	uintptr_t v;
	bool order = true;

	ok(hash_bytes("abc", 3) == hash_bytes("abc", 3) && hash_bytes("abc", 3) != hash_bytes("abd", 3),
	   "hash_bytes: same bytes same hash, one byte apart differ");
	ok(hash_bytes_seed("abc", 3, 1) != hash_bytes_seed("abc", 3, 2), "a seed changes the hash");
	ok(hash_u64(1) != hash_u64(2) && (hash_u64(1) & 0xffff) != (hash_u64(2) & 0xffff),
	   "hash_u64 spreads neighbours in the low bits");

	htab_init(&t);
	ok(htab_first(&t, 1, &pos) == 0 && htab_count(&t) == 0, "an empty table finds nothing");
	errno = 0;
	ok(htab_put(&t, 1, 0) < 0 && errno == EINVAL, "value 0 is refused");
	htab_release(&t);

	for (size_t k = 0; k < 3; k++) {
		uint64_t (*h)(uintptr_t) = hs[k];

		htab_init(&t);
		memset(gone, 0, N + 1);
		for (v = 1; v <= N; v++)
			htab_put(&t, h(v), v);
		ok(htab_count(&t) == N && found_all(&t, h, NULL) == N,
		   "%s: all %d values found after growing to %zu slots", names[k], N, t.cap);
		ok(htab_count(&t) * 4 <= t.cap * 3, "%s: at most 3/4 full", names[k]);
		/* same-hash values come back in the order they were put */
		for (v = htab_first(&t, h(1), &pos), n = 0; v; v = htab_next(&t, &pos)) {
			if (h(v) != h(1) || (n && v <= n))
				order = false;
			n = v;
		}
		ok(order, "%s: one hash's values in the order put", names[k]);
		for (v = 1; v <= N; v += 3) {
			if (!htab_del(&t, h(v), v))
				break;
			gone[v] = 1;
		}
		ok(v > N, "%s: every third value deleted", names[k]);
		ok(!htab_del(&t, h(1), 1), "%s: a deleted value is not there to delete", names[k]);
		n = found_all(&t, h, gone);
		ok(n == N - (N + 2) / 3 && htab_count(&t) == n,
		   "%s: every other value still found (%zu)", names[k], n);
		walk = 0;
		for (size_t p = 0; (v = htab_each(&t, &p));)
			walk += !gone[v];
		ok(walk == htab_count(&t), "%s: htab_each visits each value once", names[k]);
		htab_release(&t);
	}

	/* wrap-around deletion in a table that does not grow */
	htab_init(&t);
	htab_reserve(&t, 10);
	ok(t.cap == 16, "reserve 10: 16 slots");
	for (v = 1; v <= 10; v++)
		htab_put(&t, 14 + v % 2, v);	/* slots 14, 15, 0, 1, ... */
	htab_del(&t, 14, 2);
	htab_del(&t, 15, 1);
	for (v = 3, n = 0; v <= 10; v++) {
		uintptr_t x;

		for (x = htab_first(&t, 14 + v % 2, &pos); x && x != v; x = htab_next(&t, &pos))
			;
		n += x == v;
	}
	ok(n == 8 && t.cap == 16, "deleting at the end of the array keeps a wrapped run findable");

	calls = 0;
	ok(htab_filter(&t, keep_odd, &calls) == 0 && calls == 8 && htab_count(&t) == 4,
	   "htab_filter asks once a value and keeps the kept ones (%zu calls, %zu left)",
	   calls, htab_count(&t));
	for (v = htab_first(&t, 15, &pos), n = 0; v; v = htab_next(&t, &pos))
		n += v & 1;
	ok(n == 4, "the kept values are found");
	htab_clear(&t);
	ok(htab_count(&t) == 0 && htab_first(&t, 15, &pos) == 0 && t.cap == 16,
	   "htab_clear empties and keeps the slots");
	htab_release(&t);
	free(gone);
	return tap_done();
}
