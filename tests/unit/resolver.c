/*
 * resolver.c - reverse DNS: the hosts file first and at once, one query per
 * address, the answers and their caching (name, NXDOMAIN, SERVFAIL, no
 * answer), hostile and malformed answers, waiting flows, the in-flight
 * bound, the queue's bound, the caches' bounds (least recently used name,
 * oldest NXDOMAIN out), and changed hosts and resolv.conf files.
 *
 * The test moves itself into a private network and mount namespace and
 * bind-mounts its own /etc/hosts and /etc/resolv.conf there, as
 * `ip netns exec` does.  The name servers are two UDP sockets of this
 * process on the namespace's loopback (127.0.0.1 and 127.0.0.2), which the
 * test reads and answers by hand, so it sees every question the resolver
 * asks and decides each answer; nothing leaves the namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "resolver.h"
#include "tap.h"
#include "utf8.h"

static char dir[] = "/tmp/flowtop-resolver.XXXXXX";
static char hosts_path[64], resolv_path[64];

/* ---- helpers ---------------------------------------------------------------- */

static union flow_addr addr(const char *ip, int *family)
{
	union flow_addr a;

	memset(&a, 0, sizeof(a));
	*family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	inet_pton(*family, ip, &a);
	return a;
}

static const char *look_w(struct resolver *r, const char *ip, const struct flow_key *w)
{
	int family;
	union flow_addr a = addr(ip, &family);

	return resolver_lookup(r, family, &a, w);
}

static const char *look(struct resolver *r, const char *ip)
{
	return look_w(r, ip, NULL);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Rewrite in place: the bind mount keeps pointing at the same inode. */
static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* ---- a name server answered by hand ------------------------------------------ */

enum answer { A_NAME, A_NX, A_SERVFAIL, A_DROP, A_RAW };

struct question {
	uint8_t msg[512];
	size_t len, qend;	/* qend: end of the question section */
	char qname[256];
};

static int ns_fd[2];
static int (*decide)(const struct question *q, char *name, size_t len, uint32_t *ttl);
static unsigned int nquestions[2];
static char last_qname[256];

/* The first question's name as text. */
static int read_question(struct question *q)
{
	size_t p = 12, n = 0;

	if (q->len < 17)
		return -1;
	while (p < q->len && q->msg[p]) {
		unsigned int l = q->msg[p];

		if (p + 1 + l > q->len || n + l + 2 > sizeof(q->qname))
			return -1;
		if (n)
			q->qname[n++] = '.';
		memcpy(q->qname + n, q->msg + p + 1, l);
		n += l;
		p += 1 + l;
	}
	q->qname[n] = '\0';
	q->qend = p + 1 + 4;
	return q->qend <= q->len ? 0 : -1;
}

/* name "a.b" -> wire labels at out; returns the length */
static size_t put_name(uint8_t *out, const char *name)
{
	size_t n = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		out[n++] = (uint8_t)l;
		memcpy(out + n, name, l);
		n += l;
		name += l + (dot ? 1 : 0);
	}
	out[n++] = 0;
	return n;
}

/* Answer one question on server s as decide() says. */
static void serve_one(int s)
{
	struct question q;
	struct sockaddr_storage peer;
	socklen_t pl = sizeof(peer);
	uint8_t out[1024];
	char name[600];
	uint32_t ttl = 300;
	ssize_t n = recvfrom(ns_fd[s], q.msg, sizeof(q.msg), 0, (struct sockaddr *)&peer, &pl);
	size_t len;
	int what;

	if (n <= 0)
		return;
	q.len = (size_t)n;
	if (read_question(&q) < 0)
		return;
	nquestions[s]++;
	snprintf(last_qname, sizeof(last_qname), "%s", q.qname);
	name[0] = '\0';
	what = decide(&q, name, sizeof(name), &ttl);
	if (what == A_DROP)
		return;
	memcpy(out, q.msg, q.qend);
	out[2] = 0x84 | (q.msg[2] & 1);		/* QR, AA, RD as asked */
	out[3] = 0x80 | (what == A_NX ? 3 : what == A_SERVFAIL ? 2 : 0);
	out[6] = out[7] = out[8] = out[9] = out[10] = out[11] = 0;
	len = q.qend;
	if (what == A_NAME || what == A_RAW) {
		uint8_t rd[600];
		size_t rdlen;

		if (what == A_NAME) {
			rdlen = put_name(rd, name);
		} else {		/* name holds the wire bytes, first byte the length */
			rdlen = (uint8_t)name[0];
			memcpy(rd, name + 1, rdlen);
		}
		out[7] = 1;
		out[len++] = 0xc0;		/* the question's name */
		out[len++] = 12;
		out[len++] = 0;
		out[len++] = 12;		/* PTR */
		out[len++] = 0;
		out[len++] = 1;			/* IN */
		out[len++] = (uint8_t)(ttl >> 24);
		out[len++] = (uint8_t)(ttl >> 16);
		out[len++] = (uint8_t)(ttl >> 8);
		out[len++] = (uint8_t)ttl;
		out[len++] = (uint8_t)(rdlen >> 8);
		out[len++] = (uint8_t)rdlen;
		memcpy(out + len, rd, rdlen);
		len += rdlen;
	}
	sendto(ns_fd[s], out, len, 0, (struct sockaddr *)&peer, pl);
}

