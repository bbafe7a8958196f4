/*
 * tracker.c - an id-keyed table: vector of entries, index of vector slots,
 * and the rules of a flow's life in the stream.
 *
 * The index holds position+1 (0 = empty) with linear probing; removal swaps
 * the last entry into the hole and shifts the probe run back, so there are
 * no index tombstones and no rehash storms under churn.  (Dead flows are
 * kept as entries for a while, by the rules below, not by the index.)
 *
 * The rules, from what the kernel does: conntrack inserts a flow in its
 * table before it queues the NEW event, and unlinks it before it queues the
 * DESTROY event; a dump skips flows that expired (and kills them, which
 * queues their DESTROY after the dump's buffer); a dump buffer read after
 * an event can be older than the event.  So:
 *
 * - A flow a refresh dump sees that we do not know is held PENDING, not
 *   written: its NEW event is on its way.  It is written as new from a
 *   later dump only if the event queue was seen empty GRACE_MS after we
 *   first saw it (then any NEW event would have been read).
 * - A written flow a refresh dump misses is MISSING, not destroyed: its
 *   DESTROY event is on its way.  The sweep writes its destroy only when
 *   the queue was seen empty GRACE_MS after it went missing and a later
 *   dump missed it too; a dump that sees it again makes it ALIVE.
 * - After a destroy (the kernel's, a sweep's, or the filters') the entry
 *   stays DEAD until nothing stale can name it: events queued before its
 *   death are read (the queue was seen empty since) and no dump that began
 *   before its death is still running.  Meanwhile destroys and updates for
 *   it are dropped, and so is data from a dump that began before it died.
 *   A NEW event, or a dump begun after its death, starts a new life.
 * - Data older than what was written (a TCP state earlier in the life, or
 *   smaller counters) is dropped, so no record takes a flow back in time; a
 *   snapshot frame, which must name every live flow, writes what was
 *   written before instead.
 * - A snapshot frame's end drops, silently, every flow it did not name,
 *   since readers drop them too.
 */
#include "tracker.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* How long the event queue must have been seen empty after a flow went
 * pending, missing or dead before the tracker acts on it: far above the
 * time between the kernel's table change and its event (microseconds),
 * short enough that lost events cost a reader no more than a round. */
#define GRACE_MS 500

struct tracker {
	struct tracked *v;
	size_t n, cap;
	uint32_t *idx;
	size_t mask;			/* index size - 1, a power of two */
};

static size_t slot_of(const struct tracker *t, uint32_t id)
{
	/* ids are already hashed by the kernel; mix anyway for old kernels */
	uint32_t h = id * 0x9e3779b1u;

	return (size_t)(h ^ (h >> 15)) & t->mask;
}

struct tracker *tracker_new(void)
{
	struct tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->mask = 1023;
	t->idx = calloc(t->mask + 1, sizeof(*t->idx));
	if (!t->idx) {
		free(t);
		return NULL;
	}
	return t;
}

void tracker_free(struct tracker *t)
{
	if (!t)
		return;
	free(t->v);
	free(t->idx);
	free(t);
}

size_t tracker_count(const struct tracker *t)
{
	return t->n;
}

/* conntrack ids are 32-bit hashes and two live flows can share one: the
 * original tuple, which a flow keeps all its life, tells them apart */
static bool same_flow(const struct tracked *e, const struct flow *f)
{
	return e->id == f->id && e->family == f->family && e->l4proto == f->l4proto &&
	       !memcmp(&e->orig, &f->orig, sizeof(e->orig)) && e->icmp_id == f->icmp_id;
}

static size_t find_slot(const struct tracker *t, const struct flow *f)
{
	size_t s = slot_of(t, f->id);

	while (t->idx[s] && !same_flow(&t->v[t->idx[s] - 1], f))
		s = (s + 1) & t->mask;
	return s;
}

/* The slot that points at vector position pos (which must be tracked). */
static size_t slot_of_pos(const struct tracker *t, size_t pos)
{
	size_t s = slot_of(t, t->v[pos].id);

	while (t->idx[s] != pos + 1)
		s = (s + 1) & t->mask;
	return s;
}

