/*
 * screen.c - a thin layer over ncursesw.
 *
 * Keys are read from /dev/tty through newterm(), never from stdin.  The
 * caller polls screen_fd() and drains keys with screen_key(), so curses never
 * blocks and never busy-waits.
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
	set_escdelay(25);
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	leaveok(stdscr, TRUE);
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
	int c = wgetch(stdscr);

	(void)s;
	return c == ERR ? -1 : c;
}

void screen_resize(struct screen *s)
{
	struct winsize ws;

	if (ioctl(fileno(s->tty), TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		resizeterm(ws.ws_row, ws.ws_col);
	clearok(curscr, TRUE);
}

int screen_rows(const struct screen *s)
{
	(void)s;
	return LINES;
}

int screen_cols(const struct screen *s)
{
	(void)s;
	return COLS;
}

bool screen_utf8(const struct screen *s)
{
	return s->utf8;
}

void screen_begin(struct screen *s)
{
	(void)s;
	werase(stdscr);
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
	attr_t at = attr_of(a);

	(void)s;
	if (row < 0 || row >= LINES)
		return;
	attrset(at);
	mvaddstr(row, col, text);
	if (fill) {
		int y, x;

		getyx(stdscr, y, x);
		if (y == row)
			for (; x < COLS; x++)
				addch(' ');
	}
	attrset(A_NORMAL);
}

void screen_show(struct screen *s)
{
	(void)s;
	wnoutrefresh(stdscr);
	doupdate();
}
