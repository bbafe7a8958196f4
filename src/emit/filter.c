/*
 * filter.c - flow selection, in user space and (where it can) in the kernel.
 */
#include "filter.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include "addr.h"
#include "num.h"

void filter_init(struct filter *fl)
{
	memset(fl, 0, sizeof(*fl));
	fl->want_v4 = fl->want_v6 = true;
	fl->any_proto = true;
}

bool filter_passes_all(const struct filter *fl)
{
	return fl->want_v4 && fl->want_v6 && fl->any_proto && !fl->nstates && !fl->nsrc &&
	       !fl->ndst && !fl->nports && !fl->no_loopback;
}

/* Call fn on each comma-separated item of list (copied, so it may be cut). */
static int each_item(const char *list, int (*fn)(void *, const char *, char *, size_t),
		     void *arg, char *err, size_t errlen)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int rc = 0;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!*copy) {
		snprintf(err, errlen, "empty list");
		rc = -1;
	}
	for (tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save))
		rc = fn(arg, tok, err, errlen);
	free(copy);
	return rc;
}

static int add_proto(void *arg, const char *s, char *err, size_t errlen)
{
	struct filter *fl = arg;
	int p = flow_l4proto_parse(s);

	if (p < 0) {
		snprintf(err, errlen, "unknown protocol '%s'", s);
		return -1;
	}
	fl->any_proto = false;
	fl->proto[p] = true;
	return 0;
}

int filter_add_protos(struct filter *fl, const char *list, char *err, size_t errlen)
{
	return each_item(list, add_proto, fl, err, errlen);
}

static bool known_state(const char *s)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_SCTP, IPPROTO_DCCP };

	for (size_t p = 0; p < sizeof(protos); p++)
		for (unsigned int i = 0; i < 16; i++) {
			const char *n = flow_state_name(protos[p], (uint8_t)i);

			if (n && !strcasecmp(n, s))
				return true;
		}
	return false;
}

static int add_state(void *arg, const char *s, char *err, size_t errlen)
{
	struct filter *fl = arg;

	if (!known_state(s)) {
		snprintf(err, errlen, "unknown state '%s'", s);
		return -1;
	}
	if (fl->nstates == FILTER_MAX_STATES) {
		snprintf(err, errlen, "too many states");
		return -1;
	}
	snprintf(fl->states[fl->nstates], sizeof(fl->states[0]), "%s", s);
	for (char *c = fl->states[fl->nstates]; *c; c++)
		*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
	fl->nstates++;
	return 0;
}

int filter_add_states(struct filter *fl, const char *list, char *err, size_t errlen)
{
	return each_item(list, add_state, fl, err, errlen);
}

int filter_parse_net(const char *s, struct filter_net *n)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	long len;
	int max;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	memset(n, 0, sizeof(*n));
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	n->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(n->family, buf, &n->addr) != 1)
		return -1;
	max = n->family == AF_INET ? 32 : 128;
	len = max;
	if (slash) {
		unsigned long long v;

		if (num_parse_uint(slash, 0, (unsigned long long)max, 0, &v) < 0)
			return -1;
		len = (long)v;
	}
	n->prefix = (uint8_t)len;
	/* keep only the network part, so matching compares like with like */
	for (int bit = (int)len; bit < max; bit++)
		n->addr.b[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	return 0;
}

struct net_arg {
	struct filter *fl;
	bool src;
};

static int add_net(void *arg, const char *s, char *err, size_t errlen)
{
	struct net_arg *na = arg;
	int *count = na->src ? &na->fl->nsrc : &na->fl->ndst;
	struct filter_net *nets = na->src ? na->fl->src : na->fl->dst;

	if (*count == FILTER_MAX_NETS) {
		snprintf(err, errlen, "too many addresses");
		return -1;
	}
	if (filter_parse_net(s, &nets[*count])) {
		snprintf(err, errlen, "invalid address or network '%s'", s);
		return -1;
	}
	(*count)++;
	return 0;
}

int filter_add_nets(struct filter *fl, bool src, const char *list, char *err, size_t errlen)
{
	struct net_arg na = { fl, src };

	return each_item(list, add_net, &na, err, errlen);
}

