/* The follow-mode flow table: insert, change detection, removal, sweep. */
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

	/* sweep: only entries seen in generation 3 survive */
	for (int i = 1; i < N; i += 4)
		tracker_put(t, with_id(&f, (uint32_t)i * 7919u + 1), 3);
	tracker_sweep(t, 3, count_cb, &n);
	ok(n == N / 4 && tracker_count(t) == (size_t)N / 4, "sweep reports and drops the unseen");
	bad = 0;
	for (int i = 1; i < N; i += 2)
		bad += (tracker_find(t, with_id(&f, (uint32_t)i * 7919u + 1)) != NULL) != (i % 4 == 1);
	ok(bad == 0, "the seen survive the sweep");
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
	return tap_done();
}
