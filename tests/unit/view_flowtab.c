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
#include "flowmatch.h"
#include "procsum.h"
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
		if (flowtab_shown(t, i) && t->e[i].id == id)
			return (int)i;
	return -1;
}

static char *pool[16];
static int npool;

static const char *intern(void *ctx, const char *s, size_t len)
{
	(void)ctx;
	return npool < 16 ? (pool[npool++] = strndup(s, len)) : NULL;
}

/* The compact entry: what it costs, the strings it shares, the queue of
 * closed flows that expiry walks instead of the table. */
static void test_compact(void)
{
	struct flowtab t;
	struct flow f, u;
	const char *curl;
	uint32_t dst;
	int i, bad = 0;

	ok(sizeof(struct flowtab_entry) <= 112, "an entry is at most 112 bytes (%zu)",
	   sizeof(struct flowtab_entry));

	flowtab_init(&t, 0, 2000000000ull);
	for (uint32_t k = 0; k < 100; k++) {
		f = mk(FLOW_NEW, 10 + k, "10.0.0.1", "10.0.0.2", (uint16_t)(1000 + k), 443,
		       "ESTABLISHED");
		f.process_name = k % 2 ? "curl" : "wget";
		f.pid = 7;
		f.has |= FLOW_HAS_PID;
		f.protocol = "https";
		f.dst_domain = "example.org";
		f.dst_geo.country_name = "Norway";
		memcpy(f.dst_geo.country_iso, "NO", 3);
		flowtab_apply(&t, &f, 0);
	}
	i = find(&t, 10);
	ok(t.live == 100 && t.owners.live == 2 && t.places.live == 1 && t.names.live == 2,
	   "100 flows keep 2 owners, 1 place, 2 names (%u, %u, %u)", t.owners.live,
	   t.places.live, t.names.live);
	ok(i >= 0 && t.e[i].src == 0 && t.e[i].dst && t.e[i].dst == t.e[find(&t, 109)].dst &&
	   !strcmp(flowtab_place(&t, &t.e[i], 1)->country_iso, "NO"),
	   "an end without a name or place has none; equal ends share one");
	u = (struct flow){ .action = FLOW_UPDATE, .id = 10, .has = FLOW_HAS_ID,
			   .dst_domain = "other.example" };
	flowtab_apply(&t, &u, 0);
	ok(t.places.live == 2 && !strcmp(flowtab_place(&t, &t.e[i], 1)->domain, "other.example") &&
	   !strcmp(flowtab_place(&t, &t.e[i], 1)->country_name, "Norway"),
	   "a new name makes a place of its own, the geo merged into it");

	/* the string pool moves: every shared string follows, sharing holds */
	dst = t.e[find(&t, 11)].dst;
	i = flowtab_reintern(&t, intern, NULL);
	/* ESTABLISHED, https; two places of a name and a country; curl, wget */
	ok(i == 0 && npool == 8, "re-intern moves the strings of each shared record once (%d)",
	   npool);
	curl = flowtab_owner(&t, &t.e[find(&t, 11)])->name;
	for (uint32_t k = 0; k < 100; k++) {
		const struct flowtab_entry *e = &t.e[find(&t, 10 + k)];
		const char *want = k % 2 ? "curl" : "wget";

		bad += strcmp(flowtab_owner(&t, e)->name, want) != 0;
		bad += !strcmp(flowtab_owner(&t, e)->name, "curl") && flowtab_owner(&t, e)->name != curl;
	}
	ok(bad == 0 && curl != NULL && strcmp(curl, "curl") == 0, "the names read the same after");
	f = mk(FLOW_NEW, 500, "10.0.0.1", "10.0.0.2", 5000, 443,
	       flowtab_state(&t, &t.e[find(&t, 11)]));
	f.protocol = flowtab_protocol(&t, &t.e[find(&t, 11)]);
	f.dst_domain = flowtab_place(&t, &t.e[find(&t, 11)], 1)->domain;
	f.dst_geo.country_name = flowtab_place(&t, &t.e[find(&t, 11)], 1)->country_name;
	memcpy(f.dst_geo.country_iso, "NO", 3);
	flowtab_apply(&t, &f, 0);
	ok(t.e[find(&t, 500)].dst == dst && t.names.live == 2,
	   "a record with the new pool's strings finds the moved records");
	flowtab_release(&t);
	while (npool)
		free(pool[--npool]);

	/* closed flows expire in the order they closed, without a table walk */
	flowtab_init(&t, 0, 2000000000ull);
	for (uint32_t k = 0; k < 3; k++) {
		f = mk(FLOW_NEW, 20 + k, "10.0.0.1", "10.0.0.2", (uint16_t)(20 + k), 80, NULL);
		f.process_name = "p";
		flowtab_apply(&t, &f, 0);
	}
	for (uint32_t k = 0; k < 3; k++) {
		f = mk(FLOW_DESTROY, 20 + k, "10.0.0.1", "10.0.0.2", (uint16_t)(20 + k), 80, NULL);
		flowtab_apply(&t, &f, 1000000000ull + k * 500000000ull);
	}
	ok(t.nclosed == 3 && t.next_expiry == 3000000000ull, "three closed, the first due at 3 s");
	ok(flowtab_expire(&t, 3200000000ull) == 3500000000ull && t.live == 2 && find(&t, 20) < 0,
	   "at 3.2 s the first is gone, the next is due at 3.5 s");
	/* an id reused while its old flow lingers: the old flow's place in the
	 * queue must not expire the new one early */
	f = mk(FLOW_NEW, 21, "10.0.0.1", "10.0.0.2", 21, 80, NULL);
	flowtab_apply(&t, &f, 3300000000ull);
	f.action = FLOW_DESTROY;
	flowtab_apply(&t, &f, 3400000000ull);
	ok(flowtab_expire(&t, 4100000000ull) == 5400000000ull && find(&t, 21) >= 0 &&
	   find(&t, 22) < 0, "a reused id closes anew: due at 5.4 s, not at 3.5 s");
	ok(flowtab_expire(&t, 5400000000ull) == 0 && t.live == 0 && t.nclosed == 0 &&
	   t.next_expiry == 0, "all gone at 5.4 s, nothing waits");
	ok(t.owners.live == 0 && t.places.live == 0 && t.names.live == 0,
	   "no shared record outlives its flows");
	flowtab_release(&t);
}

