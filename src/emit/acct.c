/*
 * acct.c - the two sysctls behind conntrack's counters and start times, and
 * the state file that outlives a killed run.
 *
 * The file is keyed by the network namespace's inode (the sysctls are per
 * namespace, and so are runs in containers or under ip netns exec), and
 * names the process by pid and start time, so that a pid used again by
 * another process is not taken for the run that wrote it.
 */
#include "acct.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ACCT_PATH "/proc/sys/net/netfilter/nf_conntrack_acct"
#define TSTAMP_PATH "/proc/sys/net/netfilter/nf_conntrack_timestamp"

/* Read a small file (a sysctl, a /proc stat line, our state file) into
 * buf as a string; its length, or -1 when it cannot be read or is empty. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static int read_int(const char *path)
{
	char buf[32];

	return read_small(path, buf, sizeof(buf)) < 0 ? -1 : atoi(buf);
}

static int write_int(const char *path, int v)
{
	char buf[16];
	int fd = open(path, O_WRONLY | O_CLOEXEC), n, e;
	ssize_t w;

	if (fd < 0)
		return -1;
	n = snprintf(buf, sizeof(buf), "%d\n", v);
	w = write(fd, buf, (size_t)n);
	e = errno;
	close(fd);
	errno = e;
	return w == n ? 0 : -1;
}

/* The state file of this network namespace; -1 when it cannot be named. */
static int state_path(char *buf, size_t len)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0)
		return -1;
	snprintf(buf, len, ACCT_STATE_DIR "/acct-%llu.state", (unsigned long long)st.st_ino);
	return 0;
}

/* A process's start time (clock ticks after boot, /proc/PID/stat field
 * 22), which tells it from a later process with the same pid; 0 if gone. */
static unsigned long long start_time(long pid)
{
	char path[32], buf[512], *p;
	unsigned long long t = 0;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return 0;
	/* the name in parentheses may hold spaces: count from its end */
	if (!(p = strrchr(buf, ')')))
		return 0;
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (p)
		t = strtoull(p + 1, NULL, 10);
	return t;
}

/* Write the values about to be replaced, before replacing them. */
static void state_write(struct acct *a, int acct, int ts)
{
	char tmp[80], buf[128];
	int fd, n;
	bool ok;

	if (state_path(a->state_path, sizeof(a->state_path)) < 0)
		return;
	mkdir(ACCT_STATE_DIR, 0755);
	snprintf(tmp, sizeof(tmp), "%s.%ld", a->state_path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "pid=%ld\nstart=%llu\nacct=%d\ntimestamp=%d\n",
		     (long)getpid(), start_time((long)getpid()), acct, ts);
	ok = write(fd, buf, (size_t)n) == n;
	ok = close(fd) == 0 && ok;
	/* renamed into place whole, so a reader never sees half a file */
	if (ok && rename(tmp, a->state_path) == 0)
		a->state_written = true;
	else
		unlink(tmp);
}

void acct_init(struct acct *a)
{
	a->saved_acct = -1;
	a->saved_tstamp = -1;
	a->state_written = false;
	a->state_path[0] = '\0';
}

int acct_enable(struct acct *a)
{
	int acct = read_int(ACCT_PATH), ts = read_int(TSTAMP_PATH);

	if (acct < 0 || ts < 0)
		return -1;
	/* a kill -9 gives no chance to put them back: the next run will,
	 * from this file (without it, the settings simply stay on) */
	if (acct != 1 || ts != 1)
		state_write(a, acct != 1 ? acct : -1, ts != 1 ? ts : -1);
	if (acct != 1) {
		if (write_int(ACCT_PATH, 1))
			return -1;
		a->saved_acct = acct;
	}
	if (ts != 1) {
		if (write_int(TSTAMP_PATH, 1)) {
			int e = errno;

			acct_restore(a);
			errno = e;
			return -1;
		}
		a->saved_tstamp = ts;
	}
	return 0;
}

int acct_restore(struct acct *a)
{
	int rc = 0;

	if (a->saved_acct >= 0) {
		if (write_int(ACCT_PATH, a->saved_acct))
			rc = -1;
		a->saved_acct = -1;
	}
	if (a->saved_tstamp >= 0) {
		if (write_int(TSTAMP_PATH, a->saved_tstamp))
			rc = -1;
		a->saved_tstamp = -1;
	}
	/* kept when a value could not be put back: the next run tries again */
	if (a->state_written && rc == 0) {
		unlink(a->state_path);
		a->state_written = false;
	}
	return rc;
}

int acct_recover(struct acct_left *left)
{
	char path[64], buf[256];
	unsigned long long start = 0;
	int rc = 0;

	if (state_path(path, sizeof(path)) < 0 || read_small(path, buf, sizeof(buf)) < 0)
		return 0;
	left->pid = 0;
	left->acct = left->tstamp = -1;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, "pid=", 4))
			left->pid = strtol(line + 4, NULL, 10);
		else if (!strncmp(line, "start=", 6))
			start = strtoull(line + 6, NULL, 10);
		else if (!strncmp(line, "acct=", 5))
			left->acct = atoi(line + 5);
		else if (!strncmp(line, "timestamp=", 10))
			left->tstamp = atoi(line + 10);
	}
	/* both are switches: anything else is not ours to write */
	if (left->acct != 0 && left->acct != 1)
		left->acct = -1;
	if (left->tstamp != 0 && left->tstamp != 1)
		left->tstamp = -1;
	/* still running (the same process, not a new one with its pid) */
	if (left->pid > 0 && start && start_time(left->pid) == start)
		return 0;
	if (left->acct >= 0 && write_int(ACCT_PATH, left->acct))
		rc = -1;
	if (left->tstamp >= 0 && write_int(TSTAMP_PATH, left->tstamp))
		rc = -1;
	if (rc < 0)
		return -1;
	unlink(path);
	return 1;
}

int acct_counters_on(void)
{
	return read_int(ACCT_PATH);
}
