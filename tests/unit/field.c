/*
 * field.c - the field table's invariants: every row round-trips through the
 * JSON and CSV writers and the view's reader (list fields included), names
 * are unique and no name is also an object, rows describe their storage
 * truthfully, merge covers every stored row, the JSON writer
 * nests by path for any order of rows (checked for duplicate keys with a
 * parser), and the man page lists every field.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>

#include "field.h"
#include "reader.h"
#include "tap.h"
#include "writer.h"

/* --- strings the reader interns: freed at the end --------------------------- */

static char *interned[4096];
static int ninterned;

static const char *intern(void *ctx, const char *s, size_t len)
{
	(void)ctx;
	if (ninterned == 4096)
		return NULL;
	return interned[ninterned++] = strndup(s, len);
}

/* --- a flow with every field known ---------------------------------------- */

static char strings[128][48];

/* Fill every stored row generically, so that a new row is in the test
 * without an edit here; derived rows' members are set by hand. */
static struct flow full_flow(int family)
{
	struct flow f = { 0 };

	for (size_t i = 0; i < field_count; i++) {
		const struct field *fd = &field_table[i];
		char *p = (char *)&f + fd->off;
		uint64_t u = 1000 + i;

		if (fd->ops)
			continue;
		switch (fd->store) {
		case FIELD_AT_PTR: {
			const char *s = strings[i];

			snprintf(strings[i], sizeof(strings[i]), "%s-\xc3\xa9", fd->name);
			memcpy(p, &s, sizeof(s));
			break;
		}
		case FIELD_AT_INT:
		case FIELD_AT_DEC:
			if (fd->size == 1)
				u = 200 + i % 50;
			memcpy(p, &u, fd->size);	/* little-endian: the low bytes */
			break;
		case FIELD_AT_TIME:
			u = 1795961430123456000ull + i * 1000;
			memcpy(p, &u, 8);
			break;
		case FIELD_AT_ADDR:
			for (int b = 0; b < 16; b++)
				p[b] = (char)(i * 16 + (size_t)b + 1);
			if (family == AF_INET)
				memset(p + 4, 0, 12);
			break;
		case FIELD_AT_CHARS:
			memset(p, 'A' + (int)(i % 26), fd->size - 1u);
			p[fd->size - 1] = '\0';
			break;
		}
	}
	f.has = ~0u;
	f.action = FLOW_NEW;
	f.family = (uint8_t)family;
	f.l4proto = IPPROTO_TCP;
	f.status = (1u << 1) | (1u << 2) | (1u << 3);
	return f;
}

/* --- comparing rows --------------------------------------------------------- */

static bool same_value(const struct field_value *a, const struct field_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case FIELD_UINT:
		return a->u == b->u;
	case FIELD_STR:
		return a->len == b->len && !memcmp(a->s, b->s, a->len);
	case FIELD_LIST:
		if (a->nlist != b->nlist)
			return false;
		for (unsigned int k = 0; k < a->nlist; k++)
			if (strcmp(a->list[k], b->list[k]))
				return false;
		return true;
	}
	return false;
}

/* Rows where f and g differ, each named on a comment line. */
static int rows_differing(const struct flow *f, const struct flow *g, const char *what)
{
	struct field_value v, w;
	int bad = 0;

	for (size_t i = 0; i < field_count; i++) {
		bool a = field_get(&field_table[i], f, &v), b = field_get(&field_table[i], g, &w);

		if (a != b || (a && !same_value(&v, &w))) {
			printf("# %s: %s differs\n", what, field_table[i].name);
			bad++;
		}
	}
	return bad;
}

/* --- the round trip through writer and reader ------------------------------ */

static struct flow got;
static int ngot;

static void on_rec(void *ctx, struct flow *f)
{
	(void)ctx;
	got = *f;
	ngot++;
}

/* Write f with the real writer and read it back with the view's reader. */
static int through_stream(const struct flow *f, enum writer_format fmt, struct flow *out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct writer *w = writer_new(fp, fmt, NULL, 0);
	struct reader *r = reader_new(on_rec, NULL, intern, NULL);
	int rc;

	writer_write(w, f);
	writer_free(w);
	fclose(fp);
	ngot = 0;
	rc = reader_feed(r, buf, len);
	reader_finish(r);
	reader_free(r);
	free(buf);
	*out = got;
	return rc == 0 && ngot == 1 ? 0 : -1;
}