/* Run the resolver and the servers for ms milliseconds, or until the
 * resolver has nothing pending when until_idle. */
static void run(struct resolver *r, int ms, bool until_idle)
{
	double end = now_ms() + ms;

	for (;;) {
		struct pollfd p[3] = {
			{ resolver_fd(r), POLLIN, 0 }, { ns_fd[0], POLLIN, 0 }, { ns_fd[1], POLLIN, 0 },
		};
		double left = end - now_ms();
		int t = resolver_timeout_ms(r);

		if (left <= 0 || (until_idle && !resolver_busy(r)))
			break;
		if (t < 0 || t > left)
			t = (int)left + 1;
		poll(p, 3, t);
		for (int s = 0; s < 2; s++)
			if (p[1 + s].revents & POLLIN)
				for (int i = 0; i < 64; i++) {
					int avail = 0;

					serve_one(s);
					if (ioctl(ns_fd[s], FIONREAD, &avail) < 0 || avail == 0)
						break;
				}
		resolver_drain(r);
	}
}

/* The address a reverse name asks about: "4.3.2.1.in-addr.arpa" -> 1.2.3.4 */
static bool q_is(const struct question *q, const char *ip)
{
	unsigned int a, b, c, d;
	char want[32];

	if (sscanf(ip, "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
		return false;
	snprintf(want, sizeof(want), "%u.%u.%u.%u.in-addr.arpa", d, c, b, a);
	return !strcasecmp(q->qname, want);
}

static unsigned int last_octet(const struct question *q)
{
	return (unsigned int)atoi(q->qname);
}

/* ---- the namespace ------------------------------------------------------------- */

static int lo_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc;

	if (s < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	rc = ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (rc == 0)
		rc = ioctl(s, SIOCSIFFLAGS, &ifr);
	close(s);
	return rc;
}

static int server_socket(const char *ip)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(53) };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	/* room for every query in flight, so that none is lost to a full
	 * socket when the cache bounds are filled (root: past rmem_max) */
	int big = 4 << 20;

	inet_pton(AF_INET, ip, &sin.sin_addr);
	if (s < 0 || bind(s, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -1;
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	return s;
}

static int isolate(void)
{
	snprintf(hosts_path, sizeof(hosts_path), "%s/hosts", dir);
	snprintf(resolv_path, sizeof(resolv_path), "%s/resolv.conf", dir);
	if (write_file(hosts_path, "127.0.0.1 localhost\n"
			      "10.0.0.1 one.example.org # a comment\n"
			      "10.0.0.3 trailing.example.\n"
			      "10.0.0.4 bad\xff" "name.example\n"
			      "10.0.0.1 second.line.example\n"
			      "::ffff:10.0.0.5 mapped.example\n"
			      "fd99::7 seven.example.net alias\n") < 0 ||
	    write_file(resolv_path, "nameserver 127.0.0.1\noptions timeout:1 attempts:2\n") < 0)
		return -1;
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
		return -1;
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(hosts_path, "/etc/hosts", "none", MS_BIND, NULL) < 0 ||
	    mount(resolv_path, "/etc/resolv.conf", "none", MS_BIND, NULL) < 0)
		return -1;
	if (lo_up() < 0 || (ns_fd[0] = server_socket("127.0.0.1")) < 0 ||
	    (ns_fd[1] = server_socket("127.0.0.2")) < 0)
		return -1;
	return 0;
}

/* ---- the tests ----------------------------------------------------------------- */

/* 10.0.1.N: N < 50 a name "hN.dns.example" (TTL N * 10), 50..99 NXDOMAIN,
 * 100..149 SERVFAIL, 150..199 nothing, 200.. hostile names */
static int decide_main(const struct question *q, char *name, size_t len, uint32_t *ttl)
{
	unsigned int o = last_octet(q);

	if (strstr(q->qname, "ip6.arpa")) {
		snprintf(name, len, "six.dns.example");
		return A_NAME;
	}
	if (o < 50) {
		snprintf(name, len, "h%u.dns.example", o);
		*ttl = o * 10;
		return A_NAME;
	}
	if (o < 100)
		return A_NX;
	if (o < 150)
		return A_SERVFAIL;
	if (o < 200)
		return A_DROP;
	switch (o) {
	case 200:		/* a control character and invalid UTF-8 */
		memcpy(name, "\x0c" "\x0a" "ctl\x01" "bad\xff" "xx" "\x00", 13);
		return A_RAW;
	case 201:		/* a pointer to itself */
		memcpy(name, "\x02" "\xc0\x00", 3);
		name[2] = 0;
		{
			/* points at the rdata itself: offset of rdata in the
			 * reply = question end + 12 (the RR's header after the
			 * 2-byte owner pointer) */
			size_t off = q->qend + 12;

			name[1] = (char)(0xc0 | (off >> 8));
			name[2] = (char)(off & 0xff);
		}
		return A_RAW;
	case 202:		/* the root: an empty name */
		memcpy(name, "\x01" "\x00", 2);
		return A_RAW;
	case 203:		/* a NUL inside a label */
		memcpy(name, "\x06" "\x04" "a\x00" "bc" "\x00", 7);
		return A_RAW;
	default:		/* a label running past the message */
		memcpy(name, "\x03" "\x3f" "ab", 4);
		return A_RAW;
	}
}

static void test_hosts_and_answers(void)
{
	struct resolver *r = resolver_new(0, 0);
	struct resolver_stats st;
	const char *n1, *n2;
	double t0;

	decide = decide_main;
	if (!ok(r != NULL, "resolver starts"))
		return;
	resolver_stats(r, &st);
	ok(st.nameservers == 1 && st.try_ms == 1000 && st.tries == 2,
	   "one name server, resolv.conf's timeout:1 attempts:2 (%u, %u ms, %u)", st.nameservers,
	   st.try_ms, st.tries);
	ok(look(r, "127.0.0.1") == NULL,
	   "our name server is never looked up, not even in the hosts file");
	is_str(look(r, "10.0.0.1"), "one.example.org",
	       "a hosts-file name at once; the first line of an address wins");
	is_str(look(r, "10.0.0.3"), "trailing.example", "trailing dot dropped");
	n1 = look(r, "10.0.0.4");
	ok(n1 && utf8_valid(n1, strlen(n1)), "an invalid UTF-8 name is repaired (%s)",
	   n1 ? n1 : "(null)");
	is_str(look(r, "10.0.0.5"), "mapped.example", "a v4-mapped hosts line is the IPv4 address");
	is_str(look(r, "::ffff:10.0.0.1"), "one.example.org", "a v4-mapped look-up");
	is_str(look(r, "fd99::7"), "seven.example.net", "IPv6 from the hosts file");
	run(r, 50, false);
	ok(nquestions[0] == 0, "hosts-file names send no query (%u)", nquestions[0]);
	ok(look(r, "10.0.0.1") != NULL, "still there after a drain");

	ok(look(r, "10.0.1.1") == NULL, "a miss never blocks");
	for (int i = 0; i < 100; i++)
		look(r, "10.0.1.1");
	look(r, "::ffff:10.0.1.1");
	resolver_stats(r, &st);
	ok(st.sent == 1 && st.inflight == 1, "102 look-ups of one address send one query (%lu)",
	   st.sent);
	ok(look(r, "224.0.0.1") == NULL && look(r, "ff02::1") == NULL,
	   "multicast is never looked up");
	run(r, 2000, true);
	ok(nquestions[0] == 1, "the server saw one question (%u)", nquestions[0]);
	is_str(last_qname, "1.1.0.10.in-addr.arpa", "an in-addr.arpa question");
	n1 = look(r, "10.0.1.1");
	is_str(n1, "h1.dns.example", "the name from the answer");
	n2 = look(r, "::ffff:10.0.1.1");
	ok(n1 == n2, "the v4-mapped form shares the entry");

	/* a batch of every kind; the silent ones must not hold back the rest */
	t0 = now_ms();
	look(r, "10.0.1.2");
	look(r, "10.0.1.50");
	look(r, "10.0.1.100");
	look(r, "10.0.1.150");
	look(r, "10.0.1.200");
	look(r, "10.0.1.201");
	look(r, "10.0.1.202");
	look(r, "10.0.1.203");
	look(r, "10.0.1.204");
	look(r, "fd99::1:2");
	n2 = look(r, "10.0.1.1");
	ok(n2 == n1, "a new look-up does not move a name handed out");
	run(r, 500, false);
	ok(now_ms() - t0 < 1000, "the answered ones are in while the silent one waits");
	is_str(look(r, "10.0.1.2"), "h2.dns.example", "second name");
	is_str(look(r, "fd99::1:2"), "six.dns.example", "IPv6 PTR (ip6.arpa)");
	ok(look(r, "10.0.1.50") == NULL, "NXDOMAIN: no name");
	ok(look(r, "10.0.1.100") == NULL, "SERVFAIL: no name");
	{
		const char *h = look(r, "10.0.1.200");

		ok(h && utf8_valid(h, strlen(h)) && strstr(h, "ctl\x01"),
		   "a hostile name is kept as valid UTF-8 (%s)", h ? h : "(null)");
	}
	ok(look(r, "10.0.1.201") == NULL, "a compression loop is refused");
	ok(look(r, "10.0.1.202") == NULL, "the empty name is no name");
	{
		const char *h = look(r, "10.0.1.203");

		ok(h && strlen(h) == 6 && utf8_valid(h, strlen(h)),
		   "a NUL in a label does not cut the name short (%s)", h ? h : "(null)");
	}
	ok(look(r, "10.0.1.204") == NULL, "a label past the message's end is refused");
	resolver_stats(r, &st);
	ok(st.nxdomain == 2 && st.failed >= 3, "counted: %lu NXDOMAIN or no name, %lu failed",
	   st.nxdomain, st.failed);
	ok(resolver_busy(r), "the silent one is still in flight");
	t0 = now_ms();
	run(r, 5000, true);
	ok(!resolver_busy(r) && now_ms() - t0 < 2600,
	   "it is given up after 2 tries of 1 s (%.0f ms more)", now_ms() - t0);
	resolver_stats(r, &st);
	ok(st.timedout == 1, "counted as timed out (%lu)", st.timedout);

	/* nothing is asked again while cached */
	{
		unsigned int before = nquestions[0];

		for (int i = 0; i < 10; i++) {
			look(r, "10.0.1.50");
			look(r, "10.0.1.100");
			look(r, "10.0.1.150");
		}
		run(r, 100, false);
		ok(nquestions[0] == before, "NXDOMAIN, SERVFAIL and timeouts are cached (%u new)",
		   nquestions[0] - before);
	}

	/* the TTL of the answer: 0 s expires at once, 50 s does not */
	resolver_set_lifetimes(r, 0, 3600, 300, 60);
	look(r, "10.0.1.0");
	look(r, "10.0.1.5");
	run(r, 1000, true);
	{
		unsigned int before = nquestions[0];

		n1 = look(r, "10.0.1.0");
		n2 = look(r, "10.0.1.0");
		ok(n1 && n1 == n2, "a name past its TTL is still given out");
		ok(look(r, "10.0.1.5") != NULL, "one within its TTL too");
		run(r, 1000, true);
		ok(nquestions[0] == before + 1, "only the one past its TTL is asked again, once (%u)",
		   nquestions[0] - before);
	}
	/* negative lifetimes */
	resolver_set_lifetimes(r, 0, 0, 0, 0);
	look(r, "10.0.1.51");
	run(r, 1000, true);
	{
		unsigned int before = nquestions[0];

		ok(look(r, "10.0.1.51") == NULL, "an expired negative entry");
		run(r, 1000, true);
		ok(nquestions[0] == before + 1, "is asked again");
	}
	resolver_free(r);
}

static int decide_names(const struct question *q, char *name, size_t len, uint32_t *ttl)
{
	(void)ttl;
	snprintf(name, len, "n%u.dns.example", last_octet(q));
	return A_NAME;
}

static int seen_waiters;
static uint32_t seen_ids[16];

static int take(const struct flow_key *w, void *data)
{
	(void)data;
	if (seen_waiters < 16)
		seen_ids[seen_waiters] = w->id;
	seen_waiters++;
	return 0;
}

static void test_waiters(void)
{
	struct resolver *r = resolver_new(0, 0);
	struct flow_key w;
	struct resolver_stats st;
	bool overflow = true;
	int names;

	decide = decide_names;
	if (!ok(r != NULL, "resolver for the waiters"))
		return;
	memset(&w, 0, sizeof(w));
	w.id = 7;
	look_w(r, "10.0.2.1", &w);
	look_w(r, "10.0.2.1", &w);		/* the same flow again */
	w.id = 8;
	look_w(r, "10.0.2.1", &w);
	w.id = 9;
	look_w(r, "10.0.2.2", &w);
	look_w(r, "10.0.0.1", &w);		/* from the hosts file: no wait */
	resolver_stats(r, &st);
	ok(st.waiters == 3, "three flows wait, the repeated one once (%u)", st.waiters);
	names = 0;
	for (int i = 0; i < 50 && resolver_busy(r); i++) {
		run(r, 20, false);
		names += resolver_drain(r);
	}
	seen_waiters = 0;
	resolver_take_waiters(r, take, NULL, &overflow);
	ok(seen_waiters == 3 && !overflow, "each is handed back once (%d)", seen_waiters);
	seen_waiters = 0;
	resolver_take_waiters(r, take, NULL, &overflow);
	ok(seen_waiters == 0, "and only once");
	resolver_stats(r, &st);
	ok(st.waiters == 0, "none left");

	/* more flows than are remembered for one address */
	for (uint32_t i = 0; i < RESOLVER_WAIT_PER_ADDR + 10; i++) {
		w.id = 1000 + i;
		look_w(r, "10.0.2.3", &w);
	}
	resolver_stats(r, &st);
	ok(st.waiters == RESOLVER_WAIT_PER_ADDR, "waiting flows per address are bounded (%u)",
	   st.waiters);
	run(r, 1000, true);
	seen_waiters = 0;
	resolver_take_waiters(r, take, NULL, &overflow);
	ok(seen_waiters == RESOLVER_WAIT_PER_ADDR && overflow,
	   "past the bound the caller is told to look at all its flows");

	/* a name that never comes: its waiters go */
	decide = decide_main;
	w.id = 5;
	look_w(r, "10.0.1.60", &w);
	run(r, 1000, true);
	seen_waiters = 0;
	resolver_take_waiters(r, take, NULL, &overflow);
	resolver_stats(r, &st);
	ok(seen_waiters == 0 && st.waiters == 0, "NXDOMAIN hands back no flow and keeps none");
	resolver_free(r);
}

/* The in-flight bound, the FIFO beyond it, and the queue's own bound. */
static unsigned int order[64], norder;

static int decide_order(const struct question *q, char *name, size_t len, uint32_t *ttl)
{
	(void)ttl;
	if (norder < 64)
		order[norder++] = last_octet(q);
	snprintf(name, len, "o%u.dns.example", last_octet(q));
	return A_NAME;
}

static void test_bounds(void)
{
	struct resolver *r = resolver_new(4, 0);
	struct resolver_stats st;
	unsigned int n = RESOLVER_QUEUE_MAX + 1000;
	double t0, t1;
	bool fifo = true;

	decide = decide_order;
	norder = 0;
	if (!ok(r != NULL, "resolver with 4 in flight"))
		return;
	for (int i = 1; i <= 20; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "10.0.3.%d", i);
		look(r, ip);
	}
	resolver_stats(r, &st);
	ok(st.inflight == 4 && st.queued == 16, "4 in flight, 16 queued (%u, %u)", st.inflight,
	   st.queued);
	run(r, 2000, true);
	for (unsigned int i = 0; i < norder; i++)
		if (order[i] != i + 1)
			fifo = false;
	ok(norder == 20 && fifo, "all asked, in the order they appeared (%u)", norder);
	resolver_stats(r, &st);
	ok(st.peak_inflight == 4, "never more than 4 in flight (%u)", st.peak_inflight);
	resolver_free(r);

	/* silent queries give their slot up soon: a name queued behind them
	 * comes long before their timeouts */
	r = resolver_new(4, 0);
	decide = decide_main;
	{
		char ip[32];
		double t = now_ms();

		for (int i = 150; i < 158; i++) {
			snprintf(ip, sizeof(ip), "10.0.1.%d", i);
			look(r, ip);
		}
		look(r, "10.0.1.9");
		resolver_stats(r, &st);
		ok(st.young == 4 && st.queued == 5, "4 slots taken by silent queries, 5 queued");
		while (now_ms() - t < 1500 && !look(r, "10.0.1.9"))
			run(r, 20, false);
		ok(look(r, "10.0.1.9") && now_ms() - t < 900,
		   "a name behind 8 silent queries in 4 slots comes in %.0f ms", now_ms() - t);
		resolver_stats(r, &st);
		ok(st.inflight == 8 && st.young <= 4, "the silent ones still wait (%u in flight)",
		   st.inflight);
	}
	resolver_free(r);

	/* the queue: never blocks, bounded */
	r = resolver_new(4, 0);
	decide = decide_main;
	t0 = now_ms();
	for (unsigned int i = 0; i < n; i++) {
		union flow_addr a = { .b = { 10, 200, 0, 0 } };

		a.b[2] = (uint8_t)(i >> 8);
		a.b[3] = (uint8_t)i;
		a.b[1] = (uint8_t)(200 + (i >> 16));
		resolver_lookup(r, AF_INET, &a, NULL);
	}
	t1 = now_ms();
	resolver_stats(r, &st);
	ok(st.pending <= RESOLVER_QUEUE_MAX && st.dropped > 0,
	   "past the queue's bound look-ups are dropped, not blocked (%lu dropped, %u pending)",
	   st.dropped, st.pending);
	ok(t1 - t0 < 2000, "%u look-ups took %.1f ms", n, t1 - t0);
	printf("# %u look-ups of new addresses: %.2f us each\n", n, (t1 - t0) * 1e3 / n);
	t0 = now_ms();
	resolver_free(r);
	ok(now_ms() - t0 < 1000, "resolver_free with queries in flight is quick (%.1f ms)",
	   now_ms() - t0);
}

