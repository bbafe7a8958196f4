/*
 * sockmap.h - the local sockets of this network namespace, found by tuple.
 *
 * struct sockmap owns one snapshot of the kernel's socket tables (TCP, UDP,
 * UDP-lite, SCTP and DCCP where the kernel has them; IPv4 and IPv6), read
 * with one NETLINK_SOCK_DIAG inet_diag dump per family and transport, and
 * only for a transport that a flow asks about.  Memory is proportional to
 * the number of sockets in the namespace (about 64 bytes each plus 16 to
 * 32 of index); it is a snapshot, replaced by each dump, not a growing
 * cache.
 *
 * Which socket owns a flow (sockmap_find_flow), first match wins:
 *   1. the originator's socket, exactly: local = orig.src:sport,
 *      remote = orig.dst:dport (outgoing connections; also the client end
 *      of a loopback flow, where both ends are local: the client is
 *      preferred because it is the one that made the flow);
 *   2. the responder's socket, exactly, by the reply tuple: local =
 *      reply.src:sport, remote = reply.dst:dport (accepted connections,
 *      also behind DNAT/REDIRECT and SNAT, since the reply tuple holds the
 *      addresses the socket really has);
 *   3. an unconnected UDP/UDP-lite socket bound to the originator's local
 *      address and port, or to the wildcard address (a client that uses
 *      sendto()), only when that address is one of this host's;
 *   4. a socket bound to the responder's address and port, or the wildcard:
 *      an unconnected UDP server, or for TCP/SCTP/DCCP the listener, when
 *      the connection is still in the listener's queues (the exact socket
 *      is there without an inode, or the flow is in SYN_RECV); again only
 *      for one of this host's addresses, so routed flows never match.
 * IPv4 flows also match IPv6 sockets that hold v4-mapped addresses, and
 * IPv6 wildcard sockets that are not IPV6_V6ONLY.  Exact sockets without
 * an inode in a closing state (orphaned, TIME_WAIT) count as gone.
 */
#ifndef FLOWTOP_SOCKMAP_H
#define FLOWTOP_SOCKMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"

/* A dump of the same transport is repeated on a miss at most every this
 * many ms, or ten times the last dump's cost if that is longer (so misses
 * never spend more than about a tenth of the time dumping). */
#define SOCKMAP_REFRESH_MS 250

struct sockmap;

struct sockmap_sock {
	uint64_t inode;		/* 0: no file (in an accept queue) */
	uint32_t uid;
	uint8_t state;		/* kernel TCP_* state number */
};

/* An empty map; NULL with errno when the netlink socket cannot be opened. */
struct sockmap *sockmap_new(void);

void sockmap_free(struct sockmap *m);

/* Take the host's addresses of rules 3 and 4 from the network namespace
 * open on fd (the caller's, kept open), not from the calling thread's: for
 * a map made inside another namespace (netns.h).  -1: the thread's own. */
void sockmap_set_netns(struct sockmap *m, int fd);

/* Start a new scan: the next look-up of each transport dumps it again. */
void sockmap_invalidate(struct sockmap *m);

/* Dump one transport's sockets (both families) now; 0, or -1 with errno
 * (EPROTONOSUPPORT when the kernel has no sock_diag for it). */
int sockmap_refresh(struct sockmap *m, uint8_t l4proto);

/* The local socket of a flow (rules above); true when found.  Dumps on
 * demand, and again on a miss within the SOCKMAP_REFRESH_MS bound. */
bool sockmap_find_flow(struct sockmap *m, const struct flow *f,
		       struct sockmap_sock *out);

/* Exact look-up of a connected socket; addresses as in union flow_addr. */
bool sockmap_find_exact(struct sockmap *m, uint8_t l4proto, int family,
			const union flow_addr *laddr, uint16_t lport,
			const union flow_addr *raddr, uint16_t rport,
			struct sockmap_sock *out);

/* Number of sockets in the current snapshot of one transport. */
size_t sockmap_count(const struct sockmap *m, uint8_t l4proto);

#endif
