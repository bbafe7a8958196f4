/*
 * tracker.c - an id-keyed table: vector of entries, index of vector slots,
 * and the rules of a flow's life in the stream.
 *
 * The index holds position+1 (0 = empty) with linear probing; removal swaps
 * the last entry into the hole and shifts the probe run back, so there are
 * no index tombstones and no rehash storms under churn.  (Dead flows are
 * kept as entries for a while, by the rules below, not by the index.)  It
 * is its own and not lib's htab: a 4-byte slot here, 16 there (htab keeps
 * each value's hash), which would add 20-40 bytes to every flow's 48; and
 * moving the last entry into a removed one's place is one store here, a
 * delete and a put there.
 *
 * An entry keeps what tells its flow apart (id, family, protocol, original
 * tuple, ICMP id) and what a change is measured against (state, status,
 * counters), and what records made without the kernel need (owner, zone):
 * 48 bytes.  IPv4 addresses are in the entry; an IPv6 pair (32 bytes) sits
 * in a table beside it, so IPv4 flows do not pay for it.  Counters (32
 * bytes) sit in a vector parallel to the entries, made when the first flow
 * with counters comes: without accounting it does not exist.
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

#include "vec.h"

/* How long the event queue must have been seen empty after a flow went
 * pending, missing or dead before the tracker acts on it: far above the
 * time between the kernel's table change and its event (microseconds),
 * short enough that lost events cost a reader no more than a round. */
#define GRACE_MS 500

enum {
	TRACKER_HAS_PORTS = 1 << 0,
	TRACKER_HAS_ICMP = 1 << 1,
};

/* A flow's counters, where the kernel sends them. */
struct counters {
	uint64_t orig_bytes, orig_packets, reply_bytes, reply_packets;
};

/* An IPv6 flow's original source and destination; a free one holds the
 * next free one's place + 1 in src.w[0]. */
struct addr6 {
	union flow_addr src, dst;
};

struct tracker {
	struct tracked *v;
	struct counters *ctr;		/* parallel to v, or NULL: no counters yet */
	size_t n, cap;
	uint32_t *idx;			/* slots: see slot_of() */
	size_t mask;			/* index size - 1, a power of two */
	unsigned int pos_bits;		/* log2(index size): a slot's low bits */
	struct addr6 *a6;		/* IPv6 pairs, entries point in */
	uint32_t n6;			/* pairs handed out (free ones included) */
	size_t cap6;
	uint32_t free6;			/* first free pair + 1, or 0 */
	size_t ndead;			/* entries TRACKED_DEAD: expiry's work */
};

/* State names are flow_state_name()'s static strings, a few dozen in all:
 * each gets a byte, the same in every tracker (one thread uses them). */
#define MAX_STATES 64
static const char *state_names[MAX_STATES];	/* [0]: no state */
static unsigned int n_states = 1;

static uint8_t state_index(const char *name)
{
	unsigned int i;

	if (!name)
		return 0;
	for (i = 1; i < n_states; i++)
		if (state_names[i] == name)
			return (uint8_t)i;
	/* the same name at another address (a copy) is the same state */
	for (i = 1; i < n_states; i++)
		if (!strcmp(state_names[i], name))
			return (uint8_t)i;
	if (n_states == MAX_STATES)
		return 0;	/* not with flow.c's tables: then "no state" */
	state_names[n_states] = name;
	return (uint8_t)n_states++;
}

static size_t slot_of(const struct tracker *t, uint32_t id)
{
	/* ids are already hashed by the kernel; mix anyway for old kernels.
	 * Not lib's hash_u64: its full avalanche took 9% more instructions
	 * over puts, finds and removes of 100,000 flows, and the id needs
	 * none. */
	uint32_t h = id * 0x9e3779b1u;

	return (size_t)(h ^ (h >> 15)) & t->mask;
}

/* A slot holds a vector position + 1 in its low pos_bits bits (positions
 * stay below the index size) and, above them, a tag of the id: a probe
 * past another flow's slot compares tags in the index and reads that
 * flow's entry only when they agree.  Without the tags a new flow's probe
 * read a random entry per occupied slot, a cache miss each: 15 % of the
 * emitter's time through a million-flow snapshot.  The tag has 11 bits at
 * a million flows, fewer at more: then entries are read more often, and
 * still rightly.  Another multiplier than slot_of()'s, whose low bits
 * chose the slot. */
