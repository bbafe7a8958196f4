/*
 * resolver.c - reverse DNS with a pool of getnameinfo() threads.
 *
 * Split in two so that no lock is held while the main thread reads a name:
 *  - struct rcore, shared with the workers under one mutex: the queue of
 *    addresses to look up and the list of answers.  Workers are detached and
 *    each holds a reference, so a worker stuck in a slow name server does
 *    not hold back resolver_free() (and so --once) - the last one out frees
 *    the core.
 *  - the caches (struct resolver), which only the main thread touches;
 *    names are freed only in resolver_drain/wait/free, never in a lookup,
 *    so the two look-ups of one flow (source, destination) cannot pull a
 *    name from under the record being written.
 *
 * Lifetimes: getnameinfo() does not say a record's TTL, so fixed ones are
 * used - long for names (PTR records change rarely, and a refresh keeps
 * giving out the old name until the new one is in), shorter for "no name",
 * and short for failures, which are often a server that was briefly away.
 */
#include "resolver.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "utf8.h"

#define HASH_SIZE 262144u	/* buckets: about one per entry the bounds allow */
#define FREE_WAIT_MS 200	/* how long resolver_free waits for workers */

enum { ST_PENDING, ST_POSITIVE, ST_NEGATIVE };

struct rreq {
	uint8_t family;
	union flow_addr a;
};

struct rans {
	struct rans *next;
	uint8_t family;
	union flow_addr a;
	int status;		/* 0, or the EAI_* of getnameinfo */
	char *name;
};

struct rcore {
	pthread_mutex_t mu;
	pthread_cond_t work;	/* queue not empty, or stop */
	pthread_cond_t idle;	/* a job finished, or a worker left */
	struct rreq q[RESOLVER_QUEUE_MAX];
	unsigned int qhead, qlen;
	struct rans *done;	/* answers, newest first */
	unsigned int busy;	/* workers inside getnameinfo */
	unsigned int alive;	/* workers running */
	unsigned int refs;	/* the main thread + alive workers */
	unsigned long answered, failed;
	bool stop;
	int efd;
};

struct rentry {
	struct rentry *hnext;			/* hash chain */
	struct rentry *prev, *next;		/* list of its state, MRU first */
	uint8_t family, state;
	bool refresh;				/* positive, re-lookup in flight */
	bool temporary;				/* the last answer was a failure */
	union flow_addr a;
	uint64_t stamp;				/* monotonic ns of the last answer */
	char *name;
};

struct rlist {
	struct rentry *head, *tail;
	unsigned int n;
};

struct resolver {
	struct rcore *core;
	struct rentry **hash;
	struct rlist pos, neg, pend;
	uint64_t pos_ttl, neg_ttl, fail_ttl;	/* ns */
	unsigned long queued, dropped;
	int verbose;
	unsigned int nns;
	struct rreq ns[RESOLVER_MAX_NS];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the shared core and its workers ----------------------------------- */

static void core_free(struct rcore *c)
{
	while (c->done) {
		struct rans *x = c->done;

		c->done = x->next;
		free(x->name);
		free(x);
	}
	if (c->efd >= 0)
		close(c->efd);
	pthread_cond_destroy(&c->work);
	pthread_cond_destroy(&c->idle);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* A name as it will be written: valid UTF-8, no trailing dot. */
static char *clean_name(const char *host)
{
	size_t len = strlen(host), n;
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

static void resolve_one(const struct rreq *q, struct rans *ans)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char host[NI_MAXHOST];

	memset(&ss, 0, sizeof(ss));
	if (q->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr = q->a.v4;
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = q->a.v6;
		sl = sizeof(*sin6);
	}
	ans->status = getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), NULL, 0,
				  NI_NAMEREQD);
	if (ans->status == 0) {
		ans->name = clean_name(host);
		if (!ans->name)
			ans->status = EAI_NONAME;
	}
}

