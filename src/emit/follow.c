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
#include <string.h>
#include <time.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include "clock.h"
#include "notice.h"
#include "output.h"
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

enum dump_kind { DUMP_SNAPSHOT, DUMP_REFRESH };

struct follow {
	struct emitter *em;
	const sigset_t *stops;
	unsigned int want_flags;	/* TRACKED_* that enrichment may still add */
	uint32_t gen;			/* generation of the last dump begun */
	/* the dump in progress, if any */
	bool dumping;
	enum dump_kind kind;
	int fam[2], nfam, fam_next;	/* its requests, and the next to send */
	struct ctsource_dump_filter df;
	size_t dump_seen;		/* flows the kernel returned (before filtering) */
	bool resync_pending;		/* an overrun came during a dump */
	bool hinted_empty;
	uint64_t dump_done_ms;		/* when the last dump ended */
	uint64_t drained_ms;		/* when the event queue was last seen empty */
	/* timers */
	uint64_t next_names, next_expire;
	bool names_pending;		/* a pass over the table for late names */
};

/* --- flows ---------------------------------------------------------------- */

/* What the tracker needs to know of the loop's progress. */
static struct tracker_now tracker_clock(const struct follow *fl)
{
	return (struct tracker_now){ .gen = fl->gen, .dumping = fl->dumping,
				     .ms = clock_mono_ms(), .drained_ms = fl->drained_ms };
}

/* Let the tracker judge a sighting, and write what it decides. */
static int observe(struct follow *fl, struct flow *f, enum tracker_src src, bool match)
{
	struct tracker_now now = tracker_clock(fl);
	int rc = tracker_observe(fl->em->trk, f, src, match, &now);

	if (rc < 0)
		return emitter_fail(fl->em, "cannot keep track of flows");
	return rc == 0 ? 0 : emitter_put_record(fl->em, f);
}

static int write_destroy(const struct tracked *e, void *data)
{
	struct follow *fl = data;
	struct flow f;

	tracker_to_flow(e, &f);
	f.action = FLOW_DESTROY;
	f.ts_ns = flow_now_ns();
	enrich_flow(fl->em->enr, &f);
	return emitter_put_record(fl->em, &f);
}

/* Events and dumps both go through tracker_observe(), which alone decides
 * what the stream says of a flow (see tracker.c); flows without an id (old
 * kernels) cannot be tracked and are passed on as the kernel tells them. */
static int on_event(struct flow *f, void *data)
{
	struct follow *fl = data;
	struct emitter *em = fl->em;
	bool match = filter_match(&em->o->filter, f);
	struct tracked *e;

	if (!(f->has & FLOW_HAS_ID)) {
		if (!match)
			return 0;
		enrich_flow(em->enr, f);
		return emitter_put_record(em, f);
	}
	e = tracker_find(em->trk, f);
	/* the socket may be gone by now: keep the owner we found before */
	if (e)
		tracker_owner(e, f);
	if (match || e)
		enrich_flow(em->enr, f);
	return observe(fl, f, TRACKER_EVENT, match);
}

static int on_dump(struct flow *f, void *data)
{
	struct follow *fl = data;
	struct emitter *em = fl->em;
	bool match = filter_match(&em->o->filter, f);
	struct tracked *e;

	fl->dump_seen++;
	if (!(f->has & FLOW_HAS_ID)) {
		if (!match || fl->kind != DUMP_SNAPSHOT)
			return 0;
		enrich_flow(em->enr, f);
		return emitter_put_record(em, f);
	}
	e = tracker_find(em->trk, f);
	if (!e && !match)
		return 0;
	/* most flows are as they were: skip their enrichment */
	if (e && fl->kind == DUMP_REFRESH && tracker_settled(e, f, fl->want_flags, fl->gen))
		return 0;
	if (e)
		tracker_owner(e, f);
	enrich_flow(em->enr, f);
	return observe(fl, f, fl->kind == DUMP_SNAPSHOT ? TRACKER_SNAPSHOT : TRACKER_REFRESH,
		       match);
}

/* --- dumps ---------------------------------------------------------------- */

static int dump_step(struct follow *fl);

static int dump_begin(struct follow *fl, enum dump_kind kind)
{
	fl->dumping = true;
	fl->kind = kind;
	fl->nfam = emitter_dump_plan(fl->em, fl->fam, &fl->df);
	fl->fam_next = 0;
	fl->dump_seen = 0;
	fl->gen++;
	enrich_scan_begin(fl->em->enr);
	if (kind == DUMP_SNAPSHOT && emitter_put_marker(fl->em, FLOW_MARK_SNAPSHOT_BEGIN) < 0)
		return -1;
	return dump_step(fl);
}

