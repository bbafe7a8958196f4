/*
 * ui.h - what the interactive screen shows and what each key does.
 *
 * struct ui owns the sorter and the display state (scroll, modes, search);
 * it borrows the screen, the flow table and the reader's counters, which the
 * caller owns and keeps alive.
 */
#ifndef FLOWTOP_VIEW_UI_H
#define FLOWTOP_VIEW_UI_H

#include <stdbool.h>
#include <stdint.h>

#include "flowtab.h"
#include "linefmt.h"
#include "reader.h"
#include "screen.h"
#include "sorter.h"

struct ui {
	struct screen *scr;
	struct flowtab *t;
	const struct reader_stats *rs;
	struct sorter s;
	struct linefmt lf;

	uint32_t scroll;	/* first row shown: the [+N] */
	uint32_t hscroll;	/* columns cut from the left of each flow */
	bool paused, procview, help, searching;
	bool eof;		/* the stream has ended */
	bool quit;
	bool resort;		/* filter or order changed: sort even if paused */
	double new_rate, closed_rate;	/* per second, set by the caller */

	/* --stats: redraw timing */
	uint64_t redraws, redraw_ns_total, redraw_ns_max, redraw_ns_last;
	uint32_t redraw_flows_max;	/* table size at the slowest redraw */
};

/* Set up a ui on a started screen. */
void ui_init(struct ui *u, struct screen *scr, struct flowtab *t,
	     const struct reader_stats *rs, const struct sorter *s, const struct linefmt *lf);

/* Free the ui's own memory. */
void ui_release(struct ui *u);

/* Sort (unless paused) and draw everything. */
void ui_draw(struct ui *u);

/* Act on one key; returns true when the screen needs a redraw. */
bool ui_key(struct ui *u, int key);

/* Pause or resume (the table keeps updating underneath). */
void ui_pause(struct ui *u, bool on);

#endif
