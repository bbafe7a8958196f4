/*
 * view_flowtab.c - the flow table (merge, close, linger, mark-and-sweep, cap),
 * the sorter (state order, filters, search, per-process rows) and the line
 * formatter (flowtop's form, geo, cutting by columns).
 */
#include <arpa/inet.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "flowtab.h"
#include "linefmt.h"
#include "sorter.h"
#include "tap.h"

static struct flow mk(int action, uint32_t id, const char *src, const char *dst,
		      uint16_t sport, uint16_t dport, const char *state)
{
	struct flow f = { 0 };

	f.action = (uint8_t)action;
	f.ts_ns = 1000000000ull * 1000;
	if (id) {
		f.id = id;
		f.has |= FLOW_HAS_ID;
	}
	f.family = strchr(src, ':') ? AF_INET6 : AF_INET;
	inet_pton(f.family, src, &f.orig.src);
	inet_pton(f.family, dst, &f.orig.dst);
	f.l4proto = state ? IPPROTO_TCP : IPPROTO_UDP;
	f.orig.sport = sport;
	f.orig.dport = dport;
	f.has |= FLOW_HAS_TUPLE | FLOW_HAS_PORTS;
	f.state = state;
	return f;
}

static int find(const struct flowtab *t, uint32_t id)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (flowtab_shown(t, i) && t->e[i].f.id == id)
			return (int)i;
	return -1;
}

