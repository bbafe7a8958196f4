/*
 * ctsource.h - the kernel side: ctnetlink dumps and events as struct flow.
 *
 * struct ctsource owns two netlink sockets (one for dumps, one subscribed to
 * the event groups) and its receive buffers; ctsource_dump_sync() also runs
 * a receiving thread of its own, which has ended when it returns.  Flows
 * handed to the callback live only for the duration of the call.
 */
#ifndef FLOWTOP_CTSOURCE_H
#define FLOWTOP_CTSOURCE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "flow.h"

struct ctsource;

/* Called once per flow; return 0 to go on, -1 to stop with an error. */
typedef int (*ctsource_cb)(struct flow *f, void *data);

/* What the kernel can filter for us in a dump (one l4proto, or -1). */
struct ctsource_dump_filter {
	int l4proto;
};

/* Open the dump socket.  NULL with errno on failure. */
struct ctsource *ctsource_new(void);
void ctsource_free(struct ctsource *s);

/* Ask the kernel something small, so that a missing privilege or missing
 * ctnetlink shows before anything else is set up.  0, or -1 with errno. */
int ctsource_probe(struct ctsource *s);

/* How many flows the table holds now (the kernel's count, no dump): a
 * namespace with none need not be dumped, which saves a walk of the
 * machine-wide hash table.  0, or -1 with errno (ENOTSUP: no count). */
int ctsource_count(struct ctsource *s, uint32_t *n);

/* Subscribe a second socket to NEW, UPDATE and DESTROY events with a receive
 * buffer of 'rcvbuf' bytes (forced past rmem_max when we may); the size the
 * kernel granted is stored in *granted.  0 or -1 with errno. */
int ctsource_events_open(struct ctsource *s, size_t rcvbuf, size_t *granted);

/* Attach a kernel-side BPF filter to the event socket (libnetfilter_conntrack
 * nfct_filter); 0 or -1 with errno. */
struct nfct_filter;
int ctsource_events_filter(struct ctsource *s, struct nfct_filter *filter);

/* The descriptors to poll: dump socket, event socket (-1 if not open). */
int ctsource_dump_fd(const struct ctsource *s);
int ctsource_event_fd(const struct ctsource *s);

/* Ask the kernel for a dump of one family (AF_INET or AF_INET6). */
int ctsource_dump_start(struct ctsource *s, int family, const struct ctsource_dump_filter *df);

/* Read what the dump socket holds without blocking (follow mode), handing
 * each flow to cb.  Returns 1 while the dump goes on, 0 when it is done, -1 on error
 * (errno; EAGAIN means nothing to read yet). */
int ctsource_dump_read(struct ctsource *s, ctsource_cb cb, void *data);

/* A whole dump of one family, for --once: a second thread receives while
 * this one hands each flow to cb.  Stops early when *stop becomes non-zero.
 * 0, or -1 with errno. */
int ctsource_dump_sync(struct ctsource *s, int family, const struct ctsource_dump_filter *df,
		       ctsource_cb cb, void *data, volatile sig_atomic_t *stop);

/* Read queued events without blocking, a bounded number per call so the
 * caller's loop keeps turning during a flood.  Returns the number of events,
 * or -1 with errno: ENOBUFS means events were lost (the socket stays open). */
int ctsource_event_read(struct ctsource *s, ctsource_cb cb, void *data);

/* Whether the last ctsource_event_read() found the queue empty in the end,
 * so that every event the kernel queued before that call has been read. */
bool ctsource_events_drained(const struct ctsource *s);

/* Whether err, the errno of a failed ctsource call, means that the kernel
 * refused the request for want of CAP_NET_ADMIN (EPERM; EACCES where a
 * security module refused it).  A test of the value alone: it knows
 * nothing of which request failed. */
bool ctsource_denied(int err);

#endif
