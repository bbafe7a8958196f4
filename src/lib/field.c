/*
 * field.c - the one table of record fields.
 *
 * Order matters: the JSON writer opens and closes objects by comparing each
 * field's path with the previous one, so every object's fields sit together.
 */
#include "field.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool put_str(struct field_value *v, const char *s)
{
	if (!s)
		return false;
	v->type = FIELD_STR;
	v->s = s;
	v->len = strlen(s);
	return true;
}

static bool put_buf(struct field_value *v, size_t len)
{
	v->type = FIELD_STR;
	v->s = v->buf;
	v->len = len;
	return true;
}

static bool put_uint(struct field_value *v, uint64_t u)
{
	v->type = FIELD_UINT;
	v->u = u;
	return true;
}

static bool put_addr(const struct flow *f, const union flow_addr *a, struct field_value *v)
{
	flow_addr_str(f->family, a, v->buf, sizeof(v->buf));
	return put_buf(v, strlen(v->buf));
}

static int set_ignore(struct flow *f, const struct field_value *v,
		      field_intern_fn intern, void *ctx)
{
	(void)f, (void)v, (void)intern, (void)ctx;
	return 0;
}

static int set_string(const char **dst, const struct field_value *v,
		      field_intern_fn intern, void *ctx)
{
	const char *s;

	if (v->type != FIELD_STR)
		return -1;
	s = intern(ctx, v->s, v->len);
	if (!s)
		return -1;
	*dst = s;
	return 0;
}

/* A field value as a NUL-terminated string in a small stack buffer. */
static int value_cstr(const struct field_value *v, char *buf, size_t len)
{
	if (v->type != FIELD_STR || v->len >= len || memchr(v->s, '\0', v->len))
		return -1;
	memcpy(buf, v->s, v->len);
	buf[v->len] = '\0';
	return 0;
}

static int set_addr(struct flow *f, union flow_addr *a, const struct field_value *v)
{
	char buf[INET6_ADDRSTRLEN];
	int fam;

	if (value_cstr(v, buf, sizeof(buf)))
		return -1;
	fam = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (f->family && f->family != fam)
		return -1;
	memset(a, 0, sizeof(*a));
	if (inet_pton(fam, buf, a) != 1)
		return -1;
	f->family = (uint8_t)fam;
	return 0;
}

static int want_uint(const struct field_value *v, uint64_t max, uint64_t *out)
{
	char buf[24], *end;
	unsigned long long u;

	if (v->type == FIELD_UINT) {
		u = v->u;
	} else {
		/* CSV hands numbers over as text */
		if (value_cstr(v, buf, sizeof(buf)) || !buf[0] || buf[0] == '-')
			return -1;
		u = strtoull(buf, &end, 10);
		if (*end)
			return -1;
	}
	if (u > max)
		return -1;
	*out = u;
	return 0;
}

/* --- @timestamp and event.* --------------------------------------------- */

static bool get_timestamp(const struct flow *f, struct field_value *v)
{
	return put_buf(v, flow_time_str(f->ts_ns, v->buf, sizeof(v->buf)));
}

static int set_timestamp(struct flow *f, const struct field_value *v,
			 field_intern_fn intern, void *ctx)
{
	(void)intern, (void)ctx;
	return v->type == FIELD_STR ? flow_time_parse(v->s, v->len, &f->ts_ns) : -1;
}

static bool get_action(const struct flow *f, struct field_value *v)
{
	return put_str(v, flow_action_name(f->action));
}

static int set_action(struct flow *f, const struct field_value *v,
		      field_intern_fn intern, void *ctx)
{
	int a;

	(void)intern, (void)ctx;
	if (v->type != FIELD_STR || (a = flow_action_parse(v->s, v->len)) < 0)
		return -1;
	f->action = (uint8_t)a;
	return 0;
}

static bool get_kind(const struct flow *f, struct field_value *v)
{
	/* ECS: a dump reports state, the others are events */
	return put_str(v, f->action == FLOW_SNAPSHOT ? "state" : "event");
}

static bool get_category(const struct flow *f, struct field_value *v)
{
	(void)f;
	v->type = FIELD_LIST;
	v->list[0] = "network";
	v->nlist = 1;
	return true;
}

static bool get_type(const struct flow *f, struct field_value *v)
{
	v->type = FIELD_LIST;
	v->list[0] = "connection";
	v->list[1] = f->action == FLOW_NEW ? "start" :
		     f->action == FLOW_DESTROY ? "end" : "info";
	v->nlist = 2;
	return true;
}

