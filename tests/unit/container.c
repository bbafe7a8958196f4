/*
 * container.c - container and pod from cgroup paths: each runtime's layout
 * under cgroup v1 and v2, both systemd and cgroupfs drivers, whole
 * /proc/PID/cgroup files, and layouts that must give nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "tap.h"

#define ID "3f2504e04f8941d39a0c0305e82c33013f2504e04f8941d39a0c0305e82c3301"
#define ID2 "aaaabbbbccccddddeeeeffff00001111aaaabbbbccccddddeeeeffff00001111"
#define UID "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
#define UID_ "1b4e28ba_2fa1_11d2_883f_0016d3cca427"

struct want {
	const char *path;
	const char *id, *name, *runtime, *pod;
};

static const struct want cases[] = {
	/* docker */
	{ "/system.slice/docker-" ID ".scope", ID, "", "docker", "" },
	{ "/docker/" ID, ID, "", "docker", "" },
	{ "/system.slice/docker-" ID ".scope/init.scope", ID, "", "docker", "" },
	{ "/docker/" ID2 "/docker/" ID, ID, "", "docker", "" },	/* docker in docker */
	/* Kubernetes: systemd driver (v2) */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	  ".slice/cri-containerd-" ID ".scope", ID, "", "containerd", UID },
	{ "/kubepods.slice/kubepods-pod" UID_ ".slice/crio-" ID ".scope", ID, "", "cri-o", UID },
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	  ".slice/docker-" ID ".scope", ID, "", "docker", UID },
	/* Kubernetes: cgroupfs driver (v1) */
	{ "/kubepods/burstable/pod" UID "/" ID, ID, "", NULL, UID },
	{ "/kubepods/pod" UID "/" ID, ID, "", NULL, UID },
	{ "/kubepods/besteffort/pod" UID, "", "", NULL, UID },
	/* kind / nested containerd: "<slice>:<runtime>:<id>" */
	{ "/system.slice/containerd.service/kubepods-besteffort-pod" UID_
	  ".slice:cri-containerd:" ID, ID, "", "containerd", UID },
	{ "/kubepods-pod" UID_ ".slice:crio:" ID, ID, "", "cri-o", UID },
	/* podman */
	{ "/machine.slice/libpod-" ID ".scope", ID, "", "podman", "" },
	{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope/container",
	  ID, "", "podman", "" },
	{ "/libpod_parent/libpod-" ID, ID, "", "podman", "" },
	/* systemd-nspawn */
	{ "/machine.slice/machine-web1.scope", "web1", "web1", "systemd-nspawn", "" },
	{ "/machine.slice/machine-my\\x2dbox.scope/payload/system.slice", "my-box", "my-box",
	  "systemd-nspawn", "" },
	/* LXC */
	{ "/lxc.payload.c1", "c1", "c1", "lxc", "" },
	{ "/lxc.payload.web/init.scope", "web", "web", "lxc", "" },
	{ "/lxc/old-style", "old-style", "old-style", "lxc", "" },
	/* a name refused half-way leaves nothing behind for the outer match */
	{ "/system.slice/docker-" ID ".scope/lxc.payload.ab\x01", ID, "", "docker", "" },
	{ "/kubepods/pod" UID "/lxc/bad\x7fname", "", "", NULL, UID },
};

static const char *const nothing[] = {
	"/",
	"",
	"/init.scope",
	"/user.slice/user-1000.slice/session-3.scope",
	"/system.slice/docker.service",
	"/system.slice/containerd.service",
	"/system.slice/docker-" ID "x.scope",		/* 65 characters */
	"/system.slice/docker-" "3F2504E04F8941D39A0C0305E82C3301"
	"3F2504E04F8941D39A0C0305E82C3301.scope",	/* upper case */
	"/system.slice/docker-abc.scope",		/* short */
	"/machine.slice/crio-conmon-" ID ".scope",	/* CRI-O's monitor */
	"/machine.slice/libpod-conmon-" ID ".scope",	/* podman's monitor */
	"/machine.slice/machine-qemu\\x2d1\\x2dvm.scope",	/* a virtual machine */
	"/machine.slice/machine-.scope",
	"/machine.slice/machine-bad\\x01name.scope",
	"/machine.slice/machine-a\\x-1.scope",		/* a sign is no hex digit */
	"/machine.slice/machine-a\\x 9.scope",
	"/actions_job/" ID,				/* unknown parent */
	"/" ID,
	"/kubepods/burstable/podnot-a-uid/" "abc",
	"/kubepods.slice/kubepods-podzzzz.slice",
	"/system.slice/x.slice:unknown:" ID,
	"/lxc.monitor.c1",
};

