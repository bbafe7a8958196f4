/*
 * flowmatch.c - the view's filter and search over flow table entries.
 *
 * The search is a substring test over the strings a row shows (names,
 * places, the protocol, the namespace and container), and over addresses,
 * ports and namespace inodes only when the text could be part of one, so
 * that typing a name never formats a number.
 */
#include "flowmatch.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static bool match_str(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle);
}

static bool match_addr(const struct flowtab_entry *f, const union flow_addr *a,
		       const char *needle)
{
	char buf[INET6_ADDRSTRLEN];

	return strstr(flow_addr_str(f->family, a, buf, sizeof(buf)), needle);
}

static bool search_match(const char *q, const struct flowtab *t, const struct flowtab_entry *e)
{
	const struct flowtab_entry *f = e;
	const struct flowtab_place *src = flowtab_place(t, e, 0), *dst = flowtab_place(t, e, 1);
	const struct flowtab_netns *ns = flowtab_netns(t, e);
	bool addrish = true, digits = true;

	if (match_str(flowtab_owner(t, e)->name, q) || match_str(src->domain, q) ||
	    match_str(dst->domain, q) || match_str(src->country_name, q) ||
	    match_str(dst->country_name, q) || match_str(src->city_name, q) ||
	    match_str(dst->city_name, q) || match_str(flowtab_protocol(t, e), q) ||
	    match_str(src->country_iso, q) || match_str(dst->country_iso, q) ||
	    match_str(ns->name, q) || match_str(ns->container_name, q) ||
	    match_str(ns->container_id, q))
		return true;
	for (const char *p = q; *p; p++) {
		if (*p < '0' || *p > '9')
			digits = false;
		if (!strchr("0123456789abcdefABCDEF.:", *p))
			addrish = false;
	}
	if (addrish && f->has & FLOW_HAS_TUPLE &&
	    (match_addr(f, &f->orig.src, q) || match_addr(f, &f->orig.dst, q)))
		return true;
	if (digits && f->has & FLOW_HAS_PORTS) {
		char buf[12];

		snprintf(buf, sizeof(buf), "%u", f->orig.sport);
		if (strstr(buf, q))
			return true;
		snprintf(buf, sizeof(buf), "%u", f->orig.dport);
		if (strstr(buf, q))
			return true;
	}
	if (digits && ns->ino) {
		/* an unnamed namespace shows as its inode */
		char buf[24];

		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)ns->ino);
		if (strstr(buf, q))
			return true;
	}
	return false;
}

bool flowmatch_test(const struct flowmatch *m, const struct flowtab *t,
		    const struct flowtab_entry *e)
{
	const struct flowtab_entry *f = e;
	unsigned int p, fam;

	if (!m)
		return true;
	p = m->filter & (FLOWMATCH_TCP | FLOWMATCH_UDP | FLOWMATCH_ICMP | FLOWMATCH_SCTP);
	fam = m->filter & (FLOWMATCH_V4 | FLOWMATCH_V6);
	if (p) {
		unsigned int bit = f->l4proto == IPPROTO_TCP ? FLOWMATCH_TCP :
				   f->l4proto == IPPROTO_UDP ? FLOWMATCH_UDP :
				   f->l4proto == IPPROTO_ICMP || f->l4proto == IPPROTO_ICMPV6 ?
				   FLOWMATCH_ICMP :
				   f->l4proto == IPPROTO_SCTP ? FLOWMATCH_SCTP : 0;
		if (!(p & bit))
			return false;
	}
	if (fam && !(fam & (f->family == AF_INET ? FLOWMATCH_V4 :
			    f->family == AF_INET6 ? FLOWMATCH_V6 : 0)))
		return false;
	if (m->netns && flowtab_netns(t, e)->ino != m->netns)
		return false;
	return !m->search[0] || search_match(m->search, t, e);
}

void flowmatch_describe(const struct flowmatch *m, char *buf, size_t len)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} names[] = {
		{ FLOWMATCH_TCP, "tcp" }, { FLOWMATCH_UDP, "udp" }, { FLOWMATCH_ICMP, "icmp" },
		{ FLOWMATCH_SCTP, "sctp" }, { FLOWMATCH_V4, "ipv4" }, { FLOWMATCH_V6, "ipv6" },
	};
	size_t n = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && n < len; i++)
		if (m->filter & names[i].bit)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "",
					      names[i].name);
	if (m->netns && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%sns %s", n ? " " : "", m->netns_label);
	if (m->search[0] && n < len)
		snprintf(buf + n, len - n, "%s/%s", n ? " " : "", m->search);
}