static void test_roundtrip(void)
{
	static const int fams[] = { AF_INET, AF_INET6 };

	for (int k = 0; k < 2; k++) {
		struct flow f = full_flow(fams[k]), g = { 0 };
		struct field_value v;
		int missing = 0, bad = 0;
		const char *fam = fams[k] == AF_INET ? "ipv4" : "ipv6";

		for (size_t i = 0; i < field_count; i++) {
			if (!field_get(&field_table[i], &f, &v)) {
				printf("# %s: not in the full flow\n", field_table[i].name);
				missing++;
				continue;
			}
			if (v.type == FIELD_LIST) {
				for (unsigned int n = 0; n < v.nlist; n++) {
					struct field_value e = { .type = FIELD_STR, .s = v.list[n],
								 .len = strlen(v.list[n]) };

					bad += field_set(&field_table[i], &g, &e, intern, NULL) != 0;
				}
			} else {
				bad += field_set(&field_table[i], &g, &v, intern, NULL) != 0;
			}
		}
		ok(missing == 0, "%s: every row is known in a flow that has everything", fam);
		g.has |= f.has & (FLOW_HAS_SRC_NAT | FLOW_HAS_DST_NAT);	/* derived, not read */
		ok(bad == 0 && rows_differing(&f, &g, "set") == 0,
		   "%s: every row, list rows too, reads back through field_set what field_get gave", fam);
		memset(&g, 0, sizeof(g));
		bad = through_stream(&f, WRITER_JSON, &g);
		g.has |= f.has & (FLOW_HAS_SRC_NAT | FLOW_HAS_DST_NAT);
		ok(bad == 0 && rows_differing(&f, &g, "json") == 0,
		   "%s: every row round-trips JSON writer -> view reader", fam);
		memset(&g, 0, sizeof(g));
		bad = through_stream(&f, WRITER_CSV, &g);
		g.has |= f.has & (FLOW_HAS_SRC_NAT | FLOW_HAS_DST_NAT);
		ok(bad == 0 && rows_differing(&f, &g, "csv") == 0,
		   "%s: every row round-trips CSV writer -> view reader", fam);
	}
}

/* --- the rows themselves ---------------------------------------------------- */

static void test_rows(void)
{
	int dup = 0, obj = 0, len = 0, store = 0, look = 0;

	for (size_t i = 0; i < field_count; i++) {
		const struct field *a = &field_table[i];
		size_t n = strlen(a->name);

		len += a->namelen != n;
		look += field_lookup(a->name, n) != (int)i;
		for (size_t j = 0; j < field_count; j++) {
			const char *b = field_table[j].name;

			if (j == i)
				continue;
			dup += !strcmp(a->name, b);
			/* "a.b" a value and "a.b.c" inside it: "b" twice */
			obj += !strncmp(a->name, b, n) && b[n] == '.';
		}
		if (a->ops)
			continue;
		switch (a->store) {
		case FIELD_AT_PTR:
			store += a->type != FIELD_STR || a->size != sizeof(char *);
			break;
		case FIELD_AT_INT:
			store += a->type != FIELD_UINT ||
				 (a->size != 1 && a->size != 2 && a->size != 4 && a->size != 8);
			break;
		case FIELD_AT_DEC:
			store += a->type != FIELD_STR ||
				 (a->size != 1 && a->size != 2 && a->size != 4 && a->size != 8);
			break;
		case FIELD_AT_TIME:
			store += a->type != FIELD_STR || a->size != 8;
			break;
		case FIELD_AT_ADDR:
			store += a->type != FIELD_STR || a->size != sizeof(union flow_addr);
			break;
		case FIELD_AT_CHARS:
			store += a->type != FIELD_STR || a->size < 2;
			break;
		default:
			store++;	/* no storage needs code */
		}
	}
	ok(dup == 0, "field names are unique");
	ok(obj == 0, "no field name is also an object of other fields");
	ok(len == 0 && look == 0, "every row's name length is right and field_lookup finds it");
	ok(store == 0, "every row's type and storage size agree");
	ok(field_lookup("source", 6) < 0 && field_lookup("source.ipx", 10) < 0 &&
	   field_lookup("source.i", 8) < 0 && field_lookup("source.ip\0", 10) < 0,
	   "field_lookup: exact names only");
}