/* All requests answered: settle the flows the dump did not see. */
static int dump_end(struct follow *fl)
{
	struct tracker_now now;

	fl->dumping = false;
	fl->dump_done_ms = clock_mono_ms();
	now = tracker_clock(fl);
	if (fl->kind == DUMP_SNAPSHOT) {
		/* readers drop what the frame did not contain; so do we */
		if (tracker_sweep(fl->em->trk, TRACKER_SNAPSHOT, &now, write_destroy, fl) < 0 ||
		    emitter_put_marker(fl->em, FLOW_MARK_SNAPSHOT_END) < 0)
			return -1;
	} else if (tracker_sweep(fl->em->trk, TRACKER_REFRESH, &now, write_destroy, fl) < 0) {
		return -1;
	}
	if (fl->dump_seen == 0 && !fl->hinted_empty) {
		fl->hinted_empty = true;
		emitter_hint_empty();
	}
	if (fl->resync_pending) {
		fl->resync_pending = false;
		return dump_begin(fl, DUMP_SNAPSHOT);
	}
	return 0;
}

/* Ask for the next family's dump, or end the dump when all are done. */
static int dump_step(struct follow *fl)
{
	if (fl->fam_next == fl->nfam)
		return dump_end(fl);
	if (ctsource_dump_start(fl->em->src, fl->fam[fl->fam_next++], &fl->df) < 0)
		return emitter_fail(fl->em, "cannot ask for the connection tracking table");
	return 0;
}

/* A few dump buffers, then back to the events; fewer when the reader lags,
 * so the output buffer (which keeps its largest size) stays near the
 * high-water mark. */
static int dump_pump(struct follow *fl)
{
	for (int i = 0; i < DUMP_READS && fl->dumping &&
	     output_pending(fl->em->out) <= OUT_HIGH_WATER; i++) {
		int rc = ctsource_dump_read(fl->em->src, on_dump, fl);

		if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (rc < 0)
			return emitter_fail(fl->em, "cannot read the connection tracking table");
		if (rc == 0 && dump_step(fl) < 0)
			return -1;
	}
	return 0;
}

/* --- events --------------------------------------------------------------- */

static int events_open(struct follow *fl)
{
	const struct emit_opts *o = fl->em->o;
	struct nfct_filter *kf;
	size_t granted = 0;

	if (ctsource_events_open(fl->em->src, o->bufsize, &granted) < 0)
		return emitter_fail(fl->em, "cannot subscribe to connection tracking events");
	if (o->verbose)
		notice("event socket receive buffer %zu bytes", granted);
	kf = o->kernel_filter ? filter_kernel_events(&o->filter) : NULL;
	if (kf) {
		if (ctsource_events_filter(fl->em->src, kf) < 0 && o->verbose)
			notice("kernel event filter not attached: %s", strerror(errno));
		nfct_filter_destroy(kf);
	}
	return 0;
}

/* Events first: they are the ones the kernel can drop.  The tracker waits
 * for the queue to be read empty before it takes a dump's word that a flow
 * came or went without an event.  Lost events: an overrun marker, then a
 * framed resync (after the dump in progress, if any). */
static int events_read(struct follow *fl)
{
	struct emitter *em = fl->em;
	uint64_t now = clock_mono_ms();

	if (ctsource_event_read(em->src, on_event, fl) >= 0) {
		if (ctsource_events_drained(em->src))
			fl->drained_ms = now;
		return 0;
	}
	if (errno != ENOBUFS)
		return emitter_fail(em, "cannot read connection tracking events");
	if (em->o->verbose)
		notice("event overrun, resynchronising");
	if (emitter_put_marker(em, FLOW_MARK_OVERRUN) < 0)
		return -1;
	if (fl->dumping) {
		fl->resync_pending = true;
		return 0;
	}
	return dump_begin(fl, DUMP_SNAPSHOT);
}

/* --- late names ----------------------------------------------------------- */

/* Names that arrived late become update records for the flows still alive. */
static int late_names(struct tracked *e, void *data)
{
	struct follow *fl = data;
	struct flow f;

	/* only flows alive in the stream get records */
	if ((e->life != TRACKED_ALIVE && e->life != TRACKED_MISSING) ||
	    (e->flags & (TRACKED_SRC_NAME | TRACKED_DST_NAME)) ==
	    (TRACKED_SRC_NAME | TRACKED_DST_NAME))
		return 0;
	tracker_to_flow(e, &f);
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
	enrich_flow(fl->em->enr, &f);
	return emitter_put_record(fl->em, &f);
}

/* A flow that waited for a name that has arrived: an update if the kernel
 * still has it.  Costs one look-up per waiting flow, not a pass over the
 * table. */
