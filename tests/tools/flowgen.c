/* flowgen - fills a network namespace's conntrack table fast, for the
 * end-to-end tests and the benchmark.  A stand-alone tool: it owns nothing
 * that the programs share, and is meant to run inside a test namespace.
 *
 *   flowgen inject N [--family 4|6|both] [--proto tcp|udp|mix]
 *                    [--offset K] [--timeout SEC] [--dst A.B.C.D/LEN]
 *       N conntrack entries created over ctnetlink (IPCTNL_MSG_CT_NEW),
 *       hundreds of messages a sendmsg; no packet is sent.  IPv4
 *       destinations cycle through the RFC 5737 networks, or through
 *       every address of --dst (e.g. a GeoIP fixture's networks).
 *   flowgen burst N [--port P]
 *       N UDP datagrams, each from its own 127.x.y.z source address, to
 *       127.0.0.1:P on the loopback, as fast as the kernel takes them, so
 *       that conntrack sees N new flows (the namespace needs a rule that
 *       asks for tracking).
 *
 * Tuples are a pure function of the index, so runs with different --offset
 * never collide and a test can predict every address it will see.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

/* One sendmsg carries about this many bytes of requests: large enough that
 * the per-syscall cost vanishes, well under the default socket send buffer
 * (netlink refuses a message larger than sk_sndbuf). */
#define BATCH_BYTES (64 * 1024)
#define BURST_BATCH 512

/* Service ports spread over the entries, so that protocol guessing and the
 * view's columns see a realistic mix rather than one port. */
static const uint16_t dports[] = { 443, 80, 22, 53, 993, 25, 8080, 123, 3306, 5432, 51413 };
#define N_DPORTS (sizeof(dports) / sizeof(dports[0]))

/* RFC 5737 documentation networks: what GeoIP fixtures are built over. */
static const uint32_t doc_nets[] = { 0xc0000200, 0xc6336400, 0xcb007100 };

struct inject_opts {
	unsigned long n;
	unsigned long offset;
	int family;		/* 4, 6, or 0 for both */
	int proto;		/* IPPROTO_TCP, IPPROTO_UDP, or 0 for a mix */
	uint32_t timeout;
	uint32_t dst_base;	/* host order; dst_size 0: documentation nets */
	uint32_t dst_size;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: flowgen inject N [--family 4|6|both] [--proto tcp|udp|mix] [--offset K] [--timeout SEC]\n"
		"                        [--dst A.B.C.D/LEN]\n"
		"       flowgen burst N [--port P]\n");
}

static int parse_count(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return (errno || end == s || *end || s[0] == '-') ? -1 : 0;
}

static int parse_cidr4(const char *s, uint32_t *base, uint32_t *size)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	unsigned long len;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return -1;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (inet_pton(AF_INET, addr, &a) != 1 || parse_count(slash + 1, &len) < 0 || len < 8 || len > 32)
		return -1;
	*size = (uint32_t)1 << (32 - len);
	*base = ntohl(a.s_addr) & ~(*size - 1);
	return 0;
}

/* Entry i's family and transport: "both" and "mix" alternate on different
 * bits of the index so that every combination occurs. */
static int entry_family(const struct inject_opts *o, unsigned long i)
{
	return o->family ? o->family : (i & 1) ? 6 : 4;
}

static int entry_proto(const struct inject_opts *o, unsigned long i)
{
	return o->proto ? o->proto : ((i >> 1) & 1) ? IPPROTO_UDP : IPPROTO_TCP;
}

static struct nf_conntrack *template_new(int family, int proto, uint32_t timeout)
{
	struct nf_conntrack *ct = nfct_new();

	if (!ct)
		return NULL;
	nfct_set_attr_u8(ct, ATTR_L3PROTO, family == 6 ? AF_INET6 : AF_INET);
	nfct_set_attr_u8(ct, ATTR_L4PROTO, proto);
	if (proto == IPPROTO_TCP)
		nfct_set_attr_u8(ct, ATTR_TCP_STATE, TCP_CONNTRACK_ESTABLISHED);
	/* assured entries are never early-dropped when the table gets full */
	nfct_set_attr_u32(ct, ATTR_STATUS, IPS_SEEN_REPLY | IPS_ASSURED);
	nfct_set_attr_u32(ct, ATTR_TIMEOUT, timeout);
	return ct;
}

