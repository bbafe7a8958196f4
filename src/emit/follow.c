/*
 * follow.c - follow mode's loop (see follow.h).
 *
 * Each round: write what the reader takes, wait in ppoll (the only place
 * the stop signals get in), read events first (the kernel can drop them),
 * then a few buffers of a dump in progress, then the resolver's answers,
 * then the timers (expiry, the name pass, the next refresh dump).
 */
#include "follow.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include "clock.h"
#include "netns.h"
#include "notice.h"
#include "output.h"
#include "sockmap.h"
#include "tracker.h"

/* a pass over the whole table for late names - only when an address had
 * more waiting flows than the resolver remembers - at most this often */
#define NAME_PASS_MS 1000
/* dead flows are forgotten by a pass over the tracker this often */
#define EXPIRE_MS 1000
/* output waiting for a slow reader past this stops the loop taking input,
 * so the kernel drops events (an overrun, a resync when the reader is back)
 * instead of our memory growing */
#define OUT_HIGH_WATER (1u << 20)
/* dump buffers read per round before the events get their turn again */
#define DUMP_READS 8
/* The most of the time refresh dumps may take, in per cent: a dump costs
 * in proportion to the table (seconds at a million flows), so past a size
 * --interval is stretched to keep the emitter nearly at rest on a quiet
 * table.  Where the kernel keeps counters, only dumps bring them; else
 * events bring every change and a refresh only catches what they cannot
 * (an owner found late, lost events without an overrun): rarer. */
#define REFRESH_SHARE_COUNTERS 5
#define REFRESH_SHARE_EVENTS 1

/* --all-netns without refresh dumps still looks for namespaces this often */
#define SCAN_MS 2000

enum dump_kind { DUMP_SNAPSHOT, DUMP_REFRESH };

struct follow;

/* One connection tracking table the loop follows: the program's own in a
 * plain run, else one watched namespace's (--netns, --all-netns), each with
 * its own sockets, memory of flows and dumps, so that an overrun in one
 * resyncs that one only. */
struct table {
	struct follow *fl;
	struct netns_watch *ns;		/* NULL in a plain run */
	struct ctsource *src;
	struct tracker *trk;		/* a plain run's is em->trk, else ours */
	uint32_t gen;			/* generation of the last dump begun */
	/* the dump in progress, if any */
	bool dumping;
	enum dump_kind kind;
	int fam[2], nfam, fam_next;	/* its requests, and the next to send */
	struct ctsource_dump_filter df;
	size_t dump_seen;		/* flows the kernel returned (before filtering) */
	bool resync_pending;		/* an overrun came during a dump */
	bool framed;			/* its dump is part of the first frame */
	uint64_t dump_cpu_us;		/* CPU time spent on the dump in progress */
	uint64_t dump_done_ms;		/* when the last dump ended */
	uint64_t dump_cost_ms;		/* CPU time the last whole dump took */
	bool dump_counters;		/* the dump in progress had counters */
	bool counters;			/* the last whole dump had counters */
	uint64_t drained_ms;		/* when the event queue was last seen empty */
	int ev_pfd, dump_pfd;		/* its places in the poll set, or -1 */
};

struct follow {
	struct emitter *em;
	const sigset_t *stops;
	unsigned int want_flags;	/* TRACKED_* that enrichment may still add */
	struct table **t;		/* the tables followed */
	size_t nt;
	/* several namespaces: records say which, and an overrun resyncs one
	 * table without a frame (a reader's sweep would drop the others) */
	bool multi;
	size_t frame_left;		/* tables whose first dump is not done */
	size_t frame_seen;		/* flows their first dumps returned */
	bool hinted_empty;
	struct pollfd *pfd;		/* the poll set */
	size_t pfd_cap;
	/* timers */
	uint64_t next_names, next_expire, next_scan;
	uint64_t round_ms;		/* the clock when the round's reading began:
					 * one look for all its flows, not one each */
	bool names_pending;		/* a pass over the table for late names */
	/* what the last dumps of all tables cost together: the refresh share
	 * is the whole program's, not each namespace's (a hundred namespaces
	 * at 1 % each would be a whole core) */
	uint64_t dump_cost_sum_ms;
	struct netns_scanner scan;	/* --all-netns: the processes seen */
};

/* --- flows ---------------------------------------------------------------- */

