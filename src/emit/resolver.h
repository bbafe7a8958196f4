/*
 * resolver.h - asynchronous reverse DNS for the emitter: the namespace's
 * hosts file, read by us, then PTR queries with c-ares, all driven from the
 * caller's poll loop.  No threads.
 *
 * struct resolver owns the c-ares channel, its epoll set, the hosts table,
 * the caches, the queue, the flows waiting for a name, and every name it
 * returns.  All functions are for the one main thread.  A name returned by
 * resolver_lookup() is never freed or moved by another resolver_lookup(): it
 * stays valid until the next resolver_drain(), resolver_wait() or
 * resolver_free(), the only calls that free names.
 *
 * Order of a look-up: addresses never asked about (multicast, our own name
 * servers) -> the hosts file (at once, never behind a query) -> the cache ->
 * a PTR query, sent at once while fewer than max_inflight are in flight,
 * queued in order of appearance otherwise.  /etc/hosts and /etc/resolv.conf
 * are looked at again at most once a second: a changed hosts file answers
 * the queries still waiting; a changed resolv.conf gets a new channel, and
 * what was in flight on the old one is asked again of the new servers.
 *
 * Timeouts: resolv.conf's timeout and attempts, but never more than
 * RESOLVER_TRY_MS a try and RESOLVER_TRIES tries (a try asks each server
 * once).
 *
 * Bounds and lifetimes:
 *  - positive cache: RESOLVER_POS_MAX (65536) names, least recently used
 *    goes first, each kept for its record's TTL clamped to
 *    [RESOLVER_TTL_MIN, RESOLVER_TTL_MAX] (60 s, 1 h) - then asked again
 *    while the old name is still given out;
 *  - negative cache: RESOLVER_NEG_MAX (131072) addresses, oldest first, kept
 *    RESOLVER_NEG_TTL (300 s) after NXDOMAIN or an answer without a name,
 *    RESOLVER_FAIL_TTL (60 s) after a timeout, SERVFAIL or refusal;
 *  - in flight: max_inflight (RESOLVER_INFLIGHT, 1024) young queries, one
 *    per address however many flows share it; a query unanswered after
 *    four times the recent answer time (at least RESOLVER_SLOT_MS, 200 ms,
 *    at most a try) leaves its slot to the next in the queue and waits on
 *    for its answer, with at most RESOLVER_ALL_FACTOR (16) times
 *    max_inflight queries in flight in all;
 *  - queue: RESOLVER_QUEUE_MAX (65536) addresses waiting for a slot; an
 *    address that finds it full is not queued and is tried again on its
 *    next look-up;
 *  - waiting flows (follow mode): RESOLVER_WAIT_PER_ADDR (256) per address,
 *    RESOLVER_WAIT_MAX (65536) in all; past that the address is marked and
 *    its name's arrival asks the caller for one pass over all its flows;
 *  - hosts file: RESOLVER_HOSTS_MAX (262144) addresses.
 * An entry takes about 100 bytes plus its name and 16 to 32 of index, a
 * waiting flow 64 bytes, a query in flight about 400 (with c-ares's share),
 * a hosts-file address about 64 plus its index: about 65 MiB with every
 * bound reached, a third of it a hosts file of 262,144 addresses.
 *
 * It does not feed on itself: the name servers of the current channel are
 * never looked up, so the flows of its own queries start no further
 * queries; and c-ares sends every query to a server from one UDP socket,
 * so they are one flow, not one per query.
 */
#ifndef FLOWTOP_RESOLVER_H
#define FLOWTOP_RESOLVER_H

#include <stdbool.h>

#include "flow.h"

