/*
 * procmap.c - user names come from a helper thread: a uid's first look-up
 * waits only briefly, the name is cached per uid, and a flood of unknown
 * uids never holds the caller for long.
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "procmap.h"
#include "tap.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Whether every thread but this one blocks SIGTERM (SigBlk in its status),
 * and how many there are. */
static int others_block_term(int *n)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int all = 1;

	*n = 0;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[300], line[256];
		FILE *f;

		if (de->d_name[0] == '.' || atoi(de->d_name) == getpid())
			continue;
		(*n)++;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", de->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "SigBlk:", 7) &&
			    !(strtoull(line + 7, NULL, 16) & (1ull << (SIGTERM - 1))))
				all = 0;
		fclose(f);
	}
	closedir(d);
	return all;
}

int main(void)
{
	int nthreads, blocked;
	struct procmap *p = procmap_new(NULL);
	const char *a, *b;
	double t0, worst = 0;

	if (!ok(p != NULL, "a map"))
		return tap_done();
	t0 = now_ms();
	a = procmap_user(p, 0);
	ok(now_ms() - t0 < PROCMAP_USER_WAIT_MS + 50, "the first look-up waits at most briefly (%.1f ms)",
	   now_ms() - t0);
	/* a fast directory (the files) answers within the wait */
	is_str(a, "root", "uid 0 is root, in the first answer");
	b = procmap_user(p, 0);
	ok(a == b, "cached: the same string again");
	/* --once leaves SIGTERM open: it must wake the main thread's wait */
	blocked = others_block_term(&nthreads);
	ok(blocked && nthreads == 1, "the helper thread (%d) takes no SIGTERM", nthreads);

	/* many uids no one has: each costs at most the short wait */
	t0 = now_ms();
	for (uint32_t uid = 3900000000u; uid < 3900000200u; uid++) {
		double t = now_ms();

		procmap_user(p, uid);
		if (now_ms() - t > worst)
			worst = now_ms() - t;
	}
	ok(worst < PROCMAP_USER_WAIT_MS + 50, "200 unknown uids: the longest call %.1f ms", worst);
	ok(procmap_user(p, 3900000000u) == NULL, "an unknown uid has no name");
	/* a name not known at once arrives later */
	t0 = now_ms();
	a = NULL;
	while (!a && now_ms() - t0 < 3000) {
		a = procmap_user(p, 65534);
		if (!a)
			usleep(1000);
	}
	is_str(a, "nobody", "uid 65534 arrives as nobody");
	t0 = now_ms();
	procmap_free(p);
	ok(now_ms() - t0 < 100, "freeing does not wait for the helper (%.1f ms)", now_ms() - t0);
	return tap_done();
}