static void check(const struct want *w)
{
	struct container c;
	int r = container_parse_path(w->path, strlen(w->path), &c);

	ok(r == 1, "a container or pod in %s", w->path);
	is_str(c.id, w->id, "  container.id");
	is_str(c.name, w->name, "  container.name");
	is_str(c.runtime, w->runtime, "  container.runtime");
	is_str(c.pod_uid, w->pod, "  pod uid");
}

int main(void)
{
	struct container c;
	char path[256];
	FILE *f;
	int r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
	for (size_t i = 0; i < sizeof(nothing) / sizeof(nothing[0]); i++) {
		memset(&c, 'x', sizeof(c));
		r = container_parse_path(nothing[i], strlen(nothing[i]), &c);
		ok(r == 0 && !c.id[0] && !c.name[0] && !c.runtime && !c.pod_uid[0],
		   "nothing in '%s'", nothing[i]);
	}
	/* a path is not always NUL-terminated where its length ends */
	r = container_parse_path("/docker/" ID "/more", 8 + 64, &c);
	ok(r == 1 && !strcmp(c.id, ID), "the length bounds the path");

	/* whole files: v1 + v2 (hybrid) where only v1 names it */
	{
		static const char hybrid_v1[] =
			"12:pids:/docker/" ID "\n"
			"11:memory:/docker/" ID "\n"
			"1:name=systemd:/docker/" ID "\n"
			"0::/system.slice/containerd.service\n";
		static const char v2[] =
			"0::/system.slice/docker-" ID ".scope\n";
		/* v2 wins over a v1 line that says something else */
		static const char both[] =
			"1:name=systemd:/docker/" ID2 "\n"
			"0::/system.slice/docker-" ID ".scope\n";
		static const char host[] =
			"12:pids:/user.slice\n1:name=systemd:/init.scope\n0::/init.scope\n";
		static const char junk[] =
			"garbage\n::\n0:\n:::\n0::\n\n";
		static const char no_nl[] = "0::/lxc.payload.c9";

		r = container_parse_cgroup(hybrid_v1, strlen(hybrid_v1), &c);
		ok(r == 1 && !strcmp(c.id, ID) && !strcmp(c.runtime, "docker"),
		   "hybrid: the v1 lines' docker container");
		r = container_parse_cgroup(v2, strlen(v2), &c);
		ok(r == 1 && !strcmp(c.id, ID), "v2: the unified line");
		r = container_parse_cgroup(both, strlen(both), &c);
		ok(r == 1 && !strcmp(c.id, ID), "the unified line first");
		r = container_parse_cgroup(host, strlen(host), &c);
		ok(r == 0 && !c.id[0], "a host process: nothing");
		r = container_parse_cgroup(junk, strlen(junk), &c);
		ok(r == 0, "malformed lines: nothing, no crash");
		r = container_parse_cgroup(no_nl, strlen(no_nl), &c);
		ok(r == 1 && !strcmp(c.name, "c9"), "a last line without a newline");
	}

	/* container_of_pid over a fake /proc */
	{
		char dir[] = "/tmp/flowtop-cg.XXXXXX";

		if (!mkdtemp(dir))
			return 1;
		snprintf(path, sizeof(path), "%s/42", dir);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/42/cgroup", dir);
		f = fopen(path, "w");
		if (!f)
			return 1;
		fputs("0::/system.slice/crio-" ID ".scope\n", f);
		fclose(f);
		r = container_of_pid(dir, 42, &c);
		ok(r == 1 && !strcmp(c.id, ID) && !strcmp(c.runtime, "cri-o"),
		   "container_of_pid reads PROC/PID/cgroup");
		r = container_of_pid(dir, 43, &c);
		ok(r == -1 && !c.id[0], "a process that left: -1");
		unlink(path);
		snprintf(path, sizeof(path), "%s/42", dir);
		rmdir(path);
		rmdir(dir);
	}
	r = container_of_pid(NULL, (uint32_t)getpid(), &c);
	ok(r >= 0, "our own /proc/self/cgroup reads (%d)", r);
	return tap_done();
}
