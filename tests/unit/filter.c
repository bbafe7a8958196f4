/* Filter option parsing and matching. */
#include <arpa/inet.h>
#include <string.h>

#include "filter.h"
#include "tap.h"

static struct flow mk(int fam, const char *src, const char *dst, uint8_t proto,
		      uint16_t sport, uint16_t dport, const char *state)
{
	struct flow f = { 0 };

	f.family = (uint8_t)fam;
	f.l4proto = proto;
	inet_pton(fam, src, &f.orig.src);
	inet_pton(fam, dst, &f.orig.dst);
	f.orig.sport = sport;
	f.orig.dport = dport;
	f.state = state;
	f.has = FLOW_HAS_TUPLE | (sport || dport ? FLOW_HAS_PORTS : 0);
	return f;
}

int main(void)
{
	struct filter fl;
	struct filter_net n;
	char err[128];
	struct flow tcp4 = mk(AF_INET, "192.0.2.1", "198.51.100.7", IPPROTO_TCP, 40000, 443, "ESTABLISHED");
	struct flow udp6 = mk(AF_INET6, "2001:db8::1", "2001:db8:1::2", IPPROTO_UDP, 5353, 53, NULL);
	struct flow lo4 = mk(AF_INET, "127.0.0.1", "127.0.0.1", IPPROTO_TCP, 1, 2, "TIME_WAIT");
	struct flow lo6 = mk(AF_INET6, "::1", "::1", IPPROTO_UDP, 1, 2, NULL);
	struct flow icmp = mk(AF_INET, "192.0.2.1", "192.0.2.2", IPPROTO_ICMP, 0, 0, NULL);

	filter_init(&fl);
	ok(filter_match(&fl, &tcp4) && filter_match(&fl, &udp6) && filter_match(&fl, &icmp),
	   "empty filter passes everything");
	{
		struct filter f2;
		int says_all = filter_passes_all(&fl), says_some = 0;

		filter_init(&f2);
		f2.want_v6 = false;
		says_some += !filter_passes_all(&f2);
		filter_init(&f2);
		filter_add_protos(&f2, "tcp", err, sizeof(err));
		says_some += !filter_passes_all(&f2);
		filter_init(&f2);
		filter_add_states(&f2, "ESTABLISHED", err, sizeof(err));
		says_some += !filter_passes_all(&f2);
		filter_init(&f2);
		filter_add_nets(&f2, true, "10.0.0.0/8", err, sizeof(err));
		says_some += !filter_passes_all(&f2);
		filter_init(&f2);
		filter_add_nets(&f2, false, "10.0.0.0/8", err, sizeof(err));
		says_some += !filter_passes_all(&f2);
		filter_init(&f2);
		filter_add_ports(&f2, "22", err, sizeof(err));
		says_some += !filter_passes_all(&f2);
		filter_init(&f2);
		f2.no_loopback = true;
		says_some += !filter_passes_all(&f2);
		ok(says_all && says_some == 7, "filter_passes_all: only with no filter at all");
	}

	ok(filter_add_protos(&fl, "tcp,icmpv6,132", err, sizeof(err)) == 0, "protocols by name, alias and number");
	ok(fl.proto[IPPROTO_TCP] && fl.proto[IPPROTO_ICMPV6] && fl.proto[132] && !fl.proto[IPPROTO_UDP],
	   "protocol set");
	ok(filter_match(&fl, &tcp4) && !filter_match(&fl, &udp6), "-p tcp keeps tcp, drops udp");
	ok(filter_add_protos(&fl, "tcpx", err, sizeof(err)) < 0 && strstr(err, "'tcpx'"),
	   "unknown protocol refused, quoted in the message");
	ok(filter_add_protos(&fl, "256", err, sizeof(err)) < 0, "protocol number out of range refused");
	ok(filter_add_protos(&fl, "", err, sizeof(err)) < 0, "empty list refused");

	filter_init(&fl);
	ok(filter_add_protos(&fl, "udp", err, sizeof(err)) == 0 && filter_dump_l4proto(&fl) == IPPROTO_UDP,
	   "one protocol can be filtered by the kernel in dumps");
	filter_add_protos(&fl, "tcp", err, sizeof(err));
	ok(filter_dump_l4proto(&fl) == -1, "two protocols cannot");

	filter_init(&fl);
	ok(filter_add_states(&fl, "established,TIME_WAIT", err, sizeof(err)) == 0, "states, any case");
	ok(filter_match(&fl, &tcp4) && filter_match(&fl, &lo4), "--state keeps those states");
	ok(!filter_match(&fl, &udp6), "--state drops stateless flows");
	ok(filter_add_states(&fl, "BOGUS", err, sizeof(err)) < 0, "unknown state refused");

	ok(filter_parse_net("10.1.2.3/8", &n) == 0 && n.prefix == 8 && n.addr.b[0] == 10 && n.addr.b[1] == 0,
	   "CIDR keeps the network part");
	ok(filter_parse_net("2001:db8::/33", &n) == 0 && n.family == AF_INET6 && n.prefix == 33, "IPv6 CIDR");
	ok(filter_parse_net("10.0.0.0/33", &n) < 0 && filter_parse_net("nope", &n) < 0 &&
	   filter_parse_net("10.0.0.0/", &n) < 0, "bad networks refused");

	filter_init(&fl);
	filter_add_nets(&fl, true, "192.0.2.0/25,2001:db8::/32", err, sizeof(err));
	ok(filter_match(&fl, &tcp4) && filter_match(&fl, &udp6) && !filter_match(&fl, &lo4),
	   "--src by network, both families");
	filter_init(&fl);
	filter_add_nets(&fl, false, "198.51.100.7", err, sizeof(err));
	ok(filter_match(&fl, &tcp4) && !filter_match(&fl, &icmp) && !filter_match(&fl, &udp6),
	   "--dst by host");
	filter_init(&fl);
	filter_add_nets(&fl, false, "2001:db8:1::/49", err, sizeof(err));
	ok(filter_match(&fl, &udp6), "--dst prefix not on a byte boundary");

	filter_init(&fl);
	ok(filter_add_ports(&fl, "53,443", err, sizeof(err)) == 0, "ports");
	ok(filter_match(&fl, &tcp4) && filter_match(&fl, &udp6) && !filter_match(&fl, &lo4),
	   "--port matches either side");
	ok(!filter_match(&fl, &icmp), "--port drops flows without ports");
	ok(filter_add_ports(&fl, "65536", err, sizeof(err)) < 0 && filter_add_ports(&fl, "x", err, sizeof(err)) < 0,
	   "bad ports refused");

	filter_init(&fl);
	fl.no_loopback = true;
	ok(!filter_match(&fl, &lo4) && !filter_match(&fl, &lo6) && filter_match(&fl, &tcp4),
	   "--no-loopback drops 127/8 and ::1");
	{
		struct flow mapped = mk(AF_INET6, "::ffff:127.0.0.1", "2001:db8::1", IPPROTO_TCP, 1, 2, NULL);

		ok(!filter_match(&fl, &mapped), "--no-loopback drops v4-mapped loopback");
	}

	filter_init(&fl);
	fl.want_v6 = false;
	ok(filter_match(&fl, &tcp4) && !filter_match(&fl, &udp6), "-4");
	return tap_done();
}
