/*
 * flowtop-emit - conntrack flows, enriched, one record a line on stdout.
 *
 * --once: dump the table, write, exit.  Follow mode: a framed snapshot, then
 * events as they come, a periodic dump that refreshes counters and catches
 * lost events, and a framed resync after an event overrun.  One poll loop
 * drives the event socket, the dump socket and the enrichers.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include "acct.h"
#include "ctsource.h"
#include "enrich.h"
#include "field.h"
#include "filter.h"
#include "notice.h"
#include "output.h"
#include "num.h"
#include "tracker.h"
#include "writer.h"

#define PROG NOTICE_PROG
#define DEFAULT_INTERVAL_MS 2000
#define MAX_INTERVAL_S 86400
#define DEFAULT_BUFFER (64u << 20)
#define DEFAULT_DNS_TIMEOUT_MS 2000
#define MAX_DNS_TIMEOUT_S 60	/* a --once that waits longer is a mistake */
/* a pass over the whole table for late names - only when an address had
 * more waiting flows than the resolver remembers - at most this often */
#define NAME_PASS_MS 1000
/* dead flows are forgotten by a pass over the tracker this often */
#define EXPIRE_MS 1000
/* output waiting for a slow reader past this stops the loop taking input,
 * so the kernel drops events (an overrun, a resync when the reader is back)
 * instead of our memory growing */
#define OUT_HIGH_WATER (1u << 20)


static volatile sig_atomic_t stop_signal;
/* --output: SIGHUP asks for the file to be opened anew (logrotate) */
static volatile sig_atomic_t hup_signal;
static bool hup_reopens;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void on_hup(int sig)
{
	(void)sig;
	hup_signal = 1;
}

struct opts {
	bool once;
	enum writer_format fmt;
	int fields[64];
	int nfields;
	unsigned int interval_ms;
	bool accounting;
	size_t bufsize;
	struct filter filter;
	bool kernel_filter;
	struct enrich_opts enrich;
	int verbose;
	bool quiet;
	const char *output;		/* --output FILE, or NULL: stdout */
	unsigned int events;		/* --events: 1u << flow_action written */
	bool no_header;			/* --no-header: CSV without its first line */
};

/* Everything the loop works with. */
struct emitter {
	struct opts *o;
	struct ctsource *src;
	struct writer *w;
	struct output *out;		/* follow mode's stdout */
	struct tracker *trk;
	struct enrich *enr;
	uint32_t gen;
	/* the dump in progress, if any */
	bool dumping;
	enum { DUMP_SNAPSHOT, DUMP_INTERVAL } dump_kind;
	int fam_next;			/* index into families[] */
	int families[2], nfam;
	bool resync_pending;
	size_t dump_seen;		/* flows the kernel returned (before filtering) */
	bool hinted_empty;
	bool write_failed;
	int write_errno;		/* errno of the failed write */
	unsigned int want_flags;	/* TRACKED_* that enrichment may still add */
	uint64_t dump_done_ms;		/* when the last dump ended */
	uint64_t drained_ms;		/* when the event queue was last seen empty */
};

static void usage(void)
{
	printf("usage: " PROG " [OPTION]...\n"
	       "Write the kernel's connection tracking flows, enriched, one record a line.\n"
	       "\n"
	       "Mode and output:\n"
	       "  -1, --once              dump the table once and exit (no markers)\n"
	       "  -f, --format FMT        json (NDJSON, default) or csv\n"
	       "  -F, --fields LIST       only these fields (comma-separated, see --list-fields)\n"
	       "  -i, --interval SEC      follow mode: refresh dump every SEC seconds\n"
	       "                          (default 2, 0 turns it off)\n"
	       "  -a, --accounting        turn on conntrack byte/packet counters and start\n"
	       "                          times for this run; restored on exit\n"
	       "  -b, --buffer-size SIZE  event socket receive buffer (default 64M)\n"
	       "  -o, --output FILE       append to FILE (made 0640), not stdout; SIGHUP\n"
	       "                          opens it anew (logrotate); without it, SIGHUP ends\n"
	       "                          the program\n"
	       "  -e, --events LIST       only these records: snapshot, new, update, destroy,\n"
	       "                          markers (default all; without markers a reader\n"
	       "                          cannot tell where a snapshot frame ends)\n"
	       "      --no-header         CSV: no header line (for appending to a file)\n"
	       "\n"
	       "Filters (several values: comma-separated):\n"
	       "  -4, -6                  IPv4 or IPv6 flows only\n"
	       "  -p, --proto LIST        tcp, udp, udplite, icmp, icmpv6, sctp, dccp, gre, NUM\n"
	       "  -s, --state LIST        ESTABLISHED, SYN_SENT, TIME_WAIT, ...\n"
	       "      --src LIST          source address or CIDR network\n"
	       "      --dst LIST          destination address or CIDR network\n"
	       "  -P, --port LIST         source or destination port\n"
	       "  -L, --no-loopback       leave out flows from or to 127.0.0.0/8 and ::1\n"
	       "\n"
	       "Enrichment:\n"
	       "  -n, --numeric           no reverse DNS\n"
	       "      --dns-timeout SEC   --once: wait at most SEC for names (default 2,\n"
	       "                          at most 60)\n"
	       "      --no-process        no process and user\n"
	       "      --no-geoip          no GeoIP\n"
	       "      --geoip-db PATH     GeoIP database (.mmdb), repeatable\n"
	       "\n"
	       "  -v, --verbose           say more on stderr\n"
	       "  -q, --quiet             no notices on stderr, only errors\n"
	       "      --list-fields       list the record's fields and exit\n"
	       "  -h, --help              show this help and exit\n"
	       "  -V, --version           show the version and exit\n"
	       "\n"
	       "Needs CAP_NET_ADMIN (root); process fields for other users' processes also\n"
	       "CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH.  See flowtop-emit(1) for the record\n"
	       "format.\n");
}