/* Fill the original tuple of entry i; (source address, source port) is
 * injective in i, which keeps every tuple distinct. */
static void tuple_set(struct nf_conntrack *ct, const struct inject_opts *o, int family,
		      unsigned long i)
{
	uint16_t sport = (uint16_t)(32768 + (i & 15));
	uint16_t dport = dports[i % N_DPORTS];

	if (family == 4) {
		/* 10.0.1.0 upwards: 2^24 addresses x 16 ports */
		uint32_t src = 0x0a000100u + (uint32_t)(i >> 4);
		uint32_t dst = o->dst_size ? o->dst_base + (uint32_t)(i % o->dst_size)
					   : doc_nets[i % 3] | (uint32_t)(1 + (i / 3) % 254);

		nfct_set_attr_u32(ct, ATTR_IPV4_SRC, htonl(src));
		nfct_set_attr_u32(ct, ATTR_IPV4_DST, htonl(dst));
	} else {
		/* fd00::/64 unique local sources, 2001:db8::/32 destinations */
		struct in6_addr src = { 0 }, dst = { 0 };
		uint32_t hi = htonl((uint32_t)(i >> 32 >> 4)), lo = htonl((uint32_t)(i >> 4));
		uint16_t sub = htons((uint16_t)(i % 4093));

		src.s6_addr[0] = 0xfd;
		memcpy(&src.s6_addr[8], &hi, 4);
		memcpy(&src.s6_addr[12], &lo, 4);
		dst.s6_addr[0] = 0x20;
		dst.s6_addr[1] = 0x01;
		dst.s6_addr[2] = 0x0d;
		dst.s6_addr[3] = 0xb8;
		memcpy(&dst.s6_addr[4], &sub, 2);
		dst.s6_addr[15] = (uint8_t)(1 + i % 250);
		nfct_set_attr(ct, ATTR_IPV6_SRC, &src);
		nfct_set_attr(ct, ATTR_IPV6_DST, &dst);
	}
	nfct_set_attr_u16(ct, ATTR_PORT_SRC, htons(sport));
	nfct_set_attr_u16(ct, ATTR_PORT_DST, htons(dport));
	nfct_setobjopt(ct, NFCT_SOPT_SETUP_REPLY);
}

struct err_count {
	unsigned long errors;
	int first;		/* errno of the first failure */
	int lost;		/* error reports dropped by our own socket */
};

/* The kernel answers only failures (no NLM_F_ACK), and it has processed a
 * whole sendmsg before the call returns, so draining without waiting after
 * each batch sees every answer. */
static void errors_drain(struct mnl_socket *nl, struct err_count *ec)
{
	static char buf[1 << 16];

	for (;;) {
		ssize_t len = recv(mnl_socket_get_fd(nl), buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *nlh;
		int rem;

		if (len < 0) {
			if (errno == ENOBUFS) {
				ec->lost = 1;
				continue;
			}
			return;
		}
		rem = (int)len;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error) {
				if (!ec->errors)
					ec->first = -e->error;
				ec->errors++;
			}
		}
	}
}

static int batch_send(struct mnl_socket *nl, struct mnl_nlmsg_batch *b, struct err_count *ec)
{
	size_t len = mnl_nlmsg_batch_size(b);

	if (len && mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b), len) < 0) {
		fprintf(stderr, "flowgen: cannot send to ctnetlink: %s\n", strerror(errno));
		return -1;
	}
	errors_drain(nl, ec);
	return 0;
}

