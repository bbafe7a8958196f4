/*
 * geoip.c - GeoIP look-ups against fixture databases that this test builds
 * with tests/tools/mkmmdb.pl (libmaxmind-db-writer-perl), in both record
 * layouts, plus broken files.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "country.h"
#include "geoip.h"
#include "tap.h"

static char dir[] = "/tmp/flowtop-geoip.XXXXXX";
static char tools[PATH_MAX + 32];
static char exedir[PATH_MAX];

/* The four fixtures, DIR/{geoip2-city,flat-city4,flat-city6,asn}.mmdb. */
static int build_all(void)
{
	char cmd[PATH_MAX * 3];

	snprintf(cmd, sizeof(cmd), "perl '%s/mkmmdb.pl' --all '%s'", tools, dir);
	return system(cmd);
}

static char *path(const char *name)
{
	static char buf[16][PATH_MAX];	/* a ring: callers hold a few at once */
	static int i;

	i = (i + 1) % 16;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static struct flow_geo look(struct geoip *g, const char *ip)
{
	union flow_addr a;
	struct flow_geo geo;
	int family = strchr(ip, ':') ? AF_INET6 : AF_INET;

	memset(&a, 0, sizeof(a));
	inet_pton(family, ip, &a);
	geoip_lookup(g, family, &a, &geo);
	return geo;
}

static int geo_empty(const struct flow_geo *g)
{
	return !g->country_iso[0] && !g->country_name && !g->city_name && !g->as_number &&
	       !g->as_org;
}

/* Run fn with stderr going to a file; returns what it wrote. */
static char *capture_stderr(struct geoip **g, const char *const *paths, int n)
{
	static char buf[4096];
	char *file = path("stderr.txt");
	int save = dup(2), fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ssize_t got;

	fflush(stderr);
	dup2(fd, 2);
	*g = geoip_new(paths, n, 0);
	fflush(stderr);
	dup2(save, 2);
	close(save);
	got = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	buf[got > 0 ? got : 0] = '\0';
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_country_table(void)
{
	is_str(country_name("NO"), "Norway", "country_name NO");
	is_str(country_name("fr"), "France", "country_name takes lower case");
	is_str(country_name("BR"), "Brazil", "country_name BR");
	ok(country_name("ZZ") == NULL, "ZZ has no name");
	ok(country_name("N") == NULL && country_name("NOR") == NULL && country_name(NULL) == NULL,
	   "only two letters are a code");
	ok(country_count() >= 249, "all ISO 3166 codes (%zu)", country_count());
}

static void test_lookups(void)
{
	const char *paths[] = { path("geoip2-city.mmdb"), path("flat-city4.mmdb"), path("flat-city6.mmdb"),
				path("asn.mmdb") };
	struct geoip *g;
	struct flow_geo r, r2;
	char *err = capture_stderr(&g, paths, 4);

	ok(g != NULL, "four fixture databases open");
	is_str(err, "", "no diagnostics when they open");
	if (!g)
		return;

	r = look(g, "192.0.2.5");
	is_str(r.country_iso, "NO", "geoip2: country code");
	is_str(r.country_name, "Norway", "geoip2: country name from the database");
	is_str(r.city_name, "Oslo", "geoip2: city");
	ok(r.as_number == 64496, "asn: number (%u)", r.as_number);
	is_str(r.as_org, "Example \"Doc\" Net", "asn: organization");

	r = look(g, "198.51.100.5");
	is_str(r.country_iso, "DE", "geoip2: country without city");
	ok(r.city_name == NULL && r.as_number == 0, "no city, no AS where there is none");

	r = look(g, "203.0.113.9");
	is_str(r.country_iso, "FR", "flat: country_code");
	is_str(r.country_name, "France", "flat: name from the code");
	is_str(r.city_name, "Paris", "flat: city");
	ok(r.as_number == 64500, "asn for the flat range");

	r = look(g, "::ffff:203.0.113.9");
	is_str(r.country_iso, "FR", "v4-mapped v6 looks up the v4 address");

	r = look(g, "2001:db8:1::5");
	is_str(r.country_iso, "JP", "geoip2 v6: country");
	is_str(r.city_name, "T\xc5\x8dky\xc5\x8d", "geoip2 v6: UTF-8 city");
	ok(r.as_number == 64511, "asn v6");
	is_str(r.as_org, "Doc6 AS", "asn v6 organization");

	r = look(g, "2001:db8:2::1");
	is_str(r.country_iso, "BR", "flat v6 (ipv6-only database): country");
	is_str(r.country_name, "Brazil", "flat v6: name from code");
	is_str(r.city_name, "S\xc3\xa3o Paulo", "flat v6: UTF-8 city");

	r = look(g, "2001:db8:3::1");
	is_str(r.country_iso, "SE", "registered_country when there is no country");

	r = look(g, "198.51.100.200");
	ok(geo_empty(&r), "ZZ in the flat database means nothing");
	r = look(g, "192.0.3.1");
	ok(geo_empty(&r), "an address outside every database gets nothing");
	r = look(g, "2001:db9::1");
	ok(geo_empty(&r), "a v6 address outside every database gets nothing");

	r = look(g, "10.1.2.3");
	ok(geo_empty(&r), "private 10/8 gets nothing though the databases have it");
	r = look(g, "::ffff:10.1.2.3");
	ok(geo_empty(&r), "v4-mapped private gets nothing");
	{
		static const char *const local[] = {
			"127.0.0.1", "169.254.1.1", "172.16.5.5", "192.168.1.1", "100.64.0.1",
			"224.0.0.251", "255.255.255.255", "0.0.0.0", "::", "::1", "fe80::1",
			"fd99::1", "ff02::1",
		};
		int bad = 0;

		for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
			r = look(g, local[i]);
			if (!geo_empty(&r)) {
				bad++;
				printf("# %s got geo\n", local[i]);
			}
		}
		ok(bad == 0, "loopback, link-local, private, multicast, unspecified get nothing");
	}

	r = look(g, "192.0.2.77");
	r2 = look(g, "192.0.2.77");
	ok(r.city_name && r.city_name == r2.city_name && r.as_org == r2.as_org,
	   "a cached answer gives the same stored strings");
	r2 = look(g, "192.0.2.99");
	ok(r.city_name == r2.city_name, "one stored copy of a name for many addresses");

	/* strings stay valid across many look-ups that churn the caches */
	for (unsigned i = 0; i < 3 * GEOIP_ADDR_CACHE; i++) {
		union flow_addr a = { .b = { 192, 0, 2, (uint8_t)i } };
		struct flow_geo x;

		a.b[3] = (uint8_t)i;
		a.b[0] = (uint8_t)(i & 1 ? 203 : 192);
		a.b[1] = (uint8_t)(i & 1 ? 0 : 0);
		a.b[2] = (uint8_t)(i & 1 ? 113 : 2);
		geoip_lookup(g, AF_INET, &a, &x);
	}
	is_str(r.city_name, "Oslo", "a string handed out earlier is still intact");

	{
		struct timespec t0, t1;
		unsigned n = 200000;
		double ns;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (unsigned i = 0; i < n; i++) {
			union flow_addr a = { .b = { 192, 0, 2, 0 } };
			struct flow_geo x;

			a.b[2] = (uint8_t)(i >> 8);	/* mostly outside: a tree walk each */
			a.b[3] = (uint8_t)i;
			a.b[0] = (uint8_t)(192 + (i >> 16));
			geoip_lookup(g, AF_INET, &a, &x);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
		printf("# %u look-ups of distinct addresses: %.0f ns each\n", n, ns / n);
	}
	geoip_free(g);
}

static void test_broken(void)
{
	const char *garbage[] = { path("garbage.mmdb") };
	const char *missing[] = { path("missing.mmdb") };
	const char *mixed[] = { path("garbage.mmdb"), path("geoip2-city.mmdb") };
	const char *tree[] = { path("badtree.mmdb") };
	char want[PATH_MAX + 64];
	struct geoip *g;
	struct flow_geo r;
	char *err;
	FILE *f;

	f = fopen(garbage[0], "w");
	fputs("this is not a MaxMind database\n", f);
	fclose(f);

	err = capture_stderr(&g, garbage, 1);
	ok(g == NULL, "a file that is not a database: no geoip");
	snprintf(want, sizeof(want), "flowtop-emit: cannot open GeoIP database '%s': ", garbage[0]);
	ok(!strncmp(err, want, strlen(want)), "the error names the file");
	ok(count_lines(err) == 1, "in one line");
	printf("# %s", err);
	r = look(NULL, "192.0.2.5");
	ok(geo_empty(&r), "look-ups without a database give nothing");

	err = capture_stderr(&g, missing, 1);
	snprintf(want, sizeof(want), "flowtop-emit: cannot open GeoIP database '%s': ", missing[0]);
	ok(g == NULL && !strncmp(err, want, strlen(want)) && count_lines(err) == 1,
	   "a missing file: one error line naming it");
	printf("# %s", err);

	err = capture_stderr(&g, mixed, 2);
	ok(g != NULL && count_lines(err) == 1, "one bad and one good database: the good one is used");
	r = look(g, "192.0.2.5");
	is_str(r.country_iso, "NO", "and answers");
	geoip_free(g);

	/* a database whose search tree is garbage opens, then fails to read */
	{
		char cmd[PATH_MAX * 3];

		snprintf(cmd, sizeof(cmd),
			 "cp '%s' '%s' && printf '\\377\\377\\377\\377\\377\\377\\377\\377"
			 "\\377\\377\\377\\377\\377\\377\\377\\377' |"
			 " dd of='%s' bs=1 seek=0 conv=notrunc status=none",
			 path("geoip2-city.mmdb"), tree[0], tree[0]);
		ok(system(cmd) == 0, "made a database with a corrupt search tree");
	}
	err = capture_stderr(&g, tree, 1);
	ok(g != NULL, "it opens (the metadata is intact)");
	if (g) {
		int fd = open(path("stderr2.txt"), O_RDWR | O_CREAT | O_TRUNC, 0600);
		int save = dup(2);
		char buf[1024];
		ssize_t n;

		fflush(stderr);
		dup2(fd, 2);
		r = look(g, "192.0.2.5");
		ok(geo_empty(&r), "a look-up in it gives nothing");
		r = look(g, "2001:db8:1::1");
		r = look(g, "192.0.2.6");
		ok(geo_empty(&r), "nor does the next");
		fflush(stderr);
		dup2(save, 2);
		close(save);
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		snprintf(want, sizeof(want), "flowtop-emit: cannot read GeoIP database '%s': ",
			 tree[0]);
		ok(!strncmp(buf, want, strlen(want)) && count_lines(buf) == 1,
		   "one error line naming the file, not one per look-up");
		printf("# %s", buf);
		geoip_free(g);
	}
}

/* With no paths, the data/ directory beside the executable is searched. */
static void test_search(void)
{
	char data[PATH_MAX + 8], dst[PATH_MAX + 64], cmd[PATH_MAX * 3];
	struct geoip *g;
	struct flow_geo r;
	int made;

	snprintf(data, sizeof(data), "%s/data", exedir);
	made = mkdir(data, 0755) == 0;
	snprintf(dst, sizeof(dst), "%s/GeoIP2-City-Flowtop-Fixture.mmdb", data);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", path("geoip2-city.mmdb"), dst);
	if (system(cmd) != 0) {
		ok(0, "copy a fixture into %s", data);
		return;
	}
	g = geoip_new(NULL, 0, 0);
	ok(g != NULL, "a database in data/ beside the executable is found");
	r = look(g, "192.0.2.5");
	is_str(r.country_iso, "NO", "and used");
	geoip_free(g);
	unlink(dst);
	if (made)
		rmdir(data);
}

int main(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char cmd[PATH_MAX + 16];

	if (n <= 0 || !mkdtemp(dir)) {
		printf("Bail out! no temporary directory\n");
		return 1;
	}
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(exedir, sizeof(exedir), "%s", exe);
	snprintf(tools, sizeof(tools), "%s/../../tests/tools", exe);

	test_country_table();
	if (build_all()) {
		ok(0, "build the fixtures with %s/mkmmdb.pl", tools);
	} else {
		test_lookups();
		test_broken();
		test_search();
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