/* --- network.* ------------------------------------------------------------ */

static bool get_net_type(const struct flow *f, struct field_value *v)
{
	return put_str(v, f->family == AF_INET ? "ipv4" :
			  f->family == AF_INET6 ? "ipv6" : NULL);
}

static int set_net_type(struct flow *f, const struct field_value *v,
			field_intern_fn intern, void *ctx)
{
	int fam;

	(void)intern, (void)ctx;
	if (v->type != FIELD_STR || v->len != 4)
		return -1;
	if (!memcmp(v->s, "ipv4", 4))
		fam = AF_INET;
	else if (!memcmp(v->s, "ipv6", 4))
		fam = AF_INET6;
	else
		return -1;
	if (f->family && f->family != fam)
		return -1;
	f->family = (uint8_t)fam;
	return 0;
}

static bool get_transport(const struct flow *f, struct field_value *v)
{
	return f->has & FLOW_HAS_TUPLE && put_str(v, flow_l4proto_name(f->l4proto));
}

static int set_transport(struct flow *f, const struct field_value *v,
			 field_intern_fn intern, void *ctx)
{
	char buf[16];
	int p;

	(void)intern, (void)ctx;
	if (value_cstr(v, buf, sizeof(buf)) || (p = flow_l4proto_parse(buf)) < 0)
		return -1;
	f->l4proto = (uint8_t)p;
	return 0;
}

static bool get_iana(const struct flow *f, struct field_value *v)
{
	if (!(f->has & FLOW_HAS_TUPLE))
		return false;
	return put_buf(v, flow_u64_str(f->l4proto, v->buf));
}

static int set_iana(struct flow *f, const struct field_value *v,
		    field_intern_fn intern, void *ctx)
{
	uint64_t u;

	(void)intern, (void)ctx;
	if (want_uint(v, 255, &u))
		return -1;
	f->l4proto = (uint8_t)u;
	return 0;
}

static bool get_app_proto(const struct flow *f, struct field_value *v)
{
	return put_str(v, f->protocol);
}

static int set_app_proto(struct flow *f, const struct field_value *v,
			 field_intern_fn intern, void *ctx)
{
	return set_string(&f->protocol, v, intern, ctx);
}

static bool get_net_bytes(const struct flow *f, struct field_value *v)
{
	return f->has & FLOW_HAS_COUNTERS && put_uint(v, f->orig_bytes + f->reply_bytes);
}

static bool get_net_packets(const struct flow *f, struct field_value *v)
{
	return f->has & FLOW_HAS_COUNTERS && put_uint(v, f->orig_packets + f->reply_packets);
}

/* --- per-end fields, generated for source and destination ---------------- */

/* Getters and setters of a flow_geo, for either end. */
#define GEO_FIELDS(end, geo)							\
static bool get_##end##_cc(const struct flow *f, struct field_value *v)	\
{									\
	return f->geo.country_iso[0] && put_str(v, f->geo.country_iso);	\
}									\
static int set_##end##_cc(struct flow *f, const struct field_value *v,	\
			  field_intern_fn intern, void *ctx)		\
{									\
	(void)intern, (void)ctx;					\
	if (v->type != FIELD_STR || v->len != 2)			\
		return -1;						\
	memcpy(f->geo.country_iso, v->s, 2);				\
	f->geo.country_iso[2] = '\0';					\
	return 0;							\
}									\
static bool get_##end##_country(const struct flow *f, struct field_value *v) \
{									\
	return put_str(v, f->geo.country_name);				\
}									\
static int set_##end##_country(struct flow *f, const struct field_value *v, \
			       field_intern_fn intern, void *ctx)	\
{									\
	return set_string(&f->geo.country_name, v, intern, ctx);	\
}									\
static bool get_##end##_city(const struct flow *f, struct field_value *v) \
{									\
	return put_str(v, f->geo.city_name);				\
}									\
static int set_##end##_city(struct flow *f, const struct field_value *v, \
			    field_intern_fn intern, void *ctx)		\
{									\
	return set_string(&f->geo.city_name, v, intern, ctx);		\
}									\
static bool get_##end##_asn(const struct flow *f, struct field_value *v) \
{									\
	return f->geo.as_number && put_uint(v, f->geo.as_number);	\
}									\
static int set_##end##_asn(struct flow *f, const struct field_value *v,	\
			   field_intern_fn intern, void *ctx)		\
{									\
	uint64_t u;							\
	(void)intern, (void)ctx;					\
	if (want_uint(v, UINT32_MAX, &u))				\
		return -1;						\
	f->geo.as_number = (uint32_t)u;					\
	return 0;							\
}									\
static bool get_##end##_asorg(const struct flow *f, struct field_value *v) \
{									\
	return put_str(v, f->geo.as_org);				\
}									\
static int set_##end##_asorg(struct flow *f, const struct field_value *v, \
			     field_intern_fn intern, void *ctx)		\
{									\
	return set_string(&f->geo.as_org, v, intern, ctx);		\
}

