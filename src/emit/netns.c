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
#include <fnmatch.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "ctsource.h"
#include "hash.h"
#include "notice.h"
#include "vec.h"
#include "num.h"
#include "sockmap.h"

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
	struct netns_info *v = vec_room(l->v, &l->cap, l->n + 1, sizeof(*v), 16);

	if (!v)
		return NULL;
	l->v = v;
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

/* One process as the last scan saw it. */
struct netns_pid {
	uint32_t pid;
	uint64_t dino;			/* its /proc/PID directory's inode */
	uint64_t ino;			/* its network namespace's inode */
};

void netns_scanner_init(struct netns_scanner *sc)
{
	memset(sc, 0, sizeof(*sc));
}

void netns_scanner_release(struct netns_scanner *sc)
{
	free(sc->v);
	free(sc->skip);
	netns_scanner_init(sc);
}

/* A namespace the filter passed over.  The kernel gives a deleted
 * namespace's inode to the next one made, so the inode alone could pass
 * over a new namespace between two scans: its name and lowest pid must be
 * the same too. */
struct netns_skip {
	uint64_t ino;
	uint64_t name_hash;
	uint32_t pid;
};

bool netns_scanner_selects(struct netns_scanner *sc, const char *const *pats, size_t n,
			   const struct netns_info *ns)
{
	struct netns_skip me = { ns->ino, hash_bytes(ns->name, strlen(ns->name)), ns->pid };
	size_t i;

	if (!n)
		return true;
	for (i = 0; i < sc->nskip && sc->skip[i].ino != ns->ino; i++)
		;
	if (i < sc->nskip && sc->skip[i].pid == me.pid && sc->skip[i].name_hash == me.name_hash)
		return false;
	if (netns_filter_match(pats, n, ns, NULL)) {
		if (i < sc->nskip)
			sc->skip[i] = sc->skip[--sc->nskip];
		return true;
	}
	if (i == sc->nskip && sc->nskip == sc->skipcap) {
		size_t c = sc->skipcap ? sc->skipcap * 2 : 16;
		struct netns_skip *v = realloc(sc->skip, c * sizeof(*v));

		if (!v)
			return false;	/* asked again at the next scan */
		sc->skip = v;
		sc->skipcap = c;
	}
	sc->skip[i] = me;
	if (i == sc->nskip)
		sc->nskip++;
	return false;
}

/* The last scan's entry of pid, or NULL. */
static const struct netns_pid *pid_find(const struct netns_pid *v, size_t n, uint32_t pid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].pid == pid)
			return &v[mid];
		if (v[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int pid_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct netns_pid *)a)->pid, y = ((const struct netns_pid *)b)->pid;

	return x < y ? -1 : x > y;
}

/* Add pid's namespace ino to l: a new namespace, or a lower pid for one. */
static int add_pid(struct netns_list *l, const char *proc, uint32_t pid, uint64_t ino)
{
	int i = netns_list_find(l, ino);

	if (i < 0) {
		struct netns_info *ns = list_add(l);

		if (!ns)
			return -1;
		ns->ino = ino;
		ns->pid = pid;
		snprintf(ns->path, sizeof(ns->path), "%s/%u/ns/net", proc, pid);
	} else if (!l->v[i].pid || pid < l->v[i].pid) {
		l->v[i].pid = pid;
		/* a name's bind mount stays; a pid's file goes with it */
		if (!l->v[i].name[0])
			snprintf(l->v[i].path, sizeof(l->v[i].path), "%s/%u/ns/net", proc, pid);
	}
	return 0;
}

/* The processes under proc into l, each one's namespace from sc's memory
 * where it has seen the process (sc NULL: none); sc then remembers this
 * scan. */
static int scan_procs(struct netns_scanner *sc, struct netns_list *l, const char *proc,
		      dev_t nsdev)
{
	struct netns_pid *seen = NULL;
	size_t n = 0, cap = 0;
	bool full = !sc || sc->round % NETNS_SCAN_FULL_EVERY == 0;
	struct dirent *de;
	char path[64];
	DIR *d = opendir(proc);
	int rc = 0;

	if (!d)
		return -1;
	if (sc)
		sc->stats = 0;
	while (rc == 0 && (de = readdir(d))) {
		const struct netns_pid *old = NULL;
		unsigned long pid;
		uint64_t ino;
		char *end;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtoul(de->d_name, &end, 10);
		if (*end || pid == 0 || pid > UINT32_MAX)
			continue;
		if (!full)
			old = pid_find(sc->v, sc->n, (uint32_t)pid);
		if (old && old->dino == (uint64_t)de->d_ino) {
			ino = old->ino;
		} else {
			struct stat st;

			snprintf(path, sizeof(path), "%s/%lu/ns/net", proc, pid);
			if (sc)
				sc->stats++;
			/* a process that left, or one we may not look at */
			if (stat(path, &st) < 0 || st.st_dev != nsdev)
				continue;
			ino = (uint64_t)st.st_ino;
		}
		rc = add_pid(l, proc, (uint32_t)pid, ino);
		if (rc == 0 && sc) {
			if (n == cap) {
				size_t c = cap ? cap * 2 : 256;
				struct netns_pid *v = realloc(seen, c * sizeof(*v));

				if (!v) {
					rc = -1;
					break;
				}
				seen = v;
				cap = c;
			}
			seen[n++] = (struct netns_pid){ (uint32_t)pid, (uint64_t)de->d_ino, ino };
		}
	}
	closedir(d);
	if (rc < 0 || !sc) {
		free(seen);
		return rc;
	}
	/* proc lists pids in order already; sorting costs nothing then */
	qsort(seen, n, sizeof(*seen), pid_cmp);
	free(sc->v);
	sc->v = seen;
	sc->n = n;
	sc->cap = cap;
	sc->round++;
	return 0;
}

