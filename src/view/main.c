/*
 * main.c - flowtop-view: options, the event loop, and --batch.
 *
 * One loop polls three things: the stream (stdin or a file), the keyboard
 * (/dev/tty) and a timer for the next redraw, expiry or per-second tick.
 * Nothing spins: with no input and no pending deadline poll() waits forever.
 *
 * The stream is read in slices: one bounded read per round, only when
 * poll() says it is readable, for at most a slice's time, so that a stream
 * that never runs dry (a big file, /dev/zero, a fast emitter) still lets
 * signals, keys, redraws and --for's deadline through.  Reading after poll()
 * needs no O_NONBLOCK, which stdin must not get: that flag lives on the file
 * description that the shell and the next program in a pipeline share.  (A
 * read after poll() could block only if another process drained the same
 * pipe in between, and two readers splitting one stream is no use anyway.)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "flowtab.h"
#include "linefmt.h"
#include "num.h"
#include "reader.h"
#include "screen.h"
#include "sorter.h"
#include "strpool.h"
#include "ui.h"

#define PROG "flowtop-view"
#define READ_CHUNK (256 * 1024)
/* Fed to the reader in pieces of this size, each after flowtab_prefetch()
 * for its records: a hundred or so look-ups, whose cache lines a piece's
 * parse leaves in place. */
#define FEED_PIECE (32 * 1024)
/* How long one slice of reading may take before signals, keys and
 * deadlines are looked at again. */
#define SLICE_NS (20 * 1000000ull)
/* Rebuild the string pool when it is this big and four times its size
 * after the last rebuild: DNS names of long-gone flows pile up. */
#define POOL_REBUILD_MIN (64u << 20)

static volatile sig_atomic_t sig_quit, sig_winch;

struct app {
	struct strpool *pool;
	size_t pool_base;
	struct flowtab t;
	struct reader *rd;
	struct screen *scr;
	struct ui ui;
	bool ui_up;		/* ui holds the table: tell it of changes */
	uint64_t mono;		/* monotonic now, for records being applied */
	int in_fd;
	const char *in_name;
	bool eof;
	uint64_t bytes_read;

	/* options */
	bool batch, stats, wait_stream, tracked;
	double for_sec;
	long width;		/* -1: the terminal's */
	unsigned int fps;
	uint32_t max_flows;
	double linger;
	struct sorter sort0;
	struct linefmt fmt0;
};

/* The one way out on a fatal error: the terminal (a's screen, if a and the
 * screen are up) is put back first. */
static void fatal(const struct app *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
static void fatal(const struct app *a, const char *fmt, ...)
{
	va_list ap;

	if (a)
		screen_end(a->scr);
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\ntry '" PROG " --help'\n", stderr);
	exit(2);
}

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		sig_winch = 1;
	else
		sig_quit = 1;
}

static void signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The interactive loop blocks its signals outside ppoll(), so none can slip
 * in between the flag check and the wait.  ppoll() delivers a pending one
 * only when it sleeps, so with the stream always readable they are taken
 * by hand after each wait. */
static void signals_block(sigset_t *set, sigset_t *old)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGWINCH);
	sigprocmask(SIG_BLOCK, set, old);
}

static void signals_take(const sigset_t *set)
{
	static const struct timespec zero = { 0, 0 };
	int sig;

	while ((sig = sigtimedwait(set, NULL, &zero)) > 0)
		on_signal(sig);
}

static const char *intern(void *ctx, const char *s, size_t len)
{
	struct app *a = ctx;

	return strpool_intern(a->pool, s, len);
}

/* A record's strings stay in the pool only when the table stored it; a
 * flow dropped at --max-flows, or a destroy of a flow never seen, leaves
 * nothing behind. */
static void on_record(void *ctx, struct flow *f)
{
	struct app *a = ctx;

	if (a->ui_up)
		ui_table_changed(&a->ui);
	if (flowtab_apply(&a->t, f, a->mono))
		strpool_commit(a->pool);
	else
		strpool_rollback(a->pool);
}

static void on_bad(void *ctx)
{
	struct app *a = ctx;

	strpool_rollback(a->pool);
}

/* Called between reads only, where no record is half parsed: the table is
 * the only holder of pool pointers (strpool.h), and it moves them all. */
