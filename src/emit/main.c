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
#include "netns.h"
#include "notice.h"
#include "output.h"
#include "num.h"
#include "once.h"
#include "follow.h"
#include "tracker.h"
#include "writer.h"

#define PROG NOTICE_PROG
#define DEFAULT_INTERVAL_MS 2000
#define MAX_INTERVAL_S 86400
#define DEFAULT_BUFFER (64u << 20)
#define DEFAULT_DNS_TIMEOUT_MS 2000
#define MAX_DNS_TIMEOUT_S 60	/* a --once that waits longer is a mistake */

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
	       "      --community-id-seed N\n"
	       "                          seed of network.community_id (0-65535, default 0)\n"
	       "      --no-process        no process and user\n"
	       "      --no-geoip          no GeoIP\n"
	       "      --geoip-db PATH     GeoIP database (.mmdb), repeatable\n"
	       "\n"
	       "Network namespaces:\n"
	       "      --netns SPEC        watch that namespace instead of this one: a name\n"
	       "                          in /run/netns, a path, or pid:PID (repeatable)\n"
	       "      --all-netns         watch every network namespace on the machine\n"
	       "      --netns-filter PAT  with --all-netns, only namespaces whose name,\n"
	       "                          container name or id, or inode PAT matches\n"
	       "                          (a glob; an id prefix of 12+; repeatable)\n"
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
	OPT_DNS_TIMEOUT, OPT_LIST_FIELDS, OPT_NO_KFILTER, OPT_NO_HEADER, OPT_COMMUNITY_SEED,
	OPT_NETNS, OPT_ALL_NETNS, OPT_NETNS_FILTER,
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
	{ "community-id-seed", required_argument, NULL, OPT_COMMUNITY_SEED },
	{ "no-process", no_argument, NULL, OPT_NO_PROCESS },
	{ "no-geoip", no_argument, NULL, OPT_NO_GEOIP },
	{ "geoip-db", required_argument, NULL, OPT_GEOIP_DB },
	{ "no-kernel-filter", no_argument, NULL, OPT_NO_KFILTER },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "all-netns", no_argument, NULL, OPT_ALL_NETNS },
	{ "netns-filter", required_argument, NULL, OPT_NETNS_FILTER },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "list-fields", optional_argument, NULL, OPT_LIST_FIELDS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

#define EVENTS_MARKERS ((1u << FLOW_MARK_SNAPSHOT_BEGIN) | (1u << FLOW_MARK_SNAPSHOT_END) | \
			(1u << FLOW_MARK_OVERRUN) | (1u << FLOW_MARK_REFRESH))
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

static void opts_init(struct emit_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->fmt = WRITER_JSON;
	o->interval_ms = DEFAULT_INTERVAL_MS;
	o->bufsize = DEFAULT_BUFFER;
	o->kernel_filter = true;
	o->events = EVENTS_ALL;
	filter_init(&o->filter);
	o->enrich.process = o->enrich.protocol = o->enrich.geoip = o->enrich.dns = true;
	o->enrich.community = o->enrich.host = o->enrich.direction = true;
	o->enrich.dns_timeout_ms = DEFAULT_DNS_TIMEOUT_MS;
}

/* An option of the mode and output group; false if c is not one. */
static bool take_output_option(struct emit_opts *o, int c, const char *arg)
{
	size_t bad;

	switch (c) {
	case '1':
		o->once = true;
		break;
	case 'f':
		if (!strcmp(arg, "json") || !strcmp(arg, "ndjson"))
			o->fmt = WRITER_JSON;
		else if (!strcmp(arg, "csv"))
			o->fmt = WRITER_CSV;
		else
			notice_usage("bad value for --format '%s': want json or csv", arg);
		break;
	case 'F':
		o->nfields = field_parse_list(arg, o->fields, 64, &bad);
		if (o->nfields < 0)
			notice_usage("unknown field in '%s' (see --list-fields)", arg + bad);
		break;
	case 'i':
		o->interval_ms = parse_interval(arg);
		break;
	case 'a':
		o->accounting = true;
		break;
	case 'b':
		o->bufsize = parse_size(arg);
		break;
	case 'o':
		if (!*arg)
			notice_usage("%s", "empty --output file name");
		o->output = arg;
		break;
	case 'e':
		o->events = parse_events(arg);
		break;
	case OPT_NO_HEADER:
		o->no_header = true;
		break;
	default:
		return false;
	}
	return true;
}

