/*
 * reader.c - line splitting, and the NDJSON and CSV parsers behind it.
 *
 * JSON goes through yajl's callback parser: each key extends a dotted path
 * ("source" + "geo" + "city_name"), and each scalar is handed to the field
 * table's setter for that path.  Unknown paths are ignored so that newer
 * emitters (or other producers' extra fields) do not break the view; a known
 * field with a value of the wrong shape or JSON type ("port":"80") makes the
 * whole line bad, because half a flow is worse than none.
 */
#include "reader.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "hash.h"

#define PATH_MAX_LEN 128
#define DEPTH_MAX 16
#define CSV_COLS_MAX 256
/* room for the paths of a stream: a record has about 45, and the table
 * stays at most half full so that probes are short */
#define PATH_CACHE 512

struct path_slot {
	size_t len;		/* 0: free */
	int field;
	char path[PATH_MAX_LEN];
};

struct reader {
	reader_record_fn cb;
	void *ctx;
	field_intern_fn intern;
	void *ictx;
	reader_bad_fn on_bad;
	enum reader_format format;
	struct reader_stats st;

	/* line assembly */
	char *buf;
	size_t len, cap;
	bool discarding;	/* inside a line over the cap */

	/* JSON state for the current line */
	struct flow flow;
	char path[PATH_MAX_LEN + 1];
	size_t pathlen;
	bool path_bad;		/* too long: no field has such a path */
	size_t stack[DEPTH_MAX];
	uint64_t hstack[DEPTH_MAX];	/* path_hash at each stack entry */
	uint64_t path_hash;		/* of path[0..pathlen), kept as keys come:
					 * a key's hash seeded with its parent's */
	int action_field;		/* field_table index of event.action */
	int depth;
	int ignore;		/* depth of a subtree being skipped */
	int list_field;		/* field of the array being read, or -1 */
	bool in_array;
	bool got_action;

	/* CSV */
	int cols[CSV_COLS_MAX];
	size_t ncols;
	char *cell;		/* unquoting scratch, READER_LINE_MAX */
	struct path_slot pcache[PATH_CACHE];
	size_t npaths;		/* slots of pcache in use */
};

/* --- JSON ----------------------------------------------------------------- */

static int cur_field(struct reader *r)
{
	struct path_slot *c;

	if (r->path_bad || r->pathlen == 0)
		return -1;
	/* every record repeats the same few dozen paths: remember them, by a
	 * hash built key by key rather than over the whole path each time.
	 * Linear probing, never evicting: with one path a slot and no probing,
	 * two paths of one record took turns in a slot,
	 * and a field_lookup() or two a record was 1.4 % of the view's
	 * instructions.  Once half full (a stream of ever new paths), new
	 * paths are looked up every time.  Not lib's htab: a fixed cache
	 * whose slots hold the paths themselves, so a probe reads one slot
	 * and nothing is allocated or grown. */
	for (size_t i = (size_t)r->path_hash;; i++) {
		c = &r->pcache[i % PATH_CACHE];
		if (c->len == 0)
			break;
		if (c->len == r->pathlen && !memcmp(c->path, r->path, r->pathlen))
			return c->field;
	}
	if (r->npaths >= PATH_CACHE / 2)
		return field_lookup(r->path, r->pathlen);
	r->npaths++;
	c->len = r->pathlen;
	memcpy(c->path, r->path, r->pathlen);
	c->field = field_lookup(r->path, r->pathlen);
	return c->field;
}

static int set_value(struct reader *r, int fi, const struct field_value *v)
{
	if (field_set(&field_table[fi], &r->flow, v, r->intern, r->ictx))
		return 0;
	if (fi == r->action_field)
		r->got_action = true;
	return 1;
}

/* A scalar: 'v' is a string or number value, or NULL for null/boolean. */
static int scalar(struct reader *r, const struct field_value *v, bool is_null)
{
	int fi;

	if (r->ignore)
		return 1;
	if (r->depth == 0)
		return 0;		/* a bare value is not a record */
	if (r->in_array) {
		fi = r->list_field;
		if (fi < 0)
			return 1;
		if (!v || v->type != FIELD_STR)
			return 0;
		return set_value(r, fi, v);
	}
	fi = cur_field(r);
	if (fi < 0 || is_null)
		return 1;
	/* the JSON type must be the field's: the emitter writes numbers as
	 * numbers and ECS keywords ("iana_number":"6") as strings, and one
	 * rule for every producer beats guessing what "80" meant */
	if (!v || v->type != field_table[fi].type)
		return 0;
	return set_value(r, fi, v);
}

