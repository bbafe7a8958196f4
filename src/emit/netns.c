/*
 * netns.c - finding network namespaces and entering them.
 *
 * A namespace is known by its nsfs inode; a file that opens it is either
 * its ip-netns bind mount or /proc/PID/ns/net of a process in it.  iproute2's
 * libnetns is not a library Debian ships for others, so the few lines it
 * takes (readdir, stat, setns) are written here.
 */
#include "netns.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "num.h"

void netns_list_init(struct netns_list *l)
{
	memset(l, 0, sizeof(*l));
}

void netns_list_release(struct netns_list *l)
{
	free(l->v);
	netns_list_init(l);
}

int netns_list_find(const struct netns_list *l, uint64_t ino)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].ino == ino)
			return (int)i;
	return -1;
}

static struct netns_info *list_add(struct netns_list *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct netns_info *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

/* The device of nsfs, which every namespace file is on: a file in
 * /run/netns whose mount went away is a plain file on tmpfs. */
static int nsfs_dev(dev_t *dev)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0)
		return -1;
	*dev = st.st_dev;
	return 0;
}

int netns_self(uint64_t *ino)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return -1;
	*ino = (uint64_t)st.st_ino;
	return 0;
}

/* Names under run_dir that are mounted namespaces. */
static int scan_named(struct netns_list *l, const char *run_dir, dev_t nsdev)
{
	DIR *d = opendir(run_dir);
	struct dirent *de;

	if (!d)
		return 0;	/* no named namespaces at all */
	while ((de = readdir(d))) {
		struct netns_info *ns;
		struct stat st;

		if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, 0) < 0 ||
		    st.st_dev != nsdev || netns_list_find(l, (uint64_t)st.st_ino) >= 0)
			continue;
		if (!(ns = list_add(l))) {
			closedir(d);
			return -1;
		}
		ns->ino = (uint64_t)st.st_ino;
		snprintf(ns->name, sizeof(ns->name), "%s", de->d_name);
		snprintf(ns->path, sizeof(ns->path), "%s/%s", run_dir, de->d_name);
	}
	closedir(d);
	return 0;
}

int netns_scan(struct netns_list *l, const char *run_dir, const char *proc)
{
	char path[64];
	struct dirent *de;
	dev_t nsdev;
	DIR *d;

	l->n = 0;
	if (!proc)
		proc = "/proc";
	if (nsfs_dev(&nsdev) < 0 || scan_named(l, run_dir ? run_dir : NETNS_RUN_DIR, nsdev) < 0)
		return -1;
	d = opendir(proc);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		unsigned long pid;
		struct stat st;
		char *end;
		int i;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtoul(de->d_name, &end, 10);
		if (*end || pid == 0 || pid > UINT32_MAX)
			continue;
		snprintf(path, sizeof(path), "%s/%lu/ns/net", proc, pid);
		/* a process that left, or one we may not look at */
		if (stat(path, &st) < 0 || st.st_dev != nsdev)
			continue;
		i = netns_list_find(l, (uint64_t)st.st_ino);
		if (i < 0) {
			struct netns_info *ns = list_add(l);

			if (!ns) {
				closedir(d);
				return -1;
			}
			ns->ino = (uint64_t)st.st_ino;
			ns->pid = (uint32_t)pid;
			snprintf(ns->path, sizeof(ns->path), "%s", path);
		} else if (!l->v[i].pid || pid < l->v[i].pid) {
			l->v[i].pid = (uint32_t)pid;
		}
	}
	closedir(d);
	return 0;
}

/* Whether fd is a network namespace (NS_GET_NSTYPE, Linux 4.11). */
static int check_net(int fd)
{
	int t = ioctl(fd, NS_GET_NSTYPE);

	if (t < 0 && errno == ENOTTY)
		errno = EINVAL;		/* not an nsfs file at all */
	else if (t >= 0 && t != CLONE_NEWNET)
		errno = EINVAL, t = -1;
	return t < 0 ? -1 : 0;
}

/* The ip-netns name of namespace ino, if it has one. */
static void name_of(uint64_t ino, char *name, size_t len)
{
	struct netns_list l;
	dev_t nsdev;
	int i;

	netns_list_init(&l);
	if (nsfs_dev(&nsdev) == 0 && scan_named(&l, NETNS_RUN_DIR, nsdev) == 0 &&
	    (i = netns_list_find(&l, ino)) >= 0)
		snprintf(name, len, "%s", l.v[i].name);
	netns_list_release(&l);
}

int netns_resolve(const char *spec, struct netns_info *ns)
{
	unsigned long long pid;
	struct stat st;
	int fd, n;

	memset(ns, 0, sizeof(*ns));
	if (!strncmp(spec, "pid:", 4)) {
		if (num_parse_uint(spec + 4, 1, UINT32_MAX, 0, &pid) < 0) {
			errno = EINVAL;
			return -1;
		}
		ns->pid = (uint32_t)pid;
		n = snprintf(ns->path, sizeof(ns->path), "/proc/%llu/ns/net", pid);
	} else if (strchr(spec, '/')) {
		n = snprintf(ns->path, sizeof(ns->path), "%s", spec);
	} else {
		if (!*spec || !strcmp(spec, ".") || !strcmp(spec, "..")) {
			errno = EINVAL;
			return -1;
		}
		if (strlen(spec) > NAME_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
		snprintf(ns->name, sizeof(ns->name), "%s", spec);
		n = snprintf(ns->path, sizeof(ns->path), NETNS_RUN_DIR "/%s", spec);
	}
	if (n < 0 || (size_t)n >= sizeof(ns->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(ns->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || check_net(fd) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	ns->ino = (uint64_t)st.st_ino;
	if (!ns->name[0])
		name_of(ns->ino, ns->name, sizeof(ns->name));
	return 0;
}

int netns_open(const struct netns_info *ns)
{
	int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || check_net(fd) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if ((uint64_t)st.st_ino != ns->ino) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

int netns_enter(struct netns_visit *v, int fd)
{
	v->home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (v->home < 0)
		return -1;
	if (setns(fd, CLONE_NEWNET) < 0) {
		int e = errno;

		close(v->home);
		v->home = -1;
		errno = e;
		return -1;
	}
	return 0;
}

int netns_leave(struct netns_visit *v)
{
	int rc = setns(v->home, CLONE_NEWNET), e = errno;

	close(v->home);
	v->home = -1;
	errno = e;
	return rc;
}