/* What the tracker needs to know of the loop's progress, at time ms. */
static struct tracker_now tracker_clock(const struct table *t, uint64_t ms)
{
	return (struct tracker_now){ .gen = t->gen, .dumping = t->dumping,
				     .ms = ms, .drained_ms = t->drained_ms };
}

/* The flows that follow are t's: their sockets are in its namespace. */
static void table_use(struct table *t)
{
	if (t->ns)
		enrich_use_sockmap(t->fl->em->enr, t->ns->sm);
}

/* Let the tracker judge a sighting of f (e: its entry, or NULL), and write
 * what it decides. */
static int observe(struct table *t, struct tracked *e, struct flow *f, enum tracker_src src,
		   bool match)
{
	struct tracker_now now = tracker_clock(t, t->fl->round_ms);
	int rc = tracker_observe_entry(t->trk, e, f, src, match, &now);

	if (rc < 0)
		return emitter_fail(t->fl->em, "cannot keep track of flows");
	return rc == 0 ? 0 : emitter_put_record(t->fl->em, f);
}

static int write_destroy(const struct tracked *e, void *data)
{
	struct table *t = data;
	struct flow f;

	tracker_to_flow(t->trk, e, &f);
	if (t->ns)
		netns_watch_tag(t->ns, &f);
	f.action = FLOW_DESTROY;
	f.ts_ns = flow_now_ns();
	enrich_flow(t->fl->em->enr, &f);
	return emitter_put_record(t->fl->em, &f);
}

/* Events and dumps both go through tracker_observe(), which alone decides
 * what the stream says of a flow (see tracker.c); flows without an id (old
 * kernels) cannot be tracked and are passed on as the kernel tells them. */
static int on_event(struct flow *f, void *data)
{
	struct table *t = data;
	struct emitter *em = t->fl->em;
	bool match = filter_match(&em->o->filter, f);
	struct tracked *e;

	if (t->ns)
		netns_watch_tag(t->ns, f);
	if (!(f->has & FLOW_HAS_ID)) {
		if (!match)
			return 0;
		enrich_flow(em->enr, f);
		return emitter_put_record(em, f);
	}
	e = tracker_find(t->trk, f);
	/* the socket may be gone by now: keep the owner we found before */
	if (e)
		tracker_owner(e, f);
	if (match || e)
		enrich_flow(em->enr, f);
	return observe(t, e, f, TRACKER_EVENT, match);
}

static int on_dump(struct flow *f, void *data)
{
	struct table *t = data;
	struct emitter *em = t->fl->em;
	bool match = filter_match(&em->o->filter, f);
	struct tracked *e;

	t->dump_seen++;
	if (f->has & FLOW_HAS_COUNTERS)
		t->dump_counters = true;
	if (t->ns)
		netns_watch_tag(t->ns, f);
	if (!(f->has & FLOW_HAS_ID)) {
		if (!match || t->kind != DUMP_SNAPSHOT)
			return 0;
		enrich_flow(em->enr, f);
		return emitter_put_record(em, f);
	}
	e = tracker_find(t->trk, f);
	if (!e && !match)
		return 0;
	/* most flows are as they were: skip their enrichment */
	if (e && t->kind == DUMP_REFRESH &&
	    tracker_settled(t->trk, e, f, t->fl->want_flags, t->gen))
		return 0;
	if (e)
		tracker_owner(e, f);
	enrich_flow(em->enr, f);
	return observe(t, e, f, t->kind == DUMP_SNAPSHOT ? TRACKER_SNAPSHOT : TRACKER_REFRESH,
		       match);
}

/* --- dumps ---------------------------------------------------------------- */

static int dump_step(struct table *t);

/* This thread's CPU time: what a dump costs us, the kernel's work to fill
 * its buffers included (it runs in our recv), without the time a loaded
 * machine gives to others, which the monotonic clock would count.  Summed
 * over the calls that work on one table's dump only: the dumps of several
 * namespaces run interleaved. */
static uint64_t cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* dump_step(), its CPU time counted to t's dump (the kernel fills the
 * first buffer when asked) */
static int dump_step_timed(struct table *t)
{
	uint64_t c = cpu_us();
	int rc = dump_step(t);

	t->dump_cpu_us += cpu_us() - c;
	return rc;
}

/* A snapshot dump is framed by markers in a plain run and in the first
 * dump of several namespaces (follow_run frames that one); a namespace's
 * later snapshot (a resync, a namespace found later) has no frame. */
