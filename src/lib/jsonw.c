/*
 * jsonw.c - see jsonw.h for why this exists beside yajl.
 */
#include "jsonw.h"

#include <stdlib.h>
#include <string.h>

#include "flow.h"

void jsonw_init(struct jsonw *w)
{
	memset(w, 0, sizeof(*w));
}

void jsonw_release(struct jsonw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void jsonw_reset(struct jsonw *w)
{
	w->len = 0;
	w->depth = 0;
	w->need_comma[0] = false;
	w->after_key = false;
	w->oom = false;
}

static bool grow(struct jsonw *w, size_t n)
{
	size_t cap;
	char *b;

	if (w->oom)
		return false;
	cap = w->cap ? w->cap : 512;
	while (cap < w->len + n)
		cap *= 2;
	b = realloc(w->buf, cap);
	if (!b) {
		w->oom = true;
		return false;
	}
	w->buf = b;
	w->cap = cap;
	return true;
}

/* Make room for n more bytes. */
static inline bool reserve(struct jsonw *w, size_t n)
{
	return w->len + n <= w->cap || grow(w, n);
}

static void put(struct jsonw *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

/* A comma before every value or key but the first of its container. */
static void sep(struct jsonw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->need_comma[w->depth])
		put(w, ",", 1);
	w->need_comma[w->depth] = true;
}

static void open_c(struct jsonw *w, char c)
{
	sep(w);
	put(w, &c, 1);
	if (w->depth < JSONW_MAX_DEPTH - 1)
		w->depth++;
	w->need_comma[w->depth] = false;
}

static void close_c(struct jsonw *w, char c)
{
	put(w, &c, 1);
	if (w->depth > 0)
		w->depth--;
}

void jsonw_obj_open(struct jsonw *w)
{
	open_c(w, '{');
}

void jsonw_obj_close(struct jsonw *w)
{
	close_c(w, '}');
}

void jsonw_arr_open(struct jsonw *w)
{
	open_c(w, '[');
}

void jsonw_arr_close(struct jsonw *w)
{
	close_c(w, ']');
}

static void quoted(struct jsonw *w, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;
	char *o;

	/* worst case: every byte becomes \u00XX */
	if (!reserve(w, len * 6 + 2))
		return;
	o = w->buf + w->len;
	*o++ = '"';
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] < 0xa0) {
			/* C1 controls (U+0080..U+009F) are valid JSON as they
			 * are, but some terminals act on them: escape */
			memcpy(o, s + i - run, run);
			o += run;
			run = 0;
			c = (unsigned char)s[++i];
			*o++ = '\\';
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) {
			run++;
			continue;
		}
		memcpy(o, s + i - run, run);
		o += run;
		run = 0;
		*o++ = '\\';
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		default:
			/* DEL too: it is a control character on a terminal */
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	memcpy(o, s + i - run, run);
	o += run;
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
}

void jsonw_key(struct jsonw *w, const char *s, size_t len)
{
	sep(w);
	quoted(w, s, len);
	put(w, ":", 1);
	w->after_key = true;
}

void jsonw_key_raw(struct jsonw *w, const char *json, size_t len)
{
	sep(w);
	put(w, json, len);
	w->after_key = true;
}

void jsonw_str_plain(struct jsonw *w, const char *s, size_t len)
{
	sep(w);
	if (!reserve(w, len + 2))
		return;
	w->buf[w->len++] = '"';
	memcpy(w->buf + w->len, s, len);
	w->len += len;
	w->buf[w->len++] = '"';
}

void jsonw_str(struct jsonw *w, const char *s, size_t len)
{
	sep(w);
	quoted(w, s, len);
}

void jsonw_uint(struct jsonw *w, uint64_t v)
{
	sep(w);
	if (reserve(w, 21))
		w->len += flow_u64_str(v, w->buf + w->len);
}

const char *jsonw_buf(const struct jsonw *w, size_t *len)
{
	if (w->oom)
		return NULL;
	*len = w->len;
	return w->buf;
}