/* Every user of a shared record is counted, and nothing else: the counts
 * equal the handles that entries hold (dead ones too, until released),
 * and, held, the records kept for frozen rows. */
static int shared_miscounts(const struct flowtab *t)
{
	const struct flowtab_shared *sh[4] = { &t->names, &t->places, &t->owners, &t->netns };
	int bad = 0;

	for (int k = 0; k < 4; k++) {
		uint32_t live = 0;

		for (uint32_t h = 1; h < sh[k]->n; h++) {
			uint32_t users = 0;

			for (uint32_t i = 0; i < t->n; i++) {
				const struct flowtab_entry *e = &t->e[i];

				if (!(e->flags & FT_LIVE))
					continue;
				if (k == 0)
					users += (e->state == h) + (e->protocol == h);
				else if (k == 1)
					users += (e->src == h) + (e->dst == h);
				else if (k == 2)
					users += e->owner == h;
				else
					users += e->netns == h;
			}
			for (uint32_t j = 0; j < sh[k]->nlater; j++)
				users += sh[k]->later[j] == h;
			bad += users != sh[k]->refs[h];
			live += users > 0;
		}
		bad += live != sh[k]->live;
	}
	return bad;
}

static char *rpool[4096];
static int nrpool;

static const char *rintern(void *ctx, const char *s, size_t len)
{
	(void)ctx;
	return nrpool < 4096 ? (rpool[nrpool++] = strndup(s, len)) : NULL;
}

/* Apply f as a record of namespace ino. */
static void apply_ns(struct flowtab *t, struct flow f, uint64_t ino, const char *name,
		     const char *cid, uint64_t mono)
{
	f.netns_ino = ino;
	f.netns_name = name;
	f.container_id = cid;
	flowtab_apply(t, &f, mono);
}