static int dump_begin(struct table *t, enum dump_kind kind)
{
	struct follow *fl = t->fl;
	uint32_t empty, count;

	t->dumping = true;
	t->kind = kind;
	t->nfam = emitter_dump_plan(fl->em, t->fam, &t->df);
	if (t->ns)
		t->nfam = netns_dump_plan(t->fam, t->nfam, &t->df);
	/* a namespace's dump walks the machine's whole table: an empty one
	 * is done at once (its new flows come as events) */
	if (t->ns && ctsource_count(t->src, &empty) == 0 && empty == 0)
		t->nfam = 0;
	/* a million-flow table: room for all before they come, rather than
	 * the index doubling (and rehashing) ten times through the dump;
	 * with filters, most may never be kept */
	if (kind == DUMP_SNAPSHOT && filter_passes_all(&fl->em->o->filter) &&
	    ctsource_count(t->src, &count) == 0)
		(void)tracker_reserve(t->trk, count);
	t->fam_next = 0;
	t->dump_seen = 0;
	t->dump_counters = false;
	t->dump_cpu_us = 0;
	t->gen++;
	table_use(t);
	enrich_scan_begin(fl->em->enr);
	if (t->ns && t->ns->sm)
		sockmap_invalidate(t->ns->sm);
	if (kind == DUMP_SNAPSHOT && !fl->multi &&
	    emitter_put_marker(fl->em, FLOW_MARK_SNAPSHOT_BEGIN) < 0)
		return -1;
	return dump_step_timed(t);
}

/* An unframed snapshot's end: what a frame's reader would drop, written as
 * destroy records (the sweep then buries them quietly). */
static int destroy_unseen(struct tracked *e, void *data)
{
	struct table *t = data;

	return e->gen < t->gen ? write_destroy(e, t) : 0;
}

/* The first frame ends with the last table's first dump. */
static int frame_done(struct follow *fl, size_t seen)
{
	fl->frame_seen += seen;
	if (--fl->frame_left)
		return 0;
	if (emitter_put_marker(fl->em, FLOW_MARK_SNAPSHOT_END) < 0)
		return -1;
	if (fl->frame_seen == 0 && !fl->hinted_empty) {
		fl->hinted_empty = true;
		emitter_hint_empty();
	}
	return 0;
}

/* When t's next refresh dump is due: the interval runs from the end of its
 * last dump, so a slow dump of a big table never runs back to back, and
 * grows past --interval so that dumps take at most their share of the
 * time. */
uint64_t follow_refresh_gap(uint64_t interval_ms, uint64_t cost_ms, bool counters)
{
	unsigned int share = counters ? REFRESH_SHARE_COUNTERS : REFRESH_SHARE_EVENTS;
	uint64_t stretched = cost_ms * (100 - share) / share;

	return stretched > interval_ms ? stretched : interval_ms;
}

static uint64_t refresh_due(const struct table *t)
{
	return t->dump_done_ms + follow_refresh_gap(t->fl->em->o->interval_ms,
						    t->fl->dump_cost_sum_ms, t->counters);
}

/* A dump has ended: what it cost decides when the next one comes.  -v
 * says so when the interval is stretched and that changed much. */
static void refresh_plan(struct table *t)
{
	const struct emit_opts *o = t->fl->em->o;
	uint64_t was = refresh_due(t) - t->dump_done_ms, gap;

	t->fl->dump_cost_sum_ms -= t->dump_cost_ms;
	t->dump_cost_ms = t->dump_cpu_us / 1000;
	t->fl->dump_cost_sum_ms += t->dump_cost_ms;
	/* --accounting: counters are what the user asked for */
	t->counters = t->dump_counters || o->accounting;
	gap = refresh_due(t) - t->dump_done_ms;
	if (o->verbose && o->interval_ms && gap > o->interval_ms && (gap > was * 5 / 4 ||
								     gap < was * 4 / 5))
		notice("a dump of %zu flows took %.2f s of CPU: the next refresh in %.1f s, not %.1f s "
		       "(dumps take at most %u%% of the time)", t->dump_seen,
		       (double)t->dump_cost_ms / 1000, (double)gap / 1000,
		       (double)o->interval_ms / 1000,
		       t->counters ? REFRESH_SHARE_COUNTERS : REFRESH_SHARE_EVENTS);
}

/* The refresh marker: t's table was confirmed whole just now.  At scale
 * refreshes are minutes apart (refresh_due), and a reader cannot tell a
 * quiet table from a stale one without it.  With several namespaces it
 * names its own, like an overrun. */
