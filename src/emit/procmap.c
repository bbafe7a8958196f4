/*
 * procmap.c - socket inode -> pid from /proc, pid -> comm/exe, uid -> name
 * (bounds and lifetimes in procmap.h).
 *
 * The pid and uid caches hold pointers to separately allocated entries so
 * that a string handed out never moves when a table grows or is swept.
 *
 * User names come from getpwuid_r, which may ask a directory (LDAP, sssd)
 * and block for as long as it likes; so one helper thread makes those
 * calls, and the main thread only ever waits for it a few milliseconds,
 * and only while the directory has been answering fast (see procmap_user).
 * The thread shares a small refcounted struct with the map, so a call
 * stuck in the directory holds back neither the stream nor the exit: the
 * map's release waits PROCMAP_USER_WAIT_MS at most for the thread to end
 * (so that an idle helper is gone, stack and all, before the program
 * exits, and valgrind finds nothing), then leaves a stuck one detached.
 */
#include "procmap.h"

#include <dirent.h>
#include <linux/capability.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hash.h"
#include "htab.h"
#include "notice.h"
#include "refresh.h"
#include "utf8.h"
#include "vec.h"

/* --- tables of entries keyed by a 32-bit number ------------------------------ */

struct pent_hdr {
	uint32_t key;		/* pid or uid + 1: never 0 */
	unsigned int used_gen;	/* scan that last handed it out */
};

/* An htab of struct pent_hdr pointers, at most 'bound' of them where the
 * current scan allows. */
struct ptab {
	struct htab t;
	void (*drop)(struct pent_hdr *);
};

static struct pent_hdr *ptab_get(const struct ptab *t, uint32_t key)
{
	struct htab_pos pos;

	for (uintptr_t v = htab_first(&t->t, hash_u64(key), &pos); v; v = htab_next(&t->t, &pos))
		if (((struct pent_hdr *)v)->key == key)
			return (struct pent_hdr *)v;
	return NULL;
}

struct sweep {
	const struct ptab *t;
	unsigned int keep_gen;
};

static bool used_in_scan(uintptr_t v, void *ctx)
{
	const struct sweep *sw = ctx;
	struct pent_hdr *h = (struct pent_hdr *)v;

	if (h->used_gen == sw->keep_gen)
		return true;
	sw->t->drop(h);
	return false;
}

/* Add h; at the bound, first drop the entries the current scan 'gen' has
 * not used. */
static int ptab_put(struct ptab *t, struct pent_hdr *h, size_t bound, unsigned int gen)
{
	struct sweep sw = { t, gen };

	if (htab_count(&t->t) >= bound)
		htab_filter(&t->t, used_in_scan, &sw);
	return htab_put(&t->t, hash_u64(h->key), (uintptr_t)h);
}

static void ptab_release(struct ptab *t)
{
	uintptr_t v;

	for (size_t pos = 0; (v = htab_each(&t->t, &pos));)
		t->drop((struct pent_hdr *)v);
	htab_release(&t->t);
}

/* --- the map ---------------------------------------------------------------- */

struct ino_ent {
	uint64_t ino;
	uint32_t pid;
};

struct proc_ent {
	struct pent_hdr h;
	struct procmap_proc pub;
	uint64_t read_ns;
	char *exe;
	char name[128];
};

struct user_ent {
	struct pent_hdr h;
	bool pending;		/* no answer yet */
	bool asked;		/* queued for the helper (its queue may be full) */
	char *name;		/* NULL: no such user (or not known yet) */
};

/* A finished look-up, from the helper to the main thread. */
struct user_done {
	struct user_done *next;
	uint32_t uid;
	char *name;
};

/* Shared by the map (main thread) and the helper, under mu. */
struct usershare {
	pthread_mutex_t mu;
	pthread_cond_t work;		/* a uid queued, or stop */
	pthread_cond_t done_cv;		/* a look-up finished */
	uint32_t q[PROCMAP_MAX_USERS];
	unsigned int qhead, qlen;
	bool busy;			/* inside getpwuid_r */
	bool stop;
	unsigned int refs;		/* the map and the helper */
	uint64_t last_ns;		/* how long the last look-up took */
	unsigned long lookups;
	struct user_done *done;
};

