/*
 * sockmap.c - the namespace's sockets by tuple, from sock_diag (rules in
 * sockmap.h).
 *
 * Every address is kept in IPv6 form, IPv4 as ::ffff:a.b.c.d, so that an
 * IPv4 flow finds AF_INET sockets and dual-stack AF_INET6 sockets alike with
 * one key.  Each transport has its own entry array and two chained hash
 * tables over it (connected sockets by the full tuple, bound ones by local
 * address and port), rebuilt by every dump.
 */
#include "sockmap.h"

#include <errno.h>
#include <ifaddrs.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>


/* The kernel's TCP state numbers, which inet_diag uses for every transport. */
enum {
	ST_ESTABLISHED = 1,
	ST_SYN_RECV = 3,
	ST_TIME_WAIT = 6,
	ST_CLOSE = 7,
	ST_LISTEN = 10,
	ST_NEW_SYN_RECV = 12,
};

#define DUMP_BUF 32768

struct sent {
	uint64_t inode;
	uint8_t laddr[16], raddr[16];
	uint32_t uid;
	uint32_t next;		/* chain: index + 1, 0 ends it */
	uint16_t lport, rport;
	uint8_t state;
	uint8_t v6only;
};

struct sockset {
	uint8_t l4proto;
	bool stream;		/* tcp, sctp, dccp: has listeners */
	bool unsupported[2];	/* [0] AF_INET, [1] AF_INET6 */
	unsigned int gen;	/* scan generation of the last dump */
	uint64_t dumped_ns;
	uint64_t next_ns;	/* earliest refresh on a miss */
	struct sent *v;
	size_t n, cap;
	uint32_t *exact, *bound;	/* heads: index + 1 */
	size_t nhead;
};

#define NSETS 5

struct sockmap {
	struct mnl_socket *nl;
	unsigned int portid, seq;
	unsigned int gen;		/* bumped by sockmap_invalidate */
	char *buf;
	struct sockset set[NSETS];
	/* this host's addresses, sorted, for the bound-socket rules */
	uint8_t (*local)[16];
	size_t nlocal;
	unsigned int local_gen;
	uint64_t local_ns;
};

static const uint8_t transports[NSETS] = {
	IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE, IPPROTO_SCTP, IPPROTO_DCCP,
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct sockmap *sockmap_new(void)
{
	struct sockmap *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->buf = malloc(DUMP_BUF);
	m->nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!m->buf || !m->nl || mnl_socket_bind(m->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		sockmap_free(m);
		errno = err;
		return NULL;
	}
	m->portid = mnl_socket_get_portid(m->nl);
	m->gen = 1;
	for (int i = 0; i < NSETS; i++) {
		m->set[i].l4proto = transports[i];
		m->set[i].stream = transports[i] != IPPROTO_UDP &&
				   transports[i] != IPPROTO_UDPLITE;
	}
	return m;
}

void sockmap_free(struct sockmap *m)
{
	if (!m)
		return;
	for (int i = 0; i < NSETS; i++) {
		free(m->set[i].v);
		free(m->set[i].exact);
		free(m->set[i].bound);
	}
	if (m->nl)
		mnl_socket_close(m->nl);
	free(m->local);
	free(m->buf);
	free(m);
}

void sockmap_invalidate(struct sockmap *m)
{
	m->gen++;
}

static struct sockset *set_of(struct sockmap *m, uint8_t l4proto)
{
	for (int i = 0; i < NSETS; i++)
		if (m->set[i].l4proto == l4proto)
			return &m->set[i];
	return NULL;
}

size_t sockmap_count(const struct sockmap *m, uint8_t l4proto)
{
	for (int i = 0; i < NSETS; i++)
		if (m->set[i].l4proto == l4proto)
			return m->set[i].n;
	return 0;
}

/* --- keys ------------------------------------------------------------------ */

static void to_key(int family, const void *a, uint8_t out[16])
{
	if (family == AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, a, 4);
	} else {
		memcpy(out, a, 16);
	}
}

static uint32_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

static uint64_t addr_fold(const uint8_t a[16])
{
	uint64_t x, y;

	memcpy(&x, a, 8);
	memcpy(&y, a + 8, 8);
	return x * 0x9e3779b97f4a7c15ULL ^ y;
}

static uint32_t hash_bound(const uint8_t l[16], uint16_t lport)
{
	return mix(addr_fold(l) + lport);
}

