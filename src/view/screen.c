/*
 * screen.c - a thin layer over ncursesw.
 *
 * Keys are read from /dev/tty through newterm(), never from stdin.  The
 * caller polls screen_fd() and drains keys with screen_key(), so curses never
 * blocks and never busy-waits.  Everything goes through the screen's own
 * window rather than curses' globals, and curses' key codes are turned into
 * enum screen_key here, so no other module needs curses.
 */
#include "screen.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct screen {
	FILE *tty;
	SCREEN *scr;
	WINDOW *win;
	bool active;
	bool utf8;
};

struct screen *screen_new(const char **why)
{
	struct screen *s = calloc(1, sizeof(*s));
	const char *cs = nl_langinfo(CODESET);

	if (!s) {
		*why = "out of memory";
		return NULL;
	}
	s->utf8 = cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
	s->tty = fopen("/dev/tty", "r+e");
	if (!s->tty) {
		*why = "cannot open terminal '/dev/tty'";
		free(s);
		return NULL;
	}
	s->scr = newterm(NULL, s->tty, s->tty);
	if (!s->scr) {
		*why = "cannot start curses on '/dev/tty' (is TERM set?)";
		fclose(s->tty);
		free(s);
		errno = ENOTTY;
		return NULL;
	}
	s->active = true;
	set_term(s->scr);
	s->win = stdscr;
	/* Esc alone clears a search: wait only briefly for the rest of a
	 * function key's sequence */
	set_escdelay(25);
	cbreak();
	noecho();
	nonl();
	intrflush(s->win, FALSE);
	keypad(s->win, TRUE);
	nodelay(s->win, TRUE);
	curs_set(0);
	leaveok(s->win, TRUE);
	return s;
}

void screen_end(struct screen *s)
{
	if (!s || !s->active)
		return;
	s->active = false;
	curs_set(1);
	endwin();
}

void screen_free(struct screen *s)
{
	if (!s)
		return;
	screen_end(s);
	delscreen(s->scr);
	fclose(s->tty);
	free(s);
}

int screen_fd(const struct screen *s)
{
	return fileno(s->tty);
}

int screen_key(struct screen *s)
{
	int c = wgetch(s->win);

	if (c == ERR)
		return -1;
	if (c < KEY_MIN)
		return c;
	if (c >= KEY_F0 && c <= KEY_F(63))
		return SCREEN_KEY_F0 + (c - KEY_F0);
	switch (c) {
	case KEY_UP:
		return SCREEN_KEY_UP;
	case KEY_DOWN:
		return SCREEN_KEY_DOWN;
	case KEY_LEFT:
		return SCREEN_KEY_LEFT;
	case KEY_RIGHT:
		return SCREEN_KEY_RIGHT;
	case KEY_PPAGE:
		return SCREEN_KEY_PGUP;
	case KEY_NPAGE:
		return SCREEN_KEY_PGDN;
	case KEY_HOME:
		return SCREEN_KEY_HOME;
	case KEY_END:
		return SCREEN_KEY_END;
	case KEY_ENTER:
		return SCREEN_KEY_ENTER;
	case KEY_BACKSPACE:
		return SCREEN_KEY_BACKSPACE;
	case KEY_RESIZE:
		return SCREEN_KEY_RESIZE;
	default:
		return SCREEN_KEY_OTHER;
	}
}

void screen_resize(struct screen *s)
{
	struct winsize ws;

	if (ioctl(fileno(s->tty), TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		resizeterm(ws.ws_row, ws.ws_col);
	clearok(curscr, TRUE);
}

void screen_repaint(struct screen *s)
{
	clearok(s->win, TRUE);
}

int screen_rows(const struct screen *s)
{
	return getmaxy(s->win);
}

int screen_cols(const struct screen *s)
{
	return getmaxx(s->win);
}

bool screen_utf8(const struct screen *s)
{
	return s->utf8;
}

void screen_begin(struct screen *s)
{
	werase(s->win);
}

static attr_t attr_of(enum screen_attr a)
{
	switch (a) {
	case SCREEN_BOLD:
		return A_BOLD;
	case SCREEN_DIM:
		return A_DIM;
	case SCREEN_REVERSE:
		return A_REVERSE;
	default:
		return A_NORMAL;
	}
}

void screen_put(struct screen *s, int row, int col, const char *text, enum screen_attr a,
		bool fill)
{
	int cols = getmaxx(s->win);

	if (row < 0 || row >= getmaxy(s->win) || col < 0 || col >= cols)
		return;
	wattrset(s->win, attr_of(a));
	mvwaddstr(s->win, row, col, text);
	if (fill) {
		int y, x;

		getyx(s->win, y, x);
		if (y == row)
			for (; x < cols; x++)
				waddch(s->win, ' ');
	}
	wattrset(s->win, A_NORMAL);
}

void screen_show(struct screen *s)
{
	wnoutrefresh(s->win);
	doupdate();
}