static int put_refresh(struct table *t)
{
	struct flow m = { .action = FLOW_MARK_REFRESH, .ts_ns = flow_now_ns() };

	if (!t->ns)
		return emitter_put_marker(t->fl->em, FLOW_MARK_REFRESH);
	netns_watch_tag(t->ns, &m);
	return emitter_put_record(t->fl->em, &m);
}

/* All requests answered: settle the flows the dump did not see. */
static int dump_end(struct table *t)
{
	struct follow *fl = t->fl;
	struct tracker_now now;

	t->dumping = false;
	t->dump_done_ms = clock_mono_ms();
	refresh_plan(t);
	now = tracker_clock(t, t->dump_done_ms);
	table_use(t);
	if (t->kind == DUMP_SNAPSHOT && fl->multi && !t->framed &&
	    tracker_each(t->trk, destroy_unseen, t) < 0)
		return -1;
	if (t->kind == DUMP_SNAPSHOT) {
		/* readers drop what the frame did not contain; so do we */
		if (tracker_sweep(t->trk, TRACKER_SNAPSHOT, &now, write_destroy, t) < 0 ||
		    (!fl->multi && emitter_put_marker(fl->em, FLOW_MARK_SNAPSHOT_END) < 0))
			return -1;
	} else if (tracker_sweep(t->trk, TRACKER_REFRESH, &now, write_destroy, t) < 0 ||
		   put_refresh(t) < 0) {
		return -1;
	}
	if (t->framed) {
		t->framed = false;
		if (frame_done(fl, t->dump_seen) < 0)
			return -1;
	} else if (!fl->multi && t->dump_seen == 0 && !fl->hinted_empty) {
		fl->hinted_empty = true;
		emitter_hint_empty();
	}
	if (t->resync_pending) {
		t->resync_pending = false;
		return dump_begin(t, DUMP_SNAPSHOT);
	}
	return 0;
}

/* Ask for the next family's dump, or end the dump when all are done. */
static int dump_step(struct table *t)
{
	if (t->fam_next == t->nfam)
		return dump_end(t);
	if (ctsource_dump_start(t->src, t->fam[t->fam_next++], &t->df) < 0)
		return emitter_fail(t->fl->em, "cannot ask for the connection tracking table");
	return 0;
}

/* A few dump buffers, then back to the events; fewer when the reader lags,
 * so the output buffer (which keeps its largest size) stays near the
 * high-water mark. */
static int dump_pump(struct table *t)
{
	struct emitter *em = t->fl->em;
	uint64_t c = cpu_us();

	table_use(t);
	for (int i = 0; i < DUMP_READS && t->dumping &&
	     output_pending(em->out) <= OUT_HIGH_WATER; i++) {
		int rc = ctsource_dump_read(t->src, on_dump, t);
		uint64_t now = cpu_us();

		/* counted before dump_step() may end the dump */
		t->dump_cpu_us += now - c;
		c = now;
		if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (rc < 0)
			return emitter_fail(em, "cannot read the connection tracking table");
		if (rc == 0 && dump_step(t) < 0)
			return -1;
	}
	t->dump_cpu_us += cpu_us() - c;
	return 0;
}

/* --- events --------------------------------------------------------------- */

/* The filters in the kernel, on t's event socket. */
static void events_filter(struct table *t)
{
	const struct emit_opts *o = t->fl->em->o;
	struct nfct_filter *kf = o->kernel_filter ? filter_kernel_events(&o->filter) : NULL;

	if (kf) {
		if (ctsource_events_filter(t->src, kf) < 0 && o->verbose)
			notice("kernel event filter not attached: %s", strerror(errno));
		nfct_filter_destroy(kf);
	}
}

/* A plain run's event socket; a namespace's was opened inside it. */
static int events_open(struct table *t)
{
	const struct emit_opts *o = t->fl->em->o;
	size_t granted = 0;

	if (!t->ns) {
		if (ctsource_events_open(t->src, o->bufsize, &granted) < 0)
			return emitter_fail(t->fl->em,
					    "cannot subscribe to connection tracking events");
		if (o->verbose)
			notice("event socket receive buffer %zu bytes", granted);
	}
	events_filter(t);
	return 0;
}

/* Events first: they are the ones the kernel can drop.  The tracker waits
 * for the queue to be read empty before it takes a dump's word that a flow
 * came or went without an event.  Lost events: an overrun marker, then a
 * framed resync (after the dump in progress, if any). */
