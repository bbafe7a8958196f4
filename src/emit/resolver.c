/*
 * resolver.c - reverse DNS with c-ares in the caller's poll loop (bounds,
 * lifetimes and the order of a look-up in resolver.h).
 *
 * Why things are the way they are:
 *  - The hosts file is read here, not by c-ares (ares_gethostbyaddr would
 *    read it too, but only as part of a query that may also wait on the
 *    network): a name in it must never wait behind a dead server.
 *  - ares_query rather than ares_gethostbyaddr, and our own walk of the
 *    answer, because 1.18 gives no TTL otherwise.
 *  - c-ares is given one try (each server once) and the retry is ours: its
 *    own retries double the timeout every round, and a PTR look-up is worth
 *    too little to hold a slot for that long.
 *  - c-ares 1.18 has no ares_reinit: a changed resolv.conf gets a new
 *    channel; destroying the old one hands its queries back (EDESTRUCTION),
 *    and they go to the front of the queue for the new servers.
 *  - A query holds one of the max_inflight slots only while it is young:
 *    four times the time answers have been taking lately, at least
 *    RESOLVER_SLOT_MS, at most a try.  A server answers by then or is dead
 *    for that address, and a dead server must not hold the queue back; a
 *    busy one, whose answers slow down, gets fewer new queries.  An old
 *    query still waits for its answer, outside the slots.
 *  - Names are replaced only by answers, which arrive only inside
 *    resolver_drain() (ares_process_fd), so a name handed out by a look-up
 *    stays put until then; an old hosts table is kept until the next drain
 *    for the same reason.
 */
#include "resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "htab.h"
#include "notice.h"
#include "utf8.h"

#define CHECK_NS 1000000000ull	/* least time between two looks at the files */
#define DRAIN_BATCHES 8		/* epoll batches per drain: the stream comes first */
#define HOSTS_PATH "/etc/hosts"
#define RESOLV_PATH "/etc/resolv.conf"

enum { ST_PENDING, ST_POSITIVE, ST_NEGATIVE };

struct rwait {
	struct rwait *next;
	struct flow_key w;
};

/* A place in a doubly-linked list, first in the struct it links: a cache
 * entry in its state's list, a query in the list of young ones. */
struct rlink {
	struct rlink *prev, *next;
};

struct rlist {
	struct rlink *head, *tail;
	unsigned int n;
};

struct rentry {
	struct rlink link;			/* list of its state, MRU first */
	uint8_t family, state;
	bool refresh;				/* positive, a new query pending */
	bool overflow;				/* waiters were left out */
	bool failed;				/* negative for a failure, not NXDOMAIN */
	union flow_addr a;
	uint64_t expire;			/* monotonic ns */
	char *name;
	struct rwait *waiters;
	unsigned int nwait;
};

/* A queued query; the entry is found again by address when it is sent, so
 * one evicted meanwhile costs nothing. */
struct rreq {
	uint8_t family, attempt;
	union flow_addr a;
};

/* What a query in flight carries. */
struct rquery {
	struct rlink ylink;			/* list of young queries */
	struct resolver *r;
	struct rreq q;
	unsigned int gen;			/* channel generation */
	bool young;				/* on the list of young queries */
	uint64_t sent;				/* monotonic ns */
};

struct hent {
	uint8_t family;
	union flow_addr a;
	char name[];
};

struct hosts {
	struct hosts *retired_next;
	struct htab idx;			/* addr_hash -> struct hent */
	unsigned int n;
};

struct fstamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	bool exists;
};

struct resolver {
	ares_channel ch;
	unsigned int gen;
	bool closing;
	int epfd;
	struct htab cache;			/* addr_hash -> struct rentry */
	struct rlist pos, neg, pend;
	struct rreq *ring;			/* RESOLVER_QUEUE_MAX */
	unsigned int qhead, qlen;
	unsigned int inflight, max_inflight;
	struct rlist young;			/* rquery, oldest first */
	uint64_t rtt;				/* ns, smoothed, of answers */
	struct rwait *ready, **ready_tail;
	unsigned int nwait;
	bool walk_needed;
	struct hosts *hosts, *retired;
	struct fstamp hosts_st, resolv_st;
	uint64_t next_check;
	uint64_t ttl_min, ttl_max, neg_ttl, fail_ttl;	/* ns */
	unsigned int try_ms, tries;
	int names;				/* names in this drain */
	int verbose;
	unsigned int nns;
	struct rreq ns[RESOLVER_MAX_NS];
	struct resolver_stats st;
};

/* A name as it will be written: valid UTF-8, no trailing dot; NULL when
 * nothing is left. */
static char *clean_name(const char *host, size_t len)
{
	size_t n;
	char *out;

	while (len > 0 && host[len - 1] == '.')
		len--;
	if (len == 0)
		return NULL;
	out = malloc(len * 3 + 1);	/* each bad byte may become U+FFFD */
	if (!out)
		return NULL;
	n = utf8_repair(host, len, out, len * 3 + 1);
	out[n] = '\0';
	return out;
}