GEO_FIELDS(src, src_geo)
GEO_FIELDS(dst, dst_geo)

/* An address and a port of a tuple, guarded by has-bits. */
#define ADDR_PORT_FIELDS(name, tup, end, hasaddr, hasport, setbits)		\
static bool get_##name##_ip(const struct flow *f, struct field_value *v)	\
{									\
	return (f->has & (hasaddr)) == (hasaddr) && put_addr(f, &f->tup.end, v); \
}									\
static int set_##name##_ip(struct flow *f, const struct field_value *v,	\
			   field_intern_fn intern, void *ctx)		\
{									\
	(void)intern, (void)ctx;					\
	if (set_addr(f, &f->tup.end, v))				\
		return -1;						\
	f->has |= (setbits);						\
	return 0;							\
}									\
static bool get_##name##_port(const struct flow *f, struct field_value *v) \
{									\
	return (f->has & (hasport)) == (hasport) && put_uint(v, f->tup.end##port); \
}									\
static int set_##name##_port(struct flow *f, const struct field_value *v, \
			     field_intern_fn intern, void *ctx)		\
{									\
	uint64_t u;							\
	(void)intern, (void)ctx;					\
	if (want_uint(v, 65535, &u))					\
		return -1;						\
	f->tup.end##port = (uint16_t)u;					\
	f->has |= (setbits) == FLOW_HAS_TUPLE ? FLOW_HAS_PORTS : FLOW_HAS_REPLY_PORTS; \
	return 0;							\
}

/* tuple member names are src/dst with ports sport/dport */
#define srcport sport
#define dstport dport
ADDR_PORT_FIELDS(src, orig, src, FLOW_HAS_TUPLE, FLOW_HAS_PORTS, FLOW_HAS_TUPLE)
ADDR_PORT_FIELDS(dst, orig, dst, FLOW_HAS_TUPLE, FLOW_HAS_PORTS, FLOW_HAS_TUPLE)
ADDR_PORT_FIELDS(rsrc, reply, src, FLOW_HAS_REPLY, FLOW_HAS_REPLY_PORTS, FLOW_HAS_REPLY)
ADDR_PORT_FIELDS(rdst, reply, dst, FLOW_HAS_REPLY, FLOW_HAS_REPLY_PORTS, FLOW_HAS_REPLY)
/* ECS source.nat is where the source was translated to: the reply's
 * destination; destination.nat is the reply's source. */
ADDR_PORT_FIELDS(snat, reply, dst, FLOW_HAS_SRC_NAT, FLOW_HAS_SRC_NAT | FLOW_HAS_REPLY_PORTS, 0)
ADDR_PORT_FIELDS(dnat, reply, src, FLOW_HAS_DST_NAT, FLOW_HAS_DST_NAT | FLOW_HAS_REPLY_PORTS, 0)
#undef srcport
#undef dstport

static bool get_src_domain(const struct flow *f, struct field_value *v)
{
	return put_str(v, f->src_domain);
}

static int set_src_domain(struct flow *f, const struct field_value *v,
			  field_intern_fn intern, void *ctx)
{
	return set_string(&f->src_domain, v, intern, ctx);
}

static bool get_dst_domain(const struct flow *f, struct field_value *v)
{
	return put_str(v, f->dst_domain);
}

static int set_dst_domain(struct flow *f, const struct field_value *v,
			  field_intern_fn intern, void *ctx)
{
	return set_string(&f->dst_domain, v, intern, ctx);
}

/* A 64-bit counter with FLOW_HAS_COUNTERS. */
#define COUNTER_FIELD(name, member)						\
static bool get_##name(const struct flow *f, struct field_value *v)	\
{									\
	return f->has & FLOW_HAS_COUNTERS && put_uint(v, f->member);	\
}									\
static int set_##name(struct flow *f, const struct field_value *v,	\
		      field_intern_fn intern, void *ctx)		\
{									\
	(void)intern, (void)ctx;					\
	if (want_uint(v, UINT64_MAX, &f->member))			\
		return -1;						\
	f->has |= FLOW_HAS_COUNTERS;					\
	return 0;							\
}

