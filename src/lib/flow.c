/*
 * flow.c - names and small helpers around struct flow.
 */
#include "flow.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const action_names[FLOW_ACTION_MAX] = {
	[FLOW_SNAPSHOT] = "snapshot",
	[FLOW_NEW] = "new",
	[FLOW_UPDATE] = "update",
	[FLOW_DESTROY] = "destroy",
	[FLOW_MARK_SNAPSHOT_BEGIN] = "snapshot-begin",
	[FLOW_MARK_SNAPSHOT_END] = "snapshot-end",
	[FLOW_MARK_OVERRUN] = "overrun",
	[FLOW_MARK_REFRESH] = "refresh",
};

const char *flow_action_name(enum flow_action a)
{
	return (unsigned)a < FLOW_ACTION_MAX ? action_names[a] : NULL;
}

int flow_action_parse(const char *s, size_t len)
{
	for (int i = 0; i < FLOW_ACTION_MAX; i++)
		if (strlen(action_names[i]) == len && !memcmp(s, action_names[i], len))
			return i;
	return -1;
}

/* IANA keywords, lowercase, as ECS asks for network.transport. */
static const struct {
	uint8_t num;
	const char *name;
} l4names[] = {
	{ IPPROTO_TCP, "tcp" },
	{ IPPROTO_UDP, "udp" },
	{ IPPROTO_ICMP, "icmp" },
	{ IPPROTO_ICMPV6, "ipv6-icmp" },
	{ IPPROTO_UDPLITE, "udplite" },
	{ IPPROTO_SCTP, "sctp" },
	{ IPPROTO_DCCP, "dccp" },
	{ IPPROTO_GRE, "gre" },
	{ IPPROTO_IGMP, "igmp" },
	{ IPPROTO_ESP, "esp" },
	{ IPPROTO_AH, "ah" },
};

const char *flow_l4proto_name(uint8_t l4proto)
{
	for (size_t i = 0; i < sizeof(l4names) / sizeof(l4names[0]); i++)
		if (l4names[i].num == l4proto)
			return l4names[i].name;
	return NULL;
}

int flow_l4proto_parse(const char *s)
{
	char *end;
	long n;

	if (!strcasecmp(s, "icmpv6") || !strcasecmp(s, "icmp6"))
		return IPPROTO_ICMPV6;
	for (size_t i = 0; i < sizeof(l4names) / sizeof(l4names[0]); i++)
		if (!strcasecmp(s, l4names[i].name))
			return l4names[i].num;
	n = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || n < 0 || n > 255)
		return -1;
	return (int)n;
}

static const char *const tcp_states[] = {
	"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
	"CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2",
};
static const char *const sctp_states[] = {
	"NONE", "CLOSED", "COOKIE_WAIT", "COOKIE_ECHOED", "ESTABLISHED",
	"SHUTDOWN_SENT", "SHUTDOWN_RECD", "SHUTDOWN_ACK_SENT",
	"HEARTBEAT_SENT", "HEARTBEAT_ACKED",
};
static const char *const dccp_states[] = {
	"NONE", "REQUEST", "RESPOND", "PARTOPEN", "OPEN", "CLOSEREQ",
	"CLOSING", "TIMEWAIT", "IGNORE", "INVALID",
};

#define NSTATES(a) (sizeof(a) / sizeof((a)[0]))

const char *flow_state_name(uint8_t l4proto, uint8_t state)
{
	switch (l4proto) {
	case IPPROTO_TCP:
		return state < NSTATES(tcp_states) ? tcp_states[state] : NULL;
	case IPPROTO_SCTP:
		return state < NSTATES(sctp_states) ? sctp_states[state] : NULL;
	case IPPROTO_DCCP:
		return state < NSTATES(dccp_states) ? dccp_states[state] : NULL;
	}
	return NULL;
}

/* Bit order of the kernel's enum ip_conntrack_status. */
static const char *const status_names[] = {
	"EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED", "SRC_NAT",
	"DST_NAT", "SEQ_ADJUST", "SRC_NAT_DONE", "DST_NAT_DONE", "DYING",
	"FIXED_TIMEOUT", "TEMPLATE", "NAT_CLASH", "HELPER", "OFFLOAD",
	"HW_OFFLOAD",
};

const char *flow_status_name(unsigned int bit)
{
	return bit < NSTATES(status_names) ? status_names[bit] : NULL;
}

int flow_status_parse(const char *s, size_t len)
{
	for (size_t i = 0; i < NSTATES(status_names); i++)
		if (strlen(status_names[i]) == len && !memcmp(s, status_names[i], len))
			return (int)i;
	return -1;
}

static size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