/* The caches' real bounds, reached through the test's server: one past
 * RESOLVER_POS_MAX names drops the least recently used one (not the oldest
 * asked), one past RESOLVER_NEG_MAX NXDOMAIN answers the oldest.  Filled in
 * chunks that fit the queue; 10.64.0.0/10 names, 10.128.0.0/10 NXDOMAIN. */
static int decide_fill(const struct question *q, char *name, size_t len, uint32_t *ttl)
{
	(void)ttl;
	if (strstr(q->qname, ".64.10.in-addr.arpa") || strstr(q->qname, ".65.10.in-addr.arpa")) {
		snprintf(name, len, "lru.dns.example");
		return A_NAME;
	}
	return A_NX;
}

static const char *look_n(struct resolver *r, uint32_t base, uint32_t i)
{
	union flow_addr a;

	memset(&a, 0, sizeof(a));
	a.b[0] = (uint8_t)((base + i) >> 24);
	a.b[1] = (uint8_t)((base + i) >> 16);
	a.b[2] = (uint8_t)((base + i) >> 8);
	a.b[3] = (uint8_t)(base + i);
	return resolver_lookup(r, AF_INET, &a, NULL);
}

/* look up [from, to) of base's block, a queue's worth at a time */
static void fill(struct resolver *r, uint32_t base, uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to;) {
		for (uint32_t k = 0; k < RESOLVER_QUEUE_MAX / 2 && i < to; k++, i++)
			look_n(r, base, i);
		run(r, 20000, true);
	}
}