/* ---- the hosts file ------------------------------------------------------ */

static void hosts_free(struct hosts *h)
{
	uintptr_t v;

	if (!h)
		return;
	for (size_t pos = 0; (v = htab_each(&h->idx, &pos));)
		free((struct hent *)v);
	htab_release(&h->idx);
	free(h);
}

static const char *hosts_find(const struct hosts *h, int family, const union flow_addr *a)
{
	struct htab_pos pos;

	if (!h)
		return NULL;
	for (uintptr_t v = htab_first(&h->idx, addr_hash(family, a), &pos); v;
	     v = htab_next(&h->idx, &pos)) {
		const struct hent *x = (const struct hent *)v;

		if (addr_eq(x->family, &x->a, family, a))
			return x->name;
	}
	return NULL;
}

/* Text to an address, v4-mapped IPv6 as IPv4, "%scope" ignored; 0 or -1. */
static int parse_addr(char *s, int *family, union flow_addr *a)
{
	char *pct = strchr(s, '%');

	if (pct)
		*pct = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a) != 1)
		return -1;
	*family = addr_unmap(AF_INET6, a, a);
	return 0;
}

/* The first name of the first line of an address, as the C library gives
 * it for a reverse look-up.  NULL (no table) when the file cannot be read. */
static struct hosts *hosts_read(const char *path, int verbose)
{
	FILE *f = fopen(path, "re");
	struct hosts *h;
	char line[4096];
	bool full = false;

	if (!f)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h) {
		fclose(f);
		return NULL;
	}
	htab_init(&h->idx);
	while (fgets(line, sizeof(line), f)) {
		char *save, *as, *ns, *hash = strchr(line, '#');
		union flow_addr a;
		struct hent *x;
		size_t nlen;
		char *name;
		int family;

		if (hash)
			*hash = '\0';
		as = strtok_r(line, " \t\r\n", &save);
		ns = as ? strtok_r(NULL, " \t\r\n", &save) : NULL;
		if (!ns || parse_addr(as, &family, &a) < 0 || hosts_find(h, family, &a))
			continue;
		if (h->n >= RESOLVER_HOSTS_MAX) {
			full = true;
			break;
		}
		name = clean_name(ns, strlen(ns));
		if (!name)
			continue;
		nlen = strlen(name);
		x = malloc(sizeof(*x) + nlen + 1);
		if (!x) {
			free(name);
			break;
		}
		x->family = (uint8_t)family;
		x->a = a;
		memcpy(x->name, name, nlen + 1);
		free(name);
		if (htab_put(&h->idx, addr_hash(family, &a), (uintptr_t)x) < 0) {
			free(x);
			break;
		}
		h->n++;
	}
	fclose(f);
	if (full && verbose)
		notice("more than %u addresses in '%s': the rest are left out",
		       RESOLVER_HOSTS_MAX, path);
	return h;
}

/* Whether the file changed since st was taken; st is updated. */
static bool file_changed(const char *path, struct fstamp *st)
{
	struct stat s;
	struct fstamp now = { 0 };

	if (stat(path, &s) == 0) {
		now.exists = true;
		now.dev = s.st_dev;
		now.ino = s.st_ino;
		now.size = s.st_size;
		now.mtime = s.st_mtim;
	}
	if (now.exists == st->exists && now.dev == st->dev && now.ino == st->ino &&
	    now.size == st->size && now.mtime.tv_sec == st->mtime.tv_sec &&
	    now.mtime.tv_nsec == st->mtime.tv_nsec)
		return false;
	*st = now;
	return true;
}

/* ---- the caches ----------------------------------------------------------- */

static struct rentry *cache_find(const struct resolver *r, int family, const union flow_addr *a)
{
	struct htab_pos pos;

	for (uintptr_t v = htab_first(&r->cache, addr_hash(family, a), &pos); v;
	     v = htab_next(&r->cache, &pos)) {
		struct rentry *e = (struct rentry *)v;

		if (addr_eq(e->family, &e->a, family, a))
			return e;
	}
	return NULL;
}

static struct rlist *list_of(struct resolver *r, int state)
{
	return state == ST_POSITIVE ? &r->pos : state == ST_NEGATIVE ? &r->neg : &r->pend;
}

static void list_unlink(struct rlist *l, struct rlink *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		l->head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	else
		l->tail = x->prev;
	x->prev = x->next = NULL;
	l->n--;
}

/* Put x first (front) or last. */
static void list_add(struct rlist *l, struct rlink *x, bool front)
{
	struct rlink **end = front ? &l->head : &l->tail, *old = *end;

	x->prev = front ? NULL : old;
	x->next = front ? old : NULL;
	if (!old)
		l->head = l->tail = x;
	else if (front)
		old->prev = x;
	else
		old->next = x;
	*end = x;
	l->n++;
}

/* The entry or query whose link x is (its first member), or NULL. */
static struct rentry *entry_of(struct rlink *x)
{
	return (struct rentry *)x;
}

