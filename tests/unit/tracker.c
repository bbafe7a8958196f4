/* The follow-mode flow table: insert, change detection, removal, sweep. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tracker.h"

/* A flow with this id, and a tuple of its own. */
static struct flow *with_id(struct flow *f, uint32_t id)
{
	f->id = id;
	f->orig.sport = (uint16_t)(id * 31u);
	return f;
}

static int count_cb(const struct tracked *e, void *data)
{
	(void)e;
	(*(int *)data)++;
	return 0;
}

static int each_cb(struct tracked *e, void *data)
{
	(void)e;
	(*(int *)data)++;
	return 0;
}

/* One sighting; returns the action to write, or -1 for none. */
static int see(struct tracker *t, struct flow *f, enum tracker_src src, int action,
	       const char *state, const struct tracker_now *now)
{
	f->action = (uint8_t)action;
	f->state = state;
	return tracker_observe(t, f, src, true, now) == 1 ? f->action : -1;
}

/* The races of follow mode, one by one (see tracker.c). */
static void lifecycle(void)
{
	struct tracker *t = tracker_new();
	struct flow f = { .has = FLOW_HAS_ID | FLOW_HAS_TUPLE, .id = 7, .l4proto = 6 };
	struct tracker_now now = { .gen = 1, .ms = 1000, .drained_ms = 1000 };
	int n = 0;

	/* a refresh dump sees a flow before its NEW event is read */
	now.dumping = true;
	ok(see(t, &f, TRACKER_REFRESH, FLOW_SNAPSHOT, "SYN_RECV", &now) == -1,
	   "a dump's unknown flow waits for its NEW event");
	now.dumping = false;
	ok(see(t, &f, TRACKER_EVENT, FLOW_NEW, "SYN_SENT", &now) == FLOW_NEW,
	   "the NEW event is written as new");
	ok(see(t, &f, TRACKER_EVENT, FLOW_UPDATE, "ESTABLISHED", &now) == FLOW_UPDATE,
	   "an update follows");
	now.gen = 2, now.dumping = true;
	ok(see(t, &f, TRACKER_REFRESH, FLOW_SNAPSHOT, "SYN_RECV", &now) == -1,
	   "an older state from a dump is dropped");
	now.dumping = false;
	ok(see(t, &f, TRACKER_SNAPSHOT, FLOW_SNAPSHOT, "SYN_RECV", &now) == FLOW_SNAPSHOT &&
	   !strcmp(f.state, "ESTABLISHED"), "a frame names it with the state written before");

	/* a dump misses it: missing, not destroyed; the DESTROY event ends it */
	now.gen = 3, now.ms = 2000;
	tracker_sweep(t, TRACKER_REFRESH, &now, count_cb, &n);
	ok(n == 0 && tracker_find(t, &f)->life == TRACKED_MISSING, "missed once: missing, no destroy");
	ok(see(t, &f, TRACKER_EVENT, FLOW_DESTROY, NULL, &now) == FLOW_DESTROY,
	   "the kernel's destroy is written");
	ok(see(t, &f, TRACKER_EVENT, FLOW_DESTROY, NULL, &now) == -1, "a second one is not");
	ok(see(t, &f, TRACKER_EVENT, FLOW_UPDATE, "CLOSE", &now) == -1, "nor an update after it");
	now.dumping = true;
	ok(see(t, &f, TRACKER_REFRESH, FLOW_SNAPSHOT, "TIME_WAIT", &now) == -1,
	   "nor data of a dump that began before it");
	now.dumping = false;
	ok(see(t, &f, TRACKER_EVENT, FLOW_NEW, "SYN_SENT", &now) == FLOW_NEW,
	   "a NEW event with the same id and tuple is a new life");

	/* lost DESTROY: missed by two dumps after the queue was read empty */
	now.gen = 4, now.ms = 3000;
	tracker_sweep(t, TRACKER_REFRESH, &now, count_cb, &n);
	now.gen = 5, now.ms = 3200, now.drained_ms = 3200;
	tracker_sweep(t, TRACKER_REFRESH, &now, count_cb, &n);
	ok(n == 0, "not before the event queue was read empty a grace after");
	now.gen = 6, now.ms = 4000, now.drained_ms = 4000;
	tracker_sweep(t, TRACKER_REFRESH, &now, count_cb, &n);
	ok(n == 1, "then the sweep writes its destroy, once");
	ok(see(t, &f, TRACKER_EVENT, FLOW_DESTROY, NULL, &now) == -1,
	   "and a late DESTROY event is not written again");

	/* a flow with no NEW event at all is written from a later dump */
	f.id = 8;
	now.gen = 7;
	ok(see(t, &f, TRACKER_REFRESH, FLOW_SNAPSHOT, "ESTABLISHED", &now) == -1, "pending");
	now.gen = 8, now.ms = 5000, now.drained_ms = 5000;
	ok(see(t, &f, TRACKER_REFRESH, FLOW_SNAPSHOT, "ESTABLISHED", &now) == FLOW_NEW,
	   "no NEW event within the grace: written as new from the dump");
	/* a pending flow that goes before its first record says nothing */
	f.id = 9;
	ok(see(t, &f, TRACKER_REFRESH, FLOW_SNAPSHOT, "ESTABLISHED", &now) == -1 &&
	   see(t, &f, TRACKER_EVENT, FLOW_DESTROY, NULL, &now) == -1,
	   "a destroy of a flow never written is not written");
	/* the kernel reopens a closed connection in place: events say so */
	f.id = 10;
	see(t, &f, TRACKER_EVENT, FLOW_NEW, "SYN_SENT", &now);
	see(t, &f, TRACKER_EVENT, FLOW_UPDATE, "CLOSE", &now);
	ok(see(t, &f, TRACKER_EVENT, FLOW_UPDATE, "SYN_SENT", &now) == FLOW_UPDATE,
	   "a reopen in place (SYN_SENT after CLOSE) follows an event's state");
	see(t, &f, TRACKER_EVENT, FLOW_UPDATE, "LAST_ACK", &now);
	ok(see(t, &f, TRACKER_EVENT, FLOW_UPDATE, "FIN_WAIT", &now) == -1,
	   "an event queued out of order (FIN_WAIT after LAST_ACK) is dropped");
	tracker_free(t);
}

