/*
 * writer.c - one writer for both formats, driven by the field table.
 *
 * JSON (through jsonw): the writer orders the fields once so that every
 * object's members sit together, whatever the table's order; a record then
 * opens and closes objects by how many enclosing objects each field shares
 * with the one before it.
 * CSV: RFC 4180, header first, arrays joined with '|'.
 */
#include "writer.h"

#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "jsonw.h"
#include "utf8.h"

#define MAX_DEPTH 6

struct path {
	unsigned int depth;		/* number of components, leaf included */
	const char *comp[MAX_DEPTH];
	size_t len[MAX_DEPTH];
	char *key[MAX_DEPTH];		/* "comp": as JSON, made once */
	size_t keylen[MAX_DEPTH];
};

struct writer {
	FILE *out;
	enum writer_format fmt;
	bool flush_each;
	bool header_done;
	const struct field *rows;
	size_t nrows;
	int *fields;			/* rows to write, in writing order */
	int nfields;
	struct path *paths;		/* per row */
	uint8_t *shared;		/* [i * nrows + j]: objects rows i and j share */
	struct jsonw json;
	char fix[1024];			/* repaired UTF-8 */
};

static int path_split(const char *name, struct path *p)
{
	const char *s = name;

	p->depth = 0;
	for (;;) {
		size_t n = strcspn(s, ".");
		char *k = malloc(n + 4);

		if (!k)
			return -1;
		/* field names are plain ASCII: no escaping needed */
		k[0] = '"';
		memcpy(k + 1, s, n);
		memcpy(k + 1 + n, "\":", 2);
		p->key[p->depth] = k;
		p->keylen[p->depth] = n + 3;
		p->comp[p->depth] = s;
		p->len[p->depth] = n;
		p->depth++;
		if (!s[n] || p->depth == MAX_DEPTH)
			break;
		s += n + 1;
	}
	return 0;
}

/* How many enclosing objects rows i and j share. */
static unsigned int shared_objects(const struct writer *w, size_t i, size_t j)
{
	const struct path *a = &w->paths[i], *b = &w->paths[j];
	unsigned int k = 0;

	while (k + 1 < a->depth && k + 1 < b->depth && a->len[k] == b->len[k] &&
	       !memcmp(a->comp[k], b->comp[k], a->len[k]))
		k++;
	return k;
}

/* The JSON order: each field sorts by, for every object around it, where
 * that object's first member stands in the table order, then by its own
 * place.  So an object's members sit together, objects come where their
 * first member would, and a table already grouped keeps its order. */
struct order_key {
	int field;
	int rank[MAX_DEPTH];
	unsigned int n;
};

static int cmp_order(const void *a, const void *b)
{
	const struct order_key *x = a, *y = b;

	for (unsigned int k = 0; k < x->n && k < y->n; k++)
		if (x->rank[k] != y->rank[k])
			return x->rank[k] < y->rank[k] ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
}