static void pool_maybe_rebuild(struct app *a)
{
	size_t sz = strpool_bytes(a->pool);
	struct strpool *np;

	if (sz < POOL_REBUILD_MIN || sz < 4 * a->pool_base)
		return;
	if (!(np = strpool_new()) || flowtab_reintern(&a->t, strpool_intern_cb, np))
		fatal(a, "out of memory rebuilding the string pool");
	if (a->ui_up)
		ui_table_changed(&a->ui);
	strpool_commit(np);
	strpool_free(a->pool);
	a->pool = np;
	a->pool_base = strpool_bytes(np);
}

/* Read while the stream has data, one bounded read per round, until it
 * runs dry or ends, or the monotonic time 'until' passes.  Returns the
 * bytes read. */
/* Hand the table the conntrack ids of the records in buf, as
 * flowtop-emit writes them (its "conntrack" object opens with "id"), to
 * fetch what their look-ups will read (flowtab_prefetch): a memmem a
 * record, where each look-up of a million-flow snapshot missed the cache
 * twice.  Another layout (CSV, another producer) finds none, and a hint
 * that is wrong costs nothing but the fetch. */
static void prefetch_ids(struct app *a, const char *buf, size_t n)
{
	static const char pat[] = "\"conntrack\":{\"id\":";
	uint32_t ids[FEED_PIECE / 128];
	const char *p = buf, *end = buf + n;
	size_t k = 0;

	while (k < sizeof(ids) / sizeof(ids[0]) &&
	       (p = memmem(p, (size_t)(end - p), pat, sizeof(pat) - 1))) {
		uint64_t v = 0;

		for (p += sizeof(pat) - 1; p < end && *p >= '0' && *p <= '9' && v <= UINT32_MAX; p++)
			v = v * 10 + (uint64_t)(*p - '0');
		if (v <= UINT32_MAX)
			ids[k++] = (uint32_t)v;
	}
	flowtab_prefetch(&a->t, ids, k);
}

static size_t read_stream(struct app *a, uint64_t until)
{
	static char buf[READ_CHUNK];
	size_t total = 0;

	while (!a->eof) {
		struct pollfd p = { .fd = a->in_fd, .events = POLLIN };
		ssize_t n;
		int r = poll(&p, 1, 0);

		if (r < 0 && errno != EINTR)
			fatal(a, "cannot poll stream '%s': %s", a->in_name, strerror(errno));
		if (r <= 0)
			break;
		n = read(a->in_fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* someone else made the description non-blocking */
			if (errno == EAGAIN)
				break;
			fatal(a, "cannot read stream '%s': %s", a->in_name, strerror(errno));
		}
		if (n == 0) {
			reader_finish(a->rd);
			a->eof = true;
			break;
		}
		a->mono = clock_mono_ns();
		for (size_t off = 0; off < (size_t)n; off += FEED_PIECE) {
			size_t len = (size_t)n - off < FEED_PIECE ? (size_t)n - off : FEED_PIECE;

			prefetch_ids(a, buf + off, len);
			if (reader_feed(a->rd, buf + off, len))
				fatal(a, "out of memory reading '%s'", a->in_name);
		}
		total += (size_t)n;
		a->bytes_read += (size_t)n;
		if (a->mono >= until)
			break;
	}
	pool_maybe_rebuild(a);
	return total;
}

static long peak_rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void print_stats(struct app *a)
{
	const struct reader_stats *rs = reader_stats(a->rd);
	size_t tb = flowtab_bytes(&a->t), pb = strpool_bytes(a->pool);
	uint32_t live = a->t.live ? a->t.live : 1;
	const struct ui *u = &a->ui;

	fprintf(stderr, PROG ": stats: lines %llu, records %llu, markers %llu, bad %llu "
		"(too long %llu)\n", (unsigned long long)rs->lines,
		(unsigned long long)rs->records, (unsigned long long)rs->markers,
		(unsigned long long)rs->bad, (unsigned long long)rs->too_long);
	/* the screen's sorter: its keys and windows; --batch's: 24 bytes an
	 * item while it runs */
	double sb = u->s.cap ? (double)sorter_bytes(&u->s) / live : (double)sizeof(struct sorter_item);

	fprintf(stderr, PROG ": stats: flows %u, entry %zu bytes, table %zu bytes "
		"(%zu per flow), sort index %.1f per flow, strings %zu bytes (%zu distinct), "
		"peak rss %ld KiB\n", a->t.live, sizeof(struct flowtab_entry), tb,
		tb / live, sb, pb, strpool_count(a->pool), peak_rss_kib());
	if (u->redraws)
		fprintf(stderr, PROG ": stats: redraws %llu, redraw ms avg %.2f max %.2f "
			"last %.2f, slowest at %u flows\n", (unsigned long long)u->redraws,
			(double)u->redraw_ns_total / (double)u->redraws / 1e6,
			(double)u->redraw_ns_max / 1e6, (double)u->redraw_ns_last / 1e6,
			u->redraw_flows_max);
	if (u->rebuilds)
		fprintf(stderr, PROG ": stats: after the first snapshot, redraws that sorted %llu, "
			"ms avg %.2f max %.2f\n",
			(unsigned long long)u->rebuilds,
			(double)u->rebuild_ns_total / (double)u->rebuilds / 1e6,
			(double)u->rebuild_ns_max / 1e6);
}