static int inject(const struct inject_opts *o)
{
	static char buf[2 * BATCH_BYTES];	/* the last message may overrun the limit */
	struct nf_conntrack *tmpl[2][2];	/* [v6][udp] */
	struct err_count ec = { 0, 0, 0 };
	struct mnl_nlmsg_batch *b;
	struct mnl_socket *nl;
	int rcvbuf = 8 << 20, one = 1, rc = 0;
	double t0;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, "flowgen: cannot open ctnetlink: %s\n", strerror(errno));
		return 1;
	}
	/* failures echo only their header, so the error queue stays small */
	setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	for (int f = 0; f < 2; f++)
		for (int p = 0; p < 2; p++) {
			tmpl[f][p] = template_new(f ? 6 : 4, p ? IPPROTO_UDP : IPPROTO_TCP, o->timeout);
			if (!tmpl[f][p]) {
				fprintf(stderr, "flowgen: out of memory\n");
				return 1;
			}
		}

	t0 = now();
	b = mnl_nlmsg_batch_start(buf, BATCH_BYTES);
	for (unsigned long k = 0; k < o->n; k++) {
		unsigned long i = o->offset + k;
		int fam = entry_family(o, i), proto = entry_proto(o, i);
		struct nf_conntrack *ct = tmpl[fam == 6][proto == IPPROTO_UDP];
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(b));
		struct nfgenmsg *nfh;

		nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
		/* EXCL: a tuple that already exists is a bug worth hearing of */
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
		nlh->nlmsg_seq = (uint32_t)k + 1;
		nfh = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfh));
		nfh->nfgen_family = fam == 6 ? AF_INET6 : AF_INET;
		nfh->version = NFNETLINK_V0;
		nfh->res_id = 0;
		tuple_set(ct, o, fam, i);
		if (nfct_nlmsg_build(nlh, ct) < 0) {
			fprintf(stderr, "flowgen: cannot build entry %lu: %s\n", i, strerror(errno));
			rc = 1;
			break;
		}
		if (!mnl_nlmsg_batch_next(b)) {
			/* the message just built did not fit; it moves to the
			 * head of the next batch on reset */
			if (batch_send(nl, b, &ec) < 0) {
				rc = 1;
				break;
			}
			mnl_nlmsg_batch_reset(b);
		}
	}
	if (!rc && batch_send(nl, b, &ec) < 0)
		rc = 1;
	mnl_nlmsg_batch_stop(b);

	fprintf(stderr, "flowgen: %lu entries requested in %.3f s, %lu refused%s%s%s\n",
		o->n, now() - t0, ec.errors, ec.errors ? " (first: " : "",
		ec.errors ? strerror(ec.first) : "", ec.errors ? ")" : "");
	if (ec.lost)
		fprintf(stderr, "flowgen: some error reports were lost; the count is a lower bound\n");
	if (ec.errors || ec.lost)
		rc = 1;
	for (int f = 0; f < 2; f++)
		for (int p = 0; p < 2; p++)
			nfct_destroy(tmpl[f][p]);
	mnl_socket_close(nl);
	return rc;
}

/* One socket sends every datagram; IP_PKTINFO picks each one's source
 * address, so N datagrams make N distinct tuples without N sockets. */