struct tracked *tracker_find(struct tracker *t, const struct flow *f)
{
	size_t s = find_slot(t, f);

	return t->idx[s] ? &t->v[t->idx[s] - 1] : NULL;
}

static int grow_index(struct tracker *t)
{
	size_t size = (t->mask + 1) * 2;
	uint32_t *idx = calloc(size, sizeof(*idx));

	if (!idx)
		return -1;
	free(t->idx);
	t->idx = idx;
	t->mask = size - 1;
	for (size_t i = 0; i < t->n; i++) {
		size_t s = slot_of(t, t->v[i].id);

		while (t->idx[s])
			s = (s + 1) & t->mask;
		t->idx[s] = (uint32_t)i + 1;
	}
	return 0;
}

/* What the kernel says about the flow changed. */
static bool kernel_differs(const struct tracked *e, const struct flow *f)
{
	if (f->state && f->state != e->state)
		return true;
	if (f->has & FLOW_HAS_STATUS && f->status != e->status)
		return true;
	return f->has & FLOW_HAS_COUNTERS &&
	       (f->orig_bytes != e->orig_bytes || f->reply_bytes != e->reply_bytes ||
		f->orig_packets != e->orig_packets || f->reply_packets != e->reply_packets);
}

bool tracker_settled(struct tracked *e, const struct flow *f, unsigned int want, uint32_t gen)
{
	if (e->life != TRACKED_ALIVE && e->life != TRACKED_MISSING)
		return false;
	if (kernel_differs(e, f) || (e->flags & want) != want)
		return false;
	e->gen = gen;
	e->life = TRACKED_ALIVE;
	return true;
}

static bool differs(const struct tracked *e, const struct flow *f)
{
	if (kernel_differs(e, f))
		return true;
	/* enrichment that arrived late is news too */
	if (f->process_name && !(e->flags & TRACKED_PROCESS))
		return true;
	if (f->src_domain && !(e->flags & TRACKED_SRC_NAME))
		return true;
	if (f->dst_domain && !(e->flags & TRACKED_DST_NAME))
		return true;
	return false;
}

/* Where a TCP state comes in a connection's life; -1 for none. */
static int tcp_rank(const char *state)
{
	static const char *const order[] = {
		"NONE", "SYN_SENT", "SYN_SENT2", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
		"CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE",
	};

	for (size_t i = 0; state && i < sizeof(order) / sizeof(order[0]); i++)
		if (!strcmp(state, order[i]))
			return i == 2 ? 1 : (int)i;	/* SYN_SENT2 is a kind of SYN_SENT */
	return -1;
}

/* Whether f is older than what was written for e.  Counters only grow.  A
 * TCP state only moves forward: a dump may be older or newer than the
 * events still queued, and events of one flow handled on two CPUs may be
 * queued in the other order (FIN_WAIT after LAST_ACK).  One way back is
 * real: the kernel reopens a closed connection in place on a new SYN
 * (after TIME_WAIT, or CLOSE by a reset), which only an event following an
 * event can show, as SYN_SENT. */
static bool stale(const struct tracked *e, const struct flow *f, bool from_event)
{
	int now, was;

	if (f->has & FLOW_HAS_COUNTERS && e->flags & TRACKED_COUNTERS &&
	    (f->orig_bytes < e->orig_bytes || f->reply_bytes < e->reply_bytes ||
	     f->orig_packets < e->orig_packets || f->reply_packets < e->reply_packets))
		return true;
	if (f->l4proto != IPPROTO_TCP || !f->state || !e->state || f->state == e->state)
		return false;
	now = tcp_rank(f->state);
	was = tcp_rank(e->state);
	if (from_event && !(e->flags & TRACKED_DUMPED) && now == tcp_rank("SYN_SENT") &&
	    was >= tcp_rank("TIME_WAIT"))
		return false;
	return now < was;
}

