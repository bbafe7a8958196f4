/*
 * ui.c - layout and keys.
 *
 *   row 0   Kernel netfilter TCP/UDP flow statistics, [+N]
 *   row 1   status: shown/total, new and closed per second, modes, problems
 *   row 2   column heading
 *   ...     one flow (or process) a line
 *   last    key hints; the answer to the last key; the search prompt or the
 *           filter menu while one is open
 *
 * Keys follow top and htop where they mean something here (F1 h help, F3 /
 * search, F6 o < > sort, P M T sort by rate, bytes, age, F10 q quit, Esc
 * clears); every other key says on the bottom line that it does nothing.
 * N (namespace) cycles through the namespaces of a stream that names them.
 */
#include "ui.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define CTRL(c) ((c) & 0x1f)

/* Rows from an end of the list within which the sorted run reaches it
 * (about a hundred pages; 96 KiB of window). */
#define UI_END_RUN 4096u

void ui_init(struct ui *u, struct screen *scr, struct flowtab *t,
	     const struct reader_stats *rs, const struct sorter *s, const struct flowmatch *m,
	     const struct linefmt *lf)
{
	memset(u, 0, sizeof(*u));
	u->scr = scr;
	u->t = t;
	u->rs = rs;
	u->s = *s;
	if (m)
		u->m = *m;
	u->lf = *lf;
	u->lf.legend = true;
	u->compact_chosen = lf->compact;
	u->resort = true;
}

void ui_release(struct ui *u)
{
	sorter_release(&u->s);
	procsum_release(&u->ps);
}

void ui_pause(struct ui *u, bool on)
{
	u->paused = on;
	flowtab_hold(u->t, on);
	/* the rows not on screen may name slots reused before the hold: the
	 * other view is built afresh from the held table when asked for */
	if (u->procview)
		u->built = false;
	else
		u->procs_built = false;
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
	"  Up/k  Down/j        scroll one line",
	"  PgUp  PgDn          scroll one page",
	"  Home/g  End/G       top, bottom",
	"  Left  Right         scroll sideways",
	"  F3  /               search (Enter keeps it)",
	"  f                   filter: then t u i s tcp udp icmp sctp, 4 6 IPv4 IPv6",
	"  N                   next namespace or container alone (--all-netns)",
	"  Esc                 clear the search and the filters",
	"  F6  o  >   <        next, previous sort order",
	"  P  M  T             sort by rate, bytes, age",
	"  r                   reverse the order",
	"  TAB                 per-process view",
	"  c                   compact columns (the default below 120 columns)",
	"  n                   names / numeric addresses",
	"  space  p            pause / resume the display",
	"  Ctrl-L              redraw",
	"  F1  h  ?            this help",
	"  F10  q              quit",
	"",
	"  bridged(?)          a flow with no local process: routed through this",
	"                      host, or local and its process gone or not visible",
	"  dimmed              a closed flow, shown for --linger seconds",
	"  -                   no byte counters (flowtop-emit --accounting)",
	"  NETNS               container name or id, ip-netns name, else inode",
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
		snprintf(line, sizeof(line), "  %-76s", help_text[i]);
		put_line(u, top + i, line, 0, SCREEN_REVERSE, false);
	}
}

static void draw_status(struct ui *u, uint32_t shown)
{
	char st[LINEFMT_MAX], flt[FLOWMATCH_SEARCH_MAX + 64];
	size_t n;

	flowmatch_describe(&u->m, flt, sizeof(flt));
	n = (size_t)snprintf(st, sizeof(st), " %s %u/%u  new %.0f/s  closed %.0f/s  sort %s%s",
			     u->procview ? "processes" : "flows", shown, u->t->live,
			     u->new_rate, u->closed_rate,
			     /* processes: always the busiest first */
			     u->procview ? "busiest" : sorter_key_name(u->s.key),
			     u->s.reverse && !u->procview ? " (reversed)" : "");
	if (flt[0])
		n += (size_t)snprintf(st + n, sizeof(st) - n, "  filter %s (Esc clears)", flt);
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
		n += (size_t)snprintf(st + n, sizeof(st) - n, "  table full (%u), dropped %llu",
				      u->t->max, (unsigned long long)u->t->st.full);
	/* last: on a narrow terminal it is the one cut off */
	if (u->t->confirmed_mono) {
		uint64_t now = clock_mono_ns(), s = now > u->t->confirmed_mono ?
			(now - u->t->confirmed_mono) / 1000000000u : 0;

		if (s < 100)
			n += (size_t)snprintf(st + n, sizeof(st) - n, "  refreshed %llus ago",
					      (unsigned long long)s);
		else if (s < 100 * 60)
			n += (size_t)snprintf(st + n, sizeof(st) - n, "  refreshed %llum ago",
					      (unsigned long long)(s / 60));
		else
			snprintf(st + n, sizeof(st) - n, "  refreshed %lluh ago",
				 (unsigned long long)(s / 3600));
	}
	put_line(u, 1, st, 0, SCREEN_NORMAL, false);
}

