/*
 * flowtab.c - hash-indexed array of flows, with merge, close and sweep.
 *
 * One flat array keeps a flow's bytes together (sorting 100k flows walks it
 * linearly) and costs no per-flow allocation; the hash chains are 32-bit
 * indices threaded through the entries themselves.
 */
#include "flowtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const rank_names[] = {
	"ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT",
	"CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE",
};

uint8_t flowtab_rank(const char *state)
{
	if (!state)
		return FT_RANK_STATELESS;
	for (uint8_t i = 0; i < sizeof(rank_names) / sizeof(rank_names[0]); i++)
		if (!strcmp(state, rank_names[i]))
			return i;
	return FT_RANK_OTHER;
}

int flowtab_init(struct flowtab *t, uint32_t max, uint64_t linger_ns)
{
	memset(t, 0, sizeof(*t));
	t->max = max ? max : FLOWTAB_MAX_DEFAULT;
	t->linger_ns = linger_ns;
	t->nbuckets = 1024;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets)
		return -1;
	return 0;
}

void flowtab_release(struct flowtab *t)
{
	free(t->e);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

static uint32_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* The key of a flow: its id, or its original tuple. */
static uint32_t key_hash(const struct flow *f, bool by_id)
{
	uint64_t h;

	if (by_id)
		return mix(f->id);
	h = (uint64_t)f->family << 56 ^ (uint64_t)f->l4proto << 48 ^ f->zone;
	for (int i = 0; i < 4; i++)
		h = (h ^ f->orig.src.w[i]) * 0x100000001b3ULL ^ f->orig.dst.w[i];
	h ^= (uint64_t)f->orig.sport << 16 ^ f->orig.dport ^ (uint64_t)f->icmp_id << 32;
	return mix(h);
}

static bool same_tuple(const struct flow *g, const struct flow *f);

static bool key_equal(const struct flowtab_entry *e, const struct flow *f, bool by_id)
{
	const struct flow *g = &e->f;

	if (!!(e->flags & FT_BY_ID) != by_id)
		return false;
	/* conntrack ids are 32-bit hashes: among 100k live flows two may
	 * share one, so the original tuple (which never changes) decides */
	if (by_id)
		return g->id == f->id && (!(f->has & FLOW_HAS_TUPLE) || same_tuple(g, f));
	return same_tuple(g, f);
}

static bool same_tuple(const struct flow *g, const struct flow *f)
{
	return g->family == f->family && g->l4proto == f->l4proto && g->zone == f->zone &&
	       !memcmp(&g->orig.src, &f->orig.src, sizeof(f->orig.src)) &&
	       !memcmp(&g->orig.dst, &f->orig.dst, sizeof(f->orig.dst)) &&
	       g->orig.sport == f->orig.sport && g->orig.dport == f->orig.dport &&
	       g->icmp_id == f->icmp_id;
}

static uint32_t *bucket_of(struct flowtab *t, const struct flowtab_entry *e)
{
	return &t->buckets[e->khash & (t->nbuckets - 1)];
}

static int lookup(struct flowtab *t, const struct flow *f, bool by_id)
{
	uint32_t h = key_hash(f, by_id);

	for (uint32_t i = t->buckets[h & (t->nbuckets - 1)]; i; i = t->e[i - 1].hnext)
		if (t->e[i - 1].khash == h && key_equal(&t->e[i - 1], f, by_id))
			return (int)(i - 1);
	return -1;
}

static int rehash(struct flowtab *t, uint32_t nb)
{
	uint32_t *b = calloc(nb, sizeof(*b));

	if (!b)
		return -1;
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
	for (uint32_t i = 0; i < t->n; i++) {
		struct flowtab_entry *e = &t->e[i];
		uint32_t *head;

		if (!flowtab_shown(t, i))
			continue;
		head = bucket_of(t, e);
		e->hnext = *head;
		*head = i + 1;
	}
	return 0;
}

static int alloc_slot(struct flowtab *t)
{
	uint32_t i;

	if (t->freelist) {
		i = t->freelist - 1;
		t->freelist = t->e[i].hnext;
		return (int)i;
	}
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 1024;
		struct flowtab_entry *e = realloc(t->e, (size_t)cap * sizeof(*e));

		if (!e)
			return -1;
		t->e = e;
		t->cap = cap;
	}
	return (int)t->n++;
}

static void unlink_hash(struct flowtab *t, uint32_t idx)
{
	struct flowtab_entry *e = &t->e[idx];
	uint32_t *p = bucket_of(t, e);

	while (*p && *p != idx + 1)
		p = &t->e[*p - 1].hnext;
	if (*p)
		*p = e->hnext;
}

static void free_slot(struct flowtab *t, uint32_t idx)
{
	t->e[idx].flags = 0;
	t->e[idx].hnext = t->freelist;
	t->freelist = idx + 1;
}

static void remove_entry(struct flowtab *t, uint32_t idx)
{
	struct flowtab_entry *e = &t->e[idx];

	unlink_hash(t, idx);
	if (e->flags & FT_CLOSED)
		t->nclosed--;
	else
		t->st.closed++;
	t->live--;
	if (t->held) {
		e->flags |= FT_DEAD;
		t->ndead++;
	} else {
		free_slot(t, idx);
	}
}

/* Copy into d what s says; what s lacks, d keeps.  The field table says
 * what a flow holds: only the byte rate is the view's own. */
