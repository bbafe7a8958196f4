/*
 * netns.c - --netns SPEC resolution, the --all-netns scan and entering a
 * namespace, against this machine's own /proc (a second namespace is the
 * end-to-end test's business: 22-emit-netns.t).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netns.h"
#include "tap.h"

int main(void)
{
	struct netns_info ns;
	struct netns_list l;
	struct netns_visit v;
	uint64_t self = 0, after = 0;
	char spec[64], dir[] = "/tmp/flowtop-netns.XXXXXX", path[128];
	int fd, i;

	ok(netns_self(&self) == 0 && self > 0, "our own namespace's inode");

	snprintf(spec, sizeof(spec), "pid:%d", (int)getpid());
	ok(netns_resolve(spec, &ns) == 0 && ns.ino == self && ns.pid == (uint32_t)getpid(),
	   "pid:PID names our namespace");
	ok(netns_resolve("/proc/self/ns/net", &ns) == 0 && ns.ino == self && ns.pid == 0,
	   "a path names it");
	errno = 0;
	ok(netns_resolve("pid:abc", &ns) < 0 && errno == EINVAL, "pid:abc: EINVAL");
	errno = 0;
	ok(netns_resolve("pid:", &ns) < 0 && errno == EINVAL, "pid: alone: EINVAL");
	errno = 0;
	ok(netns_resolve("pid:4294967296", &ns) < 0 && errno == EINVAL, "pid out of range: EINVAL");
	errno = 0;
	ok(netns_resolve("flowtop-no-such-namespace", &ns) < 0 && errno == ENOENT,
	   "an unknown name: ENOENT");
	errno = 0;
	ok(netns_resolve("/etc/hostname", &ns) < 0 && errno == EINVAL,
	   "a file that is no namespace: EINVAL");
	errno = 0;
	ok(netns_resolve("/proc/self/ns/uts", &ns) < 0 && errno == EINVAL,
	   "another kind of namespace: EINVAL");
	errno = 0;
	ok(netns_resolve("..", &ns) < 0 && errno == EINVAL, "'..' is no name");
	errno = 0;
	ok(netns_resolve("", &ns) < 0 && errno == EINVAL, "'' is no name");
	{
		char *big = malloc(NETNS_PATH_MAX + 10);

		memset(big, 'a', NETNS_PATH_MAX + 9);
		big[0] = '/';
		big[NETNS_PATH_MAX + 9] = '\0';
		errno = 0;
		ok(netns_resolve(big, &ns) < 0 && errno == ENAMETOOLONG, "a path too long");
		free(big);
	}

	/* the scan: our namespace is found, with a pid no larger than ours;
	 * a run directory of plain files (a mount gone) names nothing */
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/stale", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	if (fd >= 0)
		close(fd);
	netns_list_init(&l);
	ok(netns_scan(&l, dir, NULL) == 0, "netns_scan");
	i = netns_list_find(&l, self);
	ok(i >= 0 && l.v[i].pid && l.v[i].pid <= (uint32_t)getpid(),
	   "it finds our namespace with its lowest pid");
	ok(i >= 0 && !l.v[i].name[0], "a plain file in the run directory is no name");
	for (size_t k = 0; k < l.n; k++)
		for (size_t j = k + 1; j < l.n; j++)
			if (l.v[k].ino == l.v[j].ino)
				ok(0, "namespace %llu listed twice", (unsigned long long)l.v[k].ino);
	ok(netns_scan(&l, dir, "/nonexistent-proc") < 0, "an unreadable proc: -1");

	/* a rescan looks only at processes it has not seen */
	{
		struct netns_scanner sc;
		size_t first, n0;
		int j, rc;

		netns_scanner_init(&sc);
		rc = netns_scan_cached(&sc, &l, dir, NULL);
		first = sc.stats;
		n0 = l.n;
		ok(rc == 0 && first > 0, "the first scan looks at every process (%zu)", first);
		rc = netns_scan_cached(&sc, &l, dir, NULL);
		ok(rc == 0 && sc.stats < first, "the next one only at new ones (%zu of %zu)",
		   sc.stats, first);
		j = netns_list_find(&l, self);
		ok(j >= 0 && l.v[j].pid && l.v[j].pid <= (uint32_t)getpid() && l.n + 1 >= n0,
		   "and still finds our namespace with its lowest pid");
		for (unsigned int r = sc.round; r % NETNS_SCAN_FULL_EVERY; r++)
			netns_scan_cached(&sc, &l, dir, NULL);
		rc = netns_scan_cached(&sc, &l, dir, NULL);
		ok(rc == 0 && sc.stats > first / 2, "every %u scans, all of them again (%zu)",
		   NETNS_SCAN_FULL_EVERY, sc.stats);
		rc = netns_scan_cached(&sc, &l, dir, "/nonexistent-proc");
		ok(rc < 0 && sc.n > 0, "an unreadable proc: -1, the memory kept");
		netns_scanner_release(&sc);
	}
	netns_list_release(&l);
	unlink(path);
	rmdir(dir);

	/* --netns-filter: a name, a container's name or id (globs), an id
	 * prefix of 12 or more, the inode */
	{
		struct netns_info fi = { .ino = 4026532000, .name = "blue" };
		struct container c = { .name = "web-1" };
		const char *p1[] = { "bl*" }, *p2[] = { "red", "4026532000" }, *p3[] = { "web-?" };
		const char *p4[] = { "0123456789ab" }, *p5[] = { "0123456789a" }, *p6[] = { "red" };

		memset(c.id, 'a', CONTAINER_ID_MAX);
		memcpy(c.id, "0123456789ab", 12);
		ok(netns_filter_match(NULL, 0, &fi, &c), "no pattern: every namespace");
		ok(netns_filter_match(p1, 1, &fi, &c), "a glob on the ip-netns name");
		ok(netns_filter_match(p2, 2, &fi, &c), "the inode, second of two patterns");
		ok(netns_filter_match(p3, 1, &fi, &c), "a glob on the container's name");
		ok(netns_filter_match(p4, 1, &fi, &c), "12 digits of the container id");
		ok(!netns_filter_match(p5, 1, &fi, &c), "11 digits are too few");
		ok(!netns_filter_match(p6, 1, &fi, &c), "another name: no");
		fi.name[0] = '\0';
		ok(!netns_filter_match(p1, 1, &fi, &c), "no name: a name pattern does not match");
	}
	/* the scanner remembers what it passed over, but the kernel reuses a
	 * deleted namespace's inode for the next one made */
	{
		struct netns_scanner sc;
		struct netns_info red = { .ino = 4026532001, .name = "red" };
		struct netns_info blue = { .ino = 4026532001, .name = "blue" };
		const char *pat[] = { "blue" };

		netns_scanner_init(&sc);
		ok(!netns_scanner_selects(&sc, pat, 1, &red), "scanner: red passed over");
		ok(!netns_scanner_selects(&sc, pat, 1, &red), "scanner: red passed over again");
		ok(netns_scanner_selects(&sc, pat, 1, &blue),
		   "scanner: blue, made with red's inode after red went, is selected");
		ok(netns_scanner_selects(&sc, pat, 1, &blue), "scanner: and again");
		ok(!netns_scanner_selects(&sc, pat, 1, &red), "scanner: red again (inode reused back)");
		netns_scanner_release(&sc);
	}

	/* entering: our own namespace, and back; a stale inode is refused */
	ok(netns_resolve("/proc/self/ns/net", &ns) == 0, "resolve again");
	fd = netns_open(&ns);
	ok(fd >= 0, "netns_open");
	ok(netns_enter(&v, fd) == 0, "netns_enter");
	ok(netns_leave(&v) == 0 && v.home == -1, "netns_leave");
	ok(netns_self(&after) == 0 && after == self, "back home");
	close(fd);
	ns.ino++;
	errno = 0;
	ok(netns_open(&ns) < 0 && errno == ESTALE, "a namespace file that is another namespace now: ESTALE");
	return tap_done();
}
