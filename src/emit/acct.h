/*
 * acct.h - turning conntrack accounting and timestamps on for a run, and
 * putting back exactly what was there, even after a run that was killed.
 *
 * struct acct is caller-owned (static in main) so that the restore path
 * needs no allocation; it remembers the values it replaced.  Before it
 * changes a setting it writes them, with its pid, to a state file of its
 * network namespace under ACCT_STATE_DIR, and removes the file once they
 * are back; the next run puts back what a killed run left (acct_recover),
 * the way conntrackd keeps its state.
 */
#ifndef FLOWTOP_ACCT_H
#define FLOWTOP_ACCT_H

#include <stdbool.h>

#define ACCT_STATE_DIR "/run/flowtop"

struct acct {
	int saved_acct;		/* -1: not changed by us */
	int saved_tstamp;
	bool state_written;	/* our state file exists */
	char state_path[64];
};

/* What a run that was killed had replaced, and who it was. */
struct acct_left {
	long pid;
	int acct, tstamp;	/* the values put back; -1: not changed */
};

/* Nothing changed yet. */
void acct_init(struct acct *a);

/* Set net.netfilter.nf_conntrack_acct and nf_conntrack_timestamp to 1 for
 * this network namespace, remembering the old values (in a and in the
 * state file).  0 or -1 with errno; on failure nothing stays changed. */
int acct_enable(struct acct *a);

/* Put back what acct_enable() replaced and remove the state file; safe to
 * call more than once.  0 or -1 with errno. */
int acct_restore(struct acct *a);

/* If a run in this network namespace ended without putting its settings
 * back (its state file is there, its process is gone), put them back now
 * and remove the file.  Returns 1 with *left filled in, 0 when there was
 * nothing to do, -1 with errno when the settings could not be written. */
int acct_recover(struct acct_left *left);

/* Whether the kernel keeps byte and packet counters now (-1: unknown). */
int acct_counters_on(void);

#endif
