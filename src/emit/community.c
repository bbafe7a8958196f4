/*
 * community.c - Community ID v1 (rules in community.h).  SHA-1 and base64
 * come from nettle: a well-kept library, never our own.
 */
#include "community.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <nettle/base64.h>
#include <nettle/sha1.h>

_Static_assert(sizeof(((struct flow *)0)->community_id) == COMMUNITY_ID_SIZE,
	       "struct flow keeps a whole Community ID");

/* The spec follows Zeek's ICMP "port" mapping: a request and its reply
 * (either way round) get the same pair, so both directions hash alike.
 * Returns the counterpart type, or -1 for a one-way type. */
static int icmp4_counterpart(uint8_t type)
{
	switch (type) {
	case 8: return 0;	/* echo -> echo reply */
	case 0: return 8;
	case 13: return 14;	/* timestamp */
	case 14: return 13;
	case 15: return 16;	/* information */
	case 16: return 15;
	case 10: return 9;	/* router solicitation -> advertisement */
	case 9: return 10;
	case 17: return 18;	/* address mask */
	case 18: return 17;
	default: return -1;
	}
}

static int icmp6_counterpart(uint8_t type)
{
	switch (type) {
	case 128: return 129;	/* echo request -> reply */
	case 129: return 128;
	case 130: return 131;	/* multicast listener query -> report */
	case 131: return 130;
	case 133: return 134;	/* router solicitation -> advertisement */
	case 134: return 133;
	case 135: return 136;	/* neighbour solicitation -> advertisement */
	case 136: return 135;
	case 139: return 140;	/* node information query -> reply */
	case 140: return 139;
	case 144: return 145;	/* home agent address discovery */
	case 145: return 144;
	default: return -1;
	}
}

int community_format(const struct flow *f, uint16_t seed, char *buf, size_t len)
{
	size_t alen = f->family == AF_INET ? 4 : f->family == AF_INET6 ? 16 : 0;
	const uint8_t *a = f->orig.src.b, *b = f->orig.dst.b;
	uint16_t pa = 0, pb = 0;
	bool ports = true, one_way = false;
	uint8_t digest[SHA1_DIGEST_SIZE], bytes[2];
	struct sha1_ctx ctx;
	int cmp;

	if (len < COMMUNITY_ID_SIZE) {
		errno = ENOSPC;
		return -1;
	}
	if (!alen || !(f->has & FLOW_HAS_TUPLE)) {
		errno = EINVAL;
		return -1;
	}
	switch (f->l4proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		if (!(f->has & FLOW_HAS_PORTS)) {
			errno = EINVAL;
			return -1;
		}
		pa = f->orig.sport;
		pb = f->orig.dport;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		int other = f->l4proto == IPPROTO_ICMP ? icmp4_counterpart(f->icmp_type)
						       : icmp6_counterpart(f->icmp_type);

		if (!(f->has & FLOW_HAS_ICMP)) {
			errno = EINVAL;
			return -1;
		}
		pa = f->icmp_type;
		pb = other < 0 ? f->icmp_code : (uint16_t)other;
		one_way = other < 0;
		break;
	}
	default:
		/* the spec hashes other protocols (udplite and dccp among
		 * them) by addresses alone */
		ports = false;
		break;
	}
	cmp = memcmp(a, b, alen);
	if (!one_way && (cmp > 0 || (cmp == 0 && ports && pa > pb))) {
		const uint8_t *t = a;
		uint16_t tp = pa;

		a = b;
		b = t;
		pa = pb;
		pb = tp;
	}

	sha1_init(&ctx);
	bytes[0] = (uint8_t)(seed >> 8);
	bytes[1] = (uint8_t)seed;
	sha1_update(&ctx, 2, bytes);
	sha1_update(&ctx, alen, a);
	sha1_update(&ctx, alen, b);
	bytes[0] = f->l4proto;
	bytes[1] = 0;
	sha1_update(&ctx, 2, bytes);
	if (ports) {
		bytes[0] = (uint8_t)(pa >> 8);
		bytes[1] = (uint8_t)pa;
		sha1_update(&ctx, 2, bytes);
		bytes[0] = (uint8_t)(pb >> 8);
		bytes[1] = (uint8_t)pb;
		sha1_update(&ctx, 2, bytes);
	}
	sha1_digest(&ctx, sizeof(digest), digest);

	memcpy(buf, "1:", 2);
	base64_encode_raw(buf + 2, sizeof(digest), digest);
	buf[2 + BASE64_ENCODE_RAW_LENGTH(sizeof(digest))] = '\0';
	return 2 + BASE64_ENCODE_RAW_LENGTH(sizeof(digest));
}