static void *worker(void *arg)
{
	struct rcore *c = arg;
	bool last;

	/* Look-ups that fail at once (no route to the name server) make the
	 * pool CPU-bound; the stream comes first, so the workers yield to the
	 * main thread.  Linux takes a thread id here.  Failure is harmless. */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10) < 0)
		errno = 0;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		struct rreq q;
		struct rans *ans;
		uint64_t one = 1;
		bool wake;

		while (!c->stop && c->qlen == 0)
			pthread_cond_wait(&c->work, &c->mu);
		if (c->stop)
			break;
		q = c->q[c->qhead];
		c->qhead = (c->qhead + 1) % RESOLVER_QUEUE_MAX;
		c->qlen--;
		c->busy++;
		pthread_mutex_unlock(&c->mu);

		ans = calloc(1, sizeof(*ans));
		if (ans) {
			ans->family = q.family;
			ans->a = q.a;
			resolve_one(&q, ans);
		}

		pthread_mutex_lock(&c->mu);
		c->busy--;
		/* one wake-up per batch: the first answer after a drain
		 * signals, the rest ride along */
		wake = c->done == NULL;
		if (ans) {
			ans->next = c->done;
			c->done = ans;
			if (ans->status == 0)
				c->answered++;
			else
				c->failed++;
		}
		pthread_cond_broadcast(&c->idle);
		/* under the lock: efd lives as long as any worker holds a ref */
		if (ans && wake && write(c->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			fprintf(stderr, "flowtop-emit: cannot wake the main thread: %s\n",
				strerror(errno));
	}
	c->alive--;
	pthread_cond_broadcast(&c->idle);
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->mu);
	if (last)
		core_free(c);
	return NULL;
}

/* ---- the main thread's caches ------------------------------------------- */

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static unsigned int addr_hash(int family, const union flow_addr *a)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)family;

	for (size_t i = 0; i < addr_len(family); i++) {
		h ^= a->b[i];
		h *= 1099511628211ull;
	}
	return (unsigned int)(h ^ (h >> 32)) & (HASH_SIZE - 1);
}

static struct rentry *cache_find(struct resolver *r, int family, const union flow_addr *a)
{
	struct rentry *e = r->hash[addr_hash(family, a)];

	for (; e; e = e->hnext)
		if (e->family == family && !memcmp(e->a.b, a->b, addr_len(family)))
			return e;
	return NULL;
}

static struct rlist *list_of(struct resolver *r, int state)
{
	return state == ST_POSITIVE ? &r->pos : state == ST_NEGATIVE ? &r->neg : &r->pend;
}

static void list_unlink(struct rlist *l, struct rentry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NULL;
	l->n--;
}

static void list_push(struct rlist *l, struct rentry *e)
{
	e->prev = NULL;
	e->next = l->head;
	if (l->head)
		l->head->prev = e;
	else
		l->tail = e;
	l->head = e;
	l->n++;
}

/* Lifetimes are applied when read, so that a change applies to all. */
static bool entry_expired(const struct resolver *r, const struct rentry *e, uint64_t now)
{
	uint64_t ttl = e->temporary ? r->fail_ttl :
		       e->state == ST_POSITIVE ? r->pos_ttl : r->neg_ttl;

	return now - e->stamp >= ttl;
}

static void entry_move(struct resolver *r, struct rentry *e, int state)
{
	list_unlink(list_of(r, e->state), e);
	e->state = (uint8_t)state;
	list_push(list_of(r, state), e);
}

static void entry_remove(struct resolver *r, struct rentry *e)
{
	struct rentry **p = &r->hash[addr_hash(e->family, &e->a)];

	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	list_unlink(list_of(r, e->state), e);
	free(e->name);
	free(e);
}

/* Queue a; false when the queue is full. */
static bool enqueue(struct resolver *r, int family, const union flow_addr *a)
{
	struct rcore *c = r->core;
	bool ok = false;

	pthread_mutex_lock(&c->mu);
	if (c->qlen < RESOLVER_QUEUE_MAX) {
		struct rreq *q = &c->q[(c->qhead + c->qlen) % RESOLVER_QUEUE_MAX];

		memset(q, 0, sizeof(*q));
		q->family = (uint8_t)family;
		memcpy(q->a.b, a->b, addr_len(family));
		c->qlen++;
		ok = true;
		pthread_cond_signal(&c->work);
	}
	pthread_mutex_unlock(&c->mu);
	if (ok)
		r->queued++;
	else
		r->dropped++;
	return ok;
}

/* Addresses never asked about: no name to find, or our own name servers. */
static bool skip_addr(const struct resolver *r, int family, const union flow_addr *a)
{
	if (family == AF_INET) {
		if (a->b[0] == 0 || a->b[0] >= 224)	/* this-net, multicast, broadcast */
			return true;
	} else if (family == AF_INET6) {
		if (IN6_IS_ADDR_UNSPECIFIED(&a->v6) || a->b[0] == 0xff)
			return true;
	} else {
		return true;
	}
	for (unsigned int i = 0; i < r->nns; i++)
		if (r->ns[i].family == family && !memcmp(r->ns[i].a.b, a->b, addr_len(family)))
			return true;
	return false;
}

