/*
 * community.h - network.community_id: Community ID v1 (corelight
 * community-id-spec), the flow hash that joins our records to Zeek's,
 * Suricata's and Elastic's for the same flow.  Stateless: the caller owns
 * the flow and the output buffer.
 *
 * What is hashed: the seed (2 bytes, big-endian), the two endpoints ordered
 * so that the smaller address (then port) comes first, the IP protocol, a
 * zero byte and the two ports in the same order.  Ports count only for TCP,
 * UDP, SCTP, ICMP and ICMPv6; for ICMP the "ports" are the type and its
 * counterpart type (echo and echo reply, ...), or for a one-way type (an
 * error) the type and the code, left in the flow's direction.
 */
#ifndef FLOWTOP_COMMUNITY_H
#define FLOWTOP_COMMUNITY_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"

/* "1:" and 28 base64 characters of the SHA-1, and the NUL. */
#define COMMUNITY_ID_SIZE 31

/* Write f's Community ID (its original tuple) into buf, NUL-terminated.
 * Returns the length, or -1 with errno EINVAL when f has no address tuple
 * (or lacks the ports or ICMP type its protocol needs) and ENOSPC when len
 * is less than COMMUNITY_ID_SIZE. */
int community_format(const struct flow *f, uint16_t seed, char *buf, size_t len);

#endif