struct procmap {
	char *proc;
	unsigned int gen, walked_gen;
	struct refresh again;		/* when a miss may walk again */
	unsigned long walks;
	bool told_denied;
	struct ino_ent *ino;		/* this walk's sockets, in walk order */
	size_t ino_cap, ino_n;
	struct htab ino_idx;		/* inode -> index into ino + 1 */
	struct ptab procs, users;
	struct usershare *us;		/* NULL until the first user look-up */
	pthread_t helper;		/* joinable while us is set */
};

static void drop_proc(struct pent_hdr *h)
{
	struct proc_ent *e = (struct proc_ent *)h;

	free(e->exe);
	free(e);
}

static void share_release(struct usershare *u, bool stop);

static void drop_user(struct pent_hdr *h)
{
	struct user_ent *e = (struct user_ent *)h;

	free(e->name);
	free(e);
}

struct procmap *procmap_new(const char *proc)
{
	struct procmap *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->proc = strdup(proc ? proc : "/proc");
	if (!p->proc) {
		free(p);
		return NULL;
	}
	p->gen = 1;
	refresh_init(&p->again, PROCMAP_REFRESH_MS);
	htab_init(&p->ino_idx);
	htab_init(&p->procs.t);
	htab_init(&p->users.t);
	p->procs.drop = drop_proc;
	p->users.drop = drop_user;
	return p;
}

/* Reading another user's /proc/PID/fd takes both: CAP_DAC_READ_SEARCH
 * for the directory's mode, CAP_SYS_PTRACE for the kernel's ptrace access
 * check on its links.  Without either the process fields of those flows
 * quietly vanish, so say what is missing, once, up front: the first
 * denial's path told neither, and with one of the two present no denial
 * was reported at all. */
void procmap_check_caps(struct procmap *p)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	bool ptrace, dac;

	if (syscall(SYS_capget, &hdr, data) < 0)
		return;
	ptrace = data[0].effective & (1u << CAP_SYS_PTRACE);
	dac = data[0].effective & (1u << CAP_DAC_READ_SEARCH);
	if (ptrace && dac)
		return;
	p->told_denied = true;
	notice("no process fields for other users' processes: process attribution needs "
	       "CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH%s",
	       ptrace ? " (CAP_DAC_READ_SEARCH is missing)" :
	       dac ? " (CAP_SYS_PTRACE is missing)" : "");
}

void procmap_free(struct procmap *p)
{
	if (!p)
		return;
	ptab_release(&p->procs);
	ptab_release(&p->users);
	if (p->us) {
		struct timespec dl;

		share_release(p->us, true);
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_nsec += PROCMAP_USER_WAIT_MS * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		if (pthread_clockjoin_np(p->helper, NULL, CLOCK_MONOTONIC, &dl) != 0)
			pthread_detach(p->helper);
	}
	free(p->ino);
	htab_release(&p->ino_idx);
	free(p->proc);
	free(p);
}

void procmap_scan_begin(struct procmap *p)
{
	p->gen++;
}

size_t procmap_nprocs(const struct procmap *p)
{
	return htab_count(&p->procs.t);
}

unsigned long procmap_walks(const struct procmap *p)
{
	return p->walks;
}

/* --- inode -> pid ------------------------------------------------------------ */

static uint32_t ino_find(const struct procmap *p, uint64_t ino)
{
	struct htab_pos pos;

	for (uintptr_t i = htab_first(&p->ino_idx, hash_u64(ino), &pos); i;
	     i = htab_next(&p->ino_idx, &pos))
		if (p->ino[i - 1].ino == ino)
			return p->ino[i - 1].pid;
	return 0;
}

/* A socket shared by several processes is added once for each: ino_find
 * meets the first one put, so the first (lowest) pid keeps it, and the add
 * needs no look-up.  The walk only collects; index_inos() indexes them all
 * at once when it is done, in a table sized once (growing it on the way
 * cost more than the rest of the indexing). */
