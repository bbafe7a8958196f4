/*
 * acct.c - the two sysctls behind conntrack's counters and start times.
 */
#include "acct.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ACCT_PATH "/proc/sys/net/netfilter/nf_conntrack_acct"
#define TSTAMP_PATH "/proc/sys/net/netfilter/nf_conntrack_timestamp"

static int read_int(const char *path)
{
	char buf[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return atoi(buf);
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

void acct_init(struct acct *a)
{
	a->saved_acct = -1;
	a->saved_tstamp = -1;
}

int acct_enable(struct acct *a)
{
	int acct = read_int(ACCT_PATH), ts = read_int(TSTAMP_PATH);

	if (acct < 0 || ts < 0)
		return -1;
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
	return rc;
}

int acct_counters_on(void)
{
	return read_int(ACCT_PATH);
}
