/*
 * view_reader.c - the view's line parser: NDJSON and CSV, good and bad lines,
 * splitting across feeds, the line cap, and the string pool's sanitizing.
 */
#include <stdlib.h>
#include <string.h>

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
	ok(got[0].has & FLOW_HAS_STATUS && got[0].status, "status list");
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
		"2026-11-29T14:10:30.400000Z,snapshot-end,,,,,,,,,\n";
	reader_feed(r, csv, sizeof(csv) - 1);
	ok(reader_format(r) == READER_CSV, "CSV detected");
	ok(ngot == 4, "CSV: two markers and two flows (got %d)", ngot);
	is_str(got[1].process_name, "a,\"b\"", "CSV quoting undone");
	ok(got[1].status != 0 && got[1].orig.dport == 22, "CSV list and number");
	ok(got[2].family == AF_INET6 && got[2].process_name &&
	   strstr(got[2].process_name, "lines"), "a quoted newline stays in its cell");
	ok(st->bad == 2, "short row and bad port counted (got %llu)", (unsigned long long)st->bad);
	reader_free(r);

	/* the string pool makes strings safe */
	s = strpool_intern(p, "a\x1b[31mb\x07\xc2\x9b", 10);
	ok(!strchr(s, 0x1b) && !strchr(s, 0x07) && !strstr(s, "\xc2\x9b"),
	   "escape, bell and C1 CSI replaced");
	is_str(s, "a\xef\xbf\xbd[31mb\xef\xbf\xbd\xef\xbf\xbd", "replaced by U+FFFD");
	s = strpool_intern(p, "ok\xe2\x80\xae" "evil", 9);
	ok(!strstr(s, "\xe2\x80\xae"), "bidi override replaced");
	ok(strpool_intern(p, "same", 4) == strpool_intern(p, "same", 4), "interned once");
	strpool_sanitize("\xf0\x9f\x98\x80\xf0\x9f", 6, buf, sizeof(buf));
	is_str(buf, "\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd", "valid emoji kept, torn one replaced");
	strpool_free(p);
	return tap_done();
}
