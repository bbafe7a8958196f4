/*
 * service.c - application protocol from the server port (rule in service.h).
 *
 * Names are kept in two sorted arrays, one for the stream transports and one
 * for the datagram ones, built on first use from the built-in table and then
 * /etc/services; a look-up is a binary search, cheap enough for every flow.
 * Both sources give IANA service names, which ecs_names[] turns into the
 * names ECS means (see service.h) as the arrays are built.
 */
#include "service.h"

#include <ctype.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"


enum { S_TCP = 1, S_UDP = 2, S_BOTH = 3 };

struct builtin {
	uint16_t port;
	uint8_t on;		/* S_* */
	const char *name;
};

/* The common protocols, IANA service names, so that a missing or unusual
 * /etc/services does not change the most frequent answers.  Sorted by port. */
static const struct builtin builtin[] = {
	{ 20, S_TCP, "ftp-data" }, { 21, S_TCP, "ftp" }, { 22, S_BOTH, "ssh" },
	{ 23, S_TCP, "telnet" }, { 25, S_TCP, "smtp" }, { 53, S_BOTH, "domain" },
	{ 67, S_UDP, "bootps" }, { 68, S_UDP, "bootpc" }, { 69, S_UDP, "tftp" },
	{ 80, S_BOTH, "http" }, { 88, S_BOTH, "kerberos" }, { 110, S_TCP, "pop3" },
	{ 111, S_BOTH, "sunrpc" }, { 119, S_TCP, "nntp" }, { 123, S_BOTH, "ntp" },
	{ 137, S_UDP, "netbios-ns" }, { 138, S_UDP, "netbios-dgm" },
	{ 139, S_TCP, "netbios-ssn" }, { 143, S_TCP, "imap" }, { 161, S_UDP, "snmp" },
	{ 162, S_UDP, "snmptrap" }, { 179, S_TCP, "bgp" }, { 389, S_BOTH, "ldap" },
	{ 443, S_TCP, "https" }, { 443, S_UDP, "quic" }, { 445, S_TCP, "microsoft-ds" },
	{ 465, S_TCP, "submissions" }, { 500, S_UDP, "isakmp" },
	{ 514, S_UDP, "syslog" }, { 515, S_TCP, "printer" },
	{ 587, S_TCP, "submission" }, { 631, S_BOTH, "ipp" }, { 636, S_TCP, "ldaps" },
	{ 853, S_BOTH, "domain-s" }, { 873, S_TCP, "rsync" }, { 989, S_TCP, "ftps-data" },
	{ 990, S_TCP, "ftps" }, { 993, S_TCP, "imaps" }, { 995, S_TCP, "pop3s" },
	{ 1080, S_TCP, "socks" }, { 1194, S_BOTH, "openvpn" }, { 1433, S_TCP, "ms-sql-s" },
	{ 1701, S_UDP, "l2tp" }, { 1723, S_TCP, "pptp" }, { 1812, S_UDP, "radius" },
	{ 1813, S_UDP, "radius-acct" }, { 1883, S_TCP, "mqtt" }, { 2049, S_BOTH, "nfs" },
	{ 3260, S_TCP, "iscsi-target" }, { 3306, S_TCP, "mysql" },
	{ 3389, S_BOTH, "ms-wbt-server" }, { 3478, S_BOTH, "stun" },
	{ 4500, S_UDP, "ipsec-nat-t" }, { 5060, S_BOTH, "sip" }, { 5061, S_TCP, "sips" },
	{ 5222, S_TCP, "xmpp-client" }, { 5269, S_TCP, "xmpp-server" },
	{ 5353, S_UDP, "mdns" }, { 5355, S_BOTH, "llmnr" }, { 5432, S_TCP, "postgresql" },
	{ 5671, S_TCP, "amqps" }, { 5672, S_TCP, "amqp" }, { 5900, S_TCP, "rfb" },
	{ 6379, S_TCP, "redis" }, { 6514, S_TCP, "syslog-tls" }, { 8080, S_TCP, "http-alt" },
	{ 8883, S_TCP, "secure-mqtt" }, { 9418, S_TCP, "git" }, { 11211, S_BOTH, "memcache" },
	{ 27017, S_TCP, "mongodb" },
};

