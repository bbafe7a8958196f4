/*
 * resolver.h - asynchronous reverse DNS for the emitter: a small pool of
 * threads calling getnameinfo(NI_NAMEREQD), so nsswitch and /etc/hosts keep
 * working, behind caches that only the main thread reads and changes.
 *
 * struct resolver owns its worker threads, its queue, its caches and every
 * name it returns.  All functions are for the one main thread.  A name
 * returned by resolver_lookup() is never freed or moved by another
 * resolver_lookup(): it stays valid until the next resolver_drain(),
 * resolver_wait() or resolver_free(), the only calls that free names.
 *
 * Bounds and lifetimes (see resolver.c for the why):
 *  - positive cache: RESOLVER_POS_MAX (65536) names, least recently used
 *    goes first, each kept RESOLVER_POS_TTL (600 s) - then looked up again
 *    while the old name is still given out;
 *  - negative cache: RESOLVER_NEG_MAX (131072) addresses, oldest first, kept
 *    RESOLVER_NEG_TTL (300 s) when the address has no name, and
 *    RESOLVER_FAIL_TTL (30 s) when the look-up failed (timeout, no server);
 *  - queue: RESOLVER_QUEUE_MAX (1024) addresses waiting or in flight; a
 *    look-up that finds it full is not queued and is tried again later.
 * An entry takes 80 bytes plus its name: at most about 20 MiB in all, which
 * a table of 100,000 flows (up to 200,000 addresses, most of them without
 * a name) approaches.  The negative bound is the larger because an address
 * forgotten while its flow lives is asked about again: a cache smaller than
 * the table turns into a steady stream of queries.
 *
 * It does not feed on itself: the name servers of /etc/resolv.conf (read
 * once, at resolver_new) are never looked up, so the flows of its own
 * queries start no further queries; every other address of such a flow is
 * looked up once and then cached.
 */
#ifndef FLOWTOP_RESOLVER_H
#define FLOWTOP_RESOLVER_H

#include "flow.h"

#define RESOLVER_POS_MAX	65536
#define RESOLVER_NEG_MAX	131072
#define RESOLVER_QUEUE_MAX	1024
#define RESOLVER_POS_TTL	600
#define RESOLVER_NEG_TTL	300
#define RESOLVER_FAIL_TTL	30
#define RESOLVER_WORKERS	8	/* when resolver_new is given 0 */
#define RESOLVER_MAX_NS		8	/* name servers remembered */

struct resolver;

/* Counters for tests and --verbose. */
struct resolver_stats {
	unsigned long queued;		/* getnameinfo calls asked for */
	unsigned long answered;		/* of those, finished with a name */
	unsigned long failed;		/* finished without one */
	unsigned long dropped;		/* not queued: the queue was full */
	unsigned int positive, negative, pending;	/* cache entries now */
	unsigned int nameservers;	/* addresses never looked up */
};

/* Start 'workers' threads (0: RESOLVER_WORKERS) and read /etc/resolv.conf.
 * Returns NULL with errno set, after a message on stderr. */
struct resolver *resolver_new(unsigned int workers, int verbose);

/* Stop the workers and free everything.  Does not wait for a look-up stuck
 * in a slow name server for more than a moment: such a worker is left to
 * finish on its own and frees what it shares. */
void resolver_free(struct resolver *r);

/* The cached name of a (AF_INET or AF_INET6), or NULL.  On a miss the
 * address is queued once, however many flows ask for it; never blocks. */
const char *resolver_lookup(struct resolver *r, int family, const union flow_addr *a);

/* A descriptor (eventfd) that is readable when answers are waiting. */
int resolver_fd(const struct resolver *r);

/* Take in the answers that arrived; returns how many brought a name. */
int resolver_drain(struct resolver *r);

/* Wait until nothing is queued or in flight, or timeout_ms passed, then
 * take in the answers; for --once. */
void resolver_wait(struct resolver *r, unsigned int timeout_ms);

/* Change the cache lifetimes, in seconds (tests). */
void resolver_set_lifetimes(struct resolver *r, unsigned int pos_s, unsigned int neg_s,
			    unsigned int fail_s);

/* Fill st with the counters. */
void resolver_stats(const struct resolver *r, struct resolver_stats *st);

#endif