/* A filter option; false if c is not one.  -4 and -6 are checked
 * together at the end. */
static bool take_filter_option(struct emit_opts *o, int c, const char *arg)
{
	char err[256];
	int rc;

	switch (c) {
	case '4':
		o->filter.want_v6 = false;
		return true;
	case '6':
		o->filter.want_v4 = false;
		return true;
	case 'L':
		o->filter.no_loopback = true;
		return true;
	case OPT_NO_KFILTER:
		o->kernel_filter = false;
		return true;
	case 'p':
		rc = filter_add_protos(&o->filter, arg, err, sizeof(err));
		break;
	case 's':
		rc = filter_add_states(&o->filter, arg, err, sizeof(err));
		break;
	case OPT_SRC:
	case OPT_DST:
		rc = filter_add_nets(&o->filter, c == OPT_SRC, arg, err, sizeof(err));
		break;
	case 'P':
		rc = filter_add_ports(&o->filter, arg, err, sizeof(err));
		break;
	default:
		return false;
	}
	if (rc)
		notice_usage("%s", err);
	return true;
}

/* An enrichment option; false if c is not one. */
static bool take_enrich_option(struct emit_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'n':
		o->enrich.dns = false;
		break;
	case OPT_DNS_TIMEOUT:
		if (num_parse_ms(arg, MAX_DNS_TIMEOUT_S, &o->enrich.dns_timeout_ms) < 0)
			notice_usage("bad value for --dns-timeout '%s': want seconds from 0 to 60",
				     arg);
		break;
	case OPT_COMMUNITY_SEED: {
		unsigned long long seed;

		if (num_parse_uint(arg, 0, 65535, 0, &seed) < 0)
			notice_usage("bad value for --community-id-seed '%s': want 0 to 65535", arg);
		o->enrich.community_seed = (uint16_t)seed;
		break;
	}
	case OPT_NO_PROCESS:
		o->enrich.process = false;
		break;
	case OPT_NO_GEOIP:
		o->enrich.geoip = false;
		break;
	case OPT_GEOIP_DB:
		if (o->enrich.n_geoip_db == ENRICH_MAX_DB)
			notice_usage("too many --geoip-db (at most %d)", ENRICH_MAX_DB);
		o->enrich.geoip_db[o->enrich.n_geoip_db++] = arg;
		break;
	default:
		return false;
	}
	return true;
}

/* The options that say something and end the program, and the ones about
 * the program's own talk; false if c is not one. */
static bool take_program_option(struct emit_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'v':
		o->verbose++;
		return true;
	case 'q':
		o->quiet = true;
		return true;
	case OPT_LIST_FIELDS:
		list_fields(arg);
		break;
	case 'h':
		usage();
		break;
	case 'V':
		printf(PROG " " FLOWTOP_VERSION "\n");
		break;
	default:
		return false;
	}
	exit(fclose(stdout) ? 1 : 0);
}

/* Appends arg (argv's strings live as long as the program) to the list of
 * a repeatable option; out of memory ends the program, as usage does. */
static void keep_arg(const char ***list, size_t *n, const char *opt, const char *arg)
{
	const char **v = realloc(*list, (*n + 1) * sizeof(*v));

	if (!v) {
		notice_error("cannot keep %s '%s': %s", opt, arg, strerror(errno));
		exit(1);
	}
	v[(*n)++] = arg;
	*list = v;
}