/* --- merge ---------------------------------------------------- */

static void test_merge(void)
{
	struct flow f = full_flow(AF_INET6), d = { 0 }, none = { .action = FLOW_UPDATE };

	field_merge(&d, &f);
	ok(rows_differing(&f, &d, "merge") == 0, "merge into an empty flow copies every row");
	field_merge(&d, &none);
	d.action = f.action;
	ok(rows_differing(&f, &d, "merge") == 0, "merging a record that has nothing keeps every row");
}

/* --- JSON nesting for any order of rows ------------------------------------ */

/* A yajl pass that counts duplicate keys in any object and flattens the
 * document into sorted "path=value" lines. */
struct scan {
	char path[256];
	size_t mark[16];	/* path length at each open object */
	char *keys[16];		/* keys seen in each open object, "\n"-ended */
	int depth;
	int dups;
	char *flat;		/* the leaves, one a line */
	size_t flen;
};

static void leaf(struct scan *s, const char *v, size_t n)
{
	size_t need = s->flen + strlen(s->path) + n + 3;

	s->flat = realloc(s->flat, need);
	s->flen += (size_t)sprintf(s->flat + s->flen, "%s=%.*s\n", s->path, (int)n, v);
}

static int s_string(void *ctx, const unsigned char *v, size_t n)
{
	leaf(ctx, (const char *)v, n);
	return 1;
}

static int s_number(void *ctx, const char *v, size_t n)
{
	leaf(ctx, v, n);
	return 1;
}

static int s_start_map(void *ctx)
{
	struct scan *s = ctx;

	if (s->depth >= 15)
		return 0;
	s->mark[s->depth] = strlen(s->path);
	s->keys[s->depth] = strdup("\n");
	s->depth++;
	return 1;
}

static int s_key(void *ctx, const unsigned char *k, size_t n)
{
	struct scan *s = ctx;
	char *keys = s->keys[s->depth - 1], pat[80];
	size_t base = s->mark[s->depth - 1];

	snprintf(pat, sizeof(pat), "\n%.*s\n", (int)n, k);
	if (strstr(keys, pat))
		s->dups++;
	keys = realloc(keys, strlen(keys) + n + 2);
	sprintf(keys + strlen(keys), "%.*s\n", (int)n, k);
	s->keys[s->depth - 1] = keys;
	snprintf(s->path + base, sizeof(s->path) - base, "%s%.*s", base ? "." : "", (int)n, k);
	return 1;
}

static int s_end_map(void *ctx)
{
	struct scan *s = ctx;

	s->depth--;
	free(s->keys[s->depth]);
	s->path[s->mark[s->depth]] = '\0';
	return 1;
}

static const yajl_callbacks scan_cb = {
	.yajl_number = s_number,
	.yajl_string = s_string,
	.yajl_start_map = s_start_map,
	.yajl_map_key = s_key,
	.yajl_end_map = s_end_map,
};

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Duplicate keys in the JSON text; its leaves, sorted, into *flat. */
static int scan_json(const char *json, size_t len, char **flat)
{
	struct scan s = { .flat = strdup("") };
	yajl_handle h = yajl_alloc(&scan_cb, NULL, &s);
	char *lines[512], *p, *out;
	int n = 0;

	if (yajl_parse(h, (const unsigned char *)json, len) != yajl_status_ok ||
	    yajl_complete_parse(h) != yajl_status_ok)
		s.dups = 1000;
	yajl_free(h);
	while (s.depth > 0)
		free(s.keys[--s.depth]);
	for (p = strtok(s.flat, "\n"); p && n < 512; p = strtok(NULL, "\n"))
		lines[n++] = p;
	qsort(lines, (size_t)n, sizeof(lines[0]), cmp_line);
	out = calloc(1, s.flen + 1);
	for (int i = 0; i < n; i++)
		strcat(strcat(out, lines[i]), "\n");
	free(s.flat);
	*flat = out;
	return s.dups;
}