static int j_null(void *ctx)
{
	return scalar(ctx, NULL, true);
}

static int j_bool(void *ctx, int b)
{
	(void)b;
	return scalar(ctx, NULL, false);
}

static int j_number(void *ctx, const char *s, size_t len)
{
	struct field_value v = { .type = FIELD_UINT };

	if (len == 0 || len > 20)
		return scalar(ctx, NULL, false);
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9 || v.u > (UINT64_MAX - d) / 10)
			return scalar(ctx, NULL, false);
		v.u = v.u * 10 + d;
	}
	return scalar(ctx, &v, false);
}

static int j_string(void *ctx, const unsigned char *s, size_t len)
{
	struct field_value v = { .type = FIELD_STR, .s = (const char *)s, .len = len };

	return scalar(ctx, &v, false);
}

static int j_start_map(void *ctx)
{
	struct reader *r = ctx;

	if (r->ignore) {
		r->ignore++;
		return 1;
	}
	if (r->in_array) {
		if (r->list_field >= 0)
			return 0;
		r->ignore = 1;
		return 1;
	}
	if (r->depth >= DEPTH_MAX || cur_field(r) >= 0)
		return 0;	/* too deep, or an object where a value belongs */
	r->hstack[r->depth] = r->path_hash;
	r->stack[r->depth++] = r->pathlen;
	return 1;
}

static int j_map_key(void *ctx, const unsigned char *k, size_t len)
{
	struct reader *r = ctx;
	size_t base;

	if (r->ignore)
		return 1;
	base = r->stack[r->depth - 1];
	r->pathlen = base;
	if (r->path_bad && base <= PATH_MAX_LEN)
		r->path_bad = false;
	if (base + 1 + len > PATH_MAX_LEN) {
		r->path_bad = true;
		return 1;
	}
	if (base)
		r->path[r->pathlen++] = '.';
	r->path_hash = hash_bytes_seed(k, len, r->hstack[r->depth - 1]);
	memcpy(r->path + r->pathlen, k, len);
	r->pathlen += len;
	return 1;
}

static int j_end_map(void *ctx)
{
	struct reader *r = ctx;

	if (r->ignore) {
		r->ignore--;
		return 1;
	}
	r->pathlen = r->stack[--r->depth];
	r->path_hash = r->hstack[r->depth];
	return 1;
}

static int j_start_array(void *ctx)
{
	struct reader *r = ctx;
	int fi;

	if (r->ignore) {
		r->ignore++;
		return 1;
	}
	if (r->depth == 0)
		return 0;
	if (r->in_array) {
		if (r->list_field >= 0)
			return 0;
		r->ignore = 1;
		return 1;
	}
	fi = cur_field(r);
	if (fi >= 0 && field_table[fi].type != FIELD_LIST)
		return 0;
	r->in_array = true;
	r->list_field = fi;
	return 1;
}

static int j_end_array(void *ctx)
{
	struct reader *r = ctx;

	if (r->ignore) {
		r->ignore--;
		return 1;
	}
	r->in_array = false;
	r->list_field = -1;
	return 1;
}

static const yajl_callbacks json_callbacks = {
	.yajl_null = j_null,
	.yajl_boolean = j_bool,
	.yajl_number = j_number,
	.yajl_string = j_string,
	.yajl_start_map = j_start_map,
	.yajl_map_key = j_map_key,
	.yajl_end_map = j_end_map,
	.yajl_start_array = j_start_array,
	.yajl_end_array = j_end_array,
};

static void begin_record(struct reader *r)
{
	memset(&r->flow, 0, sizeof(r->flow));
	r->got_action = false;
}