static struct rquery *query_of(struct rlink *x)
{
	return (struct rquery *)x;
}

static void entry_move(struct resolver *r, struct rentry *e, int state)
{
	list_unlink(list_of(r, e->state), &e->link);
	e->state = (uint8_t)state;
	list_add(list_of(r, state), &e->link, true);
}

static void waiters_free(struct resolver *r, struct rentry *e)
{
	while (e->waiters) {
		struct rwait *w = e->waiters;

		e->waiters = w->next;
		free(w);
	}
	r->nwait -= e->nwait;
	e->nwait = 0;
	e->overflow = false;
}

static void entry_remove(struct resolver *r, struct rentry *e)
{
	htab_del(&r->cache, addr_hash(e->family, &e->a), (uintptr_t)e);
	list_unlink(list_of(r, e->state), &e->link);
	waiters_free(r, e);
	free(e->name);
	free(e);
}

static void enforce_bounds(struct resolver *r)
{
	while (r->pos.n > RESOLVER_POS_MAX)
		entry_remove(r, entry_of(r->pos.tail));
	while (r->neg.n > RESOLVER_NEG_MAX)
		entry_remove(r, entry_of(r->neg.tail));
}

/* The waiting flows of an entry that got its name go to the ready list. */
static void waiters_ready(struct resolver *r, struct rentry *e)
{
	if (e->overflow)
		r->walk_needed = true;
	if (e->waiters) {
		struct rwait *last = e->waiters;

		while (last->next)
			last = last->next;
		*r->ready_tail = e->waiters;
		r->ready_tail = &last->next;
		e->waiters = NULL;
	}
	e->nwait = 0;		/* still counted in r->nwait until taken */
	e->overflow = false;
}

static void set_positive(struct resolver *r, struct rentry *e, char *name, uint64_t ttl_ns)
{
	uint64_t now = clock_mono_ns();

	free(e->name);
	e->name = name;
	e->refresh = false;
	e->expire = now + ttl_ns;
	if (e->state != ST_POSITIVE) {
		entry_move(r, e, ST_POSITIVE);
		r->names++;
		waiters_ready(r, e);
	}
}

static void set_negative(struct resolver *r, struct rentry *e, bool temporary)
{
	uint64_t now = clock_mono_ns();

	e->refresh = false;
	if (e->state == ST_POSITIVE && temporary) {
		/* a server briefly away: keep the name, ask again later */
		e->expire = now + r->fail_ttl;
		return;
	}
	free(e->name);
	e->name = NULL;
	e->failed = temporary;
	e->expire = now + (temporary ? r->fail_ttl : r->neg_ttl);
	waiters_free(r, e);
	if (e->state != ST_NEGATIVE)
		entry_move(r, e, ST_NEGATIVE);
}

/* ---- the queue and the queries ------------------------------------------ */

static bool ring_push(struct resolver *r, const struct rreq *q, bool front)
{
	if (r->qlen >= RESOLVER_QUEUE_MAX)
		return false;
	if (front) {
		r->qhead = (r->qhead + RESOLVER_QUEUE_MAX - 1) % RESOLVER_QUEUE_MAX;
		r->ring[r->qhead] = *q;
	} else {
		r->ring[(r->qhead + r->qlen) % RESOLVER_QUEUE_MAX] = *q;
	}
	r->qlen++;
	return true;
}

/* 4.3.2.1.in-addr.arpa, or the 32 nibbles of ip6.arpa. */
static void ptr_qname(int family, const union flow_addr *a, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	if (family == AF_INET) {
		snprintf(out, len, "%u.%u.%u.%u.in-addr.arpa", a->b[3], a->b[2], a->b[1], a->b[0]);
		return;
	}
	for (int i = 15; i >= 0 && n + 4 < len; i--) {
		out[n++] = hex[a->b[i] & 15];
		out[n++] = '.';
		out[n++] = hex[a->b[i] >> 4];
		out[n++] = '.';
	}
	snprintf(out + n, len - n, "ip6.arpa");
}

/* A DNS name at m[*pos] as text (labels joined by dots, bytes as they are
 * but NUL), following compression; *pos moves past it.  0, or -1 when the
 * message is malformed or the name is longer than DNS allows. */