static int events_read(struct table *t)
{
	struct emitter *em = t->fl->em;
	uint64_t now = clock_mono_ms();

	table_use(t);
	if (ctsource_event_read(t->src, on_event, t) >= 0) {
		if (ctsource_events_drained(t->src))
			t->drained_ms = now;
		return 0;
	}
	if (errno != ENOBUFS)
		return emitter_fail(em, "cannot read connection tracking events");
	if (em->o->verbose)
		notice("event overrun%s%s, resynchronising", t->ns ? " in network namespace " : "",
		       t->ns ? netns_watch_label(t->ns) : "");
	if (t->ns) {
		/* which namespace lost events: the marker says */
		struct flow m = { .action = FLOW_MARK_OVERRUN, .ts_ns = flow_now_ns() };

		netns_watch_tag(t->ns, &m);
		if (emitter_put_record(em, &m) < 0)
			return -1;
	} else if (emitter_put_marker(em, FLOW_MARK_OVERRUN) < 0) {
		return -1;
	}
	if (t->dumping) {
		t->resync_pending = true;
		return 0;
	}
	return dump_begin(t, DUMP_SNAPSHOT);
}

/* --- late names ----------------------------------------------------------- */

/* Names that arrived late become update records for the flows still alive. */
static int late_names(struct tracked *e, void *data)
{
	struct table *t = data;
	struct follow *fl = t->fl;
	struct flow f;

	/* only flows alive in the stream get records */
	if ((e->life != TRACKED_ALIVE && e->life != TRACKED_MISSING) ||
	    (e->flags & (TRACKED_SRC_NAME | TRACKED_DST_NAME)) ==
	    (TRACKED_SRC_NAME | TRACKED_DST_NAME))
		return 0;
	tracker_to_flow(t->trk, e, &f);
	if (t->ns)
		netns_watch_tag(t->ns, &f);
	enrich_names(fl->em->enr, &f);
	if ((!f.src_domain || (e->flags & TRACKED_SRC_NAME)) &&
	    (!f.dst_domain || (e->flags & TRACKED_DST_NAME)))
		return 0;
	if (f.src_domain)
		e->flags |= TRACKED_SRC_NAME;
	if (f.dst_domain)
		e->flags |= TRACKED_DST_NAME;
	/* a full record: the rest of the enrichment from the caches */
	f.action = FLOW_UPDATE;
	f.ts_ns = flow_now_ns();
	table_use(t);
	enrich_flow(fl->em->enr, &f);
	return emitter_put_record(fl->em, &f);
}

/* The table of namespace ino (a plain run has one, with ino 0), or NULL. */
static struct table *table_of(struct follow *fl, uint64_t ino)
{
	for (size_t i = 0; i < fl->nt; i++)
		if (!fl->t[i]->ns || fl->t[i]->ns->info.ino == ino)
			return fl->t[i];
	return NULL;
}

/* A flow that waited for a name that has arrived: an update if the kernel
 * still has it.  Costs one look-up per waiting flow, not a pass over the
 * table. */
static int late_flow(const struct flow *key, void *data)
{
	struct table *t = table_of(data, key->netns_ino);
	struct tracked *e = t ? tracker_find(t->trk, key) : NULL;

	return e ? late_names(e, t) : 0;
}

/* The resolver's answers, and the updates they make. */
static int names_take(struct follow *fl)
{
	bool walk_all = false;
	uint64_t now;

	enrich_drain(fl->em->enr);
	if (enrich_late_flows(fl->em->enr, late_flow, fl, &walk_all) < 0)
		return -1;
	/* an address more flows waited on than were remembered: one pass
	 * over the table, at most once a NAME_PASS_MS */
	if (walk_all && !fl->names_pending) {
		now = clock_mono_ms();
		fl->names_pending = true;
		fl->next_names = fl->next_names > now ? fl->next_names : now;
	}
	return 0;
}

/* --- output --------------------------------------------------------------- */

/* Write what the reader takes now.  Where no non-blocking way to the file
 * was found, the stop signals are let in around the write, which they
 * interrupt (no SA_RESTART); a signal that comes just before the write
 * waits for the reader there, the one case this cannot help. */
static int flush_out(struct follow *fl)
{
	struct emitter *em = fl->em;
	bool let_in = output_may_block(em->out);
	sigset_t old;
	int rc;

	if (let_in)
		sigprocmask(SIG_UNBLOCK, fl->stops, &old);
	rc = output_flush(em->out);
	if (let_in)
		sigprocmask(SIG_SETMASK, &old, NULL);
	if (rc < 0) {
		em->write_failed = true;
		em->write_errno = errno;
	}
	return rc;
}

