/*
 * field.c - the one table of record fields, and the code that reads and
 * writes a field through its row.
 *
 * A row says where its value lives in struct flow (offset, size, has-bits),
 * so getting, setting and merging are one generic switch on how it is
 * kept; a derived field brings a field_ops of its own.  Rows may
 * come in any order: the JSON writer groups objects by path, and the order
 * of the table is only the CSV columns' and the man page's.
 */
#include "field.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- values ---------------------------------------------------------------- */

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

/* A field value as a NUL-terminated string in a small stack buffer. */
static int value_cstr(const struct field_value *v, char *buf, size_t len)
{
	if (v->type != FIELD_STR || v->len >= len || memchr(v->s, '\0', v->len))
		return -1;
	memcpy(buf, v->s, v->len);
	buf[v->len] = '\0';
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

/* --- the bytes of a row ---------------------------------------------------- */

static const void *at(const struct field *fd, const struct flow *f)
{
	return (const char *)f + fd->off;
}

static void *at_mut(const struct field *fd, struct flow *f)
{
	return (char *)f + fd->off;
}

static uint64_t load_uint(const struct field *fd, const struct flow *f)
{
	const void *p = at(fd, f);
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (fd->size) {
	case 1:
		memcpy(&u8, p, 1);
		return u8;
	case 2:
		memcpy(&u16, p, 2);
		return u16;
	case 4:
		memcpy(&u32, p, 4);
		return u32;
	}
	memcpy(&u64, p, 8);
	return u64;
}

static void store_uint(const struct field *fd, struct flow *f, uint64_t u)
{
	void *p = at_mut(fd, f);
	uint8_t u8 = (uint8_t)u;
	uint16_t u16 = (uint16_t)u;
	uint32_t u32 = (uint32_t)u;

	switch (fd->size) {
	case 1:
		memcpy(p, &u8, 1);
		return;
	case 2:
		memcpy(p, &u16, 2);
		return;
	case 4:
		memcpy(p, &u32, 4);
		return;
	}
	memcpy(p, &u, 8);
}

static uint64_t uint_max(const struct field *fd)
{
	return fd->size >= 8 ? UINT64_MAX : (UINT64_C(1) << (fd->size * 8)) - 1;
}

static const char *load_ptr(const struct field *fd, const struct flow *f)
{
	const char *s;

	memcpy(&s, at(fd, f), sizeof(s));
	return s;
}

/* Whether f has a value for the row: its has-bits, or bytes that are not
 * zero (a NULL string, a 0 AS number, an empty country code). */
static bool known(const struct field *fd, const struct flow *f)
{
	const unsigned char *p = at(fd, f);

	if (fd->need)
		return (f->has & fd->need) == fd->need;
	if (fd->flags & FIELD_F_ALWAYS)
		return true;
	if (fd->store == FIELD_AT_CHARS)
		return p[0] != 0;
	for (unsigned int i = 0; i < fd->size; i++)
		if (p[i])
			return true;
	return false;
}

static int set_string(const struct field *fd, struct flow *f, const struct field_value *v,
		      field_intern_fn intern, void *ctx)
{
	const char *s;

	if (v->type != FIELD_STR || !(s = intern(ctx, v->s, v->len)))
		return -1;
	memcpy(at_mut(fd, f), &s, sizeof(s));
	return 0;
}

static int set_addr(const struct field *fd, struct flow *f, const struct field_value *v)
{
	char buf[INET6_ADDRSTRLEN];
	union flow_addr a = { .w = { 0 } };
	int fam;

	if (value_cstr(v, buf, sizeof(buf)))
		return -1;
	fam = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (f->family && f->family != fam)
		return -1;
	if (inet_pton(fam, buf, &a) != 1)
		return -1;
	memcpy(at_mut(fd, f), &a, sizeof(a));
	f->family = (uint8_t)fam;
	return 0;
}

bool field_get(const struct field *fd, const struct flow *f, struct field_value *v)
{
	if (fd->ops)
		return fd->ops->get(fd, f, v);
	if (!known(fd, f))
		return false;
	switch (fd->store) {
	case FIELD_AT_PTR:
		return put_str(v, load_ptr(fd, f));
	case FIELD_AT_INT:
		return put_uint(v, load_uint(fd, f));
	case FIELD_AT_DEC:
		return put_buf(v, flow_u64_str(load_uint(fd, f), v->buf));
	case FIELD_AT_TIME:
		return put_buf(v, flow_time_str(load_uint(fd, f), v->buf, sizeof(v->buf)));
	case FIELD_AT_ADDR:
		flow_addr_str(f->family, at(fd, f), v->buf, sizeof(v->buf));
		return put_buf(v, strlen(v->buf));
	case FIELD_AT_CHARS:
		return put_str(v, at(fd, f));
	}
	return false;
}

int field_set(const struct field *fd, struct flow *f, const struct field_value *v,
	      field_intern_fn intern, void *ctx)
{
	uint64_t u;

	if (fd->ops)
		return fd->ops->set ? fd->ops->set(fd, f, v) : 0;
	switch (fd->store) {
	case FIELD_AT_PTR:
		if (set_string(fd, f, v, intern, ctx))
			return -1;
		break;
	case FIELD_AT_INT:
	case FIELD_AT_DEC:
		if (want_uint(v, uint_max(fd), &u))
			return -1;
		store_uint(fd, f, u);
		break;
	case FIELD_AT_TIME:
		if (v->type != FIELD_STR || flow_time_parse(v->s, v->len, &u))
			return -1;
		store_uint(fd, f, u);
		break;
	case FIELD_AT_ADDR:
		if (set_addr(fd, f, v))
			return -1;
		break;
	case FIELD_AT_CHARS:
		if (v->type != FIELD_STR || v->len + 1 != fd->size)
			return -1;
		memcpy(at_mut(fd, f), v->s, v->len);
		((char *)at_mut(fd, f))[v->len] = '\0';
		break;
	default:
		return 0;
	}
	f->has |= fd->sets;
	return 0;
}

void field_merge(struct flow *d, const struct flow *s)
{
	for (size_t i = 0; i < field_count; i++) {
		const struct field *fd = &field_table[i];

		if (fd->store != FIELD_AT_NONE && known(fd, s))
			memcpy(at_mut(fd, d), at(fd, s), fd->size);
	}
	d->has |= s->has;
}

/* --- derived fields -------------------------------------------------------- */

static bool get_action(const struct field *fd, const struct flow *f, struct field_value *v)
{
	(void)fd;
	return put_str(v, flow_action_name(f->action));
}

static int set_action(const struct field *fd, struct flow *f, const struct field_value *v)
{
	int a;

	(void)fd;
	if (v->type != FIELD_STR || (a = flow_action_parse(v->s, v->len)) < 0)
		return -1;
	f->action = (uint8_t)a;
	return 0;
}

static bool get_kind(const struct field *fd, const struct flow *f, struct field_value *v)
{
	(void)fd;
	/* ECS: a dump reports state, the others are events */
	return put_str(v, f->action == FLOW_SNAPSHOT ? "state" : "event");
}

static bool get_category(const struct field *fd, const struct flow *f, struct field_value *v)
{
	(void)fd, (void)f;
	v->type = FIELD_LIST;
	v->list[0] = "network";
	v->nlist = 1;
	return true;
}

static bool get_type(const struct field *fd, const struct flow *f, struct field_value *v)
{
	(void)fd;
	v->type = FIELD_LIST;
	v->list[0] = "connection";
	v->list[1] = f->action == FLOW_NEW ? "start" :
		     f->action == FLOW_DESTROY ? "end" : "info";
	v->nlist = 2;
	return true;
}

static bool get_net_type(const struct field *fd, const struct flow *f, struct field_value *v)
{
	(void)fd;
	return put_str(v, f->family == AF_INET ? "ipv4" :
			  f->family == AF_INET6 ? "ipv6" : NULL);
}

static int set_net_type(const struct field *fd, struct flow *f, const struct field_value *v)
{
	int fam;

	(void)fd;
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

static bool get_transport(const struct field *fd, const struct flow *f, struct field_value *v)
{
	(void)fd;
	return f->has & FLOW_HAS_TUPLE && put_str(v, flow_l4proto_name(f->l4proto));
}

static int set_transport(const struct field *fd, struct flow *f, const struct field_value *v)
{
	char buf[16];
	int p;

	(void)fd;
	if (value_cstr(v, buf, sizeof(buf)) || (p = flow_l4proto_parse(buf)) < 0)
		return -1;
	f->l4proto = (uint8_t)p;
	return 0;
}

static bool get_net_bytes(const struct field *fd, const struct flow *f, struct field_value *v)
{
	(void)fd;
	return f->has & FLOW_HAS_COUNTERS && put_uint(v, f->orig_bytes + f->reply_bytes);
}

static bool get_net_packets(const struct field *fd, const struct flow *f, struct field_value *v)
{
	(void)fd;
	return f->has & FLOW_HAS_COUNTERS && put_uint(v, f->orig_packets + f->reply_packets);
}

static bool get_status(const struct field *fd, const struct flow *f, struct field_value *v)
{
	(void)fd;
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

static int set_status(const struct field *fd, struct flow *f, const struct field_value *v)
{
	int bit;

	(void)fd;
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

static const struct field_ops action_ops = { get_action, set_action };
static const struct field_ops kind_ops = { get_kind, NULL };
static const struct field_ops category_ops = { get_category, NULL };
static const struct field_ops type_ops = { get_type, NULL };
static const struct field_ops net_type_ops = { get_net_type, set_net_type };
static const struct field_ops transport_ops = { get_transport, set_transport };
static const struct field_ops net_bytes_ops = { get_net_bytes, NULL };
static const struct field_ops net_packets_ops = { get_net_packets, NULL };
static const struct field_ops status_ops = { get_status, set_status };

/* A pod's uid names the orchestrator and the kind of resource too; they
 * are not kept apart in the flow (a reader has them from the uid). */
static bool get_orch_type(const struct field *fd, const struct flow *f, struct field_value *v)
{
	(void)fd;
	return f->pod_uid && put_str(v, "kubernetes");
}

static bool get_orch_res_type(const struct field *fd, const struct flow *f,
			      struct field_value *v)
{
	(void)fd;
	return f->pod_uid && put_str(v, "pod");
}

static const struct field_ops orch_type_ops = { get_orch_type, NULL };
static const struct field_ops orch_res_type_ops = { get_orch_res_type, NULL };

/* The ECS release whose schema tests/e2e/21-emit-ecs.t checks the records
 * against; scripts/install-deps fetches that one (its ECS_VERSION), and the
 * test fails when the two differ. */
#define ECS_VERSION "9.4.0"

static bool get_ecs_version(const struct field *fd, const struct flow *f, struct field_value *v)
{
	(void)fd, (void)f;
	return put_str(v, ECS_VERSION);
}

/* One condition tells a pipeline the markers from the flows. */
static bool get_dataset(const struct field *fd, const struct flow *f, struct field_value *v)
{
	(void)fd;
	return put_str(v, flow_action_is_marker(f->action) ? "flowtop.marker" : "flowtop.flow");
}

/* Only a destroy has an end (enrich.c keeps it so), hence a duration. */
static bool get_duration(const struct field *fd, const struct flow *f, struct field_value *v)
{
	(void)fd;
	if (!(f->has & FLOW_HAS_START) || !f->end_ns || f->end_ns < f->start_ns)
		return false;
	return put_uint(v, f->end_ns - f->start_ns);
}

static const struct field_ops ecs_version_ops = { get_ecs_version, NULL };
static const struct field_ops dataset_ops = { get_dataset, NULL };
static const struct field_ops duration_ops = { get_duration, NULL };

/* --- the table ------------------------------------------------------------- */

/* A row: name, JSON type, how and where the value is kept, the has-bits it
 * needs and sets, flags, derived code, doc. */
#define ROW(n, t, st, m, nd, sb, fl, op, d)					\
	{ .name = n, .namelen = sizeof(n) - 1, .type = t, .store = st,		\
	  .off = offsetof(struct flow, m), .size = sizeof(((struct flow *)0)->m), \
	  .need = nd, .sets = sb, .flags = fl, .ops = op, .doc = d }
/* a string, NULL when unknown */
#define STR(n, m, fl, d)	ROW(n, FIELD_STR, FIELD_AT_PTR, m, 0, 0, fl, NULL, d)
/* an integer known by has-bits 'bits' (0: known when not 0) */
#define NUM(n, m, bits, d)	ROW(n, FIELD_UINT, FIELD_AT_INT, m, bits, bits, 0, NULL, d)
/* an integer written as an ECS keyword (a string of digits) */
#define DEC(n, m, bits, sb, d)	ROW(n, FIELD_STR, FIELD_AT_DEC, m, bits, sb, 0, NULL, d)
#define TIME(n, m, bits, fl, d)	ROW(n, FIELD_STR, FIELD_AT_TIME, m, bits, bits, fl, NULL, d)
#define ADDR(n, m, bits, sb, d)	ROW(n, FIELD_STR, FIELD_AT_ADDR, m, bits, sb, 0, NULL, d)
/* a port of a tuple: what it needs to be shown and what setting it says */
#define PORT(n, m, bits, sb, d)	ROW(n, FIELD_UINT, FIELD_AT_INT, m, bits, sb, 0, NULL, d)
/* derived from a stored member (merged as it) or from nothing */
#define CODE(n, t, m, bits, fl, op, d) ROW(n, t, FIELD_AT_INT, m, bits, 0, fl, &op, d)
#define CODE0(n, t, op, d)							\
	{ .name = n, .namelen = sizeof(n) - 1, .type = t, .store = FIELD_AT_NONE, .ops = &op, .doc = d }
/* the same, written in markers too */
#define CODE0M(n, t, op, d)							\
	{ .name = n, .namelen = sizeof(n) - 1, .type = t, .store = FIELD_AT_NONE,	\
	  .flags = FIELD_F_MARKER, .ops = &op, .doc = d }

#define EXT FIELD_F_EXTERNAL
/* ECS source.nat is where the source was translated to: the reply's
 * destination; destination.nat is the reply's source. */
#define SNAT FLOW_HAS_SRC_NAT
#define DNAT FLOW_HAS_DST_NAT
#define RPORTS FLOW_HAS_REPLY_PORTS

const struct field field_table[] = {
	TIME("@timestamp", ts_ns, 0, FIELD_F_MARKER,
	     "time the record was made, RFC 3339 UTC with microseconds"),
	CODE("event.action", FIELD_STR, action, 0, FIELD_F_MARKER | FIELD_F_ALWAYS, action_ops,
	     "snapshot, new, update, destroy; or a marker: snapshot-begin, snapshot-end, overrun, refresh"),
	CODE0("event.kind", FIELD_STR, kind_ops, "state for a snapshot record, event otherwise"),
	CODE0("event.category", FIELD_LIST, category_ops, "always [\"network\"]"),
	CODE0("event.type", FIELD_LIST, type_ops, "[\"connection\", start|end|info]"),
	CODE0M("event.dataset", FIELD_STR, dataset_ops,
	       "flowtop.flow, or flowtop.marker in a marker (one condition drops them)"),
	TIME("event.start", start_ns, FLOW_HAS_START, 0,
	     "when the kernel created the flow (needs nf_conntrack_timestamp)"),
	TIME("event.end", end_ns, 0, 0,
	     "destroy: the kernel's stop time, else when the flow was seen gone"),
	CODE0("event.duration", FIELD_UINT, duration_ops,
	      "destroy: event.end - event.start in nanoseconds"),
	CODE("network.type", FIELD_STR, family, 0, 0, net_type_ops, "ipv4 or ipv6"),
	CODE("network.transport", FIELD_STR, l4proto, 0, 0, transport_ops,
	     "tcp, udp, icmp, ipv6-icmp, udplite, sctp, dccp, gre, ... (IANA keyword)"),
	DEC("network.iana_number", l4proto, FLOW_HAS_TUPLE, 0, "transport protocol number, as a string"),
	STR("network.protocol", protocol, EXT,
	    "application protocol guessed from the server port, as ECS names it (dns, http, https, ssh, ...)"),
	ROW("network.community_id", FIELD_STR, FIELD_AT_CHARS, community_id, 0, 0, 0, NULL,
	    "Community ID v1 of the flow (--community-id-seed)"),
	STR("network.direction", direction, 0,
	    "ingress or egress, from this host's point of view (none: routed, or host to itself)"),
	CODE0("network.bytes", FIELD_UINT, net_bytes_ops, "bytes both ways (needs accounting)"),
	CODE0("network.packets", FIELD_UINT, net_packets_ops, "packets both ways (needs accounting)"),
	ADDR("source.ip", orig.src, FLOW_HAS_TUPLE, FLOW_HAS_TUPLE, "original direction's source address"),
	PORT("source.port", orig.sport, FLOW_HAS_PORTS, FLOW_HAS_PORTS, "original direction's source port"),
	STR("source.domain", src_domain, EXT, "reverse DNS name of source.ip"),
	NUM("source.bytes", orig_bytes, FLOW_HAS_COUNTERS, "bytes sent in the original direction"),
	NUM("source.packets", orig_packets, FLOW_HAS_COUNTERS, "packets sent in the original direction"),
	ADDR("source.nat.ip", reply.dst, SNAT, 0, "source address after SNAT"),
	PORT("source.nat.port", reply.dport, SNAT | RPORTS, RPORTS, "source port after SNAT"),
	ROW("source.geo.country_iso_code", FIELD_STR, FIELD_AT_CHARS, src_geo.country_iso, 0, 0, EXT,
	    NULL, "ISO 3166 country code"),
	STR("source.geo.country_name", src_geo.country_name, EXT, "country name, English"),
	STR("source.geo.city_name", src_geo.city_name, EXT, "city name, English"),
	NUM("source.as.number", src_geo.as_number, 0, "autonomous system number"),
	STR("source.as.organization.name", src_geo.as_org, EXT, "autonomous system's organisation"),
	ADDR("destination.ip", orig.dst, FLOW_HAS_TUPLE, FLOW_HAS_TUPLE, "original direction's destination address"),
	PORT("destination.port", orig.dport, FLOW_HAS_PORTS, FLOW_HAS_PORTS, "original direction's destination port"),
	STR("destination.domain", dst_domain, EXT, "reverse DNS name of destination.ip"),
	NUM("destination.bytes", reply_bytes, FLOW_HAS_COUNTERS, "bytes sent in the reply direction"),
	NUM("destination.packets", reply_packets, FLOW_HAS_COUNTERS, "packets sent in the reply direction"),
	ADDR("destination.nat.ip", reply.src, DNAT, 0, "destination address after DNAT"),
	PORT("destination.nat.port", reply.sport, DNAT | RPORTS, RPORTS, "destination port after DNAT"),
	ROW("destination.geo.country_iso_code", FIELD_STR, FIELD_AT_CHARS, dst_geo.country_iso, 0, 0, EXT,
	    NULL, "ISO 3166 country code"),
	STR("destination.geo.country_name", dst_geo.country_name, EXT, "country name, English"),
	STR("destination.geo.city_name", dst_geo.city_name, EXT, "city name, English"),
	NUM("destination.as.number", dst_geo.as_number, 0, "autonomous system number"),
	STR("destination.as.organization.name", dst_geo.as_org, EXT, "autonomous system's organisation"),
	NUM("process.pid", pid, FLOW_HAS_PID, "process owning the local socket"),
	STR("process.name", process_name, EXT, "its command name (comm)"),
	STR("process.executable", process_exe, EXT, "its executable (/proc/PID/exe)"),
	/* ECS keeps user.id a string (it is a SID on other systems) */
	DEC("user.id", uid, FLOW_HAS_UID, FLOW_HAS_UID, "uid owning the local socket, as a string"),
	STR("user.name", user_name, EXT, "that user's name"),
	STR("host.name", host_name, EXT, "this machine's name, lowercase"),
	STR("host.id", host_id, EXT, "its /etc/machine-id, where readable"),
	CODE0M("ecs.version", FIELD_STR, ecs_version_ops, "the ECS release the record follows"),
	/* --netns, --all-netns: the namespace's container (netns.h) */
	STR("container.id", container_id, EXT, "the container the flow's network namespace is in"),
	STR("container.name", container_name, EXT, "its name, where the cgroup path says it"),
	STR("container.runtime", container_runtime, 0,
	    "docker, containerd, cri-o, podman, systemd-nspawn or lxc"),
	STR("orchestrator.resource.id", pod_uid, EXT, "the Kubernetes pod's uid"),
	CODE0("orchestrator.resource.type", FIELD_STR, orch_res_type_ops,
	      "pod, with orchestrator.resource.id"),
	CODE0("orchestrator.type", FIELD_STR, orch_type_ops,
	      "kubernetes, with orchestrator.resource.id"),
	NUM("conntrack.id", id, FLOW_HAS_ID, "the kernel's id of the flow"),
	STR("conntrack.state", state, 0, "TCP, SCTP or DCCP state (ESTABLISHED, ...)"),
	CODE("conntrack.status", FIELD_LIST, status, FLOW_HAS_STATUS, 0, status_ops,
	     "status flags (SEEN_REPLY, ASSURED, ...)"),
	NUM("conntrack.timeout", timeout, FLOW_HAS_TIMEOUT, "seconds until the flow expires"),
	NUM("conntrack.mark", mark, FLOW_HAS_MARK, "connection mark"),
	NUM("conntrack.zone", zone, FLOW_HAS_ZONE, "conntrack zone"),
	NUM("conntrack.icmp.type", icmp_type, FLOW_HAS_ICMP, "ICMP type"),
	NUM("conntrack.icmp.code", icmp_code, FLOW_HAS_ICMP, "ICMP code"),
	NUM("conntrack.icmp.id", icmp_id, FLOW_HAS_ICMP, "ICMP echo id"),
	/* also in an overrun or refresh marker of one of several namespaces */
	ROW("conntrack.netns.inode", FIELD_UINT, FIELD_AT_INT, netns_ino, 0, 0, FIELD_F_MARKER, NULL,
	    "the network namespace's inode (--netns, --all-netns), as ls -iL /proc/PID/ns/net"),
	STR("conntrack.netns.name", netns_name, EXT | FIELD_F_MARKER,
	    "its ip-netns name, where it has one"),
	ADDR("conntrack.reply.source.ip", reply.src, FLOW_HAS_REPLY, FLOW_HAS_REPLY, "reply direction's source address"),
	PORT("conntrack.reply.source.port", reply.sport, RPORTS, RPORTS, "reply direction's source port"),
	ADDR("conntrack.reply.destination.ip", reply.dst, FLOW_HAS_REPLY, FLOW_HAS_REPLY,
	     "reply direction's destination address"),
	PORT("conntrack.reply.destination.port", reply.dport, RPORTS, RPORTS, "reply direction's destination port"),
};

const size_t field_count = sizeof(field_table) / sizeof(field_table[0]);

/* --- names ----------------------------------------------------------------- */

/* A linear scan: the table is small, rows keep their name's length, and the
 * hot caller (the view's parser) remembers what it looked up; no index to
 * build or keep. */
int field_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < field_count; i++)
		if (field_table[i].namelen == len && !memcmp(field_table[i].name, name, len))
			return (int)i;
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