static void write_out(const char *s, size_t n)
{
	if (fwrite(s, 1, n, stdout) != n) {
		if (errno == EPIPE)
			exit(0);
		fatal(NULL, "cannot write output: %s", strerror(errno));
	}
}

static void print_line(const char *s, size_t width)
{
	char out[LINEFMT_MAX + 2];
	size_t cols, n = linefmt_cut(s, strlen(s), 0, width, true, out, &cols);

	/* no trailing blanks when a line is cut */
	while (n && out[n - 1] == ' ')
		n--;
	out[n++] = '\n';
	write_out(out, n);
}

/* --batch reads until the end of the stream, --for's deadline or a stop
 * signal, whichever comes first, however fast the input. */
static void batch_read(struct app *a)
{
	uint64_t deadline = a->for_sec > 0 ? clock_mono_ns() + (uint64_t)(a->for_sec * 1e9) : 0;
	sigset_t sigs, unblocked;

	signals_block(&sigs, &unblocked);
	while (!a->eof && !sig_quit) {
		uint64_t now = clock_mono_ns(), until = now + SLICE_NS;
		struct pollfd p = { .fd = a->in_fd, .events = POLLIN };
		struct timespec ts;
		int r;

		if (deadline && now >= deadline)
			break;
		if (deadline) {
			uint64_t left = deadline - now;

			ts.tv_sec = (time_t)(left / 1000000000u);
			ts.tv_nsec = (long)(left % 1000000000u);
			if (until > deadline)
				until = deadline;
		}
		r = ppoll(&p, 1, deadline ? &ts : NULL, &unblocked);
		if (r < 0 && errno != EINTR)
			fatal(a, "cannot poll stream '%s': %s", a->in_name, strerror(errno));
		signals_take(&sigs);
		if (r > 0 && !sig_quit)
			read_stream(a, until);
	}
	sigprocmask(SIG_SETMASK, &unblocked, NULL);
}

static int run_batch(struct app *a)
{
	struct sorter s = a->sort0;
	struct linefmt lf = a->fmt0;
	char line[LINEFMT_MAX + 1];
	size_t width = a->width > 0 ? (size_t)a->width : 0;
	const struct reader_stats *rs = reader_stats(a->rd);

	if (a->width < 0) {
		struct winsize ws;

		if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col)
			width = ws.ws_col;
	}
	batch_read(a);
	if (!a->eof)
		reader_finish(a->rd);
	if (sorter_run(&s, &a->t, NULL))
		fatal(NULL, "out of memory sorting %u flows", a->t.live);
	lf.counters = a->t.any_counters;
	lf.netns = a->t.any_netns;
	lf.now_ns = a->t.now_ns;
	linefmt_header(&lf, line);
	if (line[0])
		print_line(line, width);
	for (uint32_t i = 0; i < s.n; i++) {
		linefmt_flow(&lf, &a->t, &a->t.e[sorter_at(&s, i)], line);
		print_line(line, width);
	}
	if (fflush(stdout) == EOF && errno != EPIPE)
		fatal(NULL, "cannot write output: %s", strerror(errno));
	if (rs->bad)
		fprintf(stderr, PROG ": skipped %llu bad lines (%llu too long)\n",
			(unsigned long long)rs->bad, (unsigned long long)rs->too_long);
	if (a->t.st.full)
		fprintf(stderr, PROG ": table full at %u flows, dropped %llu\n", a->t.max,
			(unsigned long long)a->t.st.full);
	if (a->stats)
		print_stats(a);
	sorter_release(&s);
	return 0;
}

/* --wait-stream: keep the terminal untouched until the stream says
 * something; if it ends first the producer failed, and its message (on the
 * terminal) must stay readable. */