/* Numbers go through num.h, which refuses NaN, infinities and hex: such a
 * value would pass every range check below and mean nothing. */
static unsigned int parse_interval(const char *s)
{
	unsigned int ms;

	if (num_parse_ms(s, MAX_INTERVAL_S, &ms) < 0)
		notice_usage("bad value for --interval '%s': want seconds from 0 to 86400", s);
	return ms;
}

static size_t parse_size(const char *s)
{
	unsigned long long v;

	if (num_parse_uint(s, 4096, 1ull << 31, 1, &v) < 0)
		notice_usage("bad value for --buffer-size '%s': want bytes from 4K to 2G", s);
	return (size_t)v;
}

static void list_fields(const char *how)
{
	static const char *const type_names[] = { "string", "number", "array" };
	bool man = how && !strcmp(how, "man");

	if (how && !man && strcmp(how, "text"))
		notice_usage("invalid --list-fields format '%s' (text or man)", how);
	for (size_t i = 0; i < field_count; i++) {
		const struct field *f = &field_table[i];

		if (man)
			printf(".TP\n.B %s\n(%s) %s\n", f->name, type_names[f->type], f->doc);
		else
			printf("%-36s %-7s %s\n", f->name, type_names[f->type], f->doc);
	}
}

enum {
	OPT_SRC = 256, OPT_DST, OPT_NO_PROCESS, OPT_NO_GEOIP, OPT_GEOIP_DB,
	OPT_DNS_TIMEOUT, OPT_LIST_FIELDS, OPT_NO_KFILTER, OPT_NO_HEADER,
};

static const struct option long_opts[] = {
	{ "once", no_argument, NULL, '1' },
	{ "format", required_argument, NULL, 'f' },
	{ "fields", required_argument, NULL, 'F' },
	{ "interval", required_argument, NULL, 'i' },
	{ "accounting", no_argument, NULL, 'a' },
	{ "buffer-size", required_argument, NULL, 'b' },
	{ "output", required_argument, NULL, 'o' },
	{ "events", required_argument, NULL, 'e' },
	{ "no-header", no_argument, NULL, OPT_NO_HEADER },
	{ "proto", required_argument, NULL, 'p' },
	{ "state", required_argument, NULL, 's' },
	{ "src", required_argument, NULL, OPT_SRC },
	{ "dst", required_argument, NULL, OPT_DST },
	{ "port", required_argument, NULL, 'P' },
	{ "no-loopback", no_argument, NULL, 'L' },
	{ "numeric", no_argument, NULL, 'n' },
	{ "dns-timeout", required_argument, NULL, OPT_DNS_TIMEOUT },
	{ "no-process", no_argument, NULL, OPT_NO_PROCESS },
	{ "no-geoip", no_argument, NULL, OPT_NO_GEOIP },
	{ "geoip-db", required_argument, NULL, OPT_GEOIP_DB },
	{ "no-kernel-filter", no_argument, NULL, OPT_NO_KFILTER },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "list-fields", optional_argument, NULL, OPT_LIST_FIELDS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

#define EVENTS_MARKERS ((1u << FLOW_MARK_SNAPSHOT_BEGIN) | (1u << FLOW_MARK_SNAPSHOT_END) | \
			(1u << FLOW_MARK_OVERRUN))
#define EVENTS_ALL ((1u << FLOW_ACTION_MAX) - 1)

/* --events LIST: the record kinds to write, as a mask of 1u << action.
 * The markers go as one word: a reader needs begin and end together to
 * sweep on a frame, and an overrun means the same thing to it. */
