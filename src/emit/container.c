/*
 * container.c - container and pod from a cgroup path.
 *
 * The path is read from its innermost component outwards: the first
 * component that names a container wins (docker in docker, a container's
 * own init.scope below its scope), and the walk goes on outwards only for
 * the pod.  Components known:
 *
 *   docker-<id>.scope                  docker, systemd driver (v1 and v2)
 *   .../docker/<id>                    docker, cgroupfs driver
 *   cri-containerd-<id>.scope          containerd (Kubernetes, systemd driver)
 *   crio-<id>.scope                    CRI-O ("crio-conmon-" is its monitor)
 *   libpod-<id>.scope, libpod-<id>     podman ("libpod-conmon-" is its monitor)
 *   <slice>:<runtime>:<id>             containerd's and CRI-O's nested form
 *                                      (runtime cri-containerd, crio, docker)
 *   kubepods.../pod<uid>/<id>          Kubernetes, cgroupfs driver (runtime
 *                                      not in the path)
 *   kubepods-<qos>-pod<uid>.slice,
 *   kubepods-pod<uid>.slice, pod<uid>  the pod (uid's '_' back to '-')
 *   machine-<name>.scope               systemd-nspawn (machined; qemu-* are
 *                                      virtual machines, not containers)
 *   lxc.payload.<name>, lxc/<name>     LXC 4 and later, and before
 *
 * Ids are exactly 64 lowercase hex digits; anything else is no container.
 * No library parses these (they are conventions of each runtime, not a
 * format), hence the hand-written code.
 */
#include "container.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct span {
	const char *s;
	size_t n;
};

static bool has_prefix(struct span c, const char *p)
{
	size_t n = strlen(p);

	return c.n >= n && !memcmp(c.s, p, n);
}

static bool has_suffix(struct span c, const char *p)
{
	size_t n = strlen(p);

	return c.n >= n && !memcmp(c.s + c.n - n, p, n);
}

static bool is_id(struct span c)
{
	if (c.n != CONTAINER_ID_MAX)
		return false;
	for (size_t i = 0; i < c.n; i++)
		if (!((c.s[i] >= '0' && c.s[i] <= '9') || (c.s[i] >= 'a' && c.s[i] <= 'f')))
			return false;
	return true;
}

static bool put_id(struct container *c, struct span id, const char *runtime)
{
	if (!is_id(id))
		return false;
	memcpy(c->id, id.s, id.n);
	c->id[id.n] = '\0';
	c->runtime = runtime;
	return true;
}

/* A machine or LXC name, with systemd's \xNN escapes undone: printable,
 * no '/', at most CONTAINER_NAME_MAX bytes.  Built aside: a name refused
 * half-way must not stay behind for an outer component's container. */
static bool put_name(struct container *c, struct span n, bool unescape, const char *runtime)
{
	char name[CONTAINER_NAME_MAX + 1];
	size_t o = 0;

	for (size_t i = 0; i < n.n; i++) {
		unsigned char ch = (unsigned char)n.s[i];

		if (unescape && ch == '\\' && i + 3 < n.n && n.s[i + 1] == 'x') {
			char hex[3] = { n.s[i + 2], n.s[i + 3], 0 };

			/* two hex digits, no sign or space that strtoul would take */
			if (!isxdigit((unsigned char)hex[0]) || !isxdigit((unsigned char)hex[1]))
				return false;
			ch = (unsigned char)strtoul(hex, NULL, 16);
			i += 3;
		}
		if (ch < 0x20 || ch == 0x7f || ch == '/' || o == CONTAINER_NAME_MAX)
			return false;
		name[o++] = (char)ch;
	}
	if (!o)
		return false;
	name[o] = '\0';
	memcpy(c->name, name, o + 1);
	memcpy(c->id, name, o + 1);
	c->runtime = runtime;
	return true;
}

