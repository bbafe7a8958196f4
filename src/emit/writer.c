/*
 * writer.c - one writer for both formats, driven by field_table.
 *
 * JSON: the table lists nested fields contiguously, so objects are opened
 * and closed by comparing each written field's path with the open path.
 * CSV: RFC 4180, header first, arrays joined with '|'.
 */
#include "writer.h"

#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "field.h"
#include "utf8.h"

#define MAX_DEPTH 6

struct path {
	unsigned int depth;		/* number of components, leaf included */
	const char *comp[MAX_DEPTH];
	size_t len[MAX_DEPTH];
};

struct writer {
	FILE *out;
	enum writer_format fmt;
	bool flush_each;
	bool header_done;
	int *fields;
	int nfields;
	struct path *paths;		/* per field_table entry */
	yajl_gen gen;
	char fix[1024];			/* repaired UTF-8 */
};

static void path_split(const char *name, struct path *p)
{
	const char *s = name;

	p->depth = 0;
	for (;;) {
		size_t n = strcspn(s, ".");

		p->comp[p->depth] = s;
		p->len[p->depth] = n;
		p->depth++;
		if (!s[n] || p->depth == MAX_DEPTH)
			break;
		s += n + 1;
	}
}

struct writer *writer_new(FILE *out, enum writer_format fmt, const int *fields, int nfields)
{
	struct writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->out = out;
	w->fmt = fmt;
	w->nfields = fields && nfields > 0 ? nfields : (int)field_count;
	w->fields = calloc((size_t)w->nfields, sizeof(int));
	w->paths = calloc(field_count, sizeof(struct path));
	if (!w->fields || !w->paths)
		goto fail;
	if (fields && nfields > 0) {
		memcpy(w->fields, fields, (size_t)nfields * sizeof(int));
		if (fmt == WRITER_JSON) {
			/* JSON nests by table order, whatever order was asked */
			bool want[256] = { 0 };
			int n = 0;

			for (int i = 0; i < nfields; i++)
				want[fields[i]] = true;
			for (size_t i = 0; i < field_count; i++)
				if (want[i])
					w->fields[n++] = (int)i;
			w->nfields = n;
		}
	} else {
		for (int i = 0; i < w->nfields; i++)
			w->fields[i] = i;
	}
	for (size_t i = 0; i < field_count; i++)
		path_split(field_table[i].name, &w->paths[i]);
	if (fmt == WRITER_JSON) {
		w->gen = yajl_gen_alloc(NULL);
		if (!w->gen)
			goto fail;
		/* we repair UTF-8 ourselves; this is the safety net */
		yajl_gen_config(w->gen, yajl_gen_validate_utf8, 1);
	}
	return w;
fail:
	writer_free(w);
	return NULL;
}

void writer_free(struct writer *w)
{
	if (!w)
		return;
	if (w->gen)
		yajl_gen_free(w->gen);
	free(w->fields);
	free(w->paths);
	free(w);
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
	yajl_gen_string(w->gen, (const unsigned char *)s, len);
}

static void json_uint(struct writer *w, uint64_t u)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)u);

	yajl_gen_number(w->gen, buf, (size_t)n);
}

static void json_value(struct writer *w, const struct field_value *v)
{
	switch (v->type) {
	case FIELD_STR:
		json_str(w, v->s, v->len);
		break;
	case FIELD_UINT:
		json_uint(w, v->u);
		break;
	case FIELD_LIST:
		yajl_gen_array_open(w->gen);
		for (unsigned int i = 0; i < v->nlist; i++)
			json_str(w, v->list[i], strlen(v->list[i]));
		yajl_gen_array_close(w->gen);
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
	const struct path *open = NULL;	/* path whose objects are open */
	unsigned int depth = 0;		/* how many objects are open */
	struct field_value v;
	const unsigned char *buf;
	size_t len;
	int rc;

	yajl_gen_map_open(w->gen);
	for (int k = 0; k < w->nfields; k++) {
		int i = w->fields[k];
		const struct field *fd = &field_table[i];
		const struct path *p = &w->paths[i];
		unsigned int same = 0;

		if (marker && !(fd->flags & FIELD_F_MARKER))
			continue;
		if (!fd->get(f, &v))
			continue;
		/* keep the objects this field shares with the open path */
		while (open && same < depth && same < p->depth - 1 &&
		       p->len[same] == open->len[same] &&
		       !memcmp(p->comp[same], open->comp[same], p->len[same]))
			same++;
		for (; depth > same; depth--)
			yajl_gen_map_close(w->gen);
		for (; depth < p->depth - 1; depth++) {
			yajl_gen_string(w->gen, (const unsigned char *)p->comp[depth], p->len[depth]);
			yajl_gen_map_open(w->gen);
		}
		open = p;
		yajl_gen_string(w->gen, (const unsigned char *)p->comp[depth], p->len[depth]);
		json_value(w, &v);
	}
	for (; depth > 0; depth--)
		yajl_gen_map_close(w->gen);
	yajl_gen_map_close(w->gen);
	yajl_gen_get_buf(w->gen, &buf, &len);
	rc = emit_line(w, buf, len);
	yajl_gen_clear(w->gen);
	yajl_gen_reset(w->gen, NULL);
	return rc;
}

/* RFC 4180: quote a cell holding a comma, quote, CR or LF; double quotes. */
static void csv_cell(struct writer *w, const char *s, size_t len)
{
	s = safe_utf8(w, s, &len);
	if (!memchr(s, ',', len) && !memchr(s, '"', len) && !memchr(s, '\n', len) &&
	    !memchr(s, '\r', len)) {
		fwrite(s, 1, len, w->out);
		return;
	}
	putc('"', w->out);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			putc('"', w->out);
		putc(s[i], w->out);
	}
	putc('"', w->out);
}

static int write_csv(struct writer *w, const struct flow *f)
{
	bool marker = flow_action_is_marker(f->action);
	struct field_value v;

	if (!w->header_done) {
		for (int k = 0; k < w->nfields; k++) {
			if (k)
				putc(',', w->out);
			fputs(field_table[w->fields[k]].name, w->out);
		}
		putc('\n', w->out);
		w->header_done = true;
	}
	for (int k = 0; k < w->nfields; k++) {
		const struct field *fd = &field_table[w->fields[k]];

		if (k)
			putc(',', w->out);
		if ((marker && !(fd->flags & FIELD_F_MARKER)) || !fd->get(f, &v))
			continue;
		switch (v.type) {
		case FIELD_STR:
			csv_cell(w, v.s, v.len);
			break;
		case FIELD_UINT:
			fprintf(w->out, "%llu", (unsigned long long)v.u);
			break;
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
