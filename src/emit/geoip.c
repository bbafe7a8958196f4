/*
 * geoip.c - MaxMind DB look-ups for the emitter.
 *
 * Two record layouts exist in the wild and both are read:
 *  - GeoIP2 (MaxMind GeoIP2/GeoLite2, DB-IP's own mmdb): nested maps,
 *    country.iso_code, country.names.en, city.names.en;
 *  - flat (the ip-location-db packages, e.g. DB-IP Lite "city ipv4"):
 *    country_code, city, ... at the top of the record.
 * ASN databases have the same two keys in both.  The layout is chosen from
 * the metadata's database_type; an unknown type is read both ways.
 *
 * A look-up costs a walk of the search tree; decoding a record costs more,
 * and many addresses share a record (a /24 of one city), so decoded records
 * are cached by their offset as well as results by address.  Both caches
 * are direct-mapped arrays rather than lib's htab: a colliding key simply
 * replaces the one before it, so their memory is fixed and they need no
 * eviction.
 */
#include "geoip.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <maxminddb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "country.h"
#include "hash.h"
#include "intern.h"
#include "notice.h"
#include "utf8.h"

#ifndef FLOWTOP_DATADIR
#define FLOWTOP_DATADIR "/usr/local/share/flowtop"
#endif

#define NAME_MAX_LEN 256	/* longer names are cut at a character */

enum db_kind { KIND_LOCATION, KIND_ASN };
enum db_schema { SCHEMA_UNKNOWN, SCHEMA_GEOIP2, SCHEMA_FLAT };

struct geoip_db {
	MMDB_s mmdb;
	char *path;
	enum db_kind kind;
	enum db_schema schema;
	bool broken;		/* a read failed: said once, then skipped */
};

/* What one database record says; the strings are interned. */
struct geo_rec {
	char iso[3];
	const char *country, *city, *org;
	uint32_t asn;
};

struct rec_slot {
	uint64_t key;		/* (db index + 1) << 32 | record offset; 0 free */
	struct geo_rec r;
};

struct addr_slot {
	uint8_t family;		/* 0: free */
	union flow_addr a;
	struct flow_geo geo;
};

struct geoip {
	struct geoip_db db[GEOIP_MAX_DB];
	int ndb;
	int verbose;
	struct addr_slot *addr;		/* GEOIP_ADDR_CACHE */
	struct rec_slot *rec;		/* GEOIP_REC_CACHE */
	struct intern *names;		/* at most GEOIP_POOL_MAX */
};

/* ---- interning ---------------------------------------------------------- */

/* The one stored copy of s[0..len), made valid UTF-8; NULL when empty or
 * when the pool is full. */
static const char *pool_intern(struct geoip *g, const char *s, size_t len)
{
	char buf[NAME_MAX_LEN];
	size_t n;

	if (len == 0)
		return NULL;
	n = utf8_repair(s, len, buf, sizeof(buf));
	if (n == 0)
		return NULL;
	return intern_str(g->names, buf, n);
}

/* ---- opening ------------------------------------------------------------ */

static bool has_word(const char *s, const char *w)
{
	return s && strcasestr(s, w) != NULL;
}

static void db_classify(struct geoip_db *d)
{
	const char *t = d->mmdb.metadata.database_type;

	d->kind = has_word(t, "asn") || has_word(t, "isp") ? KIND_ASN : KIND_LOCATION;
	if (!t)
		d->schema = SCHEMA_UNKNOWN;
	else if (!strncasecmp(t, "GeoIP2-", 7) || !strncasecmp(t, "GeoLite2-", 9) ||
		 !strncasecmp(t, "DBIP-", 5) || !strncasecmp(t, "GeoIP-", 6))
		d->schema = SCHEMA_GEOIP2;
	else if (has_word(t, "city") || has_word(t, "country"))
		d->schema = SCHEMA_FLAT;	/* "city ipv4", "country ipv6" */
	else
		d->schema = SCHEMA_UNKNOWN;
}

static const char *schema_name(enum db_schema s)
{
	return s == SCHEMA_GEOIP2 ? "geoip2" : s == SCHEMA_FLAT ? "flat" : "unknown";
}

