/*
 * enrich.c - composes the enrichers: process and user (sockmap, procmap),
 * application protocol (service), GeoIP (geoip) and reverse DNS (resolver).
 *
 * Each part is optional: one that is turned off, or that cannot start (no
 * database, no sock_diag), is simply left out and the others go on.  Only
 * the resolver works asynchronously; the rest answer from per-scan
 * snapshots and bounded caches, so enrich_flow() never waits on the network.
 */
#include "enrich.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "community.h"
#include "geoip.h"
#include "host.h"
#include "localaddr.h"
#include "netns.h"
#include "notice.h"
#include "procmap.h"
#include "resolver.h"
#include "service.h"
#include "sockmap.h"

struct enrich {
	struct enrich_opts o;
	struct sockmap *sm;	/* the sockets flows are looked up in now */
	struct sockmap *own;	/* this namespace's, which enrich owns */
	struct procmap *pm;
	struct service *svc;
	struct geoip *geo;
	struct resolver *res;
	struct host host;	/* host.name and host.id of every flow */
	struct localaddr *la;	/* this namespace's addresses: network.direction */
	uint64_t la_ns;		/* when they were last read */
	uint64_t self_ino;	/* this namespace's inode; 0: not known */
	uint64_t scan_ns;	/* when the socket and process maps were last reset */
};

struct enrich *enrich_new(const struct enrich_opts *o)
{
	struct enrich *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->o = *o;
	if (o->process) {
		e->sm = sockmap_new();
		if (!e->sm)
			notice_error("cannot open a 'NETLINK_SOCK_DIAG' socket: %s; "
				     "no process fields", strerror(errno));
		else if (!(e->pm = procmap_new(NULL))) {
			notice_error("cannot make the process map: %s; no process fields",
				     strerror(errno));
			sockmap_free(e->sm);
			e->sm = NULL;
		} else {
			procmap_check_caps(e->pm);
		}
		e->own = e->sm;
	}
	if (o->protocol)
		e->svc = service_new(NULL);
	if (o->host)
		host_init(&e->host, NULL);	/* what it cannot find stays out */
	if (o->direction)
		e->la = localaddr_new();
	if (netns_self(&e->self_ino) < 0)
		e->self_ino = 0;
	if (o->geoip)
		e->geo = geoip_new(o->geoip_db, o->n_geoip_db, o->verbose);
	if (o->dns)
		e->res = resolver_new(0, o->verbose);	/* it says why when NULL */
	return e;
}

void enrich_free(struct enrich *e)
{
	if (!e)
		return;
	resolver_free(e->res);
	geoip_free(e->geo);
	service_free(e->svc);
	localaddr_free(e->la);
	procmap_free(e->pm);
	sockmap_free(e->own);
	free(e);
}

/* Maps younger than SOCKMAP_REFRESH_MS are kept: --once with DNS scans
 * twice in a row (names first, then the records), and the second scan may
 * use the first one's snapshot rather than dump and walk again. */
void enrich_scan_begin(struct enrich *e)
{
	uint64_t now = clock_mono_ns();

	if (!e || !e->own)
		return;
	if (e->scan_ns && now - e->scan_ns < SOCKMAP_REFRESH_MS * 1000000ull)
		return;
	e->scan_ns = now;
	if (e->sm)
		sockmap_invalidate(e->sm);
	procmap_scan_begin(e->pm);
}

void enrich_use_sockmap(struct enrich *e, struct sockmap *sm)
{
	/* --no-process, or no sock_diag here: no process fields anywhere */
	if (e && e->own)
		e->sm = sm;
}

/* The local socket's owner.  A flow without a socket (routed, or gone) gets
 * nothing; the caller asks again for the same flow on later dumps. */
static void add_process(struct enrich *e, struct flow *f)
{
	struct sockmap_sock s;
	const struct procmap_proc *pp;
	uint32_t pid;

	if (!sockmap_find_flow(e->sm, f, &s))
		return;
	f->uid = s.uid;
	f->has |= FLOW_HAS_UID;
	f->user_name = procmap_user(e->pm, s.uid);
	pid = procmap_pid(e->pm, s.inode);
	if (!pid)
		return;		/* not readable, or the holder just exited */
	f->pid = pid;
	f->has |= FLOW_HAS_PID;
	pp = procmap_proc(e->pm, pid);
	if (pp) {
		f->process_name = pp->name;
		f->process_exe = pp->exe;
	}
}

/* A flow that already names its owner (remembered from an earlier record,
 * its socket maybe gone): the names from the caches, where they still are. */
