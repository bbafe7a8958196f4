/*
 * acct.h - turning conntrack accounting and timestamps on for a run, and
 * putting back exactly what was there.
 *
 * struct acct is caller-owned (static in main) so that the restore path
 * needs no allocation; it remembers the values it replaced.
 */
#ifndef FLOWTOP_ACCT_H
#define FLOWTOP_ACCT_H

#include <stdbool.h>

struct acct {
	int saved_acct;		/* -1: not changed by us */
	int saved_tstamp;
};

/* Nothing changed yet. */
void acct_init(struct acct *a);

/* Set net.netfilter.nf_conntrack_acct and nf_conntrack_timestamp to 1 for
 * this network namespace, remembering the old values.  0 or -1 with errno;
 * on failure nothing stays changed. */
int acct_enable(struct acct *a);

/* Put back what acct_enable() replaced; safe to call more than once. */
int acct_restore(struct acct *a);

/* Whether the kernel keeps byte and packet counters now (-1: unknown). */
int acct_counters_on(void);

#endif
