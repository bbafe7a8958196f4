/*
 * strpool.c - interned, sanitized strings in big chunks.
 *
 * Sanitizing once here, when a string enters, means the screen never needs to
 * look at a string's bytes again, and a DNS name shared by ten thousand flows
 * costs its bytes once.
 */
#include "strpool.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define CHUNK_SIZE (64 * 1024)

struct slot {
	const char *s;
	uint32_t hash, len;
};

struct chunk {
	struct chunk *next;
	size_t used;
	char data[CHUNK_SIZE];
};

struct strpool {
	struct chunk *chunks;		/* newest first */
	struct slot *slots;
	size_t nslots, count, bytes;
	/* the commit point: strings stored after it may still be rolled back */
	struct chunk *commit_chunk;	/* NULL: before the first chunk */
	size_t commit_used;
};

struct strpool *strpool_new(void)
{
	struct strpool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->nslots = 256;
	p->slots = calloc(p->nslots, sizeof(*p->slots));
	if (!p->slots) {
		free(p);
		return NULL;
	}
	return p;
}

void strpool_free(struct strpool *p)
{
	if (!p)
		return;
	while (p->chunks) {
		struct chunk *c = p->chunks;

		p->chunks = c->next;
		free(c);
	}
	free(p->slots);
	free(p);
}

/* FNV-1a: short strings, and quality matters less than speed here. */
static uint32_t hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static bool is_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0x200e || cp == 0x200f || cp == 0x061c;
}

static uint32_t decode(const unsigned char *s, size_t n)
{
	if (n == 1)
		return s[0];
	if (n == 2)
		return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	if (n == 3)
		return (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
	       (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

size_t strpool_sanitize(const char *s, size_t len, char *out, size_t outlen)
{
	static const char repl[] = "\xef\xbf\xbd";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;

	while (i < len) {
		size_t n = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, len - i);
		const char *src = (const char *)p + i;
		size_t w = n;

		if (n == 0 || is_unsafe(decode(p + i, n))) {
			src = repl;
			w = 3;
			n = n ? n : 1;
		}
		if (o + w >= outlen)
			break;
		memcpy(out + o, src, w);
		o += w;
		i += n;
	}
	out[o] = '\0';
	return o;
}

static int grow(struct strpool *p)
{
	size_t n = p->nslots * 2;
	struct slot *s = calloc(n, sizeof(*s));

	if (!s)
		return -1;
	for (size_t i = 0; i < p->nslots; i++) {
		size_t j;

		if (!p->slots[i].s)
			continue;
		for (j = p->slots[i].hash & (n - 1); s[j].s; j = (j + 1) & (n - 1))
			;
		s[j] = p->slots[i];
	}
	free(p->slots);
	p->slots = s;
	p->nslots = n;
	return 0;
}

static char *store(struct strpool *p, const char *s, size_t len)
{
	struct chunk *c = p->chunks;
	char *d;

	if (!c || c->used + len + 1 > CHUNK_SIZE) {
		c = malloc(sizeof(*c));
		if (!c)
			return NULL;
		c->used = 0;
		c->next = p->chunks;
		p->chunks = c;
		p->bytes += sizeof(*c);
	}
	d = c->data + c->used;
	memcpy(d, s, len);
	d[len] = '\0';
	c->used += len + 1;
	return d;
}

const char *strpool_intern(struct strpool *p, const char *s, size_t len)
{
	char buf[STRPOOL_STR_MAX + 1];
	uint32_t h;
	size_t j;
	char *d;

	len = strpool_sanitize(s, len, buf, sizeof(buf));
	h = hash_bytes(buf, len);
	for (j = h & (p->nslots - 1); p->slots[j].s; j = (j + 1) & (p->nslots - 1)) {
		const struct slot *sl = &p->slots[j];

		if (sl->hash == h && sl->len == len && !memcmp(sl->s, buf, len))
			return sl->s;
	}
	if ((p->count + 1) * 4 > p->nslots * 3) {
		if (grow(p))
			return NULL;
		for (j = h & (p->nslots - 1); p->slots[j].s; j = (j + 1) & (p->nslots - 1))
			;
	}
	if (!(d = store(p, buf, len)))
		return NULL;
	p->slots[j] = (struct slot){ d, h, (uint32_t)len };
	p->count++;
	return d;
}

/* Remove the index slot of the stored string s (backward-shift deletion,
 * so that linear probing needs no tombstones). */
static void unindex(struct strpool *p, const char *s)
{
	size_t mask = p->nslots - 1, i, j;
	uint32_t h = hash_bytes(s, strlen(s));

	for (i = h & mask; p->slots[i].s != s; i = (i + 1) & mask)
		if (!p->slots[i].s)
			return;		/* cannot happen: every stored string is indexed */
	for (j = i;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!p->slots[j].s)
			break;
		home = p->slots[j].hash & mask;
		/* an entry whose home lies cyclically in (i, j] may stay */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		p->slots[i] = p->slots[j];
		i = j;
	}
	p->slots[i] = (struct slot){ 0 };
	p->count--;
}

/* Unindex the strings stored back to back in d[0..n). */
static void unindex_range(struct strpool *p, const char *d, size_t n)
{
	for (size_t o = 0; o < n; o += strlen(d + o) + 1)
		unindex(p, d + o);
}

void strpool_commit(struct strpool *p)
{
	p->commit_chunk = p->chunks;
	p->commit_used = p->chunks ? p->chunks->used : 0;
}

void strpool_rollback(struct strpool *p)
{
	while (p->chunks && p->chunks != p->commit_chunk) {
		struct chunk *c = p->chunks;

		unindex_range(p, c->data, c->used);
		p->chunks = c->next;
		p->bytes -= sizeof(*c);
		free(c);
	}
	if (p->chunks) {
		struct chunk *c = p->chunks;

		unindex_range(p, c->data + p->commit_used, c->used - p->commit_used);
		c->used = p->commit_used;
	}
}

const char *strpool_intern_cb(void *ctx, const char *s, size_t len)
{
	return strpool_intern(ctx, s, len);
}

size_t strpool_bytes(const struct strpool *p)
{
	return p->bytes + p->nslots * sizeof(*p->slots);
}

size_t strpool_count(const struct strpool *p)
{
	return p->count;
}