static int json_order(struct writer *w)
{
	struct order_key *keys = calloc((size_t)w->nfields, sizeof(*keys));

	if (!keys)
		return -1;
	for (int i = 0; i < w->nfields; i++) {
		struct order_key *k = &keys[i];
		unsigned int depth = w->paths[w->fields[i]].depth;

		k->field = w->fields[i];
		for (unsigned int d = 0; d + 1 < depth; d++) {
			int first = i;

			/* the first field inside the same object at depth d */
			for (int j = 0; j < i; j++)
				if (shared_objects(w, (size_t)w->fields[j], (size_t)w->fields[i]) > d) {
					first = j;
					break;
				}
			k->rank[k->n++] = first;
		}
		k->rank[k->n++] = i;
	}
	qsort(keys, (size_t)w->nfields, sizeof(*keys), cmp_order);
	for (int i = 0; i < w->nfields; i++)
		w->fields[i] = keys[i].field;
	free(keys);
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

struct writer *writer_new_rows(FILE *out, enum writer_format fmt, const struct field *rows,
			       size_t nrows, const int *fields, int nfields)
{
	struct writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->out = out;
	w->fmt = fmt;
	w->rows = rows;
	w->nrows = nrows;
	w->nfields = fields && nfields > 0 ? nfields : (int)nrows;
	w->fields = calloc((size_t)w->nfields, sizeof(int));
	w->paths = calloc(nrows, sizeof(struct path));
	w->shared = calloc(nrows * nrows, 1);
	if (!w->fields || !w->paths || !w->shared)
		goto fail;
	if (fields && nfields > 0) {
		memcpy(w->fields, fields, (size_t)nfields * sizeof(int));
		if (fmt == WRITER_JSON) {
			/* JSON keeps the table's order, whatever order was
			 * asked, and each field once: a key twice is no JSON */
			int n = 0;

			qsort(w->fields, (size_t)nfields, sizeof(int), cmp_int);
			for (int i = 0; i < nfields; i++)
				if (!n || w->fields[n - 1] != w->fields[i])
					w->fields[n++] = w->fields[i];
			w->nfields = n;
		}
	} else {
		for (int i = 0; i < w->nfields; i++)
			w->fields[i] = i;
	}
	for (size_t i = 0; i < nrows; i++)
		if (path_split(rows[i].name, &w->paths[i]))
			goto fail;
	/* worked out once so that writing a record compares no strings */
	for (size_t i = 0; i < nrows; i++)
		for (size_t j = 0; j < nrows; j++)
			w->shared[i * nrows + j] = (uint8_t)shared_objects(w, i, j);
	if (fmt == WRITER_JSON && json_order(w))
		goto fail;
	jsonw_init(&w->json);
	return w;
fail:
	writer_free(w);
	return NULL;
}

struct writer *writer_new(FILE *out, enum writer_format fmt, const int *fields, int nfields)
{
	return writer_new_rows(out, fmt, field_table, field_count, fields, nfields);
}

void writer_free(struct writer *w)
{
	if (!w)
		return;
	jsonw_release(&w->json);
	free(w->fields);
	if (w->paths)
		for (size_t i = 0; i < w->nrows; i++)
			for (unsigned int d = 0; d < w->paths[i].depth; d++)
				free(w->paths[i].key[d]);
	free(w->paths);
	free(w->shared);
	free(w);
}

void writer_no_header(struct writer *w)
{
	w->header_done = true;
}

void writer_set_flush(struct writer *w, bool each_record)
{
	w->flush_each = each_record;
}

/* A string that is certainly valid UTF-8: the original, or a repaired copy. */
static const char *safe_utf8(struct writer *w, const char *s, size_t *len)
{
	if (utf8_valid(s, *len))
		return s;
	*len = utf8_repair(s, *len, w->fix, sizeof(w->fix));
	return w->fix;
}

static void json_str(struct writer *w, const char *s, size_t len)
{
	s = safe_utf8(w, s, &len);
	jsonw_str(&w->json, s, len);
}

static void json_value(struct writer *w, const struct field_value *v, bool external)
{
	switch (v->type) {
	case FIELD_STR:
		if (external)
			json_str(w, v->s, v->len);
		else
			jsonw_str_plain(&w->json, v->s, v->len);
		break;
	case FIELD_UINT:
		jsonw_uint(&w->json, v->u);
		break;
	case FIELD_LIST:
		jsonw_arr_open(&w->json);
		for (unsigned int i = 0; i < v->nlist; i++)
			jsonw_str_plain(&w->json, v->list[i], strlen(v->list[i]));
		jsonw_arr_close(&w->json);
		break;
	}
}

static int emit_line(struct writer *w, const void *buf, size_t len)
{
	if (fwrite(buf, 1, len, w->out) != len || putc('\n', w->out) == EOF)
		return -1;
	if (w->flush_each && fflush(w->out) == EOF)
		return -1;
	return 0;
}

static int write_json(struct writer *w, const struct flow *f)
{
	bool marker = flow_action_is_marker(f->action);
	int open = -1;			/* field whose objects are open */
	unsigned int depth = 0;		/* how many objects are open */
	struct field_value v;
	const char *buf;
	size_t len;

	jsonw_reset(&w->json);
	jsonw_obj_open(&w->json);
	for (int k = 0; k < w->nfields; k++) {
		int i = w->fields[k];
		const struct field *fd = &w->rows[i];
		const struct path *p = &w->paths[i];
		unsigned int same;

		if (marker && !(fd->flags & FIELD_F_MARKER))
			continue;
		if (!field_get(fd, f, &v))
			continue;
		/* keep the objects this field shares with the open path */
		same = open < 0 ? 0 : w->shared[(size_t)open * w->nrows + (size_t)i];
		for (; depth > same; depth--)
			jsonw_obj_close(&w->json);
		for (; depth < p->depth - 1; depth++) {
			jsonw_key_raw(&w->json, p->key[depth], p->keylen[depth]);
			jsonw_obj_open(&w->json);
		}
		open = i;
		jsonw_key_raw(&w->json, p->key[depth], p->keylen[depth]);
		json_value(w, &v, fd->flags & FIELD_F_EXTERNAL);
	}
	for (; depth > 0; depth--)
		jsonw_obj_close(&w->json);
	jsonw_obj_close(&w->json);
	buf = jsonw_buf(&w->json, &len);
	if (!buf)
		return -1;
	return emit_line(w, buf, len);
}

/* CSV goes out a character at a time: the _unlocked stdio calls (the
 * stream has one writer) keep that cheap. */

/* RFC 4180: quote a cell holding a comma or a quote; double quotes.  Control
 * characters (newlines too) become U+FFFD first, so that a record stays one
 * line and nothing raw reaches a terminal. */
static void csv_cell(struct writer *w, const char *s, size_t len)
{
	if (!utf8_clean_already(s, len)) {
		len = utf8_clean(s, len, w->fix, sizeof(w->fix));
		s = w->fix;
	}
	if (!memchr(s, ',', len) && !memchr(s, '"', len)) {
		fwrite_unlocked(s, 1, len, w->out);
		return;
	}
	putc_unlocked('"', w->out);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			putc_unlocked('"', w->out);
		putc_unlocked(s[i], w->out);
	}
	putc_unlocked('"', w->out);
}