static const char *const CID = "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6abcd";

/* Namespaces: part of the key, shown, filtered, searched, grouped; a
 * resync of one namespace the way flowtop-emit writes it (no frame, its
 * lost flows as destroys) leaves the others' flows alone. */
static void test_netns(void)
{
	struct flowtab t;
	struct flow f;
	struct flowmatch m = { 0 };
	struct sorter s = { 0 };
	struct procsum ps = { 0 };
	struct linefmt lf = { .legend = true };
	char line[LINEFMT_MAX + 1];
	int a, b, p;

	flowtab_init(&t, 0, 2000000000ull);
	ok(!t.any_netns, "a new table names no namespace");
	flowtab_apply(&t, &(struct flow){ .action = FLOW_MARK_SNAPSHOT_BEGIN }, 0);
	/* the same id and tuple in two namespaces, and in the plain stream */
	f = mk(FLOW_SNAPSHOT, 7, "192.0.2.1", "198.51.100.1", 611, 443, "ESTABLISHED");
	f.process_name = "nginx";
	f.pid = 4242;
	f.has |= FLOW_HAS_PID;
	flowtab_apply(&t, &f, 0);
	ok(!t.any_netns, "a plain record names no namespace");
	apply_ns(&t, f, 101, NULL, CID, 0);
	apply_ns(&t, f, 102, "blue", NULL, 0);
	/* and by tuple alone (no id) */
	f = mk(FLOW_SNAPSHOT, 0, "192.0.2.2", "198.51.100.2", 622, 53, NULL);
	apply_ns(&t, f, 101, NULL, CID, 0);
	apply_ns(&t, f, 102, "blue", NULL, 0);
	flowtab_apply(&t, &(struct flow){ .action = FLOW_MARK_SNAPSHOT_END }, 0);
	ok(t.live == 5 && t.any_netns, "one tuple in two namespaces and none: separate flows (%u)",
	   t.live);
	ok(t.netns.live == 2, "two namespace records shared by four flows (%u)", t.netns.live);
	for (a = b = -1, p = 0; p < (int)t.n; p++)
		if (t.e[p].id == 7 && flowtab_netns(&t, &t.e[p])->ino == 101)
			a = p;
		else if (t.e[p].id == 7 && flowtab_netns(&t, &t.e[p])->ino == 102)
			b = p;
	ok(a >= 0 && b >= 0, "each id-7 flow has its namespace");
	if (a < 0 || b < 0)
		return;

	/* an update of one namespace's flow reaches that flow alone */
	f = mk(FLOW_UPDATE, 7, "192.0.2.1", "198.51.100.1", 611, 443, "FIN_WAIT");
	apply_ns(&t, f, 102, "blue", NULL, 0);
	ok(!strcmp(flowtab_state(&t, &t.e[b]), "FIN_WAIT") &&
	   !strcmp(flowtab_state(&t, &t.e[a]), "ESTABLISHED") && t.live == 5,
	   "an update of blue's flow leaves the container's alone");
	f = mk(FLOW_UPDATE, 0, "192.0.2.2", "198.51.100.2", 622, 53, NULL);
	f.protocol = "dns";
	apply_ns(&t, f, 101, NULL, CID, 0);
	ok(t.live == 5, "a tuple-keyed update finds its namespace's flow");

	/* linefmt: the namespace in front; the container's short id */
	lf.netns = true;
	linefmt_flow(&lf, &t, &t.e[a], line);
	is_str(line, "a1b2c3d4e5f6 [4242/nginx]:ipv4:tcp[ESTABLISHED]:443 -> 192.0.2.1:611 => "
	       "198.51.100.1:443", "a container's flow starts with its short id");
	linefmt_flow(&lf, &t, &t.e[b], line);
	ok(!strncmp(line, "blue [4242/nginx]", 17), "an ip-netns name: '%.20s'", line);
	linefmt_header(&lf, line);
	ok(!strncmp(line, "NETNS [PID", 10), "the heading names it: '%.12s'", line);
	lf.compact = true;
	linefmt_flow(&lf, &t, &t.e[b], line);
	ok(!strncmp(line, "blue         [4242/nginx]", 25), "compact: a column first: '%.26s'", line);
	lf.width = linefmt_compact_width(&lf);
	linefmt_flow(&lf, &t, &t.e[b], line);
	ok(strncmp(line, "blue", 4) && strlen(line) > 4 && !strcmp(line + strlen(line) - 5, " blue"),
	   "compact without room for it: the column goes last");
	lf.width = 80;
	linefmt_flow(&lf, &t, &t.e[b], line);
	ok(!strncmp(line, "[4242/nginx]", 12) && !strcmp(line + strlen(line) - 5, " blue"),
	   "narrow: last, the first to go");
	{
		struct flowtab_netns n = { .container_name = "web", .container_id = CID, .ino = 9 };
		char lb[32];

		linefmt_netns(&n, lb, sizeof(lb));
		ok(!strcmp(lb, "web"), "a container's name before its id");
		n.container_name = NULL;
		n.container_id = "web-machine";
		linefmt_netns(&n, lb, sizeof(lb));
		ok(!strcmp(lb, "web-machine"), "an id that is not hex is not shortened");
		n.container_id = NULL;
		linefmt_netns(&n, lb, sizeof(lb));
		ok(!strcmp(lb, "9"), "an unnamed namespace: its inode");
	}

	/* filter and search */
	m.netns = 102;
	sorter_run(&s, &t, &m);
	ok(s.n == 2 && flowtab_netns(&t, &t.e[sorter_at(&s, 0)])->ino == 102 &&
	   flowtab_netns(&t, &t.e[sorter_at(&s, 1)])->ino == 102, "the namespace filter");
	m.netns = 0;
	strcpy(m.search, "BLU");
	sorter_run(&s, &t, &m);
	ok(s.n == 2, "search matches the ip-netns name");
	strcpy(m.search, "c3d4e5");
	sorter_run(&s, &t, &m);
	ok(s.n == 2, "search matches the container id");
	m.search[0] = '\0';

	/* per process: nginx in each namespace is a row of its own */
	procsum_build(&ps, &t, NULL);
	ok(ps.n == 5, "process rows: nginx three times, bridged in two namespaces (%u)", ps.n);
	m.netns = 101;
	procsum_build(&ps, &t, &m);
	ok(ps.n == 2 && flowtab_netns_at(&t, ps.rows[0].netns)->ino == 101 &&
	   flowtab_netns_at(&t, ps.rows[1].netns)->ino == 101, "and filtered by namespace");
	m.netns = 0;
	linefmt_proc_header(&t, line);
	ok(strstr(line, "NETNS") != NULL, "the process heading has the namespace");
	{
		/* a process's flows in namespaces A, B, A: the third finds A's row */
		struct flowtab t2;
		struct procsum p2 = { 0 };

		flowtab_init(&t2, 0, 0);
		for (uint16_t k = 0; k < 3; k++) {
			f = mk(FLOW_SNAPSHOT, 20u + k, "192.0.2.1", "198.51.100.1", k, 443, "ESTABLISHED");
			f.process_name = "nginx";
			apply_ns(&t2, f, k == 1 ? 102 : 101, NULL, NULL, 0);
		}
		procsum_build(&p2, &t2, NULL);
		ok(p2.n == 2 && p2.rows[0].flows + p2.rows[1].flows == 3 &&
		   (p2.rows[0].flows == 2 || p2.rows[1].flows == 2),
		   "a namespace met again joins its row (%u rows)", p2.n);
		procsum_release(&p2);
		flowtab_release(&t2);
	}

	/* blue overruns: its resync has no frame, its lost flow a destroy;
	 * the container's flows and the plain one stay */
	flowtab_apply(&t, &(struct flow){ .action = FLOW_MARK_OVERRUN, .netns_ino = 102,
					  .netns_name = "blue" }, 0);
	f = mk(FLOW_SNAPSHOT, 0, "192.0.2.2", "198.51.100.2", 622, 53, NULL);
	apply_ns(&t, f, 102, "blue", NULL, 0);
	f = mk(FLOW_DESTROY, 7, "192.0.2.1", "198.51.100.1", 611, 443, "CLOSE");
	apply_ns(&t, f, 102, "blue", NULL, 1);
	ok(t.live == 5 && t.nclosed == 1 && t.e[b].flags & FT_CLOSED && !(t.e[a].flags & FT_CLOSED),
	   "a namespace's resync closes its lost flow alone");
	flowtab_expire(&t, 3000000000ull);
	ok(t.live == 4 && flowtab_shown(&t, (uint32_t)a), "it expires; the others stay");
	ok(shared_miscounts(&t) == 0, "namespace records count their users");
	/* ESTABLISHED, dns, nginx of each namespace (an owner is a process
	 * in its namespace); the container id, blue */
	p = flowtab_reintern(&t, intern, NULL);
	ok(p == 0 && npool == 6 &&
	   !strcmp(flowtab_netns(&t, &t.e[a])->container_id, CID),
	   "re-intern moves the namespace strings too (%d)", npool);
	/* a frame is the whole stream's: what it lacks goes, namespace or not */
	flowtab_apply(&t, &(struct flow){ .action = FLOW_MARK_SNAPSHOT_BEGIN }, 0);
	f = mk(FLOW_SNAPSHOT, 7, "192.0.2.1", "198.51.100.1", 611, 443, "ESTABLISHED");
	apply_ns(&t, f, 101, NULL, CID, 0);
	flowtab_apply(&t, &(struct flow){ .action = FLOW_MARK_SNAPSHOT_END }, 0);
	ok(t.live == 1 && flowtab_shown(&t, (uint32_t)a), "a frame is the whole stream's: what it lacks goes (%u)",
	   t.live);
	flowtab_release(&t);
	ok(t.netns.live == 0, "released");
	sorter_release(&s);
	procsum_release(&ps);
	while (npool)
		free(pool[--npool]);
}