static unsigned int parse_events(const char *list)
{
	static const struct { const char *name; unsigned int mask; } words[] = {
		{ "snapshot", 1u << FLOW_SNAPSHOT },
		{ "new", 1u << FLOW_NEW },
		{ "update", 1u << FLOW_UPDATE },
		{ "destroy", 1u << FLOW_DESTROY },
		{ "markers", EVENTS_MARKERS },
	};
	unsigned int mask = 0;
	const char *s = list;

	for (;;) {
		size_t n = strcspn(s, ",");
		size_t i;
		char word[64];

		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i].name) == n && !memcmp(s, words[i].name, n))
				break;
		if (i == sizeof(words) / sizeof(words[0])) {
			snprintf(word, sizeof(word), "%.*s", (int)(n < 60 ? n : 60), s);
			notice_usage("invalid --events word '%s' (snapshot, new, update, destroy, "
				  "markers)", word);
		}
		mask |= words[i].mask;
		if (!s[n])
			break;
		s += n + 1;
	}
	return mask;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	char err[256];
	bool only4 = false, only6 = false;
	size_t bad;
	int c;

	memset(o, 0, sizeof(*o));
	o->fmt = WRITER_JSON;
	o->interval_ms = DEFAULT_INTERVAL_MS;
	o->bufsize = DEFAULT_BUFFER;
	o->kernel_filter = true;
	o->events = EVENTS_ALL;
	filter_init(&o->filter);
	o->enrich.process = o->enrich.protocol = o->enrich.geoip = o->enrich.dns = true;
	o->enrich.dns_timeout_ms = DEFAULT_DNS_TIMEOUT_MS;

	/* getopt prefixes its own complaints with argv[0]: the program's
	 * name, not the path it was started by, like every other message */
	argv[0] = (char *)PROG;
	while ((c = getopt_long(argc, argv, "1f:F:i:ab:o:e:46p:s:P:LnvqhV", long_opts, NULL)) != -1) {
		switch (c) {
		case '1':
			o->once = true;
			break;
		case 'f':
			if (!strcmp(optarg, "json") || !strcmp(optarg, "ndjson"))
				o->fmt = WRITER_JSON;
			else if (!strcmp(optarg, "csv"))
				o->fmt = WRITER_CSV;
			else
				notice_usage("invalid format '%s' (json or csv)", optarg);
			break;
		case 'F':
			o->nfields = field_parse_list(optarg, o->fields, 64, &bad);
			if (o->nfields < 0)
				notice_usage("unknown field in '%s' (see --list-fields)", optarg + bad);
			break;
		case 'i':
			o->interval_ms = parse_interval(optarg);
			break;
		case 'a':
			o->accounting = true;
			break;
		case 'b':
			o->bufsize = parse_size(optarg);
			break;
		case 'o':
			if (!*optarg)
				notice_usage("%s", "empty --output file name");
			o->output = optarg;
			break;
		case 'e':
			o->events = parse_events(optarg);
			break;
		case OPT_NO_HEADER:
			o->no_header = true;
			break;
		case '4':
			only4 = true;
			break;
		case '6':
			only6 = true;
			break;
		case 'p':
			if (filter_add_protos(&o->filter, optarg, err, sizeof(err)))
				notice_usage("%s", err);
			break;
		case 's':
			if (filter_add_states(&o->filter, optarg, err, sizeof(err)))
				notice_usage("%s", err);
			break;
		case OPT_SRC:
		case OPT_DST:
			if (filter_add_nets(&o->filter, c == OPT_SRC, optarg, err, sizeof(err)))
				notice_usage("%s", err);
			break;
		case 'P':
			if (filter_add_ports(&o->filter, optarg, err, sizeof(err)))
				notice_usage("%s", err);
			break;
		case 'L':
			o->filter.no_loopback = true;
			break;
		case 'n':
			o->enrich.dns = false;
			break;
		case OPT_DNS_TIMEOUT:
			if (num_parse_ms(optarg, MAX_DNS_TIMEOUT_S, &o->enrich.dns_timeout_ms) < 0)
				notice_usage("bad value for --dns-timeout '%s': want seconds from 0 to 60",
					     optarg);
			break;
		case OPT_NO_PROCESS:
			o->enrich.process = false;
			break;
		case OPT_NO_GEOIP:
			o->enrich.geoip = false;
			break;
		case OPT_GEOIP_DB:
			if (o->enrich.n_geoip_db == ENRICH_MAX_DB)
				notice_usage("too many --geoip-db (at most %d)", ENRICH_MAX_DB);
			o->enrich.geoip_db[o->enrich.n_geoip_db++] = optarg;
			break;
		case OPT_NO_KFILTER:
			o->kernel_filter = false;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'q':
			o->quiet = true;
			break;
		case OPT_LIST_FIELDS:
			list_fields(optarg);
			exit(fclose(stdout) ? 1 : 0);
		case 'h':
			usage();
			exit(fclose(stdout) ? 1 : 0);
		case 'V':
			printf(PROG " " FLOWTOP_VERSION "\n");
			exit(fclose(stdout) ? 1 : 0);
		default:
			notice_usage_hint();
		}
	}
	if (optind < argc)
		notice_usage("unexpected argument '%s'", argv[optind]);
	if (only4 && only6)
		notice_usage("%s", "-4 and -6 exclude each other");
	/* a JSON line carries its own names: a header to leave out is
	 * something the user took for CSV, better said than ignored */
	if (o->no_header && o->fmt != WRITER_CSV)
		notice_usage("%s", "--no-header needs --format csv");
	if (o->quiet && o->verbose)
		notice_usage("%s", "--quiet and --verbose exclude each other");
	o->filter.want_v4 = !only6;
	o->filter.want_v6 = !only4;
	o->enrich.verbose = o->verbose;
	/* follow mode writes an update when a name arrives; --once waits */
	o->enrich.late_names = !o->once;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- writing ---------------------------------------------------------------- */