int main(void)
{
	struct flowtab t;
	struct flow f, u;
	struct sorter s = { 0 };
	struct linefmt lf = { 0 };
	char line[LINEFMT_MAX + 1], out[LINEFMT_MAX + 1];
	size_t cols;
	int i;

	setlocale(LC_ALL, "C.UTF-8");
	flowtab_init(&t, 4, 2000000000ull);

	/* insert, then an update that lacks fields keeps them */
	f = mk(FLOW_NEW, 1, "10.0.0.1", "10.0.0.2", 1000, 443, "SYN_SENT");
	f.process_name = "curl";
	f.pid = 42;
	f.has |= FLOW_HAS_PID;
	flowtab_apply(&t, &f, 0);
	u = (struct flow){ .action = FLOW_UPDATE, .id = 1, .has = FLOW_HAS_ID | FLOW_HAS_COUNTERS,
			   .state = "ESTABLISHED", .orig_bytes = 100, .reply_bytes = 900,
			   .ts_ns = f.ts_ns + 1000000000ull };
	flowtab_apply(&t, &u, 0);
	i = find(&t, 1);
	ok(i >= 0 && t.live == 1, "one flow");
	ok(i >= 0 && !strcmp(t.e[i].f.process_name, "curl") && t.e[i].f.pid == 42,
	   "update keeps the process it lacks");
	ok(i >= 0 && t.e[i].rank == 0 && t.e[i].f.orig_bytes == 100, "update merges state and bytes");
	u.orig_bytes = 1100;
	u.ts_ns += 2000000000ull;
	flowtab_apply(&t, &u, 0);
	ok(i >= 0 && t.e[i].rate == 500, "rate from two samples: 1000 B in 2 s (got %u)",
	   i >= 0 ? t.e[i].rate : 0);

	/* a flow without an id is keyed by its tuple */
	f = mk(FLOW_SNAPSHOT, 0, "fd99::1", "fd99::2", 5353, 53, NULL);
	flowtab_apply(&t, &f, 0);
	f.action = FLOW_UPDATE;
	f.protocol = "domain";
	flowtab_apply(&t, &f, 0);
	ok(t.live == 2, "tuple-keyed update finds its flow");

	/* destroy: closed and dimmed until the linger ends */
	f = mk(FLOW_DESTROY, 1, "10.0.0.1", "10.0.0.2", 1000, 443, NULL);
	f.l4proto = IPPROTO_TCP;	/* a destroy has no state, the tuple is the same */
	flowtab_apply(&t, &f, 5000000000ull);
	ok(t.live == 2 && t.e[i].flags & FT_CLOSED, "destroyed flow stays, closed");
	ok(flowtab_expire(&t, 6000000000ull) == 7000000000ull, "expiry due at linger end");
	ok(t.live == 2, "not gone before");
	flowtab_expire(&t, 7000000000ull);
	ok(t.live == 1 && find(&t, 1) < 0, "gone after the linger");
	ok(t.st.opened == 2 && t.st.closed == 1, "opened and closed counted");

	/* mark and sweep: a dump that lacks a flow removes it */
	f = mk(FLOW_NEW, 2, "10.0.0.1", "10.0.0.3", 1001, 80, "ESTABLISHED");
	flowtab_apply(&t, &f, 0);
	f = mk(FLOW_NEW, 3, "10.0.0.1", "10.0.0.4", 1002, 80, "ESTABLISHED");
	flowtab_apply(&t, &f, 0);
	ok(t.live == 3, "three flows before the dump");
	flowtab_apply(&t, &(struct flow){ .action = FLOW_MARK_SNAPSHOT_BEGIN }, 0);
	f = mk(FLOW_SNAPSHOT, 2, "10.0.0.1", "10.0.0.3", 1001, 80, "ESTABLISHED");
	flowtab_apply(&t, &f, 0);
	f = mk(FLOW_NEW, 5, "10.0.0.1", "10.0.0.5", 1003, 80, "ESTABLISHED");
	flowtab_apply(&t, &f, 0);
	flowtab_apply(&t, &(struct flow){ .action = FLOW_MARK_SNAPSHOT_END }, 0);
	ok(t.live == 2 && find(&t, 2) >= 0 && find(&t, 5) >= 0 && find(&t, 3) < 0,
	   "sweep drops flows missing from the dump, keeps those seen in the frame");

	/* cap */
	f = mk(FLOW_NEW, 6, "10.0.0.1", "10.0.0.6", 1, 1, NULL);
	flowtab_apply(&t, &f, 0);
	f = mk(FLOW_NEW, 7, "10.0.0.1", "10.0.0.7", 1, 1, NULL);
	flowtab_apply(&t, &f, 0);
	f = mk(FLOW_NEW, 8, "10.0.0.1", "10.0.0.8", 1, 1, NULL);
	flowtab_apply(&t, &f, 0);
	ok(t.live == 4 && t.st.full == 1, "the cap holds and counts drops");

	/* held: removal keeps the entry readable */
	flowtab_hold(&t, true);
	flowtab_apply(&t, &(struct flow){ .action = FLOW_MARK_SNAPSHOT_BEGIN }, 0);
	flowtab_apply(&t, &(struct flow){ .action = FLOW_MARK_SNAPSHOT_END }, 0);
	ok(t.live == 0 && t.ndead == 4, "empty dump while held: entries dead, not freed");
	flowtab_hold(&t, false);
	ok(t.ndead == 0, "released");
	flowtab_release(&t);

	/* two flows that share a conntrack id (a 32-bit hash) stay two rows */
	flowtab_init(&t, 0, 0);
	f = mk(FLOW_NEW, 77, "10.0.0.1", "10.0.0.2", 1000, 443, "ESTABLISHED");
	u = mk(FLOW_NEW, 77, "10.0.0.3", "10.0.0.4", 2000, 22, "ESTABLISHED");
	flowtab_apply(&t, &f, 0);
	flowtab_apply(&t, &u, 0);
	ok(t.live == 2, "same id, other tuple: two flows");
	u.action = FLOW_DESTROY;
	flowtab_apply(&t, &u, 0);
	i = find(&t, 77);
	ok(t.live == 1 && i >= 0 && t.e[i].f.orig.sport == 1000 && !(t.e[i].flags & FT_CLOSED),
	   "a destroy closes only its own");
	flowtab_release(&t);

	/* sort order on a fresh table */
	flowtab_init(&t, 0, 0);
	{
		static const char *const states[] = { NULL, "CLOSE", "TIME_WAIT", "SYN_SENT",
						      "ESTABLISHED", "FIN_WAIT", "LAST_ACK" };
		static const uint8_t want[] = { 0, 1, 3, 5, 6, 7, 9 };

		for (unsigned k = 0; k < 7; k++) {
			f = mk(FLOW_NEW, 100 + k, "10.0.0.1", "10.0.0.9", (uint16_t)(2000 + k), 80,
			       states[k]);
			flowtab_apply(&t, &f, 0);
		}
		sorter_run(&s, &t);
		ok(s.n == 7, "all seven sorted");
		for (unsigned k = 0; k < 7; k++)
			ok(t.e[s.items[k].idx].rank == want[k], "position %u has rank %u (got %u)",
			   k, want[k], t.e[s.items[k].idx].rank);
		s.reverse = true;
		sorter_run(&s, &t);
		ok(t.e[sorter_at(&s, 0)].rank == 9, "reversed: stateless first");
		s.reverse = false;
		s.filter = SORTER_UDP;
		sorter_run(&s, &t);
		ok(s.n == 1, "udp filter");
		s.filter = SORTER_V6;
		sorter_run(&s, &t);
		ok(s.n == 0, "ipv6 filter");
		s.filter = 0;
		strcpy(s.search, "2003");
		sorter_run(&s, &t);
		ok(s.n == 1 && t.e[sorter_at(&s, 0)].f.orig.sport == 2003, "search by port");
		strcpy(s.search, "10.0.0.9");
		sorter_run(&s, &t);
		ok(s.n == 7, "search by address");
		s.search[0] = '\0';
		sorter_run(&s, &t);
		sorter_procs(&s, &t);
		ok(s.nprocs == 1 && s.procs[0].flows == 7 && !sorter_proc_name(&s.procs[0], &t),
		   "process view: one bridged row of seven flows");
	}
	flowtab_release(&t);
	sorter_release(&s);

	/* byte totals past 2^64 saturate: 16 EiB sorts above 909 TiB */
	flowtab_init(&t, 0, 0);
	{
		struct sorter b = { .key = SORT_BYTES };

		f = mk(FLOW_NEW, 1, "10.0.0.1", "10.0.0.2", 1, 80, NULL);
		f.has |= FLOW_HAS_COUNTERS;
		f.orig_bytes = f.reply_bytes = 1ull << 63;
		flowtab_apply(&t, &f, 0);
		f = mk(FLOW_NEW, 2, "10.0.0.3", "10.0.0.4", 1, 80, NULL);
		f.has |= FLOW_HAS_COUNTERS;
		f.orig_bytes = 909ull << 40;
		flowtab_apply(&t, &f, 0);
		sorter_run(&b, &t);
		ok(b.n == 2 && t.e[sorter_at(&b, 0)].f.id == 1, "--sort bytes: 16 EiB first");
		f = mk(FLOW_NEW, 3, "10.0.0.5", "10.0.0.6", 1, 80, NULL);
		f.has |= FLOW_HAS_COUNTERS;
		f.orig_bytes = 1ull << 63;
		flowtab_apply(&t, &f, 0);
		sorter_run(&b, &t);
		sorter_procs(&b, &t);
		ok(b.nprocs == 1 && b.procs[0].sent == UINT64_MAX && b.procs[0].recv == 1ull << 63,
		   "per-process sums saturate too");
		sorter_release(&b);
	}
	flowtab_release(&t);

	/* the line */
	{
		struct flowtab_entry e = { 0 };

		e.f = mk(FLOW_NEW, 1, "192.0.2.10", "140.82.121.4", 41536, 443, "ESTABLISHED");
		e.f.pid = 11001;
		e.f.has |= FLOW_HAS_PID;
		e.f.process_name = "chromium-browser";
		e.f.protocol = "https";
		e.f.src_domain = "host.example";
		e.f.dst_domain = "github.com";
		e.f.src_geo.country_name = "Norway";
		e.f.src_geo.city_name = "Oslo";
		e.f.dst_geo.country_name = "United States";
		linefmt_flow(&lf, &e, line);
		is_str(line, "[11001/chromium-browser]:ipv4:tcp[ESTABLISHED]:https -> "
		       "host.example:41536 (Norway, Oslo) => github.com:443 (United States, N/A)",
		       "flowtop's line");
		lf.numeric = true;
		e.f.has &= ~FLOW_HAS_PID;
		e.f.process_name = NULL;
		e.f.src_geo = (struct flow_geo){ 0 };
		linefmt_flow(&lf, &e, line);
		is_str(line, "bridged(?):ipv4:tcp[ESTABLISHED]:https -> 192.0.2.10:41536 => "
		       "140.82.121.4:443 (United States, N/A)", "numeric, bridged, no geo");
		e.f = mk(FLOW_NEW, 1, "fd99::1", "fd99::2", 1, 53, NULL);
		linefmt_flow(&lf, &e, line);
		is_str(line, "bridged(?):ipv6:udp:53 -> [fd99::1]:1 => [fd99::2]:53", "ipv6 in brackets");
		lf.counters = true;
		lf.now_ns = e.f.ts_ns + 61000000000ull;
		e.first_ns = e.f.ts_ns;
		e.f.has |= FLOW_HAS_COUNTERS;
		e.f.orig_bytes = 1500;
		e.f.reply_bytes = 20 << 20;
		e.rate = 2048;
		e.rate_ts = lf.now_ns;
		linefmt_flow(&lf, &e, line);
		ok(!strncmp(line, "  1.5K    20M   2.0K/s   1m01  bridged", 38),
		   "counter columns: '%.40s'", line);
	}

	/* cutting by columns */
	linefmt_cut("abcdef", 6, 2, 3, true, out, &cols);
	is_str(out, "cde", "skip 2, width 3");
	linefmt_cut("a\xe4\xb8\xad\xe6\x96\x87z", 8, 0, 4, true, out, &cols);
	ok(!strcmp(out, "a\xe4\xb8\xad") && cols == 3, "a wide character is not split");
	linefmt_cut("\xc3\xa9t\xc3\xa9", 5, 0, 0, false, out, &cols);
	is_str(out, "?t?", "ASCII locale: non-ASCII shown as ?");
	return tap_done();
}