/* --- tables and namespaces ------------------------------------------------- */

static void table_free(struct table *t)
{
	if (t && t->ns)
		tracker_free(t->trk);	/* a plain run's is main's */
	free(t);
}

/* Follow one more table: ns NULL for a plain run's (em->src, em->trk). */
static struct table *table_add(struct follow *fl, struct netns_watch *ns)
{
	struct table **v = realloc(fl->t, (fl->nt + 1) * sizeof(*v));
	struct table *t = calloc(1, sizeof(*t));

	if (v)
		fl->t = v;
	if (!v || !t || (ns && !(t->trk = tracker_new()))) {
		free(t);
		emitter_fail(fl->em, "cannot keep a flow table for a network namespace");
		return NULL;
	}
	t->fl = fl;
	t->ns = ns;
	t->src = ns ? ns->src : fl->em->src;
	if (!ns)
		t->trk = fl->em->trk;
	fl->t[fl->nt++] = t;
	return t;
}

/* Destroy records for an alive flow of a namespace that went away. */
static int destroy_each(struct tracked *e, void *data)
{
	return write_destroy(e, data);
}

/* Drop table i and its namespace, with a destroy record for each of its
 * flows: no reader would hear of them again. */
static int table_drop(struct follow *fl, size_t i)
{
	struct emitter *em = fl->em;
	struct table *t = fl->t[i];
	int rc;

	table_use(t);
	rc = tracker_each(t->trk, destroy_each, t);
	if (t->framed && rc == 0)
		rc = frame_done(fl, t->dump_seen);
	/* the resolver may still name one of its flows: it finds no table */
	/* enrich must not keep a pointer to its sockets */
	enrich_use_sockmap(em->enr, NULL);
	fl->dump_cost_sum_ms -= t->dump_cost_ms;
	for (size_t j = 0; j < em->nns; j++)
		if (em->ns[j] == t->ns) {
			netns_watch_close(em->ns[j]);
			free(em->ns[j]);
			em->ns[j] = em->ns[--em->nns];
			break;
		}
	table_free(t);
	fl->t[i] = fl->t[--fl->nt];
	return rc;
}

/* --all-netns: namespaces that appeared are followed from now on (their
 * flows as an unframed snapshot), and ones no name and no process hold
 * any more are dropped.  A namespace that cannot be opened now (its
 * process left) is tried again at the next scan. */
static int netns_rescan(struct follow *fl)
{
	struct emitter *em = fl->em;
	const struct emit_opts *o = em->o;
	struct netns_watch_opts wo = { true, o->bufsize, NULL, o->enrich.process };
	struct netns_list l;
	int rc = 0;

	netns_list_init(&l);
	if (netns_scan_cached(&fl->scan, &l, NULL, NULL) < 0) {
		netns_list_release(&l);
		return 0;	/* /proc unreadable for a moment: next time */
	}
	for (size_t i = fl->nt; i-- > 0;)
		if (netns_list_find(&l, fl->t[i]->ns->info.ino) < 0 && (rc = table_drop(fl, i)) < 0)
			break;
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		struct netns_watch *w, **v;
		struct table *t;
		const char *what;

		if (table_of(fl, l.v[i].ino) ||
		    !netns_scanner_selects(&fl->scan, o->netns_filter, o->n_netns_filter, &l.v[i]))
			continue;
		if (!(w = malloc(sizeof(*w))))
			break;
		if (netns_watch_open(w, &l.v[i], &wo, &what) < 0) {
			if (o->verbose)
				notice("network namespace '%s' not watched: %s",
				       l.v[i].name[0] ? l.v[i].name : l.v[i].path, strerror(errno));
			free(w);
			continue;
		}
		if (!(v = realloc(em->ns, (em->nns + 1) * sizeof(*v)))) {
			netns_watch_close(w);
			free(w);
			break;
		}
		em->ns = v;
		em->ns[em->nns++] = w;
		if (!(t = table_add(fl, w)))
			rc = -1;
		else {
			events_filter(t);
			rc = dump_begin(t, DUMP_SNAPSHOT);
		}
	}
	netns_list_release(&l);
	return rc;
}

/* --- the loop ------------------------------------------------------------- */