/* Random records against the table's own invariants. */
static void test_random(void)
{
	static const char *const words[] = { "a", "b", "c", "ESTABLISHED", "CLOSE", NULL };
	struct flowtab t;
	unsigned int seed = 7;
	int bad_live = 0, bad_closed = 0, bad_shared = 0;
	uint64_t mono = 0;

	flowtab_init(&t, 40, 1000);
	flowtab_prefetch(&t, (const uint32_t[]){ 1, 2 }, 2);	/* empty: a hint, no harm */
	for (int step = 0; step < 4000; step++) {
		struct flow f;
		uint32_t id, shown = 0, closed = 0;
		unsigned int r;

		seed = seed * 1103515245u + 12345u;
		r = seed >> 8;
		id = 1 + r % 60;
		f = mk(r % 7 == 0 ? FLOW_DESTROY : r % 5 == 0 ? FLOW_NEW : FLOW_UPDATE, id,
		       "10.0.0.1", "10.0.0.2", (uint16_t)id, 80, words[r / 7 % 6]);
		f.process_name = words[r / 11 % 6];
		f.dst_domain = words[r / 13 % 6];
		f.src_geo.city_name = words[r / 17 % 6];
		f.protocol = words[r / 19 % 6];
		if (r / 23 % 2) {
			f.pid = r / 29 % 3;
			f.has |= FLOW_HAS_PID;
		}
		/* three namespaces, one of them the plain stream's none */
		f.netns_ino = r / 31 % 3;
		f.netns_name = f.netns_ino == 2 ? "blue" : NULL;
		if (r % 97 == 0)
			flowtab_apply(&t, &(struct flow){ .action = FLOW_MARK_SNAPSHOT_BEGIN }, mono);
		if (r % 89 == 0)
			flowtab_apply(&t, &(struct flow){ .action = FLOW_MARK_SNAPSHOT_END }, mono);
		if (r % 53 == 0)
			flowtab_hold(&t, !t.held);
		/* the hint before the record, as the screen gives it: it
		 * changes nothing the checks below see (and ASan watches it) */
		flowtab_prefetch(&t, (const uint32_t[]){ id, id + 60 }, 2);
		flowtab_apply(&t, &f, mono);
		mono += 100;
		flowtab_expire(&t, mono);
		if (r % 211 == 0) {
			flowtab_reintern(&t, rintern, NULL);
			/* records from the old pool's strings: new ones again */
		}
		for (uint32_t i = 0; i < t.n; i++) {
			shown += flowtab_shown(&t, i);
			closed += flowtab_shown(&t, i) && t.e[i].flags & FT_CLOSED;
		}
		bad_live += shown != t.live || t.live > 40;
		bad_closed += closed != t.nclosed;
		if (step % 50 == 0)
			bad_shared += shared_miscounts(&t);
	}
	flowtab_hold(&t, false);
	bad_shared += shared_miscounts(&t);
	ok(bad_live == 0, "random records: the live count is the shown entries, within the cap");
	ok(bad_closed == 0, "random records: the closed count is the closed entries");
	ok(bad_shared == 0, "random records: shared records count exactly their users");
	flowtab_release(&t);
	while (nrpool)
		free(rpool[--nrpool]);
}

