/*
 * sockmap.c - the socket and process maps against real sockets that this
 * test opens, in a private network namespace when it may make one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "procmap.h"
#include "sockmap.h"
#include "tap.h"
#include "utf8.h"

static uint64_t ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : (uint64_t)st.st_ino;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	getsockname(fd, (struct sockaddr *)&ss, &len);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int sock4(int type, const char *ip, uint16_t port, bool listen_it)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, type, 0);

	inet_pton(AF_INET, ip, &a.sin_addr);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	if (listen_it)
		listen(fd, 16);
	return fd;
}

static int connect4(int type, const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, type, 0);

	inet_pton(AF_INET, ip, &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	return fd;
}

static int sock6(int type, const char *ip, uint16_t port, int v6only, bool listen_it)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int fd = socket(AF_INET6, type, 0);

	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	inet_pton(AF_INET6, ip, &a.sin6_addr);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	if (listen_it)
		listen(fd, 16);
	return fd;
}

/* A flow as conntrack would give it; the reply tuple is the swapped
 * original unless rsrc/rdst say otherwise (NAT). */
static struct flow mkflow(int family, uint8_t proto, const char *src, uint16_t sport,
			  const char *dst, uint16_t dport, const char *rsrc, uint16_t rsport,
			  const char *rdst, uint16_t rdport)
{
	struct flow f = { 0 };

	f.family = (uint8_t)family;
	f.l4proto = proto;
	f.has = FLOW_HAS_TUPLE | FLOW_HAS_PORTS | FLOW_HAS_REPLY | FLOW_HAS_REPLY_PORTS;
	inet_pton(family, src, &f.orig.src);
	inet_pton(family, dst, &f.orig.dst);
	f.orig.sport = sport;
	f.orig.dport = dport;
	inet_pton(family, rsrc ? rsrc : dst, &f.reply.src);
	inet_pton(family, rdst ? rdst : src, &f.reply.dst);
	f.reply.sport = rsrc ? rsport : dport;
	f.reply.dport = rdst ? rdport : sport;
	return f;
}

static void lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000 };

	nanosleep(&ts, NULL);
}