static void test_cache_bounds(void)
{
	const uint32_t pos = 0x0a400000u, neg = 0x0a800000u;	/* 10.64/10, 10.128/10 */
	/* few enough in flight that the test's server socket never drops one */
	struct resolver *r = resolver_new(128, 0);
	struct resolver_stats st;
	double t0 = now_ms();

	decide = decide_fill;
	if (!ok(r != NULL, "resolver for the cache bounds"))
		return;
	fill(r, pos, 0, RESOLVER_POS_MAX);
	resolver_stats(r, &st);
	ok(st.positive == RESOLVER_POS_MAX, "%u names cached, the bound (%u)", st.positive,
	   RESOLVER_POS_MAX);
	ok(look_n(r, pos, 0) != NULL, "the first name asked is used again");
	fill(r, pos, RESOLVER_POS_MAX, RESOLVER_POS_MAX + 1);
	resolver_stats(r, &st);
	ok(st.positive == RESOLVER_POS_MAX, "one more name: still %u cached", st.positive);
	ok(look_n(r, pos, 0) != NULL, "the name used last stays, though asked first");
	ok(look_n(r, pos, 2) != NULL && look_n(r, pos, RESOLVER_POS_MAX) != NULL,
	   "so do the others and the new one");
	ok(look_n(r, pos, 1) == NULL, "the least recently used name went");

	fill(r, neg, 0, RESOLVER_NEG_MAX + 1);
	resolver_stats(r, &st);
	ok(st.negative == RESOLVER_NEG_MAX && st.nxdomain >= RESOLVER_NEG_MAX + 1,
	   "one past %u NXDOMAIN answers: %u cached", RESOLVER_NEG_MAX, st.negative);
	{
		unsigned int before = nquestions[0];

		look_n(r, neg, 1);
		look_n(r, neg, RESOLVER_NEG_MAX);
		run(r, 100, false);
		ok(nquestions[0] == before, "the newer ones are still cached (%u asked again)",
		   nquestions[0] - before);
		look_n(r, neg, 0);
		run(r, 1000, true);
		ok(nquestions[0] == before + 1, "the oldest went and is asked again");
	}
	printf("# the caches filled to their bounds in %.0f ms\n", now_ms() - t0);
	resolver_free(r);
}