#define RESOLVER_POS_MAX	65536
#define RESOLVER_NEG_MAX	131072
#define RESOLVER_INFLIGHT	1024	/* when resolver_new is given 0 */
#define RESOLVER_SLOT_MS	200
#define RESOLVER_ALL_FACTOR	16
#define RESOLVER_QUEUE_MAX	65536
#define RESOLVER_WAIT_PER_ADDR	256
#define RESOLVER_WAIT_MAX	65536
#define RESOLVER_HOSTS_MAX	262144
#define RESOLVER_TTL_MIN	60
#define RESOLVER_TTL_MAX	3600
#define RESOLVER_NEG_TTL	300
#define RESOLVER_FAIL_TTL	60
#define RESOLVER_TRY_MS		2000
#define RESOLVER_TRIES		2
#define RESOLVER_MAX_NS		16	/* name servers remembered */

struct resolver;

/* Counters for tests and --verbose. */
struct resolver_stats {
	unsigned long sent;		/* PTR queries sent, retries included */
	unsigned long answered;		/* queries that brought a name */
	unsigned long nxdomain;		/* NXDOMAIN, or an answer without a name */
	unsigned long timedout;		/* no answer after every try */
	unsigned long failed;		/* SERVFAIL, refused, malformed, ... */
	unsigned long cache_hits;	/* look-ups answered by the caches */
	unsigned long hosts_hits;	/* look-ups answered by the hosts file */
	unsigned long dropped;		/* not queued: the queue was full */
	unsigned long reinits;		/* new channels for a changed resolv.conf */
	unsigned int inflight, peak_inflight, queued;	/* old queries included */
	unsigned int young;		/* queries holding a slot */
	unsigned int positive, negative, pending;	/* cache entries now */
	unsigned int waiters;		/* flows waiting for a name */
	unsigned int nameservers;	/* addresses never looked up */
	unsigned int hosts;		/* addresses in the hosts table */
	unsigned int try_ms, tries;	/* in force */
};

/* Read the hosts file and resolv.conf, make the channel; up to max_inflight
 * queries at once (0: RESOLVER_INFLIGHT).  Returns NULL with errno set,
 * after a message on stderr. */
struct resolver *resolver_new(unsigned int max_inflight, int verbose);

/* Cancel what is in flight and free everything; with verbose, the counters
 * go to stderr first. */
void resolver_free(struct resolver *r);

/* The name of a (AF_INET or AF_INET6), or NULL.  On a miss the address is
 * queried once, however many flows ask for it; never blocks.  With w, and
 * while the query is pending, w is remembered and handed back by
 * resolver_take_waiters() once the name arrives. */
const char *resolver_lookup(struct resolver *r, int family, const union flow_addr *a,
			    const struct flow_key *w);

/* A descriptor (epoll) that is readable when a query's socket is ready. */
int resolver_fd(const struct resolver *r);

/* Milliseconds until resolver_drain() has work without the descriptor (a
 * query's timeout, a look at the files), or -1 when nothing is pending. */
int resolver_timeout_ms(const struct resolver *r);

/* Whether queries are queued or in flight. */
bool resolver_busy(const struct resolver *r);

/* Read answers, handle timeouts, send queued queries; returns how many
 * addresses got a name. */
int resolver_drain(struct resolver *r);

/* Hand each flow that waited for a name that has arrived to fn, once, and
 * forget it; stops at fn's first non-zero return, which it returns.
 * *overflow is set when a name arrived for an address that had more
 * waiting flows than could be remembered. */
int resolver_take_waiters(struct resolver *r, int (*fn)(const struct flow_key *w, void *data),
			  void *data, bool *overflow);

/* Drain until nothing is pending or timeout_ms passed (tests, tools). */
void resolver_wait(struct resolver *r, unsigned int timeout_ms);

/* Change the cache lifetimes, in seconds (tests): positive TTLs are
 * clamped to [ttl_min, ttl_max]. */
void resolver_set_lifetimes(struct resolver *r, unsigned int ttl_min, unsigned int ttl_max,
			    unsigned int neg_s, unsigned int fail_s);

/* Fill st with the counters. */
void resolver_stats(const struct resolver *r, struct resolver_stats *st);

#endif