/* IANA service name -> the application protocol as ECS producers (Packetbeat,
 * Suricata, Zeek) and their users write network.protocol, where the two
 * differ.  A TLS variant keeps its usual name (https, imaps, ldaps...): from
 * a port alone "tls" would say less.  Sorted by the IANA name. */
static const struct ecs_name {
	const char *iana, *ecs;
} ecs_names[] = {
	{ "bootpc", "dhcp" }, { "bootps", "dhcp" },
	{ "dhcpv6-client", "dhcpv6" }, { "dhcpv6-server", "dhcpv6" },
	{ "domain", "dns" }, { "domain-s", "dns" },
	{ "http-alt", "http" }, { "ipsec-nat-t", "ipsec" }, { "isakmp", "ike" },
	{ "iscsi-target", "iscsi" }, { "microsoft-ds", "smb" }, { "ms-sql-s", "mssql" },
	{ "ms-wbt-server", "rdp" }, { "netbios-ssn", "smb" }, { "printer", "lpd" },
	{ "radius-acct", "radius" }, { "secure-mqtt", "mqtts" }, { "snmp-trap", "snmp" },
	{ "snmptrap", "snmp" }, { "submission", "smtp" }, { "submissions", "smtps" },
	{ "syslog-tls", "syslog" }, { "webcache", "http" }, { "www", "http" },
	{ "xmpp-client", "xmpp" }, { "xmpp-server", "xmpp" },
};

static int ecs_name_cmp(const void *key, const void *ent)
{
	return strcmp(key, ((const struct ecs_name *)ent)->iana);
}

static const char *ecs_name_of(const char *iana)
{
	const struct ecs_name *hit = bsearch(iana, ecs_names,
					     sizeof(ecs_names) / sizeof(ecs_names[0]),
					     sizeof(ecs_names[0]), ecs_name_cmp);

	return hit ? hit->ecs : iana;
}

struct svc_ent {
	uint16_t port;
	uint32_t order;		/* input position: the first name of a port wins */
	const char *name;
};

struct svc_list {
	struct svc_ent *v;
	size_t n, cap;
};

struct service {
	char *path;
	bool loaded;
	struct svc_list list[2];	/* [0] stream (tcp), [1] datagram (udp) */
	char **names;			/* strings read from the file */
	size_t nnames, capnames;
};

struct service *service_new(const char *path)
{
	struct service *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->path = strdup(path ? path : "/etc/services");
	if (!s->path) {
		free(s);
		return NULL;
	}
	return s;
}

void service_free(struct service *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	free(s->list[0].v);
	free(s->list[1].v);
	free(s->path);
	free(s);
}

static int list_add(struct svc_list *l, uint16_t port, const char *name)
{
	struct svc_ent *v = vec_room(l->v, &l->cap, l->n + 1, sizeof(*v), 256);

	if (!v)
		return -1;
	l->v = v;
	l->v[l->n].port = port;
	l->v[l->n].order = (uint32_t)l->n;
	l->v[l->n].name = ecs_name_of(name);
	l->n++;
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct svc_ent *x = a, *y = b;

	return (int)x->port - (int)y->port;
}