/* Bring stale data up to what was written, for a record that must be made. */
static void freshen(const struct tracked *e, struct flow *f)
{
	if (e->state && f->l4proto == IPPROTO_TCP)
		f->state = e->state;
	if (f->has & FLOW_HAS_COUNTERS) {
		f->orig_bytes = f->orig_bytes > e->orig_bytes ? f->orig_bytes : e->orig_bytes;
		f->orig_packets = f->orig_packets > e->orig_packets ? f->orig_packets : e->orig_packets;
		f->reply_bytes = f->reply_bytes > e->reply_bytes ? f->reply_bytes : e->reply_bytes;
		f->reply_packets = f->reply_packets > e->reply_packets ? f->reply_packets :
			e->reply_packets;
	}
}

static void record(struct tracked *e, const struct flow *f, bool from_event)
{
	if (f->state) {
		e->state = f->state;
		e->flags = (uint8_t)(from_event ? e->flags & ~TRACKED_DUMPED :
				     e->flags | TRACKED_DUMPED);
	}
	if (f->has & FLOW_HAS_STATUS)
		e->status = f->status;
	if (f->has & FLOW_HAS_COUNTERS) {
		e->flags |= TRACKED_COUNTERS;
		e->orig_bytes = f->orig_bytes;
		e->orig_packets = f->orig_packets;
		e->reply_bytes = f->reply_bytes;
		e->reply_packets = f->reply_packets;
	}
	if (f->process_name)
		e->flags |= TRACKED_PROCESS;
	if (f->has & FLOW_HAS_PID)
		e->pid = f->pid;
	if (f->has & FLOW_HAS_UID) {
		e->uid = f->uid;
		e->flags |= TRACKED_UID;
	}
	if (f->src_domain)
		e->flags |= TRACKED_SRC_NAME;
	if (f->dst_domain)
		e->flags |= TRACKED_DST_NAME;
}

/* A fresh entry for f (not tracked yet), with nothing recorded. */
static struct tracked *add_entry(struct tracker *t, const struct flow *f)
{
	struct tracked *e;
	size_t s;

	if ((t->n + 1) * 4 > (t->mask + 1) * 3 && grow_index(t))
		return NULL;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct tracked *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		t->v = v;
		t->cap = cap;
	}
	s = find_slot(t, f);
	e = &t->v[t->n];
	memset(e, 0, sizeof(*e));
	e->id = f->id;
	e->family = f->family;
	e->l4proto = f->l4proto;
	e->has_ports = !!(f->has & FLOW_HAS_PORTS);
	e->zone = f->zone;
	e->orig = f->orig;
	e->icmp_type = f->icmp_type;
	e->icmp_code = f->icmp_code;
	e->icmp_id = f->icmp_id;
	e->has_icmp = !!(f->has & FLOW_HAS_ICMP);
	t->idx[s] = (uint32_t)++t->n;
	return e;
}

static int put_alive(struct tracker *t, const struct flow *f, uint32_t gen, bool from_event)
{
	struct tracked *e = tracker_find(t, f);
	int changed = 1;

	if (!e) {
		if (!(e = add_entry(t, f)))
			return -1;
	} else if (e->life == TRACKED_ALIVE || e->life == TRACKED_MISSING) {
		changed = differs(e, f);
	} else {
		/* a first record: nothing of a former life carries over */
		e->state = NULL;
		e->flags = 0;
		e->pid = e->uid = e->status = 0;
		e->orig_bytes = e->orig_packets = e->reply_bytes = e->reply_packets = 0;
	}
	record(e, f, from_event);
	e->life = TRACKED_ALIVE;
	e->gen = gen;
	return changed;
}

int tracker_put(struct tracker *t, const struct flow *f, uint32_t gen)
{
	return put_alive(t, f, gen, false);
}

static void bury(struct tracked *e, enum tracked_death death, const struct tracker_now *now)
{
	e->life = TRACKED_DEAD;
	e->death = (uint8_t)death;
	e->gen = now->gen;
	e->since_ms = now->ms;
}

/* Whether the event queue was seen empty GRACE_MS after e's last change,
 * so that every event the kernel queued for it by then has been read. */
static bool events_caught_up(const struct tracked *e, const struct tracker_now *now)
{
	return now->drained_ms >= e->since_ms + GRACE_MS;
}

static void remove_pos(struct tracker *t, size_t pos);

