/*
 * strpool.c - the view's strings: sanitised for a terminal once, when they
 * enter (utf8_clean_terminal), then interned (lib's intern), so the screen
 * never needs to look at a string's bytes again, and a DNS name shared by
 * ten thousand flows costs its bytes once.  The pool adds only that policy
 * to the shared interner; commit and rollback are the interner's.
 */
#include "strpool.h"

#include <stdlib.h>

#include "intern.h"
#include "utf8.h"

struct strpool {
	struct intern *in;
};

struct strpool *strpool_new(void)
{
	struct strpool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->in = intern_new(0);
	if (!p->in) {
		free(p);
		return NULL;
	}
	return p;
}

void strpool_free(struct strpool *p)
{
	if (!p)
		return;
	intern_free(p->in);
	free(p);
}

const char *strpool_intern(struct strpool *p, const char *s, size_t len)
{
	char buf[STRPOOL_STR_MAX + 1];

	len = utf8_clean_terminal(s, len, buf, sizeof(buf));
	return intern_str(p->in, buf, len);
}

void strpool_commit(struct strpool *p)
{
	intern_commit(p->in);
}

void strpool_rollback(struct strpool *p)
{
	intern_rollback(p->in);
}

const char *strpool_intern_cb(void *ctx, const char *s, size_t len)
{
	return strpool_intern(ctx, s, len);
}

size_t strpool_bytes(const struct strpool *p)
{
	return intern_bytes(p->in);
}

size_t strpool_count(const struct strpool *p)
{
	return intern_count(p->in);
}
