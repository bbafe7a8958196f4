/*
 * localaddr.h - the addresses of the network namespace the emitter runs in,
 * which say network.direction: whether a flow came into this host (ingress)
 * or left it (egress).  struct localaddr owns its list of addresses; a
 * refresh replaces it whole.
 *
 * The rule (ECS: a host-based observer writes ingress or egress, from the
 * host's point of view):
 *   - the original source is local and the destination is not: egress;
 *   - the original destination is local (after DNAT: the reply's source)
 *     and the source is not: ingress;
 *   - both local (loopback, the host to itself) or neither (a flow the host
 *     only routes): no direction, since neither word is true.
 * Loopback addresses (127/8, ::1) are always local.
 */
#ifndef FLOWTOP_LOCALADDR_H
#define FLOWTOP_LOCALADDR_H

#include <stdbool.h>

#include "flow.h"

struct localaddr;

/* An empty list; NULL with errno when out of memory. */
struct localaddr *localaddr_new(void);

/* Free the list (NULL: nothing). */
void localaddr_free(struct localaddr *la);

/* Read the interfaces' addresses anew (getifaddrs).  Returns 0, or -1 with
 * errno, keeping the list it had. */
int localaddr_refresh(struct localaddr *la);

/* Add one address (family AF_INET or AF_INET6, network byte order) to the
 * list; what localaddr_refresh() does for each, and a test's way in.
 * Returns 0, or -1 with errno. */
int localaddr_add(struct localaddr *la, int family, const void *addr);

/* Whether a is one of this host's addresses. */
bool localaddr_has(const struct localaddr *la, int family, const union flow_addr *a);

/* "ingress", "egress", or NULL when the rule gives none (see above). */
const char *localaddr_direction(const struct localaddr *la, const struct flow *f);

#endif
