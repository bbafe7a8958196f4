/*
 * localaddr.c - network.direction from the host's addresses: egress, ingress,
 * none for the host to itself and for a routed flow, DNAT to this host,
 * both families; refresh reads the real interfaces.
 */
#include <arpa/inet.h>
#include <string.h>

#include "localaddr.h"
#include "tap.h"

static struct flow mk(const char *src, const char *dst)
{
	struct flow f = { 0 };
	int fam = strchr(src, ':') ? AF_INET6 : AF_INET;

	f.family = (uint8_t)fam;
	f.l4proto = IPPROTO_TCP;
	f.has = FLOW_HAS_TUPLE | FLOW_HAS_REPLY;
	inet_pton(fam, src, &f.orig.src);
	inet_pton(fam, dst, &f.orig.dst);
	f.reply.src = f.orig.dst;
	f.reply.dst = f.orig.src;
	return f;
}

static void add(struct localaddr *la, const char *s)
{
	union flow_addr a;
	int fam = strchr(s, ':') ? AF_INET6 : AF_INET;

	inet_pton(fam, s, &a);
	localaddr_add(la, fam, &a);
}

int main(void)
{
	struct localaddr *la = localaddr_new();
	struct flow f;
	union flow_addr a;

	ok(la != NULL, "localaddr_new");
	add(la, "192.0.2.10");
	add(la, "2001:db8::10");
	add(la, "192.0.2.10");	/* twice: kept once */

	f = mk("192.0.2.10", "198.51.100.1");
	is_str(localaddr_direction(la, &f), "egress", "from a local address out: egress");
	f = mk("198.51.100.1", "192.0.2.10");
	is_str(localaddr_direction(la, &f), "ingress", "from outside to a local address: ingress");
	f = mk("2001:db8::10", "2001:db8::99");
	is_str(localaddr_direction(la, &f), "egress", "ipv6: egress");
	f = mk("2001:db8::99", "2001:db8::10");
	is_str(localaddr_direction(la, &f), "ingress", "ipv6: ingress");
	f = mk("198.51.100.1", "198.51.100.2");
	is_str(localaddr_direction(la, &f), NULL, "a routed flow: no direction");
	f = mk("192.0.2.10", "192.0.2.10");
	is_str(localaddr_direction(la, &f), NULL, "the host to itself: no direction");
	f = mk("127.0.0.1", "127.0.0.1");
	is_str(localaddr_direction(la, &f), NULL, "loopback: no direction");
	f = mk("127.0.0.1", "198.51.100.1");
	is_str(localaddr_direction(la, &f), "egress", "127/8 is local without being listed");
	f = mk("::1", "2001:db8::99");
	is_str(localaddr_direction(la, &f), "egress", "::1 is local");
	/* DNAT: asked for a public address, served by this host */
	f = mk("198.51.100.1", "203.0.113.80");
	inet_pton(AF_INET, "192.0.2.10", &f.reply.src);
	is_str(localaddr_direction(la, &f), "ingress", "DNAT to a local address: ingress");
	/* the same address in the other family is not local */
	f = mk("::ffff:192.0.2.10", "2001:db8::99");
	is_str(localaddr_direction(la, &f), NULL, "a v4 address does not make a v6 one local");
	f = mk("192.0.2.10", "198.51.100.1");
	f.has = 0;
	is_str(localaddr_direction(la, &f), NULL, "no tuple (a marker): no direction");
	f = mk("192.0.2.10", "198.51.100.1");
	f.family = 0;
	is_str(localaddr_direction(la, &f), NULL, "no family: no direction");

	ok(localaddr_add(la, AF_UNIX, &a) == -1, "an unknown family is refused");
	/* the real interfaces replace the list: 192.0.2.10 is not one of them */
	ok(localaddr_refresh(la) == 0, "refresh from getifaddrs");
	inet_pton(AF_INET, "192.0.2.10", &a);
	ok(!localaddr_has(la, AF_INET, &a), "refresh replaced the list");
	inet_pton(AF_INET, "127.0.0.1", &a);
	ok(localaddr_has(la, AF_INET, &a), "loopback is still local");
	localaddr_free(la);
	localaddr_free(NULL);
	return tap_done();
}
