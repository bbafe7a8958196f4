/*
 * sockmap.c - the namespace's sockets by tuple, from sock_diag (rules in
 * sockmap.h).
 *
 * Every address is kept in IPv6 form, IPv4 as ::ffff:a.b.c.d, so that an
 * IPv4 flow finds AF_INET sockets and dual-stack AF_INET6 sockets alike with
 * one key.  Each transport has its own entry array and two tables of
 * indexes into it (connected sockets by the full tuple, bound ones by local
 * address and port), rebuilt by every dump.
 */
#include "sockmap.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "clock.h"
#include "hash.h"
#include "netns.h"
#include "nldump.h"
#include "htab.h"
#include "localaddr.h"
#include "notice.h"
#include "refresh.h"
#include "vec.h"


/* The kernel's TCP state numbers, which inet_diag uses for every transport. */
enum {
	ST_ESTABLISHED = 1,
	ST_SYN_RECV = 3,
	ST_TIME_WAIT = 6,
	ST_CLOSE = 7,
	ST_LISTEN = 10,
	ST_NEW_SYN_RECV = 12,
};

struct sent {
	uint64_t inode;
	uint8_t lr[32];		/* local, then remote address: hashed as one */
	uint32_t uid;
	uint16_t lport, rport;
	uint8_t state;
	uint8_t v6only;
};

struct sockset {
	uint8_t l4proto;
	bool stream;		/* tcp, sctp, dccp: has listeners */
	bool unsupported[2];	/* [0] AF_INET, [1] AF_INET6 */
	unsigned int gen;	/* scan generation of the last dump */
	struct refresh again;	/* when a miss may dump again */
	struct sent *v;
	size_t n, cap;
	size_t nbound;			/* of v, listening or unconnected */
	struct htab exact, bound;	/* values: index into v + 1 */
};

#define NSETS 5

struct sockmap {
	struct mnl_socket *nl;
	unsigned int portid, seq;
	unsigned int gen;		/* bumped by sockmap_invalidate */
	char *buf;
	struct sockset set[NSETS];
	/* this host's addresses, for the bound-socket rules */
	struct localaddr *own;
	unsigned int own_gen;
	uint64_t own_ns;
	int netns_fd;			/* whose addresses those are; -1: ours */
};

static const uint8_t transports[NSETS] = {
	IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE, IPPROTO_SCTP, IPPROTO_DCCP,
};

struct sockmap *sockmap_new(void)
{
	struct sockmap *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	for (int i = 0; i < NSETS; i++) {
		htab_init(&m->set[i].exact);
		htab_init(&m->set[i].bound);
	}
	m->buf = malloc(NLDUMP_BUF);
	m->own = localaddr_new();
	m->nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!m->buf || !m->own || !m->nl || mnl_socket_bind(m->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		sockmap_free(m);
		errno = err;
		return NULL;
	}
	m->portid = mnl_socket_get_portid(m->nl);
	m->gen = 1;
	m->netns_fd = -1;
	for (int i = 0; i < NSETS; i++) {
		m->set[i].l4proto = transports[i];
		m->set[i].stream = transports[i] != IPPROTO_UDP &&
				   transports[i] != IPPROTO_UDPLITE;
		refresh_init(&m->set[i].again, SOCKMAP_REFRESH_MS);
	}
	return m;
}