static void add_owner_names(struct enrich *e, struct flow *f)
{
	const struct procmap_proc *pp;

	if (f->has & FLOW_HAS_PID && !f->process_name && (pp = procmap_proc(e->pm, f->pid))) {
		f->process_name = pp->name;
		f->process_exe = pp->exe;
	}
	if (f->has & FLOW_HAS_UID && !f->user_name)
		f->user_name = procmap_user(e->pm, f->uid);
}

/* The addresses are read again at most once a second, so that one that
 * comes or goes (DHCP, a VPN) counts soon.  Only for flows of the namespace
 * the program runs in, which --all-netns watches (and tags) like any
 * other: another namespace's addresses are not these. */
static void add_direction(struct enrich *e, struct flow *f)
{
	uint64_t now;

	if (!e->la || (f->netns_ino && f->netns_ino != e->self_ino))
		return;
	now = flow_now_ns();	/* a clock that jumps only reads them early */
	if (!e->la_ns || now - e->la_ns >= 1000000000ull) {
		e->la_ns = now;
		localaddr_refresh(e->la);	/* on failure the old list stays */
	}
	f->direction = localaddr_direction(e->la, f);
}

/* What every flow record carries whatever is switched off: the machine,
 * the Community ID, and a destroy's end (the kernel's stop time, kept from
 * the event, else now: a refresh dump that no longer finds the flow); only
 * a destroy has an end, whatever a dump of a dying flow said. */
static void add_context(struct enrich *e, struct flow *f)
{
	f->host_name = e->host.name[0] ? e->host.name : NULL;
	f->host_id = e->host.id[0] ? e->host.id : NULL;
	if (e->o.community && community_format(f, e->o.community_seed, f->community_id,
						sizeof(f->community_id)) < 0)
		f->community_id[0] = '\0';
	add_direction(e, f);
	if (f->action != FLOW_DESTROY)
		f->end_ns = 0;
	else if (!f->end_ns)
		f->end_ns = f->ts_ns;
}

void enrich_flow(struct enrich *e, struct flow *f)
{
	if (!e || flow_action_is_marker(f->action) || !(f->has & FLOW_HAS_TUPLE))
		return;
	add_context(e, f);
	if (e->svc && !f->protocol && f->has & FLOW_HAS_PORTS)
		f->protocol = service_lookup(e->svc, f->l4proto, f->orig.sport, f->orig.dport);
	if (e->sm && !(f->has & FLOW_HAS_PID))
		add_process(e, f);
	else if (e->pm)
		add_owner_names(e, f);
	if (e->geo) {
		geoip_lookup(e->geo, f->family, &f->orig.src, &f->src_geo);
		geoip_lookup(e->geo, f->family, &f->orig.dst, &f->dst_geo);
	}
	enrich_names(e, f);
}

void enrich_names(struct enrich *e, struct flow *f)
{
	struct flow_key w, *wp = NULL;

	if (!e || !e->res || !(f->has & FLOW_HAS_TUPLE) || (f->src_domain && f->dst_domain))
		return;
	/* a destroy has no later record to carry the name */
	if (e->o.late_names && f->has & FLOW_HAS_ID && f->action != FLOW_DESTROY) {
		flow_key_of(f, &w);
		wp = &w;
	}
	if (!f->src_domain)
		f->src_domain = resolver_lookup(e->res, f->family, &f->orig.src, wp);
	if (!f->dst_domain)
		f->dst_domain = resolver_lookup(e->res, f->family, &f->orig.dst, wp);
}

int enrich_fd(const struct enrich *e)
{
	return e && e->res ? resolver_fd(e->res) : -1;
}

int enrich_timeout_ms(const struct enrich *e)
{
	return e && e->res ? resolver_timeout_ms(e->res) : -1;
}

bool enrich_busy(const struct enrich *e)
{
	return e && e->res && resolver_busy(e->res);
}

int enrich_drain(struct enrich *e)
{
	return e && e->res ? resolver_drain(e->res) : 0;
}

struct late_ctx {
	int (*fn)(const struct flow *key, void *data);
	void *data;
};

static int late_one(const struct flow_key *w, void *data)
{
	const struct late_ctx *c = data;
	struct flow f;

	flow_from_key(w, &f);
	f.action = FLOW_UPDATE;
	return c->fn(&f, c->data);
}

int enrich_late_flows(struct enrich *e, int (*fn)(const struct flow *key, void *data),
		      void *data, bool *walk_all)
{
	struct late_ctx c = { fn, data };

	if (!e || !e->res) {
		if (walk_all)
			*walk_all = false;
		return 0;
	}
	return resolver_take_waiters(e->res, late_one, &c, walk_all);
}