COUNTER_FIELD(src_bytes, orig_bytes)
COUNTER_FIELD(src_packets, orig_packets)
COUNTER_FIELD(dst_bytes, reply_bytes)
COUNTER_FIELD(dst_packets, reply_packets)

/* --- process and user ------------------------------------------------------ */

/* An integer member guarded by one has-bit. */
#define UINT_FIELD(name, member, bit, max)					\
static bool get_##name(const struct flow *f, struct field_value *v)	\
{									\
	return f->has & (bit) && put_uint(v, f->member);		\
}									\
static int set_##name(struct flow *f, const struct field_value *v,	\
		      field_intern_fn intern, void *ctx)		\
{									\
	uint64_t u;							\
	(void)intern, (void)ctx;					\
	if (want_uint(v, (max), &u))					\
		return -1;						\
	f->member = (__typeof__(f->member))u;				\
	f->has |= (bit);						\
	return 0;							\
}

UINT_FIELD(pid, pid, FLOW_HAS_PID, UINT32_MAX)
UINT_FIELD(ct_id, id, FLOW_HAS_ID, UINT32_MAX)
UINT_FIELD(ct_timeout, timeout, FLOW_HAS_TIMEOUT, UINT32_MAX)
UINT_FIELD(ct_mark, mark, FLOW_HAS_MARK, UINT32_MAX)
UINT_FIELD(ct_zone, zone, FLOW_HAS_ZONE, UINT16_MAX)
UINT_FIELD(icmp_type, icmp_type, FLOW_HAS_ICMP, UINT8_MAX)
UINT_FIELD(icmp_code, icmp_code, FLOW_HAS_ICMP, UINT8_MAX)
UINT_FIELD(icmp_id, icmp_id, FLOW_HAS_ICMP, UINT16_MAX)

static bool get_pname(const struct flow *f, struct field_value *v)
{
	return put_str(v, f->process_name);
}

static int set_pname(struct flow *f, const struct field_value *v,
		     field_intern_fn intern, void *ctx)
{
	return set_string(&f->process_name, v, intern, ctx);
}

static bool get_pexe(const struct flow *f, struct field_value *v)
{
	return put_str(v, f->process_exe);
}

static int set_pexe(struct flow *f, const struct field_value *v,
		    field_intern_fn intern, void *ctx)
{
	return set_string(&f->process_exe, v, intern, ctx);
}

/* ECS keeps user.id a string (it is a SID on other systems). */
static bool get_uid(const struct flow *f, struct field_value *v)
{
	if (!(f->has & FLOW_HAS_UID))
		return false;
	return put_buf(v, flow_u64_str(f->uid, v->buf));
}

static int set_uid(struct flow *f, const struct field_value *v,
		   field_intern_fn intern, void *ctx)
{
	uint64_t u;

	(void)intern, (void)ctx;
	if (want_uint(v, UINT32_MAX, &u))
		return -1;
	f->uid = (uint32_t)u;
	f->has |= FLOW_HAS_UID;
	return 0;
}

static bool get_uname(const struct flow *f, struct field_value *v)
{
	return put_str(v, f->user_name);
}

static int set_uname(struct flow *f, const struct field_value *v,
		     field_intern_fn intern, void *ctx)
{
	return set_string(&f->user_name, v, intern, ctx);
}

/* --- conntrack.* ----------------------------------------------------------- */

static bool get_state(const struct flow *f, struct field_value *v)
{
	return put_str(v, f->state);
}

static int set_state(struct flow *f, const struct field_value *v,
		     field_intern_fn intern, void *ctx)
{
	return set_string(&f->state, v, intern, ctx);
}

static bool get_status(const struct flow *f, struct field_value *v)
{
	if (!(f->has & FLOW_HAS_STATUS))
		return false;
	v->type = FIELD_LIST;
	v->nlist = 0;
	for (unsigned int bit = 0; bit < 32 && v->nlist < FIELD_LIST_MAX; bit++) {
		const char *n = flow_status_name(bit);

		if (f->status & (1u << bit) && n)
			v->list[v->nlist++] = n;
	}
	return true;
}

static int set_status(struct flow *f, const struct field_value *v,
		      field_intern_fn intern, void *ctx)
{
	int bit;

	(void)intern, (void)ctx;
	if (v->type != FIELD_STR)
		return -1;
	f->has |= FLOW_HAS_STATUS;
	if (v->len == 0)	/* CSV: an empty list */
		return 0;
	if ((bit = flow_status_parse(v->s, v->len)) < 0)
		return -1;
	f->status |= 1u << bit;
	return 0;
}