const char *resolver_lookup(struct resolver *r, int family, const union flow_addr *a)
{
	union flow_addr v4;
	struct rentry *e;
	uint64_t now;

	if (!r || !a)
		return NULL;
	if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->v6)) {
		memset(&v4, 0, sizeof(v4));
		v4.w[0] = a->w[3];
		a = &v4;
		family = AF_INET;
	}
	if (skip_addr(r, family, a))
		return NULL;
	e = cache_find(r, family, a);
	if (e) {
		switch (e->state) {
		case ST_POSITIVE:
			now = mono_ns();
			if (!e->refresh && entry_expired(r, e, now) && enqueue(r, family, a))
				e->refresh = true;
			if (r->pos.head != e) {
				list_unlink(&r->pos, e);
				list_push(&r->pos, e);
			}
			return e->name;
		case ST_NEGATIVE:
			now = mono_ns();
			if (entry_expired(r, e, now) && enqueue(r, family, a))
				entry_move(r, e, ST_PENDING);
			return NULL;
		default:
			return NULL;
		}
	}
	if (r->pend.n >= RESOLVER_QUEUE_MAX) {
		r->dropped++;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	if (!enqueue(r, family, a)) {
		free(e);
		return NULL;
	}
	e->family = (uint8_t)family;
	memcpy(e->a.b, a->b, addr_len(family));
	e->state = ST_PENDING;
	list_push(&r->pend, e);
	{
		unsigned int h = addr_hash(family, a);

		e->hnext = r->hash[h];
		r->hash[h] = e;
	}
	return NULL;
}

/* Take one answer into the cache; returns 1 when it brought a name. */
static int take_answer(struct resolver *r, struct rans *x, uint64_t now)
{
	struct rentry *e = cache_find(r, x->family, &x->a);
	bool temporary = x->status == EAI_AGAIN || x->status == EAI_FAIL ||
			 x->status == EAI_SYSTEM || x->status == EAI_MEMORY;

	if (!e)		/* evicted while in flight */
		return 0;
	if (x->status == 0) {
		free(e->name);
		e->name = x->name;
		x->name = NULL;
		e->refresh = false;
		e->temporary = false;
		e->stamp = now;
		if (e->state != ST_POSITIVE)
			entry_move(r, e, ST_POSITIVE);
		return 1;
	}
	if (e->state == ST_POSITIVE && temporary) {
		/* keep the name we had; ask again after a while */
		e->refresh = false;
		e->temporary = true;
		e->stamp = now;
		return 0;
	}
	free(e->name);
	e->name = NULL;
	e->refresh = false;
	e->temporary = temporary;
	e->stamp = now;
	if (e->state != ST_NEGATIVE)
		entry_move(r, e, ST_NEGATIVE);
	if (r->verbose > 1) {
		char buf[INET6_ADDRSTRLEN];

		fprintf(stderr, "flowtop-emit: no name for %s: %s\n",
			flow_addr_str(x->family, &x->a, buf, sizeof(buf)), gai_strerror(x->status));
	}
	return 0;
}

static void enforce_bounds(struct resolver *r)
{
	while (r->pos.n > RESOLVER_POS_MAX)
		entry_remove(r, r->pos.tail);
	while (r->neg.n > RESOLVER_NEG_MAX)
		entry_remove(r, r->neg.tail);
}