int netns_scan_cached(struct netns_scanner *sc, struct netns_list *l, const char *run_dir,
		      const char *proc)
{
	dev_t nsdev;
	size_t k = 0;

	l->n = 0;
	if (nsfs_dev(&nsdev) < 0 || scan_named(l, run_dir ? run_dir : NETNS_RUN_DIR, nsdev) < 0 ||
	    scan_procs(sc, l, proc ? proc : "/proc", nsdev) < 0)
		return -1;
	/* forget the passed-over namespaces that are gone */
	for (size_t i = 0; sc && i < sc->nskip; i++)
		if (netns_list_find(l, sc->skip[i].ino) >= 0)
			sc->skip[k++] = sc->skip[i];
	if (sc)
		sc->nskip = k;
	return 0;
}

int netns_scan(struct netns_list *l, const char *run_dir, const char *proc)
{
	return netns_scan_cached(NULL, l, run_dir, proc);
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

/* path opened, if it is a network namespace, and its inode in *ino;
 * -1 with errno otherwise. */
static int open_net(const char *path, uint64_t *ino)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || check_net(fd) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	*ino = (uint64_t)st.st_ino;
	return fd;
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
	fd = open_net(ns->path, &ns->ino);
	if (fd < 0)
		return -1;
	close(fd);
	if (!ns->name[0])
		name_of(ns->ino, ns->name, sizeof(ns->name));
	return 0;
}