static uint32_t hash_exact(const uint8_t l[16], uint16_t lport,
			   const uint8_t r[16], uint16_t rport)
{
	return mix(addr_fold(l) * 31 + addr_fold(r) + ((uint64_t)lport << 16 | rport));
}

/* --- this host's addresses ------------------------------------------------ */

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static void load_local(struct sockmap *m)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	m->local_gen = m->gen;
	m->local_ns = mono_ns();
	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i; i = i->ifa_next)
		n++;
	free(m->local);
	m->nlocal = 0;
	m->local = malloc((n ? n : 1) * 16);
	if (!m->local) {
		freeifaddrs(ifa);
		return;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			to_key(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr,
			       m->local[m->nlocal++]);
		else if (i->ifa_addr->sa_family == AF_INET6)
			to_key(AF_INET6, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr,
			       m->local[m->nlocal++]);
	}
	freeifaddrs(ifa);
	qsort(m->local, m->nlocal, 16, key_cmp);
}

static bool is_local(struct sockmap *m, const uint8_t k[16])
{
	static const uint8_t lo6[16] = { [15] = 1 };
	static const uint8_t v4pre[12] = { [10] = 0xff, [11] = 0xff };

	if (!memcmp(k, lo6, 16) || (!memcmp(k, v4pre, 12) && k[12] == 127))
		return true;
	if (m->local_gen != m->gen || mono_ns() - m->local_ns > SOCKMAP_REFRESH_MS * 1000000ull)
		load_local(m);
	return m->local && bsearch(k, m->local, m->nlocal, 16, key_cmp);
}

/* --- dump ------------------------------------------------------------------ */

struct dump_ctx {
	struct sockset *s;
	int err;
};

static int v6only_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == INET_DIAG_SKV6ONLY &&
	    mnl_attr_get_payload_len(a) >= 1)
		*(uint8_t *)data = *(const uint8_t *)mnl_attr_get_payload(a);
	return MNL_CB_OK;
}

static int add_sock(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *c = data;
	struct sockset *s = c->s;
	const struct inet_diag_msg *d = mnl_nlmsg_get_payload(nlh);
	struct sent *e;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*d))
		return MNL_CB_OK;
	if (d->idiag_family != AF_INET && d->idiag_family != AF_INET6)
		return MNL_CB_OK;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct sent *v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			c->err = ENOMEM;
			return MNL_CB_ERROR;
		}
		s->v = v;
		s->cap = cap;
	}
	e = &s->v[s->n];
	memset(e, 0, sizeof(*e));
	to_key(d->idiag_family, d->id.idiag_src, e->laddr);
	to_key(d->idiag_family, d->id.idiag_dst, e->raddr);
	e->lport = ntohs(d->id.idiag_sport);
	e->rport = ntohs(d->id.idiag_dport);
	e->state = d->idiag_state;
	e->uid = d->idiag_uid;
	e->inode = d->idiag_inode;
	if (d->idiag_family == AF_INET6 &&
	    (e->state == ST_LISTEN || e->state == ST_CLOSE))
		mnl_attr_parse(nlh, sizeof(*d), v6only_attr, &e->v6only);
	s->n++;
	return MNL_CB_OK;
}

