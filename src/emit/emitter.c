/*
 * emitter.c - the record sink, dump plan and signals both modes share
 * (see emitter.h).
 */
#include "emitter.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "notice.h"

/* --events filters here, at the write, so the tracker and the enrichers
 * still see every record: a destroy needs the new before it. */
int emitter_put_record(struct emitter *em, const struct flow *f)
{
	if (!(em->o->events & (1u << f->action)))
		return 0;
	if (writer_write(em->w, f) == 0)
		return 0;
	em->write_failed = true;
	em->write_errno = errno;
	return -1;
}

int emitter_put_marker(struct emitter *em, enum flow_action m)
{
	if (!(em->o->events & (1u << m)))
		return 0;
	if (writer_marker(em->w, m) == 0)
		return 0;
	em->write_failed = true;
	em->write_errno = errno;
	return -1;
}

/* The kernel walks its whole (machine-wide) hash table for every dump
 * request, so when both families are wanted and no per-family filter
 * applies, one AF_UNSPEC request does the work of two. */
int emitter_dump_plan(const struct emitter *em, int fam[2], struct ctsource_dump_filter *df)
{
	const struct filter *fl = &em->o->filter;
	int n = 0;

	df->l4proto = em->o->kernel_filter ? filter_dump_l4proto(fl) : -1;
	if (fl->want_v4 && fl->want_v6 && df->l4proto < 0) {
		fam[n++] = AF_UNSPEC;
		return n;
	}
	/* CTA_FILTER needs a family: one request each */
	if (fl->want_v4)
		fam[n++] = AF_INET;
	if (fl->want_v6)
		fam[n++] = AF_INET6;
	return n;
}

void emitter_hint_empty(void)
{
	notice("the connection tracking table is empty; nothing may be "
	       "asking for tracking (try: nft add table inet flowtop '{ chain c { type "
	       "filter hook output priority 0; ct state new,established counter; }; }')");
}

/* ppoll() only delivers a pending signal when it would sleep; with a
 * descriptor always ready (a busy resolver, a flood of events) the signal
 * would wait forever, so it is taken by hand after each round. */
void emitter_take_signal(struct emitter *em, const sigset_t *stops)
{
	static const struct timespec zero = { 0, 0 };
	int sig = sigtimedwait(stops, NULL, &zero);

	if (sig == SIGHUP && em->hup_reopens)
		*em->hup = 1;
	else if (sig > 0)
		*em->stop = sig;
}

int emitter_fail(struct emitter *em, const char *what)
{
	int err = errno;

	if (!em->write_failed && !em->failed)
		notice_error("%s: %s%s", what, strerror(err), ctsource_denied(err) ?
			     " (needs CAP_NET_ADMIN; run as root)" : "");
	em->failed = true;
	errno = err;
	return -1;
}
