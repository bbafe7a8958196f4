/*
 * htab.h - the one hash table both programs index things with: open
 * addressing with linear probing over (hash, value) slots.
 *
 * The table maps a 64-bit hash (hash.h) to non-zero values - an index + 1
 * into the caller's array, or a pointer to the caller's entry - and never
 * sees a key: a look-up hands back every value stored under the hash, and
 * the caller compares its own keys.  That keeps one small untyped table for
 * every key shape (tuples, inodes, addresses, strings) without callbacks,
 * and since the full hash is stored, a key is compared only when all 64
 * bits match and growing never needs the keys.  Several values may share
 * one hash and one key; they come back in the order they were put.
 *
 * Why not a Debian library: uthash (uthash-dev) chains through a 56-byte
 * handle in every entry, more than a socket or a view entry itself; GLib's
 * GHashTable calls back for every hash and comparison and would bring GLib
 * into both programs; Concurrency Kit's ck_hs (libck-dev) is built for
 * concurrent readers we do not have.  The hash itself is a library's
 * (hash.h).
 *
 * struct htab is embedded in its user (htab_init/htab_release) and owns
 * only its slot array; the values, and whatever they point to, stay the
 * caller's.  Not thread-safe.  At most 3/4 of the slots are used, so a
 * probe meets an empty slot soon; 16 bytes a slot.
 */
#ifndef FLOWTOP_HTAB_H
#define FLOWTOP_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct htab_slot {
	uint64_t hash;
	uintptr_t val;		/* 0: empty */
};

struct htab {
	struct htab_slot *slot;
	size_t cap;		/* a power of two, or 0 before the first put */
	size_t n;
};

/* Where a look-up is: for htab_next(). */
struct htab_pos {
	size_t i;
	uint64_t hash;
};

/* An empty table; allocates nothing. */
void htab_init(struct htab *t);

/* Free the slots (not the values); the table is empty again. */
void htab_release(struct htab *t);

/* Make room for n values in all without growing.  Returns 0, or -1 with
 * errno ENOMEM (the table is unchanged). */
int htab_reserve(struct htab *t, size_t n);

/* htab_put() when the table must grow first (or val is 0). */
int htab_put_grow_(struct htab *t, uint64_t hash, uintptr_t val);

/* Add val (non-zero) under hash, after any value already there.  Returns 0,
 * or -1 with errno ENOMEM (or EINVAL for val 0).  Inline while there is
 * room: a dump indexes every socket and every descriptor this way. */
static inline int htab_put(struct htab *t, uint64_t hash, uintptr_t val)
{
	size_t mask = t->cap - 1, i = (size_t)hash & mask;

	if (!val || (t->n + 1) * 4 > t->cap * 3)
		return htab_put_grow_(t, hash, val);
	while (t->slot[i].val)
		i = (i + 1) & mask;
	t->slot[i] = (struct htab_slot){ hash, val };
	t->n++;
	return 0;
}

/* Look-ups are inline: every attributed flow makes several, and a call
 * for each cost as much as the probe itself. */
static inline uintptr_t htab_scan_(const struct htab *t, struct htab_pos *pos, size_t i)
{
	size_t mask = t->cap - 1;

	for (; t->slot[i].val; i = (i + 1) & mask)
		if (t->slot[i].hash == pos->hash) {
			pos->i = i;
			return t->slot[i].val;
		}
	return 0;
}

/* The first value stored under hash, or 0; pos remembers where it was. */
static inline uintptr_t htab_first(const struct htab *t, uint64_t hash, struct htab_pos *pos)
{
	pos->hash = hash;
	if (!t->n)
		return 0;
	return htab_scan_(t, pos, (size_t)hash & (t->cap - 1));
}

/* The next value under the same hash after pos, or 0. */
static inline uintptr_t htab_next(const struct htab *t, struct htab_pos *pos)
{
	return htab_scan_(t, pos, (pos->i + 1) & (t->cap - 1));
}

/* Remove val stored under hash.  Returns whether it was there.  Backward-
 * shift deletion: no tombstones, so a table that churns stays fast. */
bool htab_del(struct htab *t, uint64_t hash, uintptr_t val);

/* Keep only the values keep() says to keep; keep() is called once for every
 * value and may free the ones it drops.  Returns 0, or -1 with errno ENOMEM
 * before keep() is called at all. */
int htab_filter(struct htab *t, bool (*keep)(uintptr_t val, void *ctx), void *ctx);

/* Remove every value, keeping the slot array for reuse. */
void htab_clear(struct htab *t);

/* Every value in no particular order: start with *pos = 0; returns 0 at the
 * end.  The table must not change during the walk. */
uintptr_t htab_each(const struct htab *t, size_t *pos);

/* Number of values stored. */
size_t htab_count(const struct htab *t);

/* Bytes of slot array held. */
size_t htab_bytes(const struct htab *t);

#endif
