/*
 * view_reader_fuzz.c - libFuzzer target for the view's input path: bytes go
 * through the line reader into the flow table, get sorted and formatted, and
 * every formatted line must be free of control characters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flowtab.h"
#include "linefmt.h"
#include "reader.h"
#include "sorter.h"
#include "strpool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_rec(void *ctx, struct flow *f)
{
	flowtab_apply(ctx, f, 1);
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
	struct strpool *p = strpool_new();
	struct flowtab t;
	struct sorter s = { 0 };
	struct linefmt lf = { .counters = true };
	struct reader *r;
	char line[LINEFMT_MAX + 1], cut[LINEFMT_MAX + 1];
	size_t half = size / 2, cols;

	flowtab_init(&t, 1000, 1);
	r = reader_new(on_rec, &t, strpool_intern_cb, p);
	/* two feeds: a line split across reads must parse like a whole one */
	reader_feed(r, (const char *)data, half);
	reader_feed(r, (const char *)data + half, size - half);
	reader_finish(r);
	flowtab_expire(&t, 3);
	for (int k = 0; k < SORT_KEY_MAX; k++) {
		s.key = (enum sorter_key)k;
		s.reverse = k & 1;
		sorter_build(&s, &t);
		sorter_window(&s, (uint32_t)size % 5, 3);
		/* the window must match a full sort */
		{
			uint32_t w[3], m = s.n;

			for (uint32_t i = (uint32_t)size % 5; i < m && i < (uint32_t)size % 5 + 3; i++)
				w[i - (uint32_t)size % 5] = sorter_at(&s, i);
			sorter_run(&s, &t);
			for (uint32_t i = (uint32_t)size % 5; i < m && i < (uint32_t)size % 5 + 3; i++)
				if (w[i - (uint32_t)size % 5] != sorter_at(&s, i))
					abort();
		}
	}
	s.reverse = false;
	sorter_procs(&s, &t);
	lf.now_ns = t.now_ns;
	for (uint32_t i = 0; i < s.n; i++) {
		size_t n;

		lf.compact = i & 1;
		lf.numeric = i & 2;
		n = linefmt_flow(&lf, &t.e[sorter_at(&s, i)], line);
		check_line(line, n);
		n = linefmt_cut(line, n, i % 7, 40, i & 4, cut, &cols);
		check_line(cut, n);
	}
	for (uint32_t i = 0; i < s.nprocs; i++)
		check_line(line, linefmt_proc(&s.procs[i], &t, line));
	sorter_release(&s);
	reader_free(r);
	flowtab_release(&t);
	strpool_free(p);
	return 0;
}