static uint32_t tag_of(const struct tracker *t, uint32_t id)
{
	return t->pos_bits >= 32 ? 0 : (id * 0x85ebca77u) >> t->pos_bits << t->pos_bits;
}

static uint32_t pos_mask(const struct tracker *t)
{
	return t->pos_bits >= 32 ? UINT32_MAX : (1u << t->pos_bits) - 1;
}

/* The vector position of a used slot's value. */
static size_t pos_in(const struct tracker *t, uint32_t slot)
{
	return (slot & pos_mask(t)) - 1;
}

struct tracker *tracker_new(void)
{
	struct tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->mask = 1023;
	t->pos_bits = 10;
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
	free(t->ctr);
	free(t->idx);
	free(t->a6);
	free(t);
}

size_t tracker_count(const struct tracker *t)
{
	return t->n;
}

size_t tracker_bytes(const struct tracker *t)
{
	return sizeof(*t) + t->cap * sizeof(*t->v) + (t->ctr ? t->cap * sizeof(*t->ctr) : 0) +
	       (t->mask + 1) * sizeof(*t->idx) + t->cap6 * sizeof(*t->a6);
}

static bool is_v6(const struct tracked *e)
{
	return e->family == AF_INET6;
}

/* conntrack ids are 32-bit hashes and two live flows can share one: the
 * original tuple, which a flow keeps all its life, tells them apart */
static bool same_flow(const struct tracker *t, const struct tracked *e, const struct flow *f)
{
	if (e->id != f->id || e->family != f->family || e->l4proto != f->l4proto ||
	    e->sport != f->orig.sport || e->dport != f->orig.dport || e->icmp_id != f->icmp_id)
		return false;
	if (is_v6(e))
		return !memcmp(&t->a6[e->addr[0]].src, &f->orig.src, sizeof(f->orig.src)) &&
		       !memcmp(&t->a6[e->addr[0]].dst, &f->orig.dst, sizeof(f->orig.dst));
	return e->addr[0] == f->orig.src.w[0] && e->addr[1] == f->orig.dst.w[0];
}

static size_t find_slot(const struct tracker *t, const struct flow *f)
{
	size_t s = slot_of(t, f->id);
	uint32_t tag = tag_of(t, f->id), tags = ~pos_mask(t);

	while (t->idx[s] && ((t->idx[s] & tags) != tag ||
			     !same_flow(t, &t->v[pos_in(t, t->idx[s])], f)))
		s = (s + 1) & t->mask;
	return s;
}

/* The slot that points at vector position pos (which must be tracked). */
static size_t slot_of_pos(const struct tracker *t, size_t pos)
{
	size_t s = slot_of(t, t->v[pos].id);

	while ((t->idx[s] & pos_mask(t)) != pos + 1)
		s = (s + 1) & t->mask;
	return s;
}

/* A place for an IPv6 pair; -1 when out of memory. */
static int64_t addr6_take(struct tracker *t)
{
	struct addr6 *a;
	uint32_t i;

	if (t->free6) {
		i = t->free6 - 1;
		t->free6 = t->a6[i].src.w[0];
		return i;
	}
	a = vec_room(t->a6, &t->cap6, (size_t)t->n6 + 1, sizeof(*a), 256);
	if (!a)
		return -1;
	t->a6 = a;
	return t->n6++;
}

static void addr6_give_back(struct tracker *t, uint32_t i)
{
	t->a6[i].src.w[0] = t->free6;
	t->free6 = i + 1;
}

/* The counters recorded for entry e, or NULL when none are kept. */
static struct counters *counters_of(const struct tracker *t, const struct tracked *e)
{
	return t->ctr && e->flags & TRACKED_COUNTERS ? &t->ctr[e - t->v] : NULL;
}

/* The counters vector, made at the first flow with counters. */
static int counters_start(struct tracker *t)
{
	if (t->ctr || !t->cap)
		return 0;
	t->ctr = calloc(t->cap, sizeof(*t->ctr));
	return t->ctr ? 0 : -1;
}

struct tracked *tracker_find(struct tracker *t, const struct flow *f)
{
	size_t s = find_slot(t, f);

	return t->idx[s] ? &t->v[pos_in(t, t->idx[s])] : NULL;
}

