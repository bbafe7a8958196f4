/*
 * container.h - which container (and Kubernetes pod) a process runs in,
 * read from its cgroup path.
 *
 * Only parsing: the caller owns the struct container it passes in, and
 * nothing here allocates or keeps state.  The layouts it knows (cgroup v1
 * and v2, the systemd and cgroupfs drivers) are listed in container.c and
 * in flowtop-emit(1); any other layout gives no container, never a guess.
 */
#ifndef FLOWTOP_CONTAINER_H
#define FLOWTOP_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#define CONTAINER_ID_MAX 64	/* docker, containerd, CRI-O, podman: 64 hex */
#define CONTAINER_NAME_MAX 64	/* nspawn machine and LXC names */
#define CONTAINER_POD_UID_LEN 36	/* a UUID with its dashes */

struct container {
	char id[CONTAINER_ID_MAX + 1];		/* container.id, "" when none */
	char name[CONTAINER_NAME_MAX + 1];	/* container.name, "" when not known */
	const char *runtime;		/* container.runtime, static, or NULL */
	char pod_uid[CONTAINER_POD_UID_LEN + 1];	/* Kubernetes pod uid, "" */
};

/* Parse one cgroup path ("/system.slice/docker-<id>.scope", len bytes).
 * Returns 1 and fills c when the path names a container or a pod, else 0
 * with c emptied. */
int container_parse_path(const char *path, size_t len, struct container *c);

/* Parse the text of /proc/PID/cgroup: the cgroup v2 line ("0::/...")
 * first, then the v1 lines in order; the first that names a container or a
 * pod wins.  1 or 0 as container_parse_path(). */
int container_parse_cgroup(const char *text, size_t len, struct container *c);

/* Read PROC/PID/cgroup (proc NULL: "/proc") and parse it.  1 or 0 as
 * above, -1 with errno when the file cannot be read (the process left). */
int container_of_pid(const char *proc, uint32_t pid, struct container *c);

#endif
