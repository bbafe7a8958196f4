/*
 * view_reader.c - the view's line parser: NDJSON and CSV, good and bad lines,
 * splitting across feeds, the line cap, deciding the format, JSON types; the
 * string pool's sanitizing and rollback, and what dropped records leave in
 * it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowtab.h"
#include "reader.h"
#include "strpool.h"
#include "tap.h"

static struct flow got[16];
static int ngot;

static void on_rec(void *ctx, struct flow *f)
{
	(void)ctx;
	if (ngot < 16)
		got[ngot] = *f;
	ngot++;
}

static struct reader *fresh(struct strpool *p)
{
	ngot = 0;
	return reader_new(on_rec, NULL, strpool_intern_cb, p);
}

static int nbad_calls;

static void count_bad(void *ctx)
{
	(void)ctx;
	nbad_calls++;
}

static int feed_str(struct reader *r, const char *s)
{
	return reader_feed(r, s, strlen(s));
}

/* The view's wiring (main.c): a record's strings are committed when the
 * table stores it, rolled back when it drops it or the line is bad. */
struct wired {
	struct flowtab t;
	struct strpool *p;
};

static void wired_rec(void *ctx, struct flow *f)
{
	struct wired *w = ctx;

	if (flowtab_apply(&w->t, f, 0))
		strpool_commit(w->p);
	else
		strpool_rollback(w->p);
}

static void wired_bad(void *ctx)
{
	strpool_rollback(ctx);
}