void sockmap_free(struct sockmap *m)
{
	if (!m)
		return;
	for (int i = 0; i < NSETS; i++) {
		free(m->set[i].v);
		htab_release(&m->set[i].exact);
		htab_release(&m->set[i].bound);
	}
	if (m->nl)
		mnl_socket_close(m->nl);
	localaddr_free(m->own);
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

static uint64_t hash_bound(const uint8_t l[16], uint16_t lport)
{
	return hash_bytes_seed(l, 16, lport);
}

/* lr: the local then the remote address, 32 bytes in a row */
static uint64_t hash_exact(const uint8_t lr[32], uint16_t lport, uint16_t rport)
{
	return hash_bytes_seed(lr, 32, (uint64_t)lport << 16 | rport);
}

/* getifaddrs() asks the calling thread's namespace: a map made in another
 * one reads its addresses there. */
static void own_load(struct sockmap *m)
{
	struct netns_visit v;

	if (m->netns_fd < 0) {
		localaddr_refresh(m->own);	/* on failure the old list */
		return;
	}
	if (netns_enter(&v, m->netns_fd) < 0)
		return;
	localaddr_refresh(m->own);
	if (netns_leave(&v) < 0) {
		/* every later socket would open in there: nothing can be
		 * trusted after that */
		notice_error("cannot return to the program's own network namespace: %s",
			     strerror(errno));
		abort();
	}
}

void sockmap_set_netns(struct sockmap *m, int fd)
{
	m->netns_fd = fd;
	m->own_gen = m->gen - 1;	/* read them again */
}

/* This host's own address (or loopback); the interface list is read again
 * once a scan, and at most every SOCKMAP_REFRESH_MS. */
static bool is_this_host(struct sockmap *m, const uint8_t k[16])
{
	union flow_addr a;
	int family;

	memcpy(a.b, k, 16);
	family = addr_unmap(AF_INET6, &a, &a);
	if (addr_is_loopback(family, &a))
		return true;
	if (m->own_gen != m->gen ||
	    clock_mono_ns() - m->own_ns > SOCKMAP_REFRESH_MS * 1000000ull) {
		m->own_gen = m->gen;
		m->own_ns = clock_mono_ns();
		own_load(m);
	}
	return localaddr_has(m->own, family, &a);
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

static bool is_bound(const struct sockset *s, const struct sent *e)
{
	return s->stream ? e->state == ST_LISTEN : e->rport == 0;
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
	e = vec_room(s->v, &s->cap, s->n + 1, sizeof(*e), 256);
	if (!e) {
		c->err = ENOMEM;
		return MNL_CB_ERROR;
	}
	s->v = e;
	e = &s->v[s->n];
	memset(e, 0, sizeof(*e));
	addr_to_v6(d->idiag_family, d->id.idiag_src, e->lr);
	addr_to_v6(d->idiag_family, d->id.idiag_dst, e->lr + 16);
	e->lport = ntohs(d->id.idiag_sport);
	e->rport = ntohs(d->id.idiag_dport);
	e->state = d->idiag_state;
	e->uid = d->idiag_uid;
	e->inode = d->idiag_inode;
	if (d->idiag_family == AF_INET6 &&
	    (e->state == ST_LISTEN || e->state == ST_CLOSE))
		mnl_attr_parse(nlh, sizeof(*d), v6only_attr, &e->v6only);
	s->nbound += is_bound(s, e);
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
		n = mnl_socket_recvfrom(m->nl, m->buf, NLDUMP_BUF);
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

/* Index the dump in dump order, so that the first of several sockets on
 * one key (SO_REUSEPORT) is found first. */
static int index_set(struct sockset *s)
{
	htab_clear(&s->exact);
	htab_clear(&s->bound);
	if (htab_reserve(&s->exact, s->n - s->nbound) < 0 ||
	    htab_reserve(&s->bound, s->nbound) < 0)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		const struct sent *e = &s->v[i];

		/* cannot fail: room reserved */
		if (is_bound(s, e))
			htab_put(&s->bound, hash_bound(e->lr, e->lport), i + 1);
		else if (e->rport != 0)
			htab_put(&s->exact, hash_exact(e->lr, e->lport, e->rport), i + 1);
		/* else bound, not listening: owns no flow */
	}
	return 0;
}

int sockmap_refresh(struct sockmap *m, uint8_t l4proto)
{
	struct sockset *s = set_of(m, l4proto);
	int ok = 0, err = EPROTONOSUPPORT;

	if (!s) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	s->n = s->nbound = 0;
	s->gen = m->gen;
	refresh_begin(&s->again);
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
	if (index_set(s) < 0) {
		s->n = s->nbound = 0;
		htab_clear(&s->exact);
		htab_clear(&s->bound);
		errno = ENOMEM;
		return -1;
	}
	refresh_done(&s->again);
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

static const struct sent *exact_key(const struct sockset *s, const uint8_t lr[32],
				    uint16_t lport, uint16_t rport)
{
	struct htab_pos pos;
	uintptr_t i;

	for (i = htab_first(&s->exact, hash_exact(lr, lport, rport), &pos); i;
	     i = htab_next(&s->exact, &pos)) {
		const struct sent *e = &s->v[i - 1];

		if (e->lport == lport && e->rport == rport && !memcmp(e->lr, lr, 32))
			return e;
	}
	return NULL;
}

static const struct sent *bound_one(const struct sockset *s, const uint8_t l[16],
				    uint16_t lport, bool need_dual)
{
	struct htab_pos pos;
	uintptr_t i;

	for (i = htab_first(&s->bound, hash_bound(l, lport), &pos); i;
	     i = htab_next(&s->bound, &pos)) {
		const struct sent *e = &s->v[i - 1];

		if (e->lport == lport && !memcmp(e->lr, l, 16) &&
		    !(need_dual && e->v6only))
			return e;
	}
	return NULL;
}

/* laddr:lport itself, then the wildcard of its family, then for IPv4 the
 * IPv6 wildcard of a dual-stack socket. */
static const struct sent *bound_key(const struct sockset *s, const uint8_t l[16],
				    uint16_t lport)
{
	static const uint8_t any6[16];
	static const uint8_t any4[16] = { [10] = 0xff, [11] = 0xff };
	const struct sent *e = bound_one(s, l, lport, false);
	union flow_addr a;

	if (e)
		return e;
	memcpy(a.b, l, 16);
	if (addr_is_v4mapped(AF_INET6, &a)) {
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
	uint8_t lr[32];
	const struct sent *e;

	if (!s)
		return false;
	addr_to_v6(family, laddr, lr);
	addr_to_v6(family, raddr, lr + 16);
	e = exact_key(s, lr, lport, rport);
	if (e)
		fill(e, out);
	return e != NULL;
}

static bool try_flow(struct sockmap *m, const struct sockset *s, const struct flow *f,
		     struct sockmap_sock *out)
{
	const struct flow_tuple *o = &f->orig;
	uint8_t orig[32], reply[32];	/* source, then destination */
	const uint8_t *os = orig, *rs = reply;
	uint16_t rsport, rdport;
	const struct sent *a, *b, *l;
	bool queued;

	/* 1, 2: the exact sockets, originator first; most flows are found
	 * by the first, so the reply tuple is made only when it misses */
	addr_to_v6(f->family, &o->src, orig);
	addr_to_v6(f->family, &o->dst, orig + 16);
	a = exact_key(s, orig, o->sport, o->dport);
	if (a && a->inode) {
		fill(a, out);
		return true;
	}
	if ((f->has & (FLOW_HAS_REPLY | FLOW_HAS_REPLY_PORTS)) ==
	    (FLOW_HAS_REPLY | FLOW_HAS_REPLY_PORTS)) {
		addr_to_v6(f->family, &f->reply.src, reply);
		addr_to_v6(f->family, &f->reply.dst, reply + 16);
		rsport = f->reply.sport;
		rdport = f->reply.dport;
	} else {
		memcpy(reply, orig + 16, 16);
		memcpy(reply + 16, orig, 16);
		rsport = o->dport;
		rdport = o->sport;
	}
	b = exact_key(s, reply, rsport, rdport);
	if (b && b->inode) {
		fill(b, out);
		return true;
	}
	if (!s->stream) {
		/* 3, 4: unconnected datagram sockets */
		if (is_this_host(m, os) && (l = bound_key(s, os, o->sport))) {
			fill(l, out);
			return true;
		}
		if (is_this_host(m, rs) && (l = bound_key(s, rs, rsport))) {
			fill(l, out);
			return true;
		}
		return false;
	}
	/* 4: a connection still in the listener's queues belongs to the
	 * listener's process; one that is closing has no owner left. */
	queued = b ? b->state == ST_ESTABLISHED || b->state == ST_SYN_RECV
		   : f->state && !strcmp(f->state, "SYN_RECV");
	if (queued && is_this_host(m, rs) && (l = bound_key(s, rs, rsport))) {
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
	if (!refresh_due(&s->again))
		return false;
	if (sockmap_refresh(m, f->l4proto) < 0)
		return false;
	return try_flow(m, s, f, out);
}