static int read_name(const unsigned char *m, size_t len, size_t *pos, char *out, size_t outlen)
{
	size_t p = *pos, n = 0, wire = 0;
	bool jumped = false;
	int hops = 0;

	for (;;) {
		unsigned int l;

		if (p >= len)
			return -1;
		l = m[p];
		if ((l & 0xc0) == 0xc0) {
			if (p + 1 >= len || ++hops > 64)
				return -1;
			if (!jumped)
				*pos = p + 2;
			jumped = true;
			p = ((l & 0x3f) << 8) | m[p + 1];
			continue;
		}
		if (l & 0xc0)
			return -1;
		wire += l + 1;
		if (wire > 255 || p + 1 + l > len)
			return -1;
		if (l == 0)
			break;
		if (n && n < outlen)
			out[n++] = '.';
		for (unsigned int i = 0; i < l && n + 1 < outlen; i++) {
			unsigned char c = m[p + 1 + i];

			out[n++] = c ? (char)c : (char)0xff;	/* a NUL becomes U+FFFD */
		}
		p += 1 + l;
	}
	if (!jumped)
		*pos = p + 1;
	out[n < outlen ? n : outlen - 1] = '\0';
	return 0;
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The PTR name for qname in a DNS answer and its TTL (the least along a
 * CNAME chain, RFC 2317).  1 with the name in out, 0 when the answer holds
 * none, -1 when it is malformed. */
static int parse_ptr(const unsigned char *m, size_t len, const char *qname, char *out,
		     size_t outlen, uint32_t *ttl)
{
	char owner[1024], cur[1024];
	uint32_t least = UINT32_MAX;
	size_t pos = 12;
	unsigned int qd, an;

	if (len < 12)
		return -1;
	qd = get16(m + 4);
	an = get16(m + 6);
	for (unsigned int i = 0; i < qd; i++) {
		if (read_name(m, len, &pos, owner, sizeof(owner)) < 0 || pos + 4 > len)
			return -1;
		pos += 4;
	}
	snprintf(cur, sizeof(cur), "%s", qname);
	for (unsigned int i = 0; i < an; i++) {
		uint16_t type, klass, rdlen;
		uint32_t t;
		size_t rd;

		if (read_name(m, len, &pos, owner, sizeof(owner)) < 0 || pos + 10 > len)
			return -1;
		type = get16(m + pos);
		klass = get16(m + pos + 2);
		t = (uint32_t)get16(m + pos + 4) << 16 | get16(m + pos + 6);
		rdlen = get16(m + pos + 8);
		rd = pos + 10;
		if (rd + rdlen > len)
			return -1;
		pos = rd + rdlen;
		if (klass != ns_c_in || strcasecmp(owner, cur))
			continue;
		if (type == ns_t_cname || type == ns_t_ptr) {
			size_t p = rd;

			if (read_name(m, len, &p, type == ns_t_ptr ? out : cur,
				      type == ns_t_ptr ? outlen : sizeof(cur)) < 0)
				return -1;
			if (t < least)
				least = t;
			if (type == ns_t_ptr) {
				*ttl = least;
				return 1;
			}
		}
	}
	return 0;
}

static void send_query(struct resolver *r, const struct rreq *q);

static void young_unlink(struct resolver *r, struct rquery *qq)
{
	if (!qq->young)
		return;
	list_unlink(&r->young, &qq->ylink);
	qq->young = false;
}

/* How long a query keeps its slot. */
static uint64_t slot_ns(const struct resolver *r)
{
	uint64_t t = r->rtt * 4, lo = RESOLVER_SLOT_MS * 1000000ull,
		 hi = (uint64_t)r->try_ms * 1000000ull;

	return t < lo ? lo : t > hi ? (hi > lo ? hi : lo) : t;
}

/* Queries past their time give their slot up. */
static void young_age(struct resolver *r, uint64_t now)
{
	uint64_t age = slot_ns(r);

	while (r->young.head && now - query_of(r->young.head)->sent >= age)
		young_unlink(r, query_of(r->young.head));
}

/* Send queued queries while there is a free slot. */
static void pump(struct resolver *r)
{
	young_age(r, clock_mono_ns());
	while (r->young.n < r->max_inflight && r->inflight < r->max_inflight * RESOLVER_ALL_FACTOR &&
	       r->qlen > 0 && !r->closing) {
		struct rreq q = r->ring[r->qhead];
		struct rentry *e;

		r->qhead = (r->qhead + 1) % RESOLVER_QUEUE_MAX;
		r->qlen--;
		e = cache_find(r, q.family, &q.a);
		if (!e || (e->state != ST_PENDING && !e->refresh))
			continue;	/* evicted, or answered by the hosts file */
		send_query(r, &q);
	}
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct rquery *qq = arg;
	struct resolver *r = qq->r;
	struct rentry *e;
	char qname[80], raw[1024];
	uint32_t ttl = 0;
	int got = 0;

	(void)timeouts;
	r->inflight--;
	young_unlink(r, qq);
	if (status != ARES_ETIMEOUT && status != ARES_EDESTRUCTION && status != ARES_ECANCELLED) {
		uint64_t took = clock_mono_ns() - qq->sent;

		r->rtt = r->rtt - r->rtt / 8 + took / 8;
	}
	if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
		/* the channel was replaced (resolv.conf changed): ask the
		 * new servers first; on resolver_free, nothing */
		if (!r->closing && qq->gen != r->gen) {
			qq->q.attempt = 0;
			if (!ring_push(r, &qq->q, true) && (e = cache_find(r, qq->q.family, &qq->q.a)))
				set_negative(r, e, true);
		}
		free(qq);
		return;
	}
	if (status == ARES_ETIMEOUT && qq->q.attempt + 1u < r->tries && !r->closing) {
		qq->q.attempt++;
		if (ring_push(r, &qq->q, true)) {
			free(qq);
			return;
		}
	}
	e = cache_find(r, qq->q.family, &qq->q.a);
	if (status == ARES_SUCCESS) {
		ptr_qname(qq->q.family, &qq->q.a, qname, sizeof(qname));
		got = parse_ptr(abuf, alen > 0 ? (size_t)alen : 0, qname, raw, sizeof(raw), &ttl);
	}
	if (got > 0) {
		char *name = clean_name(raw, strlen(raw));

		if (name) {
			uint64_t t = (uint64_t)ttl * 1000000000ull;

			t = t < r->ttl_min ? r->ttl_min : t > r->ttl_max ? r->ttl_max : t;
			r->st.answered++;
			if (e)
				set_positive(r, e, name, t);
			else
				free(name);
			free(qq);
			return;
		}
		got = 0;	/* the root, or only dots: no name */
	}
	if ((status == ARES_SUCCESS && got == 0) || status == ARES_ENOTFOUND ||
	    status == ARES_ENODATA) {
		r->st.nxdomain++;
		if (e)
			set_negative(r, e, false);
	} else {
		if (status == ARES_ETIMEOUT)
			r->st.timedout++;
		else
			r->st.failed++;
		if (e)
			set_negative(r, e, true);
	}
	if (r->verbose > 1) {
		char buf[INET6_ADDRSTRLEN];

		notice("no name for %s: %s",
		       flow_addr_str(qq->q.family, &qq->q.a, buf, sizeof(buf)),
		       got < 0 ? "malformed answer" : ares_strerror(status));
	}
	free(qq);
}

