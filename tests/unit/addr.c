/*
 * addr.c - each address test says which set it tests: loopback, non-global,
 * no single host; v4-mapped addresses by their IPv4 rule.
 */
#include <arpa/inet.h>

#include "addr.h"
#include "tap.h"

static int parse(const char *s, union flow_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a) == 1)
		return AF_INET;
	inet_pton(AF_INET6, s, a);
	return AF_INET6;
}

struct row {
	const char *a;
	bool loopback, non_global, no_host;
};

int main(void)
{
	static const struct row rows[] = {
		{ "127.0.0.1", 1, 1, 0 },	{ "127.255.0.9", 1, 1, 0 },
		{ "::1", 1, 1, 0 },		{ "::ffff:127.0.0.2", 1, 1, 0 },
		{ "0.0.0.0", 0, 1, 1 },		{ "0.1.2.3", 0, 1, 1 },
		{ "::", 0, 1, 1 },		{ "10.1.2.3", 0, 1, 0 },
		{ "172.16.0.1", 0, 1, 0 },	{ "172.32.0.1", 0, 0, 0 },
		{ "192.168.1.1", 0, 1, 0 },	{ "100.64.0.1", 0, 1, 0 },
		{ "100.128.0.1", 0, 0, 0 },	{ "169.254.1.1", 0, 1, 0 },
		{ "224.0.0.1", 0, 1, 1 },	{ "255.255.255.255", 0, 1, 1 },
		{ "8.8.8.8", 0, 0, 0 },		{ "::ffff:8.8.8.8", 0, 0, 0 },
		{ "::ffff:10.0.0.1", 0, 1, 0 },	{ "fd00::1", 0, 1, 0 },
		{ "fe80::1", 0, 1, 0 },		{ "fec0::1", 0, 1, 0 },
		{ "ff02::1", 0, 1, 1 },		{ "2001:db8::1", 0, 0, 0 },
		{ "2a00:1450::1", 0, 0, 0 },
	};
	union flow_addr a, b;
	uint8_t k[16];
	int f;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];

		f = parse(r->a, &a);
		ok(addr_is_loopback(f, &a) == r->loopback && addr_is_non_global(f, &a) == r->non_global &&
		   addr_is_no_host(f, &a) == r->no_host,
		   "%s: loopback %d, non-global %d, no host %d", r->a, r->loopback, r->non_global,
		   r->no_host);
	}
	ok(addr_is_non_global(AF_UNIX, &a) && addr_is_no_host(AF_UNIX, &a) &&
	   !addr_is_loopback(AF_UNIX, &a), "an unknown family: non-global, no host, not loopback");

	f = parse("::ffff:192.0.2.7", &a);
	ok(addr_is_v4mapped(f, &a), "::ffff:192.0.2.7 is v4-mapped");
	f = addr_unmap(f, &a, &b);
	parse("192.0.2.7", &a);
	ok(f == AF_INET && addr_eq(f, &b, AF_INET, &a) && b.w[1] == 0 && b.w[3] == 0,
	   "unmapped: AF_INET 192.0.2.7, the rest zero");
	memset(&a, 0, sizeof(a));
	a.b[10] = a.b[11] = 0xff;	/* bytes past an IPv4 address mean nothing */
	a.b[12] = 192;
	ok(!addr_is_v4mapped(AF_INET, &a) && addr_unmap(AF_INET, &a, &b) == AF_INET &&
	   b.w[0] == 0 && b.b[12] == 192, "an IPv4 address is never v4-mapped, whatever follows it");
	f = parse("2001:db8::1", &a);
	ok(addr_unmap(f, &a, &a) == AF_INET6 && !addr_is_v4mapped(f, &a),
	   "a plain IPv6 address stays as it is");
	f = parse("192.0.2.7", &a);
	addr_to_v6(f, &a, k);
	memcpy(b.b, k, 16);
	ok(addr_is_v4mapped(AF_INET6, &b) && k[12] == 192 && k[15] == 7, "addr_to_v6 maps IPv4");
	parse("192.0.2.8", &b);
	ok(!addr_eq(AF_INET, &a, AF_INET, &b) && addr_hash(AF_INET, &a) != addr_hash(AF_INET, &b),
	   "neighbour addresses differ and hash apart");
	ok(!addr_eq(AF_INET, &a, AF_INET6, &a) && addr_hash(AF_INET, &a) != addr_hash(AF_INET6, &a),
	   "the family is part of the address");

	return tap_done();
}
