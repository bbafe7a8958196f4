/*
 * ui.c - layout and keys.
 *
 *   row 0   Kernel netfilter TCP/UDP flow statistics, [+N]
 *   row 1   status: shown/total, new and closed per second, modes, problems
 *   row 2   column heading (counters, compact or process view), if any
 *   ...     one flow a line
 *   last    key hints, or the search prompt while typing
 */
#include "ui.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CTRL(c) ((c) & 0x1f)

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ui_init(struct ui *u, struct screen *scr, struct flowtab *t,
	     const struct reader_stats *rs, const struct sorter *s, const struct linefmt *lf)
{
	memset(u, 0, sizeof(*u));
	u->scr = scr;
	u->t = t;
	u->rs = rs;
	u->s = *s;
	u->lf = *lf;
	u->resort = true;
}

void ui_release(struct ui *u)
{
	sorter_release(&u->s);
}

void ui_pause(struct ui *u, bool on)
{
	u->paused = on;
	flowtab_hold(u->t, on);
	if (!on)
		u->resort = true;
}

/* Cut text to the screen and put it on a row. */
static void put_line(struct ui *u, int row, const char *text, size_t skip,
		     enum screen_attr a, bool fill)
{
	char out[LINEFMT_MAX + 1];
	size_t cols;

	linefmt_cut(text, strlen(text), skip, (size_t)screen_cols(u->scr),
		    screen_utf8(u->scr), out, &cols);
	screen_put(u->scr, row, 0, out, a, fill);
}

static const char *const help_text[] = {
	"flowtop-view keys",
	"",
	"  Up/k  Down/j    scroll one line",
	"  PgUp  PgDn      scroll one page",
	"  Home/g  End/G   top, bottom",
	"  Left  Right     scroll sideways",
	"  space  p        pause / resume the display",
	"  /               search (Enter keeps it, Esc clears)",
	"  t u i s         only tcp, udp, icmp, sctp (toggle)",
	"  4 6             only IPv4, IPv6 (toggle)",
	"  a               clear all filters and the search",
	"  o               next sort order",
	"  r               reverse the order",
	"  n               names / numeric addresses",
	"  c               compact columns",
	"  TAB             per-process view",
	"  Ctrl-L          redraw",
	"  ?               this help",
	"  q               quit",
	"",
	"any key closes this help",
};

static void draw_help(struct ui *u)
{
	int n = (int)(sizeof(help_text) / sizeof(help_text[0]));
	int top = (screen_rows(u->scr) - n) / 2;
	char line[128];

	if (top < 0)
		top = 0;
	for (int i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "  %-56s", help_text[i]);
		put_line(u, top + i, line, 0, SCREEN_REVERSE, false);
	}
}

static void filter_desc(const struct ui *u, char *buf, size_t len)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} names[] = {
		{ SORTER_TCP, "tcp" }, { SORTER_UDP, "udp" }, { SORTER_ICMP, "icmp" },
		{ SORTER_SCTP, "sctp" }, { SORTER_V4, "ipv4" }, { SORTER_V6, "ipv6" },
	};
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (u->s.filter & names[i].bit)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "",
					      names[i].name);
	if (u->s.search[0] && n < len)
		snprintf(buf + n, len - n, "%s/%s", n ? " " : "", u->s.search);
}

