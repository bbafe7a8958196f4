/*
 * netns.h - network namespaces: the ones --netns SPEC and --all-netns name,
 * and moving the calling thread into one to open sockets there (netlink
 * sockets keep the namespace they were opened in).
 *
 * A struct netns_info is a plain value that the caller owns; a struct
 * netns_list owns its array (netns_list_init / netns_list_release).  A
 * struct netns_visit holds the descriptor of the thread's own namespace from
 * netns_enter() to netns_leave(), which closes it.
 */
#ifndef FLOWTOP_NETNS_H
#define FLOWTOP_NETNS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

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

void netns_list_init(struct netns_list *l);
void netns_list_release(struct netns_list *l);

/* Index of the namespace with inode ino in l, or -1. */
int netns_list_find(const struct netns_list *l, uint64_t ino);

/* Every network namespace on the machine, each once by inode, into l
 * (emptied first): the ones named in run_dir (NULL: /run/netns), then the
 * ones that processes under proc (NULL: /proc) are in, with the lowest pid
 * of each.  0, or -1 with errno when proc cannot be read or memory runs
 * out. */
int netns_scan(struct netns_list *l, const char *run_dir, const char *proc);

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

#endif
