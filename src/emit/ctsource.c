/*
 * ctsource.c - ctnetlink over libmnl, parsed by libnetfilter_conntrack.
 *
 * Dumps and events use separate sockets so that a long dump never delays the
 * event socket: main polls both and drains the events first.
 */
#include "ctsource.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "nldump.h"

/* Dump filter flag from the kernel's nf_internals.h (ABI, not exported). */
#define FLOWTOP_CTA_FILTER_F_PROTO_NUM (1u << 3)

/* Events are one skb each; a batch of them per recvmmsg() call keeps the
 * syscall count down during a burst. */
#define EV_BATCH 64
#define EV_SLOT 8192
/* batches per call: then the caller's loop gets a turn (signals, dumps) */
#define EV_ROUNDS 16
/* buffers between the receiving thread and the formatting one (--once) */
#define RING 8

/* --once: one thread receives the dump while the caller's thread parses and
 * writes what came before.  On two cores the dump then costs about the
 * larger of the kernel's work and ours instead of their sum. */
struct ring {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd;
	char *buf[RING];
	ssize_t len[RING];
	int err[RING];
	unsigned int head, tail;	/* buffers received, buffers taken */
	bool done, stop;
};

struct ctsource {
	struct mnl_socket *dump;
	struct mnl_socket *ev;
	unsigned int dump_portid;
	unsigned int dump_seq;
	char *dumpbuf;
	char *ringbuf;			/* RING * NLDUMP_BUF, for --once */
	char *evbuf;
	struct mmsghdr *msgs;
	struct iovec *iov;
	bool ev_drained;		/* the last event read emptied the queue */
};

struct ctsource *ctsource_new(void)
{
	struct ctsource *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->dumpbuf = malloc(NLDUMP_BUF);
	s->dump = mnl_socket_open(NETLINK_NETFILTER);
	if (!s->dumpbuf || !s->dump || mnl_socket_bind(s->dump, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		ctsource_free(s);
		errno = e;
		return NULL;
	}
	s->dump_portid = mnl_socket_get_portid(s->dump);
	s->dump_seq = (unsigned int)time(NULL);
	return s;
}

void ctsource_free(struct ctsource *s)
{
	if (!s)
		return;
	if (s->dump)
		mnl_socket_close(s->dump);
	if (s->ev)
		mnl_socket_close(s->ev);
	free(s->dumpbuf);
	free(s->ringbuf);
	free(s->evbuf);
	free(s->msgs);
	free(s->iov);
	free(s);
}

int ctsource_events_open(struct ctsource *s, size_t rcvbuf, size_t *granted)
{
	int fd, sz = rcvbuf > (size_t)INT32_MAX / 2 ? INT32_MAX / 2 : (int)rcvbuf;
	socklen_t len = sizeof(sz);
	unsigned int groups = NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_UPDATE |
			      NF_NETLINK_CONNTRACK_DESTROY;

	s->evbuf = malloc((size_t)EV_BATCH * EV_SLOT);
	s->msgs = calloc(EV_BATCH, sizeof(*s->msgs));
	s->iov = calloc(EV_BATCH, sizeof(*s->iov));
	if (!s->evbuf || !s->msgs || !s->iov)
		return -1;
	for (int i = 0; i < EV_BATCH; i++) {
		s->iov[i].iov_base = s->evbuf + (size_t)i * EV_SLOT;
		s->iov[i].iov_len = EV_SLOT;
		s->msgs[i].msg_hdr.msg_iov = &s->iov[i];
		s->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	s->ev = mnl_socket_open(NETLINK_NETFILTER);
	if (!s->ev)
		return -1;
	fd = mnl_socket_get_fd(s->ev);
	/* FORCE passes net.core.rmem_max with CAP_NET_ADMIN; fall back quietly */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, &len) == 0 && granted)
		*granted = (size_t)sz;
	if (mnl_socket_bind(s->ev, groups, MNL_SOCKET_AUTOPID) < 0)
		return -1;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

int ctsource_events_filter(struct ctsource *s, struct nfct_filter *filter)
{
	return nfct_filter_attach(mnl_socket_get_fd(s->ev), filter);
}

int ctsource_dump_fd(const struct ctsource *s)
{
	return mnl_socket_get_fd(s->dump);
}

int ctsource_event_fd(const struct ctsource *s)
{
	return s->ev ? mnl_socket_get_fd(s->ev) : -1;
}

int ctsource_dump_start(struct ctsource *s, int family, const struct ctsource_dump_filter *df)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfh;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++s->dump_seq;
	nfh = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfh));
	/* the kernel filters the dump on this family */
	nfh->nfgen_family = (uint8_t)family;
	nfh->version = NFNETLINK_V0;
	nfh->res_id = 0;
	if (df && df->l4proto >= 0) {
		/* CTA_FILTER (Linux 5.8+): the kernel skips other protocols;
		 * older kernels ignore it and user space still filters. */
		struct nlattr *tuple, *proto, *filter;

		tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
		proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
		mnl_attr_put_u8(nlh, CTA_PROTO_NUM, (uint8_t)df->l4proto);
		mnl_attr_nest_end(nlh, proto);
		mnl_attr_nest_end(nlh, tuple);
		filter = mnl_attr_nest_start(nlh, CTA_FILTER);
		mnl_attr_put_u32(nlh, CTA_FILTER_ORIG_FLAGS, FLOWTOP_CTA_FILTER_F_PROTO_NUM);
		mnl_attr_put_u32(nlh, CTA_FILTER_REPLY_FLAGS, 0);
		mnl_attr_nest_end(nlh, filter);
	}
	return mnl_socket_sendto(s->dump, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
}

