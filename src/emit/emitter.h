/*
 * emitter.h - what the two modes of flowtop-emit (once.c, follow.c) share:
 * the options as parsed, the modules of one run, the record sink that
 * applies --events and remembers a failed write, and the stop signals.
 *
 * main.c owns struct emitter and every module it points to (it makes and
 * frees them); the modes borrow them for the length of their run.
 */
#ifndef FLOWTOP_EMITTER_H
#define FLOWTOP_EMITTER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "ctsource.h"
#include "enrich.h"
#include "filter.h"
#include "flow.h"
#include "writer.h"

/* The command line, as main.c parsed it. */
struct emit_opts {
	bool once;
	enum writer_format fmt;
	int fields[64];
	int nfields;
	unsigned int interval_ms;	/* --interval; 0: no refresh dumps */
	bool accounting;
	size_t bufsize;
	struct filter filter;
	bool kernel_filter;
	struct enrich_opts enrich;
	int verbose;
	bool quiet;
	const char *output;		/* --output FILE, or NULL: stdout */
	unsigned int events;		/* --events: 1u << flow_action written */
	bool no_header;			/* --no-header: CSV without its first line */
	const char **netns;		/* --netns SPECs (argv's strings) */
	size_t n_netns;
	bool all_netns;			/* --all-netns */
	const char **netns_filter;	/* --netns-filter PATTERNs (argv's) */
	size_t n_netns_filter;
};

struct netns_watch;
struct output;
struct tracker;

/* One run: the modules, and how it ended. */
struct emitter {
	const struct emit_opts *o;
	struct ctsource *src;
	struct writer *w;
	struct output *out;		/* follow mode's stdout */
	struct tracker *trk;		/* follow mode's memory of flows */
	struct enrich *enr;
	/* --netns, --all-netns: the namespaces watched, each with its own
	 * sockets (src is then NULL); main opens them and frees what is left,
	 * follow mode adds and drops some (netns.h) */
	struct netns_watch **ns;
	size_t nns;
	volatile sig_atomic_t *stop;	/* the stop signal's number, once one came */
	volatile sig_atomic_t *hup;	/* --output: SIGHUP asks for a new file */
	bool hup_reopens;		/* SIGHUP means *hup, not a stop */
	bool write_failed;		/* main says why: the path is its to name */
	int write_errno;
	bool failed;			/* another failure, already said */
};

/* Write a record, unless --events leaves its kind out.  0, or -1 with
 * em->write_failed and em->write_errno set. */
int emitter_put_record(struct emitter *em, const struct flow *f);

/* Write a marker (snapshot-begin, snapshot-end, overrun, refresh), unless --events
 * leaves markers out.  0, or -1 as emitter_put_record(). */
int emitter_put_marker(struct emitter *em, enum flow_action m);

/* The dump requests that cover the filters: fills fam[] (at most 2) and df
 * and returns how many requests. */
int emitter_dump_plan(const struct emitter *em, int fam[2], struct ctsource_dump_filter *df);

/* Say that the table is empty and what usually causes that (a notice). */
void emitter_hint_empty(void);

/* Take a stop signal or SIGHUP that is pending while blocked (stops: the
 * set main blocks) into *em->stop or *em->hup. */
void emitter_take_signal(struct emitter *em, const sigset_t *stops);

/* Report a failure once, as "WHAT: strerror(errno)" with a hint when the
 * kernel refused for want of privilege, unless a write failed (main names
 * the output) or the failure was already said.  Returns -1, errno kept. */
int emitter_fail(struct emitter *em, const char *what);

#endif