static int burst(unsigned long n, uint16_t port)
{
	static struct mmsghdr msgs[BURST_BATCH];
	static struct iovec iov[BURST_BATCH];
	static char cbuf[BURST_BATCH][CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in any = { .sin_family = AF_INET };
	int rx, tx, small = 4096;
	unsigned long sent = 0;
	char payload = 'x';
	double t0, dt;

	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* A bound receiver keeps the kernel from answering every datagram with
	 * an ICMP error; it never reads, the datagrams are dropped at its
	 * queue after conntrack has confirmed them. */
	rx = socket(AF_INET, SOCK_DGRAM, 0);
	if (rx < 0 || bind(rx, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
		fprintf(stderr, "flowgen: cannot bind 127.0.0.1:%u: %s\n", port, strerror(errno));
		return 1;
	}
	setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	if (tx < 0 || bind(tx, (struct sockaddr *)&any, sizeof(any)) < 0) {
		fprintf(stderr, "flowgen: cannot open a udp socket: %s\n", strerror(errno));
		return 1;
	}

	for (int k = 0; k < BURST_BATCH; k++) {
		struct cmsghdr *c;

		iov[k].iov_base = &payload;
		iov[k].iov_len = 1;
		msgs[k].msg_hdr.msg_name = &dst;
		msgs[k].msg_hdr.msg_namelen = sizeof(dst);
		msgs[k].msg_hdr.msg_iov = &iov[k];
		msgs[k].msg_hdr.msg_iovlen = 1;
		msgs[k].msg_hdr.msg_control = cbuf[k];
		msgs[k].msg_hdr.msg_controllen = sizeof(cbuf[k]);
		c = CMSG_FIRSTHDR(&msgs[k].msg_hdr);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
	}

	t0 = now();
	while (sent < n) {
		unsigned int cnt = n - sent < BURST_BATCH ? (unsigned int)(n - sent) : BURST_BATCH;
		int r;

		for (unsigned int k = 0; k < cnt; k++) {
			struct in_pktinfo pi = { 0 };
			/* 127.1.0.1 upwards; the whole of 127/8 is local on lo */
			uint32_t src = 0x7f010001u + (uint32_t)(sent + k);

			pi.ipi_spec_dst.s_addr = htonl(src);
			memcpy(CMSG_DATA(CMSG_FIRSTHDR(&msgs[k].msg_hdr)), &pi, sizeof(pi));
		}
		r = sendmmsg(tx, msgs, cnt, 0);
		if (r < 0) {
			if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)
				continue;
			fprintf(stderr, "flowgen: cannot send: %s\n", strerror(errno));
			return 1;
		}
		sent += (unsigned long)r;
	}
	dt = now() - t0;
	fprintf(stderr, "flowgen: %lu datagrams from %lu source addresses in %.3f s (%.0f/s)\n",
		sent, sent, dt, dt > 0 ? sent / dt : 0.0);
	close(tx);
	close(rx);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "family", required_argument, NULL, 'f' },
		{ "proto", required_argument, NULL, 'p' },
		{ "offset", required_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, 't' },
		{ "port", required_argument, NULL, 'P' },
		{ "dst", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct inject_opts o = { .family = 4, .proto = IPPROTO_TCP, .timeout = 86400 };
	unsigned long port = 9999, v;
	const char *cmd;
	int c;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	if (argc < 3 || parse_count(argv[2], &o.n) < 0) {
		usage(stderr);
		return 2;
	}
	optind = 3;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "4"))
				o.family = 4;
			else if (!strcmp(optarg, "6"))
				o.family = 6;
			else if (!strcmp(optarg, "both"))
				o.family = 0;
			else
				goto bad;
			break;
		case 'p':
			if (!strcmp(optarg, "tcp"))
				o.proto = IPPROTO_TCP;
			else if (!strcmp(optarg, "udp"))
				o.proto = IPPROTO_UDP;
			else if (!strcmp(optarg, "mix"))
				o.proto = 0;
			else
				goto bad;
			break;
		case 'o':
			if (parse_count(optarg, &o.offset) < 0)
				goto bad;
			break;
		case 't':
			if (parse_count(optarg, &v) < 0 || v == 0 || v > UINT32_MAX)
				goto bad;
			o.timeout = (uint32_t)v;
			break;
		case 'P':
			if (parse_count(optarg, &port) < 0 || port == 0 || port > 65535)
				goto bad;
			break;
		case 'd':
			if (parse_cidr4(optarg, &o.dst_base, &o.dst_size) < 0)
				goto bad;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;

	if (!strcmp(cmd, "inject")) {
		if (o.offset + o.n > (1ul << 28)) {
			fprintf(stderr, "flowgen: too many entries \"%lu\"\n", o.offset + o.n);
			return 2;
		}
		return inject(&o);
	}
	if (!strcmp(cmd, "burst")) {
		if (o.n > 0xfe0000ul) {
			fprintf(stderr, "flowgen: too many datagrams \"%lu\"\n", o.n);
			return 2;
		}
		return burst(o.n, (uint16_t)port);
	}
bad:
	usage(stderr);
	return 2;
}
