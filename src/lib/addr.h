/*
 * addr.h - what an address is: the one place that classifies addresses
 * (loopback, globally routable or not, a host at all), handles IPv4 mapped
 * into IPv6 (::ffff:a.b.c.d), compares and hashes them.  Each test's name
 * says exactly which set it tests, since "local" meant three different
 * things in three modules.  This host's own addresses, which change, are
 * the emitter's localaddr.h.
 *
 * Addresses are union flow_addr (flow.h) with a family, AF_INET or
 * AF_INET6.  Pure functions: nothing is owned or kept.
 */
#ifndef FLOWTOP_ADDR_H
#define FLOWTOP_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "flow.h"

/* Bytes of an address of that family: 4 for AF_INET, else 16. */
size_t addr_len(int family);

/* Same family and same address bytes. */
bool addr_eq(int fa, const union flow_addr *a, int fb, const union flow_addr *b);

/* A hash (hash.h) of family and address bytes, for tables keyed by address. */
uint64_t addr_hash(int family, const union flow_addr *a);

/* Whether a is IPv6 ::ffff:a.b.c.d. */
bool addr_is_v4mapped(int family, const union flow_addr *a);

/* Copy a to *out, a v4-mapped IPv6 address as the plain IPv4 one (the rest
 * of *out zeroed); returns the family of *out.  a and out may be the same. */
int addr_unmap(int family, const union flow_addr *a, union flow_addr *out);

/* a (4 or 16 bytes, as family says) in the 16-byte IPv6 form, IPv4 as
 * ::ffff:a.b.c.d: one key for IPv4 and dual-stack IPv6 sockets alike.
 * Inline: the socket map converts every socket and every flow's tuple. */
static inline void addr_to_v6(int family, const void *a, uint8_t out[16])
{
	static const uint8_t v4pre[12] = { [10] = 0xff, [11] = 0xff };

	if (family == AF_INET) {
		memcpy(out, v4pre, 12);
		memcpy(out + 12, a, 4);
	} else {
		memcpy(out, a, 16);
	}
}

/* Loopback: 127.0.0.0/8, ::1, and v4-mapped 127/8. */
bool addr_is_loopback(int family, const union flow_addr *a);

/* Not globally routable, so no registry or GeoIP database can place it:
 * unspecified and 0/8, loopback, RFC 1918, 100.64/10 (CGN), link-local,
 * multicast, 240/4 and broadcast; ::, ::1, fc00::/7 (ULA), fe80::/10,
 * fec0::/10, ff00::/8; v4-mapped ones by their IPv4 rule.  An unknown
 * family counts as non-global. */
bool addr_is_non_global(int family, const union flow_addr *a);

/* An address no single host answers to, so there is no name to ask for:
 * 0/8, multicast, 240/4 and broadcast; ::, ff00::/8.  Unknown family too.
 * (v4-mapped addresses are not unmapped here: unmap first.) */
bool addr_is_no_host(int family, const union flow_addr *a);

#endif
