/*
 * addr.c - address classification (see addr.h).
 */
#include "addr.h"

#include <string.h>
#include <sys/socket.h>

#include "hash.h"

static const uint8_t v4pre[12] = { [10] = 0xff, [11] = 0xff };

size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

bool addr_eq(int fa, const union flow_addr *a, int fb, const union flow_addr *b)
{
	return fa == fb && !memcmp(a->b, b->b, addr_len(fa));
}

uint64_t addr_hash(int family, const union flow_addr *a)
{
	/* the two families differ in length, so the bytes alone tell them apart */
	return hash_bytes(a->b, addr_len(family));
}

bool addr_is_v4mapped(int family, const union flow_addr *a)
{
	return family == AF_INET6 && !memcmp(a->b, v4pre, 12);
}

int addr_unmap(int family, const union flow_addr *a, union flow_addr *out)
{
	if (addr_is_v4mapped(family, a)) {
		uint32_t w = a->w[3];

		memset(out, 0, sizeof(*out));
		out->w[0] = w;
		return AF_INET;
	}
	if (out != a)
		*out = *a;
	return family;
}

bool addr_is_loopback(int family, const union flow_addr *a)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	if (family == AF_INET)
		return a->b[0] == 127;
	return family == AF_INET6 &&
	       (!memcmp(a->b, lo6, 16) || (addr_is_v4mapped(family, a) && a->b[12] == 127));
}

static bool v4_non_global(const uint8_t *b)
{
	return b[0] == 0 || b[0] == 10 || b[0] == 127 ||
	       (b[0] == 100 && (b[1] & 0xc0) == 64) ||		/* 100.64/10 CGN */
	       (b[0] == 169 && b[1] == 254) ||
	       (b[0] == 172 && (b[1] & 0xf0) == 16) ||
	       (b[0] == 192 && b[1] == 168) ||
	       b[0] >= 224;		/* multicast, reserved, broadcast */
}

bool addr_is_non_global(int family, const union flow_addr *a)
{
	static const uint8_t zero[15];
	const uint8_t *b = a->b;

	if (family == AF_INET)
		return v4_non_global(b);
	if (family != AF_INET6)
		return true;
	if (!memcmp(b, zero, 15) && b[15] <= 1)		/* ::, ::1 */
		return true;
	if (addr_is_v4mapped(family, a))
		return v4_non_global(b + 12);
	return (b[0] & 0xfe) == 0xfc ||			/* fc00::/7 ULA */
	       (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||	/* fe80::/10 */
	       (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) ||	/* fec0::/10 */
	       b[0] == 0xff;				/* multicast */
}

bool addr_is_no_host(int family, const union flow_addr *a)
{
	if (family == AF_INET)
		return a->b[0] == 0 || a->b[0] >= 224;
	if (family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&a->v6) || a->b[0] == 0xff;
	return true;
}
