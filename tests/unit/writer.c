/* Record encoding: JSON nesting and escaping, CSV header and quoting (the
 * field table's own invariants and round trips are in field.c). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "jsonw.h"
#include "tap.h"
#include "writer.h"

static struct flow sample(void)
{
	struct flow f = { 0 };

	f.action = FLOW_NEW;
	f.ts_ns = 1795961430123456000ull;	/* 2026-11-29T14:10:30.123456Z */
	f.family = AF_INET;
	f.l4proto = IPPROTO_TCP;
	inet_pton(AF_INET, "192.0.2.10", &f.orig.src);
	inet_pton(AF_INET, "140.82.121.4", &f.orig.dst);
	f.orig.sport = 41536;
	f.orig.dport = 443;
	f.reply.src = f.orig.dst;
	f.reply.dst = f.orig.src;
	f.reply.sport = 443;
	f.reply.dport = 41536;
	f.has = FLOW_HAS_TUPLE | FLOW_HAS_PORTS | FLOW_HAS_REPLY | FLOW_HAS_REPLY_PORTS |
		FLOW_HAS_ID | FLOW_HAS_STATUS;
	f.id = 3423401;
	f.state = "ESTABLISHED";
	f.status = (1u << 1) | (1u << 2) | (1u << 3);
	return f;
}

/* Run the writer over one flow and return its output (caller frees). */
static char *render(enum writer_format fmt, const struct flow *f, const int *fields, int n)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);
	struct writer *w = writer_new(fp, fmt, fields, n);

	writer_write(w, f);
	writer_free(w);
	fclose(fp);
	return out;
}

static void test_json(void)
{
	struct flow f = sample();
	char *s = render(WRITER_JSON, &f, NULL, 0);

	is_str(s,
	       "{\"@timestamp\":\"2026-11-29T14:10:30.123456Z\","
	       "\"event\":{\"action\":\"new\",\"kind\":\"event\",\"category\":[\"network\"],"
	       "\"type\":[\"connection\",\"start\"],\"dataset\":\"flowtop.flow\"},"
	       "\"network\":{\"type\":\"ipv4\",\"transport\":\"tcp\",\"iana_number\":\"6\"},"
	       "\"source\":{\"ip\":\"192.0.2.10\",\"port\":41536},"
	       "\"destination\":{\"ip\":\"140.82.121.4\",\"port\":443},"
	       "\"ecs\":{\"version\":\"9.4.0\"},"
	       "\"conntrack\":{\"id\":3423401,\"state\":\"ESTABLISHED\","
	       "\"status\":[\"SEEN_REPLY\",\"ASSURED\",\"CONFIRMED\"],"
	       "\"reply\":{\"source\":{\"ip\":\"140.82.121.4\",\"port\":443},"
	       "\"destination\":{\"ip\":\"192.0.2.10\",\"port\":41536}}}}\n",
	       "json: nesting follows the field table, unknown fields left out");
	free(s);

	/* NAT: a reply tuple that differs fills source.nat / destination.nat */
	inet_pton(AF_INET, "203.0.113.5", &f.reply.dst);
	f.reply.dport = 6000;
	flow_derive_nat(&f);
	s = render(WRITER_JSON, &f, NULL, 0);
	ok(strstr(s, "\"nat\":{\"ip\":\"203.0.113.5\",\"port\":6000}") != NULL, "json: source.nat from the reply tuple");
	ok(strstr(s, "\"destination\":{\"ip\":\"140.82.121.4\",\"port\":443},") != NULL, "json: no destination.nat without DNAT");
	free(s);
}

static void test_json_hostile(void)
{
	struct flow f = sample();
	char *s;

	f.process_name = "a\"b\\c\nd\x01\x7f\xff\xfe\xc2\x9b";
	f.has |= FLOW_HAS_PID;
	f.pid = 7;
	s = render(WRITER_JSON, &f, NULL, 0);
	ok(strstr(s, "\"process\":{\"pid\":7,\"name\":\"a\\\"b\\\\c\\nd\\u0001\\u007f\xef\xbf\xbd\xef\xbf\xbd\\u009b\"}") != NULL,
	   "json: quotes, backslash, newline, C0, DEL and C1 escaped; invalid UTF-8 replaced");
	ok(strchr(s, '\n') == s + strlen(s) - 1, "json: one line per record");
	free(s);
}

