/*
 * tracker.c - an id-keyed table: vector of entries, index of vector slots.
 *
 * The index holds position+1 (0 = empty) with linear probing; removal swaps
 * the last entry into the hole and shifts the probe run back, so there are
 * no tombstones and no rehash storms under churn.
 */
#include "tracker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
	if (kernel_differs(e, f) || (e->flags & want) != want)
		return false;
	e->gen = gen;
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

static void record(struct tracked *e, const struct flow *f)
{
	if (f->state)
		e->state = f->state;
	if (f->has & FLOW_HAS_STATUS)
		e->status = f->status;
	if (f->has & FLOW_HAS_COUNTERS) {
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

int tracker_put(struct tracker *t, const struct flow *f, uint32_t gen)
{
	size_t s;
	struct tracked *e;

	if ((t->n + 1) * 4 > (t->mask + 1) * 3 && grow_index(t))
		return -1;
	s = find_slot(t, f);
	if (t->idx[s]) {
		bool changed;

		e = &t->v[t->idx[s] - 1];
		changed = differs(e, f);
		record(e, f);
		e->gen = gen;
		return changed;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct tracked *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	e = &t->v[t->n];
	memset(e, 0, sizeof(*e));
	e->id = f->id;
	e->gen = gen;
	e->family = f->family;
	e->l4proto = f->l4proto;
	e->has_ports = !!(f->has & FLOW_HAS_PORTS);
	e->zone = f->zone;
	e->orig = f->orig;
	e->icmp_type = f->icmp_type;
	e->icmp_code = f->icmp_code;
	e->icmp_id = f->icmp_id;
	e->has_icmp = !!(f->has & FLOW_HAS_ICMP);
	record(e, f);
	t->idx[s] = (uint32_t)++t->n;
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

int tracker_sweep(struct tracker *t, uint32_t gen,
		  int (*fn)(const struct tracked *e, void *data), void *data)
{
	size_t i = 0;

	while (i < t->n) {
		if (t->v[i].gen >= gen) {
			i++;
			continue;
		}
		if (fn(&t->v[i], data) < 0)
			return -1;
		/* the last entry moves into slot i: look at i again */
		remove_pos(t, i);
	}
	return 0;
}

int tracker_each(struct tracker *t, int (*fn)(struct tracked *e, void *data), void *data)
{
	for (size_t i = 0; i < t->n; i++)
		if (fn(&t->v[i], data) < 0)
			return -1;
	return 0;
}
