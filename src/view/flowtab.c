/*
 * flowtab.c - hash-indexed array of flows, with merge, close and sweep.
 *
 * One flat array keeps a flow's bytes together (sorting 1M flows walks it
 * linearly) and costs no per-flow allocation; the hash chains are 32-bit
 * indices threaded through the entries themselves (4 bytes a flow, where an
 * open-addressing table of hash and value would take 16 or more).
 *
 * An entry is about a third of a struct flow: what the view never reads
 * (reply tuple, status, timeout, mark, packets, AS, executable, user) is
 * not kept, and the strings sit once in the shared tables.  A record is
 * merged into the entry through the field table (field_merge on the entry
 * seen as a flow), so a new field needs no code here.
 *
 * Every change of a shown entry goes through one pair: owner_out() before
 * it (the entry's share leaves its owner's sums, the entry as it was in
 * hand) and owner_in() after (the new share, and the slot on the dirty
 * list).  A sum is then always what a pass over the flows would give.
 */
#include "flowtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

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

/* --- shared records: names, places, owners, namespaces --------------------------------- */

static int shared_init(struct flowtab_shared *sh, uint32_t size, uint32_t max,
		       uint32_t aux_size)
{
	memset(sh, 0, sizeof(*sh));
	sh->size = size;
	sh->max = max;
	sh->cap = 16;
	sh->n = 1;			/* handle 0: the all-zero record */
	sh->aux_size = aux_size;
	htab_init(&sh->index);
	sh->rec = calloc(sh->cap, size);
	sh->refs = calloc(sh->cap, sizeof(*sh->refs));
	if (aux_size)
		sh->aux = calloc(sh->cap, aux_size);
	return sh->rec && sh->refs && (!aux_size || sh->aux) ? 0 : -1;
}

static void shared_release(struct flowtab_shared *sh)
{
	free(sh->rec);
	free(sh->refs);
	free(sh->aux);
	free(sh->later);
	htab_release(&sh->index);
}

