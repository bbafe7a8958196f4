/*
 * resolver.c - reverse DNS caching, deduplication, bounds and the name
 * server skip, with real getnameinfo() calls answered from a hosts file.
 *
 * The test moves itself into a private network and mount namespace and
 * bind-mounts its own /etc/hosts and /etc/resolv.conf there, as
 * `ip netns exec` does: names come from our hosts file, and a name that is
 * not in it fails at once (the name server is on a loopback that is down),
 * so no query ever leaves the process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "resolver.h"
#include "tap.h"
#include "utf8.h"

static char dir[] = "/tmp/flowtop-resolver.XXXXXX";

static union flow_addr addr(const char *ip, int *family)
{
	union flow_addr a;

	memset(&a, 0, sizeof(a));
	*family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	inet_pton(*family, ip, &a);
	return a;
}

static const char *look(struct resolver *r, const char *ip)
{
	int family;
	union flow_addr a = addr(ip, &family);

	return resolver_lookup(r, family, &a);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* Our own /etc/hosts and /etc/resolv.conf in a private namespace. */
static int isolate(void)
{
	char hosts[64], resolv[64];

	snprintf(hosts, sizeof(hosts), "%s/hosts", dir);
	snprintf(resolv, sizeof(resolv), "%s/resolv.conf", dir);
	if (write_file(hosts, "127.0.0.1 localhost\n"
			      "127.0.0.2 two.example.org\n"
			      "127.0.0.3 trailing.example.\n"
			      "127.0.0.4 bad\xff" "name.example\n"
			      "::1 localhost6\n"
			      "fd99::7 seven.example.net\n") < 0 ||
	    write_file(resolv, "nameserver 127.0.0.53\nnameserver ::1%lo\n"
			       "options timeout:1 attempts:1\n") < 0)
		return -1;
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
		return -1;
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(hosts, "/etc/hosts", "none", MS_BIND, NULL) < 0 ||
	    mount(resolv, "/etc/resolv.conf", "none", MS_BIND, NULL) < 0)
		return -1;
	return 0;
}

static void test_basic(void)
{
	struct resolver *r = resolver_new(2, 0);
	struct resolver_stats st;
	const char *n1, *n2, *n3;
	struct pollfd pfd;
	int got;

	ok(r != NULL, "resolver starts");
	if (!r)
		return;
	resolver_stats(r, &st);
	ok(st.nameservers == 2, "two name servers from resolv.conf (%u)", st.nameservers);
	ok(look(r, "127.0.0.53") == NULL && look(r, "::1") == NULL,
	   "a name server is not looked up");
	resolver_stats(r, &st);
	ok(st.queued == 0, "nothing queued for the name servers");

	ok(look(r, "127.0.0.1") == NULL, "first look-up: a miss, never blocks");
	for (int i = 0; i < 100; i++)
		look(r, "127.0.0.1");
	look(r, "::ffff:127.0.0.1");		/* the same address, v4-mapped */
	resolver_stats(r, &st);
	ok(st.queued == 1, "101 look-ups of one address queue one (%lu)", st.queued);

	pfd.fd = resolver_fd(r);
	pfd.events = POLLIN;
	ok(poll(&pfd, 1, 3000) == 1, "the descriptor becomes readable");
	got = 0;
	for (int i = 0; i < 50 && !got; i++) {	/* readable may be before all is in */
		got = resolver_drain(r);
		if (!got)
			poll(&pfd, 1, 100);
	}
	ok(got == 1, "drain says one name arrived");
	n1 = look(r, "127.0.0.1");
	is_str(n1, "localhost", "the name from the hosts file");
	n2 = look(r, "::ffff:127.0.0.1");
	ok(n1 == n2, "the v4-mapped form shares the entry");

	/* a batch: source and destination of many flows */
	look(r, "127.0.0.2");
	look(r, "127.0.0.3");
	look(r, "127.0.0.4");
	look(r, "fd99::7");
	look(r, "127.0.0.9");			/* not in hosts: fails */
	n3 = look(r, "127.0.0.1");
	ok(n3 == n1, "a new look-up does not move a name handed out");
	resolver_wait(r, 3000);
	is_str(look(r, "127.0.0.2"), "two.example.org", "second name");
	is_str(look(r, "127.0.0.3"), "trailing.example", "trailing dot dropped");
	{
		const char *b = look(r, "127.0.0.4");

		ok(b && utf8_valid(b, strlen(b)), "an invalid UTF-8 name is repaired (%s)",
		   b ? b : "(null)");
	}
	is_str(look(r, "fd99::7"), "seven.example.net", "IPv6 name");
	ok(look(r, "127.0.0.9") == NULL, "no name: NULL");
	resolver_stats(r, &st);
	ok(st.negative == 1 && st.failed == 1, "it is in the negative cache (%u)", st.negative);
	look(r, "127.0.0.9");
	resolver_stats(r, &st);
	ok(st.queued == 6, "a negative entry is not looked up again at once (%lu)", st.queued);

	/* lifetimes: expired names are refreshed while still given out */
	resolver_set_lifetimes(r, 0, 0, 0);
	n1 = look(r, "127.0.0.1");
	n2 = look(r, "127.0.0.1");
	resolver_stats(r, &st);
	ok(n1 && n1 == n2 && st.queued == 7,
	   "an expired name is still given and refreshed once (%lu)", st.queued);
	ok(look(r, "127.0.0.9") == NULL, "an expired negative entry");
	resolver_stats(r, &st);
	ok(st.queued == 8, "is looked up again (%lu)", st.queued);
	resolver_wait(r, 3000);
	is_str(look(r, "127.0.0.1"), "localhost", "refreshed name");
	resolver_free(r);
}