/* Hand over a parsed record if it is one; false when it is not. */
static bool finish_record(struct reader *r)
{
	struct flow *f = &r->flow;

	if (!r->got_action)
		return false;
	if (flow_action_is_marker(f->action)) {
		r->st.markers++;
	} else {
		/* without an id or a tuple there is nothing to key it by */
		if (!(f->has & FLOW_HAS_ID) &&
		    (f->has & FLOW_HAS_TUPLE) != FLOW_HAS_TUPLE)
			return false;
		r->st.records++;
	}
	r->cb(r->ctx, f);
	return true;
}

static int json_line(struct reader *r, const char *line, size_t len)
{
	yajl_handle h;
	bool good;

	/* A fresh handle per line: yajl has no reset, and one bad line must
	 * not leave a half-read token to swallow the next. */
	h = yajl_alloc(&json_callbacks, NULL, r);
	if (!h)
		return -1;
	begin_record(r);
	r->pathlen = 0;
	r->path_hash = 0;
	r->path_bad = false;
	r->depth = 0;
	r->ignore = 0;
	r->in_array = false;
	r->list_field = -1;
	good = yajl_parse(h, (const unsigned char *)line, len) == yajl_status_ok &&
	       yajl_complete_parse(h) == yajl_status_ok;
	yajl_free(h);
	return good && finish_record(r) ? 0 : -1;
}

/* Whether the line is one well-formed JSON object, whatever its fields:
 * what decides that a stream is NDJSON. */
static bool json_object(const char *line, size_t len)
{
	yajl_handle h = yajl_alloc(NULL, NULL, NULL);
	bool good;

	if (!h)
		return false;
	good = yajl_parse(h, (const unsigned char *)line, len) == yajl_status_ok &&
	       yajl_complete_parse(h) == yajl_status_ok;
	yajl_free(h);
	return good;
}

/* --- CSV ------------------------------------------------------------------ */

/* Split the next RFC 4180 cell off line[*pos..len): unquoted into r->cell
 * when quoted.  Returns -1 on a malformed quote. */
static int csv_cell(struct reader *r, const char *line, size_t len, size_t *pos,
		    const char **cell, size_t *clen)
{
	size_t i = *pos, o = 0;

	if (i < len && line[i] == '"') {
		for (i++;; i++) {
			if (i >= len)
				return -1;
			if (line[i] == '"') {
				if (i + 1 < len && line[i + 1] == '"') {
					r->cell[o++] = '"';
					i++;
					continue;
				}
				i++;
				break;
			}
			r->cell[o++] = line[i];
		}
		if (i < len && line[i] != ',')
			return -1;
		*cell = r->cell;
		*clen = o;
	} else {
		const char *c = memchr(line + i, ',', len - i);
		size_t e = c ? (size_t)(c - line) : len;

		if (memchr(line + i, '"', e - i))
			return -1;
		*cell = line + i;
		*clen = e - i;
		i = e;
	}
	*pos = i + 1;		/* past the comma, or past the end */
	return 0;
}

/* Whether c[0..n) can be a column name: a dotted field path. */
static bool column_name(const char *c, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!c[i] || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@",
				     c[i]))
			return false;
	return true;
}

/* Read the line as the CSV header: column names only, event.action among
 * them (without it no row could be a record).  Columns that this view does
 * not know are kept and ignored, like unknown JSON fields.  -1 when the line
 * is no header, so that junk with a comma cannot make a stream CSV. */
static int csv_header(struct reader *r, const char *line, size_t len)
{
	size_t pos = 0;
	bool action = false;

	r->ncols = 0;
	while (pos <= len) {
		const char *c;
		size_t cl;

		if (r->ncols >= CSV_COLS_MAX || csv_cell(r, line, len, &pos, &c, &cl) ||
		    !column_name(c, cl))
			return -1;
		r->cols[r->ncols] = field_lookup(c, cl);
		if (r->cols[r->ncols] == r->action_field)
			action = true;
		r->ncols++;
	}
	return action ? 0 : -1;
}

static int csv_value(struct reader *r, int fi, const char *c, size_t cl)
{
	struct field_value v = { .type = FIELD_STR };

	if (field_table[fi].type != FIELD_LIST) {
		v.s = c;
		v.len = cl;
		return set_value(r, fi, &v) ? 0 : -1;
	}
	for (;;) {
		const char *bar = memchr(c, '|', cl);
		size_t n = bar ? (size_t)(bar - c) : cl;

		v.s = c;
		v.len = n;
		if (!set_value(r, fi, &v))
			return -1;
		if (!bar)
			return 0;
		c += n + 1;
		cl -= n + 1;
	}
}

