#!/usr/bin/python3
"""dnsserver.py - a name server for the tests and the DNS benchmark, which
answers PTR questions the way a rules file says, over UDP, and logs every
question.  It runs inside a test's private network namespace; it never
forwards anything anywhere.

    dnsserver.py ADDR LOGFILE RULES

RULES: one rule a line, the first that matches a question's address wins;
'#' starts a comment.

    NET ACTION [ARGS]      NET: an address or CIDR network (v4 or v6), or *
    delay MS ACTION ARGS   the same action, MS milliseconds later

ACTION:
    ptr NAME [TTL]         one PTR record (TTL 300 unless given)
    auto [TTL]             a name made from the address: 10-1-2-3.auto.test
    cname TARGET NAME      RFC 2317: a CNAME to TARGET, which has the PTR
    nx                     NXDOMAIN
    nodata                 NOERROR with no answer
    servfail               SERVFAIL
    refused                REFUSED
    drop                   no answer, ever
    hostile KIND           a PTR name no one should trust: ctl (a control
                           character), bad (invalid UTF-8), quote (a quote
                           and a backslash), nul (a NUL byte), dot (a dot
                           inside a label), long (the longest name DNS
                           allows, 255 bytes on the wire), root (the empty
                           name), esc (a label that looks like an escape)

LOGFILE gets "ready" once the socket is bound, then one line per question:
the question's name, lower case.  Unmatched questions are dropped.
"""
import heapq
import ipaddress
import select
import socket
import sys
import time

from dnslib import CNAME, DNSLabel, DNSRecord, PTR, QTYPE, RCODE, RR


def qname_addr(labels):
    """The address a reverse name asks about, or None."""
    labels = [l.decode("ascii", "replace").lower() for l in labels]
    if labels[-2:] == ["in-addr", "arpa"] and len(labels) == 6:
        try:
            return ipaddress.ip_address(".".join(reversed(labels[:4])))
        except ValueError:
            return None
    if labels[-2:] == ["ip6", "arpa"] and len(labels) == 34:
        nibbles = "".join(reversed(labels[:32]))
        try:
            return ipaddress.ip_address(":".join(nibbles[i:i + 4] for i in range(0, 32, 4)))
        except ValueError:
            return None
    return None


HOSTILE = {
    "ctl": [b"ctl\x01x", b"hostile", b"test"],
    "bad": [b"bad\xffname", b"hostile", b"test"],
    "quote": [b'q"uo\\te', b"hostile", b"test"],
    "nul": [b"nul\x00x", b"hostile", b"test"],
    "dot": [b"has.dot", b"hostile", b"test"],
    "long": [b"a" * 63, b"b" * 63, b"c" * 63, b"d" * 61],
    "root": [],
    "esc": [b"\\065\\.x", b"hostile", b"test"],
}


def load_rules(path):
    rules = []
    for line in open(path):
        line = line.split("#", 1)[0].split()
        if not line:
            continue
        net = None if line[0] == "*" else ipaddress.ip_network(line[0], strict=False)
        rules.append((net, line[1:]))
    return rules


def match(rules, addr):
    for net, action in rules:
        if net is None or (addr is not None and addr.version == net.version and addr in net):
            return action
    return ["drop"]


def answer(req, addr, action):
    """The reply (bytes) for an action, or None for no reply."""
    reply = req.reply()
    q = req.q
    kind = action[0]
    if kind == "ptr":
        ttl = int(action[2]) if len(action) > 2 else 300
        reply.add_answer(RR(q.qname, QTYPE.PTR, ttl=ttl, rdata=PTR(action[1])))
    elif kind == "auto":
        ttl = int(action[1]) if len(action) > 1 else 300
        name = str(addr).replace(".", "-").replace(":", "-") + ".auto.test"
        reply.add_answer(RR(q.qname, QTYPE.PTR, ttl=ttl, rdata=PTR(name)))
    elif kind == "cname":
        reply.add_answer(RR(q.qname, QTYPE.CNAME, ttl=300, rdata=CNAME(action[1])))
        reply.add_answer(RR(action[1], QTYPE.PTR, ttl=300, rdata=PTR(action[2])))
    elif kind == "nx":
        reply.header.rcode = RCODE.NXDOMAIN
    elif kind == "nodata":
        pass
    elif kind == "servfail":
        reply.header.rcode = RCODE.SERVFAIL
    elif kind == "refused":
        reply.header.rcode = RCODE.REFUSED
    elif kind == "hostile":
        reply.add_answer(RR(q.qname, QTYPE.PTR, ttl=300,
                            rdata=PTR(DNSLabel(HOSTILE[action[1]]))))
    else:
        return None
    return reply.pack()


def main():
    addr, logpath, rulespath = sys.argv[1:4]
    rules = load_rules(rulespath)
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    # a burst of questions must queue, not drop: past rmem_max as root
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)    # SO_RCVBUFFORCE
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((addr, 53))
    s.setblocking(False)
    log = open(logpath, "a", buffering=1)
    print("ready", file=log)
    later = []          # (when, seq, reply, peer)
    seq = 0
    while True:
        timeout = max(0.0, later[0][0] - time.monotonic()) if later else None
        ready, _, _ = select.select([s], [], [], timeout)
        now = time.monotonic()
        while later and later[0][0] <= now:
            _, _, data, peer = heapq.heappop(later)
            s.sendto(data, peer)
        if not ready:
            continue
        for _ in range(256):
            try:
                data, peer = s.recvfrom(4096)
            except BlockingIOError:
                break
            try:
                req = DNSRecord.parse(data)
            except Exception:
                continue
            labels = req.q.qname.label
            print(b".".join(labels).decode("ascii", "replace").lower(), file=log)
            ip = qname_addr(labels) if req.q.qtype == QTYPE.PTR else None
            action = match(rules, ip)
            delay = 0.0
            if action[0] == "delay":
                delay = int(action[1]) / 1000.0
                action = action[2:]
            out = answer(req, ip, action)
            if out is None:
                continue
            if delay > 0:
                seq += 1
                heapq.heappush(later, (time.monotonic() + delay, seq, out, peer))
            else:
                s.sendto(out, peer)


if __name__ == "__main__":
    main()