static void test_markers(void)
{
	struct flow f = { .action = FLOW_MARK_SNAPSHOT_BEGIN, .ts_ns = 1795961430123456000ull };
	char *s = render(WRITER_JSON, &f, NULL, 0);

	is_str(s, "{\"@timestamp\":\"2026-11-29T14:10:30.123456Z\","
	       "\"event\":{\"action\":\"snapshot-begin\",\"dataset\":\"flowtop.marker\"},"
	       "\"ecs\":{\"version\":\"9.4.0\"}}\n",
	       "json: a marker carries only @timestamp, event.action, event.dataset and ecs.version");
	free(s);
	f.action = FLOW_MARK_OVERRUN;
	s = render(WRITER_CSV, &f, (int[]){ 0, 1, field_lookup("source.ip", 9) }, 3);
	is_str(s, "@timestamp,event.action,source.ip\n2026-11-29T14:10:30.123456Z,overrun,\n",
	       "csv: a marker row has only @timestamp and event.action");
	free(s);
}

static void test_csv(void)
{
	struct flow f = sample();
	int fields[4];
	size_t bad;
	int n = field_parse_list("source.ip,process.name,conntrack.status,source.port", fields, 4, &bad);
	char *s;

	ok(n == 4, "csv: --fields list parsed");
	f.process_name = "x,\"y\"\nz\x1b[2J\xc2\x9b";
	s = render(WRITER_CSV, &f, fields, n);
	is_str(s, "source.ip,process.name,conntrack.status,source.port\n"
		  "192.0.2.10,\"x,\"\"y\"\"\xef\xbf\xbdz\xef\xbf\xbd[2J\xef\xbf\xbd\",SEEN_REPLY|ASSURED|CONFIRMED,41536\n",
	       "csv: header first, RFC 4180 quoting, arrays joined with |, controls replaced, one line");
	free(s);
	n = field_parse_list("source.ip,nope", fields, 4, &bad);
	ok(n == -1 && bad == 10, "csv: unknown field name refused with its offset");
	s = render(WRITER_CSV, &f, NULL, 0);
	{
		char *nl = strchr(s, '\n');
		size_t commas_h = 0, commas_r = 0;

		for (char *p = s; p < nl; p++)
			commas_h += *p == ',';
		/* the quoted name holds a comma and a newline; count outside quotes */
		for (char *p = nl + 1, q = 0; *p; p++) {
			if (*p == '"')
				q = !q;
			else if (*p == ',' && !q)
				commas_r++;
		}
		ok(commas_h == field_count - 1 && commas_r == commas_h, "csv: every row has the header's width");
	}
	free(s);
}

static void test_jsonw(void)
{
	struct jsonw w;
	size_t len;
	const char *b;

	jsonw_init(&w);
	jsonw_obj_open(&w);
	jsonw_key(&w, "a", 1);
	jsonw_arr_open(&w);
	jsonw_uint(&w, 0);
	jsonw_uint(&w, 18446744073709551615ull);
	jsonw_str(&w, "\t", 1);
	jsonw_arr_close(&w);
	jsonw_key(&w, "b", 1);
	jsonw_obj_open(&w);
	jsonw_obj_close(&w);
	jsonw_obj_close(&w);
	b = jsonw_buf(&w, &len);
	ok(len == strlen("{\"a\":[0,18446744073709551615,\"\\t\"],\"b\":{}}") &&
	   !memcmp(b, "{\"a\":[0,18446744073709551615,\"\\t\"],\"b\":{}}", len),
	   "jsonw: commas, nesting, u64 max, escapes");
	jsonw_reset(&w);
	jsonw_str(&w, "", 0);
	b = jsonw_buf(&w, &len);
	ok(len == 2 && !memcmp(b, "\"\"", 2), "jsonw: empty string after reset");
	jsonw_release(&w);
}

int main(void)
{
	test_json();
	test_json_hostile();
	test_markers();
	test_csv();
	test_jsonw();
	return tap_done();
}