/* What a flow costs, and the parts beside the entries: IPv6 pairs and
 * counters, which IPv4 flows and runs without accounting do not pay for. */
static void compact(void)
{
	struct tracker *t = tracker_new();
	struct flow f = { .has = FLOW_HAS_ID | FLOW_HAS_TUPLE | FLOW_HAS_PORTS, .family = AF_INET,
			  .l4proto = 17 };
	struct flow a, b, back;
	const int N = 65536;	/* a full vector: no slack in the figure */
	size_t plain, with_v6;
	int bad = 0;

	f.state = NULL;
	for (int i = 0; i < N; i++) {
		f.orig.src.w[0] = htonl(0x0a000000u + (uint32_t)i);
		bad += tracker_put(t, with_id(&f, (uint32_t)i + 1), 1) != 1;
	}
	plain = tracker_bytes(t);
	ok(bad == 0 && plain / (size_t)N <= 56, "IPv4 without counters: %zu bytes a flow (at most 56)",
	   plain / (size_t)N);
	f.has |= FLOW_HAS_COUNTERS;
	f.orig_bytes = 5;
	f.orig.src.w[0] = htonl(0x0a000000u);
	tracker_put(t, with_id(&f, 1), 2);
	ok(tracker_bytes(t) / (size_t)N <= 56 + 32, "with counters: %zu bytes a flow (at most 88)",
	   tracker_bytes(t) / (size_t)N);
	/* counters only grow: smaller ones are stale, and a snapshot writes
	 * the larger ones written before */
	{
		struct tracker_now now = { .gen = 3, .ms = 1000, .drained_ms = 1000 };

		f.orig_bytes = 4;
		f.action = FLOW_UPDATE;
		ok(tracker_observe(t, &f, TRACKER_EVENT, true, &now) == 0,
		   "smaller counters from an event are dropped");
		ok(tracker_observe(t, &f, TRACKER_SNAPSHOT, true, &now) == 1 && f.orig_bytes == 5,
		   "a snapshot writes the counters written before");
	}
	tracker_free(t);

	/* IPv6: the pair beside the entry tells flows apart and comes back */
	t = tracker_new();
	memset(&a, 0, sizeof(a));
	a.has = FLOW_HAS_ID | FLOW_HAS_TUPLE | FLOW_HAS_PORTS;
	a.family = AF_INET6;
	a.l4proto = 6;
	a.id = 9;
	a.orig.src.b[0] = 0x20, a.orig.src.b[15] = 1;
	a.orig.dst.b[0] = 0x20, a.orig.dst.b[15] = 2;
	a.orig.sport = 1000, a.orig.dport = 443;
	b = a;
	b.orig.dst.b[15] = 3;
	tracker_put(t, &a, 1);
	ok(tracker_put(t, &b, 1) == 1 && tracker_count(t) == 2,
	   "IPv6: same id and ports, another destination: a second flow");
	tracker_to_flow(t, tracker_find(t, &b), &back);
	ok(!memcmp(&back.orig, &b.orig, sizeof(b.orig)) && back.family == AF_INET6,
	   "IPv6: the tuple comes back whole");
	with_v6 = tracker_bytes(t);
	bad = 0;
	for (int i = 0; i < 1000; i++) {
		b.orig.dst.b[12] = 0xff, b.orig.dst.b[14] = (uint8_t)(i >> 8), b.orig.dst.b[13] = (uint8_t)i;
		bad += tracker_put(t, &b, 1) != 1 || !tracker_remove(t, &b);
	}
	ok(bad == 0 && tracker_bytes(t) == with_v6 && tracker_find(t, &a),
	   "IPv6: a removed flow's pair is used again");
	tracker_to_flow(t, tracker_find(t, &a), &back);
	ok(!memcmp(&back.orig, &a.orig, sizeof(a.orig)), "and the others keep theirs");
	memset(&a, 0, sizeof(a));
	a.has = FLOW_HAS_ID | FLOW_HAS_TUPLE | FLOW_HAS_PORTS;
	a.family = AF_INET;
	a.id = 10;
	a.orig.src.w[0] = htonl(0xc0000201u), a.orig.dst.w[0] = htonl(0xc6336401u);
	a.orig.sport = 5353, a.orig.dport = 53;
	tracker_put(t, &a, 1);
	tracker_to_flow(t, tracker_find(t, &a), &back);
	ok(!memcmp(&back.orig, &a.orig, sizeof(a.orig)) && (back.has & FLOW_HAS_PORTS),
	   "IPv4: the tuple comes back whole");
	tracker_free(t);
}