/* --netns and --all-netns; false if c is neither. */
static bool take_netns_option(struct emit_opts *o, int c, const char *arg)
{
	unsigned long long pid;

	if (c == OPT_ALL_NETNS) {
		o->all_netns = true;
		return true;
	}
	if (c == OPT_NETNS_FILTER) {
		if (!*arg)
			notice_usage("%s", "bad value for --netns-filter '': want a pattern");
		keep_arg(&o->netns_filter, &o->n_netns_filter, "--netns-filter", arg);
		return true;
	}
	if (c != OPT_NETNS)
		return false;
	if (!strncmp(arg, "pid:", 4) && num_parse_uint(arg + 4, 1, UINT32_MAX, 0, &pid) < 0)
		notice_usage("bad value for --netns '%s': want pid:PID with a process id", arg);
	if (!*arg)
		notice_usage("%s", "bad value for --netns '': want a name, a path or pid:PID");
	keep_arg(&o->netns, &o->n_netns, "--netns", arg);
	return true;
}

/* Whether --fields writes a field whose name starts with one of the
 * prefixes (a NULL-ended list). */
static bool writes_any(const struct emit_opts *o, const char *const *prefixes)
{
	for (int i = 0; i < o->nfields; i++)
		for (const char *const *p = prefixes; *p; p++)
			if (!strncmp(field_table[o->fields[i]].name, *p, strlen(*p)))
				return true;
	return false;
}

/* With --fields, what no written field shows is not looked up at all: the
 * front door asks for the view's few fields, and at a million flows the
 * Community ID's SHA-1 alone costs a third of a second, the socket and
 * process scans more; no filter reads an enriched field. */
static void enrich_only_written(struct emit_opts *o)
{
	static const char *const process[] = { "process.", "user.", NULL };
	static const char *const protocol[] = { "network.protocol", NULL };
	static const char *const geo[] = {
		"source.geo.", "destination.geo.", "source.as.", "destination.as.", NULL
	};
	static const char *const dns[] = { "source.domain", "destination.domain", NULL };
	static const char *const community[] = { "network.community_id", NULL };
	static const char *const host[] = { "host.", NULL };
	static const char *const direction[] = { "network.direction", NULL };
	struct enrich_opts *e = &o->enrich;

	if (!o->nfields)
		return;
	e->process = e->process && writes_any(o, process);
	e->protocol = e->protocol && writes_any(o, protocol);
	e->geoip = e->geoip && writes_any(o, geo);
	e->dns = e->dns && writes_any(o, dns);
	e->community = writes_any(o, community);
	e->host = writes_any(o, host);
	e->direction = writes_any(o, direction);
}

/* A new option: a row in long_opts (and its letter here, if it has one),
 * and a case in the take_*_option() of its group. */
static void parse_args(int argc, char **argv, struct emit_opts *o)
{
	int c;

	opts_init(o);
	/* getopt prefixes its own complaints with argv[0]: the program's
	 * name, not the path it was started by, like every other message */
	argv[0] = (char *)PROG;
	while ((c = getopt_long(argc, argv, "1f:F:i:ab:o:e:46p:s:P:LnvqhV", long_opts, NULL)) != -1)
		if (!take_output_option(o, c, optarg) && !take_filter_option(o, c, optarg) &&
		    !take_enrich_option(o, c, optarg) && !take_program_option(o, c, optarg) &&
		    !take_netns_option(o, c, optarg))
			notice_usage_hint();
	if (optind < argc)
		notice_usage("unexpected argument '%s'", argv[optind]);
	if (!o->filter.want_v4 && !o->filter.want_v6)
		notice_usage("%s", "-4 and -6 exclude each other");
	/* a JSON line carries its own names: a header to leave out is
	 * something the user took for CSV, better said than ignored */
	if (o->no_header && o->fmt != WRITER_CSV)
		notice_usage("%s", "--no-header needs --format csv");
	if (o->quiet && o->verbose)
		notice_usage("%s", "--quiet and --verbose exclude each other");
	if (o->n_netns && o->all_netns)
		notice_usage("%s", "--netns and --all-netns exclude each other");
	if (o->n_netns_filter && !o->all_netns)
		notice_usage("%s", "--netns-filter needs --all-netns");
	/* the sysctls are each namespace's own: only ours would change */
	if (o->accounting && (o->n_netns || o->all_netns))
		notice_usage("%s", "--accounting cannot be combined with --netns or --all-netns");
	enrich_only_written(o);
	o->enrich.verbose = o->verbose;
	/* follow mode writes an update when a name arrives; --once waits */
	o->enrich.late_names = !o->once;
}