static int csv_row(struct reader *r, const char *line, size_t len)
{
	size_t pos = 0, col = 0;

	begin_record(r);
	while (pos <= len) {
		const char *c;
		size_t cl;
		int fi;

		if (col >= r->ncols || csv_cell(r, line, len, &pos, &c, &cl))
			return -1;
		fi = r->cols[col++];
		if (fi >= 0 && cl > 0 && csv_value(r, fi, c, cl))
			return -1;
	}
	if (col != r->ncols)
		return -1;
	return finish_record(r) ? 0 : -1;
}

/* --- lines ---------------------------------------------------------------- */

static int bad_line(struct reader *r)
{
	r->st.bad++;
	if (r->on_bad)
		r->on_bad(r->ictx);
	return -1;
}

int reader_line(struct reader *r, const char *line, size_t len)
{
	size_t i = 0;

	if (len && line[len - 1] == '\r')
		len--;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len)
		return 1;
	r->st.lines++;
	if (r->format == READER_UNKNOWN) {
		/* junk before the stream proper decides nothing */
		if (line[i] == '{' && json_object(line, len)) {
			r->format = READER_NDJSON;
		} else if (line[i] != '{' && !csv_header(r, line, len)) {
			r->format = READER_CSV;
			return 0;
		} else {
			return bad_line(r);
		}
	}
	if (r->format == READER_NDJSON ? json_line(r, line, len) : csv_row(r, line, len))
		return bad_line(r);
	return 0;
}

/* Where the line starting at s ends: the index of its newline in s[0..n),
 * or n when it goes on. */
static size_t line_end(const char *s, size_t n)
{
	const char *nl = memchr(s, '\n', n);

	return nl ? (size_t)(nl - s) : n;
}

static int append(struct reader *r, const char *s, size_t n)
{
	if (r->len + n > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		char *b;

		while (cap < r->len + n)
			cap *= 2;
		if (!(b = realloc(r->buf, cap)))
			return -1;
		r->buf = b;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, s, n);
	r->len += n;
	return 0;
}

static void too_long(struct reader *r)
{
	r->st.lines++;
	r->st.too_long++;
	bad_line(r);
	r->discarding = true;
	r->len = 0;
}

int reader_feed(struct reader *r, const char *buf, size_t len)
{
	while (len) {
		size_t e = line_end(buf, len);
		bool whole = e < len;

		if (r->discarding) {
			if (whole)
				r->discarding = false;
		} else if (r->len + e > READER_LINE_MAX) {
			too_long(r);
			if (whole)
				r->discarding = false;
		} else if (whole && r->len == 0) {
			/* the common case: the line is all in buf */
			reader_line(r, buf, e);
		} else {
			if (append(r, buf, e)) {
				errno = ENOMEM;
				return -1;
			}
			if (whole) {
				reader_line(r, r->buf, r->len);
				r->len = 0;
			}
		}
		if (whole)
			e++;
		buf += e;
		len -= e;
	}
	return 0;
}

void reader_finish(struct reader *r)
{
	if (!r->discarding && r->len)
		reader_line(r, r->buf, r->len);
	r->len = 0;
	r->discarding = false;
}

struct reader *reader_new(reader_record_fn cb, void *ctx, field_intern_fn intern, void *ictx)
{
	struct reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (!(r->cell = malloc(READER_LINE_MAX))) {
		free(r);
		return NULL;
	}
	r->cb = cb;
	r->ctx = ctx;
	r->intern = intern;
	r->ictx = ictx;
	r->list_field = -1;
	r->action_field = field_lookup("event.action", strlen("event.action"));
	return r;
}

void reader_on_bad(struct reader *r, reader_bad_fn fn)
{
	r->on_bad = fn;
}

void reader_free(struct reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r->cell);
	free(r);
}

const struct reader_stats *reader_stats(const struct reader *r)
{
	return &r->st;
}

enum reader_format reader_format(const struct reader *r)
{
	return r->format;
}