void flow_derive_nat(struct flow *f)
{
	size_t n = addr_len(f->family);
	bool ports = f->has & FLOW_HAS_PORTS && f->has & FLOW_HAS_REPLY_PORTS;

	f->has &= ~(FLOW_HAS_SRC_NAT | FLOW_HAS_DST_NAT);
	if (!(f->has & FLOW_HAS_REPLY) || !(f->has & FLOW_HAS_TUPLE))
		return;
	/* SNAT rewrites where replies go; DNAT rewrites where they come from. */
	if (memcmp(&f->orig.src, &f->reply.dst, n) ||
	    (ports && f->orig.sport != f->reply.dport))
		f->has |= FLOW_HAS_SRC_NAT;
	if (memcmp(&f->orig.dst, &f->reply.src, n) ||
	    (ports && f->orig.dport != f->reply.sport))
		f->has |= FLOW_HAS_DST_NAT;
}

/* Decimal digits of v into buf (at least 20 bytes), returns the length; the
 * record writers format millions of numbers and snprintf shows in profiles. */
size_t flow_u64_str(uint64_t v, char *buf)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	char tmp[20], *p = tmp + sizeof(tmp);
	size_t n;

	while (v >= 100) {
		unsigned int r = (unsigned int)(v % 100) * 2;

		v /= 100;
		*--p = pairs[r + 1];
		*--p = pairs[r];
	}
	if (v >= 10) {
		*--p = pairs[v * 2 + 1];
		*--p = pairs[v * 2];
	} else {
		*--p = (char)('0' + v);
	}
	n = (size_t)(tmp + sizeof(tmp) - p);
	memcpy(buf, p, n);
	buf[n] = '\0';
	return n;
}

const char *flow_addr_str(int family, const union flow_addr *a, char *buf, size_t len)
{
	if (family == AF_INET && len >= INET_ADDRSTRLEN) {
		/* glibc's inet_ntop goes through sprintf; this is the hot path */
		char *p = buf;

		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p += flow_u64_str(a->b[i], p);
		}
		return buf;
	}
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

/* n decimal digits of v at p, leading zeros kept */
static void put_digits(char *p, unsigned int v, int n)
{
	while (n--) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

size_t flow_time_str(uint64_t ns, char *buf, size_t len)
{
	/* this runs for every record: gmtime_r (25 ns) and fixed-width digits
	 * instead of strftime, and no cache of the last second to keep */
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;

	if (len < 28 || !gmtime_r(&sec, &tm) || tm.tm_year > 9999 - 1900) {
		if (len)
			buf[0] = '\0';
		return 0;
	}
	put_digits(buf, (unsigned int)tm.tm_year + 1900, 4);
	buf[4] = '-';
	put_digits(buf + 5, (unsigned int)tm.tm_mon + 1, 2);
	buf[7] = '-';
	put_digits(buf + 8, (unsigned int)tm.tm_mday, 2);
	buf[10] = 'T';
	put_digits(buf + 11, (unsigned int)tm.tm_hour, 2);
	buf[13] = ':';
	put_digits(buf + 14, (unsigned int)tm.tm_min, 2);
	buf[16] = ':';
	put_digits(buf + 17, (unsigned int)tm.tm_sec, 2);
	buf[19] = '.';
	put_digits(buf + 20, (unsigned int)(ns % 1000000000u / 1000u), 6);
	buf[26] = 'Z';
	buf[27] = '\0';
	return 27;
}

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int flow_time_parse(const char *s, size_t len, uint64_t *ns)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, se;
	uint64_t frac = 0, scale = 1000000000u;
	size_t i = 19;
	time_t t;

	if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
		return -1;
	if (s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(s[i] - '0') * scale;
			}
		}
	}
	if (i != len - 1 || s[i] != 'Z')
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	if (t < 0)
		return -1;
	*ns = (uint64_t)t * 1000000000u + frac;
	return 0;
}

uint64_t flow_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void flow_key_of(const struct flow *f, struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->id = f->id;
	k->has = f->has & (FLOW_HAS_TUPLE | FLOW_HAS_PORTS | FLOW_HAS_ICMP | FLOW_HAS_ID |
			   FLOW_HAS_ZONE);
	k->family = f->family;
	k->l4proto = f->l4proto;
	k->icmp_type = f->icmp_type;
	k->icmp_code = f->icmp_code;
	k->icmp_id = f->icmp_id;
	k->zone = f->zone;
	k->orig = f->orig;
	k->netns_ino = f->netns_ino;
}

void flow_from_key(const struct flow_key *k, struct flow *f)
{
	memset(f, 0, sizeof(*f));
	f->has = k->has;
	f->id = k->id;
	f->family = k->family;
	f->l4proto = k->l4proto;
	f->icmp_type = k->icmp_type;
	f->icmp_code = k->icmp_code;
	f->icmp_id = k->icmp_id;
	f->zone = k->zone;
	f->orig = k->orig;
	f->netns_ino = k->netns_ino;
}