static int late_flow(const struct flow *key, void *data)
{
	struct follow *fl = data;
	struct tracked *e = tracker_find(fl->em->trk, key);

	return e ? late_names(e, fl) : 0;
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

/* --- the loop ------------------------------------------------------------- */

/* When the next refresh dump is due: the interval runs from the end of
 * the last dump, so a slow dump of a big table never runs back to back. */
static uint64_t refresh_due(const struct follow *fl)
{
	return fl->dump_done_ms + fl->em->o->interval_ms;
}

/* How long ppoll may sleep: until the next timer, or -1 for ever. */
static int poll_timeout(const struct follow *fl)
{
	uint64_t now = clock_mono_ms(), due = UINT64_MAX;
	int t = enrich_timeout_ms(fl->em->enr);	/* a query given up, a retry */

	if (fl->em->o->interval_ms && !fl->dumping)
		due = refresh_due(fl);
	if (fl->names_pending && fl->next_names < due)
		due = fl->next_names;
	if (due != UINT64_MAX) {
		int d = due <= now ? 0 : due - now > INT32_MAX ? INT32_MAX : (int)(due - now);

		t = t < 0 || d < t ? d : t;
	}
	return t;
}

/* The descriptors to wait on; the output's comes last.  A reader that does
 * not keep up (backlog): wait for it, and only for it. */
static int poll_set(const struct follow *fl, struct pollfd *pfd, bool backlog)
{
	struct emitter *em = fl->em;
	int n = 0;

	if (!backlog) {
		pfd[n++] = (struct pollfd){ ctsource_event_fd(em->src), POLLIN, 0 };
		if (fl->dumping)
			pfd[n++] = (struct pollfd){ ctsource_dump_fd(em->src), POLLIN, 0 };
		if (enrich_fd(em->enr) >= 0)
			pfd[n++] = (struct pollfd){ enrich_fd(em->enr), POLLIN, 0 };
	}
	/* a reader that went away shows as POLLERR on our end of the pipe,
	 * so a quiet table does not keep us running for nobody */
	pfd[n++] = (struct pollfd){ output_fd(em->out),
				    output_pending(em->out) ? POLLOUT : 0, 0 };
	return n;
}

/* Wait for something to do.  1: go on with the round, 0: start the next
 * round (a signal, or only the reader was waited for), -1: stop. */
static int wait_ready(struct follow *fl, bool backlog)
{
	struct emitter *em = fl->em;
	struct pollfd pfd[4];
	int nfd = poll_set(fl, pfd, backlog);
	int timeout = backlog ? -1 : poll_timeout(fl);
	struct timespec ts = { timeout / 1000, (long)(timeout % 1000) * 1000000 };
	sigset_t empty;
	int rc, err;

	sigemptyset(&empty);
	/* signals are blocked outside ppoll, so none slips between checks;
	 * a stalled reader holds nothing but this ppoll */
	rc = ppoll(pfd, (nfds_t)nfd, timeout < 0 ? NULL : &ts, &empty);
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
	if (pfd[nfd - 1].revents & (POLLERR | POLLHUP)) {
		em->write_failed = true;
		em->write_errno = EPIPE;
		return -1;
	}
	return backlog ? 0 : 1;
}

/* Expiry of dead flows, the pass for late names, the next refresh dump. */
static int timers_run(struct follow *fl)
{
	uint64_t now = clock_mono_ms();

	if (now >= fl->next_expire) {
		struct tracker_now tn = tracker_clock(fl);

		tracker_expire(fl->em->trk, &tn);
		fl->next_expire = now + EXPIRE_MS;
	}
	if (fl->names_pending && now >= fl->next_names) {
		fl->names_pending = false;
		fl->next_names = now + NAME_PASS_MS;
		if (tracker_each(fl->em->trk, late_names, fl) < 0)
			return -1;
	}
	if (fl->em->o->interval_ms && !fl->dumping && now >= refresh_due(fl))
		return dump_begin(fl, DUMP_REFRESH);
	return 0;
}

/* One round of the loop; 0 to go on, -1 to stop (see follow_run). */
static int follow_round(struct follow *fl)
{
	bool backlog;
	int rc;

	if (flush_out(fl) < 0)
		return -1;
	backlog = output_pending(fl->em->out) > OUT_HIGH_WATER;
	rc = wait_ready(fl, backlog);
	if (rc <= 0)
		return rc;
	if (events_read(fl) < 0)
		return -1;
	if (fl->dumping && dump_pump(fl) < 0)
		return -1;
	if (enrich_fd(fl->em->enr) >= 0 && names_take(fl) < 0)
		return -1;
	return timers_run(fl);
}

int follow_run(struct emitter *em, const sigset_t *stops)
{
	struct follow fl = { .em = em, .stops = stops };

	/* late names come through late_names(); only a process is worth
	 * looking for again on every refresh dump */
	if (em->o->enrich.process)
		fl.want_flags |= TRACKED_PROCESS;
	if (events_open(&fl) < 0)
		return -1;
	/* records collect in the output's buffer, written once a round */
	writer_set_flush(em->w, false);
	if (dump_begin(&fl, DUMP_SNAPSHOT) < 0)
		return -1;
	while (!*em->stop && !em->write_failed)
		if (follow_round(&fl) < 0)
			break;
	/* what the reader takes now; a stalled one does not hold the exit */
	if (!em->write_failed && !output_may_block(em->out))
		flush_out(&fl);
	return em->failed ? -1 : 0;
}
