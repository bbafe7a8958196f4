#!/usr/bin/env python3
"""ctkeys - one canonical line per flow, from conntrack(8) or from our stream.

  ctkeys.py conntrack < `conntrack -L -o id` output (both families)
  ctkeys.py stream    < flowtop-emit NDJSON (applies new/update/destroy and
                        snapshot-begin/-end framing, as a reader must)
  ctkeys.py csv       < flowtop-emit --format csv (checks the width of rows)

Each flow prints as: id proto src sport dst dport state, sorted, so two
sources can be compared with diff.  The test suite's independent reading of
conntrack's own text output is the point: it is not our parser.
"""
import csv
import json
import re
import sys

PROTO = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "icmpv6": "ipv6-icmp",
         "sctp": "sctp", "dccp": "dccp", "udplite": "udplite", "gre": "gre"}


def key(fid, proto, src, sport, dst, dport, state):
    return " ".join(str(x) if x is not None else "-"
                    for x in (fid, proto, src, sport, dst, dport, state))


def from_conntrack(lines):
    out = []
    for line in lines:
        words = line.split()
        if len(words) < 3 or not words[1].isdigit():
            continue
        proto = PROTO.get(words[0], words[0])
        kv = {}
        for w in words:
            m = re.match(r"^(\w+)=(.*)$", w)
            if m and m.group(1) not in kv:  # first = original direction
                kv[m.group(1)] = m.group(2)
        state = words[3] if len(words) > 3 and re.match(r"^[A-Z_0-9]+$", words[3]) else None
        fid = re.search(r"\bid=(\d+)\s*$", line)
        out.append(key(fid.group(1) if fid else None, proto, kv.get("src"), kv.get("sport"),
                       kv.get("dst"), kv.get("dport"), state))
    return out


def flow_key(r):
    s, d = r.get("source", {}), r.get("destination", {})
    ct = r.get("conntrack", {})
    return key(ct.get("id"), r.get("network", {}).get("transport"), s.get("ip"),
               s.get("port"), d.get("ip"), d.get("port"), ct.get("state"))


def from_stream(lines):
    table, marked, framing = {}, set(), False
    for line in lines:
        r = json.loads(line)
        action = r["event"]["action"]
        if action == "snapshot-begin":
            framing, marked = True, set()
            continue
        if action == "snapshot-end":
            table = {k: v for k, v in table.items() if k in marked}
            framing = False
            continue
        if action in ("overrun", "refresh"):  # markers that carry no flow
            continue
        # ids are 32-bit hashes and may collide: the tuple tells flows apart
        src, dst = r.get("source", {}), r.get("destination", {})
        fid = (r["conntrack"]["id"], r.get("network", {}).get("transport"),
               src.get("ip"), src.get("port"), dst.get("ip"), dst.get("port"),
               r["conntrack"].get("icmp", {}).get("id"))
        if action == "destroy":
            table.pop(fid, None)
            marked.discard(fid)
            continue
        old = table.get(fid, {})
        # an update merges: what it lacks is kept
        merged = json.loads(json.dumps(old))
        for top, val in r.items():
            if isinstance(val, dict):
                merged.setdefault(top, {}).update(val)
            else:
                merged[top] = val
        table[fid] = merged
        if framing:
            marked.add(fid)
    return [flow_key(r) for r in table.values()]


def check_csv(f):
    rows = list(csv.reader(f))
    width = len(rows[0])
    bad = [i for i, r in enumerate(rows) if len(r) != width]
    if bad:
        sys.exit("csv: rows %s do not have the header's %d columns" % (bad[:5], width))
    hdr = rows[0]
    out = []
    for r in rows[1:]:
        d = dict(zip(hdr, r))
        out.append(key(d.get("conntrack.id") or None, d.get("network.transport"),
                       d.get("source.ip"), d.get("source.port") or None,
                       d.get("destination.ip"), d.get("destination.port") or None,
                       d.get("conntrack.state") or None))
    return out


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "conntrack":
        out = from_conntrack(sys.stdin)
    elif mode == "stream":
        out = from_stream(sys.stdin)
    elif mode == "csv":
        out = check_csv(sys.stdin)
    else:
        sys.exit("usage: ctkeys.py conntrack|stream|csv")
    for k in sorted(out):
        print(k)


main()