static void send_query(struct resolver *r, const struct rreq *q)
{
	struct rquery *qq = malloc(sizeof(*qq));
	char qname[80];

	if (!qq) {
		struct rentry *e = cache_find(r, q->family, &q->a);

		if (e)
			set_negative(r, e, true);
		return;
	}
	qq->r = r;
	qq->q = *q;
	qq->gen = r->gen;
	qq->sent = clock_mono_ns();
	qq->young = true;
	list_add(&r->young, &qq->ylink, false);
	ptr_qname(q->family, &q->a, qname, sizeof(qname));
	r->inflight++;
	if (r->inflight > r->st.peak_inflight)
		r->st.peak_inflight = r->inflight;
	r->st.sent++;
	ares_query(r->ch, qname, ns_c_in, ns_t_ptr, on_answer, qq);
}

/* ---- the channel ------------------------------------------------------------ */

/* c-ares says which of its sockets to watch; they live in our epoll set,
 * whose one descriptor joins the caller's poll. */
static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct resolver *r = data;
	struct epoll_event ev = { 0 };

	if (!readable && !writable) {
		epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL);
		return;
	}
	ev.events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
	ev.data.fd = fd;
	if (epoll_ctl(r->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 && errno == ENOENT &&
	    epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		notice_error("cannot watch a name server socket: %s", strerror(errno));
}

/* "timeout:N" and "attempts:N" among the words of an options line. */
static void read_options(const char *s, int *timeout_s, int *attempts)
{
	const char *p;

	if ((p = strstr(s, "timeout:")))
		*timeout_s = atoi(p + 8);
	if ((p = strstr(s, "attempts:")))
		*attempts = atoi(p + 9);
}

/* resolv.conf's timeout and attempts as the C library reads them (c-ares
 * 1.18 leaves them out), RES_OPTIONS over them; glibc's defaults are 5 s
 * and 2. */
static void resolv_limits(int *try_ms, int *tries)
{
	FILE *f = fopen(RESOLV_PATH, "re");
	int timeout_s = 5, attempts = 2;
	char line[512];
	const char *env = getenv("RES_OPTIONS");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "options", 7) && (line[7] == ' ' || line[7] == '\t'))
			read_options(line + 7, &timeout_s, &attempts);
	if (f)
		fclose(f);
	if (env)
		read_options(env, &timeout_s, &attempts);
	*try_ms = timeout_s > 0 && timeout_s * 1000 < RESOLVER_TRY_MS ? timeout_s * 1000 :
		  RESOLVER_TRY_MS;
	*tries = attempts > 0 && attempts < RESOLVER_TRIES ? attempts : RESOLVER_TRIES;
}

/* A channel from resolv.conf with our limits on its timeout and tries. */
static int channel_make(struct resolver *r, ares_channel *out)
{
	struct ares_options o;
	int rc, try_ms, tries;

	resolv_limits(&try_ms, &tries);
	memset(&o, 0, sizeof(o));
	o.timeout = try_ms;
	o.tries = 1;		/* the retry is ours: see the top of the file */
	o.sock_state_cb = on_sock_state;
	o.sock_state_cb_data = r;
	o.socket_receive_buffer_size = 1 << 20;	/* a burst of answers */
	/* STAYOPEN: c-ares closes its sockets whenever no query is left, and
	 * each new one would be another flow of ours in the stream */
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_STAYOPEN;
	rc = ares_init_options(out, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB |
			       ARES_OPT_SOCK_RCVBUF | ARES_OPT_FLAGS);
	if (rc != ARES_SUCCESS)
		return rc;
	r->try_ms = (unsigned int)try_ms;
	r->tries = (unsigned int)tries;
	return ARES_SUCCESS;
}