static int ino_add(struct procmap *p, uint64_t ino, uint32_t pid)
{
	struct ino_ent *v = vec_room(p->ino, &p->ino_cap, p->ino_n + 1, sizeof(*v), 1024);

	if (!v)
		return -1;
	p->ino = v;
	p->ino[p->ino_n].ino = ino;
	p->ino[p->ino_n].pid = pid;
	p->ino_n++;
	return 0;
}

/* Index the walk's sockets in walk order; out of memory, none is found. */
static void index_inos(struct procmap *p)
{
	if (htab_reserve(&p->ino_idx, p->ino_n) < 0) {
		p->ino_n = 0;
		return;
	}
	for (size_t i = 0; i < p->ino_n; i++)
		htab_put(&p->ino_idx, hash_u64(p->ino[i].ino), i + 1);	/* room reserved */
}

static bool parse_pid(const char *s, uint32_t *pid)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > UINT32_MAX / 10)
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*pid = (uint32_t)v;
	return v != 0;
}

static void walk_fds(struct procmap *p, int procfd, const char *name, uint32_t pid)
{
	char path[300], link[64];
	struct dirent *de;
	DIR *d;
	int fd;

	snprintf(path, sizeof(path), "%s/fd", name);
	fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if ((errno == EACCES || errno == EPERM) && pid != (uint32_t)getpid() &&
		    !p->told_denied) {
			p->told_denied = true;
			notice("permission denied reading \"%s/%s\", "
			       "process fields only for readable processes", p->proc, path);
		}
		return;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		ssize_t n;
		uint64_t ino = 0;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(fd, de->d_name, link, sizeof(link) - 1);
		/* "socket:[12345]" */
		if (n < 10 || memcmp(link, "socket:[", 8) || link[n - 1] != ']')
			continue;
		for (ssize_t i = 8; i < n - 1 && link[i] >= '0' && link[i] <= '9'; i++)
			ino = ino * 10 + (uint64_t)(link[i] - '0');
		if (ino && ino_add(p, ino, pid) < 0)
			break;
	}
	closedir(d);
}

static void walk(struct procmap *p)
{
	struct dirent *de;
	DIR *d;

	p->walked_gen = p->gen;
	refresh_begin(&p->again);
	p->walks++;
	htab_clear(&p->ino_idx);
	p->ino_n = 0;
	d = opendir(p->proc);
	if (!d) {
		refresh_done(&p->again);
		return;
	}
	while ((de = readdir(d))) {
		uint32_t pid;

		if (parse_pid(de->d_name, &pid))
			walk_fds(p, dirfd(d), de->d_name, pid);
	}
	closedir(d);
	index_inos(p);
	refresh_done(&p->again);
}

uint32_t procmap_pid(struct procmap *p, uint64_t ino)
{
	uint32_t pid;

	if (!ino)
		return 0;
	if (p->walked_gen != p->gen)
		walk(p);
	pid = ino_find(p, ino);
	if (!pid && refresh_due(&p->again)) {
		walk(p);
		pid = ino_find(p, ino);
	}
	return pid;
}

/* --- pid -> name, executable --------------------------------------------------- */

static void read_proc(struct procmap *p, struct proc_ent *e)
{
	char path[64], raw[PATH_MAX];
	ssize_t n;
	int fd;

	e->read_ns = clock_mono_ns();
	e->pub.pid = e->h.key;
	e->pub.name = NULL;
	e->pub.exe = NULL;
	free(e->exe);
	e->exe = NULL;

	snprintf(path, sizeof(path), "%s/%u/comm", p->proc, e->h.key);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, raw, 256);
		close(fd);
		/* the kernel ends comm with one newline; the name itself may
		 * hold more */
		if (n > 0 && raw[n - 1] == '\n')
			n--;
		if (n > 0) {
			utf8_repair(raw, (size_t)n, e->name, sizeof(e->name));
			e->pub.name = e->name;
		}
	}
	snprintf(path, sizeof(path), "%s/%u/exe", p->proc, e->h.key);
	n = readlink(path, raw, sizeof(raw));
	if (n > 0 && n < (ssize_t)sizeof(raw)) {
		size_t cap = (size_t)n * 3 + 1;

		e->exe = malloc(cap);
		if (e->exe) {
			utf8_repair(raw, (size_t)n, e->exe, cap);
			e->pub.exe = e->exe;
		}
	}
}

