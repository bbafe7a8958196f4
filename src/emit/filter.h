/*
 * filter.h - which flows the user asked for (-4/-6, -p, --state, --src,
 * --dst, --port, --no-loopback).
 *
 * struct filter is a plain value owned by the caller; filter_match() is the
 * single source of truth.  The kernel-side filters built from it only drop
 * early what filter_match() would drop anyway.
 */
#ifndef FLOWTOP_FILTER_H
#define FLOWTOP_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"

#define FILTER_MAX_NETS 32
#define FILTER_MAX_PORTS 64
#define FILTER_MAX_STATES 16

struct filter_net {
	uint8_t family;
	uint8_t prefix;
	union flow_addr addr;
};

struct filter {
	bool want_v4, want_v6;
	bool any_proto;
	bool proto[256];
	int nstates;
	char states[FILTER_MAX_STATES][20];
	int nsrc, ndst;
	struct filter_net src[FILTER_MAX_NETS], dst[FILTER_MAX_NETS];
	int nports;
	uint16_t ports[FILTER_MAX_PORTS];
	bool no_loopback;
};

/* Everything passes. */
void filter_init(struct filter *fl);

/* Option parsers; each takes a comma-separated list and adds to the filter.
 * 0, or -1 with a message for the user in err (errlen bytes). */
int filter_add_protos(struct filter *fl, const char *list, char *err, size_t errlen);
int filter_add_states(struct filter *fl, const char *list, char *err, size_t errlen);
int filter_add_nets(struct filter *fl, bool src, const char *list, char *err, size_t errlen);
int filter_add_ports(struct filter *fl, const char *list, char *err, size_t errlen);

/* Parse "ADDR" or "ADDR/LEN" into n; 0 or -1. */
int filter_parse_net(const char *s, struct filter_net *n);

/* Whether fl lets every flow through (no filter option was given). */
bool filter_passes_all(const struct filter *fl);

/* Whether a flow passes every filter. */
bool filter_match(const struct filter *fl, const struct flow *f);

/* The one transport a dump may ask the kernel for, or -1 for "all". */
int filter_dump_l4proto(const struct filter *fl);

/* Build the event socket's kernel filter (nfct_filter_destroy() it after
 * attaching), or NULL when the kernel cannot express anything useful. */
struct nfct_filter *filter_kernel_events(const struct filter *fl);

#endif
