/*
 * enrich.h - everything the emitter adds to a kernel flow: process and user,
 * application protocol, GeoIP, reverse DNS.
 *
 * struct enrich owns its caches, the resolver and the user-name thread of
 * procmap, and the flows waiting for a name (follow mode).  Strings that
 * enrich_flow() stores in a flow point into those caches and stay valid until
 * the next call into this module from the main thread, which is long enough
 * to write the record.  Nothing here ever blocks the caller on the network.
 */
#ifndef FLOWTOP_ENRICH_H
#define FLOWTOP_ENRICH_H

#include <stdbool.h>

#include "flow.h"

#define ENRICH_MAX_DB 8

struct enrich_opts {
	bool process;			/* --no-process clears it */
	bool protocol;			/* network.protocol from the port */
	bool geoip;			/* --no-geoip clears it */
	bool dns;			/* -n/--numeric clears it */
	const char *geoip_db[ENRICH_MAX_DB];	/* --geoip-db, repeatable */
	int n_geoip_db;
	unsigned int dns_timeout_ms;	/* --dns-timeout, for --once */
	uint16_t community_seed;	/* --community-id-seed */
	bool community;			/* network.community_id */
	bool host;			/* host.name, host.id */
	bool direction;			/* network.direction */
	bool late_names;		/* follow mode: remember flows waiting for a name */
	int verbose;
};

struct enrich;

/* Open databases and start workers; prints its own notices on stderr.
 * Returns NULL with errno set only when nothing can be set up at all. */
struct enrich *enrich_new(const struct enrich_opts *o);

/* Stop workers and free every cache. */
void enrich_free(struct enrich *e);

/* Called before each table dump: refreshes per-scan state (socket and
 * process maps) once, rather than once per flow. */
void enrich_scan_begin(struct enrich *e);

/* Look the owners of the flows that follow up in sm, the sockets of their
 * network namespace (--netns, --all-netns), which the caller owns and keeps
 * until the next call; NULL: no process fields for them.  enrich's own
 * sockmap, of the namespace it was made in, is used until the first call. */
struct sockmap;
void enrich_use_sockmap(struct enrich *e, struct sockmap *sm);

/* Fill in what is known about f now; queues slow look-ups (DNS) for later.
 * Never blocks. */
void enrich_flow(struct enrich *e, struct flow *f);

/* Only the reverse DNS part of enrich_flow().  With late_names, a flow
 * with an id that misses a name is remembered until the name arrives (see
 * enrich_late_flows). */
void enrich_names(struct enrich *e, struct flow *f);

/* A descriptor to poll for the resolver's answers, or -1 without DNS. */
int enrich_fd(const struct enrich *e);

/* Milliseconds until enrich_drain() has work even if enrich_fd() stays
 * quiet (a query's timeout), or -1: bounds the caller's poll timeout. */
int enrich_timeout_ms(const struct enrich *e);

/* Whether look-ups are still queued or in flight (--once waits on it). */
bool enrich_busy(const struct enrich *e);

/* Take in answers and send what is queued; call after every poll round,
 * readable or not.  Returns how many names arrived. */
int enrich_drain(struct enrich *e);

/* Follow mode: hand fn each flow (a key: id, family, protocol, original
 * tuple) that waited for a name that has since arrived, once; stops at
 * fn's first non-zero return, which it returns.  *walk_all is set when a
 * name arrived for more flows than could be remembered: the caller should
 * then look at all its flows once. */
int enrich_late_flows(struct enrich *e, int (*fn)(const struct flow *key, void *data),
		      void *data, bool *walk_all);

#endif