/* Paused, the per-process rows stay as they were, and readable: a row's
 * owner and namespace stay whole though their last flow has moved on. */
static void test_held_rows(void)
{
	struct flowtab t;
	struct procsum ps = { 0 };
	struct flow f;
	char line[LINEFMT_MAX + 1];

	flowtab_init(&t, 0, 0);
	f = mk(FLOW_NEW, 1, "10.0.0.1", "10.0.0.2", 1, 80, NULL);
	f.process_name = "old";
	apply_ns(&t, f, 7, "blue", NULL, 0);
	procsum_build(&ps, &t, NULL);
	flowtab_hold(&t, true);
	f = mk(FLOW_UPDATE, 1, "10.0.0.1", "10.0.0.2", 1, 80, NULL);
	f.process_name = "new";
	apply_ns(&t, f, 7, "green", NULL, 0);
	linefmt_proc(&ps.rows[0], &t, line);
	ok(ps.n == 1 && !strcmp(procsum_name(&ps.rows[0], &t), "old") &&
	   !strcmp(flowtab_netns_at(&t, ps.rows[0].netns)->name, "blue") && strstr(line, "blue") &&
	   strstr(line, "old"), "held: a row still reads its owner and namespace: '%.40s'", line);
	ok(t.owners.live == 2 && shared_miscounts(&t) == 0, "which are kept, counted");
	flowtab_hold(&t, false);
	procsum_build(&ps, &t, NULL);
	ok(t.owners.live == 1 && t.netns.live == 1 && shared_miscounts(&t) == 0 && ps.n == 1 &&
	   !strcmp(procsum_name(&ps.rows[0], &t), "new"), "released: they go");
	flowtab_release(&t);
	procsum_release(&ps);
}