/* --- main ------------------------------------------------------------------------- */

static void say_write_error(const struct emit_opts *o, const struct output_reopen *r, int err)
{
	if (r->failed)
		notice_error("cannot open '%s' anew after SIGHUP: %s", o->output,
			strerror(err));
	else if (o->output)
		notice_error("cannot write to '%s': %s", o->output, strerror(err));
	else
		notice_error("cannot write to standard output: %s", strerror(err));
}

/* A closed 0, 1 or 2 would be taken by our sockets, and records written
 * into netlink: refuse a closed stdout, fill the others.  0 or -1. */
static int std_fds_check(void)
{
	if (fcntl(STDOUT_FILENO, F_GETFD) < 0) {
		if (fcntl(STDERR_FILENO, F_GETFD) >= 0)
			notice_error("cannot write to standard output: %s", strerror(errno));
		return -1;
	}
	for (int fd = 0; fd <= 2; fd += 2)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return -1;
	return 0;
}

/* SIGINT and SIGTERM stop; SIGHUP stops too, or with --output asks for
 * the file anew.  Follow mode keeps them blocked but in its ppoll. */
static void signals_install(const struct emit_opts *o, sigset_t *block)
{
	struct sigaction sa = { 0 };

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
	sigemptyset(block);
	sigaddset(block, SIGINT);
	sigaddset(block, SIGTERM);
	sigaddset(block, SIGHUP);
	if (!o->once)
		sigprocmask(SIG_BLOCK, block, NULL);
}

/* A run killed with --accounting (kill -9 gives it no chance) left the
 * settings on: put back what it found, and say so once. */
static void acct_recover_left(void)
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

/* The kernel side: the socket, a probe that shows a missing privilege
 * before anything else is set up, the accounting settings.  0 or -1,
 * said. */
static int kernel_open(struct emitter *em, struct acct *acct)
{
	const struct emit_opts *o = em->o;

	if (o->n_netns || o->all_netns) {
		struct netns_watch_opts wo = { !o->once, o->bufsize, NULL, o->enrich.process };

		em->ns = netns_watch_start(o->netns, o->n_netns, o->all_netns, o->netns_filter,
					   o->n_netns_filter, &wo, &em->nns);
		return em->ns ? 0 : -1;
	}
	em->src = ctsource_new();
	if (!em->src) {
		notice_error("cannot open a netfilter netlink socket: %s", strerror(errno));
		return -1;
	}
	if (ctsource_probe(em->src) < 0)
		return emitter_fail(em, "cannot read the connection tracking table");
	acct_recover_left();
	if (em->o->accounting && acct_enable(acct) < 0) {
		notice_error("cannot turn on conntrack accounting: %s%s", strerror(errno),
			     errno == EACCES || errno == EPERM || errno == EROFS ?
			     " (needs CAP_NET_ADMIN; run as root)" : "");
		return -1;
	}
	if (acct_counters_on() == 0)
		notice("byte and packet counters are off (net.netfilter.nf_conntrack_acct=0); "
		       "--accounting turns them on for this run");
	return 0;
}