static int dump_family(struct sockmap *m, struct sockset *s, int family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(m->buf);
	struct inet_diag_req_v2 *req;
	struct dump_ctx c = { s, 0 };
	unsigned int seq = ++m->seq;
	ssize_t n;
	int rc;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = (uint8_t)family;
	req->sdiag_protocol = s->l4proto;
	req->idiag_states = ~0u;
	/* TIME_WAIT and request sockets have no owner; leaving them out also
	 * keeps the dump small on a busy server. */
	if (s->stream)
		req->idiag_states &= ~(1u << ST_TIME_WAIT | 1u << ST_SYN_RECV |
				       1u << ST_NEW_SYN_RECV);
	if (mnl_socket_sendto(m->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		n = mnl_socket_recvfrom(m->nl, m->buf, DUMP_BUF);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		rc = mnl_cb_run(m->buf, (size_t)n, seq, m->portid, add_sock, &c);
		if (rc < 0) {
			if (c.err)
				errno = c.err;
			return -1;
		}
		if (rc == MNL_CB_STOP)
			return 0;
	}
}

static int grow_heads(struct sockset *s)
{
	size_t want = 64;

	while (want < s->n * 2)
		want *= 2;
	if (want != s->nhead) {
		uint32_t *x = realloc(s->exact, want * sizeof(*x));
		uint32_t *b = x ? realloc(s->bound, want * sizeof(*b)) : NULL;

		if (x)
			s->exact = x;
		if (!b)
			return -1;
		s->bound = b;
		s->nhead = want;
	}
	memset(s->exact, 0, s->nhead * sizeof(*s->exact));
	memset(s->bound, 0, s->nhead * sizeof(*s->bound));
	return 0;
}

static void index_set(struct sockset *s)
{
	size_t mask = s->nhead - 1;

	/* Backwards, so that each chain lists sockets in dump order and the
	 * first of several on one key (SO_REUSEPORT) is found first. */
	for (size_t i = s->n; i-- > 0;) {
		struct sent *e = &s->v[i];
		uint32_t *head;

		if (s->stream ? e->state == ST_LISTEN : e->rport == 0)
			head = &s->bound[hash_bound(e->laddr, e->lport) & mask];
		else if (e->rport != 0)
			head = &s->exact[hash_exact(e->laddr, e->lport, e->raddr, e->rport) & mask];
		else
			continue;	/* bound, not listening: owns no flow */
		e->next = *head;
		*head = (uint32_t)(i + 1);
	}
}

int sockmap_refresh(struct sockmap *m, uint8_t l4proto)
{
	struct sockset *s = set_of(m, l4proto);
	int ok = 0, err = EPROTONOSUPPORT;

	if (!s) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	s->n = 0;
	s->gen = m->gen;
	s->dumped_ns = mono_ns();
	for (int f = 0; f < 2; f++) {
		if (s->unsupported[f])
			continue;
		if (dump_family(m, s, f ? AF_INET6 : AF_INET) == 0) {
			ok = 1;
			continue;
		}
		err = errno;
		/* No sock_diag handler for it (module absent, protocol
		 * removed): never ask again, each try may run modprobe. */
		if (err == ENOENT || err == EOPNOTSUPP || err == EPROTONOSUPPORT ||
		    err == EAFNOSUPPORT || err == EINVAL)
			s->unsupported[f] = true;
	}
	if (grow_heads(s) < 0) {
		s->n = 0;
		errno = ENOMEM;
		return -1;
	}
	index_set(s);
	/* A miss may dump again after SOCKMAP_REFRESH_MS, or ten times what
	 * this dump cost if that is longer: at most ~10% of the time. */
	{
		uint64_t cost = mono_ns() - s->dumped_ns, wait = SOCKMAP_REFRESH_MS * 1000000ull;

		s->next_ns = mono_ns() + (cost * 10 > wait ? cost * 10 : wait);
	}
	if (!ok) {
		errno = err;
		return -1;
	}
	return 0;
}

/* --- look-ups -------------------------------------------------------------- */

static void fill(const struct sent *e, struct sockmap_sock *out)
{
	out->inode = e->inode;
	out->uid = e->uid;
	out->state = e->state;
}

static const struct sent *exact_key(const struct sockset *s, const uint8_t l[16],
				    uint16_t lport, const uint8_t r[16], uint16_t rport)
{
	uint32_t i;

	if (!s->nhead)
		return NULL;
	i = s->exact[hash_exact(l, lport, r, rport) & (s->nhead - 1)];
	for (; i; i = s->v[i - 1].next) {
		const struct sent *e = &s->v[i - 1];

		if (e->lport == lport && e->rport == rport &&
		    !memcmp(e->laddr, l, 16) && !memcmp(e->raddr, r, 16))
			return e;
	}
	return NULL;
}

static const struct sent *bound_one(const struct sockset *s, const uint8_t l[16],
				    uint16_t lport, bool need_dual)
{
	uint32_t i;

	if (!s->nhead)
		return NULL;
	i = s->bound[hash_bound(l, lport) & (s->nhead - 1)];
	for (; i; i = s->v[i - 1].next) {
		const struct sent *e = &s->v[i - 1];

		if (e->lport == lport && !memcmp(e->laddr, l, 16) &&
		    !(need_dual && e->v6only))
			return e;
	}
	return NULL;
}

static bool is_mapped(const uint8_t k[16])
{
	static const uint8_t v4pre[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(k, v4pre, 12);
}

/* laddr:lport itself, then the wildcard of its family, then for IPv4 the
 * IPv6 wildcard of a dual-stack socket. */
static const struct sent *bound_key(const struct sockset *s, const uint8_t l[16],
				    uint16_t lport)
{
	static const uint8_t any6[16];
	static const uint8_t any4[16] = { [10] = 0xff, [11] = 0xff };
	const struct sent *e = bound_one(s, l, lport, false);

	if (e)
		return e;
	if (is_mapped(l)) {
		e = bound_one(s, any4, lport, false);
		return e ? e : bound_one(s, any6, lport, true);
	}
	return bound_one(s, any6, lport, false);
}

static struct sockset *ready_set(struct sockmap *m, uint8_t l4proto)
{
	struct sockset *s = set_of(m, l4proto);

	if (!s || (s->unsupported[0] && s->unsupported[1]))
		return NULL;
	if (s->gen != m->gen)
		sockmap_refresh(m, l4proto);
	return s;
}

bool sockmap_find_exact(struct sockmap *m, uint8_t l4proto, int family,
			const union flow_addr *laddr, uint16_t lport,
			const union flow_addr *raddr, uint16_t rport,
			struct sockmap_sock *out)
{
	struct sockset *s = ready_set(m, l4proto);
	uint8_t l[16], r[16];
	const struct sent *e;

	if (!s)
		return false;
	to_key(family, laddr, l);
	to_key(family, raddr, r);
	e = exact_key(s, l, lport, r, rport);
	if (e)
		fill(e, out);
	return e != NULL;
}

bool sockmap_find_bound(struct sockmap *m, uint8_t l4proto, int family,
			const union flow_addr *laddr, uint16_t lport,
			struct sockmap_sock *out)
{
	struct sockset *s = ready_set(m, l4proto);
	uint8_t l[16];
	const struct sent *e;

	if (!s)
		return false;
	to_key(family, laddr, l);
	e = bound_key(s, l, lport);
	if (e)
		fill(e, out);
	return e != NULL;
}

static bool try_flow(struct sockmap *m, const struct sockset *s, const struct flow *f,
		     struct sockmap_sock *out)
{
	const struct flow_tuple *o = &f->orig;
	uint8_t os[16], od[16], rs[16], rd[16];
	uint16_t rsport, rdport;
	const struct sent *a, *b, *l;
	bool queued;

	to_key(f->family, &o->src, os);
	to_key(f->family, &o->dst, od);
	if ((f->has & (FLOW_HAS_REPLY | FLOW_HAS_REPLY_PORTS)) ==
	    (FLOW_HAS_REPLY | FLOW_HAS_REPLY_PORTS)) {
		to_key(f->family, &f->reply.src, rs);
		to_key(f->family, &f->reply.dst, rd);
		rsport = f->reply.sport;
		rdport = f->reply.dport;
	} else {
		memcpy(rs, od, 16);
		memcpy(rd, os, 16);
		rsport = o->dport;
		rdport = o->sport;
	}

	/* 1, 2: the exact sockets, originator first */
	a = exact_key(s, os, o->sport, od, o->dport);
	if (a && a->inode) {
		fill(a, out);
		return true;
	}
	b = exact_key(s, rs, rsport, rd, rdport);
	if (b && b->inode) {
		fill(b, out);
		return true;
	}
	if (!s->stream) {
		/* 3, 4: unconnected datagram sockets */
		if (is_local(m, os) && (l = bound_key(s, os, o->sport))) {
			fill(l, out);
			return true;
		}
		if (is_local(m, rs) && (l = bound_key(s, rs, rsport))) {
			fill(l, out);
			return true;
		}
		return false;
	}
	/* 4: a connection still in the listener's queues belongs to the
	 * listener's process; one that is closing has no owner left. */
	queued = b ? b->state == ST_ESTABLISHED || b->state == ST_SYN_RECV
		   : f->state && !strcmp(f->state, "SYN_RECV");
	if (queued && is_local(m, rs) && (l = bound_key(s, rs, rsport))) {
		fill(l, out);
		if (b)
			out->uid = b->uid;
		out->state = b ? b->state : ST_SYN_RECV;
		return true;
	}
	return false;
}

bool sockmap_find_flow(struct sockmap *m, const struct flow *f, struct sockmap_sock *out)
{
	struct sockset *s;

	if ((f->has & (FLOW_HAS_TUPLE | FLOW_HAS_PORTS)) != (FLOW_HAS_TUPLE | FLOW_HAS_PORTS) ||
	    (f->family != AF_INET && f->family != AF_INET6))
		return false;
	s = ready_set(m, f->l4proto);
	if (!s)
		return false;
	if (try_flow(m, s, f, out))
		return true;
	/* A socket newer than the dump: look again, but not too often. */
	if (mono_ns() < s->next_ns)
		return false;
	if (sockmap_refresh(m, f->l4proto) < 0)
		return false;
	return try_flow(m, s, f, out);
}