/* The stats answer: the number of flows in the table, where asked. */
static int stats_attr(const struct nlattr *a, void *data)
{
	int64_t *entries = data;

	if (mnl_attr_get_type(a) == CTA_STATS_GLOBAL_ENTRIES &&
	    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		*entries = ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

static int probe_cb(const struct nlmsghdr *nlh, void *data)
{
	if (data)
		mnl_attr_parse(nlh, sizeof(struct nfgenmsg), stats_attr, data);
	return MNL_CB_OK;
}

static int stats_ask(struct ctsource *s, int64_t *entries);

int ctsource_probe(struct ctsource *s)
{
	return stats_ask(s, NULL);
}

int ctsource_count(struct ctsource *s, uint32_t *n)
{
	int64_t entries = -1;

	if (stats_ask(s, &entries) < 0)
		return -1;
	if (entries < 0) {
		errno = ENOTSUP;	/* a kernel older than the attribute */
		return -1;
	}
	*n = (uint32_t)entries;
	return 0;
}

static int stats_ask(struct ctsource *s, int64_t *entries)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfh;
	ssize_t n;

	/* the table's counters: one small answer, refused like any ctnetlink
	 * request when the caller lacks CAP_NET_ADMIN */
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_STATS;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++s->dump_seq;
	nfh = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfh));
	nfh->nfgen_family = AF_UNSPEC;
	nfh->version = NFNETLINK_V0;
	if (mnl_socket_sendto(s->dump, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		n = mnl_socket_recvfrom(s->dump, buf, sizeof(buf));
		if (n < 0)
			return -1;
		n = mnl_cb_run(buf, (size_t)n, s->dump_seq, s->dump_portid, probe_cb, entries);
	} while (n > 0);
	return n < 0 ? -1 : 0;
}

static void copy_addr(const struct nf_conntrack *ct, int family, int a4, int a6,
		      union flow_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (family == AF_INET)
		out->w[0] = nfct_get_attr_u32(ct, (enum nf_conntrack_attr)a4);
	else
		memcpy(out->b, nfct_get_attr(ct, (enum nf_conntrack_attr)a6), 16);
}