/* The servers the channel asks: looking them up would make flows that make
 * look-ups. */
static void read_nameservers(struct resolver *r)
{
	struct ares_addr_node *list = NULL;

	r->nns = 0;
	if (ares_get_servers(r->ch, &list) != ARES_SUCCESS)
		return;
	for (struct ares_addr_node *n = list; n && r->nns < RESOLVER_MAX_NS; n = n->next) {
		struct rreq *ns = &r->ns[r->nns];

		memset(ns, 0, sizeof(*ns));
		if (n->family == AF_INET)
			memcpy(ns->a.b, &n->addr.addr4, 4);
		else if (n->family == AF_INET6)
			memcpy(ns->a.b, &n->addr.addr6, 16);
		else
			continue;
		ns->family = (uint8_t)addr_unmap(n->family, &ns->a, &ns->a);
		r->nns++;
	}
	ares_free_data(list);
}

/* resolv.conf changed: new queries go to the new servers, and so do the
 * ones in flight on the old channel. */
static void channel_renew(struct resolver *r)
{
	ares_channel ch, old = r->ch;
	int rc = channel_make(r, &ch);

	if (rc != ARES_SUCCESS) {
		notice_error("cannot read the changed '%s': %s; keeping the old name servers",
			     RESOLV_PATH, ares_strerror(rc));
		return;
	}
	r->ch = ch;
	r->gen++;
	r->st.reinits++;
	read_nameservers(r);
	ares_destroy(old);	/* its queries come back through on_answer */
	/* what failed with the old servers is asked of the new ones */
	for (struct rentry *e = entry_of(r->neg.head); e; e = entry_of(e->link.next))
		if (e->failed)
			e->expire = 0;
	if (r->verbose)
		notice("'%s' changed: %u name server(s), %u ms a try, %u tries",
		       RESOLV_PATH, r->nns, r->try_ms, r->tries);
}

/* A new hosts file also answers the queries still pending. */
static void hosts_renew(struct resolver *r)
{
	struct hosts *h = hosts_read(HOSTS_PATH, r->verbose);
	struct rentry *e, *next;

	if (r->hosts) {
		r->hosts->retired_next = r->retired;
		r->retired = r->hosts;
	}
	r->hosts = h;
	for (e = entry_of(r->pend.head); e && h; e = next) {
		const char *name = hosts_find(h, e->family, &e->a);
		char *copy;

		next = entry_of(e->link.next);
		if (name && (copy = strdup(name)))
			set_positive(r, e, copy, r->ttl_min);
	}
}

static void check_files(struct resolver *r, uint64_t now)
{
	if (now < r->next_check)
		return;
	r->next_check = now + CHECK_NS;
	if (file_changed(HOSTS_PATH, &r->hosts_st))
		hosts_renew(r);
	if (file_changed(RESOLV_PATH, &r->resolv_st))
		channel_renew(r);
}

/* ---- the interface ---------------------------------------------------------- */

/* Addresses never asked about: no name to find, or our own name servers. */
static bool skip_addr(const struct resolver *r, int family, const union flow_addr *a)
{
	if (addr_is_no_host(family, a))
		return true;
	for (unsigned int i = 0; i < r->nns; i++)
		if (addr_eq(r->ns[i].family, &r->ns[i].a, family, a))
			return true;
	return false;
}

static void add_waiter(struct resolver *r, struct rentry *e, const struct flow_key *w)
{
	struct rwait *x;

	for (x = e->waiters; x; x = x->next)
		if (!memcmp(&x->w, w, sizeof(*w)))
			return;
	if (e->nwait >= RESOLVER_WAIT_PER_ADDR || r->nwait >= RESOLVER_WAIT_MAX ||
	    !(x = malloc(sizeof(*x)))) {
		e->overflow = true;
		return;
	}
	x->w = *w;
	x->next = e->waiters;
	e->waiters = x;
	e->nwait++;
	r->nwait++;
}

/* Queue a query for a; false when the queue is full. */
static bool ask(struct resolver *r, int family, const union flow_addr *a)
{
	struct rreq q;

	memset(&q, 0, sizeof(q));
	q.family = (uint8_t)family;
	memcpy(q.a.b, a->b, addr_len(family));
	if (!ring_push(r, &q, false)) {
		r->st.dropped++;
		return false;
	}
	pump(r);
	return true;
}