static int add_port(void *arg, const char *s, char *err, size_t errlen)
{
	struct filter *fl = arg;
	unsigned long long p;

	if (num_parse_uint(s, 0, 65535, 0, &p) < 0) {
		snprintf(err, errlen, "invalid port '%s'", s);
		return -1;
	}
	if (fl->nports == FILTER_MAX_PORTS) {
		snprintf(err, errlen, "too many ports");
		return -1;
	}
	fl->ports[fl->nports++] = (uint16_t)p;
	return 0;
}

int filter_add_ports(struct filter *fl, const char *list, char *err, size_t errlen)
{
	return each_item(list, add_port, fl, err, errlen);
}

static bool net_contains(const struct filter_net *n, int family, const union flow_addr *a)
{
	unsigned int full = n->prefix / 8, rest = n->prefix % 8;

	if (n->family != family)
		return false;
	if (memcmp(n->addr.b, a->b, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff00u >> rest);

		return (a->b[full] & mask) == n->addr.b[full];
	}
	return true;
}

static bool any_net(const struct filter_net *nets, int n, int family, const union flow_addr *a)
{
	for (int i = 0; i < n; i++)
		if (net_contains(&nets[i], family, a))
			return true;
	return false;
}

bool filter_match(const struct filter *fl, const struct flow *f)
{
	if ((f->family == AF_INET && !fl->want_v4) || (f->family == AF_INET6 && !fl->want_v6))
		return false;
	if (!fl->any_proto && !fl->proto[f->l4proto])
		return false;
	if (fl->nstates) {
		int i;

		if (!f->state)
			return false;
		for (i = 0; i < fl->nstates; i++)
			if (!strcmp(fl->states[i], f->state))
				break;
		if (i == fl->nstates)
			return false;
	}
	if (fl->nsrc && !any_net(fl->src, fl->nsrc, f->family, &f->orig.src))
		return false;
	if (fl->ndst && !any_net(fl->dst, fl->ndst, f->family, &f->orig.dst))
		return false;
	if (fl->nports) {
		int i;

		if (!(f->has & FLOW_HAS_PORTS))
			return false;
		for (i = 0; i < fl->nports; i++)
			if (fl->ports[i] == f->orig.sport || fl->ports[i] == f->orig.dport)
				break;
		if (i == fl->nports)
			return false;
	}
	if (fl->no_loopback && (addr_is_loopback(f->family, &f->orig.src) ||
				addr_is_loopback(f->family, &f->orig.dst)))
		return false;
	return true;
}

int filter_dump_l4proto(const struct filter *fl)
{
	int found = -1;

	if (fl->any_proto)
		return -1;
	for (int p = 0; p < 256; p++) {
		if (!fl->proto[p])
			continue;
		if (found >= 0)
			return -1;
		found = p;
	}
	return found;
}

struct nfct_filter *filter_kernel_events(const struct filter *fl)
{
	struct nfct_filter *kf;
	bool useful = false;

	kf = nfct_filter_create();
	if (!kf)
		return NULL;
	if (!fl->any_proto) {
		for (unsigned int p = 0; p < 256; p++)
			if (fl->proto[p])
				nfct_filter_add_attr_u32(kf, NFCT_FILTER_L4PROTO, p);
		useful = true;
	}
	/* Only a single family's source networks map onto the BPF filter
	 * without changing the meaning; the rest is left to user space. */
	if (fl->nsrc && !fl->ndst) {
		bool v6 = false, v4 = false;

		for (int i = 0; i < fl->nsrc; i++)
			*(fl->src[i].family == AF_INET ? &v4 : &v6) = true;
		if (v4 && !v6) {
			for (int i = 0; i < fl->nsrc; i++) {
				struct nfct_filter_ipv4 a = {
					.addr = ntohl(fl->src[i].addr.w[0]),
					.mask = fl->src[i].prefix ?
						0xffffffffu << (32 - fl->src[i].prefix) : 0,
				};

				nfct_filter_add_attr(kf, NFCT_FILTER_SRC_IPV4, &a);
			}
			useful = true;
		}
	}
	if (!useful) {
		nfct_filter_destroy(kf);
		return NULL;
	}
	return kf;
}