static int write_csv(struct writer *w, const struct flow *f)
{
	bool marker = flow_action_is_marker(f->action);
	struct field_value v;

	if (!w->header_done) {
		for (int k = 0; k < w->nfields; k++) {
			if (k)
				putc_unlocked(',', w->out);
			fputs_unlocked(w->rows[w->fields[k]].name, w->out);
		}
		putc_unlocked('\n', w->out);
		w->header_done = true;
	}
	for (int k = 0; k < w->nfields; k++) {
		const struct field *fd = &w->rows[w->fields[k]];

		if (k)
			putc_unlocked(',', w->out);
		if ((marker && !(fd->flags & FIELD_F_MARKER)) || !field_get(fd, f, &v))
			continue;
		switch (v.type) {
		case FIELD_STR:
			csv_cell(w, v.s, v.len);
			break;
		case FIELD_UINT: {
			char num[24];

			fwrite_unlocked(num, 1, flow_u64_str(v.u, num), w->out);
			break;
		}
		case FIELD_LIST: {
			char buf[512];
			size_t n = 0;

			for (unsigned int j = 0; j < v.nlist; j++) {
				int r = snprintf(buf + n, sizeof(buf) - n, "%s%s", j ? "|" : "", v.list[j]);

				if (r < 0 || (size_t)r >= sizeof(buf) - n)
					break;
				n += (size_t)r;
			}
			csv_cell(w, buf, n);
			break;
		}
		}
	}
	return emit_line(w, "", 0);
}

int writer_write(struct writer *w, const struct flow *f)
{
	return w->fmt == WRITER_JSON ? write_json(w, f) : write_csv(w, f);
}

int writer_marker(struct writer *w, enum flow_action marker)
{
	struct flow f = { .action = (uint8_t)marker, .ts_ns = flow_now_ns() };

	return writer_write(w, &f);
}
