/*
 * localaddr.c - this namespace's addresses and the direction of a flow
 * (rule in localaddr.h).  A host has a handful of addresses: a plain array
 * searched linearly is the fastest thing for it.
 */
#include "localaddr.h"

#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "vec.h"

struct la_addr {
	uint8_t family;
	union flow_addr a;
};

struct localaddr {
	struct la_addr *v;
	size_t n, cap;
};

struct localaddr *localaddr_new(void)
{
	return calloc(1, sizeof(struct localaddr));
}

void localaddr_free(struct localaddr *la)
{
	if (!la)
		return;
	free(la->v);
	free(la);
}

int localaddr_add(struct localaddr *la, int family, const void *addr)
{
	struct la_addr e = { .family = (uint8_t)family }, *v;

	if (family != AF_INET && family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	memcpy(&e.a, addr, family == AF_INET ? 4 : 16);
	if (localaddr_has(la, family, &e.a))
		return 0;
	v = vec_room(la->v, &la->cap, la->n + 1, sizeof(*v), 16);
	if (!v)
		return -1;
	la->v = v;
	la->v[la->n++] = e;
	return 0;
}

int localaddr_refresh(struct localaddr *la)
{
	struct localaddr fresh = { 0 };
	struct ifaddrs *ifa, *i;
	int rc = 0;

	if (getifaddrs(&ifa) < 0)
		return -1;
	for (i = ifa; i && !rc; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr;

		if (!sa)
			continue;
		if (sa->sa_family == AF_INET)
			rc = localaddr_add(&fresh, AF_INET,
					   &((const struct sockaddr_in *)(const void *)sa)->sin_addr);
		else if (sa->sa_family == AF_INET6)
			rc = localaddr_add(&fresh, AF_INET6,
					   &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
	}
	freeifaddrs(ifa);
	if (rc) {
		free(fresh.v);
		return -1;
	}
	free(la->v);
	*la = fresh;
	return 0;
}

bool localaddr_has(const struct localaddr *la, int family, const union flow_addr *a)
{
	if (addr_is_loopback(family, a))
		return true;
	for (size_t i = 0; i < la->n; i++)
		if (addr_eq(la->v[i].family, &la->v[i].a, family, a))
			return true;
	return false;
}

const char *localaddr_direction(const struct localaddr *la, const struct flow *f)
{
	bool src, dst;

	if (!(f->has & FLOW_HAS_TUPLE) || (f->family != AF_INET && f->family != AF_INET6))
		return NULL;
	src = localaddr_has(la, f->family, &f->orig.src);
	/* a DNAT to this host: the original destination was some other
	 * address, the reply comes from ours */
	dst = localaddr_has(la, f->family, &f->orig.dst) ||
	      (f->has & FLOW_HAS_REPLY && localaddr_has(la, f->family, &f->reply.src));
	if (src == dst)
		return NULL;
	return src ? "egress" : "ingress";
}
