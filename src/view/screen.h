/*
 * screen.h - the terminal: curses on /dev/tty, so that stdin stays free for
 * the stream.
 *
 * struct screen owns the tty file, the curses SCREEN and its window; it is
 * the only module that includes curses.  Callers draw text through
 * screen_put() and read keys as enum screen_key values, so that what the
 * view shows can be reasoned about (and tested) without curses.
 * screen_end() puts the terminal back and is safe to call more than once,
 * from any exit path.
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

/* Keys that are not a plain byte: values above any byte.  Function key n
 * is SCREEN_KEY_F0 + n. */
enum screen_key {
	SCREEN_KEY_ESC = 27,
	SCREEN_KEY_UP = 0x10000,
	SCREEN_KEY_DOWN,
	SCREEN_KEY_LEFT,
	SCREEN_KEY_RIGHT,
	SCREEN_KEY_PGUP,
	SCREEN_KEY_PGDN,
	SCREEN_KEY_HOME,
	SCREEN_KEY_END,
	SCREEN_KEY_ENTER,
	SCREEN_KEY_BACKSPACE,
	SCREEN_KEY_RESIZE,
	SCREEN_KEY_OTHER,	/* a key curses knows that the view has no use for */
	SCREEN_KEY_F0 = 0x10100,
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

/* The next key (a byte or an enum screen_key), or -1 when none is waiting. */
int screen_key(struct screen *s);

/* Pick up a new terminal size (after SIGWINCH). */
void screen_resize(struct screen *s);

/* Repaint the whole terminal at the next screen_show() (Ctrl-L). */
void screen_repaint(struct screen *s);

/* The terminal's size. */
int screen_rows(const struct screen *s);
int screen_cols(const struct screen *s);

/* Whether the locale can show UTF-8. */
bool screen_utf8(const struct screen *s);

/* Start a frame: clear the off-screen buffer. */
void screen_begin(struct screen *s);

/* Put text (already cut to fit and terminal-safe) at row, col in attribute
 * a; fill the rest of the row with the attribute when fill.  Rows outside
 * the screen are ignored. */
void screen_put(struct screen *s, int row, int col, const char *text, enum screen_attr a,
		bool fill);

/* Show the frame. */
void screen_show(struct screen *s);

#endif