int netns_open(const struct netns_info *ns)
{
	uint64_t ino;
	int fd = open_net(ns->path, &ino);

	if (fd < 0)
		return -1;
	if (ino != ns->ino) {
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

int netns_dump_plan(int fam[2], int n, struct ctsource_dump_filter *df)
{
	if (n < 2)
		return n;
	fam[0] = AF_UNSPEC;
	df->l4proto = -1;
	return 1;
}

/* --- one watched namespace ------------------------------------------------ */

/* Inside the namespace: the sockets that must be made there. */
static int open_inside(struct netns_watch *w, const struct netns_watch_opts *o,
		       const char **what)
{
	*what = "read";
	w->src = ctsource_new();
	if (!w->src || ctsource_probe(w->src) < 0)
		return -1;
	*what = "subscribe";
	if (o->events && ctsource_events_open(w->src, o->rcvbuf, o->granted) < 0)
		return -1;
	/* without sock_diag there are no process fields, as in a plain run */
	if (o->sockets)
		w->sm = sockmap_new();
	return 0;
}

int netns_watch_open(struct netns_watch *w, const struct netns_info *ns,
		     const struct netns_watch_opts *o, const char **what)
{
	struct netns_visit v;
	int rc, e;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (!ns) {
		rc = open_inside(w, o, what);
		goto out;
	}
	w->info = *ns;
	w->tag = true;
	*what = "enter";
	w->fd = netns_open(ns);
	if (w->fd < 0 || netns_enter(&v, w->fd) < 0) {
		rc = -1;
		goto out;
	}
	rc = open_inside(w, o, what);
	e = errno;
	if (netns_leave(&v) < 0) {
		/* a thread left in the wrong namespace would open every later
		 * socket there: nothing can be trusted after that */
		notice_error("cannot return to the program's own network namespace: %s",
			     strerror(errno));
		abort();
	}
	errno = e;
	if (w->sm)
		sockmap_set_netns(w->sm, w->fd);
	if (ns->pid)
		container_of_pid(NULL, ns->pid, &w->ct);
out:
	if (rc < 0) {
		e = errno;
		netns_watch_close(w);
		errno = e;
	}
	return rc;
}

void netns_watch_close(struct netns_watch *w)
{
	ctsource_free(w->src);
	sockmap_free(w->sm);
	if (w->fd >= 0)
		close(w->fd);
	w->src = NULL;
	w->sm = NULL;
	w->fd = -1;
}

void netns_watch_tag(const struct netns_watch *w, struct flow *f)
{
	if (!w->tag)
		return;
	f->netns_ino = w->info.ino;
	f->netns_name = w->info.name[0] ? w->info.name : NULL;
	f->container_id = w->ct.id[0] ? w->ct.id : NULL;
	f->container_name = w->ct.name[0] ? w->ct.name : NULL;
	f->container_runtime = w->ct.runtime;
	f->pod_uid = w->ct.pod_uid[0] ? w->ct.pod_uid : NULL;
}

const char *netns_watch_label(const struct netns_watch *w)
{
	return w->info.name[0] ? w->info.name : w->info.path;
}

/* Why a namespace cannot be watched, in words. */
static void say_failed(const char *label, const char *what, int err)
{
	if (!strcmp(what, "enter"))
		notice_error("cannot enter network namespace '%s': %s%s", label, strerror(err),
			     err == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
	else if (!strcmp(what, "read"))
		notice_error("cannot read the connection tracking table of network namespace "
			     "'%s': %s%s", label, strerror(err),
			     ctsource_denied(err) ? " (needs CAP_NET_ADMIN; run as root)" : "");
	else
		notice_error("cannot subscribe to connection tracking events in network "
			     "namespace '%s': %s", label, strerror(err));
}

/* What the specs name, each namespace once; false when one names none. */
static bool resolve_all(const char *const *specs, size_t nspecs, struct netns_list *l)
{
	for (size_t i = 0; i < nspecs; i++) {
		struct netns_info ns, *slot;

		if (netns_resolve(specs[i], &ns) < 0) {
			if (errno == EINVAL)
				notice_error("cannot open network namespace '%s': not a network "
					     "namespace", specs[i]);
			else
				notice_error("cannot open network namespace '%s': %s", specs[i],
					     strerror(errno));
			return false;
		}
		if (netns_list_find(l, ns.ino) >= 0)
			continue;
		if (!(slot = list_add(l))) {
			notice_error("cannot list the network namespaces: %s", strerror(errno));
			return false;
		}
		*slot = ns;
	}
	return true;
}

/* Four descriptors a namespace (its own, dump, events, sock_diag): the
 * default soft limit of 1,024 would end at about 250 namespaces. */
static void raise_nofile(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

bool netns_filter_match(const char *const *pats, size_t n, const struct netns_info *ns,
			const struct container *ct)
{
	struct container own;
	char ino[24];

	if (!n)
		return true;
	if (!ct) {
		memset(&own, 0, sizeof(own));
		if (ns->pid)
			container_of_pid(NULL, ns->pid, &own);
		ct = &own;
	}
	snprintf(ino, sizeof(ino), "%llu", (unsigned long long)ns->ino);
	for (size_t i = 0; i < n; i++) {
		const char *p = pats[i];
		size_t len = strlen(p);

		if ((ns->name[0] && fnmatch(p, ns->name, 0) == 0) || !strcmp(p, ino) ||
		    (ct->name[0] && fnmatch(p, ct->name, 0) == 0) ||
		    (ct->id[0] && (fnmatch(p, ct->id, 0) == 0 ||
				   (len >= 12 && !strncmp(ct->id, p, len)))))
			return true;
	}
	return false;
}

struct netns_watch **netns_watch_start(const char *const *specs, size_t nspecs, bool all,
				       const char *const *filter, size_t nfilter,
				       const struct netns_watch_opts *o, size_t *n)
{
	struct netns_list l, procs;
	struct netns_watch **v = NULL;
	size_t k = 0;
	bool ok;

	netns_list_init(&l);
	netns_list_init(&procs);
	*n = 0;
	if (all) {
		ok = netns_scan(&l, NULL, NULL) == 0;
		if (!ok)
			notice_error("cannot list network namespaces: %s", strerror(errno));
	} else {
		/* the lowest pid of each, for its container */
		ok = resolve_all(specs, nspecs, &l);
		if (ok && netns_scan(&procs, NULL, NULL) == 0)
			for (size_t i = 0; i < l.n; i++) {
				int j = netns_list_find(&procs, l.v[i].ino);

				if (j >= 0 && !l.v[i].pid)
					l.v[i].pid = procs.v[j].pid;
			}
	}
	if (ok && !(v = calloc(l.n ? l.n : 1, sizeof(*v)))) {
		notice_error("cannot list the network namespaces: %s", strerror(errno));
		ok = false;
	}
	raise_nofile();
	for (size_t i = 0; ok && i < l.n; i++) {
		const char *what = "read";

		if (all && !netns_filter_match(filter, nfilter, &l.v[i], NULL))
			continue;
		if (!(v[k] = malloc(sizeof(*v[k])))) {
			notice_error("cannot watch network namespace '%s': %s",
				     l.v[i].name[0] ? l.v[i].name : l.v[i].path, strerror(errno));
			ok = false;
		} else if (netns_watch_open(v[k], &l.v[i], o, &what) == 0) {
			k++;
		} else if (all && (errno == ENOENT || errno == ESTALE || errno == ESRCH)) {
			free(v[k]);	/* its last process left meanwhile */
		} else {
			say_failed(l.v[i].name[0] ? l.v[i].name : l.v[i].path, what, errno);
			free(v[k]);
			ok = false;
		}
	}
	netns_list_release(&l);
	netns_list_release(&procs);
	if (!ok) {
		netns_watch_free(v, k);
		return NULL;
	}
	*n = k;
	return v;
}

void netns_watch_free(struct netns_watch **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		netns_watch_close(v[i]);
		free(v[i]);
	}
	free(v);
}