/* Returns 0, or -1 after saying why on stderr. */
static int db_open(struct geoip *g, const char *path)
{
	struct geoip_db *d;
	int st;

	if (g->ndb >= GEOIP_MAX_DB) {
		notice_error("too many GeoIP databases, ignoring '%s'", path);
		return -1;
	}
	d = &g->db[g->ndb];
	memset(d, 0, sizeof(*d));
	errno = 0;
	st = MMDB_open(path, MMDB_MODE_MMAP, &d->mmdb);
	if (st != MMDB_SUCCESS) {
		int e = errno;

		/* the system's reason says more than "error opening the file" */
		notice_error("cannot open GeoIP database '%s': %s", path,
			     st == MMDB_FILE_OPEN_ERROR && e ? strerror(e) : MMDB_strerror(st));
		return -1;
	}
	d->path = strdup(path);
	if (!d->path) {
		MMDB_close(&d->mmdb);
		notice_error("out of memory opening '%s'", path);
		return -1;
	}
	db_classify(d);
	if (g->verbose)
		notice("using GeoIP database '%s' (%s, %s layout, ipv%u)",
		       path, d->mmdb.metadata.database_type ? d->mmdb.metadata.database_type : "?",
		       d->kind == KIND_ASN ? "asn" : schema_name(d->schema),
		       (unsigned)d->mmdb.metadata.ip_version);
	g->ndb++;
	return 0;
}

/* Rank of a file name among the ones we look for, or -1 to ignore it:
 * City before Country (a City database answers both), then ASN. */
static int db_file_rank(const char *name)
{
	size_t n = strlen(name);

	if (n < 6 || strcasecmp(name + n - 5, ".mmdb"))
		return -1;
	if (strncasecmp(name, "GeoLite2-", 9) && strncasecmp(name, "GeoIP2-", 7) &&
	    strncasecmp(name, "dbip-", 5))
		return -1;
	if (has_word(name, "city"))
		return 0;
	if (has_word(name, "country"))
		return 1;
	if (has_word(name, "asn"))
		return 2;
	return -1;
}

struct found {
	char path[PATH_MAX];
	const char *base;
	int rank;
};

static int found_cmp(const void *x, const void *y)
{
	const struct found *a = x, *b = y;

	if (a->rank != b->rank)
		return a->rank - b->rank;
	return strcmp(a->base, b->base);
}

static void scan_dir(const char *dir, struct found *f, int *nf, int max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int first = *nf;

	if (!d)
		return;
	while ((e = readdir(d)) && *nf < max) {
		int rank = db_file_rank(e->d_name), dup = 0;
		struct found *x;

		if (rank < 0)
			continue;
		for (int i = 0; i < *nf; i++)	/* same file in two places */
			if (!strcmp(f[i].base, e->d_name))
				dup = 1;
		if (dup)
			continue;
		x = &f[*nf];
		if ((size_t)snprintf(x->path, sizeof(x->path), "%s/%s", dir, e->d_name) >=
		    sizeof(x->path))
			continue;
		x->base = x->path + strlen(dir) + 1;
		x->rank = rank;
		(*nf)++;
	}
	closedir(d);
	qsort(f + first, (size_t)(*nf - first), sizeof(*f), found_cmp);
}

static void find_dbs(struct geoip *g)
{
	static const char *const dirs[] = {
		"/var/lib/GeoIP", "/usr/share/GeoIP", "/usr/local/share/GeoIP", FLOWTOP_DATADIR,
	};
	struct found *f = calloc(GEOIP_MAX_DB, sizeof(*f));
	char exe[PATH_MAX], *slash;
	ssize_t n;
	int nf = 0;

	if (!f)
		return;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		scan_dir(dirs[i], f, &nf, GEOIP_MAX_DB);
	/* a build tree: data/ beside the executable, filled by fetch-geoip */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 6);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			strcpy(slash, "/data");
			scan_dir(exe, f, &nf, GEOIP_MAX_DB);
		}
	}
	for (int i = 0; i < nf; i++)
		db_open(g, f[i].path);
	free(f);
}

struct geoip *geoip_new(const char *const *paths, int npaths, int verbose)
{
	struct geoip *g = calloc(1, sizeof(*g));
	int failed = 0;