const char *resolver_lookup(struct resolver *r, int family, const union flow_addr *a,
			    const struct flow_key *w)
{
	union flow_addr v4;
	struct rentry *e;
	const char *name;
	uint64_t now;

	if (!r || !a)
		return NULL;
	if (addr_is_v4mapped(family, a)) {
		family = addr_unmap(family, a, &v4);
		a = &v4;
	}
	if (skip_addr(r, family, a))
		return NULL;
	if ((name = hosts_find(r->hosts, family, a))) {
		r->st.hosts_hits++;
		return name;
	}
	e = cache_find(r, family, a);
	if (e) {
		switch (e->state) {
		case ST_POSITIVE:
			r->st.cache_hits++;
			now = clock_mono_ns();
			/* set first: an answer may come inside ask() */
			if (!e->refresh && now >= e->expire) {
				e->refresh = true;
				if (!ask(r, family, a))
					e->refresh = false;
			}
			if (r->pos.head != &e->link) {
				list_unlink(&r->pos, &e->link);
				list_add(&r->pos, &e->link, true);
			}
			return e->name;
		case ST_NEGATIVE:
			now = clock_mono_ns();
			if (now < e->expire) {
				r->st.cache_hits++;
				return NULL;
			}
			check_files(r, now);	/* new servers before a new query */
			if (r->pend.n >= RESOLVER_QUEUE_MAX) {
				r->st.dropped++;
				return NULL;
			}
			entry_move(r, e, ST_PENDING);
			if (!ask(r, family, a))
				entry_move(r, e, ST_NEGATIVE);	/* asked again next time */
			else if (w && e->state == ST_PENDING)
				add_waiter(r, e, w);
			return NULL;
		default:
			if (w)
				add_waiter(r, e, w);
			return NULL;
		}
	}
	if (r->pend.n >= RESOLVER_QUEUE_MAX) {
		r->st.dropped++;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->family = (uint8_t)family;
	memcpy(e->a.b, a->b, addr_len(family));
	e->state = ST_PENDING;
	if (htab_put(&r->cache, addr_hash(family, a), (uintptr_t)e) < 0) {
		free(e);
		return NULL;
	}
	list_add(&r->pend, &e->link, true);
	check_files(r, clock_mono_ns());
	if (!ask(r, family, a)) {
		entry_remove(r, e);
		return NULL;
	}
	if (w && e->state == ST_PENDING)
		add_waiter(r, e, w);
	return NULL;
}

int resolver_drain(struct resolver *r)
{
	struct epoll_event ev[64];
	int n;

	if (!r)
		return 0;
	while (r->retired) {
		struct hosts *h = r->retired;

		r->retired = h->retired_next;
		hosts_free(h);
	}
	check_files(r, clock_mono_ns());
	for (int round = 0; round < DRAIN_BATCHES; round++) {
		n = epoll_wait(r->epfd, ev, 64, 0);
		for (int i = 0; i < n; i++) {
			uint32_t x = ev[i].events;

			ares_process_fd(r->ch,
					x & (EPOLLIN | EPOLLERR | EPOLLHUP) ? ev[i].data.fd : ARES_SOCKET_BAD,
					x & EPOLLOUT ? ev[i].data.fd : ARES_SOCKET_BAD);
		}
		if (n < 64)
			break;
	}
	ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);	/* timeouts */
	pump(r);
	enforce_bounds(r);
	n = r->names;	/* hosts-file answers in a look-up count too */
	r->names = 0;
	return n;
}

int resolver_take_waiters(struct resolver *r, int (*fn)(const struct flow_key *w, void *data),
			  void *data, bool *overflow)
{
	int rc = 0;

	if (overflow)
		*overflow = r && r->walk_needed;
	if (!r)
		return 0;
	r->walk_needed = false;
	while (r->ready) {
		struct rwait *x = r->ready;

		r->ready = x->next;
		if (!r->ready)
			r->ready_tail = &r->ready;
		r->nwait--;
		if (!rc && fn)
			rc = fn(&x->w, data);
		free(x);
	}
	return rc;
}

int resolver_fd(const struct resolver *r)
{
	return r ? r->epfd : -1;
}

bool resolver_busy(const struct resolver *r)
{
	return r && (r->inflight > 0 || r->qlen > 0);
}

int resolver_timeout_ms(const struct resolver *r)
{
	struct timeval tv, *tp;
	int ms = -1;

	if (!r || !resolver_busy(r))
		return -1;
	tp = ares_timeout(r->ch, NULL, &tv);
	if (tp)
		ms = (int)(tp->tv_sec * 1000 + (tp->tv_usec + 999) / 1000);
	/* a slot that frees up for the queue */
	if (r->qlen > 0 && r->young.head && r->young.n >= r->max_inflight) {
		uint64_t now = clock_mono_ns(), end = query_of(r->young.head)->sent + slot_ns(r);
		int y = now >= end ? 0 : (int)((end - now + 999999) / 1000000);

		if (ms < 0 || y < ms)
			ms = y;
	}
	/* a changed hosts file may answer what is pending */
	{
		uint64_t now = clock_mono_ns();
		int c = now >= r->next_check ? 0 : (int)((r->next_check - now + 999999) / 1000000);

		if (ms < 0 || c < ms)
			ms = c;
	}
	return ms;
}

