/*
 * linefmt.h - one flow as one line of text, the same for the screen and for
 * --batch; and cutting such a line to a window of terminal columns.
 *
 * struct linefmt is a small set of display options owned by the caller.
 * Output goes to caller buffers; strings come from the string pool and are
 * already terminal-safe.
 */
#ifndef FLOWTOP_VIEW_LINEFMT_H
#define FLOWTOP_VIEW_LINEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowtab.h"
#include "procsum.h"
#include "sorter.h"

/* Longest formatted line, bytes. */
#define LINEFMT_MAX 2048

struct linefmt {
	bool numeric;		/* addresses, not DNS names */
	bool compact;		/* one fixed-width column per field */
	bool counters;		/* the bytes/rate/age columns in front */
	bool legend;		/* the flow line's heading names its parts (the screen) */
	bool netns;		/* the namespace (container) column: the stream
				 * watches other namespaces */
	unsigned int width;	/* compact: fit the destination in this many
				 * columns (0: the full-width columns) */
	uint64_t now_ns;	/* stream time, for ages and stale rates */
};

/* Format e, an entry of t, into buf (LINEFMT_MAX bytes); returns the
 * length. */
size_t linefmt_flow(const struct linefmt *lf, const struct flowtab *t,
		    const struct flowtab_entry *e, char *buf);

/* The column heading for the current mode, or "" when there is none
 * (--batch's flow lines without counters). */
size_t linefmt_header(const struct linefmt *lf, char *buf);

/* Columns the full-width compact layout needs; a narrower lf->width picks
 * the narrow one, which puts the destination before the source.  The
 * namespace column is not counted: it comes first where it fits too, else
 * last, where it scrolls in from the right. */
unsigned int linefmt_compact_width(const struct linefmt *lf);

/* What the view calls a namespace, into buf (at least 2 bytes): the
 * container's name, else its id (12 digits, as docker ps shows it), else
 * the ip-netns name, else the inode; "" for none.  Returns the length. */
size_t linefmt_netns(const struct flowtab_netns *ns, char *buf, size_t len);

/* One row of the per-process view (its name read through t; "-" for
 * counters when none of its flows has any), and its heading; both have a
 * namespace column when t's stream names namespaces. */
size_t linefmt_proc(const struct procsum_row *p, const struct flowtab *t, char *buf);
size_t linefmt_proc_header(const struct flowtab *t, char *buf);

/* Write into out the part of s[0..len) from display column skip, at most
 * width columns (0: no limit), never splitting a character.  In an ASCII
 * locale (utf8 false) anything non-ASCII becomes '?'.  Returns the bytes
 * written (out needs len + 1); *cols gets the columns used. */
size_t linefmt_cut(const char *s, size_t len, size_t skip, size_t width, bool utf8,
		   char *out, size_t *cols);

/* A byte count as at most 5 characters: 999, 1.2K, 34M. */
void linefmt_size(uint64_t v, char *buf, size_t len);

#endif
