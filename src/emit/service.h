/*
 * service.h - network.protocol: the application protocol guessed from the
 * flow's server port.  struct service owns its copy of /etc/services (read
 * once, lazily); the names it returns are static or owned by it and live
 * until service_free().
 *
 * The rule:
 *   - only transports with ports (tcp, udp, udplite, sctp, dccp); ICMP and
 *     the rest get no protocol;
 *   - each port of the original tuple gets a class: well-known (< 1024),
 *     registered (< 49152) or dynamic (the rest, and port 0);
 *   - the server port is the one of the lower class; in a tie (both in the
 *     same class) the destination port, the side the client asked for;
 *   - its name comes from the built-in table (common protocols, IANA service
 *     names, lowercase), else /etc/services;
 *   - the name is the application protocol as ECS means it, not the port's
 *     service name: dns not domain, http not http-alt, dhcp, smb, rdp...;
 *     443 is https over tcp and quic over udp (packet-inspecting tools such
 *     as Suricata would say tls: from a port alone we say what is likely
 *     inside);
 *   - when the server port has no name, the other port is tried if it is not
 *     dynamic (a server that sent first, e.g. 5353 -> 40000);
 *   - tcp, sctp and dccp share the TCP names; udp and udplite the UDP names.
 */
#ifndef FLOWTOP_SERVICE_H
#define FLOWTOP_SERVICE_H

#include <stdint.h>

struct service;

/* A service table that reads 'path' (NULL: /etc/services) on first use. */
struct service *service_new(const char *path);

void service_free(struct service *s);

/* The port of (sport, dport) that the rule takes as the server's; 0 when
 * the transport has no ports. */
uint16_t service_server_port(uint8_t l4proto, uint16_t sport, uint16_t dport);

/* Name of one port for one transport, or NULL. */
const char *service_port_name(struct service *s, uint8_t l4proto, uint16_t port);

/* network.protocol for a flow's original ports, or NULL (see the rule). */
const char *service_lookup(struct service *s, uint8_t l4proto,
			   uint16_t sport, uint16_t dport);

#endif