/* Changed files: a new hosts line answers a pending query; new servers. */
static int decide_server(const struct question *q, char *name, size_t len, uint32_t *ttl)
{
	(void)ttl;
	if (q_is(q, "10.0.4.1"))
		return A_DROP;
	snprintf(name, len, "from.server.example");
	return A_NAME;
}

static void test_changes(void)
{
	struct resolver *r = resolver_new(0, 0);
	struct flow_key w;
	struct resolver_stats st;
	bool overflow;
	double t0;

	decide = decide_server;
	if (!ok(r != NULL, "resolver for changed files"))
		return;
	memset(&w, 0, sizeof(w));
	w.id = 42;
	ok(look_w(r, "10.0.4.1", &w) == NULL, "a name the server never gives");
	write_file(hosts_path, "127.0.0.1 localhost\n10.0.4.1 late.hosts.example\n");
	t0 = now_ms();
	seen_waiters = 0;
	while (now_ms() - t0 < 3000 && !seen_waiters) {
		run(r, 50, false);
		resolver_take_waiters(r, take, NULL, &overflow);
	}
	ok(seen_waiters == 1 && seen_ids[0] == 42,
	   "a changed hosts file answers the waiting flow (%.0f ms)", now_ms() - t0);
	is_str(look(r, "10.0.4.1"), "late.hosts.example", "the new hosts-file name");

	/* a new name server: what is in flight and what comes next go there */
	look(r, "10.0.4.2");
	look(r, "10.0.4.1");
	nquestions[1] = 0;
	write_file(resolv_path, "nameserver 127.0.0.2\noptions timeout:1 attempts:1\n");
	t0 = now_ms();
	while (now_ms() - t0 < 3000 && nquestions[1] == 0)
		run(r, 50, false);
	look(r, "10.0.4.3");
	run(r, 500, false);
	resolver_stats(r, &st);
	ok(nquestions[1] >= 1 && st.reinits == 1 && st.tries == 1,
	   "a changed resolv.conf is followed (%u questions to the new server)", nquestions[1]);
	is_str(look(r, "10.0.4.3"), "from.server.example", "a name from the new server");
	ok(look(r, "127.0.0.2") == NULL, "the new server is never looked up");
	resolver_free(r);
	write_file(resolv_path, "nameserver 127.0.0.1\noptions timeout:1 attempts:2\n");
}

int main(void)
{
	char cmd[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(dir)) {
		printf("Bail out! no temporary directory\n");
		return 1;
	}
	if (isolate() < 0) {
		printf("1..0 # SKIP cannot make a private namespace with its own name servers "
		       "(%s); needs root\n", strerror(errno));
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		return system(cmd) != 0;
	}
	test_hosts_and_answers();
	test_waiters();
	test_bounds();
	test_cache_bounds();
	test_changes();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