int main(void)
{
	struct sockmap *m;
	struct procmap *p;
	struct sockmap_sock s;
	struct flow f;
	int ls, cl, ac, cl2, us, uc, l6, c6, a6, u6;
	uint16_t lp, cp, cp2, up, ucp, p6, cp6, up6;
	char self_exe[PATH_MAX];
	ssize_t n;

	/* Own namespace: the test's sockets only, and no trace on the host. */
	if (unshare(CLONE_NEWNET) == 0)
		lo_up();
	else
		printf("# no private namespace (%s): using the current one\n", strerror(errno));

	m = sockmap_new();
	ok(m != NULL, "sockmap_new");
	if (!m)
		return tap_done();

	/* TCP on loopback: listener, connected client, accepted socket */
	ls = sock4(SOCK_STREAM, "127.0.0.1", 0, true);
	lp = port_of(ls);
	cl = connect4(SOCK_STREAM, "127.0.0.1", lp);
	cp = port_of(cl);
	ac = accept(ls, NULL, NULL);
	/* one more that stays in the accept queue */
	cl2 = connect4(SOCK_STREAM, "127.0.0.1", lp);
	cp2 = port_of(cl2);
	ok(ls >= 0 && cl >= 0 && ac >= 0 && cl2 >= 0, "tcp sockets made");

	ok(sockmap_refresh(m, IPPROTO_TCP) == 0, "tcp dump");
	ok(sockmap_count(m, IPPROTO_TCP) >= 4, "dump holds our 4+ tcp sockets (%zu)",
	   sockmap_count(m, IPPROTO_TCP));

	f = mkflow(AF_INET, IPPROTO_TCP, "127.0.0.1", cp, "127.0.0.1", lp, NULL, 0, NULL, 0);
	ok(sockmap_find_flow(m, &f, &s) && s.inode == ino_of(cl),
	   "loopback tcp flow: the client (originating) socket");
	ok(s.uid == getuid(), "uid of the socket");

	ok(sockmap_find_exact(m, IPPROTO_TCP, AF_INET, &f.orig.dst, lp, &f.orig.src, cp, &s) &&
	   s.inode == ino_of(ac), "exact look-up of the accepted side");

	/* accepted side through the reply tuple: as if the client had been
	 * 192.0.2.7:1234 source-NATed to 127.0.0.1:cp */
	f = mkflow(AF_INET, IPPROTO_TCP, "192.0.2.7", 1234, "127.0.0.1", lp,
		   "127.0.0.1", lp, "127.0.0.1", cp);
	ok(sockmap_find_flow(m, &f, &s) && s.inode == ino_of(ac),
	   "inbound flow, NAT: the accepted socket by the reply tuple");

	/* DNAT (port forward 8080 -> lp) to the accepted socket */
	f = mkflow(AF_INET, IPPROTO_TCP, "192.0.2.7", 1234, "192.0.2.1", 8080,
		   "127.0.0.1", lp, "127.0.0.1", cp);
	ok(sockmap_find_flow(m, &f, &s) && s.inode == ino_of(ac), "DNAT: the reply tuple finds it");

	/* not yet accepted: the listener's */
	f = mkflow(AF_INET, IPPROTO_TCP, "192.0.2.7", 1235, "127.0.0.1", lp,
		   "127.0.0.1", lp, "127.0.0.1", cp2);
	ok(sockmap_find_flow(m, &f, &s) && s.inode == ino_of(ls),
	   "connection in the accept queue: the listener");

	/* an established flow whose socket is gone: nobody's, even though
	 * a listener has its port */
	f = mkflow(AF_INET, IPPROTO_TCP, "127.0.0.1", 1, "127.0.0.1", lp, NULL, 0, NULL, 0);
	f.state = "ESTABLISHED";
	ok(!sockmap_find_flow(m, &f, &s), "tcp flow without a socket: no match");
	f.state = "SYN_RECV";
	ok(sockmap_find_flow(m, &f, &s) && s.inode == ino_of(ls), "SYN_RECV flow: the listener");

	/* UDP: an unconnected server on the wildcard, a connected client */
	us = sock4(SOCK_DGRAM, "0.0.0.0", 0, false);
	up = port_of(us);
	uc = connect4(SOCK_DGRAM, "127.0.0.1", up);
	ucp = port_of(uc);
	f = mkflow(AF_INET, IPPROTO_UDP, "127.0.0.1", ucp, "127.0.0.1", up, NULL, 0, NULL, 0);
	ok(sockmap_find_flow(m, &f, &s) && s.inode == ino_of(uc),
	   "udp loopback: the connected client socket");
	f = mkflow(AF_INET, IPPROTO_UDP, "192.0.2.9", 5000, "127.0.0.1", up, NULL, 0, NULL, 0);
	ok(sockmap_find_flow(m, &f, &s) && s.inode == ino_of(us),
	   "udp inbound: the unconnected server on 0.0.0.0");
	f = mkflow(AF_INET, IPPROTO_UDP, "127.0.0.1", up, "192.0.2.9", 5000, NULL, 0, NULL, 0);
	ok(sockmap_find_flow(m, &f, &s) && s.inode == ino_of(us),
	   "udp outbound from an unconnected socket (sendto)");
	f = mkflow(AF_INET, IPPROTO_UDP, "192.0.2.1", 1000, "198.51.100.1", up, NULL, 0, NULL, 0);
	ok(!sockmap_find_flow(m, &f, &s), "routed udp flow to the same port: no match");

	/* IPv6 and dual stack */
	l6 = sock6(SOCK_STREAM, "::", 0, 0, true);
	p6 = port_of(l6);
	c6 = connect4(SOCK_STREAM, "127.0.0.1", p6);
	cp6 = port_of(c6);
	a6 = accept(l6, NULL, NULL);
	ok(l6 >= 0 && c6 >= 0 && a6 >= 0, "dual-stack sockets made");
	f = mkflow(AF_INET, IPPROTO_TCP, "192.0.2.7", 999, "127.0.0.1", p6,
		   "127.0.0.1", p6, "127.0.0.1", cp6);
	sockmap_invalidate(m);
	ok(sockmap_find_flow(m, &f, &s) && s.inode == ino_of(a6),
	   "ipv4 flow on a dual-stack socket (::ffff:127.0.0.1)");
	close(c6);
	c6 = -1;
	{
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(p6),
					  .sin6_addr = IN6ADDR_LOOPBACK_INIT };

		c6 = socket(AF_INET6, SOCK_STREAM, 0);
		connect(c6, (struct sockaddr *)&a, sizeof(a));
	}
	f = mkflow(AF_INET6, IPPROTO_TCP, "::1", port_of(c6), "::1", p6, NULL, 0, NULL, 0);
	sockmap_invalidate(m);
	ok(sockmap_find_flow(m, &f, &s) && s.inode == ino_of(c6), "ipv6 loopback: the client");

	u6 = sock6(SOCK_DGRAM, "::", 0, 1, false);
	up6 = port_of(u6);
	sockmap_invalidate(m);
	f = mkflow(AF_INET, IPPROTO_UDP, "192.0.2.9", 5000, "127.0.0.1", up6, NULL, 0, NULL, 0);
	ok(!sockmap_find_flow(m, &f, &s), "ipv4 flow does not match an IPV6_V6ONLY socket");
	f = mkflow(AF_INET6, IPPROTO_UDP, "2001:db8::9", 5000, "::1", up6, NULL, 0, NULL, 0);
	ok(sockmap_find_flow(m, &f, &s) && s.inode == ino_of(u6), "ipv6 flow matches it");
	{
		int d6 = sock6(SOCK_DGRAM, "::", 0, 0, false);
		uint16_t dp = port_of(d6);

		sockmap_invalidate(m);
		f = mkflow(AF_INET, IPPROTO_UDP, "192.0.2.9", 5000, "127.0.0.1", dp, NULL, 0, NULL, 0);
		ok(sockmap_find_flow(m, &f, &s) && s.inode == ino_of(d6),
		   "ipv4 flow matches a dual-stack udp socket on ::");
		close(d6);
	}

	/* a socket newer than the dump is found after the bounded refresh */
	{
		int late = sock4(SOCK_DGRAM, "127.0.0.1", 0, false);

		f = mkflow(AF_INET, IPPROTO_UDP, "192.0.2.9", 5000, "127.0.0.1", port_of(late),
			   NULL, 0, NULL, 0);
		bool found = false;

		/* not found at once (the dump is fresh), found after the bound:
		 * SOCKMAP_REFRESH_MS, or ten dumps' time on a slow machine */
		ok(!sockmap_find_flow(m, &f, &s), "a socket made after the dump: not yet");
		sleep_ms(SOCKMAP_REFRESH_MS - 50);
		for (int i = 0; i < 100 && !(found = sockmap_find_flow(m, &f, &s)); i++)
			sleep_ms(50);
		ok(found && s.inode == ino_of(late),
		   "a socket made after the dump: found by the refresh on a miss");
		close(late);
	}

	/* procmap */
	p = procmap_new(NULL);
	ok(procmap_pid(p, ino_of(ac)) == (uint32_t)getpid(), "inode -> our pid");
	ok(procmap_walks(p) == 1, "one /proc walk for the first look-up");
	ok(procmap_pid(p, ino_of(cl)) == (uint32_t)getpid(), "second inode, same walk");
	ok(procmap_walks(p) == 1, "still one walk");
	{
		int late = socket(AF_INET, SOCK_DGRAM, 0);

		ok(procmap_pid(p, ino_of(late)) == 0, "a newer socket misses within the rate bound");
		ok(procmap_walks(p) == 1, "no walk inside the rate bound");
		/* the bound is PROCMAP_REFRESH_MS or ten walks' time: poll */
		sleep_ms(PROCMAP_REFRESH_MS - 50);
		for (int i = 0; i < 200 && !procmap_pid(p, ino_of(late)); i++)
			sleep_ms(50);
		ok(procmap_pid(p, ino_of(late)) == (uint32_t)getpid(), "found after the bound");
		ok(procmap_walks(p) == 2, "exactly one more walk (%lu)", procmap_walks(p));
		close(late);
	}
	procmap_scan_begin(p);
	procmap_pid(p, ino_of(cl));
	ok(procmap_walks(p) == 3, "a new scan walks again");
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	self_exe[n > 0 ? n : 0] = '\0';
	{
		const struct procmap_proc *pp = procmap_proc(p, (uint32_t)getpid());

		is_str(pp ? pp->name : NULL, "sockmap.t", "comm of the test");
		is_str(pp ? pp->exe : NULL, self_exe, "exe of the test");
	}
	is_str(procmap_user(p, 0), "root", "uid 0 is root");
	is_str(procmap_user(p, 65534), "nobody", "uid 65534 is nobody");
	is_str(procmap_user(p, 3999999999u), NULL, "unknown uid: no name");
	ok(procmap_pid(p, 1) == 0, "an inode no one holds");

	/* hostile comm: the name comes back as valid UTF-8 */
	prctl(PR_SET_NAME, "q\"b\\n\nc\x01\xff\xfe", 0, 0, 0);
	procmap_scan_begin(p);
	{
		struct procmap *p2 = procmap_new(NULL);
		const struct procmap_proc *pp = procmap_proc(p2, (uint32_t)getpid());
		const char *nm = pp ? pp->name : NULL;

		ok(nm && utf8_valid(nm, strlen(nm)), "hostile comm is repaired to valid UTF-8");
		ok(nm && strstr(nm, "q\"b\\n\nc\x01"), "its printable and control bytes are kept");
		ok(nm && strstr(nm, "\xef\xbf\xbd"), "its invalid bytes became U+FFFD");
		procmap_free(p2);
	}

	/* the pid cache keeps its bound across scans */
	for (unsigned i = 0; i < 3; i++) {
		procmap_scan_begin(p);
		for (uint32_t pid = 1000000 + i * PROCMAP_MAX_PROCS;
		     pid < 1000000 + (i + 1) * PROCMAP_MAX_PROCS; pid++)
			procmap_proc(p, pid);
	}
	ok(procmap_nprocs(p) <= PROCMAP_MAX_PROCS, "pid cache stays within its bound (%zu)",
	   procmap_nprocs(p));
	procmap_scan_begin(p);
	for (uint32_t pid = 2000000; pid < 2000000 + PROCMAP_MAX_PROCS + 10; pid++)
		procmap_proc(p, pid);
	ok(procmap_nprocs(p) == PROCMAP_MAX_PROCS + 10,
	   "one scan that uses more than the bound keeps them all");

	procmap_free(p);
	sockmap_free(m);
	close(ls), close(cl), close(ac), close(cl2), close(us), close(uc);
	close(l6), close(c6), close(a6), close(u6);
	return tap_done();
}