	if (!g) {
		notice_error("cannot load GeoIP: %s", strerror(ENOMEM));
		return NULL;
	}
	g->verbose = verbose;
	if (npaths > 0) {
		for (int i = 0; i < npaths; i++)
			if (db_open(g, paths[i]) < 0)
				failed++;
	} else {
		find_dbs(g);
	}
	if (g->ndb == 0) {
		if (!failed)
			notice("no GeoIP database found, no geo fields;"
			       " run scripts/fetch-geoip (DB-IP Lite) or geoipupdate (GeoLite2),"
			       " or give --geoip-db");
		geoip_free(g);
		return NULL;
	}
	g->addr = calloc(GEOIP_ADDR_CACHE, sizeof(*g->addr));
	g->rec = calloc(GEOIP_REC_CACHE, sizeof(*g->rec));
	g->names = intern_new(GEOIP_POOL_MAX);
	if (!g->addr || !g->rec || !g->names) {
		notice_error("cannot load GeoIP: %s", strerror(ENOMEM));
		geoip_free(g);
		return NULL;
	}
	return g;
}

void geoip_free(struct geoip *g)
{
	if (!g)
		return;
	for (int i = 0; i < g->ndb; i++) {
		MMDB_close(&g->db[i].mmdb);
		free(g->db[i].path);
	}
	intern_free(g->names);
	free(g->addr);
	free(g->rec);
	free(g);
}

/* ---- looking up --------------------------------------------------------- */

static void db_broken(struct geoip_db *d, int st)
{
	notice_error("cannot read GeoIP database '%s': %s", d->path, MMDB_strerror(st));
	d->broken = true;
}

/* One value of a record; false when it is absent (not an error) or the
 * database turned out broken, which is said once. */
static bool entry_get(struct geoip_db *d, MMDB_entry_s *e, int *err,
		      const char *const *path, MMDB_entry_data_s *v)
{
	int st = MMDB_aget_value(e, v, path);

	if (st != MMDB_SUCCESS) {
		if (st != MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR &&
		    st != MMDB_INVALID_LOOKUP_PATH_ERROR) {
			*err = 1;
			if (!d->broken)
				db_broken(d, st);
		}
		return false;
	}
	return v->has_data;
}

static const char *entry_str(struct geoip *g, struct geoip_db *d, MMDB_entry_s *e,
			     int *err, const char *const *path)
{
	MMDB_entry_data_s v;

	if (!entry_get(d, e, err, path, &v) || v.type != MMDB_DATA_TYPE_UTF8_STRING)
		return NULL;
	return pool_intern(g, v.utf8_string, v.data_size);
}

static uint32_t entry_uint(struct geoip_db *d, MMDB_entry_s *e, int *err,
			   const char *const *path)
{
	MMDB_entry_data_s v;

	if (!entry_get(d, e, err, path, &v))
		return 0;
	switch (v.type) {
	case MMDB_DATA_TYPE_UINT16: return v.uint16;
	case MMDB_DATA_TYPE_UINT32: return v.uint32;
	case MMDB_DATA_TYPE_INT32: return v.int32 > 0 ? (uint32_t)v.int32 : 0;
	case MMDB_DATA_TYPE_UINT64: return v.uint64 <= UINT32_MAX ? (uint32_t)v.uint64 : 0;
	default: return 0;
	}
}

static void set_iso(struct geo_rec *r, const char *code)
{
	/* "ZZ" (unknown) and "--" are what some databases say for "no idea" */
	if (!code || strlen(code) != 2 || !strcmp(code, "ZZ") || !country_name(code))
		return;
	r->iso[0] = code[0];
	r->iso[1] = code[1];
	r->iso[2] = '\0';
}