int resolver_drain(struct resolver *r)
{
	struct rcore *c;
	struct rans *list;
	uint64_t v, now;
	int names = 0;

	if (!r)
		return 0;
	c = r->core;
	if (read(c->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return 0;
	pthread_mutex_lock(&c->mu);
	list = c->done;
	c->done = NULL;
	pthread_mutex_unlock(&c->mu);

	now = mono_ns();
	while (list) {
		struct rans *x = list;

		list = x->next;
		names += take_answer(r, x, now);
		free(x->name);
		free(x);
	}
	enforce_bounds(r);
	return names;
}

void resolver_wait(struct resolver *r, unsigned int timeout_ms)
{
	struct rcore *c;
	struct timespec dl;

	if (!r)
		return;
	c = r->core;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	while (c->qlen > 0 || c->busy > 0)
		if (pthread_cond_timedwait(&c->idle, &c->mu, &dl) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&c->mu);
	resolver_drain(r);
}

int resolver_fd(const struct resolver *r)
{
	return r ? r->core->efd : -1;
}

void resolver_set_lifetimes(struct resolver *r, unsigned int pos_s, unsigned int neg_s,
			    unsigned int fail_s)
{
	r->pos_ttl = pos_s * 1000000000ull;
	r->neg_ttl = neg_s * 1000000000ull;
	r->fail_ttl = fail_s * 1000000000ull;
}

void resolver_stats(const struct resolver *r, struct resolver_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!r)
		return;
	pthread_mutex_lock(&r->core->mu);
	st->answered = r->core->answered;
	st->failed = r->core->failed;
	pthread_mutex_unlock(&r->core->mu);
	st->queued = r->queued;
	st->dropped = r->dropped;
	st->positive = r->pos.n;
	st->negative = r->neg.n;
	st->pending = r->pend.n;
	st->nameservers = r->nns;
}

/* The name servers that the resolver library will ask: looking them up
 * would make flows that make look-ups. */
static void read_nameservers(struct resolver *r)
{
	FILE *f = fopen("/etc/resolv.conf", "re");
	char line[512];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && r->nns < RESOLVER_MAX_NS) {
		char addr[80], *pct;		/* %79s below */
		struct rreq *ns = &r->ns[r->nns];

		if (sscanf(line, " nameserver %79s", addr) != 1)
			continue;
		pct = strchr(addr, '%');	/* fe80::1%eth0 */
		if (pct)
			*pct = '\0';
		memset(ns, 0, sizeof(*ns));
		if (inet_pton(AF_INET, addr, &ns->a) == 1)
			ns->family = AF_INET;
		else if (inet_pton(AF_INET6, addr, &ns->a) == 1)
			ns->family = AF_INET6;
		else
			continue;
		if (ns->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&ns->a.v6)) {
			ns->a.w[0] = ns->a.w[3];
			ns->a.w[3] = 0;
			ns->family = AF_INET;
		}
		r->nns++;
	}
	fclose(f);
}

struct resolver *resolver_new(unsigned int workers, int verbose)
{
	struct resolver *r = calloc(1, sizeof(*r));
	struct rcore *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;
	pthread_attr_t ta;
	int err = 0;

	if (!r || !c || !(r->hash = calloc(HASH_SIZE, sizeof(*r->hash)))) {
		err = ENOMEM;
		goto fail_alloc;
	}
	if (workers == 0)
		workers = RESOLVER_WORKERS;
	if (workers > 64)
		workers = 64;
	r->core = c;
	r->verbose = verbose;
	resolver_set_lifetimes(r, RESOLVER_POS_TTL, RESOLVER_NEG_TTL, RESOLVER_FAIL_TTL);
	read_nameservers(r);

	c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->efd < 0) {
		err = errno;
		goto fail_alloc;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->work, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->idle, &ca);
	pthread_condattr_destroy(&ca);
	c->refs = 1;

	pthread_attr_init(&ta);
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	for (unsigned int i = 0; i < workers; i++) {
		pthread_t t;

		pthread_mutex_lock(&c->mu);
		c->alive++;
		c->refs++;
		pthread_mutex_unlock(&c->mu);
		err = pthread_create(&t, &ta, worker, c);
		if (err) {
			pthread_mutex_lock(&c->mu);
			c->alive--;
			c->refs--;
			pthread_mutex_unlock(&c->mu);
			break;
		}
	}
	pthread_attr_destroy(&ta);
	if (c->alive == 0) {
		fprintf(stderr, "flowtop-emit: cannot start name look-up threads: %s\n",
			strerror(err));
		resolver_free(r);
		errno = err;
		return NULL;
	}
	if (verbose)
		fprintf(stderr, "flowtop-emit: reverse DNS with %u threads, %u name server(s) skipped\n",
			c->alive, r->nns);
	return r;

fail_alloc:
	fprintf(stderr, "flowtop-emit: cannot set up reverse DNS: %s\n", strerror(err));
	if (r)
		free(r->hash);
	free(r);
	free(c);
	errno = err;
	return NULL;
}

void resolver_free(struct resolver *r)
{
	struct rcore *c;
	struct timespec dl;
	bool last;

	if (!r)
		return;
	c = r->core;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_nsec += FREE_WAIT_MS * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	c->qlen = 0;
	pthread_cond_broadcast(&c->work);
	/* idle workers leave at once; one inside getnameinfo may take the
	 * resolver's whole timeout, and is not waited for */
	while (c->alive > c->busy)
		if (pthread_cond_timedwait(&c->idle, &c->mu, &dl) == ETIMEDOUT)
			break;
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->mu);
	if (last)
		core_free(c);

	for (unsigned int i = 0; i < HASH_SIZE; i++) {
		while (r->hash[i]) {
			struct rentry *e = r->hash[i];

			r->hash[i] = e->hnext;
			free(e->name);
			free(e);
		}
	}
	free(r->hash);
	free(r);
}