void resolver_wait(struct resolver *r, unsigned int timeout_ms)
{
	uint64_t deadline = clock_mono_ns() + (uint64_t)timeout_ms * 1000000ull;

	if (!r)
		return;
	resolver_drain(r);
	while (resolver_busy(r)) {
		uint64_t now = clock_mono_ns();
		struct pollfd pfd = { r->epfd, POLLIN, 0 };
		int t = resolver_timeout_ms(r), left;

		if (now >= deadline)
			break;
		left = (int)((deadline - now + 999999) / 1000000);
		if (t < 0 || t > left)
			t = left;
		poll(&pfd, 1, t);
		resolver_drain(r);
	}
}

void resolver_set_lifetimes(struct resolver *r, unsigned int ttl_min, unsigned int ttl_max,
			    unsigned int neg_s, unsigned int fail_s)
{
	r->ttl_min = ttl_min * 1000000000ull;
	r->ttl_max = ttl_max * 1000000000ull;
	r->neg_ttl = neg_s * 1000000000ull;
	r->fail_ttl = fail_s * 1000000000ull;
}

void resolver_stats(const struct resolver *r, struct resolver_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!r)
		return;
	*st = r->st;
	st->inflight = r->inflight;
	st->queued = r->qlen;
	st->young = r->young.n;
	st->positive = r->pos.n;
	st->negative = r->neg.n;
	st->pending = r->pend.n;
	st->waiters = r->nwait;
	st->nameservers = r->nns;
	st->hosts = r->hosts ? r->hosts->n : 0;
	st->try_ms = r->try_ms;
	st->tries = r->tries;
}

struct resolver *resolver_new(unsigned int max_inflight, int verbose)
{
	struct resolver *r = calloc(1, sizeof(*r));
	int err = ENOMEM, rc;

	if (r)
		htab_init(&r->cache);
	if (!r || !(r->ring = calloc(RESOLVER_QUEUE_MAX, sizeof(*r->ring))))
		goto fail;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0) {
		err = errno;
		goto fail;
	}
	r->max_inflight = max_inflight ? max_inflight : RESOLVER_INFLIGHT;
	r->verbose = verbose;
	r->ready_tail = &r->ready;
	resolver_set_lifetimes(r, RESOLVER_TTL_MIN, RESOLVER_TTL_MAX, RESOLVER_NEG_TTL,
			       RESOLVER_FAIL_TTL);
	rc = ares_library_init(ARES_LIB_INIT_ALL);
	if (rc == ARES_SUCCESS && (rc = channel_make(r, &r->ch)) != ARES_SUCCESS)
		ares_library_cleanup();
	if (rc != ARES_SUCCESS) {
		notice_error("cannot set up reverse DNS: %s", ares_strerror(rc));
		close(r->epfd);
		free(r->ring);
		free(r);
		errno = rc == ARES_ENOMEM ? ENOMEM : EINVAL;
		return NULL;
	}
	read_nameservers(r);
	file_changed(RESOLV_PATH, &r->resolv_st);
	file_changed(HOSTS_PATH, &r->hosts_st);
	r->hosts = hosts_read(HOSTS_PATH, verbose);
	r->next_check = clock_mono_ns() + CHECK_NS;
	if (verbose)
		notice("reverse DNS with c-ares %s: %u name server(s) (never looked up), "
		       "%u ms a try, %u tries, %u queries in flight at most, %u addresses in '%s'",
		       ares_version(NULL), r->nns, r->try_ms, r->tries, r->max_inflight,
		       r->hosts ? r->hosts->n : 0, HOSTS_PATH);
	return r;

fail:
	notice_error("cannot set up reverse DNS: %s", strerror(err));
	if (r)
		free(r->ring);
	free(r);
	errno = err;
	return NULL;
}

void resolver_free(struct resolver *r)
{
	if (!r)
		return;
	if (r->verbose) {
		struct resolver_stats st;

		resolver_stats(r, &st);
		notice("reverse DNS: %lu queries sent, %lu answered with a name, %lu NXDOMAIN "
		       "or no name, %lu timed out, %lu failed, %u in flight at peak, %lu cache "
		       "hits, %lu hosts-file answers, %lu not queued (queue full)",
		       st.sent, st.answered, st.nxdomain, st.timedout, st.failed, st.peak_inflight,
		       st.cache_hits, st.hosts_hits, st.dropped);
	}
	r->closing = true;
	ares_destroy(r->ch);	/* in-flight queries end here, through on_answer */
	ares_library_cleanup();
	close(r->epfd);
	{
		uintptr_t v;

		for (size_t pos = 0; (v = htab_each(&r->cache, &pos));) {
			struct rentry *e = (struct rentry *)v;

			waiters_free(r, e);
			free(e->name);
			free(e);
		}
		htab_release(&r->cache);
	}
	resolver_take_waiters(r, NULL, NULL, NULL);
	while (r->retired) {
		struct hosts *h = r->retired;

		r->retired = h->retired_next;
		hosts_free(h);
	}
	hosts_free(r->hosts);
	free(r->ring);
	free(r);
}
