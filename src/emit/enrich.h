/*
 * enrich.h - everything the emitter adds to a kernel flow: process and user,
 * application protocol, GeoIP, reverse DNS.
 *
 * struct enrich owns its caches and worker threads.  Strings that
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

/* Fill in what is known about f now; queues slow look-ups (DNS) for later.
 * Never blocks. */
void enrich_flow(struct enrich *e, struct flow *f);

/* Only the reverse DNS part of enrich_flow(): cheap enough to run over the
 * whole table when names have arrived. */
void enrich_names(struct enrich *e, struct flow *f);

/* A descriptor that becomes readable when queued look-ups have finished,
 * or -1 when nothing is asynchronous. */
int enrich_fd(const struct enrich *e);

/* Consume the readiness of enrich_fd(); returns how many names arrived
 * since the last call. */
int enrich_drain(struct enrich *e);

/* --once: wait until every queued look-up is done or timeout_ms passed. */
void enrich_wait(struct enrich *e, unsigned int timeout_ms);

#endif