static char *render_rows(const struct field *rows, size_t n, const struct flow *f, size_t *len)
{
	char *buf = NULL;
	FILE *fp = open_memstream(&buf, len);
	struct writer *w = writer_new_rows(fp, WRITER_JSON, rows, n, NULL, 0);

	writer_write(w, f);
	writer_free(w);
	fclose(fp);
	return buf;
}

static unsigned int rnd_state = 12345;

static unsigned int rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

static void test_order(void)
{
	struct flow f = full_flow(AF_INET);
	struct field *rows = malloc((field_count + 1) * sizeof(*rows));
	size_t len, n = field_count;
	char *json = render_rows(field_table, n, &f, &len), *want, *flat, *s;
	int dups = scan_json(json, len, &want), bad_dups = 0, bad_leaves = 0;

	ok(dups == 0 && strstr(want, "source.ip=") && strstr(want, "conntrack.reply.source.port="),
	   "the table's own order: no duplicate key, every field present");
	free(json);
	memcpy(rows, field_table, n * sizeof(*rows));
	for (int round = 0; round < 200; round++) {
		/* round 0 reverses the table; the others shuffle it */
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = rnd() % (i + 1);
			struct field t = rows[i];

			rows[i] = rows[j];
			rows[j] = t;
		}
		if (round == 0)
			for (size_t i = 0; i < n; i++)
				rows[i] = field_table[n - 1 - i];
		json = render_rows(rows, n, &f, &len);
		bad_dups += scan_json(json, len, &flat) != 0;
		bad_leaves += strcmp(flat, want) != 0;
		free(json);
		free(flat);
	}
	ok(bad_dups == 0, "200 orders of the rows: no object key twice in the JSON");
	ok(bad_leaves == 0, "200 orders of the rows: the same fields and values");

	/* the case the issue met: a source.* field appended at the end */
	memcpy(rows, field_table, n * sizeof(*rows));
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].name, "network.protocol")) {
			rows[n] = rows[i];
			rows[n].name = "source.extra";
			rows[n].namelen = 12;
		}
	json = render_rows(rows, n + 1, &f, &len);
	dups = scan_json(json, len, &flat);
	s = strstr(json, "\"extra\":");
	ok(dups == 0 && s && s > strstr(json, "\"source\":{") && s < strstr(json, "\"destination\":{") &&
	   strstr(flat, "source.extra=network.protocol-"),
	   "a source.* row appended at the end joins the one source object");
	free(json);
	free(flat);
	free(want);
	free(rows);
}

/* --- the man page ------------------------------------------------------------ */

/* The emitter's --list-fields=man (what make puts in flowtop-emit.1) names
 * every row, in table order.  The emitter sits in the top directory, or in
 * B= when built out of tree: found from this binary's path. */
static void test_man(const char *argv0)
{
	char dir[512], cmd[1100], line[512];
	const char *slash = strrchr(argv0, '/');
	size_t next = 0;
	int bad = 0;
	FILE *p = NULL;

	snprintf(dir, sizeof(dir), "%.*s/..", slash ? (int)(slash - argv0) : 1, slash ? argv0 : ".");
	for (int up = 0; up < 2 && !p; up++) {
		snprintf(cmd, sizeof(cmd), "%s%s/flowtop-emit", dir, up ? "/.." : "");
		if (access(cmd, X_OK) == 0) {
			strcat(cmd, " --list-fields=man");
			p = popen(cmd, "r");
		}
	}
	if (!p) {
		printf("ok %d # skip no flowtop-emit built next to %s\n", ++tap_n, argv0);
		return;
	}
	while (fgets(line, sizeof(line), p)) {
		if (strncmp(line, ".B ", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (next >= field_count || strcmp(line + 3, field_table[next].name))
			bad++;
		next++;
	}
	ok(pclose(p) == 0 && bad == 0 && next == field_count,
	   "the man page's field list names every row, in order (%zu)", next);
}

int main(int argc, char **argv)
{
	(void)argc;
	test_rows();
	test_roundtrip();
	test_merge();
	test_order();
	test_man(argv[0]);
	while (ninterned)
		free(interned[--ninterned]);
	return tap_done();
}
