/*
 * service.c - network.protocol from the ports: the server-port rule, the
 * built-in names, /etc/services-style files, and the names ECS means.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "service.h"
#include "tap.h"

int main(void)
{
	char path[] = "/tmp/flowtop-services.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	struct service *s, *sys;

	if (!f)
		return 1;
	fputs("# comment line\n"
	      "MyProto\t\t40001/tcp\t\tmyalias   # upper case in the file\n"
	      "notssh 22/tcp\n"
	      "dgram 40002/udp\n"
	      "domain 40003/tcp\n"
	      "WWW 40004/tcp\n"
	      "xmpp-server 40005/tcp\n"
	      "bootpc 40006/udp\n"
	      "broken 70000/tcp\n"
	      "nonumber abc/tcp\n", f);
	fclose(f);
	s = service_new(path);
	ok(s != NULL, "service_new");

	/* the rule: the port of the lower class, the destination in a tie */
	ok(service_server_port(IPPROTO_TCP, 51000, 22) == 22, "client -> 22: server port 22");
	ok(service_server_port(IPPROTO_TCP, 22, 51000) == 22, "22 -> client: server port 22");
	ok(service_server_port(IPPROTO_TCP, 40000, 3306) == 3306, "both registered: destination");
	ok(service_server_port(IPPROTO_TCP, 3306, 40000) == 40000, "both registered, reversed: destination");
	ok(service_server_port(IPPROTO_TCP, 80, 443) == 443, "both well-known: destination");
	ok(service_server_port(IPPROTO_UDP, 60000, 50000) == 50000, "both dynamic: destination");
	ok(service_server_port(IPPROTO_ICMP, 0, 0) == 0, "icmp has no server port");

	is_str(service_lookup(s, IPPROTO_TCP, 51000, 22), "ssh", "tcp 51000 -> 22 is ssh");
	is_str(service_lookup(s, IPPROTO_TCP, 22, 51000), "ssh", "tcp 22 -> 51000 is ssh");
	is_str(service_lookup(s, IPPROTO_UDP, 40000, 53), "dns", "udp 40000 -> 53 is dns");
	is_str(service_lookup(s, IPPROTO_UDP, 53, 40000), "dns", "udp 53 -> 40000 is dns");
	is_str(service_lookup(s, IPPROTO_TCP, 53, 60000), "dns", "tcp 53 -> 60000 is dns");
	is_str(service_lookup(s, IPPROTO_TCP, 50123, 443), "https", "tcp 50123 -> 443 is https");
	is_str(service_lookup(s, IPPROTO_TCP, 443, 50123), "https", "tcp 443 -> 50123 is https");
	is_str(service_lookup(s, IPPROTO_UDP, 50123, 443), "quic", "udp 443 is quic (http/3)");
	is_str(service_lookup(s, IPPROTO_UDPLITE, 50123, 53), "dns", "udplite uses the udp names");
	is_str(service_lookup(s, IPPROTO_SCTP, 50123, 80), "http", "sctp uses the tcp names");
	is_str(service_lookup(s, IPPROTO_TCP, 50000, 50001), NULL, "unknown high ports: none");
	is_str(service_lookup(s, IPPROTO_TCP, 61000, 65000), NULL, "unknown dynamic ports: none");
	is_str(service_lookup(s, IPPROTO_ICMP, 0, 0), NULL, "icmp: none");
	is_str(service_lookup(s, IPPROTO_TCP, 0, 0), NULL, "port 0: none");
	is_str(service_lookup(s, IPPROTO_TCP, 80, 443), "https", "80 -> 443: the destination");
	is_str(service_lookup(s, IPPROTO_UDP, 5353, 41000), "mdns",
	       "server port without a name: the other side's name");
	is_str(service_lookup(s, IPPROTO_TCP, 51000, 40001), "myproto",
	       "a name from the services file, lowercased");
	is_str(service_lookup(s, IPPROTO_UDP, 51000, 40001), NULL, "the file's tcp name is not udp's");
	is_str(service_lookup(s, IPPROTO_UDP, 51000, 40002), "dgram", "the file's udp name");
	is_str(service_port_name(s, IPPROTO_TCP, 22), "ssh", "the built-in name wins over the file");
	is_str(service_lookup(s, IPPROTO_TCP, 3306, 41000), "mysql", "registered beats nothing");
	/* IANA names become the names ECS means, from the file too (and the
	 * first, the middle and the last of the renaming table are found) */
	is_str(service_lookup(s, IPPROTO_TCP, 51000, 40003), "dns", "the file's 'domain' is dns");
	is_str(service_lookup(s, IPPROTO_TCP, 51000, 40004), "http", "the file's 'WWW' is http");
	is_str(service_lookup(s, IPPROTO_TCP, 51000, 40005), "xmpp", "the file's 'xmpp-server' is xmpp");
	is_str(service_lookup(s, IPPROTO_UDP, 51000, 40006), "dhcp", "the file's 'bootpc' is dhcp");
	is_str(service_lookup(s, IPPROTO_UDP, 68, 67), "dhcp", "67/udp is dhcp");
	is_str(service_lookup(s, IPPROTO_TCP, 51000, 8080), "http", "8080 is http, not http-alt");
	is_str(service_lookup(s, IPPROTO_TCP, 51000, 445), "smb", "445 is smb");
	is_str(service_lookup(s, IPPROTO_TCP, 51000, 3389), "rdp", "3389 is rdp");
	is_str(service_lookup(s, IPPROTO_TCP, 51000, 853), "dns", "853 (dns over tls) is dns");
	is_str(service_lookup(s, IPPROTO_TCP, 51000, 587), "smtp", "587 is smtp");
	is_str(service_lookup(s, IPPROTO_TCP, 51000, 443), "https", "443/tcp stays https");
	is_str(service_lookup(s, IPPROTO_TCP, 51000, 22), "ssh", "ssh stays ssh");
	service_free(s);
	unlink(path);

	sys = service_new("/nonexistent/services");
	is_str(service_lookup(sys, IPPROTO_TCP, 40000, 5432), "postgresql",
	       "built-in table without any file");
	is_str(service_lookup(sys, IPPROTO_TCP, 40000, 6379), "redis", "redis");
	is_str(service_lookup(sys, IPPROTO_UDP, 40000, 123), "ntp", "ntp");
	service_free(sys);

	sys = service_new(NULL);
	if (access("/etc/services", R_OK) == 0)
		is_str(service_lookup(sys, IPPROTO_TCP, 40000, 79), "finger",
		       "a name only /etc/services knows");
	service_free(sys);
	return tap_done();
}