/* A sighting of a flow we do not know (or no longer know). */
static int observe_unknown(struct tracker *t, struct flow *f, enum tracker_src src, bool match,
			   const struct tracker_now *now)
{
	struct tracked *e;

	if (src == TRACKER_EVENT && f->action == FLOW_DESTROY) {
		/* never written, so there is nothing to end; but data of the
		 * dump in progress, or an update event that overtook this one,
		 * must not bring it in now */
		if (!(e = add_entry(t, f)))
			return -1;
		record(e, f, src == TRACKER_EVENT);
		bury(e, TRACKED_BY_EVENT, now);
		return 0;
	}
	if (!match)
		return 0;
	if (src == TRACKER_REFRESH) {
		if (!(e = add_entry(t, f)))
			return -1;
		e->life = TRACKED_PENDING;
		e->gen = now->gen;
		e->since_ms = now->ms;
		return 0;
	}
	if (put_alive(t, f, now->gen, src == TRACKER_EVENT) < 0)
		return -1;
	/* the first record of a life, whatever event brought it */
	f->action = src == TRACKER_SNAPSHOT ? FLOW_SNAPSHOT : FLOW_NEW;
	return 1;
}

int tracker_observe(struct tracker *t, struct flow *f, enum tracker_src src, bool match,
		    const struct tracker_now *now)
{
	struct tracked *e = tracker_find(t, f);
	bool destroy = src == TRACKER_EVENT && f->action == FLOW_DESTROY;
	int changed;

	if (!e)
		return observe_unknown(t, f, src, match, now);
	tracker_owner(e, f);
	switch (e->life) {
	case TRACKED_DEAD: {
		bool reborn;

		if (destroy)
			return 0;
		if (src == TRACKER_EVENT)
			reborn = f->action == FLOW_NEW;
		else
			reborn = e->gen < now->gen;	/* the dump began after the death */
		/* a flow the filters dropped comes back when it matches again */
		if (e->death == TRACKED_BY_FILTER && match && !stale(e, f, src == TRACKER_EVENT))
			reborn = true;
		if (!reborn)
			return 0;
		remove_pos(t, (size_t)(e - t->v));
		return observe_unknown(t, f, src, match, now);
	}
	case TRACKED_PENDING:
		if (destroy) {
			bury(e, TRACKED_BY_EVENT, now);
			return 0;
		}
		if (!match) {
			remove_pos(t, (size_t)(e - t->v));
			return 0;
		}
		if (src == TRACKER_REFRESH && !events_caught_up(e, now)) {
			e->gen = now->gen;
			return 0;
		}
		/* its NEW event came, or never will: this is its first record */
		if (put_alive(t, f, now->gen, src == TRACKER_EVENT) < 0)
			return -1;
		f->action = src == TRACKER_SNAPSHOT ? FLOW_SNAPSHOT : FLOW_NEW;
		return 1;
	default:
		break;
	}
	/* alive or missing */
	if (destroy) {
		record(e, f, src == TRACKER_EVENT);
		bury(e, TRACKED_BY_EVENT, now);
		return 1;
	}
	if (stale(e, f, src == TRACKER_EVENT)) {
		if (src == TRACKER_EVENT)
			return 0;
		/* a dump saw it, so it is there, as it was */
		e->life = TRACKED_ALIVE;
		e->gen = now->gen;
		if (src != TRACKER_SNAPSHOT)
			return 0;
		freshen(e, f);
		f->action = FLOW_SNAPSHOT;
		return 1;
	}
	if (!match) {
		/* a frame that leaves it out drops it at its end */
		if (src == TRACKER_SNAPSHOT)
			return 0;
		bury(e, TRACKED_BY_FILTER, now);
		record(e, f, src == TRACKER_EVENT);
		f->action = FLOW_DESTROY;
		return 1;
	}
	changed = differs(e, f);
	record(e, f, src == TRACKER_EVENT);
	if (src == TRACKER_SNAPSHOT) {
		e->life = TRACKED_ALIVE;
		e->gen = now->gen;
		f->action = FLOW_SNAPSHOT;
		return 1;
	}
	if (src == TRACKER_REFRESH) {
		e->life = TRACKED_ALIVE;
		e->gen = now->gen;
	}
	if (!changed)
		return 0;
	/* an event that writes a record counts as a sighting: a snapshot
	 * frame's readers keep what it names */
	e->life = TRACKED_ALIVE;
	e->gen = now->gen;
	f->action = FLOW_UPDATE;
	return 1;
}