/* "pod<uid>" or "kubepods[-<qos>]-pod<uid>.slice", uid with '-' or '_'. */
static bool take_pod(struct container *c, struct span comp)
{
	const char *p = memchr(comp.s, ':', comp.n);
	struct span u;

	if (p)
		comp.n = (size_t)(p - comp.s);
	if (has_prefix(comp, "kubepods") && has_suffix(comp, ".slice")) {
		comp.n -= strlen(".slice");
		p = NULL;
		for (size_t i = 0; i + 4 <= comp.n; i++)
			if (!memcmp(comp.s + i, "-pod", 4))
				p = comp.s + i + 4;
		if (!p)
			return false;
		u = (struct span){ p, comp.n - (size_t)(p - comp.s) };
	} else if (has_prefix(comp, "pod")) {
		u = (struct span){ comp.s + 3, comp.n - 3 };
	} else {
		return false;
	}
	if (u.n != CONTAINER_POD_UID_LEN)
		return false;
	for (size_t i = 0; i < u.n; i++) {
		char ch = u.s[i] == '_' ? '-' : u.s[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? ch != '-' : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return false;
		c->pod_uid[i] = ch;
	}
	c->pod_uid[u.n] = '\0';
	return true;
}

static struct span after(struct span c, const char *prefix, const char *suffix)
{
	size_t a = strlen(prefix), b = suffix ? strlen(suffix) : 0;

	return (struct span){ c.s + a, c.n - a - b };
}

/* One component, with its parent (n == 0 at the top). */
static bool take_container(struct container *c, struct span comp, struct span parent)
{
	static const struct { const char *prefix, *runtime; } scopes[] = {
		{ "docker-", "docker" },
		{ "cri-containerd-", "containerd" },
		{ "crio-", "cri-o" },
		{ "libpod-", "podman" },
	};
	const char *colon;

	if (has_suffix(comp, ".scope")) {
		for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++)
			if (has_prefix(comp, scopes[i].prefix))
				return put_id(c, after(comp, scopes[i].prefix, ".scope"),
					      scopes[i].runtime);
		if (has_prefix(comp, "machine-") && !has_prefix(comp, "machine-qemu"))
			return put_name(c, after(comp, "machine-", ".scope"), true,
					"systemd-nspawn");
		return false;
	}
	/* podman's cgroupfs driver: libpod_parent/libpod-<id> */
	if (has_prefix(comp, "libpod-"))
		return put_id(c, after(comp, "libpod-", NULL), "podman");
	if (has_prefix(comp, "lxc.payload."))
		return put_name(c, after(comp, "lxc.payload.", NULL), false, "lxc");
	if (parent.n == 3 && !memcmp(parent.s, "lxc", 3))
		return put_name(c, comp, false, "lxc");
	/* containerd and CRI-O under a slice: "<slice>:<runtime>:<id>" */
	colon = memchr(comp.s, ':', comp.n);
	if (colon) {
		struct span rest = { colon + 1, comp.n - (size_t)(colon + 1 - comp.s) };

		if (has_prefix(rest, "cri-containerd:"))
			return put_id(c, after(rest, "cri-containerd:", NULL), "containerd");
		if (has_prefix(rest, "crio:"))
			return put_id(c, after(rest, "crio:", NULL), "cri-o");
		if (has_prefix(rest, "docker:"))
			return put_id(c, after(rest, "docker:", NULL), "docker");
		return false;
	}
	if (!is_id(comp))
		return false;
	if (parent.n == 6 && !memcmp(parent.s, "docker", 6))
		return put_id(c, comp, "docker");
	/* a bare id in a pod's cgroup: the runtime is not in the path */
	if (has_prefix(parent, "pod") || has_prefix(parent, "kubepods"))
		return put_id(c, comp, NULL);
	return false;
}

int container_parse_path(const char *path, size_t len, struct container *c)
{
	struct span comp[64];
	size_t n = 0, i = 0;
	bool found = false, pod = false;

	memset(c, 0, sizeof(*c));
	while (i < len && n < sizeof(comp) / sizeof(comp[0])) {
		size_t j = i;

		while (j < len && path[j] != '/')
			j++;
		if (j > i)
			comp[n++] = (struct span){ path + i, j - i };
		i = j + 1;
	}
	for (size_t k = n; k-- > 0;) {
		struct span parent = k ? comp[k - 1] : (struct span){ "", 0 };

		if (!found && take_container(c, comp[k], parent))
			found = true;
		/* the nested form names both in one component */
		if (!pod && take_pod(c, comp[k]))
			pod = true;
	}
	if (!found && !pod)
		memset(c, 0, sizeof(*c));
	return found || pod;
}

/* The line's path when it is (v2) or is not (v1) the unified hierarchy's. */
static bool line_path(const char *line, size_t len, bool unified, struct span *path)
{
	const char *a = memchr(line, ':', len), *b;

	if (!a || !(b = memchr(a + 1, ':', len - (size_t)(a + 1 - line))))
		return false;
	if (unified != (a - line == 1 && line[0] == '0' && b == a + 1))
		return false;
	*path = (struct span){ b + 1, len - (size_t)(b + 1 - line) };
	return true;
}

int container_parse_cgroup(const char *text, size_t len, struct container *c)
{
	memset(c, 0, sizeof(*c));
	for (int pass = 0; pass < 2; pass++) {
		const char *p = text, *end = text + len;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			struct span path;

			if (line_path(p, n, pass == 0, &path) &&
			    container_parse_path(path.s, path.n, c))
				return 1;
			p += n + 1;
		}
	}
	return 0;
}

int container_of_pid(const char *proc, uint32_t pid, struct container *c)
{
	char path[64], buf[8192];
	size_t len = 0;
	ssize_t n = 0;
	int fd, e;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/%u/cgroup", proc ? proc : "/proc", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* one read() may return less than the whole file */
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	e = errno;
	close(fd);
	if (len == 0 && n < 0) {
		errno = e;
		return -1;
	}
	return container_parse_cgroup(buf, len, c);
}