/* Fill a flow from a parsed conntrack object. */
static void flow_from_ct(struct flow *f, const struct nf_conntrack *ct)
{
	int fam = nfct_get_attr_u8(ct, ATTR_L3PROTO);

	f->family = (uint8_t)fam;
	f->l4proto = nfct_get_attr_u8(ct, ATTR_L4PROTO);
	if (fam == AF_INET || fam == AF_INET6) {
		copy_addr(ct, fam, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV6_SRC, &f->orig.src);
		copy_addr(ct, fam, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST, &f->orig.dst);
		f->has |= FLOW_HAS_TUPLE;
		if (nfct_attr_is_set(ct, ATTR_REPL_IPV4_SRC) > 0 ||
		    nfct_attr_is_set(ct, ATTR_REPL_IPV6_SRC) > 0) {
			copy_addr(ct, fam, ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV6_SRC, &f->reply.src);
			copy_addr(ct, fam, ATTR_REPL_IPV4_DST, ATTR_REPL_IPV6_DST, &f->reply.dst);
			f->has |= FLOW_HAS_REPLY;
		}
	}
	if (nfct_attr_is_set(ct, ATTR_ORIG_PORT_SRC) > 0) {
		f->orig.sport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
		f->orig.dport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
		f->has |= FLOW_HAS_PORTS;
	}
	if (nfct_attr_is_set(ct, ATTR_REPL_PORT_SRC) > 0) {
		f->reply.sport = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC));
		f->reply.dport = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_DST));
		f->has |= FLOW_HAS_REPLY_PORTS;
	}
	if (nfct_attr_is_set(ct, ATTR_ICMP_TYPE) > 0) {
		f->icmp_type = nfct_get_attr_u8(ct, ATTR_ICMP_TYPE);
		f->icmp_code = nfct_get_attr_u8(ct, ATTR_ICMP_CODE);
		f->icmp_id = ntohs(nfct_get_attr_u16(ct, ATTR_ICMP_ID));
		f->has |= FLOW_HAS_ICMP;
	}
	if (nfct_attr_is_set(ct, ATTR_TCP_STATE) > 0)
		f->state = flow_state_name(IPPROTO_TCP, nfct_get_attr_u8(ct, ATTR_TCP_STATE));
	else if (nfct_attr_is_set(ct, ATTR_SCTP_STATE) > 0)
		f->state = flow_state_name(IPPROTO_SCTP, nfct_get_attr_u8(ct, ATTR_SCTP_STATE));
	else if (nfct_attr_is_set(ct, ATTR_DCCP_STATE) > 0)
		f->state = flow_state_name(IPPROTO_DCCP, nfct_get_attr_u8(ct, ATTR_DCCP_STATE));
	if (nfct_attr_is_set(ct, ATTR_STATUS) > 0) {
		f->status = nfct_get_attr_u32(ct, ATTR_STATUS);
		f->has |= FLOW_HAS_STATUS;
	}
	if (nfct_attr_is_set(ct, ATTR_TIMEOUT) > 0) {
		f->timeout = nfct_get_attr_u32(ct, ATTR_TIMEOUT);
		f->has |= FLOW_HAS_TIMEOUT;
	}
	if (nfct_attr_is_set(ct, ATTR_MARK) > 0) {
		f->mark = nfct_get_attr_u32(ct, ATTR_MARK);
		f->has |= FLOW_HAS_MARK;
	}
	/* the kernel leaves CTA_ZONE out for the default zone, 0 */
	if (nfct_attr_is_set(ct, ATTR_ZONE) > 0)
		f->zone = nfct_get_attr_u16(ct, ATTR_ZONE);
	f->has |= FLOW_HAS_ZONE;
	if (nfct_attr_is_set(ct, ATTR_ID) > 0) {
		f->id = nfct_get_attr_u32(ct, ATTR_ID);
		f->has |= FLOW_HAS_ID;
	}
	if (nfct_attr_is_set(ct, ATTR_ORIG_COUNTER_BYTES) > 0) {
		f->orig_bytes = nfct_get_attr_u64(ct, ATTR_ORIG_COUNTER_BYTES);
		f->orig_packets = nfct_get_attr_u64(ct, ATTR_ORIG_COUNTER_PACKETS);
		f->reply_bytes = nfct_get_attr_u64(ct, ATTR_REPL_COUNTER_BYTES);
		f->reply_packets = nfct_get_attr_u64(ct, ATTR_REPL_COUNTER_PACKETS);
		f->has |= FLOW_HAS_COUNTERS;
	}
	if (nfct_attr_is_set(ct, ATTR_TIMESTAMP_START) > 0) {
		f->start_ns = nfct_get_attr_u64(ct, ATTR_TIMESTAMP_START);
		if (f->start_ns)
			f->has |= FLOW_HAS_START;
	}
	/* only a destroy has one; the record's event.end */
	if (nfct_attr_is_set(ct, ATTR_TIMESTAMP_STOP) > 0)
		f->end_ns = nfct_get_attr_u64(ct, ATTR_TIMESTAMP_STOP);
	flow_derive_nat(f);
}