/* The writer on its stream (follow mode: the output's buffer; --once: a
 * direct stream, *once_out), the tracker and the enrichers.  0 or -1,
 * said. */
static int modules_open(struct emitter *em, int out_fd, struct output_reopen *reopen,
			FILE **once_out)
{
	const struct emit_opts *o = em->o;
	struct output_reopen *r = o->output ? reopen : NULL;

	if (!o->once)
		em->out = output_open(out_fd, r);
	else
		*once_out = output_direct(out_fd, em->stop, r);
	if (*once_out || em->out)
		em->w = writer_new(*once_out ? *once_out : output_stream(em->out), o->fmt,
				   o->nfields ? o->fields : NULL, o->nfields);
	if (em->w && o->no_header)
		writer_no_header(em->w);
	if (!o->once)
		em->trk = tracker_new();
	em->enr = enrich_new(&o->enrich);
	if (!em->w || (!o->once && !em->trk) || !em->enr) {
		notice_error("cannot set up the writer, the flow table or enrichment: %s",
			     strerror(errno));
		return -1;
	}
	return 0;
}

/* The end of a run: what a failed write means, the settings put back,
 * everything closed.  Returns the exit status, given status so far. */
static int run_end(struct emitter *em, struct acct *acct, const struct output_reopen *reopen,
		   FILE *once_out, int status)
{
	/* after a stop signal, --once drops what a stalled reader has not
	 * taken rather than wait for it (the status says it was cut short) */
	if (stop_signal && once_out)
		__fpurge(once_out);
	if (once_out && !em->write_failed && (fflush(once_out) == EOF || ferror(once_out))) {
		em->write_failed = true;
		em->write_errno = errno;
	}
	/* a closed pipe (| head) is a normal end; so is a write that a stop
	 * signal interrupted */
	if (em->write_failed && em->write_errno != EPIPE &&
	    !(em->write_errno == EINTR && stop_signal)) {
		say_write_error(em->o, reopen, em->write_errno);
		status = 1;
	}
	if (acct_restore(acct) < 0) {
		notice_error("cannot restore conntrack accounting settings: %s",
			     strerror(errno));
		status = 1;
	}
	enrich_free(em->enr);
	tracker_free(em->trk);
	writer_free(em->w);
	output_close(em->out);
	if (once_out)
		fclose(once_out);	/* flushed above: errors are said */
	ctsource_free(em->src);
	netns_watch_free(em->ns, em->nns);
	if (fclose(stdout) == EOF && errno != EPIPE && !em->write_failed) {
		notice_error("cannot write to standard output: %s", strerror(errno));
		status = 1;
	}
	/* --once cut short by a signal wrote nothing or part of the table: a
	 * script must be able to tell that from an empty table */
	if (em->o->once && stop_signal && status == 0)
		status = 128 + stop_signal;
	return status;
}

int main(int argc, char **argv)
{
	static struct emit_opts o;
	static struct acct acct;
	FILE *once_out = NULL;		/* --once's stdout */
	struct output_reopen reopen = { 0 };
	int out_fd = STDOUT_FILENO;
	struct emitter em = { .o = &o, .stop = &stop_signal, .hup = &hup_signal };
	sigset_t block;
	int rc;

	if (std_fds_check() < 0)
		return 1;
	parse_args(argc, argv, &o);
	notice_set_quiet(o.quiet);
	hup_reopens = em.hup_reopens = o.output != NULL;
	acct_init(&acct);
	signals_install(&o, &block);
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
	if (kernel_open(&em, &acct) < 0 || modules_open(&em, out_fd, &reopen, &once_out) < 0)
		return run_end(&em, &acct, &reopen, once_out, 1);
	rc = o.once ? once_run(&em, &block) : follow_run(&em, &block);
	/* a failure was said where it happened; a failed write is said here */
	return run_end(&em, &acct, &reopen, once_out, rc < 0 && !em.write_failed ? 1 : 0);
}
