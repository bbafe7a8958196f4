/*
 * flow.h - one conntrack flow, the unit that crosses every module.
 *
 * A struct flow is a plain value: the caller owns it (usually on the stack or
 * inside a table) and every string it points to is owned by someone else -
 * a static table, an enricher's cache or the view's string pool - and must
 * outlive the flow's use.  Which optional fields are known is said by the
 * FLOW_HAS_* bits in 'has' and, for strings, by a non-NULL pointer.
 */
#ifndef FLOWTOP_FLOW_H
#define FLOWTOP_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* What a record says happened; the markers carry no flow. */
enum flow_action {
	FLOW_SNAPSHOT,
	FLOW_NEW,
	FLOW_UPDATE,
	FLOW_DESTROY,
	FLOW_MARK_SNAPSHOT_BEGIN,
	FLOW_MARK_SNAPSHOT_END,
	FLOW_MARK_OVERRUN,
	FLOW_MARK_REFRESH,
	FLOW_ACTION_MAX,
};

/* An address in network byte order; v4 uses the first four bytes. */
union flow_addr {
	uint8_t b[16];
	uint32_t w[4];
	struct in_addr v4;
	struct in6_addr v6;
};

struct flow_tuple {
	union flow_addr src, dst;
	uint16_t sport, dport;		/* host byte order */
};

struct flow_geo {
	char country_iso[3];		/* "" when unknown */
	const char *country_name;
	const char *city_name;
	uint32_t as_number;		/* 0 when unknown */
	const char *as_org;
};

/* Bits of flow.has for the fields that have no NULL to say "unknown". */
enum {
	FLOW_HAS_TUPLE		= 1u << 0,	/* orig: family, l4proto, addresses */
	FLOW_HAS_PORTS		= 1u << 1,	/* orig ports (tcp, udp, sctp, ...) */
	FLOW_HAS_REPLY		= 1u << 2,	/* reply tuple */
	FLOW_HAS_ICMP		= 1u << 3,
	FLOW_HAS_STATUS		= 1u << 4,
	FLOW_HAS_TIMEOUT	= 1u << 5,
	FLOW_HAS_MARK		= 1u << 6,
	FLOW_HAS_ZONE		= 1u << 7,
	FLOW_HAS_ID		= 1u << 8,
	FLOW_HAS_COUNTERS	= 1u << 9,	/* both directions' bytes, packets */
	FLOW_HAS_START		= 1u << 10,
	FLOW_HAS_PID		= 1u << 11,
	FLOW_HAS_UID		= 1u << 12,
	FLOW_HAS_SRC_NAT	= 1u << 13,	/* derived from the reply tuple */
	FLOW_HAS_DST_NAT	= 1u << 14,
	FLOW_HAS_REPLY_PORTS	= 1u << 15,
};

struct flow {
	uint32_t has;			/* FLOW_HAS_* */
	uint8_t action;			/* enum flow_action */
	uint8_t family;			/* AF_INET, AF_INET6, 0 unknown */
	uint8_t l4proto;		/* IPPROTO_* */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id;
	uint16_t zone;
	uint64_t ts_ns;			/* record time, ns since the epoch */
	uint64_t start_ns;		/* conntrack start timestamp */
	struct flow_tuple orig, reply;
	const char *state;		/* TCP/SCTP/DCCP state name or NULL */
	uint32_t status;		/* IPS_* bits */
	uint32_t timeout, mark, id;
	uint64_t orig_bytes, orig_packets, reply_bytes, reply_packets;

	/* enrichment; NULL or zero when not known */
	const char *protocol;		/* application protocol, lowercase */
	const char *host_name, *host_id;	/* this machine's (emit/host.h) */
	const char *direction;		/* "ingress", "egress" (emit/localaddr.h) */
	uint64_t end_ns;		/* destroy: the kernel's stop time, else when
					 * the emitter saw the flow gone */
	char community_id[31];		/* Community ID v1 (emit/community.h),
					 * "" when not known */
	const char *src_domain, *dst_domain;
	struct flow_geo src_geo, dst_geo;
	uint32_t pid, uid;
	const char *process_name, *process_exe, *user_name;

	/* where the flow lives, when other namespaces are watched (--netns,
	 * --all-netns); 0 and NULL in a plain run */
	uint64_t netns_ino;		/* the network namespace's inode */
	const char *netns_name;		/* its ip-netns name */
	const char *container_id, *container_name, *container_runtime;
	const char *pod_uid;		/* Kubernetes pod uid */
};

/* What tells one flow from another (tracker_find()'s key): the network
 * namespace, the conntrack id, family, protocol, original tuple, ICMP
 * identity and zone, with the FLOW_HAS_* bits of those fields.  Small enough to keep per waiting flow;
 * flow_key_of() zeroes the padding, so keys compare with memcmp(). */
struct flow_key {
	uint64_t netns_ino;		/* two namespaces can hold the same flow */
	uint32_t id;
	uint32_t has;			/* FLOW_HAS_* of the fields below */
	uint8_t family, l4proto, icmp_type, icmp_code;
	uint16_t icmp_id, zone;
	struct flow_tuple orig;
};

/* Take f's key into k. */
void flow_key_of(const struct flow *f, struct flow_key *k);

/* Make f a flow with nothing but the fields of key k. */
void flow_from_key(const struct flow_key *k, struct flow *f);

/* Names of an action as written in event.action, and back (-1 if unknown). */
const char *flow_action_name(enum flow_action a);
int flow_action_parse(const char *s, size_t len);

/* True for the markers, which carry no flow fields. */
static inline bool flow_action_is_marker(int a)
{
	return a >= FLOW_MARK_SNAPSHOT_BEGIN && a < FLOW_ACTION_MAX;
}

/* Transport name as written in network.transport ("tcp", "ipv6-icmp"),
 * NULL for a number without a name. */
const char *flow_l4proto_name(uint8_t l4proto);

/* Parse a transport name or number; -1 when unknown. */
int flow_l4proto_parse(const char *s);

/* Fill the state name for the kernel's per-protocol state number. */
const char *flow_state_name(uint8_t l4proto, uint8_t state);

/* Name of status bit 'bit' as conntrack(8) prints it, or NULL. */
const char *flow_status_name(unsigned int bit);
int flow_status_parse(const char *s, size_t len);

/* Work out source.nat / destination.nat from the two tuples. */
void flow_derive_nat(struct flow *f);

/* Write an address as text into buf (at least INET6_ADDRSTRLEN bytes). */
const char *flow_addr_str(int family, const union flow_addr *a, char *buf, size_t len);

/* Decimal digits of v into buf (at least 21 bytes); returns the length. */
size_t flow_u64_str(uint64_t v, char *buf);

/* Time as RFC 3339 UTC with microseconds into buf (at least 32 bytes). */
size_t flow_time_str(uint64_t ns, char *buf, size_t len);

/* Parse an RFC 3339 time written by flow_time_str; 0 on success. */
int flow_time_parse(const char *s, size_t len, uint64_t *ns);

/* Current wall clock in ns since the epoch. */
uint64_t flow_now_ns(void);

#endif
