/*
 * flowmatch.h - which flows the view shows: protocol and family filters,
 * one network namespace (with its container), and a search text.
 *
 * struct flowmatch is a small value owned by whoever holds it (the ui, a
 * --batch run); it points at nothing.
 */
#ifndef FLOWTOP_VIEW_FLOWMATCH_H
#define FLOWTOP_VIEW_FLOWMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowtab.h"

/* Transport filter bits; no bit set means every transport. */
enum {
	FLOWMATCH_TCP = 1 << 0,
	FLOWMATCH_UDP = 1 << 1,
	FLOWMATCH_ICMP = 1 << 2,	/* icmp and ipv6-icmp */
	FLOWMATCH_SCTP = 1 << 3,
	FLOWMATCH_V4 = 1 << 4,		/* family filter bits; none means both */
	FLOWMATCH_V6 = 1 << 5,
};

#define FLOWMATCH_SEARCH_MAX 64
#define FLOWMATCH_LABEL_MAX 32

struct flowmatch {
	unsigned int filter;			/* FLOWMATCH_* bits */
	uint64_t netns;				/* only this namespace's inode, 0 = all */
	char netns_label[FLOWMATCH_LABEL_MAX];	/* what the status line calls it */
	char search[FLOWMATCH_SEARCH_MAX];	/* case-insensitive substring, "" = none */
};

/* Whether entry e of t passes m's filter and search; a NULL m passes all. */
bool flowmatch_test(const struct flowmatch *m, const struct flowtab *t,
		    const struct flowtab_entry *e);

/* Whether m lets every flow through. */
static inline bool flowmatch_all(const struct flowmatch *m)
{
	return !m || (!m->filter && !m->netns && !m->search[0]);
}

/* What m keeps, for the status line ("udp,ipv6 ns web /firefox"); "" when it keeps
 * everything.  Always terminates buf. */
void flowmatch_describe(const struct flowmatch *m, char *buf, size_t len);

#endif