/* When the producer last found the table whole: snapshot-end and refresh
 * say so, an overrun or a flow does not. */
static void test_confirmed(void)
{
	struct flowtab t;
	struct flow f = mk(FLOW_SNAPSHOT, 5, "10.0.0.1", "10.0.0.2", 1000, 53, NULL);

	flowtab_init(&t, 4, 0);
	flowtab_apply(&t, &(struct flow){ .action = FLOW_MARK_SNAPSHOT_BEGIN }, 10);
	flowtab_apply(&t, &f, 11);
	ok(t.confirmed_mono == 0, "no confirmed time before a frame ends");
	flowtab_apply(&t, &(struct flow){ .action = FLOW_MARK_SNAPSHOT_END }, 12);
	ok(t.confirmed_mono == 12, "snapshot-end confirms the table");
	flowtab_apply(&t, &(struct flow){ .action = FLOW_MARK_OVERRUN }, 20);
	f.action = FLOW_UPDATE;
	flowtab_apply(&t, &f, 21);
	ok(t.confirmed_mono == 12, "an overrun or an update does not");
	flowtab_apply(&t, &(struct flow){ .action = FLOW_MARK_REFRESH }, 30);
	ok(t.confirmed_mono == 30 && t.st.refreshes == 1 && t.live == 1,
	   "a refresh marker does, and leaves the flows alone");
	flowtab_release(&t);
}

