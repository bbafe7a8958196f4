/*
 * netns.h - network namespaces: the ones --netns SPEC and --all-netns name,
 * and moving the calling thread into one to open sockets there (netlink
 * sockets keep the namespace they were opened in).
 *
 * A struct netns_info is a plain value that the caller owns; a struct
 * netns_list owns its array (netns_list_init / netns_list_release).  A
 * struct netns_visit holds the descriptor of the thread's own namespace from
 * netns_enter() to netns_leave(), which closes it.  A struct netns_watch
 * (netns_watch_open / netns_watch_close) owns a descriptor of its namespace
 * and the sockets opened inside it; the strings it lends to flows
 * (netns_watch_tag) live as long as it does.
 */
#ifndef FLOWTOP_NETNS_H
#define FLOWTOP_NETNS_H

#include <limits.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "container.h"
#include "ctsource.h"
#include "flow.h"

#define NETNS_RUN_DIR "/run/netns"	/* where ip-netns(8) names them */
#define NETNS_PATH_MAX 512

struct netns_info {
	uint64_t ino;			/* the inode, as ls -iL /proc/PID/ns/net shows */
	uint32_t pid;			/* the lowest pid found in it; 0: none found */
	char name[NAME_MAX + 1];	/* its name in /run/netns, "" when none */
	char path[NETNS_PATH_MAX];	/* a file that opens it */
};

struct netns_list {
	struct netns_info *v;
	size_t n, cap;
};

/* An empty list; allocates nothing. */
void netns_list_init(struct netns_list *l);
/* Free the list's array; it is empty again. */
void netns_list_release(struct netns_list *l);

/* Index of the namespace with inode ino in l, or -1. */
int netns_list_find(const struct netns_list *l, uint64_t ino);

/* Every network namespace on the machine, each once by inode, into l
 * (emptied first): the ones named in run_dir (NULL: /run/netns), then the
 * ones that processes under proc (NULL: /proc) are in, with the lowest pid
 * of each.  0, or -1 with errno when proc cannot be read or memory runs
 * out. */
int netns_scan(struct netns_list *l, const char *run_dir, const char *proc);

/* What netns_scan_cached() remembers between scans: each process's
 * namespace, keyed by its pid and the inode of its /proc/PID directory (a
 * new process under a reused pid has a new one).  Owns its array
 * (netns_scanner_init / netns_scanner_release). */
struct netns_pid;
struct netns_skip;
struct netns_scanner {
	struct netns_pid *v;		/* sorted by pid */
	size_t n, cap;
	unsigned int round;		/* scans so far */
	size_t stats;			/* namespace files stat(2)ed by the last scan */
	struct netns_skip *skip;	/* namespaces the filter passed over, still there */
	size_t nskip, skipcap;
};

/* A scanner that has seen nothing yet; allocates nothing. */
void netns_scanner_init(struct netns_scanner *sc);
/* Free what the scanner remembers; it has seen nothing again. */
void netns_scanner_release(struct netns_scanner *sc);

/* netns_scan(), but a process seen by the last scan of sc is not looked at
 * again (readdir gives its directory's inode): a rescan of a quiet machine
 * costs a readdir of proc, not a stat(2) of every process's namespace.
 * Every NETNS_SCAN_FULL_EVERY-th scan looks at every process, for one
 * that moved itself into another namespace (unshare(2), setns(2)). */
#define NETNS_SCAN_FULL_EVERY 16
int netns_scan_cached(struct netns_scanner *sc, struct netns_list *l, const char *run_dir,
		      const char *proc);

/* netns_filter_match() for a namespace the last scan of sc found, asked
 * once: a namespace passed over is remembered (its container is not read
 * again at every scan) for as long as scans find it. */
bool netns_scanner_selects(struct netns_scanner *sc, const char *const *pats, size_t n,
			   const struct netns_info *ns);

/* What --netns SPEC names: an ip-netns name (a file in /run/netns), a path
 * to a namespace file (/proc/PID/ns/net, a bind mount), or pid:PID.  Fills
 * ino, path, pid (pid:PID only) and name (looked up in /run/netns by inode
 * when SPEC is not a name).  0, or -1 with errno: ENOENT when there is no
 * such file or process, EINVAL when it is not a network namespace (or
 * SPEC is malformed), ENAMETOOLONG, or what stat(2) and open(2) say. */