static unsigned char *shared_rec(const struct flowtab_shared *sh, uint32_t h)
{
	return sh->rec + (size_t)h * sh->size;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* The handle of the record equal to key (whose padding is zero), now with
 * one more user; 0 for the zero record.  -1 when out of memory or handles. */
static int shared_get(struct flowtab_shared *sh, const void *key, uint32_t *h)
{
	uint64_t hash;
	struct htab_pos pos;
	uint32_t i;

	if (all_zero(key, sh->size)) {
		*h = 0;
		return 0;
	}
	hash = hash_bytes(key, sh->size);
	for (uintptr_t v = htab_first(&sh->index, hash, &pos); v; v = htab_next(&sh->index, &pos))
		if (!memcmp(shared_rec(sh, (uint32_t)v), key, sh->size)) {
			sh->refs[v]++;
			*h = (uint32_t)v;
			return 0;
		}
	if (sh->freelist) {
		i = sh->freelist;
		memcpy(&sh->freelist, shared_rec(sh, i), sizeof(sh->freelist));
	} else {
		if (sh->n >= sh->max)
			return -1;
		if (sh->n == sh->cap) {
			uint32_t cap = sh->cap * 2;
			unsigned char *r = realloc(sh->rec, (size_t)cap * sh->size);
			uint32_t *c;

			if (!r)
				return -1;
			sh->rec = r;
			if (!(c = realloc(sh->refs, (size_t)cap * sizeof(*c))))
				return -1;
			sh->refs = c;
			if (sh->aux_size) {
				void *a = realloc(sh->aux, (size_t)cap * sh->aux_size);

				if (!a)
					return -1;
				sh->aux = a;
			}
			sh->cap = cap;
		}
		i = sh->n++;
	}
	if (htab_put(&sh->index, hash, i)) {
		memcpy(shared_rec(sh, i), &sh->freelist, sizeof(sh->freelist));
		sh->freelist = i;
		return -1;
	}
	memcpy(shared_rec(sh, i), key, sh->size);
	if (sh->aux_size)
		memset((unsigned char *)sh->aux + (size_t)i * sh->aux_size, 0, sh->aux_size);
	sh->refs[i] = 1;
	sh->live++;
	*h = i;
	return 0;
}

/* Free record h, which has no user. */
static void shared_free(struct flowtab_shared *sh, uint32_t h)
{
	unsigned char *r = shared_rec(sh, h);

	htab_del(&sh->index, hash_bytes(r, sh->size), h);
	memset(r, 0, sh->size);
	memcpy(r, &sh->freelist, sizeof(sh->freelist));
	sh->freelist = h;
	sh->live--;
}

/* One user less of handle h; the last one frees the record.  While
 * deferring, the last user's reference passes to the list that
 * shared_release_later() lets go: the record stays whole, findable and
 * moved by flowtab_reintern() until then. */
static void shared_put(struct flowtab_shared *sh, uint32_t h)
{
	if (!h)
		return;
	if (sh->defer && sh->refs[h] == 1) {
		if (sh->nlater == sh->later_cap) {
			uint32_t cap = sh->later_cap ? sh->later_cap * 2 : 64;
			uint32_t *l = realloc(sh->later, (size_t)cap * sizeof(*l));

			if (!l)		/* kept for good: better than read freed */
				return;
			sh->later = l;
			sh->later_cap = cap;
		}
		sh->later[sh->nlater++] = h;
		return;
	}
	if (!--sh->refs[h])
		shared_free(sh, h);
}

/* Stop deferring: the list lets go of its references. */
static void shared_release_later(struct flowtab_shared *sh)
{
	sh->defer = false;
	for (uint32_t k = 0; k < sh->nlater; k++)
		shared_put(sh, sh->later[k]);
	sh->nlater = 0;
}

/* Replace handle *h with one for key; on failure *h is left as it was. */
static int shared_set(struct flowtab_shared *sh, uint32_t *h, const void *key)
{
	uint32_t nh;

	/* most updates change only counters: no hashing for them */
	if (!memcmp(shared_rec(sh, *h), key, sh->size))
		return 0;
	if (shared_get(sh, key, &nh))
		return -1;
	shared_put(sh, *h);
	*h = nh;
	return 0;
}

static size_t shared_bytes(const struct flowtab_shared *sh)
{
	return (size_t)sh->cap * (sh->size + sizeof(*sh->refs) + sh->aux_size) +
	       htab_bytes(&sh->index);
}

/* Move the strings of every live record to fn's pool.  The records keep
 * their handles; the index is rebuilt, as the hashes were of the old
 * pointers.  nptr: how many string pointers a record starts with. */
static int shared_reintern(struct flowtab_shared *sh, unsigned int nptr,
			   field_intern_fn fn, void *ctx)
{
	htab_clear(&sh->index);
	for (uint32_t i = 1; i < sh->n; i++) {
		unsigned char *r = shared_rec(sh, i);

		if (!sh->refs[i])
			continue;
		for (unsigned int k = 0; k < nptr; k++) {
			const char *p;

			memcpy(&p, r + k * sizeof(p), sizeof(p));
			if (p && !(p = fn(ctx, p, strlen(p))))
				return -1;
			memcpy(r + k * sizeof(p), &p, sizeof(p));
		}
		if (htab_put(&sh->index, hash_bytes(r, sh->size), i))
			return -1;
	}
	return 0;
}

/* --- the table --------------------------------------------------------------- */

int flowtab_init(struct flowtab *t, uint32_t max, uint64_t linger_ns)
{
	memset(t, 0, sizeof(*t));
	t->max = max ? max : FLOWTAB_MAX_DEFAULT;
	t->linger_ns = linger_ns;
	t->nbuckets = 1024;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	/* the handles' widths in struct flowtab_entry */
	if (!t->buckets || shared_init(&t->names, sizeof(const char *), UINT16_MAX + 1u, 0) ||
	    shared_init(&t->places, sizeof(struct flowtab_place), UINT32_MAX, 0) ||
	    shared_init(&t->owners, sizeof(struct flowtab_owner), UINT32_MAX,
			sizeof(struct flowtab_sum)) ||
	    shared_init(&t->netns, sizeof(struct flowtab_netns), UINT32_MAX, 0)) {
		flowtab_release(t);
		return -1;
	}
	return 0;
}

void flowtab_release(struct flowtab *t)
{
	free(t->e);
	free(t->buckets);
	free(t->fifo);
	free(t->dirty);
	free(t->stale);
	shared_release(&t->names);
	shared_release(&t->places);
	shared_release(&t->owners);
	shared_release(&t->netns);
	memset(t, 0, sizeof(*t));
}

static uint32_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* The key of a flow: its namespace's inode (0 in a plain stream) with its
 * id, or with its original tuple.  Records and entries both hash through
 * this, from their own copies of the fields. */
static uint32_t key_hash(uint64_t ino, uint32_t id, uint8_t family, uint8_t l4proto,
			 uint16_t zone, const struct flow_tuple *o, uint16_t icmp_id, bool by_id)
{
	uint64_t h;

	/* ino 0 leaves a plain stream's hashes as they were */
	ino *= 0x9e3779b97f4a7c15ULL;
	if (by_id)
		return mix(id ^ ino);
	h = (uint64_t)family << 56 ^ (uint64_t)l4proto << 48 ^ zone;
	for (int i = 0; i < 4; i++)
		h = (h ^ o->src.w[i]) * 0x100000001b3ULL ^ o->dst.w[i];
	h ^= (uint64_t)o->sport << 16 ^ o->dport ^ (uint64_t)icmp_id << 32;
	return mix(h ^ ino);
}

static uint32_t rec_hash(const struct flow *f, bool by_id)
{
	return key_hash(f->netns_ino, f->id, f->family, f->l4proto, f->zone, &f->orig,
			f->icmp_id, by_id);
}

static uint32_t entry_hash(const struct flowtab *t, const struct flowtab_entry *e)
{
	return key_hash(flowtab_netns(t, e)->ino, e->id, e->family, e->l4proto, e->zone,
			&e->orig, e->icmp_id, e->flags & FT_BY_ID);
}

static bool same_tuple(const struct flowtab_entry *g, const struct flow *f)
{
	return g->family == f->family && g->l4proto == f->l4proto && g->zone == f->zone &&
	       !memcmp(&g->orig.src, &f->orig.src, sizeof(f->orig.src)) &&
	       !memcmp(&g->orig.dst, &f->orig.dst, sizeof(f->orig.dst)) &&
	       g->orig.sport == f->orig.sport && g->orig.dport == f->orig.dport &&
	       g->icmp_id == f->icmp_id;
}

static bool key_equal(const struct flowtab *t, const struct flowtab_entry *e,
		      const struct flow *f, bool by_id)
{
	if (!!(e->flags & FT_BY_ID) != by_id || flowtab_netns(t, e)->ino != f->netns_ino)
		return false;
	/* conntrack ids are 32-bit hashes: among 100k live flows two may
	 * share one, so the original tuple (which never changes) decides */
	if (by_id)
		return e->id == f->id && (!(f->has & FLOW_HAS_TUPLE) || same_tuple(e, f));
	return same_tuple(e, f);
}

static uint32_t *bucket_of(struct flowtab *t, const struct flowtab_entry *e)
{
	return &t->buckets[entry_hash(t, e) & (t->nbuckets - 1)];
}

static int lookup(struct flowtab *t, const struct flow *f, bool by_id)
{
	uint32_t h = rec_hash(f, by_id);

	for (uint32_t i = t->buckets[h & (t->nbuckets - 1)]; i; i = t->e[i - 1].hnext)
		if (key_equal(t, &t->e[i - 1], f, by_id))
			return (int)(i - 1);
	return -1;
}

/* A snapshot's flows come in the kernel's hash order, which is random
 * for ours: each look-up missed the cache twice, for its bucket and its
 * chain's first entry (half the time of an apply, perf).  Two passes: the
 * buckets, then the entries they name, by the time those are read. */
void flowtab_prefetch(const struct flowtab *t, const uint32_t *ids, size_t n)
{
	uint32_t mask = t->nbuckets - 1;

	if (t->any_netns || !n)
		return;
	for (size_t k = 0; k < n; k++)
		__builtin_prefetch(&t->buckets[key_hash(0, ids[k], 0, 0, 0, NULL, 0, true) & mask]);
	for (size_t k = 0; k < n; k++) {
		uint32_t i = t->buckets[key_hash(0, ids[k], 0, 0, 0, NULL, 0, true) & mask];

		if (i) {
			/* the entry straddles two lines: flags and id, tuple */
			__builtin_prefetch(&t->e[i - 1]);
			__builtin_prefetch((const char *)&t->e[i - 1] + sizeof(t->e[0]) - 1);
		}
	}
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
	t->e[t->n].flags = 0;	/* no FT_DIRTY to keep (insert reads it) */
	return (int)t->n++;
}

/* --- what changed: the dirty list, owner sums, stale rates ------------------------ */

static void mark_dirty(struct flowtab *t, uint32_t idx)
{
	struct flowtab_entry *e = &t->e[idx];
	uint32_t limit = t->n / 16 > FLOWTAB_DIRTY_MIN ? t->n / 16 : FLOWTAB_DIRTY_MIN;

	if (e->flags & FT_DIRTY || t->dirty_all)
		return;
	if (t->ndirty >= limit) {
		t->dirty_all = true;
		return;
	}
	if (t->ndirty == t->dirty_cap) {
		uint32_t cap = t->dirty_cap ? t->dirty_cap * 2 : 256;
		uint32_t *d = realloc(t->dirty, (size_t)cap * sizeof(*d));

		if (!d) {	/* it cannot say which: all of them */
			t->dirty_all = true;
			return;
		}
		t->dirty = d;
		t->dirty_cap = cap;
	}
	t->dirty[t->ndirty++] = idx;
	e->flags |= FT_DIRTY;
}

void flowtab_dirty_clear(struct flowtab *t)
{
	/* every flagged slot is listed: flags stop when the list does */
	for (uint32_t k = 0; k < t->ndirty; k++)
		t->e[t->dirty[k]].flags &= (uint8_t)~FT_DIRTY;
	t->ndirty = 0;
	t->dirty_all = false;
}

static void add128(uint64_t s[2], uint64_t v)
{
	uint64_t lo = s[0] + v;

	s[1] += lo < s[0];
	s[0] = lo;
}

static void sub128(uint64_t s[2], uint64_t v)
{
	s[1] -= s[0] < v;
	s[0] -= v;
}

static struct flowtab_sum *sum_of(struct flowtab *t, const struct flowtab_entry *e)
{
	return (struct flowtab_sum *)t->owners.aux + e->owner;
}

/* A shown entry's share of its owner's sums leaves them (the entry is
 * about to change, or to go). */
static void owner_out(struct flowtab *t, const struct flowtab_entry *e)
{
	struct flowtab_sum *s = sum_of(t, e);

	s->flows--;
	if (e->has & FLOW_HAS_COUNTERS) {
		s->counters--;
		sub128(s->sent, e->orig_bytes);
		sub128(s->recv, e->reply_bytes);
		if (e->flags & FT_FRESH)
			s->rate -= e->rate;
	}
}

/* ... and its share as it is now comes back; the sorter hears of it. */
static void owner_in(struct flowtab *t, uint32_t idx)
{
	const struct flowtab_entry *e = &t->e[idx];
	struct flowtab_sum *s = sum_of(t, e);

	s->flows++;
	if (e->has & FLOW_HAS_COUNTERS) {
		s->counters++;
		add128(s->sent, e->orig_bytes);
		add128(s->recv, e->reply_bytes);
		if (e->flags & FT_FRESH)
			s->rate += e->rate;
	}
	mark_dirty(t, idx);
}

static uint32_t now_ms(const struct flowtab *t)
{
	return (uint32_t)(t->now_ns / 1000000u);
}

/* When e's rate turns stale: the first ms that flowtab_rate() calls too
 * old. */
static uint32_t stale_due(const struct flowtab_entry *e)
{
	return e->rate_ms + (uint32_t)(FLOWTAB_RATE_STALE_NS / 1000000u) + 1;
}

/* a before b, in ms modulo 2^32 (deadlines are seconds apart) */
static bool ms_before(uint32_t a, uint32_t b)
{
	return (uint32_t)(a - b) >= 0x80000000u;
}

static void stale_down(struct flowtab *t, uint32_t i)
{
	struct flowtab_stale *h = t->stale;

	for (;;) {
		uint32_t c = 2 * i + 1;
		struct flowtab_stale x;

		if (c >= t->nstale)
			return;
		if (c + 1 < t->nstale && ms_before(h[c + 1].due_ms, h[c].due_ms))
			c++;
		if (!ms_before(h[c].due_ms, h[i].due_ms))
			return;
		x = h[c];
		h[c] = h[i];
		h[i] = x;
		i = c;
	}
}

static bool stale_valid(const struct flowtab *t, const struct flowtab_stale *q)
{
	const struct flowtab_entry *e = &t->e[q->idx];

	return flowtab_shown(t, q->idx) && e->flags & FT_FRESH && stale_due(e) == q->due_ms;
}

/* Drop the entries whose slot has moved on; what stays is one a fresh
 * rate. */
static void stale_compact(struct flowtab *t)
{
	uint32_t n = 0;

	for (uint32_t k = 0; k < t->nstale; k++)
		if (stale_valid(t, &t->stale[k]))
			t->stale[n++] = t->stale[k];
	t->nstale = n;
	for (uint32_t k = n / 2; k-- > 0;)
		stale_down(t, k);
	t->stale_kept = n;
}

/* Queue e's deadline.  -1 when out of memory: the rate is then treated as
 * stale at once (shown as 0 by nothing else: the caller clears FT_FRESH). */
static int stale_push(struct flowtab *t, uint32_t idx)
{
	struct flowtab_stale *h;
	uint32_t i;

	if (t->nstale > 2 * t->stale_kept + 1024)
		stale_compact(t);
	if (t->nstale == t->stale_cap) {
		uint32_t cap = t->stale_cap ? t->stale_cap * 2 : 256;

		if (!(h = realloc(t->stale, (size_t)cap * sizeof(*h))))
			return -1;
		t->stale = h;
		t->stale_cap = cap;
	}
	h = t->stale;
	i = t->nstale++;
	h[i].due_ms = stale_due(&t->e[idx]);
	h[i].idx = idx;
	while (i && ms_before(h[i].due_ms, h[(i - 1) / 2].due_ms)) {
		struct flowtab_stale x = h[i];

		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = x;
		i = (i - 1) / 2;
	}
	return 0;
}

/* After a sample (or none): whether e's rate is fresh at the stream's
 * time, and if it is, its deadline queued (again when it moved).  Called
 * between owner_out() and owner_in(). */
static void set_fresh(struct flowtab *t, uint32_t idx, uint32_t old_rate_ms)
{
	struct flowtab_entry *e = &t->e[idx];
	bool was = e->flags & FT_FRESH;

	if (!e->rate || now_ms(t) - e->rate_ms > FLOWTAB_RATE_STALE_NS / 1000000u) {
		e->flags &= (uint8_t)~FT_FRESH;
		return;
	}
	if ((!was || e->rate_ms != old_rate_ms) && stale_push(t, idx)) {
		/* out of memory: no deadline, so not fresh either (the
		 * from-scratch figures would still show it: a rate lost) */
		e->flags &= (uint8_t)~FT_FRESH;
		return;
	}
	e->flags |= FT_FRESH;
}

/* The stream's clock moved: rates whose deadline passed are stale now. */
static void stale_expire(struct flowtab *t)
{
	uint32_t now = now_ms(t);

	while (t->nstale && !ms_before(now, t->stale[0].due_ms)) {
		struct flowtab_stale q = t->stale[0];

		t->stale[0] = t->stale[--t->nstale];
		stale_down(t, 0);
		if (!stale_valid(t, &q))
			continue;
		owner_out(t, &t->e[q.idx]);
		t->e[q.idx].flags &= (uint8_t)~FT_FRESH;
		owner_in(t, q.idx);
	}
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

/* The slot goes back to the free list, and its shared records lose a user
 * (a held table frees only on release: a dead entry stays readable). */
static void free_slot(struct flowtab *t, uint32_t idx)
{
	struct flowtab_entry *e = &t->e[idx];

	shared_put(&t->names, e->state);
	shared_put(&t->names, e->protocol);
	shared_put(&t->places, e->src);
	shared_put(&t->places, e->dst);
	shared_put(&t->owners, e->owner);
	shared_put(&t->netns, e->netns);
	e->state = e->protocol = 0;
	e->src = e->dst = e->owner = e->netns = 0;
	e->flags &= FT_DIRTY;
	e->hnext = t->freelist;
	t->freelist = idx + 1;
	mark_dirty(t, idx);
}

/* A closed entry that goes before its time leaves no waiting mark that
 * could expire a later flow in the same slot.  Rare (a reused id), so a
 * walk of the closed flows is fine. */
static void fifo_forget(struct flowtab *t, uint32_t idx)
{
	for (uint32_t i = t->fhead; i != t->ftail; i = (i + 1) & (t->fcap - 1))
		if (t->fifo[i].idx == idx)
			t->fifo[i].idx = UINT32_MAX;
}

static int fifo_push(struct flowtab *t, uint32_t idx, uint64_t mono)
{
	if (!t->fcap || ((t->ftail + 1) & (t->fcap - 1)) == t->fhead) {
		uint32_t cap = t->fcap ? t->fcap * 2 : 64, n = 0;
		struct flowtab_closed *f = malloc((size_t)cap * sizeof(*f));

		if (!f)
			return -1;
		for (uint32_t i = t->fhead; i != t->ftail; i = (i + 1) & (t->fcap - 1))
			f[n++] = t->fifo[i];
		free(t->fifo);
		t->fifo = f;
		t->fcap = cap;
		t->fhead = 0;
		t->ftail = n;
	}
	if (t->fhead == t->ftail)
		t->next_expiry = mono + t->linger_ns;
	t->fifo[t->ftail].idx = idx;
	t->fifo[t->ftail].mono = mono;
	t->ftail = (t->ftail + 1) & (t->fcap - 1);
	return 0;
}

static void remove_entry(struct flowtab *t, uint32_t idx)
{
	struct flowtab_entry *e = &t->e[idx];

	unlink_hash(t, idx);
	owner_out(t, e);
	mark_dirty(t, idx);
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

void flowtab_flow(const struct flowtab *t, const struct flowtab_entry *e, struct flow *f)
{
	const struct flowtab_place *src = flowtab_place(t, e, 0), *dst = flowtab_place(t, e, 1);
	const struct flowtab_owner *o = flowtab_owner(t, e);
	const struct flowtab_netns *ns = flowtab_netns(t, e);

	memset(f, 0, sizeof(*f));
	f->has = e->has;
	f->id = e->id;
	f->orig = e->orig;
	f->family = e->family;
	f->l4proto = e->l4proto;
	f->zone = e->zone;
	f->icmp_id = e->icmp_id;
	f->icmp_type = e->icmp_type;
	f->icmp_code = e->icmp_code;
	f->orig_bytes = e->orig_bytes;
	f->reply_bytes = e->reply_bytes;
	f->start_ns = e->since_ns;
	f->state = flowtab_state(t, e);
	f->protocol = flowtab_protocol(t, e);
	f->src_domain = src->domain;
	f->dst_domain = dst->domain;
	memcpy(f->src_geo.country_iso, src->country_iso, 3);
	memcpy(f->dst_geo.country_iso, dst->country_iso, 3);
	f->src_geo.country_name = src->country_name;
	f->src_geo.city_name = src->city_name;
	f->dst_geo.country_name = dst->country_name;
	f->dst_geo.city_name = dst->city_name;
	f->process_name = o->name;
	f->pid = o->pid;
	f->netns_ino = ns->ino;
	f->netns_name = ns->name;
	f->container_id = ns->container_id;
	f->container_name = ns->container_name;
	f->container_runtime = ns->container_runtime;
}

static void place_of(const struct flow *f, int end, struct flowtab_place *p)
{
	const struct flow_geo *g = end ? &f->dst_geo : &f->src_geo;

	memset(p, 0, sizeof(*p));
	p->domain = end ? f->dst_domain : f->src_domain;
	p->country_name = g->country_name;
	p->city_name = g->city_name;
	memcpy(p->country_iso, g->country_iso, sizeof(p->country_iso));
}

/* The owner and namespace handles of e, together: an owner record names
 * its namespace's handle, so both change or neither does. */
static int set_owner(struct flowtab *t, struct flowtab_entry *e, struct flowtab_owner *o,
		     const struct flowtab_netns *ns)
{
	uint32_t nh = e->netns, oh = e->owner;

	if (memcmp(shared_rec(&t->netns, nh), ns, sizeof(*ns)) && shared_get(&t->netns, ns, &nh))
		return -1;
	o->netns = nh;
	if (memcmp(shared_rec(&t->owners, oh), o, sizeof(*o)) && shared_get(&t->owners, o, &oh)) {
		if (nh != e->netns)
			shared_put(&t->netns, nh);
		return -1;
	}
	if (nh != e->netns) {
		shared_put(&t->netns, e->netns);
		e->netns = nh;
	}
	if (oh != e->owner) {
		shared_put(&t->owners, e->owner);
		e->owner = oh;
	}
	return 0;
}

/* Store f (a merged flow) into e: the fields it keeps, the handles of its
 * strings.  -1 when a shared table is out of memory or handles. */
static int pack(struct flowtab *t, struct flowtab_entry *e, const struct flow *f)
{
	struct flowtab_place src, dst;
	struct flowtab_owner o;
	const struct flowtab_netns ns = {
		.name = f->netns_name, .container_id = f->container_id,
		.container_name = f->container_name,
		.container_runtime = f->container_runtime, .ino = f->netns_ino,
	};
	uint32_t state = e->state, proto = e->protocol;
	int rc;

	place_of(f, 0, &src);
	place_of(f, 1, &dst);
	memset(&o, 0, sizeof(o));
	o.name = f->process_name;
	if (f->has & FLOW_HAS_PID) {
		o.pid = f->pid;
		o.has_pid = 1;
	}
	/* each handle is right for its counts whatever fails after it */
	rc = shared_set(&t->names, &state, &f->state) ||
	     shared_set(&t->names, &proto, &f->protocol) ||
	     shared_set(&t->places, &e->src, &src) || shared_set(&t->places, &e->dst, &dst) ||
	     set_owner(t, e, &o, &ns) ? -1 : 0;
	if (state != e->state)
		e->rank = flowtab_rank(flowtab_name(t, (uint16_t)state));
	e->state = (uint16_t)state;
	e->protocol = (uint16_t)proto;
	if (rc)
		return -1;
	e->has = f->has;
	e->id = f->id;
	e->orig = f->orig;
	e->family = f->family;
	e->l4proto = f->l4proto;
	e->zone = f->zone;
	e->icmp_id = f->icmp_id;
	e->icmp_type = f->icmp_type;
	e->icmp_code = f->icmp_code;
	e->orig_bytes = f->orig_bytes;
	e->reply_bytes = f->reply_bytes;
	if (f->has & FLOW_HAS_START)
		e->since_ns = f->start_ns;
	return 0;
}

/* The byte rate, the view's own: from the counters of the last two
 * samples of a flow. */
static void sample(struct flowtab_entry *e, const struct flow *s)
{
	if (s->has & FLOW_HAS_COUNTERS && s->ts_ns) {
		uint64_t total = flowtab_sum(s->orig_bytes, s->reply_bytes);
		uint64_t prev = flowtab_sum(e->orig_bytes, e->reply_bytes);
		uint32_t ms = (uint32_t)(s->ts_ns / 1000000u), dt = ms - e->rate_ms;

		if (e->flags & FT_SAMPLED && dt && dt < 1u << 31 && total >= prev) {
			double r = (double)(total - prev) * 1e3 / dt;

			e->rate = r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
		}
		if (!(e->flags & FT_SAMPLED) || dt) {
			e->rate_ms = ms;
			e->flags |= FT_SAMPLED;
		}
	}
}

/* Merge record s into slot idx through the field table: what s lacks,
 * the entry keeps. */
static int merge(struct flowtab *t, uint32_t idx, const struct flow *s)
{
	struct flowtab_entry *e = &t->e[idx];
	uint32_t rate_ms = e->rate_ms;
	struct flow d;
	int rc;

	owner_out(t, e);
	sample(e, s);
	flowtab_flow(t, e, &d);
	field_merge(&d, s);
	rc = pack(t, e, &d);
	set_fresh(t, idx, rate_ms);
	owner_in(t, idx);
	return rc;
}

static void close_entry(struct flowtab *t, uint32_t idx, uint64_t mono)
{
	struct flowtab_entry *e = &t->e[idx];

	if (e->flags & FT_CLOSED)
		return;
	if (t->linger_ns == 0 || fifo_push(t, idx, mono)) {
		/* out of memory for the wait: it goes now */
		remove_entry(t, idx);
		return;
	}
	e->flags |= FT_CLOSED;
	t->nclosed++;
	t->st.closed++;
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
	uint8_t dirty;
	int i;

	if (t->live >= t->max) {
		t->st.full++;
		return -1;
	}
	/* at most one flow to two buckets: a new flow's look-up walks its
	 * whole chain, a cache miss an entry; at one to one a 1M-flow
	 * snapshot took 10 % longer to read (--batch), for 4 MiB less */
	if (t->live >= t->nbuckets / 2 && rehash(t, t->nbuckets * 2))
		return -1;
	if ((i = alloc_slot(t)) < 0)
		return -1;
	e = &t->e[i];
	dirty = e->flags & FT_DIRTY;
	memset(e, 0, sizeof(*e));
	e->flags = FT_LIVE | (by_id ? FT_BY_ID : 0) | dirty;
	e->rank = FT_RANK_STATELESS;
	e->since_ns = rec->ts_ns ? rec->ts_ns : t->now_ns;
	/* an empty entry has nothing to keep: the record is the flow, and
	 * the merge through a whole struct flow is skipped (it was 4/5 of a
	 * snapshot record's apply, callgrind) */
	sample(e, rec);		/* a first sample: no rate yet, not fresh */
	if (pack(t, e, rec)) {
		free_slot(t, (uint32_t)i);
		return -1;
	}
	head = bucket_of(t, e);
	e->hnext = *head;
	*head = (uint32_t)i + 1;
	owner_in(t, (uint32_t)i);
	t->live++;
	t->st.opened++;
	return i;
}

bool flowtab_apply(struct flowtab *t, const struct flow *rec, uint64_t mono)
{
	bool by_id = rec->has & FLOW_HAS_ID;
	int i;

	if (rec->ts_ns > t->now_ns) {
		t->now_ns = rec->ts_ns;
		stale_expire(t);
	}
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
		t->confirmed_mono = mono;
		return true;
	case FLOW_MARK_OVERRUN:
		t->st.overruns++;
		return true;
	case FLOW_MARK_REFRESH:
		t->st.refreshes++;
		t->confirmed_mono = mono;
		return true;
	default:
		break;
	}
	if (rec->has & FLOW_HAS_COUNTERS)
		t->any_counters = true;
	if (rec->netns_ino || rec->netns_name || rec->container_id)
		t->any_netns = true;
	i = lookup(t, rec, by_id);
	if (rec->action == FLOW_DESTROY) {
		if (i < 0)
			return false;
		merge(t, (uint32_t)i, rec);
		close_entry(t, (uint32_t)i, mono);
		return true;
	}
	if (i >= 0 && rec->action == FLOW_NEW && t->e[i].flags & FT_CLOSED) {
		/* the id was reused: a new flow, not the old one */
		fifo_forget(t, (uint32_t)i);
		remove_entry(t, (uint32_t)i);
		i = -1;
	}
	if (i < 0)
		i = insert(t, rec, by_id);
	else if (merge(t, (uint32_t)i, rec))
		return false;
	if (i < 0)
		return false;
	if (t->in_frame)
		t->e[i].seen = t->gen;
	return true;
}

uint64_t flowtab_expire(struct flowtab *t, uint64_t mono)
{
	while (t->fhead != t->ftail) {
		const struct flowtab_closed *c = &t->fifo[t->fhead];

		if (c->mono + t->linger_ns > mono)
			return t->next_expiry = c->mono + t->linger_ns;
		if (c->idx != UINT32_MAX && flowtab_shown(t, c->idx) &&
		    t->e[c->idx].flags & FT_CLOSED)
			remove_entry(t, c->idx);
		t->fhead = (t->fhead + 1) & (t->fcap - 1);
	}
	return t->next_expiry = 0;
}

void flowtab_hold(struct flowtab *t, bool hold)
{
	t->held = hold;
	/* the per-process rows name owners and namespaces by handle */
	t->owners.defer = t->netns.defer = hold;
	if (hold)
		return;
	shared_release_later(&t->owners);
	shared_release_later(&t->netns);
	if (!t->ndead)
		return;
	for (uint32_t i = 0; i < t->n; i++)
		if (t->e[i].flags & FT_DEAD)
			free_slot(t, i);
	t->ndead = 0;
}

size_t flowtab_bytes(const struct flowtab *t)
{
	return (size_t)t->n * sizeof(*t->e) + (size_t)t->nbuckets * sizeof(*t->buckets) +
	       (size_t)t->fcap * sizeof(*t->fifo) + (size_t)t->dirty_cap * sizeof(*t->dirty) +
	       (size_t)t->stale_cap * sizeof(*t->stale) + shared_bytes(&t->names) +
	       shared_bytes(&t->places) + shared_bytes(&t->owners) + shared_bytes(&t->netns);
}

int flowtab_reintern(struct flowtab *t, field_intern_fn fn, void *ctx)
{
	if (shared_reintern(&t->names, 1, fn, ctx) || shared_reintern(&t->places, 3, fn, ctx) ||
	    shared_reintern(&t->owners, 1, fn, ctx) || shared_reintern(&t->netns, 4, fn, ctx))
		return -1;
	return 0;
}