static bool get_start(const struct flow *f, struct field_value *v)
{
	if (!(f->has & FLOW_HAS_START))
		return false;
	return put_buf(v, flow_time_str(f->start_ns, v->buf, sizeof(v->buf)));
}

static int set_start(struct flow *f, const struct field_value *v,
		     field_intern_fn intern, void *ctx)
{
	(void)intern, (void)ctx;
	if (v->type != FIELD_STR || flow_time_parse(v->s, v->len, &f->start_ns))
		return -1;
	f->has |= FLOW_HAS_START;
	return 0;
}

#define F(n, t, g, s, d) { n, t, 0, g, s, d }
#define FX(n, t, g, s, d) { n, t, FIELD_F_EXTERNAL, g, s, d }

const struct field field_table[] = {
	{ "@timestamp", FIELD_STR, FIELD_F_MARKER, get_timestamp, set_timestamp,
	  "time the record was made, RFC 3339 UTC with microseconds" },
	{ "event.action", FIELD_STR, FIELD_F_MARKER, get_action, set_action,
	  "snapshot, new, update, destroy; or a marker: snapshot-begin, snapshot-end, overrun" },
	F("event.kind", FIELD_STR, get_kind, set_ignore, "state for a snapshot record, event otherwise"),
	F("event.category", FIELD_LIST, get_category, set_ignore, "always [\"network\"]"),
	F("event.type", FIELD_LIST, get_type, set_ignore,
	  "[\"connection\", start|end|info]"),
	F("network.type", FIELD_STR, get_net_type, set_net_type, "ipv4 or ipv6"),
	F("network.transport", FIELD_STR, get_transport, set_transport,
	  "tcp, udp, icmp, ipv6-icmp, udplite, sctp, dccp, gre, ... (IANA keyword)"),
	F("network.iana_number", FIELD_STR, get_iana, set_iana, "transport protocol number, as a string"),
	FX("network.protocol", FIELD_STR, get_app_proto, set_app_proto,
	  "application protocol guessed from the service port (https, ssh, domain, ...)"),
	F("network.bytes", FIELD_UINT, get_net_bytes, set_ignore, "bytes both ways (needs accounting)"),
	F("network.packets", FIELD_UINT, get_net_packets, set_ignore, "packets both ways (needs accounting)"),
	F("source.ip", FIELD_STR, get_src_ip, set_src_ip, "original direction's source address"),
	F("source.port", FIELD_UINT, get_src_port, set_src_port, "original direction's source port"),
	FX("source.domain", FIELD_STR, get_src_domain, set_src_domain, "reverse DNS name of source.ip"),
	F("source.bytes", FIELD_UINT, get_src_bytes, set_src_bytes, "bytes sent in the original direction"),
	F("source.packets", FIELD_UINT, get_src_packets, set_src_packets, "packets sent in the original direction"),
	F("source.nat.ip", FIELD_STR, get_snat_ip, set_snat_ip, "source address after SNAT"),
	F("source.nat.port", FIELD_UINT, get_snat_port, set_snat_port, "source port after SNAT"),
	FX("source.geo.country_iso_code", FIELD_STR, get_src_cc, set_src_cc, "ISO 3166 country code"),
	FX("source.geo.country_name", FIELD_STR, get_src_country, set_src_country, "country name, English"),
	FX("source.geo.city_name", FIELD_STR, get_src_city, set_src_city, "city name, English"),
	F("source.as.number", FIELD_UINT, get_src_asn, set_src_asn, "autonomous system number"),
	FX("source.as.organization.name", FIELD_STR, get_src_asorg, set_src_asorg, "autonomous system's organisation"),
	F("destination.ip", FIELD_STR, get_dst_ip, set_dst_ip, "original direction's destination address"),
	F("destination.port", FIELD_UINT, get_dst_port, set_dst_port, "original direction's destination port"),
	FX("destination.domain", FIELD_STR, get_dst_domain, set_dst_domain, "reverse DNS name of destination.ip"),
	F("destination.bytes", FIELD_UINT, get_dst_bytes, set_dst_bytes, "bytes sent in the reply direction"),
	F("destination.packets", FIELD_UINT, get_dst_packets, set_dst_packets, "packets sent in the reply direction"),
	F("destination.nat.ip", FIELD_STR, get_dnat_ip, set_dnat_ip, "destination address after DNAT"),
	F("destination.nat.port", FIELD_UINT, get_dnat_port, set_dnat_port, "destination port after DNAT"),
	FX("destination.geo.country_iso_code", FIELD_STR, get_dst_cc, set_dst_cc, "ISO 3166 country code"),
	FX("destination.geo.country_name", FIELD_STR, get_dst_country, set_dst_country, "country name, English"),
	FX("destination.geo.city_name", FIELD_STR, get_dst_city, set_dst_city, "city name, English"),
	F("destination.as.number", FIELD_UINT, get_dst_asn, set_dst_asn, "autonomous system number"),
	FX("destination.as.organization.name", FIELD_STR, get_dst_asorg, set_dst_asorg, "autonomous system's organisation"),
	F("process.pid", FIELD_UINT, get_pid, set_pid, "process owning the local socket"),
	FX("process.name", FIELD_STR, get_pname, set_pname, "its command name (comm)"),
	FX("process.executable", FIELD_STR, get_pexe, set_pexe, "its executable (/proc/PID/exe)"),
	F("user.id", FIELD_STR, get_uid, set_uid, "uid owning the local socket, as a string"),
	FX("user.name", FIELD_STR, get_uname, set_uname, "that user's name"),
	F("conntrack.id", FIELD_UINT, get_ct_id, set_ct_id, "the kernel's id of the flow"),
	F("conntrack.state", FIELD_STR, get_state, set_state, "TCP, SCTP or DCCP state (ESTABLISHED, ...)"),
	F("conntrack.status", FIELD_LIST, get_status, set_status, "status flags (SEEN_REPLY, ASSURED, ...)"),
	F("conntrack.timeout", FIELD_UINT, get_ct_timeout, set_ct_timeout, "seconds until the flow expires"),
	F("conntrack.mark", FIELD_UINT, get_ct_mark, set_ct_mark, "connection mark"),
	F("conntrack.zone", FIELD_UINT, get_ct_zone, set_ct_zone, "conntrack zone"),
	F("conntrack.start", FIELD_STR, get_start, set_start, "when the flow began (needs nf_conntrack_timestamp)"),
	F("conntrack.icmp.type", FIELD_UINT, get_icmp_type, set_icmp_type, "ICMP type"),
	F("conntrack.icmp.code", FIELD_UINT, get_icmp_code, set_icmp_code, "ICMP code"),
	F("conntrack.icmp.id", FIELD_UINT, get_icmp_id, set_icmp_id, "ICMP echo id"),
	F("conntrack.reply.source.ip", FIELD_STR, get_rsrc_ip, set_rsrc_ip, "reply direction's source address"),
	F("conntrack.reply.source.port", FIELD_UINT, get_rsrc_port, set_rsrc_port, "reply direction's source port"),
	F("conntrack.reply.destination.ip", FIELD_STR, get_rdst_ip, set_rdst_ip, "reply direction's destination address"),
	F("conntrack.reply.destination.port", FIELD_UINT, get_rdst_port, set_rdst_port, "reply direction's destination port"),
};