/* Random puts and removes against a plain array: ids from a small range
 * collide (the same id, another tuple), the index doubles many times and
 * removals shift probe runs back, so every way a slot's tag and position
 * can go wrong is taken, with a fixed seed. */
static void random_against_reference(void)
{
	enum { IDS = 4096, PORTS = 4, STEPS = 400000 };
	static bool in[IDS][PORTS];
	struct tracker *t = tracker_new();
	struct flow f = { .has = FLOW_HAS_ID | FLOW_HAS_TUPLE };
	unsigned int seed = 12345, bad = 0, live = 0, bad_count = 0;

	for (int step = 0; step < STEPS; step++) {
		uint32_t id = (uint32_t)rand_r(&seed) % IDS, port = (uint32_t)rand_r(&seed) % PORTS;
		bool put = rand_r(&seed) % 3 != 0;

		f.id = id * 2654435761u;	/* spread like the kernel's */
		f.orig.sport = (uint16_t)port;
		if (put) {
			bad += tracker_put(t, &f, 1) != (in[id][port] ? 0 : 1);
			live += !in[id][port];
			in[id][port] = true;
		} else {
			bad += tracker_remove(t, &f) != in[id][port];
			live -= in[id][port];
			in[id][port] = false;
		}
		bad_count += tracker_count(t) != live;
		/* room made with flows in: they move to the new index */
		if (step == STEPS / 2)
			bad += tracker_reserve(t, 100000) != 0;
	}
	for (uint32_t id = 0; id < IDS; id++)
		for (uint32_t port = 0; port < PORTS; port++) {
			f.id = id * 2654435761u;
			f.orig.sport = (uint16_t)port;
			bad += (tracker_find(t, &f) != NULL) != in[id][port];
		}
	ok(bad == 0 && bad_count == 0,
	   "400,000 random puts and removes agree with a plain array, room made halfway");
	tracker_free(t);

	/* and a million, the size the tags were made for: every one found,
	 * no other tuple taken for one; room made first, as for a dump */
	t = tracker_new();
	bad += tracker_reserve(t, 1000000) != 0;
	for (uint32_t i = 0; i < 1000000; i++) {
		f.id = i * 2654435761u;
		f.orig.sport = 1;
		bad += tracker_put(t, &f, 1) != 1;
	}
	for (uint32_t i = 0; i < 1000000; i++) {
		f.id = i * 2654435761u;
		f.orig.sport = 1;
		bad += !tracker_find(t, &f);
		f.orig.sport = 2;
		bad += tracker_find(t, &f) != NULL;
	}
	ok(bad == 0 && tracker_count(t) == 1000000, "a million flows, each found, no stranger");
	tracker_free(t);
}