static void draw_status(struct ui *u, uint32_t shown)
{
	char st[LINEFMT_MAX], flt[SORTER_SEARCH_MAX + 64];
	size_t n;

	filter_desc(u, flt, sizeof(flt));
	n = (size_t)snprintf(st, sizeof(st), " %s %u/%u  new %.0f/s  closed %.0f/s  sort %s%s",
			     u->procview ? "processes" : "flows", shown, u->t->live,
			     u->new_rate, u->closed_rate, sorter_key_name(u->s.key),
			     u->s.reverse ? " (reversed)" : "");
	if (flt[0])
		n += (size_t)snprintf(st + n, sizeof(st) - n, "  filter %s", flt);
	if (u->paused)
		n += (size_t)snprintf(st + n, sizeof(st) - n, "  PAUSED");
	if (u->eof)
		n += (size_t)snprintf(st + n, sizeof(st) - n, "  stream ended");
	if (u->t->st.overruns)
		n += (size_t)snprintf(st + n, sizeof(st) - n, "  overruns %llu",
				      (unsigned long long)u->t->st.overruns);
	if (u->rs->bad)
		n += (size_t)snprintf(st + n, sizeof(st) - n, "  bad lines %llu",
				      (unsigned long long)u->rs->bad);
	if (u->t->st.full)
		snprintf(st + n, sizeof(st) - n, "  table full (%u), dropped %llu", u->t->max,
			 (unsigned long long)u->t->st.full);
	put_line(u, 1, st, 0, SCREEN_NORMAL, false);
}

void ui_draw(struct ui *u)
{
	uint64_t t0 = mono_ns(), dt;
	int rows = screen_rows(u->scr), top = 2, body;
	char line[LINEFMT_MAX + 64];
	uint32_t total;

	if (!u->paused || u->resort) {
		sorter_build(&u->s, u->t);
		if (u->procview)
			sorter_procs(&u->s, u->t);
		u->resort = false;
	}
	total = u->procview ? u->s.nprocs : u->s.n;
	u->lf.counters = u->t->any_counters;
	u->lf.now_ns = u->t->now_ns;

	screen_begin(u->scr);
	if (u->procview)
		linefmt_proc_header(line);
	else
		linefmt_header(&u->lf, line);
	if (line[0])
		put_line(u, top++, line, u->procview ? 0 : u->hscroll, SCREEN_REVERSE, true);
	body = rows - top - 1;
	if (body < 1)
		body = 1;
	if (total <= (uint32_t)body)
		u->scroll = 0;
	else if (u->scroll > total - (uint32_t)body)
		u->scroll = total - (uint32_t)body;

	if (!u->procview)
		sorter_window(&u->s, u->scroll, (uint32_t)body);
	snprintf(line, sizeof(line), "Kernel netfilter TCP/UDP flow statistics, [+%u]", u->scroll);
	put_line(u, 0, line, 0, SCREEN_BOLD, false);
	draw_status(u, total);

	for (int r = 0; r < body && u->scroll + (uint32_t)r < total; r++) {
		uint32_t i = u->scroll + (uint32_t)r;

		if (u->procview) {
			linefmt_proc(&u->s.procs[i], u->t, line);
			put_line(u, top + r, line, u->hscroll, SCREEN_NORMAL, false);
		} else {
			const struct flowtab_entry *e = &u->t->e[sorter_at(&u->s, i)];

			linefmt_flow(&u->lf, e, line);
			put_line(u, top + r, line, u->hscroll,
				 e->flags & (FT_CLOSED | FT_DEAD) ? SCREEN_DIM : SCREEN_NORMAL, false);
		}
	}
	if (u->t->live == 0 && (u->t->st.snapshots || u->eof)) {
		put_line(u, top + 1, "  No flows.  If nothing asks the kernel to track connections, "
			 "the table stays empty:", 0, SCREEN_NORMAL, false);
		put_line(u, top + 2, "  run 'flowtop --track', or add an nftables rule that uses "
			 "'ct state'.", 0, SCREEN_NORMAL, false);
	}
	if (u->searching) {
		snprintf(line, sizeof(line), "/%s_", u->s.search);
		put_line(u, rows - 1, line, 0, SCREEN_NORMAL, false);
	} else {
		put_line(u, rows - 1, " q quit  ? help  / search  o sort  r reverse  "
			 "space pause  TAB processes  c compact  n names", 0, SCREEN_REVERSE, true);
	}
	if (u->help)
		draw_help(u);
	screen_show(u->scr);

	dt = mono_ns() - t0;
	u->redraws++;
	u->redraw_ns_total += dt;
	u->redraw_ns_last = dt;
	if (dt > u->redraw_ns_max) {
		u->redraw_ns_max = dt;
		u->redraw_flows_max = u->t->live;
	}
}