/* How long ppoll may sleep: until the next timer, or -1 for ever. */
static int poll_timeout(const struct follow *fl)
{
	uint64_t now = clock_mono_ms(), due = UINT64_MAX;
	int t = enrich_timeout_ms(fl->em->enr);	/* a query given up, a retry */

	for (size_t i = 0; i < fl->nt; i++)
		if (fl->em->o->interval_ms && !fl->t[i]->dumping && refresh_due(fl->t[i]) < due)
			due = refresh_due(fl->t[i]);
	if (fl->names_pending && fl->next_names < due)
		due = fl->next_names;
	if (fl->em->o->all_netns && fl->next_scan < due)
		due = fl->next_scan;
	if (due != UINT64_MAX) {
		int d = due <= now ? 0 : due - now > INT32_MAX ? INT32_MAX : (int)(due - now);

		t = t < 0 || d < t ? d : t;
	}
	return t;
}

/* The descriptors to wait on; the output's comes last.  A reader that does
 * not keep up (backlog): wait for it, and only for it.  -1 when out of
 * memory. */
static int poll_set(struct follow *fl, bool backlog)
{
	struct emitter *em = fl->em;
	size_t need = 2 * fl->nt + 2;
	int n = 0;

	if (need > fl->pfd_cap) {
		struct pollfd *p = realloc(fl->pfd, need * sizeof(*p));

		if (!p)
			return emitter_fail(em, "cannot wait for input");
		fl->pfd = p;
		fl->pfd_cap = need;
	}
	for (size_t i = 0; i < fl->nt; i++) {
		struct table *t = fl->t[i];

		t->ev_pfd = t->dump_pfd = -1;
		if (backlog)
			continue;
		t->ev_pfd = n;
		fl->pfd[n++] = (struct pollfd){ ctsource_event_fd(t->src), POLLIN, 0 };
		if (t->dumping) {
			t->dump_pfd = n;
			fl->pfd[n++] = (struct pollfd){ ctsource_dump_fd(t->src), POLLIN, 0 };
		}
	}
	if (!backlog && enrich_fd(em->enr) >= 0)
		fl->pfd[n++] = (struct pollfd){ enrich_fd(em->enr), POLLIN, 0 };
	/* a reader that went away shows as POLLERR on our end of the pipe,
	 * so a quiet table does not keep us running for nobody */
	fl->pfd[n++] = (struct pollfd){ output_fd(em->out),
					output_pending(em->out) ? POLLOUT : 0, 0 };
	return n;
}

/* Wait for something to do.  1: go on with the round, 0: start the next
 * round (a signal, or only the reader was waited for), -1: stop. */
static int wait_ready(struct follow *fl, bool backlog)
{
	struct emitter *em = fl->em;
	int nfd = poll_set(fl, backlog);
	int timeout = backlog ? -1 : poll_timeout(fl);
	struct timespec ts = { timeout / 1000, (long)(timeout % 1000) * 1000000 };
	sigset_t empty;
	int rc, err;

	if (nfd < 0)
		return -1;
	sigemptyset(&empty);
	/* signals are blocked outside ppoll, so none slips between checks;
	 * a stalled reader holds nothing but this ppoll */
	rc = ppoll(fl->pfd, (nfds_t)nfd, timeout < 0 ? NULL : &ts, &empty);
	err = errno;	/* sigtimedwait() sets it too */
	emitter_take_signal(em, fl->stops);
	if (*em->stop)
		return -1;
	if (rc < 0 && err == EINTR)	/* SIGHUP with --output: the next flush reopens */
		return 0;
	if (rc < 0) {
		errno = err;
		return emitter_fail(em, "cannot wait for input (ppoll)");
	}
	if (fl->pfd[nfd - 1].revents & (POLLERR | POLLHUP)) {
		em->write_failed = true;
		em->write_errno = EPIPE;
		return -1;
	}
	return backlog ? 0 : 1;
}

/* Whether slot i of the poll set has something to read (or an error, an
 * overrun among them); without a slot (-1): no. */
static bool ready(const struct follow *fl, int i)
{
	return i >= 0 && fl->pfd[i].revents & (POLLIN | POLLERR);
}

/* Expiry of dead flows, the pass for late names, the next refresh dumps,
 * and with --all-netns the next look for namespaces. */