struct parse_ctx {
	ctsource_cb cb;
	void *data;
	uint64_t now;
	int action;		/* -1: take it from the message type */
	int err;
};

static int parse_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct parse_ctx *pc = arg;
	struct nf_conntrack *ct = nfct_new();
	struct flow f;
	int rc;

	if (!ct) {
		pc->err = errno;
		return MNL_CB_ERROR;
	}
	memset(&f, 0, sizeof(f));
	if (nfct_nlmsg_parse(nlh, ct) < 0) {
		/* a message we cannot read is skipped, not fatal */
		nfct_destroy(ct);
		return MNL_CB_OK;
	}
	flow_from_ct(&f, ct);
	nfct_destroy(ct);
	f.ts_ns = pc->now;
	if (pc->action >= 0) {
		f.action = (uint8_t)pc->action;
	} else if ((nlh->nlmsg_type & 0xff) == IPCTNL_MSG_CT_DELETE) {
		f.action = FLOW_DESTROY;
	} else {
		f.action = (nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL)) ? FLOW_NEW : FLOW_UPDATE;
	}
	rc = pc->cb(&f, pc->data);
	if (rc < 0) {
		pc->err = errno ? errno : EIO;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int ctsource_dump_read(struct ctsource *s, ctsource_cb cb, void *data)
{
	struct parse_ctx pc = { cb, data, flow_now_ns(), FLOW_SNAPSHOT, 0 };
	ssize_t n;
	int rc;

	n = recv(mnl_socket_get_fd(s->dump), s->dumpbuf, NLDUMP_BUF, MSG_DONTWAIT);
	if (n < 0)
		return -1;
	rc = mnl_cb_run(s->dumpbuf, (size_t)n, s->dump_seq, s->dump_portid, parse_msg, &pc);
	if (rc == MNL_CB_ERROR) {
		if (pc.err)
			errno = pc.err;
		return -1;
	}
	return rc == MNL_CB_STOP ? 0 : 1;
}

int ctsource_event_read(struct ctsource *s, ctsource_cb cb, void *data)
{
	struct parse_ctx pc = { cb, data, 0, -1, 0 };
	int total = 0;

	s->ev_drained = false;
	for (int round = 0; round < EV_ROUNDS; round++) {
		int n = recvmmsg(mnl_socket_get_fd(s->ev), s->msgs, EV_BATCH, MSG_DONTWAIT, NULL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				s->ev_drained = true;
				return total;
			}
			if (errno == EINTR)
				continue;
			return -1;
		}
		pc.now = flow_now_ns();
		for (int i = 0; i < n; i++) {
			int rc = mnl_cb_run(s->iov[i].iov_base, s->msgs[i].msg_len, 0, 0,
					    parse_msg, &pc);

			if (rc == MNL_CB_ERROR && pc.err) {
				errno = pc.err;
				return -1;
			}
			total++;
		}
		/* a short batch: the queue was empty when it was taken */
		if (n < EV_BATCH) {
			s->ev_drained = true;
			return total;
		}
	}
	return total;
}

