/*
 * htab.c - open addressing with linear probing (see htab.h).
 */
#include "htab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HTAB_MIN_CAP 16

void htab_init(struct htab *t)
{
	memset(t, 0, sizeof(*t));
}

void htab_release(struct htab *t)
{
	free(t->slot);
	htab_init(t);
}

/* Place a slot in an array with room, after any with the same hash. */
static void place(struct htab_slot *slot, size_t cap, struct htab_slot s)
{
	size_t mask = cap - 1, i = (size_t)s.hash & mask;

	while (slot[i].val)
		i = (i + 1) & mask;
	slot[i] = s;
}

static bool fits(size_t n, size_t cap)
{
	return n * 4 <= cap * 3;
}

/* Move every slot to a new array of cap slots, in array order from the
 * start of a probe run, so that values sharing a hash keep their order. */
static int rehash(struct htab *t, size_t cap)
{
	struct htab_slot *slot = calloc(cap, sizeof(*slot));
	size_t start = 0;

	if (!slot) {
		errno = ENOMEM;
		return -1;
	}
	/* a run that wraps around the end must be taken from its head */
	if (t->cap) {
		while (start < t->cap && t->slot[start].val)
			start++;
		for (size_t k = 0; k < t->cap; k++) {
			const struct htab_slot *s = &t->slot[(start + k) & (t->cap - 1)];

			if (s->val)
				place(slot, cap, *s);
		}
	}
	free(t->slot);
	t->slot = slot;
	t->cap = cap;
	return 0;
}

int htab_reserve(struct htab *t, size_t n)
{
	size_t cap = t->cap ? t->cap : HTAB_MIN_CAP;

	while (!fits(n, cap)) {
		if (cap > SIZE_MAX / 2 / sizeof(struct htab_slot)) {
			errno = ENOMEM;
			return -1;
		}
		cap *= 2;
	}
	return cap == t->cap ? 0 : rehash(t, cap);
}

int htab_put_grow_(struct htab *t, uint64_t hash, uintptr_t val)
{
	if (!val) {
		errno = EINVAL;
		return -1;
	}
	if ((!t->cap || !fits(t->n + 1, t->cap)) && htab_reserve(t, t->n + 1) < 0)
		return -1;
	place(t->slot, t->cap, (struct htab_slot){ hash, val });
	t->n++;
	return 0;
}

bool htab_del(struct htab *t, uint64_t hash, uintptr_t val)
{
	struct htab_pos pos;
	size_t mask, i, j;
	uintptr_t v;

	for (v = htab_first(t, hash, &pos); v && v != val; v = htab_next(t, &pos))
		;
	if (!v)
		return false;
	mask = t->cap - 1;
	i = pos.i;
	for (j = i;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!t->slot[j].val)
			break;
		home = (size_t)t->slot[j].hash & mask;
		/* a slot whose home lies cyclically in (i, j] stays put */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t->slot[i] = t->slot[j];
		i = j;
	}
	t->slot[i] = (struct htab_slot){ 0, 0 };
	t->n--;
	return true;
}

int htab_filter(struct htab *t, bool (*keep)(uintptr_t val, void *ctx), void *ctx)
{
	struct htab_slot *old = t->slot;
	size_t cap = t->cap, start = 0;

	if (!t->n)
		return 0;
	t->slot = calloc(cap, sizeof(*t->slot));
	if (!t->slot) {
		t->slot = old;
		errno = ENOMEM;
		return -1;
	}
	t->n = 0;
	while (start < cap && old[start].val)
		start++;
	for (size_t k = 0; k < cap; k++) {
		const struct htab_slot *s = &old[(start + k) & (cap - 1)];

		if (s->val && keep(s->val, ctx)) {
			place(t->slot, cap, *s);
			t->n++;
		}
	}
	free(old);
	return 0;
}

void htab_clear(struct htab *t)
{
	if (t->slot)
		memset(t->slot, 0, t->cap * sizeof(*t->slot));
	t->n = 0;
}

uintptr_t htab_each(const struct htab *t, size_t *pos)
{
	while (*pos < t->cap) {
		uintptr_t v = t->slot[(*pos)++].val;

		if (v)
			return v;
	}
	return 0;
}

size_t htab_count(const struct htab *t)
{
	return t->n;
}

size_t htab_bytes(const struct htab *t)
{
	return t->cap * sizeof(*t->slot);
}
