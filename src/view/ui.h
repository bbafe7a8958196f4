/*
 * ui.h - what the interactive screen shows and what each key does.
 *
 * struct ui owns the sorter, the per-process sums and the display state
 * (scroll, modes, filter, search, the message line); it borrows the screen,
 * the flow table and the reader's counters, which the caller owns and keeps
 * alive.  It draws only through screen.h.
 */
#ifndef FLOWTOP_VIEW_UI_H
#define FLOWTOP_VIEW_UI_H

#include <stdbool.h>
#include <stdint.h>

#include "flowmatch.h"
#include "flowtab.h"
#include "linefmt.h"
#include "procsum.h"
#include "reader.h"
#include "screen.h"
#include "sorter.h"

/* Below this many columns the screen starts in the compact layout, which
 * keeps the destination in view (until 'c' is pressed). */
#define UI_COMPACT_BELOW 120

struct ui {
	struct screen *scr;
	struct flowtab *t;
	const struct reader_stats *rs;
	struct sorter s;
	struct flowmatch m;
	struct procsum ps;
	struct linefmt lf;

	uint32_t scroll;	/* first row shown: the [+N] */
	uint32_t hscroll;	/* columns cut from the left of each flow */
	bool paused, procview, help, searching;
	bool filtering;		/* 'f' was pressed: the next key picks a filter */
	bool compact_chosen;	/* -c or 'c': the layout no longer follows the width */
	bool tracked;		/* the producer already asked the kernel to track */
	bool eof;		/* the stream has ended */
	bool quit;
	bool resort;		/* filter or order changed: sort even if paused */
	char msg[96];		/* one-off answer to a key, on the bottom line */
	double new_rate, closed_rate;	/* per second, set by the caller */

	/* what the sorted rows were built from: a redraw of an unchanged
	 * table only sorts the rows it shows, if that */
	uint64_t table_gen;	/* bumped by ui_table_changed() */
	uint64_t built_gen, procs_gen;
	bool built, procs_built;
	uint32_t run_lo, run_hi;	/* display positions in order, if */
	bool win_sorted;

	/* --stats: redraw timing */
	uint64_t redraws, redraw_ns_total, redraw_ns_max, redraw_ns_last;
	uint32_t redraw_flows_max;	/* table size at the slowest redraw */
	/* of them, those after the first whole snapshot that brought the
	 * rows up to date (the table had changed, or the order, filter or
	 * view) */
	uint64_t rebuilds, rebuild_ns_total, rebuild_ns_max;
};

/* Set up a ui on a started screen; s, m and lf are the starting order,
 * filter and format (lf->compact set means the user chose it). */
void ui_init(struct ui *u, struct screen *scr, struct flowtab *t,
	     const struct reader_stats *rs, const struct sorter *s, const struct flowmatch *m,
	     const struct linefmt *lf);

/* Free the ui's own memory. */
void ui_release(struct ui *u);

/* Say that the table changed (records applied, flows expired, strings
 * moved): the next draw sorts again, unless paused. */
static inline void ui_table_changed(struct ui *u)
{
	u->table_gen++;
}

/* Sort what needs it (not while paused) and draw everything; the time it
 * took goes into the redraw counters.  Returns the nanoseconds taken. */
uint64_t ui_draw(struct ui *u);

/* Act on one key (a byte or an enum screen_key); returns true when the
 * screen needs a redraw. */
bool ui_key(struct ui *u, int key);

/* Pause or resume (the table keeps updating underneath). */
void ui_pause(struct ui *u, bool on);

#endif