/* Forget the entry at vector position pos. */
static void remove_pos(struct tracker *t, size_t pos)
{
	size_t s = slot_of_pos(t, pos), next, last;

	/* backward-shift deletion keeps every probe run unbroken */
	t->idx[s] = 0;
	for (next = (s + 1) & t->mask; t->idx[next]; next = (next + 1) & t->mask) {
		size_t home = slot_of(t, t->v[t->idx[next] - 1].id);

		/* move it back if its home is not within (s, next] */
		if (((next - home) & t->mask) >= ((next - s) & t->mask)) {
			t->idx[s] = t->idx[next];
			t->idx[next] = 0;
			s = next;
		}
	}
	last = t->n - 1;
	if (pos != last) {
		t->v[pos] = t->v[last];
		t->idx[slot_of_pos(t, last)] = (uint32_t)pos + 1;
	}
	t->n--;
}

bool tracker_remove(struct tracker *t, const struct flow *f)
{
	size_t s = find_slot(t, f);

	if (!t->idx[s])
		return false;
	remove_pos(t, t->idx[s] - 1);
	return true;
}

void tracker_to_flow(const struct tracked *e, struct flow *f)
{
	memset(f, 0, sizeof(*f));
	f->id = e->id;
	f->family = e->family;
	f->l4proto = e->l4proto;
	f->orig = e->orig;
	f->zone = e->zone;
	f->icmp_type = e->icmp_type;
	f->icmp_code = e->icmp_code;
	f->icmp_id = e->icmp_id;
	f->has = FLOW_HAS_ID | FLOW_HAS_TUPLE | (e->has_ports ? FLOW_HAS_PORTS : 0) |
		 (e->has_icmp ? FLOW_HAS_ICMP : 0);
	tracker_owner(e, f);
}

void tracker_owner(const struct tracked *e, struct flow *f)
{
	if (e->pid && !(f->has & FLOW_HAS_PID)) {
		f->pid = e->pid;
		f->has |= FLOW_HAS_PID;
	}
	if (e->flags & TRACKED_UID && !(f->has & FLOW_HAS_UID)) {
		f->uid = e->uid;
		f->has |= FLOW_HAS_UID;
	}
}

int tracker_sweep(struct tracker *t, enum tracker_src src, const struct tracker_now *now,
		  int (*destroy)(const struct tracked *e, void *data), void *data)
{
	size_t i = 0;

	while (i < t->n) {
		struct tracked *e = &t->v[i];

		if (e->gen >= now->gen || e->life == TRACKED_DEAD) {
			i++;
			continue;
		}
		if (e->life == TRACKED_PENDING) {
			/* gone before its first record: nothing to say */
			remove_pos(t, i);
			continue;
		}
		if (src == TRACKER_SNAPSHOT) {
			bury(e, TRACKED_BY_SWEEP, now);
		} else if (e->life == TRACKED_ALIVE) {
			e->life = TRACKED_MISSING;
			e->since_ms = now->ms;
		} else if (events_caught_up(e, now)) {
			/* missed twice, and no DESTROY event came: one was lost */
			if (destroy(e, data) < 0)
				return -1;
			bury(e, TRACKED_BY_SWEEP, now);
		}
		i++;
	}
	return 0;
}

void tracker_expire(struct tracker *t, const struct tracker_now *now)
{
	size_t i = 0;

	while (i < t->n) {
		const struct tracked *e = &t->v[i];

		/* the last entry moves into slot i: look at i again */
		if (e->life == TRACKED_DEAD && (e->gen < now->gen || !now->dumping) &&
		    events_caught_up(e, now))
			remove_pos(t, i);
		else
			i++;
	}
}

int tracker_each(struct tracker *t, int (*fn)(struct tracked *e, void *data), void *data)
{
	for (size_t i = 0; i < t->n; i++)
		if ((t->v[i].life == TRACKED_ALIVE || t->v[i].life == TRACKED_MISSING) &&
		    fn(&t->v[i], data) < 0)
			return -1;
	return 0;
}