static void toggle_filter(struct ui *u, unsigned int bit)
{
	u->s.filter ^= bit;
	u->resort = true;
}

static bool search_key(struct ui *u, int key)
{
	size_t n = strlen(u->s.search);

	switch (key) {
	case 27:		/* Esc: drop the search */
		u->s.search[0] = '\0';
		u->searching = false;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		u->searching = false;
		break;
	case KEY_BACKSPACE:
	case 127:
	case CTRL('h'):
		if (n)
			u->s.search[n - 1] = '\0';
		break;
	default:
		/* ASCII only: the search text is shown on the screen */
		if (key >= 0x20 && key < 0x7f && n + 1 < SORTER_SEARCH_MAX) {
			u->s.search[n] = (char)key;
			u->s.search[n + 1] = '\0';
		}
		break;
	}
	u->scroll = 0;
	u->resort = true;
	return true;
}

bool ui_key(struct ui *u, int key)
{
	int page = screen_rows(u->scr) - 4;

	if (page < 1)
		page = 1;
	if (key == KEY_RESIZE)
		return true;
	if (u->searching)
		return search_key(u, key);
	if (u->help) {
		u->help = false;
		if (key != 'q')
			return true;
	}
	switch (key) {
	case 'q':
	case 'Q':
		u->quit = true;
		return false;
	case KEY_UP:
	case 'k':
		if (u->scroll)
			u->scroll--;
		break;
	case KEY_DOWN:
	case 'j':
		u->scroll++;	/* ui_draw clamps */
		break;
	case KEY_PPAGE:
		u->scroll = u->scroll > (uint32_t)page ? u->scroll - (uint32_t)page : 0;
		break;
	case KEY_NPAGE:
		u->scroll += (uint32_t)page;
		break;
	case KEY_HOME:
	case 'g':
		u->scroll = 0;
		break;
	case KEY_END:
	case 'G':
		u->scroll = UINT32_MAX;
		break;
	case KEY_LEFT:
		u->hscroll = u->hscroll > 8 ? u->hscroll - 8 : 0;
		break;
	case KEY_RIGHT:
		if (u->hscroll < LINEFMT_MAX)
			u->hscroll += 8;
		break;
	case ' ':
	case 'p':
		ui_pause(u, !u->paused);
		break;
	case '/':
		u->searching = true;
		break;
	case 't':
		toggle_filter(u, SORTER_TCP);
		break;
	case 'u':
		toggle_filter(u, SORTER_UDP);
		break;
	case 'i':
		toggle_filter(u, SORTER_ICMP);
		break;
	case 's':
		toggle_filter(u, SORTER_SCTP);
		break;
	case '4':
		toggle_filter(u, SORTER_V4);
		break;
	case '6':
		toggle_filter(u, SORTER_V6);
		break;
	case 'a':
		u->s.filter = 0;
		u->s.search[0] = '\0';
		u->resort = true;
		break;
	case 'o':
		u->s.key = (u->s.key + 1) % SORT_KEY_MAX;
		u->resort = true;
		break;
	case 'r':
		u->s.reverse = !u->s.reverse;
		u->resort = true;
		break;
	case 'n':
		u->lf.numeric = !u->lf.numeric;
		break;
	case 'c':
		u->lf.compact = !u->lf.compact;
		u->hscroll = 0;
		break;
	case '\t':
		u->procview = !u->procview;
		u->scroll = 0;
		u->resort = true;
		break;
	case '?':
		u->help = true;
		break;
	case CTRL('l'):
		clearok(curscr, TRUE);
		break;
	default:
		return false;
	}
	return true;
}