int main(void)
{
	struct tracker *t = tracker_new();
	struct flow f = { 0 };
	int n = 0, bad = 0;
	const int N = 50000;

	f.has = FLOW_HAS_ID | FLOW_HAS_TUPLE | FLOW_HAS_STATUS;
	f.state = "ESTABLISHED";
	for (int i = 0; i < N; i++)
		bad += tracker_put(t, with_id(&f, (uint32_t)i * 7919u + 1), 1) != 1;
	ok(bad == 0 && tracker_count(t) == (size_t)N, "inserts are new");
	bad = 0;
	for (int i = 0; i < N; i++)
		bad += tracker_put(t, with_id(&f, (uint32_t)i * 7919u + 1), 2) != 0;
	ok(bad == 0, "the same flow again is no change");
	with_id(&f, 1);
	f.state = "TIME_WAIT";
	ok(tracker_put(t, &f, 2) == 1, "a state change is a change");
	f.has |= FLOW_HAS_COUNTERS;
	f.orig_bytes = 10;
	ok(tracker_put(t, &f, 2) == 1, "a counter change is a change");
	f.process_name = "sshd";
	ok(tracker_put(t, &f, 2) == 1, "a late process is a change");
	ok(tracker_put(t, &f, 2) == 0, "and not twice");

	/* remove every other one, then all must still be found or not */
	for (int i = 0; i < N; i += 2)
		bad += !tracker_remove(t, with_id(&f, (uint32_t)i * 7919u + 1));
	for (int i = 0; i < N; i++) {
		bool found = tracker_find(t, with_id(&f, (uint32_t)i * 7919u + 1)) != NULL;

		bad += found != (i % 2 == 1);
	}
	ok(bad == 0 && tracker_count(t) == (size_t)N / 2, "removal keeps every other entry findable");
	ok(!tracker_remove(t, with_id(&f, 1)), "removing twice says so");

	/* a snapshot frame's end: only entries seen in generation 3 live on */
	for (int i = 1; i < N; i += 4)
		tracker_put(t, with_id(&f, (uint32_t)i * 7919u + 1), 3);
	{
		struct tracker_now now = { .gen = 3, .ms = 1000 };

		tracker_sweep(t, TRACKER_SNAPSHOT, &now, count_cb, &n);
	}
	ok(n == 0, "a frame's end writes no destroys");
	n = 0;
	tracker_each(t, each_cb, &n);
	ok(n == N / 4, "only the flows the frame saw are alive");
	bad = 0;
	for (int i = 1; i < N; i += 2) {
		struct tracked *e = tracker_find(t, with_id(&f, (uint32_t)i * 7919u + 1));

		bad += !e || (e->life == TRACKED_ALIVE) != (i % 4 == 1);
	}
	ok(bad == 0, "the rest are dead, remembered for a while");
	{
		struct tracker_now now = { .gen = 4, .ms = 2000, .drained_ms = 2000 };

		tracker_expire(t, &now);
	}
	ok(tracker_count(t) == (size_t)N / 4, "and forgotten once nothing stale can name them");
	tracker_free(t);

	/* two live flows with the same id (a hash collision) stay two */
	t = tracker_new();
	{
		struct flow a = { .has = FLOW_HAS_ID | FLOW_HAS_TUPLE, .id = 42 }, b = a;

		a.orig.sport = 1;
		b.orig.sport = 2;
		tracker_put(t, &a, 1);
		ok(tracker_put(t, &b, 1) == 1 && tracker_count(t) == 2, "same id, other tuple: a second flow");
		ok(tracker_remove(t, &a) && tracker_find(t, &b) && !tracker_find(t, &a),
		   "removing one leaves the other");
	}
	tracker_free(t);
	lifecycle();
	compact();
	random_against_reference();
	return tap_done();
}