/* The index anew with 2^bits slots. */
static int resize_index(struct tracker *t, unsigned int bits)
{
	size_t size = (size_t)1 << bits;
	uint32_t *idx = calloc(size, sizeof(*idx));

	if (!idx)
		return -1;
	free(t->idx);
	t->idx = idx;
	t->mask = size - 1;
	t->pos_bits = bits;
	for (size_t i = 0; i < t->n; i++) {
		size_t s = slot_of(t, t->v[i].id);

		while (t->idx[s])
			s = (s + 1) & t->mask;
		t->idx[s] = tag_of(t, t->v[i].id) | ((uint32_t)i + 1);
	}
	return 0;
}

static int grow_index(struct tracker *t)
{
	return resize_index(t, t->pos_bits + 1);
}

/* What the kernel says about the flow changed. */
static bool kernel_differs(const struct tracker *t, const struct tracked *e,
			   const struct flow *f)
{
	const struct counters *c;

	if (f->state && state_index(f->state) != e->state)
		return true;
	if (f->has & FLOW_HAS_STATUS && f->status != e->status)
		return true;
	if (!(f->has & FLOW_HAS_COUNTERS))
		return false;
	c = counters_of(t, e);
	if (!c)		/* none written: as if they were zero */
		return f->orig_bytes || f->reply_bytes || f->orig_packets || f->reply_packets;
	return f->orig_bytes != c->orig_bytes || f->reply_bytes != c->reply_bytes ||
	       f->orig_packets != c->orig_packets || f->reply_packets != c->reply_packets;
}

bool tracker_settled(struct tracker *t, struct tracked *e, const struct flow *f,
		     unsigned int want, uint32_t gen)
{
	if (e->life != TRACKED_ALIVE && e->life != TRACKED_MISSING)
		return false;
	if (kernel_differs(t, e, f) || (e->flags & want) != want)
		return false;
	e->gen = gen;
	e->life = TRACKED_ALIVE;
	return true;
}

