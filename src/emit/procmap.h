/*
 * procmap.h - which process holds a socket, and who a uid is.
 *
 * struct procmap owns three tables:
 *   - socket inode -> pid, rebuilt from /proc/PID/fd (readlink
 *     "socket:[N]") once per scan, and again on a miss at most every
 *     PROCMAP_REFRESH_MS, or ten times the last walk's cost if that is
 *     longer (a miss never spends more than ~10% of the time); a snapshot proportional to the number of socket
 *     descriptors on the machine (16 bytes each), not a cache;
 *   - pid -> comm and executable, a cache of PROCMAP_MAX_PROCS entries;
 *   - uid -> user name, a cache of PROCMAP_MAX_USERS entries, filled by
 *     one helper thread calling getpwuid_r (which may wait on LDAP or
 *     sssd): a uid's first look-up waits for it at most
 *     PROCMAP_USER_WAIT_MS, and only while the directory's last answer took
 *     less than PROCMAP_USER_FAST_MS; otherwise the name is NULL until the
 *     helper has it, and later records carry it.
 * Strings it returns stay valid until the scan after the current one: a
 * cache that is full drops only entries not used in the current scan, and
 * grows past its bound only when one scan alone uses more entries.
 */
#ifndef FLOWTOP_PROCMAP_H
#define FLOWTOP_PROCMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROCMAP_REFRESH_MS 250	/* least time between two /proc walks */
#define PROCMAP_MAX_PROCS 4096	/* pid cache bound */
#define PROCMAP_MAX_USERS 1024	/* uid cache bound */
#define PROCMAP_PROC_TTL_MS 5000	/* a pid's name is read again after this */
#define PROCMAP_USER_WAIT_MS 50		/* the longest wait for a user name */
#define PROCMAP_USER_FAST_MS 20		/* a directory this fast is waited for */

struct procmap;

struct procmap_proc {
	uint32_t pid;
	const char *name;	/* comm, valid UTF-8; NULL if unreadable */
	const char *exe;	/* /proc/PID/exe, valid UTF-8; NULL if unreadable */
};

/* An empty map reading 'proc' (NULL: "/proc"). */
struct procmap *procmap_new(const char *proc);

/* Say once (a notice) when this process lacks what it takes to read other
 * users' sockets: CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH. */
void procmap_check_caps(struct procmap *p);

/* Free the map and everything it handed out; stops the user name helper,
 * waiting for it at most PROCMAP_USER_WAIT_MS. */
void procmap_free(struct procmap *p);

/* Start a new scan: the inode map is rebuilt on its next use. */
void procmap_scan_begin(struct procmap *p);

/* The pid holding socket inode 'ino'; 0 when it is not found. */
uint32_t procmap_pid(struct procmap *p, uint64_t ino);

/* Name and executable of pid; NULL when out of memory. */
const struct procmap_proc *procmap_proc(struct procmap *p, uint32_t pid);

/* Name of uid, or NULL when it has none or it is not known yet (never
 * waits more than PROCMAP_USER_WAIT_MS). */
const char *procmap_user(struct procmap *p, uint32_t uid);

/* How many pids the name cache holds now (for tests). */
size_t procmap_nprocs(const struct procmap *p);

/* How many /proc walks have been made (for tests and benchmarks). */
unsigned long procmap_walks(const struct procmap *p);

#endif