/* --events filters here, at the write, so the tracker and the enrichers
 * still see every record: a destroy needs the new before it. */
static int put_record(struct emitter *em, const struct flow *f)
{
	if (!(em->o->events & (1u << f->action)))
		return 0;
	if (writer_write(em->w, f) == 0)
		return 0;
	em->write_failed = true;
	em->write_errno = errno;
	return -1;
}

static int put_marker(struct emitter *em, enum flow_action m)
{
	if (!(em->o->events & (1u << m)))
		return 0;
	if (writer_marker(em->w, m) == 0)
		return 0;
	em->write_failed = true;
	em->write_errno = errno;
	return -1;
}

/* --- --once ------------------------------------------------------------------ */

static int once_write(struct flow *f, void *data)
{
	struct emitter *em = data;

	/* a stop signal that came between writes: write no more, so that a
	 * stalled reader cannot hold us in the next one */
	if (stop_signal)
		return 0;
	em->dump_seen++;
	if (!filter_match(&em->o->filter, f))
		return 0;
	enrich_flow(em->enr, f);
	return put_record(em, f);
}

/* First pass with DNS on: only queue the names the second pass will use. */
static int once_prefetch(struct flow *f, void *data)
{
	struct emitter *em = data;

	if (filter_match(&em->o->filter, f))
		enrich_names(em->enr, f);
	return 0;
}

/* The families to ask for, one request each.  The kernel walks its whole
 * (machine-wide) hash table for every dump request, so when both families
 * are wanted and no per-family filter applies, one AF_UNSPEC request does
 * the work of two. */
static void plan_dumps(struct emitter *em, struct ctsource_dump_filter *df)
{
	df->l4proto = em->o->kernel_filter ? filter_dump_l4proto(&em->o->filter) : -1;
	em->nfam = 0;
	if (em->o->filter.want_v4 && em->o->filter.want_v6 && df->l4proto < 0) {
		em->families[em->nfam++] = AF_UNSPEC;
		return;
	}
	/* CTA_FILTER needs a family: one request each */
	if (em->o->filter.want_v4)
		em->families[em->nfam++] = AF_INET;
	if (em->o->filter.want_v6)
		em->families[em->nfam++] = AF_INET6;
}

static int dump_blocking(struct emitter *em, ctsource_cb cb)
{
	struct ctsource_dump_filter df;

	plan_dumps(em, &df);
	for (int i = 0; i < em->nfam && !stop_signal; i++)
		if (ctsource_dump_sync(em->src, em->families[i], &df, cb, em, &stop_signal) < 0)
			return -1;
	return 0;
}

static void hint_empty(void)
{
	notice("the connection tracking table is empty; nothing may be "
	       "asking for tracking (try: nft add table inet flowtop '{ chain c { type "
	       "filter hook output priority 0; ct state new,established counter; }; }')");
}

static void take_pending_signal(const sigset_t *stops);

/* --once: wait for the names of the prefetch pass, at most --dns-timeout,
 * in a ppoll that alone lets SIGINT and SIGTERM in, so a signal ends the
 * wait at once however busy the resolver is. */