static int timers_run(struct follow *fl)
{
	const struct emit_opts *o = fl->em->o;
	uint64_t now = clock_mono_ms();

	if (now >= fl->next_expire) {
		for (size_t i = 0; i < fl->nt; i++) {
			struct tracker_now tn = tracker_clock(fl->t[i], now);

			tracker_expire(fl->t[i]->trk, &tn);
		}
		fl->next_expire = now + EXPIRE_MS;
	}
	if (fl->names_pending && now >= fl->next_names) {
		fl->names_pending = false;
		fl->next_names = now + NAME_PASS_MS;
		for (size_t i = 0; i < fl->nt; i++)
			if (tracker_each(fl->t[i]->trk, late_names, fl->t[i]) < 0)
				return -1;
	}
	for (size_t i = 0; i < fl->nt; i++)
		if (o->interval_ms && !fl->t[i]->dumping && now >= refresh_due(fl->t[i]) &&
		    dump_begin(fl->t[i], DUMP_REFRESH) < 0)
			return -1;
	if (o->all_netns && now >= fl->next_scan) {
		fl->next_scan = now + (o->interval_ms ? o->interval_ms : SCAN_MS);
		return netns_rescan(fl);
	}
	return 0;
}

/* One round of the loop; 0 to go on, -1 to stop (see follow_run). */
static int follow_round(struct follow *fl)
{
	uint64_t now;
	bool backlog;
	int rc;

	if (flush_out(fl) < 0)
		return -1;
	backlog = output_pending(fl->em->out) > OUT_HIGH_WATER;
	rc = wait_ready(fl, backlog);
	if (rc <= 0)
		return rc;
	/* events first, in every table: they are what the kernel can drop;
	 * a queue that poll found empty has been read empty now */
	now = fl->round_ms = clock_mono_ms();
	for (size_t i = 0; i < fl->nt; i++) {
		if (!ready(fl, fl->t[i]->ev_pfd))
			fl->t[i]->drained_ms = now;
		else if (events_read(fl->t[i]) < 0)
			return -1;
	}
	for (size_t i = 0; i < fl->nt; i++)
		if (fl->t[i]->dumping && ready(fl, fl->t[i]->dump_pfd) && dump_pump(fl->t[i]) < 0)
			return -1;
	if (enrich_fd(fl->em->enr) >= 0 && names_take(fl) < 0)
		return -1;
	return timers_run(fl);
}

/* The tables to follow at the start, their event sockets, and the first
 * dump: one frame around the first dumps of them all. */
static int follow_start(struct follow *fl)
{
	struct emitter *em = fl->em;

	fl->multi = em->ns != NULL;
	if (!fl->multi && !table_add(fl, NULL))
		return -1;
	for (size_t i = 0; fl->multi && i < em->nns; i++)
		if (!table_add(fl, em->ns[i]))
			return -1;
	for (size_t i = 0; i < fl->nt; i++)
		if (events_open(fl->t[i]) < 0)
			return -1;
	/* records collect in the output's buffer, written once a round */
	writer_set_flush(em->w, false);
	fl->next_scan = clock_mono_ms() + (em->o->interval_ms ? em->o->interval_ms : SCAN_MS);
	if (!fl->multi)
		return dump_begin(fl->t[0], DUMP_SNAPSHOT);
	if (emitter_put_marker(em, FLOW_MARK_SNAPSHOT_BEGIN) < 0)
		return -1;
	fl->frame_left = fl->nt + 1;	/* + 1: none ends it before all began */
	for (size_t i = 0; i < fl->nt; i++) {
		fl->t[i]->framed = true;
		if (dump_begin(fl->t[i], DUMP_SNAPSHOT) < 0)
			return -1;
	}
	return frame_done(fl, 0);
}

int follow_run(struct emitter *em, const sigset_t *stops)
{
	struct follow fl = { .em = em, .stops = stops };

	netns_scanner_init(&fl.scan);
	/* late names come through late_names(); only a process is worth
	 * looking for again on every refresh dump */
	if (em->o->enrich.process)
		fl.want_flags |= TRACKED_PROCESS;
	if (follow_start(&fl) == 0)
		while (!*em->stop && !em->write_failed)
			if (follow_round(&fl) < 0)
				break;
	/* what the reader takes now; a stalled one does not hold the exit */
	if (!em->write_failed && !output_may_block(em->out))
		flush_out(&fl);
	for (size_t i = 0; i < fl.nt; i++)
		table_free(fl.t[i]);
	free(fl.t);
	free(fl.pfd);
	netns_scanner_release(&fl.scan);
	return em->failed ? -1 : 0;
}
