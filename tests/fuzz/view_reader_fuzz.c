/*
 * view_reader_fuzz.c - libFuzzer target for the view's input path: bytes go
 * through the line reader into the flow table (with the view's string pool
 * commit and rollback), get sorted and formatted, and every formatted line
 * must be free of control characters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flowtab.h"
#include "linefmt.h"
#include "reader.h"
#include "procsum.h"
#include "sorter.h"
#include "strpool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_ctx {
	struct flowtab t;
	struct strpool *p;
};

/* as flowtop-view wires them: the strings of a dropped record or a bad
 * line are rolled back */
static void on_rec(void *ctx, struct flow *f)
{
	struct fuzz_ctx *c = ctx;

	if (flowtab_apply(&c->t, f, 1))
		strpool_commit(c->p);
	else
		strpool_rollback(c->p);
}

static void on_bad(void *ctx)
{
	strpool_rollback(ctx);
}

/* A string the table holds must still be the pool's: a rollback that took
 * it would make the same text intern elsewhere. */
static void check_pooled(struct strpool *p, const char *s)
{
	if (s && strpool_intern(p, s, strlen(s)) != s)
		abort();
}

static void check_line(const char *s, size_t n)
{
	if (strlen(s) != n)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || (c == 0xc2 && i + 1 < n &&
					      (unsigned char)s[i + 1] >= 0x80 &&
					      (unsigned char)s[i + 1] <= 0x9f))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_ctx c;
	struct strpool *p = c.p = strpool_new();
	struct flowtab *tp = &c.t;
	struct sorter s = { 0 };
	struct procsum ps = { 0 };
	struct linefmt lf = { .counters = true };
	struct reader *r;
	char line[LINEFMT_MAX + 1], cut[LINEFMT_MAX + 1];
	size_t half = size / 2, cols;

	/* a small cap, so that dropped flows are fuzzed too */
	flowtab_init(tp, 50, 1);
	r = reader_new(on_rec, &c, strpool_intern_cb, p);
	reader_on_bad(r, on_bad);
	/* two feeds: a line split across reads must parse like a whole one */
	reader_feed(r, (const char *)data, half);
	reader_feed(r, (const char *)data + half, size - half);
	reader_finish(r);
	flowtab_expire(tp, 3);
	for (int k = 0; k < SORT_KEY_MAX; k++) {
		s.key = (enum sorter_key)k;
		s.reverse = k & 1;
		sorter_build(&s, tp, NULL);
		sorter_window(&s, (uint32_t)size % 5, 3);
		/* the window must match a full sort */
		{
			uint32_t w[3], m = s.n;

			for (uint32_t i = (uint32_t)size % 5; i < m && i < (uint32_t)size % 5 + 3; i++)
				w[i - (uint32_t)size % 5] = sorter_at(&s, i);
			sorter_run(&s, tp, NULL);
			for (uint32_t i = (uint32_t)size % 5; i < m && i < (uint32_t)size % 5 + 3; i++)
				if (w[i - (uint32_t)size % 5] != sorter_at(&s, i))
					abort();
		}
	}
	s.reverse = false;
	procsum_build(&ps, tp, NULL);
	lf.now_ns = tp->now_ns;
	for (uint32_t i = 0; i < s.n; i++) {
		size_t n;

		lf.compact = i & 1;
		lf.numeric = i & 2;
		lf.width = i & 8 ? 80 : 0;	/* the narrow compact layout too */
		n = linefmt_flow(&lf, tp, &tp->e[sorter_at(&s, i)], line);
		check_line(line, n);
		n = linefmt_cut(line, n, i % 7, 40, i & 4, cut, &cols);
		check_line(cut, n);
	}
	for (uint32_t i = 0; i < ps.n; i++)
		check_line(line, linefmt_proc(&ps.rows[i], tp, line));
	for (uint32_t i = 0; i < tp->n; i++) {
		struct flow f;

		if (!flowtab_shown(tp, i))
			continue;
		flowtab_flow(tp, &tp->e[i], &f);
		check_pooled(p, f.state);
		check_pooled(p, f.protocol);
		check_pooled(p, f.src_domain);
		check_pooled(p, f.dst_domain);
		check_pooled(p, f.process_name);
		check_pooled(p, f.src_geo.country_name);
		check_pooled(p, f.src_geo.city_name);
		check_pooled(p, f.dst_geo.country_name);
		check_pooled(p, f.dst_geo.city_name);
	}
	sorter_release(&s);
	procsum_release(&ps);
	reader_free(r);
	flowtab_release(tp);
	strpool_free(p);
	return 0;
}