const struct procmap_proc *procmap_proc(struct procmap *p, uint32_t pid)
{
	struct proc_ent *e = (struct proc_ent *)ptab_get(&p->procs, pid);

	if (e) {
		/* refreshed only on its first use in a scan, so a string
		 * handed out in this scan is never freed under a flow */
		if (e->h.used_gen != p->gen &&
		    clock_mono_ns() - e->read_ns >= PROCMAP_PROC_TTL_MS * 1000000ull)
			read_proc(p, e);
		e->h.used_gen = p->gen;
		return &e->pub;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->h.key = pid;
	e->h.used_gen = p->gen;
	read_proc(p, e);
	if (ptab_put(&p->procs, &e->h, PROCMAP_MAX_PROCS, p->gen) < 0) {
		drop_proc(&e->h);
		return NULL;
	}
	return &e->pub;
}

/* --- uid -> user name ------------------------------------------------------------ */

static void share_free(struct usershare *u)
{
	while (u->done) {
		struct user_done *d = u->done;

		u->done = d->next;
		free(d->name);
		free(d);
	}
	pthread_cond_destroy(&u->work);
	pthread_cond_destroy(&u->done_cv);
	pthread_mutex_destroy(&u->mu);
	free(u);
}

/* Drop one reference; the last one out frees.  The map's release also
 * stops the helper, without waiting for a look-up in progress. */
static void share_release(struct usershare *u, bool stop)
{
	bool last;

	pthread_mutex_lock(&u->mu);
	if (stop) {
		u->stop = true;
		pthread_cond_signal(&u->work);
	}
	last = --u->refs == 0;
	pthread_mutex_unlock(&u->mu);
	if (last)
		share_free(u);
}

/* getpwuid_r with a buffer that grows; a clean copy of the name or NULL. */
static char *lookup_user(uint32_t uid, char **buf, size_t *len)
{
	struct passwd pw, *res = NULL;
	int rc;

	if (!*buf) {
		long n = sysconf(_SC_GETPW_R_SIZE_MAX);

		*len = n > 0 ? (size_t)n : 4096;
		*buf = malloc(*len);
		if (!*buf)
			return NULL;
	}
	while ((rc = getpwuid_r((uid_t)uid, &pw, *buf, *len, &res)) == ERANGE && *len < 1 << 20) {
		char *b = realloc(*buf, *len * 2);

		if (!b)
			return NULL;
		*buf = b;
		*len *= 2;
	}
	if (rc || !res || !res->pw_name || !*res->pw_name)
		return NULL;
	{
		size_t n = strlen(res->pw_name), cap = n * 3 + 1;
		char *name = malloc(cap);

		if (name)
			utf8_repair(res->pw_name, n, name, cap);
		return name;
	}
}

static void *user_helper(void *arg)
{
	struct usershare *u = arg;
	char *buf = NULL;
	size_t len = 0;

	pthread_mutex_lock(&u->mu);
	for (;;) {
		struct user_done *d;
		uint32_t uid;
		uint64_t t0;

		while (!u->stop && u->qlen == 0)
			pthread_cond_wait(&u->work, &u->mu);
		if (u->stop)
			break;
		uid = u->q[u->qhead];
		u->qhead = (u->qhead + 1) % PROCMAP_MAX_USERS;
		u->qlen--;
		u->busy = true;
		pthread_mutex_unlock(&u->mu);

		t0 = clock_mono_ns();
		d = malloc(sizeof(*d));
		if (d) {
			d->uid = uid;
			d->name = lookup_user(uid, &buf, &len);
		}

		pthread_mutex_lock(&u->mu);
		u->busy = false;
		/* the first call also loads and reads the NSS set-up: it says
		 * nothing of the directory's speed */
		if (u->lookups++ > 0)
			u->last_ns = clock_mono_ns() - t0;
		if (d) {
			d->next = u->done;
			u->done = d;
		}
		pthread_cond_signal(&u->done_cv);
	}
	pthread_mutex_unlock(&u->mu);
	free(buf);
	share_release(u, false);
	return NULL;
}

static int share_start(struct procmap *p)
{
	struct usershare *u = calloc(1, sizeof(*u));
	pthread_condattr_t ca;
	sigset_t all, old;
	int err;

	if (!u)
		return -1;
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->work, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&u->done_cv, &ca);
	pthread_condattr_destroy(&ca);
	u->refs = 2;
	/* the helper takes no signal: --once lets SIGTERM in only around
	 * its waits, and a stop caught by the helper would wake none */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&p->helper, NULL, user_helper, u);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		share_free(u);
		notice_error("cannot start the user name thread: %s; no user names",
			     strerror(err));
		errno = err;
		return -1;
	}
	p->us = u;
	return 0;
}