int main(void)
{
	struct strpool *p = strpool_new();
	struct reader *r = fresh(p);
	const struct reader_stats *st = reader_stats(r);
	char buf[256];
	const char *s;
	static const char full[] =
		"{\"@timestamp\":\"2026-11-29T14:10:30.123456Z\",\"event\":{\"action\":\"new\","
		"\"category\":[\"network\"]},\"network\":{\"type\":\"ipv4\",\"transport\":\"tcp\","
		"\"protocol\":\"https\"},\"source\":{\"ip\":\"192.0.2.10\",\"port\":41536,"
		"\"bytes\":1200,\"geo\":{\"country_iso_code\":\"NO\",\"city_name\":\"Oslo\"}},"
		"\"destination\":{\"ip\":\"140.82.121.4\",\"port\":443,\"bytes\":9332},"
		"\"process\":{\"pid\":11001,\"name\":\"chromium\"},\"unknown\":{\"x\":[1,{\"y\":2}]},"
		"\"conntrack\":{\"id\":3423401,\"state\":\"ESTABLISHED\","
		"\"status\":[\"SEEN_REPLY\",\"ASSURED\"]}}\n";

	/* one full record, fed one byte at a time */
	for (size_t i = 0; i < sizeof(full) - 1; i++)
		reader_feed(r, full + i, 1);
	ok(ngot == 1, "a record fed byte by byte arrives once");
	ok(reader_format(r) == READER_NDJSON, "NDJSON detected");
	ok(got[0].action == FLOW_NEW && got[0].id == 3423401, "action and id");
	ok(got[0].family == AF_INET && got[0].l4proto == 6, "family and transport");
	ok(got[0].orig.sport == 41536 && got[0].orig.dport == 443, "ports");
	ok(got[0].orig_bytes == 1200 && got[0].reply_bytes == 9332, "counters");
	is_str(got[0].process_name, "chromium", "process name");
	is_str(got[0].state, "ESTABLISHED", "state");
	is_str(got[0].src_geo.city_name, "Oslo", "city");
	ok(got[0].pid == 11001 && got[0].has & FLOW_HAS_PID, "pid");
	ok(got[0].has & FLOW_HAS_STATUS && got[0].status == ((1u << 1) | (1u << 2)),
	   "status list: SEEN_REPLY and ASSURED, nothing else (got %#x)", got[0].status);
	ok(st->bad == 0 && st->records == 1, "no bad line, one record");

	/* bad lines are counted, good ones around them survive */
	static const char mixed[] =
		"not json\n"
		"{\"event\":{\"action\":\"snapshot-begin\"}}\n"
		"[1,2,3]\n"
		"123\n"
		"{\"event\":{\"action\":\"new\"},\"conntrack\":{\"id\":1}}{\"a\":1}\n"
		"{\"event\":{\"action\":\"new\"},\"conntrack\":{\"id\":\"x\"}}\n"
		"{\"event\":{\"action\":\"new\"},\"source\":{\"port\":70000},\"conntrack\":{\"id\":2}}\n"
		"{\"event\":{\"action\":\"bogus\"},\"conntrack\":{\"id\":3}}\n"
		"{\"event\":{\"action\":\"new\"},\"conntrack\":{\"id\":4},\"process\":{\"name\":\"\xff\xfe\"}}\n"
		"{\"event\":{\"action\":\"new\"},\"conntrack\":{\"id\":5}\n"
		"{\"event\":{\"action\":\"new\"}}\n"
		"{\"event\":{\"action\":\"new\"},\"conntrack\":{\"status\":\"ASSURED\",\"id\":6}}\n"
		"{\"event\":{\"action\":\"new\"},\"source\":{\"ip\":[\"1.2.3.4\"]},\"conntrack\":{\"id\":7}}\n"
		"{\"event\":{\"action\":\"new\"},\"source\":{\"ip\":\"300.1.1.1\"},\"conntrack\":{\"id\":8}}\n"
		"{\"event\":{\"action\":\"new\"},\"conntrack\":{\"id\":9,\"state\":null},\"x\":true}\n"
		"\n   \n"
		"{\"event\":{\"action\":\"destroy\"},\"conntrack\":{\"id\":10}}\n";
	ngot = 0;
	reader_feed(r, mixed, sizeof(mixed) - 1);
	ok(ngot == 3, "three good records among the junk (got %d)", ngot);
	ok(ngot >= 3 && got[0].action == FLOW_MARK_SNAPSHOT_BEGIN && got[1].id == 9 &&
	   got[2].action == FLOW_DESTROY, "marker, null-valued field kept record, destroy");
	ok(st->bad == 13, "thirteen bad lines counted (got %llu)", (unsigned long long)st->bad);

	/* line cap: a huge line is skipped whole, the next one parses */
	{
		size_t n = READER_LINE_MAX + 100;
		char *big = malloc(n);

		memset(big, 'a', n);
		big[0] = '{';
		ngot = 0;
		reader_feed(r, big, n / 2);
		reader_feed(r, big + n / 2, n - n / 2);
		static const char next[] = "\n{\"event\":{\"action\":\"overrun\"}}\n";

		reader_feed(r, next, sizeof(next) - 1);
		ok(st->too_long == 1, "an over-long line is counted as too long");
		ok(ngot == 1 && got[0].action == FLOW_MARK_OVERRUN, "the line after it parses");
		free(big);
	}
	{
		static const char refresh[] = "{\"@timestamp\":\"2026-12-02T15:00:00.000000Z\","
			"\"event\":{\"action\":\"refresh\",\"dataset\":\"flowtop.marker\"}}\n";
		uint64_t bad = st->bad, markers = st->markers;

		ngot = 0;
		reader_feed(r, refresh, sizeof(refresh) - 1);
		ok(ngot == 1 && got[0].action == FLOW_MARK_REFRESH && st->markers == markers + 1 &&
		   st->bad == bad, "a refresh marker is a marker, not a bad line");
	}
	reader_free(r);

	/* CSV with a header, quoting, lists, markers, a quoted newline */
	r = fresh(p);
	st = reader_stats(r);
	static const char csv[] =
		"@timestamp,event.action,network.transport,source.ip,source.port,"
		"destination.ip,destination.port,process.name,conntrack.id,conntrack.status,x.unknown\r\n"
		"2026-11-29T14:10:30.000000Z,snapshot-begin,,,,,,,,,\n"
		"2026-11-29T14:10:30.100000Z,snapshot,tcp,10.0.0.1,1000,10.0.0.2,22,\"a,\"\"b\"\"\",42,SEEN_REPLY|ASSURED,zz\n"
		"2026-11-29T14:10:30.200000Z,snapshot,udp,fd99::1,53,fd99::2,5353,\"two\nlines\",43,,\n"
		"2026-11-29T14:10:30.300000Z,snapshot,tcp,10.0.0.1\n"
		"2026-11-29T14:10:30.300000Z,snapshot,tcp,10.0.0.1,x,10.0.0.2,22,,44,,\n"
		"2026-11-29T14:10:30.350000Z,snapshot,udp,fd99::1,53,fd99::2,5353,ok,45,,\n"
		"2026-11-29T14:10:30.400000Z,snapshot-end,,,,,,,,,\n";
	reader_feed(r, csv, sizeof(csv) - 1);
	ok(reader_format(r) == READER_CSV, "CSV detected");
	ok(ngot == 4, "CSV: two markers and two flows (got %d)", ngot);
	is_str(got[1].process_name, "a,\"b\"", "CSV quoting undone");
	ok(got[1].status == ((1u << 1) | (1u << 2)) && got[1].orig.dport == 22,
	   "CSV list (SEEN_REPLY|ASSURED, got %#x) and number", got[1].status);
	ok(ngot >= 3 && got[2].status == 0, "CSV: an empty list cell sets no status bit");
	ok(ngot >= 3 && got[2].id == 45 && got[2].family == AF_INET6,
	   "a newline ends a row even inside quotes: the row after it parses");
	ok(st->bad == 4, "both halves of the split row, the short row and the bad port "
	   "counted (got %llu)", (unsigned long long)st->bad);
	reader_free(r);

	/* one stray quote costs its own row, not the rest of the stream */
	r = fresh(p);
	st = reader_stats(r);
	nbad_calls = 0;
	reader_on_bad(r, count_bad);
	feed_str(r, "@timestamp,event.action,conntrack.id,process.name\n"
		 "2026-11-29T14:10:30.000000Z,new,1,one\n"
		 "2026-11-29T14:10:30.000000Z,new,2,\"unterminated\n"
		 "2026-11-29T14:10:30.000000Z,new,3,th\"ree\n"
		 "2026-11-29T14:10:30.000000Z,new,4,\"four\"x\n");
	for (int k = 5; k < 105; k++) {
		snprintf(buf, sizeof(buf), "2026-11-29T14:10:30.000000Z,new,%d,p%d\n", k, k);
		feed_str(r, buf);
	}
	ok(ngot == 101, "stray quotes: every good row after them arrives (got %d)", ngot);
	ok(st->bad == 3 && nbad_calls == 3, "the three broken rows counted, the bad-line hook "
	   "called for each (got %llu, %d)", (unsigned long long)st->bad, nbad_calls);
	reader_free(r);

	/* junk with a comma first does not lock the reader into CSV */
	r = fresh(p);
	st = reader_stats(r);
	feed_str(r, "hello, world\n"
		 "{garbage, \"with\": commas\n"
		 "\"quoted\",\"cells\"\n"
		 "{\"event\":{\"action\":\"new\"},\"conntrack\":{\"id\":7}}\n"
		 "{\"event\":{\"action\":\"new\"},\"conntrack\":{\"id\":8}}\n");
	ok(reader_format(r) == READER_NDJSON && ngot == 2 && got[1].id == 8,
	   "junk lines, then JSON: NDJSON, both records (got %d)", ngot);
	ok(st->bad == 3, "the three junk lines counted (got %llu)", (unsigned long long)st->bad);
	reader_free(r);
	r = fresh(p);
	st = reader_stats(r);
	feed_str(r, "x,y\n"
		 "{\"broken\":\n"
		 "@timestamp,event.action,conntrack.id\n"
		 "2026-11-29T14:10:30.000000Z,new,9\n");
	ok(reader_format(r) == READER_CSV && ngot == 1 && got[0].id == 9 && st->bad == 2,
	   "junk lines, then a CSV header: CSV (got %d records, %llu bad)", ngot,
	   (unsigned long long)st->bad);
	reader_free(r);
	r = fresh(p);
	feed_str(r, "{\"event\":{\"action\":\"new\"},\"conntrack\":{\"id\":\"x\"}}\n"
		 "@timestamp,event.action,conntrack.id\n");
	ok(reader_format(r) == READER_NDJSON,
	   "a JSON object decides NDJSON even when it is a bad record");
	reader_free(r);

	/* JSON types must be the field's: numbers as numbers, text as strings */
	r = fresh(p);
	st = reader_stats(r);
	feed_str(r, "{\"event\":{\"action\":\"new\"},\"source\":{\"port\":\"80\"},\"conntrack\":{\"id\":1}}\n"
		 "{\"event\":{\"action\":\"new\"},\"conntrack\":{\"id\":\"2\"}}\n"
		 "{\"event\":{\"action\":\"new\"},\"network\":{\"iana_number\":6},\"conntrack\":{\"id\":3}}\n"
		 "{\"event\":{\"action\":\"new\"},\"user\":{\"id\":1000},\"conntrack\":{\"id\":4}}\n"
		 "{\"event\":{\"action\":\"new\"},\"source\":{\"port\":80.0},\"conntrack\":{\"id\":5}}\n"
		 "{\"event\":{\"action\":\"new\"},\"source\":{\"port\":80},\"network\":{\"iana_number\":\"6\"},"
		 "\"user\":{\"id\":\"1000\"},\"conntrack\":{\"id\":6}}\n");
	ok(ngot == 1 && got[0].id == 6 && got[0].orig.sport == 80 && got[0].l4proto == 6 &&
	   got[0].uid == 1000, "the record with the right JSON types is read (got %d)", ngot);
	ok(st->bad == 5, "a number as a string, a string as a number, a float: bad lines "
	   "(got %llu)", (unsigned long long)st->bad);
	reader_free(r);

	/* the string pool makes strings safe */
	s = strpool_intern(p, "a\x1b[31mb\x07\xc2\x9b", 10);
	ok(!strchr(s, 0x1b) && !strchr(s, 0x07) && !strstr(s, "\xc2\x9b"),
	   "escape, bell and C1 CSI replaced");
	is_str(s, "a\xef\xbf\xbd[31mb\xef\xbf\xbd\xef\xbf\xbd", "replaced by U+FFFD");
	s = strpool_intern(p, "ok\xe2\x80\xae" "evil", 9);
	ok(!strstr(s, "\xe2\x80\xae"), "bidi override replaced");
	ok(strpool_intern(p, "same", 4) == strpool_intern(p, "same", 4), "interned once");
	s = strpool_intern(p, "\xf0\x9f\x98\x80\xf0\x9f", 6);
	is_str(s, "\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd", "valid emoji kept, torn one replaced");
	strpool_free(p);

	/* rollback forgets what came since the commit, across chunks and an
	 * index that grew, and keeps everything before it findable */
	{
		const char *kept[300];
		size_t count, bytes;
		bool same = true, fresh_again = true;

		p = strpool_new();
		for (int k = 0; k < 300; k++) {
			snprintf(buf, sizeof(buf), "kept-%d", k);
			kept[k] = strpool_intern(p, buf, strlen(buf));
		}
		strpool_commit(p);
		count = strpool_count(p);
		bytes = strpool_bytes(p);
		for (int k = 0; k < 5000; k++) {
			snprintf(buf, sizeof(buf), "gone-%d-%0200d", k, k);
			strpool_intern(p, buf, strlen(buf));
			strpool_intern(p, "kept-7", 6);
		}
		strpool_rollback(p);
		ok(strpool_count(p) == count, "rollback: count back to %zu (got %zu)", count,
		   strpool_count(p));
		for (int k = 0; k < 300; k++) {
			snprintf(buf, sizeof(buf), "kept-%d", k);
			same &= strpool_intern(p, buf, strlen(buf)) == kept[k];
		}
		ok(same && strpool_count(p) == count, "committed strings kept, same pointers");
		strpool_rollback(p);
		ok(strpool_bytes(p) - bytes < 5000 * 100,
		   "the rolled-back chunks are freed (index aside)");
		for (int k = 0; k < 50; k++) {
			snprintf(buf, sizeof(buf), "gone-%d-%0200d", k, k);
			fresh_again &= strpool_intern(p, buf, strlen(buf)) != NULL;
		}
		ok(fresh_again && strpool_count(p) == count + 50, "forgotten strings intern anew");
		strpool_free(p);
	}

	/* dropped flows and bad lines leave no strings in the view's pool */
	{
		struct wired w;
		size_t count;

		w.p = strpool_new();
		flowtab_init(&w.t, 1, 0);
		r = reader_new(wired_rec, &w, strpool_intern_cb, w.p);
		reader_on_bad(r, wired_bad);
		feed_str(r, "{\"event\":{\"action\":\"new\"},\"process\":{\"name\":\"first\"},"
			 "\"conntrack\":{\"id\":1}}\n");
		count = strpool_count(w.p);
		for (int k = 2; k < 1002; k++) {
			snprintf(buf, sizeof(buf), "{\"event\":{\"action\":\"new\"},\"process\":"
				 "{\"name\":\"dropped-%d\"},\"conntrack\":{\"id\":%d}}\n", k, k);
			feed_str(r, buf);
			snprintf(buf, sizeof(buf), "{\"event\":{\"action\":\"destroy\"},\"source\":"
				 "{\"domain\":\"unknown-%d\"},\"conntrack\":{\"id\":%d}}\n", k, k);
			feed_str(r, buf);
			snprintf(buf, sizeof(buf), "{\"event\":{\"action\":\"new\"},\"process\":"
				 "{\"name\":\"bad-%d\"},\"conntrack\":{\"id\":\"x\"}}\n", k);
			feed_str(r, buf);
		}
		ok(w.t.st.full == 1000 && reader_stats(r)->bad == 1000,
		   "1000 flows dropped at the cap, 1000 bad lines");
		ok(strpool_count(w.p) == count, "none of their strings stayed in the pool "
		   "(%zu strings, want %zu)", strpool_count(w.p), count);
		feed_str(r, "{\"event\":{\"action\":\"update\"},\"destination\":{\"domain\":\"kept\"},"
			 "\"conntrack\":{\"id\":1}}\n");
		ok(strpool_count(w.p) == count + 1 && flowtab_place(&w.t, &w.t.e[0], 1)->domain &&
		   !strcmp(flowtab_place(&w.t, &w.t.e[0], 1)->domain, "kept") &&
		   !strcmp(flowtab_owner(&w.t, &w.t.e[0])->name, "first"),
		   "a stored record keeps its strings");
		reader_free(r);
		flowtab_release(&w.t);
		strpool_free(w.p);
	}
	return tap_done();
}