static void once_wait_names(struct emitter *em, const sigset_t *stops)
{
	uint64_t deadline = mono_ms() + em->o->enrich.dns_timeout_ms;
	sigset_t old, open;

	sigprocmask(SIG_BLOCK, stops, &old);
	open = old;
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(stops, sig))
			sigdelset(&open, sig);
	enrich_drain(em->enr);
	while (!stop_signal && enrich_busy(em->enr)) {
		struct pollfd pfd = { enrich_fd(em->enr), POLLIN, 0 };
		uint64_t now = mono_ms();
		int t = enrich_timeout_ms(em->enr);
		struct timespec ts;

		if (now >= deadline)
			break;
		if (t < 0 || (uint64_t)t > deadline - now)
			t = (int)(deadline - now);
		ts.tv_sec = t / 1000;
		ts.tv_nsec = (long)(t % 1000) * 1000000;
		ppoll(&pfd, 1, &ts, &open);
		take_pending_signal(stops);
		if (!stop_signal)
			enrich_drain(em->enr);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static int run_once(struct emitter *em, const sigset_t *stops)
{
	if (em->o->enrich.dns) {
		enrich_scan_begin(em->enr);
		if (dump_blocking(em, once_prefetch) < 0)
			return -1;
		once_wait_names(em, stops);
		if (stop_signal)
			return 0;	/* no records: main says which signal */
	}
	enrich_scan_begin(em->enr);
	if (dump_blocking(em, once_write) < 0)
		return -1;
	if (em->dump_seen == 0 && !stop_signal)
		hint_empty();
	return 0;
}

/* --- follow mode ------------------------------------------------------------------ */

/* What the tracker needs to know of the loop's progress. */
static struct tracker_now tracker_clock(const struct emitter *em)
{
	return (struct tracker_now){ .gen = em->gen, .dumping = em->dumping,
				     .ms = mono_ms(), .drained_ms = em->drained_ms };
}

static int write_destroy(const struct tracked *e, void *data)
{
	struct emitter *em = data;
	struct flow f;

	tracker_to_flow(e, &f);
	f.action = FLOW_DESTROY;
	f.ts_ns = flow_now_ns();
	enrich_flow(em->enr, &f);
	return put_record(em, &f);
}

/* Events and dumps both go through tracker_observe(), which alone decides
 * what the stream says of a flow (see tracker.c); flows without an id (old
 * kernels) cannot be tracked and are passed on as the kernel tells them. */
static int on_event(struct flow *f, void *data)
{
	struct emitter *em = data;
	bool match = filter_match(&em->o->filter, f);
	struct tracker_now now;
	struct tracked *e;
	int rc;

	if (!(f->has & FLOW_HAS_ID)) {
		if (!match)
			return 0;
		enrich_flow(em->enr, f);
		return put_record(em, f);
	}
	e = tracker_find(em->trk, f);
	/* the socket may be gone by now: keep the owner we found before */
	if (e)
		tracker_owner(e, f);
	if (match || e)
		enrich_flow(em->enr, f);
	now = tracker_clock(em);
	rc = tracker_observe(em->trk, f, TRACKER_EVENT, match, &now);
	return rc <= 0 ? rc : put_record(em, f);
}

static int on_dump(struct flow *f, void *data)
{
	struct emitter *em = data;
	bool match = filter_match(&em->o->filter, f);
	struct tracker_now now;
	struct tracked *e;
	int rc;

	em->dump_seen++;
	if (!(f->has & FLOW_HAS_ID)) {
		if (!match || em->dump_kind != DUMP_SNAPSHOT)
			return 0;
		enrich_flow(em->enr, f);
		return put_record(em, f);
	}
	e = tracker_find(em->trk, f);
	if (!e && !match)
		return 0;
	/* most flows are as they were: skip their enrichment */
	if (e && em->dump_kind == DUMP_INTERVAL &&
	    tracker_settled(e, f, em->want_flags, em->gen))
		return 0;
	if (e)
		tracker_owner(e, f);
	enrich_flow(em->enr, f);
	now = tracker_clock(em);
	rc = tracker_observe(em->trk, f, em->dump_kind == DUMP_SNAPSHOT ? TRACKER_SNAPSHOT :
			     TRACKER_REFRESH, match, &now);
	return rc <= 0 ? rc : put_record(em, f);
}

static int start_dump(struct emitter *em, int kind)
{
	em->dumping = true;
	em->dump_kind = kind;
	em->fam_next = 0;
	em->dump_seen = 0;
	em->gen++;
	enrich_scan_begin(em->enr);
	if (kind == DUMP_SNAPSHOT && put_marker(em, FLOW_MARK_SNAPSHOT_BEGIN) < 0)
		return -1;
	return 0;
}

/* Ask for the next family's dump, or finish the dump when all are done. */
static int next_dump_step(struct emitter *em)
{
	struct ctsource_dump_filter df;
	struct tracker_now now;

	plan_dumps(em, &df);
	if (em->fam_next < em->nfam)
		return ctsource_dump_start(em->src, em->families[em->fam_next++], &df);
	em->dumping = false;
	em->dump_done_ms = mono_ms();
	now = tracker_clock(em);
	if (em->dump_kind == DUMP_SNAPSHOT) {
		/* readers drop what the frame did not contain; so do we */
		if (tracker_sweep(em->trk, TRACKER_SNAPSHOT, &now, write_destroy, em) < 0 ||
		    put_marker(em, FLOW_MARK_SNAPSHOT_END) < 0)
			return -1;
	} else if (tracker_sweep(em->trk, TRACKER_REFRESH, &now, write_destroy, em) < 0) {
		return -1;
	}
	if (em->dump_seen == 0 && !em->hinted_empty) {
		em->hinted_empty = true;
		hint_empty();
	}
	if (em->resync_pending) {
		em->resync_pending = false;
		if (start_dump(em, DUMP_SNAPSHOT) < 0)
			return -1;
		return next_dump_step(em);
	}
	return 0;
}

/* Names that arrived late become update records for the flows still alive. */
static int late_names(struct tracked *e, void *data)
{
	struct emitter *em = data;
	struct flow f;

	/* only flows alive in the stream get records */
	if ((e->life != TRACKED_ALIVE && e->life != TRACKED_MISSING) ||
	    (e->flags & (TRACKED_SRC_NAME | TRACKED_DST_NAME)) ==
	    (TRACKED_SRC_NAME | TRACKED_DST_NAME))
		return 0;
	tracker_to_flow(e, &f);
	enrich_names(em->enr, &f);
	if ((f.src_domain && !(e->flags & TRACKED_SRC_NAME)) ||
	    (f.dst_domain && !(e->flags & TRACKED_DST_NAME))) {
		if (f.src_domain)
			e->flags |= TRACKED_SRC_NAME;
		if (f.dst_domain)
			e->flags |= TRACKED_DST_NAME;
		/* a full record: the rest of the enrichment from the caches */
		f.action = FLOW_UPDATE;
		f.ts_ns = flow_now_ns();
		enrich_flow(em->enr, &f);
		return put_record(em, &f);
	}
	return 0;
}

/* A flow that waited for a name that has arrived: an update if the kernel
 * still has it.  Costs one look-up per waiting flow, not a pass over the
 * table. */
static int late_flow(const struct flow *key, void *data)
{
	struct emitter *em = data;
	struct tracked *e = tracker_find(em->trk, key);

	return e ? late_names(e, em) : 0;
}

/* Write what the reader takes now.  Where no non-blocking way to the file
 * was found, the stop signals are let in around the write, which they
 * interrupt (no SA_RESTART); a signal that comes just before the write
 * waits for the reader there, the one case this cannot help. */
static int flush_out(struct emitter *em, const sigset_t *stops)
{
	bool let_in = output_may_block(em->out);
	sigset_t old;
	int rc;

	if (let_in)
		sigprocmask(SIG_UNBLOCK, stops, &old);
	rc = output_flush(em->out);
	if (let_in)
		sigprocmask(SIG_SETMASK, &old, NULL);
	if (rc < 0) {
		em->write_failed = true;
		em->write_errno = errno;
	}
	return rc;
}

/* ppoll() only delivers a pending signal when it would sleep; with a
 * descriptor always ready (a busy resolver, a flood of events) the signal
 * would wait forever, so take it by hand after each round. */
static void take_pending_signal(const sigset_t *stops)
{
	static const struct timespec zero = { 0, 0 };
	int sig = sigtimedwait(stops, NULL, &zero);

	if (sig == SIGHUP && hup_reopens)
		hup_signal = 1;
	else if (sig > 0)
		stop_signal = sig;
}

static int run_follow(struct emitter *em, const sigset_t *stops)
{
	size_t granted = 0;
	uint64_t next_interval, next_names = 0, next_expire = 0;
	bool names_pending = false;
	sigset_t empty;

	if (ctsource_events_open(em->src, em->o->bufsize, &granted) < 0)
		return -1;
	if (em->o->verbose)
		notice("event socket receive buffer %zu bytes", granted);
	if (em->o->kernel_filter) {
		struct nfct_filter *kf = filter_kernel_events(&em->o->filter);

		if (kf) {
			if (ctsource_events_filter(em->src, kf) < 0 && em->o->verbose)
				notice("kernel event filter not attached: %s",
					strerror(errno));
			nfct_filter_destroy(kf);
		}
	}
	/* records collect in the output's buffer, written once a round */
	writer_set_flush(em->w, false);
	if (start_dump(em, DUMP_SNAPSHOT) < 0 || next_dump_step(em) < 0)
		return -1;
	next_interval = mono_ms() + em->o->interval_ms;
	sigemptyset(&empty);

	while (!stop_signal && !em->write_failed) {
		struct pollfd pfd[4];
		int nfd = 0, timeout = -1, rc, err;
		uint64_t now = mono_ms();
		struct timespec ts, *tsp = NULL;
		bool backlog;

		if (flush_out(em, stops) < 0)
			break;
		/* a reader that does not keep up: wait for it, and only it */
		backlog = output_pending(em->out) > OUT_HIGH_WATER;
		if (!backlog) {
			pfd[nfd++] = (struct pollfd){ ctsource_event_fd(em->src), POLLIN, 0 };
			if (em->dumping)
				pfd[nfd++] = (struct pollfd){ ctsource_dump_fd(em->src), POLLIN, 0 };
			if (enrich_fd(em->enr) >= 0)
				pfd[nfd++] = (struct pollfd){ enrich_fd(em->enr), POLLIN, 0 };
		}
		/* a reader that went away shows as POLLERR on our end of the pipe,
		 * so a quiet table does not keep us running for nobody */
		pfd[nfd++] = (struct pollfd){ output_fd(em->out),
					      output_pending(em->out) ? POLLOUT : 0, 0 };
		if (backlog)
			goto wait;
		if (em->o->interval_ms && !em->dumping)
			timeout = now >= next_interval ? 0 : (int)(next_interval - now);
		if (names_pending) {
			int t = now >= next_names ? 0 : (int)(next_names - now);

			timeout = timeout < 0 || t < timeout ? t : timeout;
		}
		/* the resolver's own timeouts: a query given up, a retry */
		{
			int t = enrich_timeout_ms(em->enr);

			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
		}
		if (timeout >= 0) {
			ts.tv_sec = timeout / 1000;
			ts.tv_nsec = (long)(timeout % 1000) * 1000000;
			tsp = &ts;
		}
wait:
		/* signals are blocked outside ppoll, so none slips between
		 * checks; a stalled reader holds nothing but this ppoll */
		rc = ppoll(pfd, (nfds_t)nfd, tsp, &empty);
		err = errno;	/* sigtimedwait() below sets it too */
		take_pending_signal(stops);
		if (stop_signal)
			break;
		if (rc < 0) {
			/* SIGHUP with --output: the flush above opens the file anew */
			if (err == EINTR)
				continue;
			errno = err;
			return -1;
		}
		if (pfd[nfd - 1].revents & (POLLERR | POLLHUP)) {
			em->write_failed = true;
			em->write_errno = EPIPE;
			return 0;
		}
		if (backlog)
			continue;
		/* events first: they are the ones the kernel can drop; the
		 * tracker waits for the queue to be read empty before it takes
		 * a dump's word that a flow came or went without an event */
		now = mono_ms();
		if (ctsource_event_read(em->src, on_event, em) >= 0) {
			if (ctsource_events_drained(em->src))
				em->drained_ms = now;
		} else {
			if (errno != ENOBUFS)
				return -1;
			if (em->o->verbose)
				notice("event overrun, resynchronising");
			if (put_marker(em, FLOW_MARK_OVERRUN) < 0)
				return -1;
			if (em->dumping) {
				em->resync_pending = true;
			} else if (start_dump(em, DUMP_SNAPSHOT) < 0 || next_dump_step(em) < 0) {
				return -1;
			}
		}
		if (em->dumping) {
			/* a few dump buffers per round, then back to the events;
			 * fewer when the reader lags, so the output buffer (which
			 * keeps its largest size) stays near the high-water mark */
			for (int i = 0; i < 8 && em->dumping &&
			     output_pending(em->out) <= OUT_HIGH_WATER; i++) {
				rc = ctsource_dump_read(em->src, on_dump, em);
				if (rc < 0) {
					if (errno == EAGAIN || errno == EWOULDBLOCK)
						break;
					return -1;
				}
				if (rc == 0 && next_dump_step(em) < 0)
					return -1;
			}
		}
		if (enrich_fd(em->enr) >= 0) {
			bool walk_all = false;

			enrich_drain(em->enr);
			if (enrich_late_flows(em->enr, late_flow, em, &walk_all) < 0)
				return -1;
			/* an address more flows waited on than were remembered:
			 * one pass over the table, at most once a NAME_PASS_MS */
			if (walk_all && !names_pending) {
				names_pending = true;
				next_names = next_names > mono_ms() ? next_names : mono_ms();
			}
		}
		now = mono_ms();
		if (now >= next_expire) {
			struct tracker_now tn = tracker_clock(em);

			tracker_expire(em->trk, &tn);
			next_expire = now + EXPIRE_MS;
		}
		if (names_pending && now >= next_names) {
			names_pending = false;
			next_names = now + NAME_PASS_MS;
			if (tracker_each(em->trk, late_names, em) < 0)
				return -1;
		}
		/* the interval runs from the end of a dump, so a slow dump of a
		 * big table never runs back to back */
		if (em->o->interval_ms && !em->dumping)
			next_interval = em->dump_done_ms + em->o->interval_ms;
		if (em->o->interval_ms && !em->dumping && now >= next_interval) {
			if (start_dump(em, DUMP_INTERVAL) < 0 || next_dump_step(em) < 0)
				return -1;
		}
	}
	/* what the reader takes now; a stalled one does not hold the exit */
	if (!em->write_failed && !output_may_block(em->out))
		flush_out(em, stops);
	return 0;
}

/* --- main ------------------------------------------------------------------------- */

static void say_write_error(const struct opts *o, const struct output_reopen *r, int err)
{
	if (r->failed)
		notice_error("cannot open '%s' anew after SIGHUP: %s", o->output,
			strerror(err));
	else if (o->output)
		notice_error("cannot write to '%s': %s", o->output, strerror(err));
	else
		notice_error("cannot write to standard output: %s", strerror(err));
}

int main(int argc, char **argv)
{
	static struct opts o;
	static struct acct acct;
	FILE *once_out = NULL;		/* --once's stdout */
	struct output_reopen reopen = { 0 };
	int out_fd = STDOUT_FILENO;
	struct emitter em = { 0 };
	struct sigaction sa = { 0 };
	sigset_t block;
	int rc, status = 0, acct_on;

	/* a closed 0, 1 or 2 would be taken by our sockets, and records
	 * written into netlink: refuse a closed stdout, fill the others */
	if (fcntl(STDOUT_FILENO, F_GETFD) < 0) {
		if (fcntl(STDERR_FILENO, F_GETFD) >= 0)
			notice_error("cannot write to standard output: %s", strerror(errno));
		return 1;
	}
	for (int fd = 0; fd <= 2; fd += 2)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return 1;
	parse_args(argc, argv, &o);
	notice_set_quiet(o.quiet);
	hup_reopens = o.output != NULL;
	em.o = &o;
	acct_init(&acct);
	/* late names come through late_names(); only a process is worth
	 * looking for again on every refresh dump */
	if (o.enrich.process)
		em.want_flags |= TRACKED_PROCESS;

	/* a closed pipe shows up as EPIPE on write, handled like a quiet end */
	signal(SIGPIPE, SIG_IGN);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* without --output SIGHUP stops, as it always did (a terminal that
	 * went away); with it, it means "logrotate renamed the file" */
	if (hup_reopens)
		sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	if (!o.once)
		sigprocmask(SIG_BLOCK, &block, NULL);

	/* first, so that a wrong path costs nothing to undo */
	if (o.output) {
		out_fd = output_open_file(o.output);
		if (out_fd < 0) {
			notice_error("cannot open '%s': %s", o.output, strerror(errno));
			return 1;
		}
		reopen.path = o.output;
		reopen.hup = &hup_signal;
	}

	em.src = ctsource_new();
	if (!em.src) {
		notice_error("cannot open a netfilter netlink socket: %s", strerror(errno));
		return 1;
	}
	if (ctsource_probe(em.src) < 0) {
		notice_error("cannot read the connection tracking table: %s%s",
			strerror(errno), ctsource_is_eperm(errno) ?
			" (needs CAP_NET_ADMIN; run as root)" : "");
		ctsource_free(em.src);
		return 1;
	}
	/* a run killed with --accounting (kill -9 gives it no chance) left
	 * the settings on: put back what it found, and say so once */
	{
		struct acct_left left;
		char what[96] = "";
		int r = acct_recover(&left), e = errno;

		if (r != 0 && left.acct >= 0)
			snprintf(what, sizeof(what), "net.netfilter.nf_conntrack_acct=%d", left.acct);
		if (r != 0 && left.tstamp >= 0)
			snprintf(what + strlen(what), sizeof(what) - strlen(what),
				 "%snet.netfilter.nf_conntrack_timestamp=%d", *what ? " and " : "",
				 left.tstamp);
		if (r > 0 && *what)
			notice("restored %s, which run %ld changed and did not put back (it was "
			       "killed)", what, left.pid);
		else if (r < 0)
			notice_error("cannot restore %s, which run %ld changed and did "
				"not put back: %s", what, left.pid, strerror(e));
	}
	if (o.accounting && acct_enable(&acct) < 0) {
		notice_error("cannot turn on conntrack accounting: %s%s", strerror(errno),
			errno == EACCES || errno == EPERM || errno == EROFS ?
			" (needs CAP_NET_ADMIN; run as root)" : "");
		ctsource_free(em.src);
		return 1;
	}
	acct_on = acct_counters_on();
	if (acct_on == 0)
		notice("byte and packet counters are off (net.netfilter.nf_conntrack_acct=0); "
		       "--accounting turns them on for this run");

	if (!o.once)
		em.out = output_open(out_fd, o.output ? &reopen : NULL);
	else
		once_out = output_direct(out_fd, &stop_signal, o.output ? &reopen : NULL);
	if (once_out || em.out)
		em.w = writer_new(once_out ? once_out : output_stream(em.out), o.fmt,
				  o.nfields ? o.fields : NULL, o.nfields);
	if (em.w && o.no_header)
		writer_no_header(em.w);
	em.trk = tracker_new();
	em.enr = enrich_new(&o.enrich);
	if (!em.w || !em.trk || !em.enr) {
		notice_error("cannot start: %s", strerror(errno));
		status = 1;
		goto out;
	}
	rc = o.once ? run_once(&em, &block) : run_follow(&em, &block);
	if (rc < 0 && !em.write_failed) {
		if (ctsource_is_eperm(errno))
			notice_error("cannot read the connection tracking table: %s "
				"(needs CAP_NET_ADMIN; run as root)", strerror(errno));
		else
			notice_error("cannot read the connection tracking table: %s",
				strerror(errno));
		status = 1;
	}
out:
	/* after a stop signal, --once drops what a stalled reader has not
	 * taken rather than wait for it (the status says it was cut short) */
	if (stop_signal && once_out)
		__fpurge(once_out);
	if (once_out && !em.write_failed && (fflush(once_out) == EOF || ferror(once_out))) {
		em.write_failed = true;
		em.write_errno = errno;
	}
	/* a closed pipe (| head) is a normal end; so is a write that a stop
	 * signal interrupted */
	if (em.write_failed && em.write_errno != EPIPE &&
	    !(em.write_errno == EINTR && stop_signal)) {
		say_write_error(&o, &reopen, em.write_errno);
		status = 1;
	}
	if (acct_restore(&acct) < 0) {
		notice_error("cannot restore conntrack accounting settings: %s",
			strerror(errno));
		status = 1;
	}
	enrich_free(em.enr);
	tracker_free(em.trk);
	writer_free(em.w);
	output_close(em.out);
	if (once_out)
		fclose(once_out);	/* flushed above: errors are said */
	ctsource_free(em.src);
	if (fclose(stdout) == EOF && errno != EPIPE && !em.write_failed) {
		notice_error("cannot write to standard output: %s", strerror(errno));
		status = 1;
	}
	/* --once cut short by a signal wrote nothing or part of the table: a
	 * script must be able to tell that from an empty table */
	if (o.once && stop_signal && status == 0)
		status = 128 + stop_signal;
	return status;
}