bool ctsource_events_drained(const struct ctsource *s)
{
	return s->ev_drained;
}

/* Whether a dump buffer ends the dump (the last part, or an error). */
static bool dump_ends(const char *buf, ssize_t n)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int len = (int)n;

	if (n <= 0)
		return true;
	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
		if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR)
			return true;
	return false;
}

static void *ring_reader(void *arg)
{
	struct ring *r = arg;
	sigset_t all;
	bool end = false;

	/* signals are for the main thread, which decides when to stop */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&r->mu);
	while (!end) {
		unsigned int slot;
		ssize_t n;

		while (r->head - r->tail == RING && !r->stop)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop)
			break;
		slot = r->head % RING;
		pthread_mutex_unlock(&r->mu);
		n = recv(r->fd, r->buf[slot], NLDUMP_BUF, 0);
		end = dump_ends(r->buf[slot], n);
		pthread_mutex_lock(&r->mu);
		r->len[slot] = n;
		r->err[slot] = n < 0 ? errno : 0;
		r->head++;
		pthread_cond_broadcast(&r->cv);
	}
	r->done = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int ctsource_dump_sync(struct ctsource *s, int family, const struct ctsource_dump_filter *df,
		       ctsource_cb cb, void *data, volatile sig_atomic_t *stop)
{
	struct parse_ctx pc = { cb, data, flow_now_ns(), FLOW_SNAPSHOT, 0 };
	struct ring r = { .fd = mnl_socket_get_fd(s->dump) };
	pthread_t t;
	int rc = 0, err = 0;

	if (!s->ringbuf && !(s->ringbuf = malloc((size_t)RING * NLDUMP_BUF)))
		return -1;
	for (int i = 0; i < RING; i++)
		r.buf[i] = s->ringbuf + (size_t)i * NLDUMP_BUF;
	if (ctsource_dump_start(s, family, df) < 0)
		return -1;
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	if ((err = pthread_create(&t, NULL, ring_reader, &r))) {
		pthread_cond_destroy(&r.cv);
		pthread_mutex_destroy(&r.mu);
		errno = err;
		return -1;
	}
	pthread_mutex_lock(&r.mu);
	for (;;) {
		unsigned int slot;

		while (r.tail == r.head && !r.done)
			pthread_cond_wait(&r.cv, &r.mu);
		if (r.tail == r.head || (stop && *stop))
			break;
		slot = r.tail % RING;
		pthread_mutex_unlock(&r.mu);
		if (r.len[slot] < 0) {
			err = r.err[slot];
			rc = MNL_CB_ERROR;
		} else {
			pc.now = flow_now_ns();
			rc = mnl_cb_run(r.buf[slot], (size_t)r.len[slot], s->dump_seq,
					s->dump_portid, parse_msg, &pc);
			err = rc == MNL_CB_ERROR ? (pc.err ? pc.err : errno) : 0;
		}
		pthread_mutex_lock(&r.mu);
		r.tail++;
		pthread_cond_broadcast(&r.cv);
		if (rc <= MNL_CB_STOP)
			break;
	}
	/* the reader stops at the end of the dump, or now if we gave up */
	r.stop = true;
	pthread_cond_broadcast(&r.cv);
	pthread_mutex_unlock(&r.mu);
	pthread_join(t, NULL);
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
	if (rc == MNL_CB_ERROR) {
		errno = err;
		return -1;
	}
	return 0;
}

bool ctsource_denied(int err)
{
	return err == EPERM || err == EACCES;
}
