/*
 * once.c - --once (see once.h).
 */
#include "once.h"

#include <poll.h>
#include <time.h>

#include "clock.h"
#include "netns.h"
#include "sockmap.h"

static int once_write(struct flow *f, void *data)
{
	struct emitter *em = data;

	/* a stop signal that came between writes: write no more, so that a
	 * stalled reader cannot hold us in the next one */
	if (*em->stop)
		return 0;
	if (!filter_match(&em->o->filter, f))
		return 0;
	enrich_flow(em->enr, f);
	return emitter_put_record(em, f);
}

/* First pass with DNS on: only queue the names the second pass will use. */
static int once_prefetch(struct flow *f, void *data)
{
	struct emitter *em = data;

	if (filter_match(&em->o->filter, f))
		enrich_names(em->enr, f);
	return 0;
}

struct counting {
	struct emitter *em;
	ctsource_cb cb;
	size_t seen;		/* flows the kernel returned, before filtering */
	const struct netns_watch *ns;	/* whose flows, with --netns */
};

static int count_flow(struct flow *f, void *data)
{
	struct counting *c = data;

	c->seen++;
	if (c->ns)
		netns_watch_tag(c->ns, f);
	return c->cb(f, c->em);
}

/* One whole dump of one table through cb. */
static int dump_one(struct emitter *em, struct ctsource *src, struct counting *c)
{
	struct ctsource_dump_filter df;
	int fam[2], n = emitter_dump_plan(em, fam, &df);

	if (c->ns)
		n = netns_dump_plan(fam, n, &df);
	for (int i = 0; i < n && !*em->stop; i++)
		if (ctsource_dump_sync(src, fam[i], &df, count_flow, c, em->stop) < 0)
			return emitter_fail(em, "cannot read the connection tracking table");
	return 0;
}

/* One whole dump through cb, of every namespace watched; how many flows
 * the kernel returned in *seen. */
static int dump_all(struct emitter *em, ctsource_cb cb, size_t *seen)
{
	struct counting c = { em, cb, 0, NULL };

	if (!em->ns && dump_one(em, em->src, &c) < 0)
		return -1;
	for (size_t i = 0; em->ns && i < em->nns && !*em->stop; i++) {
		uint32_t n;

		/* a dump walks the machine's whole table: none for an empty one */
		if (ctsource_count(em->ns[i]->src, &n) == 0 && n == 0)
			continue;
		c.ns = em->ns[i];
		/* its own sockets for the process fields, a fresh look at them */
		if (em->ns[i]->sm)
			sockmap_invalidate(em->ns[i]->sm);
		enrich_use_sockmap(em->enr, em->ns[i]->sm);
		if (dump_one(em, em->ns[i]->src, &c) < 0)
			return -1;
	}
	*seen = c.seen;
	return 0;
}

/* Wait for the names of the prefetch pass, at most --dns-timeout, in a
 * ppoll that alone lets SIGINT and SIGTERM in, so a signal ends the wait
 * at once however busy the resolver is. */
static void wait_names(struct emitter *em, const sigset_t *stops)
{
	uint64_t deadline = clock_mono_ms() + em->o->enrich.dns_timeout_ms;
	sigset_t old, open;

	sigprocmask(SIG_BLOCK, stops, &old);
	open = old;
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(stops, sig))
			sigdelset(&open, sig);
	enrich_drain(em->enr);
	while (!*em->stop && enrich_busy(em->enr)) {
		struct pollfd pfd = { enrich_fd(em->enr), POLLIN, 0 };
		uint64_t now = clock_mono_ms();
		int t = enrich_timeout_ms(em->enr);
		struct timespec ts;

		if (now >= deadline)
			break;
		if (t < 0 || (uint64_t)t > deadline - now)
			t = (int)(deadline - now);
		ts.tv_sec = t / 1000;
		ts.tv_nsec = (long)(t % 1000) * 1000000;
		/* an error here (EINTR) only ends this wait early */
		ppoll(&pfd, 1, &ts, &open);
		emitter_take_signal(em, stops);
		if (!*em->stop)
			enrich_drain(em->enr);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int once_run(struct emitter *em, const sigset_t *stops)
{
	size_t seen = 0;

	if (em->o->enrich.dns) {
		enrich_scan_begin(em->enr);
		if (dump_all(em, once_prefetch, &seen) < 0)
			return -1;
		wait_names(em, stops);
		if (*em->stop)
			return 0;	/* no records: main says which signal */
	}
	enrich_scan_begin(em->enr);
	if (dump_all(em, once_write, &seen) < 0)
		return -1;
	if (seen == 0 && !*em->stop)
		emitter_hint_empty();
	return 0;
}