static bool wait_stream(struct app *a)
{
	struct pollfd p = { .fd = a->in_fd, .events = POLLIN };

	while (!sig_quit) {
		int r = poll(&p, 1, -1);

		if (r < 0 && errno != EINTR)
			fatal(a, "cannot poll stream: %s", strerror(errno));
		if (r > 0)
			return read_stream(a, clock_mono_ns() + SLICE_NS) > 0;
	}
	return false;
}

static int run_screen(struct app *a)
{
	struct ui *u = &a->ui;
	const char *why = NULL;
	uint64_t min_gap = 1000000000u / a->fps, gap = min_gap, last_draw = 0, tick, last_tick;
	uint64_t last_opened = 0, last_closed = 0, draw_cost = 0, drawn_snapshots = 0;
	bool dirty = true;
	sigset_t sigs, unblocked;
	struct timespec ts;

	if (a->wait_stream && !wait_stream(a))
		return 3;
	if (!(a->scr = screen_new(&why)))
		fatal(a, "%s", why);
	ui_init(u, a->scr, &a->t, reader_stats(a->rd), &a->sort0, NULL, &a->fmt0);
	u->tracked = a->tracked;
	a->ui_up = true;
	last_tick = clock_mono_ns();
	tick = last_tick + 1000000000u;
	signals_block(&sigs, &unblocked);

	while (!u->quit && !sig_quit) {
		struct pollfd p[2] = {
			{ .fd = screen_fd(a->scr), .events = POLLIN },
			{ .fd = a->in_fd, .events = POLLIN },
		};
		uint64_t now = clock_mono_ns(), next = 0, exp;
		int timeout = -1, r;

		if (dirty)
			next = last_draw + gap;
		exp = a->t.next_expiry;
		if (exp && (!next || exp < next))
			next = exp;
		/* the status's refresh age counts in seconds too (a redraw of
		 * an unchanged table reuses its sort: well under a ms) */
		if (u->new_rate > 0 || u->closed_rate > 0 || a->t.st.opened != last_opened ||
		    a->t.st.closed != last_closed || a->t.confirmed_mono)
			if (!next || tick < next)
				next = tick;
		if (next)
			timeout = next <= now ? 0 : (int)((next - now) / 1000000u) + 1;

		if (timeout >= 0) {
			ts.tv_sec = timeout / 1000;
			ts.tv_nsec = (long)(timeout % 1000) * 1000000;
		}
		r = ppoll(p, a->eof ? 1 : 2, timeout >= 0 ? &ts : NULL, &unblocked);
		if (r < 0 && errno != EINTR)
			fatal(a, "cannot poll: %s", strerror(errno));
		signals_take(&sigs);
		if (sig_quit)
			break;
		if (sig_winch) {
			sig_winch = 0;
			screen_resize(a->scr);
			dirty = true;
			last_draw = 0;
		}
		if (r > 0 && !a->eof && p[1].revents) {
			read_stream(a, clock_mono_ns() + SLICE_NS);
			dirty = true;
			if (a->eof)
				u->eof = true;
		}
		if (r > 0 && p[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			fatal(a, "lost the terminal");
		if (r > 0 && p[0].revents & POLLIN) {
			int k;
			bool redraw = false;

			while ((k = screen_key(a->scr)) >= 0)
				redraw |= ui_key(u, k);
			if (redraw) {
				dirty = true;
				last_draw = 0;	/* keys answer at once */
			}
		}
		now = clock_mono_ns();
		if (a->t.next_expiry && now >= a->t.next_expiry) {
			flowtab_expire(&a->t, now);
			ui_table_changed(u);
			dirty = true;
		}
		if (now >= tick) {
			double secs = (double)(now - last_tick) / 1e9;

			u->new_rate = (double)(a->t.st.opened - last_opened) / secs;
			u->closed_rate = (double)(a->t.st.closed - last_closed) / secs;
			last_opened = a->t.st.opened;
			last_closed = a->t.st.closed;
			last_tick = now;
			tick = now + 1000000000u;
			dirty = true;
		}
		/* Redraws get at most a tenth of the time: a table of a million
		 * flows that keeps changing is not sorted for every slice read.
		 * While the first snapshot streams in, a fortieth: its rows are
		 * not the table yet, and each redraw there took time from
		 * reading it (12 of 60 ms each through a 1M-flow snapshot, a
		 * fifth of the view's time to its full screen).  A key, the end
		 * of a snapshot or of the stream is shown at once. */
		gap = draw_cost * (a->t.in_frame && !a->t.st.snapshots ? 40 : 10);
		if (gap < min_gap)
			gap = min_gap;
		if (a->t.st.snapshots != drawn_snapshots || (a->eof && dirty)) {
			drawn_snapshots = a->t.st.snapshots;
			last_draw = 0;
		}
		if (dirty && !u->quit && now >= last_draw + gap) {
			draw_cost = ui_draw(u);
			last_draw = clock_mono_ns();
			dirty = false;
		}
	}
	screen_end(a->scr);
	if (a->stats)
		print_stats(a);
	a->ui_up = false;
	ui_release(u);
	screen_free(a->scr);
	a->scr = NULL;
	return 0;
}

/* The record fields the view reads: what flowtab keeps of a flow (its
 * pack()), the action and the clock.  flowtop passes them to flowtop-emit
 * as --fields: at a million flows, the other two thirds of each record
 * (community id, host, ECS constants, reply tuple, status...) cost the
 * emitter and the view more time than the kernel's dump itself.
 * tests/e2e/61-view-fields-used.t checks that a stream cut to this list
 * shows the same as the whole one. */
static const char *const fields_used[] = {
	"@timestamp", "event.action", "event.start",
	"network.type", "network.transport", "network.protocol",
	"source.ip", "source.port", "source.domain", "source.bytes",
	"source.geo.country_iso_code", "source.geo.country_name", "source.geo.city_name",
	"destination.ip", "destination.port", "destination.domain", "destination.bytes",
	"destination.geo.country_iso_code", "destination.geo.country_name",
	"destination.geo.city_name",
	"process.pid", "process.name",
	"container.id", "container.name", "container.runtime",
	"conntrack.id", "conntrack.state", "conntrack.zone",
	"conntrack.icmp.type", "conntrack.icmp.code", "conntrack.icmp.id",
	"conntrack.netns.inode", "conntrack.netns.name",
};

static void print_fields_used(void)
{
	for (size_t i = 0; i < sizeof(fields_used) / sizeof(fields_used[0]); i++)
		printf("%s%s", i ? "," : "", fields_used[i]);
	putchar('\n');
}

static void help(void)
{
	printf("usage: " PROG " [OPTIONS] [FILE]\n"
	       "Show the flow stream of flowtop-emit (NDJSON or CSV) from FILE or stdin.\n\n"
	       "  -b, --batch          print the sorted flows once and exit (no curses)\n"
	       "  -f, --for SEC        with --batch: read for SEC seconds, not to the end\n"
	       "  -w, --width N        with --batch: cut lines at N columns (0: never)\n"
	       "  -n, --numeric        addresses, not DNS names\n"
	       "  -c, --compact        one column per field\n"
	       "  -o, --sort KEY       state (default), bytes, rate, age, process, destination\n"
	       "  -r, --reverse        reverse the sort order\n"
	       "      --fps N          redraw at most N times a second (default 10)\n"
	       "      --max-flows N    keep at most N flows (default %u)\n"
	       "      --linger SEC     show closed flows dimmed this long (default 2)\n"
	       "      --wait-stream    touch the terminal only once the stream has data;\n"
	       "                       exit 3 if it ends before (used by flowtop)\n"
	       "      --tracked        the kernel is asked to track connections already\n"
	       "                       (flowtop --track): an empty screen says so\n"
	       "      --stats          print counters, memory and redraw times on exit\n"
	       "      --fields-used    print the record fields the view reads, for\n"
	       "                       flowtop-emit --fields, and exit\n"
	       "  -h, --help           this text\n"
	       "  -V, --version        the version\n", FLOWTAB_MAX_DEFAULT);
}

/* Every number option goes through num.h: NaN, infinities and hex would
 * otherwise pass strtod() and then every range check. */
static double opt_seconds(const char *opt, const char *s, double min, double max)
{
	double v;

	if (num_parse_double(s, min, max, &v))
		usage_error("bad value for %s '%s': want seconds from %.15g to %.15g",
			    opt, s, min, max);
	return v;
}

static unsigned long long opt_count(const char *opt, const char *s, unsigned long long min,
				    unsigned long long max)
{
	unsigned long long v;

	if (num_parse_uint(s, min, max, 0, &v))
		usage_error("bad value for %s '%s': want a whole number from %llu to %llu",
			    opt, s, min, max);
	return v;
}

static void parse_args(struct app *a, int argc, char **argv)
{
	enum { O_FPS = 256, O_MAX, O_LINGER, O_WAIT, O_STATS, O_TRACKED, O_FIELDS_USED };
	static const struct option opts[] = {
		{ "batch", no_argument, NULL, 'b' },
		{ "for", required_argument, NULL, 'f' },
		{ "width", required_argument, NULL, 'w' },
		{ "numeric", no_argument, NULL, 'n' },
		{ "compact", no_argument, NULL, 'c' },
		{ "sort", required_argument, NULL, 'o' },
		{ "reverse", no_argument, NULL, 'r' },
		{ "fps", required_argument, NULL, O_FPS },
		{ "max-flows", required_argument, NULL, O_MAX },
		{ "linger", required_argument, NULL, O_LINGER },
		{ "wait-stream", no_argument, NULL, O_WAIT },
		{ "stats", no_argument, NULL, O_STATS },
		{ "tracked", no_argument, NULL, O_TRACKED },
		{ "fields-used", no_argument, NULL, O_FIELDS_USED },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c, k;

	while ((c = getopt_long(argc, argv, "bf:w:nco:rhV", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			a->batch = true;
			break;
		case 'f':
			a->for_sec = opt_seconds("--for", optarg, 0.001, 1e9);
			break;
		case 'w':
			a->width = (long)opt_count("--width", optarg, 0, LINEFMT_MAX);
			break;
		case 'n':
			a->fmt0.numeric = true;
			break;
		case 'c':
			a->fmt0.compact = true;
			break;
		case 'o':
			if ((k = sorter_key_parse(optarg)) < 0)
				usage_error("unknown sort key '%s'", optarg);
			a->sort0.key = (enum sorter_key)k;
			break;
		case 'r':
			a->sort0.reverse = true;
			break;
		case O_FPS:
			a->fps = (unsigned int)opt_count("--fps", optarg, 1, 1000);
			break;
		case O_MAX:
			a->max_flows = (uint32_t)opt_count("--max-flows", optarg, 1, 100000000);
			break;
		case O_LINGER:
			a->linger = opt_seconds("--linger", optarg, 0, 3600);
			break;
		case O_WAIT:
			a->wait_stream = true;
			break;
		case O_STATS:
			a->stats = true;
			break;
		case O_TRACKED:
			a->tracked = true;
			break;
		case O_FIELDS_USED:
			print_fields_used();
			if (fflush(stdout) == EOF || ferror(stdout))
				fatal(NULL, "cannot write the field list: %s", strerror(errno));
			exit(0);
		case 'h':
			help();
			exit(0);
		case 'V':
			printf(PROG " " FLOWTOP_VERSION "\n");
			exit(0);
		default:
			fputs("try '" PROG " --help'\n", stderr);
			exit(2);
		}
	}
	if (optind + 1 < argc)
		usage_error("too many arguments");
	if (a->for_sec > 0 && !a->batch)
		usage_error("--for needs --batch");
	if (optind < argc && strcmp(argv[optind], "-")) {
		a->in_name = argv[optind];
		a->in_fd = open(a->in_name, O_RDONLY | O_CLOEXEC);
		if (a->in_fd < 0)
			fatal(NULL, "cannot open '%s': %s", a->in_name, strerror(errno));
	}
}

int main(int argc, char **argv)
{
	static struct app app = {
		.in_fd = STDIN_FILENO, .in_name = "stdin", .width = -1, .fps = 10,
		.linger = 2,
	};
	struct app *a = &app;
	int rc;

	setlocale(LC_ALL, "");
	parse_args(a, argc, argv);
	if (a->batch && strcmp(nl_langinfo(CODESET), "UTF-8"))
		setlocale(LC_CTYPE, "C.UTF-8");	/* widths only: output stays UTF-8 */
	if (!a->batch && isatty(a->in_fd))
		usage_error("the stream is a terminal: pipe flowtop-emit in, or name a file");
	signals();
	if (!(a->pool = strpool_new()) ||
	    flowtab_init(&a->t, a->max_flows, a->batch ? 0 : (uint64_t)(a->linger * 1e9)) ||
	    !(a->rd = reader_new(on_record, a, intern, a)))
		fatal(NULL, "out of memory");
	reader_on_bad(a->rd, on_bad);
	rc = a->batch ? run_batch(a) : run_screen(a);
	reader_free(a->rd);
	flowtab_release(&a->t);
	strpool_free(a->pool);
	if (a->in_fd != STDIN_FILENO)
		close(a->in_fd);
	return rc;
}
