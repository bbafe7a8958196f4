/*
 * intern.c - interned strings in chunks, indexed by one htab (see intern.h).
 */
#include "intern.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "htab.h"

#define CHUNK_SIZE (64 * 1024)

struct chunk {
	struct chunk *next;
	size_t used, size;
	char data[];
};

struct intern {
	struct htab idx;		/* hash of the text -> the stored string */
	struct chunk *chunks;		/* newest first */
	size_t max_bytes, str_bytes, chunk_bytes;
	/* the commit point: strings stored after it may still be rolled back */
	struct chunk *commit_chunk;	/* NULL: before the first chunk */
	size_t commit_used;
};

struct intern *intern_new(size_t max_bytes)
{
	struct intern *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	htab_init(&in->idx);
	in->max_bytes = max_bytes;
	return in;
}

void intern_free(struct intern *in)
{
	if (!in)
		return;
	while (in->chunks) {
		struct chunk *c = in->chunks;

		in->chunks = c->next;
		free(c);
	}
	htab_release(&in->idx);
	free(in);
}

static char *store(struct intern *in, const char *s, size_t len)
{
	struct chunk *c = in->chunks;
	char *d;

	if (!c || c->size - c->used < len + 1) {
		size_t size = len + 1 > CHUNK_SIZE ? len + 1 : CHUNK_SIZE;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = in->chunks;
		in->chunks = c;
		in->chunk_bytes += sizeof(*c) + size;
	}
	d = c->data + c->used;
	memcpy(d, s, len);
	d[len] = '\0';
	c->used += len + 1;
	in->str_bytes += len + 1;
	return d;
}

const char *intern_str(struct intern *in, const char *s, size_t len)
{
	struct htab_pos pos;
	uint64_t h;
	uintptr_t v;
	char *d;

	len = strnlen(s, len);
	h = hash_bytes(s, len);
	for (v = htab_first(&in->idx, h, &pos); v; v = htab_next(&in->idx, &pos)) {
		const char *t = (const char *)v;

		if (!strncmp(t, s, len) && t[len] == '\0')
			return t;
	}
	if (in->max_bytes && in->str_bytes + len + 1 > in->max_bytes) {
		errno = ENOSPC;
		return NULL;
	}
	/* index room first: a stored string is always indexed, which the
	 * rollback relies on */
	if (htab_reserve(&in->idx, htab_count(&in->idx) + 1) < 0)
		return NULL;
	d = store(in, s, len);
	if (!d) {
		errno = ENOMEM;
		return NULL;
	}
	htab_put(&in->idx, h, (uintptr_t)d);	/* cannot fail: reserved */
	return d;
}

/* Unindex the strings stored back to back in d[0..n). */
static void unindex_range(struct intern *in, const char *d, size_t n)
{
	for (size_t o = 0; o < n;) {
		size_t len = strlen(d + o);

		htab_del(&in->idx, hash_bytes(d + o, len), (uintptr_t)(d + o));
		in->str_bytes -= len + 1;
		o += len + 1;
	}
}

void intern_commit(struct intern *in)
{
	in->commit_chunk = in->chunks;
	in->commit_used = in->chunks ? in->chunks->used : 0;
}

void intern_rollback(struct intern *in)
{
	while (in->chunks && in->chunks != in->commit_chunk) {
		struct chunk *c = in->chunks;

		unindex_range(in, c->data, c->used);
		in->chunks = c->next;
		in->chunk_bytes -= sizeof(*c) + c->size;
		free(c);
	}
	if (in->chunks) {
		struct chunk *c = in->chunks;

		unindex_range(in, c->data + in->commit_used, c->used - in->commit_used);
		c->used = in->commit_used;
	}
}

size_t intern_count(const struct intern *in)
{
	return htab_count(&in->idx);
}

size_t intern_bytes(const struct intern *in)
{
	return in->chunk_bytes + htab_bytes(&in->idx);
}
