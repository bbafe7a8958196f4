/*
 * screen.h - the terminal: curses on /dev/tty, so that stdin stays free for
 * the stream.
 *
 * struct screen owns the tty file and the curses SCREEN.  screen_end() puts
 * the terminal back and is safe to call more than once, from any exit path.
 */
#ifndef FLOWTOP_VIEW_SCREEN_H
#define FLOWTOP_VIEW_SCREEN_H

#include <stdbool.h>
#include <stddef.h>

enum screen_attr {
	SCREEN_NORMAL,
	SCREEN_BOLD,
	SCREEN_DIM,
	SCREEN_REVERSE,
};

struct screen;

/* Open /dev/tty and start curses on it.  NULL with errno set, and a
 * message in *why, when there is no usable terminal. */
struct screen *screen_new(const char **why);

/* Restore the terminal (idempotent). */
void screen_end(struct screen *s);

/* screen_end() and free. */
void screen_free(struct screen *s);

/* The descriptor to poll for keys. */
int screen_fd(const struct screen *s);

/* The next key (curses KEY_* or a byte), or -1 when none is waiting. */
int screen_key(struct screen *s);

/* Pick up a new terminal size (after SIGWINCH). */
void screen_resize(struct screen *s);

int screen_rows(const struct screen *s);
int screen_cols(const struct screen *s);

/* Whether the locale can show UTF-8. */
bool screen_utf8(const struct screen *s);

/* Start a frame: clear the off-screen buffer. */
void screen_begin(struct screen *s);

/* Put text (already cut to fit and terminal-safe) at row, column 0, in
 * attribute a; fill the rest of the row with the attribute when fill. */
void screen_put(struct screen *s, int row, int col, const char *text, enum screen_attr a,
		bool fill);

/* Show the frame. */
void screen_show(struct screen *s);

#endif
