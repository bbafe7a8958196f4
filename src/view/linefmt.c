/*
 * linefmt.c - the flowtop line:
 *
 *   [pid/name]:ipv4:tcp[ESTABLISHED]:https -> src:port (Country, City) => dst:port (...)
 *
 * preceded, when the stream has counters, by SENT RECV RATE AGE columns, so
 * that numbers stay put while the long text scrolls sideways; and, when the
 * stream watches other namespaces, by the flow's namespace or container.
 */
#include "linefmt.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "utf8.h"

struct out {
	char *b;
	size_t n;
};

static void put(struct out *o, const char *s)
{
	size_t l = s ? strlen(s) : 0;

	if (o->n + l >= LINEFMT_MAX)
		l = LINEFMT_MAX - 1 - o->n;
	memcpy(o->b + o->n, s, l);
	o->n += l;
	o->b[o->n] = '\0';
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[LINEFMT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	put(o, tmp);
}

void linefmt_size(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	double d = (double)v;
	int u = -1;

	if (v < 1000) {
		snprintf(buf, len, "%u", (unsigned)v);
		return;
	}
	while (d >= 999.5 && u < 5) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, d < 9.95 ? "%.1f%c" : "%.0f%c", d, units[u]);
}

static void age_str(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / 1000000000u;

	if (s < 60)
		snprintf(buf, len, "%us", (unsigned)s);
	else if (s < 3600)
		snprintf(buf, len, "%um%02u", (unsigned)(s / 60), (unsigned)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%uh%02u", (unsigned)(s / 3600), (unsigned)(s / 60 % 60));
	else
		snprintf(buf, len, "%ud%02u", (unsigned)(s / 86400), (unsigned)(s / 3600 % 24));
}

static void counters(const struct linefmt *lf, const struct flowtab_entry *e,
		     const struct flow *f, struct out *o)
{
	char sent[16] = "-", recv[16] = "-", rate[16] = "-", age[16];
	uint64_t since = e->since_ns;

	if (f->has & FLOW_HAS_COUNTERS) {
		linefmt_size(f->orig_bytes, sent, sizeof(sent));
		linefmt_size(f->reply_bytes, recv, sizeof(recv));
		linefmt_size(sorter_rate(e, lf->now_ns), rate, sizeof(rate) - 2);
		strcat(rate, "/s");
	}
	age_str(lf->now_ns > since ? lf->now_ns - since : 0, age, sizeof(age));
	putf(o, "%6s %6s %8s %6s  ", sent, recv, rate, age);
}

static const char *transport(const struct flow *f, char *buf, size_t len)
{
	const char *n = flow_l4proto_name(f->l4proto);

	if (n)
		return n;
	snprintf(buf, len, "%u", f->l4proto);
	return buf;
}

/* An address, or its name: v6 addresses get brackets when a port follows. */
static void endpoint(const struct linefmt *lf, const struct flow *f, const union flow_addr *a,
		     uint16_t port, const char *domain, const struct flow_geo *g, struct out *o)
{
	char buf[INET6_ADDRSTRLEN];
	bool ports = f->has & FLOW_HAS_PORTS;

	if (domain && !lf->numeric) {
		put(o, domain);
	} else if (!(f->has & FLOW_HAS_TUPLE)) {
		put(o, "?");
	} else {
		flow_addr_str(f->family, a, buf, sizeof(buf));
		if (ports && f->family == AF_INET6)
			putf(o, "[%s]", buf);
		else
			put(o, buf);
	}
	if (ports)
		putf(o, ":%u", port);
	if (g->country_name || g->country_iso[0] || g->city_name)
		putf(o, " (%s, %s)", g->country_name ? g->country_name :
			 g->country_iso[0] ? g->country_iso : "N/A",
		     g->city_name ? g->city_name : "N/A");
}

size_t linefmt_netns(const struct flowtab_netns *ns, char *buf, size_t len)
{
	const char *id = ns->container_id;
	size_t n = 0;

	buf[0] = '\0';
	if (ns->container_name)
		return (size_t)snprintf(buf, len, "%s", ns->container_name);
	if (id) {
		/* a 64-digit id is known by its first 12, as docker ps shows;
		 * other ids (an nspawn machine's name) are shown whole */
		while (id[n] && isxdigit((unsigned char)id[n]))
			n++;
		if (!id[n] && n > 12)
			return (size_t)snprintf(buf, len, "%.12s", id);
		return (size_t)snprintf(buf, len, "%s", id);
	}
	if (ns->name)
		return (size_t)snprintf(buf, len, "%s", ns->name);
	if (ns->ino)
		return (size_t)snprintf(buf, len, "%llu", (unsigned long long)ns->ino);
	return 0;
}

/* The flow's namespace as a label; "-" for a flow that names none. */
static const char *netns_label(const struct flowtab *t, const struct flowtab_entry *e,
			       char *buf, size_t len)
{
	if (!linefmt_netns(flowtab_netns(t, e), buf, len))
		snprintf(buf, len, "-");
	return buf;
}

static void process(const struct flow *f, struct out *o)
{
	if (f->has & FLOW_HAS_PID || f->process_name) {
		put(o, "[");
		if (f->has & FLOW_HAS_PID)
			putf(o, "%u", f->pid);
		else
			put(o, "?");
		putf(o, "/%s]", f->process_name ? f->process_name : "?");
	} else {
		put(o, "bridged(?)");
	}
}

/* A cell of exactly w columns: cut or padded. */
static void cell(struct out *o, const char *s, size_t w)
{
	char tmp[LINEFMT_MAX];
	size_t cols, n = linefmt_cut(s, strlen(s), 0, w, true, tmp, &cols);

	(void)n;
	put(o, tmp);
	for (; cols < w + 1; cols++)
		put(o, " ");
}

/* Full-width compact columns, counters excluded. */
#define COMPACT_WIDTH 158u
#define NETNS_WIDTH 12u
#define COUNTERS_WIDTH 30u
#define NARROW_COUNTERS_WIDTH 15u
/* narrow: process, transport, state before the destination */
#define NARROW_LEAD 34u

unsigned int linefmt_compact_width(const struct linefmt *lf)
{
	return COMPACT_WIDTH + (lf->counters ? COUNTERS_WIDTH : 0);
}

static bool narrow(const struct linefmt *lf)
{
	return lf->width && lf->width < linefmt_compact_width(lf);
}

/* Whether the full-width compact layout has room for the namespace in
 * front; without it the namespace goes last, the first column to go. */
static bool netns_first(const struct linefmt *lf)
{
	return !lf->width || lf->width >= linefmt_compact_width(lf) + NETNS_WIDTH + 1;
}

/* How wide the narrow layout's destination is: what is left after the
 * columns before it, half of it when that is wide enough for a name. */
static size_t narrow_dst_width(const struct linefmt *lf)
{
	size_t lead = NARROW_LEAD + (lf->counters ? NARROW_COUNTERS_WIDTH : 0);
	size_t rest = lf->width > lead + 24 ? lf->width - lead - 1 : 24;

	return rest >= 60 ? rest / 2 : rest;
}

/* Address or name, and the port, as one cell's text. */
static void endpoint_cell(const struct linefmt *lf, const struct flow *f, int end,
			  struct out *c)
{
	const char *dom = end ? f->dst_domain : f->src_domain;
	const union flow_addr *a = end ? &f->orig.dst : &f->orig.src;
	char ab[INET6_ADDRSTRLEN];

	if (dom && !lf->numeric)
		put(c, dom);
	else
		put(c, f->has & FLOW_HAS_TUPLE ? flow_addr_str(f->family, a, ab, sizeof(ab)) : "?");
	if (f->has & FLOW_HAS_PORTS)
		putf(c, ":%u", end ? f->orig.dport : f->orig.sport);
}

/* RATE AGE PROCESS PROTO STATE DESTINATION SOURCE [SENT RECV]: what fits
 * 80 columns, destination first; the rest scrolls in from the right. */
static void compact_narrow(const struct linefmt *lf, const struct flowtab *t,
			   const struct flowtab_entry *e, const struct flow *f, struct out *o)
{
	char buf[LINEFMT_MAX], tb[8];
	struct out c = { buf, 0 };
	const char *tp = transport(f, tb, sizeof(tb));

	if (lf->counters) {
		char rate[16] = "-", age[16];
		uint64_t since = e->since_ns;

		if (f->has & FLOW_HAS_COUNTERS) {
			linefmt_size(sorter_rate(e, lf->now_ns), rate, sizeof(rate) - 2);
			strcat(rate, "/s");
		}
		age_str(lf->now_ns > since ? lf->now_ns - since : 0, age, sizeof(age));
		putf(o, "%8s %5s ", rate, age);
	}
	buf[0] = '\0';
	process(f, &c);
	cell(o, buf, 15);
	c.n = 0;
	buf[0] = '\0';
	/* netstat's names: tcp6, udp6, icmp6 */
	put(&c, !strcmp(tp, "ipv6-icmp") ? "icmp" : tp);
	if (f->family == AF_INET6)
		put(&c, "6");
	cell(o, buf, 5);
	cell(o, f->state ? f->state : "", 11);
	c.n = 0;
	buf[0] = '\0';
	endpoint_cell(lf, f, 1, &c);
	cell(o, buf, narrow_dst_width(lf));
	c.n = 0;
	buf[0] = '\0';
	endpoint_cell(lf, f, 0, &c);
	if (lf->counters && f->has & FLOW_HAS_COUNTERS) {
		char sent[16], recv[16];

		cell(o, buf, 28);
		linefmt_size(f->orig_bytes, sent, sizeof(sent));
		linefmt_size(f->reply_bytes, recv, sizeof(recv));
		putf(o, "%6s %6s", sent, recv);
	} else if (lf->netns) {
		cell(o, buf, 28);
		if (lf->counters)
			putf(o, "%6s %6s", "-", "-");
	} else {
		put(o, buf);
	}
	if (lf->netns) {
		/* last: of all columns, the first to go at a narrow width */
		if (lf->counters)
			put(o, " ");
		put(o, netns_label(t, e, buf, sizeof(buf)));
	}
	while (o->n && o->b[o->n - 1] == ' ')
		o->b[--o->n] = '\0';
}

static void compact(const struct linefmt *lf, const struct flowtab *t,
		    const struct flowtab_entry *e, const struct flow *f, struct out *o)
{
	char buf[LINEFMT_MAX], tb[8], ab[INET6_ADDRSTRLEN];
	struct out c = { buf, 0 };

	if (lf->netns && netns_first(lf))
		cell(o, netns_label(t, e, buf, sizeof(buf)), NETNS_WIDTH);
	buf[0] = '\0';
	process(f, &c);
	cell(o, buf, 20);
	cell(o, f->family == AF_INET6 ? "ipv6" : f->family == AF_INET ? "ipv4" : "?", 4);
	cell(o, transport(f, tb, sizeof(tb)), 5);
	cell(o, f->state ? f->state : "", 11);
	c.n = 0;
	buf[0] = '\0';
	if (f->protocol)
		put(&c, f->protocol);
	else if (f->has & FLOW_HAS_PORTS)
		putf(&c, "%u", f->orig.dport);
	cell(o, buf, 8);
	for (int end = 0; end < 2; end++) {
		const char *dom = end ? f->dst_domain : f->src_domain;
		const union flow_addr *a = end ? &f->orig.dst : &f->orig.src;
		const struct flow_geo *g = end ? &f->dst_geo : &f->src_geo;

		if (dom && !lf->numeric)
			cell(o, dom, 28);
		else
			cell(o, f->has & FLOW_HAS_TUPLE ?
				flow_addr_str(f->family, a, ab, sizeof(ab)) : "?", 28);
		c.n = 0;
		buf[0] = '\0';
		if (f->has & FLOW_HAS_PORTS)
			putf(&c, "%u", end ? f->orig.dport : f->orig.sport);
		cell(o, buf, 5);
		cell(o, g->country_iso, 2);
		cell(o, g->city_name ? g->city_name : "", end ? 16 : 12);
	}
	if (lf->netns && !netns_first(lf))
		put(o, netns_label(t, e, buf, sizeof(buf)));
	/* no trailing blanks */
	while (o->n && o->b[o->n - 1] == ' ')
		o->b[--o->n] = '\0';
}

size_t linefmt_flow(const struct linefmt *lf, const struct flowtab *t,
		    const struct flowtab_entry *e, char *buf)
{
	struct flow fl;
	const struct flow *f = &fl;
	struct out o = { buf, 0 };
	char tb[8];

	buf[0] = '\0';
	flowtab_flow(t, e, &fl);
	if (lf->compact && narrow(lf)) {
		compact_narrow(lf, t, e, f, &o);
		return o.n;
	}
	if (lf->counters)
		counters(lf, e, f, &o);
	if (lf->compact) {
		compact(lf, t, e, f, &o);
		return o.n;
	}
	if (lf->netns) {
		char lb[LINEFMT_MAX];

		put(&o, netns_label(t, e, lb, sizeof(lb)));
		put(&o, " ");
	}
	process(f, &o);
	putf(&o, ":%s:%s", f->family == AF_INET6 ? "ipv6" : f->family == AF_INET ? "ipv4" : "?",
	     transport(f, tb, sizeof(tb)));
	if (f->state)
		putf(&o, "[%s]", f->state);
	if (f->protocol)
		putf(&o, ":%s", f->protocol);
	else if (f->has & FLOW_HAS_PORTS)
		putf(&o, ":%u", f->orig.dport);
	put(&o, " -> ");
	endpoint(lf, f, &f->orig.src, f->orig.sport, f->src_domain, &f->src_geo, &o);
	put(&o, " => ");
	endpoint(lf, f, &f->orig.dst, f->orig.dport, f->dst_domain, &f->dst_geo, &o);
	return o.n;
}

size_t linefmt_header(const struct linefmt *lf, char *buf)
{
	struct out o = { buf, 0 };

	buf[0] = '\0';
	if (lf->compact && narrow(lf)) {
		if (lf->counters)
			putf(&o, "%8s %5s ", "RATE", "AGE");
		putf(&o, "%-15s %-5s %-11s %-*s %s", "PROCESS", "PROTO", "STATE",
		     (int)narrow_dst_width(lf), "DESTINATION", "SOURCE");
		if (lf->counters || lf->netns)
			putf(&o, "%*s", (int)(28 - strlen("SOURCE") + 1), "");
		if (lf->counters)
			putf(&o, "%6s %6s%s", "SENT", "RECV", lf->netns ? " " : "");
		if (lf->netns)
			put(&o, "NETNS");
		return o.n;
	}
	if (lf->counters)
		putf(&o, "%6s %6s %8s %6s  ", "SENT", "RECV", "RATE", "AGE");
	if (lf->compact) {
		if (lf->netns && netns_first(lf))
			putf(&o, "%-*s ", (int)NETNS_WIDTH, "NETNS");
		putf(&o, "%-20s %-4s %-5s %-11s %-8s %-28s %-5s %-2s %-12s %-28s %-5s %-2s %s",
		     "PROCESS", "FAM", "PROTO", "STATE", "APP", "SOURCE", "PORT", "CC", "CITY",
		     "DESTINATION", "PORT", "CC", "CITY");
		if (lf->netns && !netns_first(lf))
			putf(&o, "%*s%s", 16 - (int)strlen("CITY") + 1, "", "NETNS");
	} else if (lf->legend) {
		put(&o, lf->netns ? "NETNS [PID/PROCESS]:FAMILY:TRANSPORT[STATE]:APP -> SOURCE => DESTINATION"
			: "[PID/PROCESS]:FAMILY:TRANSPORT[STATE]:APP -> SOURCE => DESTINATION");
	} else if (lf->counters) {
		put(&o, "FLOW");
	}
	return o.n;
}

size_t linefmt_proc_header(const struct flowtab *t, char *buf)
{
	if (t->any_netns)
		return (size_t)snprintf(buf, LINEFMT_MAX, "%8s  %-*s %-24s %6s %6s %6s %8s",
					"PID", (int)NETNS_WIDTH, "NETNS", "PROCESS", "FLOWS",
					"SENT", "RECV", "RATE");
	return (size_t)snprintf(buf, LINEFMT_MAX, "%8s  %-24s %6s %6s %6s %8s", "PID",
				"PROCESS", "FLOWS", "SENT", "RECV", "RATE");
}

size_t linefmt_proc(const struct procsum_row *p, const struct flowtab *t, char *buf)
{
	char pid[12], name[LINEFMT_MAX], s[16] = "-", r[16] = "-", rate[16] = "-";
	struct out o = { buf, 0 };
	const char *n = procsum_name(p, t);
	size_t cols;

	if (p->has_pid)
		snprintf(pid, sizeof(pid), "%u", p->pid);
	else
		snprintf(pid, sizeof(pid), "-");
	if (!n)
		n = p->has_pid ? "?" : "bridged(?)";

	linefmt_cut(n, strlen(n), 0, 24, true, name, &cols);
	if (p->counters) {
		linefmt_size(p->sent, s, sizeof(s));
		linefmt_size(p->recv, r, sizeof(r));
		linefmt_size(p->rate, rate, sizeof(rate) - 2);
		strcat(rate, "/s");
	}
	buf[0] = '\0';
	putf(&o, "%8s  ", pid);
	if (t->any_netns) {
		char lb[LINEFMT_MAX];

		if (!linefmt_netns(flowtab_netns_at(t, p->netns), lb, sizeof(lb)))
			snprintf(lb, sizeof(lb), "-");
		cell(&o, lb, NETNS_WIDTH);
	}
	putf(&o, "%s%*s %6u %6s %6s %8s", name, (int)(24 - cols), "", p->flows, s, r, rate);
	return o.n;
}

size_t linefmt_cut(const char *s, size_t len, size_t skip, size_t width, bool utf8,
		   char *out, size_t *cols)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, col = 0, used = 0;

	while (i < len) {
		size_t n = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, len - i);
		int w = 1;
		wchar_t wc = p[i];

		if (n == 0) {
			n = 1;		/* cannot happen with pooled strings */
			wc = '?';
		} else if (n > 1) {
			mbstate_t st = { 0 };

			if (mbrtowc(&wc, s + i, n, &st) != n)
				wc = 0xfffd;
			w = wcwidth(wc);
			if (w < 0)
				w = 1;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			wc = '?';
		}
		if (col >= skip) {
			if (width && used + (size_t)w > width)
				break;
			if (!utf8 && n > 1) {
				out[o++] = '?';
			} else if (wc == '?' && n == 1) {
				out[o++] = '?';
			} else {
				memcpy(out + o, s + i, n);
				o += n;
			}
			used += (size_t)w;
		}
		col += (size_t)w;
		i += n;
	}
	out[o] = '\0';
	*cols = used;
	return o;
}