/* Decode one record; returns -1 when the database turned out unreadable. */
static int rec_decode(struct geoip *g, struct geoip_db *d, MMDB_entry_s *e, struct geo_rec *r)
{
	static const char *const p_iso[] = { "country", "iso_code", NULL };
	static const char *const p_name[] = { "country", "names", "en", NULL };
	static const char *const p_riso[] = { "registered_country", "iso_code", NULL };
	static const char *const p_rname[] = { "registered_country", "names", "en", NULL };
	static const char *const p_city[] = { "city", "names", "en", NULL };
	static const char *const f_iso[] = { "country_code", NULL };
	static const char *const f_name[] = { "country_name", NULL };
	static const char *const f_city[] = { "city", NULL };
	static const char *const a_num[] = { "autonomous_system_number", NULL };
	static const char *const a_org[] = { "autonomous_system_organization", NULL };
	int err = 0;

	memset(r, 0, sizeof(*r));
	if (d->kind == KIND_ASN || d->schema == SCHEMA_UNKNOWN) {
		r->asn = entry_uint(d, e, &err, a_num);
		if (r->asn)
			r->org = entry_str(g, d, e, &err, a_org);
	}
	if (d->kind == KIND_LOCATION && d->schema != SCHEMA_FLAT && !err) {
		set_iso(r, entry_str(g, d, e, &err, p_iso));
		if (r->iso[0]) {
			r->country = entry_str(g, d, e, &err, p_name);
			r->city = entry_str(g, d, e, &err, p_city);
		} else if (!err) {
			/* anycast and the like: only where it is registered */
			set_iso(r, entry_str(g, d, e, &err, p_riso));
			if (r->iso[0])
				r->country = entry_str(g, d, e, &err, p_rname);
		}
	}
	if (d->kind == KIND_LOCATION && d->schema != SCHEMA_GEOIP2 && !r->iso[0] && !err) {
		set_iso(r, entry_str(g, d, e, &err, f_iso));
		if (r->iso[0]) {
			/* the DB-IP Lite layout has no name: the table gives it */
			if (d->schema == SCHEMA_UNKNOWN)
				r->country = entry_str(g, d, e, &err, f_name);
			r->city = entry_str(g, d, e, &err, f_city);
		}
	}
	if (r->iso[0] && !r->country)
		r->country = country_name(r->iso);
	return err ? -1 : 0;
}

/* Look a up in one database; false when it has nothing. */
static bool db_lookup(struct geoip *g, int dbi, const struct sockaddr *sa, struct geo_rec *out)
{
	struct geoip_db *d = &g->db[dbi];
	MMDB_lookup_result_s res;
	struct rec_slot *slot;
	uint64_t key;
	int st;

	if (d->broken)
		return false;
	if (sa->sa_family == AF_INET6 && d->mmdb.metadata.ip_version == 4)
		return false;
	res = MMDB_lookup_sockaddr(&d->mmdb, sa, &st);
	if (st != MMDB_SUCCESS) {
		if (st != MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
			db_broken(d, st);
		return false;
	}
	if (!res.found_entry)
		return false;
	key = ((uint64_t)(dbi + 1) << 32) | res.entry.offset;
	slot = &g->rec[hash_u64(key) & (GEOIP_REC_CACHE - 1)];
	if (slot->key != key) {
		if (rec_decode(g, d, &res.entry, &slot->r) < 0) {
			slot->key = 0;
			return false;
		}
		slot->key = key;
	}
	*out = slot->r;
	return true;
}

static void lookup_uncached(struct geoip *g, int family, const union flow_addr *a,
			    struct flow_geo *out)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	const struct sockaddr *sa;
	bool have_loc = false, have_as = false;

	if (family == AF_INET) {
		sin.sin_addr = a->v4;
		sa = (const struct sockaddr *)&sin;
	} else {
		sin6.sin6_addr = a->v6;
		sa = (const struct sockaddr *)&sin6;
	}
	for (int i = 0; i < g->ndb && !(have_loc && have_as); i++) {
		struct geoip_db *d = &g->db[i];
		struct geo_rec r;

		if ((d->kind == KIND_ASN ? have_as : have_loc) && d->schema != SCHEMA_UNKNOWN)
			continue;
		if (!db_lookup(g, i, sa, &r))
			continue;
		if (!have_loc && r.iso[0]) {
			memcpy(out->country_iso, r.iso, 3);
			out->country_name = r.country;
			out->city_name = r.city;
			have_loc = true;
		}
		if (!have_as && r.asn) {
			out->as_number = r.asn;
			out->as_org = r.org;
			have_as = true;
		}
	}
}

void geoip_lookup(struct geoip *g, int family, const union flow_addr *a,
		  struct flow_geo *out)
{
	union flow_addr v4;
	struct addr_slot *slot;

	memset(out, 0, sizeof(*out));
	if (!g || !a || addr_is_non_global(family, a))
		return;
	family = addr_unmap(family, a, &v4);
	a = &v4;
	slot = &g->addr[addr_hash(family, a) & (GEOIP_ADDR_CACHE - 1)];
	if (addr_eq(slot->family, &slot->a, family, a)) {
		*out = slot->geo;
		return;
	}
	lookup_uncached(g, family, a, out);
	slot->family = (uint8_t)family;
	slot->a = *a;
	slot->geo = *out;
}