/* Give the answers that came back to their entries (if still cached). */
static void take_done(struct procmap *p, struct user_done *list)
{
	while (list) {
		struct user_done *d = list;
		struct user_ent *e = (struct user_ent *)ptab_get(&p->users, d->uid + 1);

		list = d->next;
		if (e && e->pending) {
			e->pending = false;
			e->name = d->name;
			d->name = NULL;
		}
		free(d->name);
		free(d);
	}
}

/* Queue uid for the helper and, while the directory has been fast, wait a
 * moment for it: on a machine with local users the name is in the very
 * record that first shows the uid.  Returns false when it cannot be queued. */
static bool ask_user(struct procmap *p, uint32_t uid)
{
	struct usershare *u;
	struct user_done *got = NULL;
	bool queued = false;

	if (!p->us && share_start(p) < 0)
		return false;
	u = p->us;
	pthread_mutex_lock(&u->mu);
	if (u->qlen < PROCMAP_MAX_USERS) {
		bool idle = u->qlen == 0 && !u->busy;
		struct timespec dl;

		u->q[(u->qhead + u->qlen) % PROCMAP_MAX_USERS] = uid;
		u->qlen++;
		queued = true;
		pthread_cond_signal(&u->work);
		if (idle && u->last_ns < PROCMAP_USER_FAST_MS * 1000000ull) {
			clock_gettime(CLOCK_MONOTONIC, &dl);
			dl.tv_nsec += PROCMAP_USER_WAIT_MS * 1000000L;
			if (dl.tv_nsec >= 1000000000L) {
				dl.tv_sec++;
				dl.tv_nsec -= 1000000000L;
			}
			while (!u->done && (u->qlen > 0 || u->busy))
				if (pthread_cond_timedwait(&u->done_cv, &u->mu, &dl) == ETIMEDOUT)
					break;
		}
	}
	got = u->done;
	u->done = NULL;
	pthread_mutex_unlock(&u->mu);
	take_done(p, got);
	return queued;
}

const char *procmap_user(struct procmap *p, uint32_t uid)
{
	uint32_t key = uid + 1;
	struct user_ent *e;

	if (key == 0)		/* (uid_t)-1 is no user */
		return NULL;
	if (p->us) {
		struct user_done *got;

		/* cheap when nothing came back: one uncontended lock */
		pthread_mutex_lock(&p->us->mu);
		got = p->us->done;
		p->us->done = NULL;
		pthread_mutex_unlock(&p->us->mu);
		take_done(p, got);
	}
	e = (struct user_ent *)ptab_get(&p->users, key);
	if (e) {
		e->h.used_gen = p->gen;
		if (e->pending && !e->asked)
			e->asked = ask_user(p, uid);
		return e->name;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->h.key = key;
	e->h.used_gen = p->gen;
	e->pending = true;
	if (ptab_put(&p->users, &e->h, PROCMAP_MAX_USERS, p->gen) < 0) {
		drop_user(&e->h);
		return NULL;
	}
	/* not asked (the helper's queue is full): the next call asks */
	e->asked = ask_user(p, uid);
	return e->name;
}