/* Many distinct addresses: the queue and the caches stay in their bounds. */
static void test_bounds(void)
{
	struct resolver *r = resolver_new(4, 0);
	struct resolver_stats st;
	unsigned int n = RESOLVER_QUEUE_MAX * 3;
	double t0, t1;

	if (!ok(r != NULL, "resolver for the bounds test"))
		return;
	t0 = now_ms();
	for (unsigned int i = 0; i < n; i++) {
		union flow_addr a = { .b = { 127, 1, 0, 0 } };

		a.b[2] = (uint8_t)(i >> 8);
		a.b[3] = (uint8_t)i;
		resolver_lookup(r, AF_INET, &a);
	}
	t1 = now_ms();
	resolver_stats(r, &st);
	ok(st.pending <= RESOLVER_QUEUE_MAX, "pending entries stay within the queue (%u)",
	   st.pending);
	ok(st.queued + st.dropped >= n && st.dropped > 0,
	   "past the queue's bound look-ups are dropped, not blocked (%lu dropped)", st.dropped);
	ok(t1 - t0 < 1000, "%u look-ups took %.1f ms", n, t1 - t0);
	printf("# %u look-ups of new addresses: %.2f us each\n", n, (t1 - t0) * 1e3 / n);
	resolver_wait(r, 10000);
	resolver_stats(r, &st);
	ok(st.pending == 0 && st.negative <= RESOLVER_NEG_MAX,
	   "all answered, negative cache bounded (%u)", st.negative);
	t0 = now_ms();
	resolver_free(r);
	t1 = now_ms();
	ok(t1 - t0 < 1000, "resolver_free is quick (%.1f ms)", t1 - t0);
}

int main(void)
{
	char cmd[64];

	if (!mkdtemp(dir)) {
		printf("Bail out! no temporary directory\n");
		return 1;
	}
	if (isolate() < 0) {
		printf("1..0 # SKIP cannot make a private namespace (%s); needs root\n",
		       strerror(errno));
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		return system(cmd) != 0;
	}
	test_basic();
	test_bounds();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