int main(void)
{
	struct flowtab t;
	struct flow f, u;
	struct sorter s = { 0 };
	struct flowmatch m = { 0 };
	struct procsum ps = { 0 };
	struct linefmt lf = { 0 };
	char line[LINEFMT_MAX + 1], out[LINEFMT_MAX + 1];
	size_t cols;
	int i;

	setlocale(LC_ALL, "C.UTF-8");
	test_confirmed();
	test_held_rows();
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
	ok(i >= 0 && !strcmp(flowtab_owner(&t, &t.e[i])->name, "curl") &&
	   flowtab_owner(&t, &t.e[i])->pid == 42, "update keeps the process it lacks");
	ok(i >= 0 && t.e[i].rank == 0 && t.e[i].orig_bytes == 100 &&
	   !strcmp(flowtab_state(&t, &t.e[i]), "ESTABLISHED"), "update merges state and bytes");
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
	ok(t.live == 1 && i >= 0 && t.e[i].orig.sport == 1000 && !(t.e[i].flags & FT_CLOSED),
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
		sorter_run(&s, &t, &m);
		ok(s.n == 7, "all seven sorted");
		for (unsigned k = 0; k < 7; k++)
			ok(t.e[sorter_at(&s, k)].rank == want[k], "position %u has rank %u (got %u)",
			   k, want[k], t.e[sorter_at(&s, k)].rank);
		s.reverse = true;
		sorter_run(&s, &t, &m);
		ok(t.e[sorter_at(&s, 0)].rank == 9, "reversed: stateless first");
		s.reverse = false;
		m.filter = FLOWMATCH_UDP;
		sorter_run(&s, &t, &m);
		ok(s.n == 1, "udp filter");
		m.filter = FLOWMATCH_V6;
		sorter_run(&s, &t, &m);
		ok(s.n == 0, "ipv6 filter");
		m.filter = 0;
		strcpy(m.search, "2003");
		sorter_run(&s, &t, &m);
		ok(s.n == 1 && t.e[sorter_at(&s, 0)].orig.sport == 2003, "search by port");
		strcpy(m.search, "10.0.0.9");
		sorter_run(&s, &t, &m);
		ok(s.n == 7, "search by address");
		m.search[0] = '\0';
		sorter_run(&s, &t, &m);
		procsum_build(&ps, &t, &m);
		ok(ps.n == 1 && ps.rows[0].flows == 7 && !procsum_name(&ps.rows[0], &t) &&
		   !ps.rows[0].counters, "process view: one bridged row of seven flows, no counters");
		m.filter = FLOWMATCH_V6;
		procsum_build(&ps, &t, &m);
		ok(ps.n == 0, "process view: filtered like the flows");
		procsum_release(&ps);
	}
	flowtab_release(&t);
	sorter_release(&s);

	/* byte totals past 2^64 saturate: 16 EiB sorts above 909 TiB */
	flowtab_init(&t, 0, 0);
	{
		struct sorter b = { .key = SORT_BYTES };
		struct procsum bp = { 0 };

		f = mk(FLOW_NEW, 1, "10.0.0.1", "10.0.0.2", 1, 80, NULL);
		f.has |= FLOW_HAS_COUNTERS;
		f.orig_bytes = f.reply_bytes = 1ull << 63;
		flowtab_apply(&t, &f, 0);
		f = mk(FLOW_NEW, 2, "10.0.0.3", "10.0.0.4", 1, 80, NULL);
		f.has |= FLOW_HAS_COUNTERS;
		f.orig_bytes = 909ull << 40;
		flowtab_apply(&t, &f, 0);
		sorter_run(&b, &t, NULL);
		ok(b.n == 2 && t.e[sorter_at(&b, 0)].id == 1, "--sort bytes: 16 EiB first");
		f = mk(FLOW_NEW, 3, "10.0.0.5", "10.0.0.6", 1, 80, NULL);
		f.has |= FLOW_HAS_COUNTERS;
		f.orig_bytes = 1ull << 63;
		flowtab_apply(&t, &f, 0);
		sorter_run(&b, &t, NULL);
		procsum_build(&bp, &t, NULL);
		ok(bp.n == 1 && bp.rows[0].sent == UINT64_MAX && bp.rows[0].recv == 1ull << 63 &&
		   bp.rows[0].counters, "per-process sums saturate too");
		sorter_release(&b);
		procsum_release(&bp);
	}
	flowtab_release(&t);

	/* the line: formatted from what the table keeps */
	flowtab_init(&t, 0, 0);
	{
		struct flowtab_entry *e;

		f = mk(FLOW_NEW, 1, "192.0.2.10", "140.82.121.4", 41536, 443, "ESTABLISHED");
		f.pid = 11001;
		f.has |= FLOW_HAS_PID;
		f.process_name = "chromium-browser";
		f.protocol = "https";
		f.src_domain = "host.example";
		f.dst_domain = "github.com";
		f.src_geo.country_name = "Norway";
		f.src_geo.city_name = "Oslo";
		f.dst_geo.country_name = "United States";
		flowtab_apply(&t, &f, 0);
		linefmt_flow(&lf, &t, &t.e[find(&t, 1)], line);
		is_str(line, "[11001/chromium-browser]:ipv4:tcp[ESTABLISHED]:https -> "
		       "host.example:41536 (Norway, Oslo) => github.com:443 (United States, N/A)",
		       "flowtop's line");
		lf.numeric = true;
		f.id = 2;
		f.has &= ~FLOW_HAS_PID;
		f.process_name = NULL;
		f.src_geo = (struct flow_geo){ 0 };
		flowtab_apply(&t, &f, 0);
		linefmt_flow(&lf, &t, &t.e[find(&t, 2)], line);
		is_str(line, "bridged(?):ipv4:tcp[ESTABLISHED]:https -> 192.0.2.10:41536 => "
		       "140.82.121.4:443 (United States, N/A)", "numeric, bridged, no geo");
		f = mk(FLOW_NEW, 3, "fd99::1", "fd99::2", 1, 53, NULL);
		flowtab_apply(&t, &f, 0);
		linefmt_flow(&lf, &t, &t.e[find(&t, 3)], line);
		is_str(line, "bridged(?):ipv6:udp:53 -> [fd99::1]:1 => [fd99::2]:53", "ipv6 in brackets");
		lf.counters = true;
		lf.now_ns = f.ts_ns + 61000000000ull;
		f.action = FLOW_UPDATE;
		f.has |= FLOW_HAS_COUNTERS;
		f.orig_bytes = 1500;
		f.reply_bytes = 20 << 20;
		flowtab_apply(&t, &f, 0);
		e = &t.e[find(&t, 3)];
		e->rate = 2048;
		e->rate_ms = (uint32_t)(lf.now_ns / 1000000u);
		linefmt_flow(&lf, &t, e, line);
		ok(!strncmp(line, "  1.5K    20M   2.0K/s   1m01  bridged", 38),
		   "counter columns: '%.40s'", line);
		lf.now_ns += SORTER_RATE_STALE_NS + 1000000u;
		linefmt_flow(&lf, &t, e, line);
		ok(!strncmp(line, "  1.5K    20M      0/s", 22), "a stale rate shows as 0: '%.24s'", line);
		lf = (struct linefmt){ 0 };
	}
	flowtab_release(&t);

	test_compact();
	test_random();
	test_netns();

	/* cutting by columns */
	linefmt_cut("abcdef", 6, 2, 3, true, out, &cols);
	is_str(out, "cde", "skip 2, width 3");
	linefmt_cut("a\xe4\xb8\xad\xe6\x96\x87z", 8, 0, 4, true, out, &cols);
	ok(!strcmp(out, "a\xe4\xb8\xad") && cols == 3, "a wide character is not split");
	linefmt_cut("\xc3\xa9t\xc3\xa9", 5, 0, 0, false, out, &cols);
	is_str(out, "?t?", "ASCII locale: non-ASCII shown as ?");
	return tap_done();
}