/* The advice on an empty screen: what is missing, and only what the user
 * has not done already. */
static void draw_empty(struct ui *u, int row)
{
	if (u->t->live && !flowmatch_all(&u->m)) {
		put_line(u, row, "  No flow matches the filter; Esc clears it.", 0,
			 SCREEN_NORMAL, false);
	} else if (u->t->live) {
		return;
	} else if (!u->t->st.snapshots && !u->eof) {
		return;
	} else if (u->tracked) {
		put_line(u, row, "  No flows yet.  The kernel tracks connections for this session "
			 "(flowtop --track):", 0, SCREEN_NORMAL, false);
		put_line(u, row + 1, "  flows appear here as soon as there is traffic.", 0,
			 SCREEN_NORMAL, false);
	} else {
		put_line(u, row, "  No flows.  If nothing asks the kernel to track connections, "
			 "the table stays empty:", 0, SCREEN_NORMAL, false);
		put_line(u, row + 1, "  run 'flowtop --track', or add an nftables rule that uses "
			 "'ct state'.", 0, SCREEN_NORMAL, false);
	}
}

static void draw_bottom(struct ui *u, int row)
{
	char line[FLOWMATCH_SEARCH_MAX + 8];

	if (u->searching) {
		snprintf(line, sizeof(line), "/%s_", u->m.search);
		put_line(u, row, line, 0, SCREEN_NORMAL, false);
	} else if (u->filtering) {
		put_line(u, row, " filter: t tcp  u udp  i icmp  s sctp  4 IPv4  6 IPv6  "
			 "a all   (Esc: cancel)", 0, SCREEN_REVERSE, true);
	} else if (u->msg[0]) {
		put_line(u, row, u->msg, 0, SCREEN_REVERSE, true);
	} else {
		/* the most used first: a narrow terminal cuts the end */
		put_line(u, row, u->t->any_netns ?
			 " F1 help  F10 quit  F3 search  f filter  N namespace  F6 sort  "
			 "TAB processes  space pause  c compact" :
			 " F1 help  F10 quit  F3 search  f filter  F6 sort  "
			 "TAB processes  space pause  c compact", 0, SCREEN_REVERSE, true);
	}
}

/* Bring the sorted flows or the process rows up to date: when the order
 * or filter changed, or the table did and the display is not paused.
 * Returns whether it had to. */
static bool update_rows(struct ui *u)
{
	bool again = false;

	if (u->resort) {
		u->built = u->procs_built = false;
		u->resort = false;
	}
	/* out of memory: the rows stay as they were (indices stay below the
	 * table's high-water mark), the next draw tries again */
	if (u->procview) {
		if (!u->procs_built || (!u->paused && u->procs_gen != u->table_gen)) {
			again = true;
			u->procs_built = !procsum_build(&u->ps, u->t, &u->m);
			u->procs_gen = u->table_gen;
		}
	} else if (!u->built || (!u->paused && u->built_gen != u->table_gen)) {
		/* the keys of what changed since (the table's dirty list);
		 * all of them after a new order or filter */
		again = true;
		u->built = !sorter_update(&u->s, u->t, &u->m);
		u->built_gen = u->table_gen;
		u->win_sorted = false;
	}
	if (!(u->procview ? u->procs_built : u->built))
		snprintf(u->msg, sizeof(u->msg), " out of memory: the list is not up to date");
	return again;
}