static int ent_order_cmp(const void *a, const void *b)
{
	const struct svc_ent *x = a, *y = b;

	if (x->port != y->port)
		return (int)x->port - (int)y->port;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Sort by port and keep the first name of each port (qsort is not stable,
 * hence the order key). */
static void list_finish(struct svc_list *l)
{
	size_t out = 0;

	if (!l->n)
		return;
	qsort(l->v, l->n, sizeof(*l->v), ent_order_cmp);
	for (size_t i = 0; i < l->n; i++)
		if (!out || l->v[out - 1].port != l->v[i].port)
			l->v[out++] = l->v[i];
	l->n = out;
}

static const char *keep_name(struct service *s, const char *name)
{
	char *copy;

	if (s->nnames == s->capnames) {
		size_t cap = s->capnames ? s->capnames * 2 : 256;
		char **v = realloc(s->names, cap * sizeof(*v));

		if (!v)
			return NULL;
		s->names = v;
		s->capnames = cap;
	}
	copy = strdup(name);
	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	s->names[s->nnames++] = copy;
	return copy;
}

/* One line of services(5): "name port/proto [aliases] [# comment]". */
static void parse_line(struct service *s, char *line, struct svc_list *file[2])
{
	char *save = NULL, *name, *pp, *slash, *end;
	unsigned long port;
	const char *kept;
	int which;

	line[strcspn(line, "#\n")] = '\0';
	name = strtok_r(line, " \t", &save);
	pp = name ? strtok_r(NULL, " \t", &save) : NULL;
	if (!pp || !(slash = strchr(pp, '/')))
		return;
	*slash = '\0';
	port = strtoul(pp, &end, 10);
	if (*end || end == pp || port == 0 || port > 65535)
		return;
	if (!strcmp(slash + 1, "tcp"))
		which = 0;
	else if (!strcmp(slash + 1, "udp"))
		which = 1;
	else
		return;
	kept = keep_name(s, name);
	if (kept)
		list_add(file[which], (uint16_t)port, kept);
}

static void load(struct service *s)
{
	struct svc_list file[2] = { { 0 } };
	struct svc_list *fp[2] = { &file[0], &file[1] };
	char line[512];
	FILE *f;

	s->loaded = true;
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		if (builtin[i].on & S_TCP)
			list_add(&s->list[0], builtin[i].port, builtin[i].name);
		if (builtin[i].on & S_UDP)
			list_add(&s->list[1], builtin[i].port, builtin[i].name);
	}
	f = fopen(s->path, "re");
	if (f) {
		while (fgets(line, sizeof(line), f))
			parse_line(s, line, fp);
		fclose(f);
	}
	/* A port the built-in table names keeps that name; the file fills in
	 * the rest. */
	for (int w = 0; w < 2; w++) {
		struct svc_list *l = &s->list[w];
		size_t nb;

		list_finish(l);
		list_finish(&file[w]);
		nb = l->n;
		for (size_t i = 0; i < file[w].n; i++) {
			struct svc_ent key = { .port = file[w].v[i].port };

			if (!bsearch(&key, l->v, nb, sizeof(*l->v), ent_cmp))
				list_add(l, key.port, file[w].v[i].name);
		}
		if (l->n > nb)
			list_finish(l);
		free(file[w].v);
	}
}

static int transport_class(uint8_t l4proto)
{
	switch (l4proto) {
	case IPPROTO_TCP:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		return 0;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		return 1;
	default:
		return -1;
	}
}

const char *service_port_name(struct service *s, uint8_t l4proto, uint16_t port)
{
	int c = transport_class(l4proto);
	struct svc_ent key = { .port = port }, *hit;

	if (c < 0 || !port)
		return NULL;
	if (!s->loaded)
		load(s);
	hit = bsearch(&key, s->list[c].v, s->list[c].n, sizeof(key), ent_cmp);
	return hit ? hit->name : NULL;
}

/* 0 well-known, 1 registered, 2 dynamic (and 0, which is no port at all). */
static int port_class(uint16_t p)
{
	if (p == 0)
		return 2;
	return p < 1024 ? 0 : p < 49152 ? 1 : 2;
}

uint16_t service_server_port(uint8_t l4proto, uint16_t sport, uint16_t dport)
{
	if (transport_class(l4proto) < 0)
		return 0;
	return port_class(sport) < port_class(dport) ? sport : dport;
}

const char *service_lookup(struct service *s, uint8_t l4proto,
			   uint16_t sport, uint16_t dport)
{
	uint16_t server = service_server_port(l4proto, sport, dport);
	uint16_t other = server == dport ? sport : dport;
	const char *name;

	if (!server)
		return NULL;
	name = service_port_name(s, l4proto, server);
	if (!name && other != server && port_class(other) < 2)
		name = service_port_name(s, l4proto, other);
	return name;
}