int netns_resolve(const char *spec, struct netns_info *ns);

/* The inode of the calling thread's own network namespace; 0 or -1. */
int netns_self(uint64_t *ino);

/* Open ns->path, read-only and close-on-exec, and check that it still is
 * namespace ns->ino (a pid may have been reused).  A descriptor, or -1 with
 * errno (ESTALE: another namespace by now). */
int netns_open(const struct netns_info *ns);

struct netns_visit {
	int home;			/* the thread's own namespace */
};

/* Move the calling thread into the namespace open on fd, remembering its
 * own.  0, or -1 with errno (EPERM: setns(2) needs CAP_SYS_ADMIN). */
int netns_enter(struct netns_visit *v, int fd);

/* Back to the namespace netns_enter() left.  -1 with errno when the thread
 * cannot go back: its next sockets would open in the wrong namespace, so
 * the caller must give up. */
int netns_leave(struct netns_visit *v);

/* A namespace's dump walks the machine's whole conntrack hash once per
 * request (the kernel keeps one table for all namespaces and skips the
 * others' flows as it goes): where the plan (fam, n, df, as
 * emitter_dump_plan() made it) has one request per family, for the
 * kernel's protocol filter, it becomes one request of both families, one
 * walk, and the filter in user space, which runs anyway, does the rest.
 * Returns the number of requests now in fam. */
int netns_dump_plan(int fam[2], int n, struct ctsource_dump_filter *df);

/* One watched namespace: who it is, and the sockets opened inside it. */
struct netns_watch {
	struct netns_info info;
	struct container ct;		/* of its lowest pid; empty when none */
	bool tag;			/* netns_watch_tag() fills the fields */
	int fd;				/* open on the namespace, or -1 */
	struct ctsource *src;		/* its conntrack dump and event sockets */
	struct sockmap *sm;		/* its sockets (process fields), or NULL */
};

/* What netns_watch_open() opens inside the namespace. */
struct netns_watch_opts {
	bool events;			/* an event socket too (follow mode) */
	size_t rcvbuf;			/* its receive buffer */
	size_t *granted;		/* where to say what the kernel granted */
	bool sockets;			/* a sock_diag socket (process fields) */
};

/* Enter namespace ns, open its sockets there (ctsource, probed; the event
 * socket and a sockmap as o asks), come back, and read the container of
 * ns->pid.  ns NULL: the calling thread's own namespace, untagged (a plain
 * run).  0, or -1 with errno and *what naming the step that failed
 * ("enter", "read", "subscribe", "sock_diag"); w is then closed. */
int netns_watch_open(struct netns_watch *w, const struct netns_info *ns,
		     const struct netns_watch_opts *o, const char **what);

/* Close what netns_watch_open() opened. */
void netns_watch_close(struct netns_watch *w);

/* Give f the namespace's and container's fields (a tagged watch only). */
void netns_watch_tag(const struct netns_watch *w, struct flow *f);

/* A name for messages: the ip-netns name, else the path. */
const char *netns_watch_label(const struct netns_watch *w);

/* Whether namespace ns (its container ct, or NULL: read from ns->pid)
 * is one that --netns-filter pats (n of them; none: every one) selects:
 * a pattern matches the ip-netns name, the container's name or id (glob(7)
 * patterns, as fnmatch(3) takes them), a prefix of 12 or more of the id's
 * digits (as docker ps shows it), or the inode in decimal. */
bool netns_filter_match(const char *const *pats, size_t n, const struct netns_info *ns,
			const struct container *ct);

/* The namespaces a run watches, each opened as o asks: the ones specs name
 * (--netns; each once), or with all every one (--all-netns) that the
 * filter patterns select (netns_filter_match()).  A new array of *n
 * watches, or NULL when one cannot be watched, said with notice_error()
 * (no privilege: which capability).  Raises the soft limit of open files
 * to the hard one: four descriptors a namespace. */
struct netns_watch **netns_watch_start(const char *const *specs, size_t nspecs, bool all,
				       const char *const *filter, size_t nfilter,
				       const struct netns_watch_opts *o, size_t *n);

/* Close and free n watches and the array (NULL: nothing). */
void netns_watch_free(struct netns_watch **v, size_t n);

#endif