/* Select the rows on screen, unless they already are.  A few pages around
 * them are selected too: finding a window costs a pass over every key,
 * however small the window, so scrolling within the run costs nothing.
 * False when out of memory (no rows to show). */
static bool sort_window(struct ui *u, uint32_t count)
{
	uint32_t lo, hi;

	if (u->win_sorted && u->scroll >= u->run_lo && u->scroll - u->run_lo + count <=
	    u->run_hi - u->run_lo)
		return true;
	lo = u->scroll > 2 * count ? u->scroll - 2 * count : 0;
	hi = u->s.n - u->scroll > 4 * count ? u->scroll + 4 * count : u->s.n;
	/* near an end the run goes to it: a window at an end is found from
	 * the last one after a change, one in the middle takes passes */
	if (hi <= UI_END_RUN)
		lo = 0;
	if (u->s.n - lo <= UI_END_RUN)
		hi = u->s.n;
	if (sorter_window(&u->s, lo, hi - lo)) {
		u->win_sorted = false;
		snprintf(u->msg, sizeof(u->msg), " out of memory: the list is not shown");
		return false;
	}
	u->win_sorted = true;
	u->run_lo = lo;
	u->run_hi = hi;
	return true;
}

uint64_t ui_draw(struct ui *u)
{
	uint64_t t0 = clock_mono_ns(), dt;
	int rows = screen_rows(u->scr), top = 2, body;
	char line[LINEFMT_MAX + 64];
	uint32_t total, drawn;
	bool again = update_rows(u);

	total = u->procview ? u->ps.n : u->s.n;
	u->lf.counters = u->t->any_counters;
	u->lf.netns = u->t->any_netns;
	u->lf.now_ns = u->t->now_ns;
	u->lf.width = (unsigned int)screen_cols(u->scr);
	if (!u->compact_chosen)
		u->lf.compact = screen_cols(u->scr) < UI_COMPACT_BELOW;

	screen_begin(u->scr);
	if (u->procview)
		linefmt_proc_header(u->t, line);
	else
		linefmt_header(&u->lf, line);
	put_line(u, top++, line, u->hscroll, SCREEN_REVERSE, true);
	body = rows - top - 1;
	if (body < 1)
		body = 1;
	if (total <= (uint32_t)body)
		u->scroll = 0;
	else if (u->scroll > total - (uint32_t)body)
		u->scroll = total - (uint32_t)body;

	drawn = total;
	if (!u->procview && !sort_window(u, (uint32_t)body))
		drawn = 0;
	snprintf(line, sizeof(line), "Kernel netfilter TCP/UDP flow statistics, [+%u]", u->scroll);
	put_line(u, 0, line, 0, SCREEN_BOLD, false);
	draw_status(u, total);

	for (int r = 0; r < body && u->scroll + (uint32_t)r < drawn; r++) {
		uint32_t i = u->scroll + (uint32_t)r;

		if (u->procview) {
			linefmt_proc(&u->ps.rows[i], u->t, line);
			put_line(u, top + r, line, u->hscroll, SCREEN_NORMAL, false);
		} else {
			const struct flowtab_entry *e = &u->t->e[sorter_at(&u->s, i)];

			linefmt_flow(&u->lf, u->t, e, line);
			put_line(u, top + r, line, u->hscroll,
				 e->flags & (FT_CLOSED | FT_DEAD) ? SCREEN_DIM : SCREEN_NORMAL, false);
		}
	}
	if (!total)
		draw_empty(u, top + 1);
	draw_bottom(u, rows - 1);
	if (u->help)
		draw_help(u);
	screen_show(u->scr);

	dt = clock_mono_ns() - t0;
	u->redraws++;
	u->redraw_ns_total += dt;
	u->redraw_ns_last = dt;
	if (dt > u->redraw_ns_max) {
		u->redraw_ns_max = dt;
		u->redraw_flows_max = u->t->live;
	}
	/* once the first snapshot is whole: loading is measured apart */
	if (again && u->t->st.snapshots) {
		u->rebuilds++;
		u->rebuild_ns_total += dt;
		if (dt > u->rebuild_ns_max)
			u->rebuild_ns_max = dt;
	}
	return dt;
}