const size_t field_count = sizeof(field_table) / sizeof(field_table[0]);

static int sorted[sizeof(field_table) / sizeof(field_table[0])];
static bool sorted_ready;

static int cmp_index(const void *a, const void *b)
{
	return strcmp(field_table[*(const int *)a].name, field_table[*(const int *)b].name);
}

int field_lookup(const char *name, size_t len)
{
	size_t lo = 0, hi = field_count;

	/* a NUL inside name would let strncmp match a shorter table name */
	if (memchr(name, '\0', len))
		return -1;
	if (!sorted_ready) {
		for (size_t i = 0; i < field_count; i++)
			sorted[i] = (int)i;
		qsort(sorted, field_count, sizeof(sorted[0]), cmp_index);
		sorted_ready = true;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *n = field_table[sorted[mid]].name;
		int c = strncmp(n, name, len);

		if (c == 0 && n[len] != '\0')
			c = 1;
		if (c == 0)
			return sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int field_parse_list(const char *list, int *idx, int max, size_t *bad)
{
	const char *p = list;
	int n = 0;

	for (;;) {
		size_t len = strcspn(p, ",");
		int i = field_lookup(p, len);

		if (i < 0 || n >= max) {
			*bad = (size_t)(p - list);
			return -1;
		}
		idx[n++] = i;
		if (p[len] == '\0')
			return n;
		p += len + 1;
	}
}