static void merge(struct flowtab_entry *e, const struct flow *s)
{
	struct flow *d = &e->f;
	const char *state = d->state;

	if (s->has & FLOW_HAS_COUNTERS) {
		uint64_t total = flowtab_sum(s->orig_bytes, s->reply_bytes);

		if (e->rate_ts && s->ts_ns > e->rate_ts && total >= e->rate_bytes) {
			/* in double: 18 GB between samples would wrap bytes * 1e9 */
			double r = (double)(total - e->rate_bytes) * 1e9 /
				   (double)(s->ts_ns - e->rate_ts);

			e->rate = r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
		}
		if (s->ts_ns && s->ts_ns != e->rate_ts) {
			e->rate_ts = s->ts_ns;
			e->rate_bytes = total;
		}
	}
	field_merge(d, s);
	/* states are interned: the same pointer is the same state and rank */
	if (d->state != state)
		e->rank = flowtab_rank(d->state);
}

static void close_entry(struct flowtab *t, uint32_t idx, uint64_t mono)
{
	struct flowtab_entry *e = &t->e[idx];

	if (e->flags & FT_CLOSED)
		return;
	if (t->linger_ns == 0) {
		remove_entry(t, idx);
		return;
	}
	e->flags |= FT_CLOSED;
	e->closed_mono = mono;
	t->nclosed++;
	t->st.closed++;
	if (!t->next_expiry || mono + t->linger_ns < t->next_expiry)
		t->next_expiry = mono + t->linger_ns;
}

static void sweep(struct flowtab *t)
{
	for (uint32_t i = 0; i < t->n; i++) {
		const struct flowtab_entry *e = &t->e[i];

		if (flowtab_shown(t, i) && !(e->flags & FT_CLOSED) && e->seen != t->gen)
			remove_entry(t, i);
	}
}

static int insert(struct flowtab *t, const struct flow *rec, bool by_id)
{
	struct flowtab_entry *e;
	uint32_t *head;
	int i;

	if (t->live >= t->max) {
		t->st.full++;
		return -1;
	}
	if (t->live >= t->nbuckets && rehash(t, t->nbuckets * 2))
		return -1;
	if ((i = alloc_slot(t)) < 0)
		return -1;
	e = &t->e[i];
	memset(e, 0, sizeof(*e));
	e->flags = FT_LIVE | (by_id ? FT_BY_ID : 0);
	e->rank = FT_RANK_STATELESS;
	e->first_ns = rec->ts_ns ? rec->ts_ns : t->now_ns;
	merge(e, rec);
	e->khash = key_hash(&e->f, by_id);
	head = bucket_of(t, e);
	e->hnext = *head;
	*head = (uint32_t)i + 1;
	t->live++;
	t->st.opened++;
	return i;
}

bool flowtab_apply(struct flowtab *t, const struct flow *rec, uint64_t mono)
{
	bool by_id = rec->has & FLOW_HAS_ID;
	int i;

	if (rec->ts_ns > t->now_ns)
		t->now_ns = rec->ts_ns;
	switch (rec->action) {
	case FLOW_MARK_SNAPSHOT_BEGIN:
		t->gen++;
		t->in_frame = true;
		return true;
	case FLOW_MARK_SNAPSHOT_END:
		if (t->in_frame)
			sweep(t);
		t->in_frame = false;
		t->st.snapshots++;
		return true;
	case FLOW_MARK_OVERRUN:
		t->st.overruns++;
		return true;
	default:
		break;
	}
	if (rec->has & FLOW_HAS_COUNTERS)
		t->any_counters = true;
	i = lookup(t, rec, by_id);
	if (rec->action == FLOW_DESTROY) {
		if (i < 0)
			return false;
		merge(&t->e[i], rec);
		close_entry(t, (uint32_t)i, mono);
		return true;
	}
	if (i >= 0 && rec->action == FLOW_NEW && t->e[i].flags & FT_CLOSED) {
		/* the id was reused: a new flow, not the old one */
		remove_entry(t, (uint32_t)i);
		i = -1;
	}
	if (i < 0)
		i = insert(t, rec, by_id);
	else
		merge(&t->e[i], rec);
	if (i < 0)
		return false;
	if (t->in_frame)
		t->e[i].seen = t->gen;
	return true;
}

uint64_t flowtab_expire(struct flowtab *t, uint64_t mono)
{
	uint64_t next = 0;

	if (!t->nclosed)
		return t->next_expiry = 0;
	if (mono < t->next_expiry)
		return t->next_expiry;
	for (uint32_t i = 0; i < t->n && t->nclosed; i++) {
		const struct flowtab_entry *e = &t->e[i];

		if (!flowtab_shown(t, i) || !(e->flags & FT_CLOSED))
			continue;
		if (e->closed_mono + t->linger_ns <= mono)
			remove_entry(t, i);
		else if (!next || e->closed_mono + t->linger_ns < next)
			next = e->closed_mono + t->linger_ns;
	}
	return t->next_expiry = next;
}

void flowtab_hold(struct flowtab *t, bool hold)
{
	t->held = hold;
	if (hold || !t->ndead)
		return;
	for (uint32_t i = 0; i < t->n; i++)
		if (t->e[i].flags & FT_DEAD)
			free_slot(t, i);
	t->ndead = 0;
}

size_t flowtab_bytes(const struct flowtab *t)
{
	return (size_t)t->n * sizeof(*t->e) + (size_t)t->nbuckets * sizeof(*t->buckets);
}

int flowtab_reintern(struct flowtab *t, field_intern_fn fn, void *ctx)
{
	for (uint32_t i = 0; i < t->n; i++) {
		struct flow *f = &t->e[i].f;

		if (!(t->e[i].flags & FT_LIVE))
			continue;
		if (field_reintern(f, fn, ctx))
			return -1;
	}
	return 0;
}