static void set_msg(struct ui *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_msg(struct ui *u, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->msg, sizeof(u->msg), fmt, ap);
	va_end(ap);
}

/* A key's name for a message: printable keys as themselves. */
static void key_name(int key, char *buf, size_t len)
{
	if (key > 0x20 && key < 0x7f)
		snprintf(buf, len, "'%c'", key);
	else if (key >= SCREEN_KEY_F0 && key <= SCREEN_KEY_F0 + 63)
		snprintf(buf, len, "F%d", key - SCREEN_KEY_F0);
	else if (key > 0 && key < 0x20)
		snprintf(buf, len, "Ctrl-%c", key + '@');
	else
		snprintf(buf, len, "that key");
}

static void set_order(struct ui *u, enum sorter_key k)
{
	u->s.key = k;
	u->resort = true;
}

/* The key after 'f'. */
static bool filter_key(struct ui *u, int key)
{
	static const struct {
		int key;
		unsigned int bit;
	} keys[] = {
		{ 't', FLOWMATCH_TCP }, { 'u', FLOWMATCH_UDP }, { 'i', FLOWMATCH_ICMP },
		{ 's', FLOWMATCH_SCTP }, { '4', FLOWMATCH_V4 }, { '6', FLOWMATCH_V6 },
	};

	u->filtering = false;
	if (key == SCREEN_KEY_ESC)
		return true;
	if (key == 'a') {
		u->m.filter = 0;
		u->resort = true;
		return true;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].key == key) {
			u->m.filter ^= keys[i].bit;
			u->scroll = 0;
			u->resort = true;
			return true;
		}
	set_msg(u, " no such filter: f then t u i s 4 6, or a for all");
	return true;
}

struct ns_choice {
	uint64_t ino;
	char label[FLOWMATCH_LABEL_MAX];
};