static bool differs(const struct tracker *t, const struct tracked *e, const struct flow *f)
{
	if (kernel_differs(t, e, f))
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
static bool stale(const struct tracker *t, const struct tracked *e, const struct flow *f,
		  bool from_event)
{
	const struct counters *c = counters_of(t, e);
	int now, was;

	if (f->has & FLOW_HAS_COUNTERS && c &&
	    (f->orig_bytes < c->orig_bytes || f->reply_bytes < c->reply_bytes ||
	     f->orig_packets < c->orig_packets || f->reply_packets < c->reply_packets))
		return true;
	if (f->l4proto != IPPROTO_TCP || !f->state || !e->state ||
	    state_index(f->state) == e->state)
		return false;
	now = tcp_rank(f->state);
	was = tcp_rank(state_names[e->state]);
	if (from_event && !(e->flags & TRACKED_DUMPED) && now == tcp_rank("SYN_SENT") &&
	    was >= tcp_rank("TIME_WAIT"))
		return false;
	return now < was;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Bring stale data up to what was written, for a record that must be made. */
static void freshen(const struct tracker *t, const struct tracked *e, struct flow *f)
{
	const struct counters *c = counters_of(t, e);

	if (e->state && f->l4proto == IPPROTO_TCP)
		f->state = state_names[e->state];
	if (f->has & FLOW_HAS_COUNTERS && c) {
		f->orig_bytes = max_u64(f->orig_bytes, c->orig_bytes);
		f->orig_packets = max_u64(f->orig_packets, c->orig_packets);
		f->reply_bytes = max_u64(f->reply_bytes, c->reply_bytes);
		f->reply_packets = max_u64(f->reply_packets, c->reply_packets);
	}
}

/* Record what is written of f in e.  -1 when out of memory (the counters
 * vector, at the first flow with counters). */
static int record(struct tracker *t, struct tracked *e, const struct flow *f, bool from_event)
{
	if (f->state) {
		e->state = state_index(f->state);
		e->flags = (uint8_t)(from_event ? e->flags & ~TRACKED_DUMPED :
				     e->flags | TRACKED_DUMPED);
	}
	if (f->has & FLOW_HAS_STATUS)
		e->status = f->status;
	if (f->has & FLOW_HAS_COUNTERS) {
		struct counters *c;

		if (counters_start(t) < 0)
			return -1;
		c = &t->ctr[e - t->v];
		e->flags |= TRACKED_COUNTERS;
		c->orig_bytes = f->orig_bytes;
		c->orig_packets = f->orig_packets;
		c->reply_bytes = f->reply_bytes;
		c->reply_packets = f->reply_packets;
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
	return 0;
}

/* Room in the vector (and the counters) for cap entries. */
static int reserve_cap(struct tracker *t, size_t cap)
{
	struct tracked *v;

	if (t->ctr) {
		struct counters *c = realloc(t->ctr, cap * sizeof(*c));

		if (!c)
			return -1;
		t->ctr = c;
	}
	if (!(v = realloc(t->v, cap * sizeof(*v))))
		return -1;
	t->v = v;
	t->cap = cap;
	return 0;
}

/* Room for one more entry. */
static int reserve(struct tracker *t)
{
	return t->n < t->cap ? 0 : reserve_cap(t, t->cap ? t->cap * 2 : 1024);
}

int tracker_reserve(struct tracker *t, size_t n)
{
	unsigned int bits = t->pos_bits;

	/* the load add_entry() keeps: at most 3/4; positions must fit a slot */
	while (((size_t)1 << bits) * 3 < (n + 1) * 4 && bits < 31)
		bits++;
	if (bits > t->pos_bits && resize_index(t, bits) < 0)
		return -1;
	return n > t->cap ? reserve_cap(t, n) : 0;
}

/* A fresh entry for f (not tracked yet), with nothing recorded. */
static struct tracked *add_entry(struct tracker *t, const struct flow *f)
{
	struct tracked *e;
	int64_t a6 = 0;
	size_t s;

	if ((t->n + 1) * 4 > (t->mask + 1) * 3 && grow_index(t))
		return NULL;
	if (reserve(t) < 0 || (f->family == AF_INET6 && (a6 = addr6_take(t)) < 0))
		return NULL;
	s = find_slot(t, f);
	e = &t->v[t->n];
	memset(e, 0, sizeof(*e));
	if (t->ctr)
		memset(&t->ctr[t->n], 0, sizeof(*t->ctr));
	e->id = f->id;
	e->family = f->family;
	e->l4proto = f->l4proto;
	e->has = (f->has & FLOW_HAS_PORTS ? TRACKER_HAS_PORTS : 0) |
		 (f->has & FLOW_HAS_ICMP ? TRACKER_HAS_ICMP : 0);
	e->zone = f->zone;
	e->sport = f->orig.sport;
	e->dport = f->orig.dport;
	if (is_v6(e)) {
		e->addr[0] = (uint32_t)a6;
		t->a6[a6].src = f->orig.src;
		t->a6[a6].dst = f->orig.dst;
	} else {
		e->addr[0] = f->orig.src.w[0];
		e->addr[1] = f->orig.dst.w[0];
	}
	e->icmp_type = f->icmp_type;
	e->icmp_code = f->icmp_code;
	e->icmp_id = f->icmp_id;
	t->idx[s] = tag_of(t, f->id) | (uint32_t)++t->n;
	return e;
}

/* Record f as written and alive; e is its entry, or NULL for a new one. */
static int put_alive(struct tracker *t, struct tracked *e, const struct flow *f, uint32_t gen,
		     bool from_event)
{
	int changed = 1;

	if (!e) {
		if (!(e = add_entry(t, f)))
			return -1;
	} else if (e->life == TRACKED_ALIVE || e->life == TRACKED_MISSING) {
		changed = differs(t, e, f);
	} else {
		/* a first record: nothing of a former life carries over */
		if (e->life == TRACKED_DEAD)
			t->ndead--;
		e->state = 0;
		e->flags = 0;
		e->pid = e->uid = e->status = 0;
	}
	if (record(t, e, f, from_event) < 0)
		return -1;
	e->life = TRACKED_ALIVE;
	e->gen = gen;
	return changed;
}

int tracker_put(struct tracker *t, const struct flow *f, uint32_t gen)
{
	return put_alive(t, tracker_find(t, f), f, gen, false);
}

static void bury(struct tracker *t, struct tracked *e, enum tracked_death death,
		 const struct tracker_now *now)
{
	if (e->life != TRACKED_DEAD)
		t->ndead++;
	e->life = TRACKED_DEAD;
	e->death = (uint8_t)death;
	e->gen = now->gen;
	e->since_ms = (uint32_t)now->ms;
}

/* Whether the event queue was seen empty GRACE_MS after e's last change,
 * so that every event the kernel queued for it by then has been read. */
static bool events_caught_up(const struct tracked *e, const struct tracker_now *now)
{
	return (int32_t)((uint32_t)now->drained_ms - e->since_ms) >= GRACE_MS;
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
		if (!(e = add_entry(t, f)) || record(t, e, f, src == TRACKER_EVENT) < 0)
			return -1;
		bury(t, e, TRACKED_BY_EVENT, now);
		return 0;
	}
	if (!match)
		return 0;
	if (src == TRACKER_REFRESH) {
		if (!(e = add_entry(t, f)))
			return -1;
		e->life = TRACKED_PENDING;
		e->gen = now->gen;
		e->since_ms = (uint32_t)now->ms;
		return 0;
	}
	if (put_alive(t, NULL, f, now->gen, src == TRACKER_EVENT) < 0)
		return -1;
	/* the first record of a life, whatever event brought it */
	f->action = src == TRACKER_SNAPSHOT ? FLOW_SNAPSHOT : FLOW_NEW;
	return 1;
}

/* A sighting of a flow whose destroy was written: dropped, unless it is a
 * new life (a NEW event, a dump begun after the death, a flow the filters
 * dropped that matches again). */
static int observe_dead(struct tracker *t, struct tracked *e, struct flow *f,
			enum tracker_src src, bool match, const struct tracker_now *now)
{
	bool reborn;

	if (src == TRACKER_EVENT && f->action == FLOW_DESTROY)
		return 0;
	if (src == TRACKER_EVENT)
		reborn = f->action == FLOW_NEW;
	else
		reborn = e->gen < now->gen;	/* the dump began after the death */
	if (e->death == TRACKED_BY_FILTER && match && !stale(t, e, f, src == TRACKER_EVENT))
		reborn = true;
	if (!reborn)
		return 0;
	remove_pos(t, (size_t)(e - t->v));
	return observe_unknown(t, f, src, match, now);
}

/* A sighting of a flow a refresh dump saw before its NEW event. */
static int observe_pending(struct tracker *t, struct tracked *e, struct flow *f,
			   enum tracker_src src, bool match, const struct tracker_now *now)
{
	if (src == TRACKER_EVENT && f->action == FLOW_DESTROY) {
		bury(t, e, TRACKED_BY_EVENT, now);
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
	if (put_alive(t, e, f, now->gen, src == TRACKER_EVENT) < 0)
		return -1;
	f->action = src == TRACKER_SNAPSHOT ? FLOW_SNAPSHOT : FLOW_NEW;
	return 1;
}

/* Data older than what was written for an alive flow: a dump's word that
 * it is there, and for a snapshot frame the record written before. */
static int observe_stale(struct tracker *t, struct tracked *e, struct flow *f,
			 enum tracker_src src, const struct tracker_now *now)
{
	if (src == TRACKER_EVENT)
		return 0;
	e->life = TRACKED_ALIVE;
	e->gen = now->gen;
	if (src != TRACKER_SNAPSHOT)
		return 0;
	freshen(t, e, f);
	f->action = FLOW_SNAPSHOT;
	return 1;
}

/* A sighting of a flow alive (or missing) in the stream. */
static int observe_alive(struct tracker *t, struct tracked *e, struct flow *f,
			 enum tracker_src src, bool match, const struct tracker_now *now)
{
	bool from_event = src == TRACKER_EVENT;
	int changed;

	if (from_event && f->action == FLOW_DESTROY) {
		if (record(t, e, f, from_event) < 0)
			return -1;
		bury(t, e, TRACKED_BY_EVENT, now);
		return 1;
	}
	if (stale(t, e, f, from_event))
		return observe_stale(t, e, f, src, now);
	if (!match) {
		/* a frame that leaves it out drops it at its end */
		if (src == TRACKER_SNAPSHOT)
			return 0;
		bury(t, e, TRACKED_BY_FILTER, now);
		if (record(t, e, f, from_event) < 0)
			return -1;
		f->action = FLOW_DESTROY;
		return 1;
	}
	changed = differs(t, e, f);
	if (record(t, e, f, from_event) < 0)
		return -1;
	/* a snapshot names every flow; an event that writes a record counts
	 * as a sighting too, since a snapshot frame's readers keep what it
	 * names */
	if (src != TRACKER_EVENT || changed) {
		e->life = TRACKED_ALIVE;
		e->gen = now->gen;
	}
	if (src == TRACKER_SNAPSHOT) {
		f->action = FLOW_SNAPSHOT;
		return 1;
	}
	if (!changed)
		return 0;
	f->action = FLOW_UPDATE;
	return 1;
}

int tracker_observe(struct tracker *t, struct flow *f, enum tracker_src src, bool match,
		    const struct tracker_now *now)
{
	return tracker_observe_entry(t, tracker_find(t, f), f, src, match, now);
}

int tracker_observe_entry(struct tracker *t, struct tracked *e, struct flow *f,
			  enum tracker_src src, bool match, const struct tracker_now *now)
{
	if (!e)
		return observe_unknown(t, f, src, match, now);
	tracker_owner(e, f);
	switch (e->life) {
	case TRACKED_DEAD:
		return observe_dead(t, e, f, src, match, now);
	case TRACKED_PENDING:
		return observe_pending(t, e, f, src, match, now);
	default:
		return observe_alive(t, e, f, src, match, now);
	}
}

/* Forget the entry at vector position pos. */
static void remove_pos(struct tracker *t, size_t pos)
{
	size_t s = slot_of_pos(t, pos), next, last;

	/* backward-shift deletion keeps every probe run unbroken */
	t->idx[s] = 0;
	for (next = (s + 1) & t->mask; t->idx[next]; next = (next + 1) & t->mask) {
		size_t home = slot_of(t, t->v[pos_in(t, t->idx[next])].id);

		/* move it back if its home is not within (s, next] */
		if (((next - home) & t->mask) >= ((next - s) & t->mask)) {
			t->idx[s] = t->idx[next];
			t->idx[next] = 0;
			s = next;
		}
	}
	if (is_v6(&t->v[pos]))
		addr6_give_back(t, t->v[pos].addr[0]);
	if (t->v[pos].life == TRACKED_DEAD)
		t->ndead--;
	last = t->n - 1;
	if (pos != last) {
		t->v[pos] = t->v[last];
		if (t->ctr)
			t->ctr[pos] = t->ctr[last];
		size_t ls = slot_of_pos(t, last);

		t->idx[ls] = (t->idx[ls] & ~pos_mask(t)) | ((uint32_t)pos + 1);
	}
	t->n--;
}

bool tracker_remove(struct tracker *t, const struct flow *f)
{
	size_t s = find_slot(t, f);

	if (!t->idx[s])
		return false;
	remove_pos(t, pos_in(t, t->idx[s]));
	return true;
}

void tracker_to_flow(const struct tracker *t, const struct tracked *e, struct flow *f)
{
	memset(f, 0, sizeof(*f));
	f->id = e->id;
	f->family = e->family;
	f->l4proto = e->l4proto;
	if (is_v6(e)) {
		f->orig.src = t->a6[e->addr[0]].src;
		f->orig.dst = t->a6[e->addr[0]].dst;
	} else {
		f->orig.src.w[0] = e->addr[0];
		f->orig.dst.w[0] = e->addr[1];
	}
	f->orig.sport = e->sport;
	f->orig.dport = e->dport;
	f->zone = e->zone;
	f->icmp_type = e->icmp_type;
	f->icmp_code = e->icmp_code;
	f->icmp_id = e->icmp_id;
	f->has = FLOW_HAS_ID | FLOW_HAS_TUPLE | (e->has & TRACKER_HAS_PORTS ? FLOW_HAS_PORTS : 0) |
		 (e->has & TRACKER_HAS_ICMP ? FLOW_HAS_ICMP : 0);
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
			bury(t, e, TRACKED_BY_SWEEP, now);
		} else if (e->life == TRACKED_ALIVE) {
			e->life = TRACKED_MISSING;
			e->since_ms = (uint32_t)now->ms;
		} else if (events_caught_up(e, now)) {
			/* missed twice, and no DESTROY event came: one was lost */
			if (destroy(e, data) < 0)
				return -1;
			bury(t, e, TRACKED_BY_SWEEP, now);
		}
		i++;
	}
	return 0;
}

void tracker_expire(struct tracker *t, const struct tracker_now *now)
{
	size_t i = 0;

	/* a quiet table has no dead flows: no pass over a million live ones */
	if (!t->ndead)
		return;
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
