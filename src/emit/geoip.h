/*
 * geoip.h - country, city and autonomous system of an address, from
 * MaxMind DB (.mmdb) files opened with libmaxminddb in mmap mode.
 *
 * struct geoip owns its open databases, its caches and every string it
 * stores in a struct flow_geo; those strings stay valid until geoip_free().
 * Used from one thread only.
 *
 * Bounds: the per-address cache holds GEOIP_ADDR_CACHE (32768) addresses,
 * direct-mapped (a colliding address replaces the one before it); decoded
 * database records are cached per record, GEOIP_REC_CACHE (8192) of them;
 * names are interned once each, at most GEOIP_POOL_MAX (8 MiB) in all -
 * past that a new name is left out rather than stored.  About 3 MiB plus
 * the interned names, which the databases themselves bound.
 */
#ifndef FLOWTOP_GEOIP_H
#define FLOWTOP_GEOIP_H

#include "flow.h"

#define GEOIP_ADDR_CACHE	32768
#define GEOIP_REC_CACHE		8192
#define GEOIP_POOL_MAX		(8u << 20)
#define GEOIP_MAX_DB		16

struct geoip;

/* Open the databases in paths[0..npaths), or, with npaths == 0, the
 * GeoLite2/GeoIP2/DB-IP City, Country and ASN files found in
 * /var/lib/GeoIP, /usr/share/GeoIP, /usr/local/share/GeoIP, FLOWTOP_DATADIR
 * and the data/ directory beside the executable.  A file that cannot be
 * opened gets one error line naming it.  Returns NULL when no database is
 * usable, after one notice on how to get one (unless an error line already
 * said why). */
struct geoip *geoip_new(const char *const *paths, int npaths, int verbose);

/* Close the databases and free every cache and string. */
void geoip_free(struct geoip *g);

/* Fill out with what the databases know about a (family AF_INET or
 * AF_INET6); out is cleared first.  Private, loopback, link-local,
 * multicast and other non-global addresses (addr_is_non_global, addr.h)
 * get nothing and cost no look-up.  g may be NULL (nothing is filled). */
void geoip_lookup(struct geoip *g, int family, const union flow_addr *a,
		  struct flow_geo *out);

#endif