static int cmp_choice(const void *a, const void *b)
{
	const struct ns_choice *x = a, *y = b;
	int c = strcmp(x->label, y->label);

	return c ? c : x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* N: the namespaces the table holds, in the order of their labels; show
 * the one after the current, and all of them after the last. */
static void next_netns(struct ui *u)
{
	const struct flowtab_shared *sh = &u->t->netns;
	struct ns_choice *c = sh->live ? calloc(sh->live, sizeof(*c)) : NULL;
	uint32_t n = 0, k;

	if (!c) {
		set_msg(u, sh->live ? " out of memory: no namespace filter" :
			" this stream names no namespaces (flowtop-emit --all-netns does)");
		return;
	}
	for (uint32_t h = 1; h < sh->n && n < sh->live; h++) {
		const struct flowtab_netns *ns =
			(const void *)(sh->rec + (size_t)h * sizeof(struct flowtab_netns));
		bool dup = false;

		if (!sh->refs[h] || !ns->ino)
			continue;
		/* a namespace whose container name came later has two records */
		for (k = 0; k < n && !dup; k++)
			dup = c[k].ino == ns->ino;
		if (dup)
			continue;
		c[n].ino = ns->ino;
		linefmt_netns(ns, c[n].label, sizeof(c[n].label));
		n++;
	}
	qsort(c, n, sizeof(*c), cmp_choice);
	for (k = 0; k < n && u->m.netns && c[k].ino != u->m.netns; k++)
		;
	/* none chosen: the first; the last (or one gone): all again */
	k = u->m.netns ? k + 1 : 0;
	if (k < n) {
		u->m.netns = c[k].ino;
		memcpy(u->m.netns_label, c[k].label, sizeof(u->m.netns_label));
		set_msg(u, " namespace %s (%u of %u): N the next, Esc all", c[k].label, k + 1, n);
	} else {
		u->m.netns = 0;
		u->m.netns_label[0] = '\0';
		if (n)
			set_msg(u, " all %u namespaces", n);
		else
			set_msg(u, " no namespace has flows");
	}
	u->scroll = 0;
	u->resort = true;
	free(c);
}

static bool search_key(struct ui *u, int key)
{
	size_t n = strlen(u->m.search);

	switch (key) {
	case SCREEN_KEY_ESC:	/* drop the search */
		u->m.search[0] = '\0';
		u->searching = false;
		break;
	case '\n':
	case '\r':
	case SCREEN_KEY_ENTER:
		u->searching = false;
		break;
	case SCREEN_KEY_BACKSPACE:
	case 127:
	case CTRL('h'):
		if (n)
			u->m.search[n - 1] = '\0';
		break;
	default:
		/* ASCII only: the search text is shown on the screen */
		if (key >= 0x20 && key < 0x7f && n + 1 < FLOWMATCH_SEARCH_MAX) {
			u->m.search[n] = (char)key;
			u->m.search[n + 1] = '\0';
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
	char name[16];

	if (page < 1)
		page = 1;
	if (key == SCREEN_KEY_RESIZE)
		return true;
	if (u->searching)
		return search_key(u, key);
	if (u->filtering)
		return filter_key(u, key);
	u->msg[0] = '\0';
	if (u->help) {
		u->help = false;
		if (key != 'q' && key != SCREEN_KEY_F0 + 10)
			return true;
	}
	switch (key) {
	case 'q':
	case 'Q':
	case SCREEN_KEY_F0 + 10:
		u->quit = true;
		return false;
	case SCREEN_KEY_UP:
	case 'k':
		if (u->scroll)
			u->scroll--;
		break;
	case SCREEN_KEY_DOWN:
	case 'j':
		u->scroll++;	/* ui_draw clamps */
		break;
	case SCREEN_KEY_PGUP:
		u->scroll = u->scroll > (uint32_t)page ? u->scroll - (uint32_t)page : 0;
		break;
	case SCREEN_KEY_PGDN:
		u->scroll += (uint32_t)page;
		break;
	case SCREEN_KEY_HOME:
	case 'g':
		u->scroll = 0;
		break;
	case SCREEN_KEY_END:
	case 'G':
		u->scroll = UINT32_MAX;
		break;
	case SCREEN_KEY_LEFT:
		u->hscroll = u->hscroll > 8 ? u->hscroll - 8 : 0;
		break;
	case SCREEN_KEY_RIGHT:
		if (u->hscroll < LINEFMT_MAX)
			u->hscroll += 8;
		break;
	case ' ':
	case 'p':
		ui_pause(u, !u->paused);
		break;
	case '/':
	case SCREEN_KEY_F0 + 3:
	case SCREEN_KEY_F0 + 4:		/* htop's filter: our search filters */
		u->searching = true;
		break;
	case 'f':
		u->filtering = true;
		break;
	case SCREEN_KEY_ESC:
		if (flowmatch_all(&u->m)) {
			set_msg(u, " no search or filter to clear");
			break;
		}
		u->m.filter = 0;
		u->m.netns = 0;
		u->m.netns_label[0] = '\0';
		u->m.search[0] = '\0';
		u->scroll = 0;
		u->resort = true;
		break;
	case 'o':
	case '>':
	case SCREEN_KEY_F0 + 6:
		set_order(u, (u->s.key + 1) % SORT_KEY_MAX);
		break;
	case '<':
		set_order(u, (u->s.key + SORT_KEY_MAX - 1) % SORT_KEY_MAX);
		break;
	case 'P':
		set_order(u, SORT_RATE);
		break;
	case 'M':
		set_order(u, SORT_BYTES);
		break;
	case 'T':
		set_order(u, SORT_AGE);
		break;
	case 'r':
		u->s.reverse = !u->s.reverse;
		u->win_sorted = false;
		break;
	case 'n':
		u->lf.numeric = !u->lf.numeric;
		break;
	case 'N':
		next_netns(u);
		break;
	case 'c':
		u->lf.compact = !u->lf.compact;
		u->compact_chosen = true;
		u->hscroll = 0;
		break;
	case '\t':
		u->procview = !u->procview;
		u->scroll = 0;
		break;
	case '?':
	case 'h':
	case SCREEN_KEY_F0 + 1:
		u->help = true;
		break;
	case CTRL('l'):
		screen_repaint(u->scr);
		break;
	default:
		key_name(key, name, sizeof(name));
		set_msg(u, " %s does nothing here; F1 or h shows the keys", name);
		break;
	}
	return true;
}
