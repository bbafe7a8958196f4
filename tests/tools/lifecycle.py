#!/usr/bin/env python3
"""lifecycle - check that a follow-mode flowtop-emit stream keeps every
flow's life in order.

  lifecycle.py [-v] [--table FILE] < flowtop-emit NDJSON

A flow (conntrack id plus original tuple: ids are 32-bit hashes) lives as
`new` or `snapshot`, then `update`s and `snapshot`s, then exactly one
`destroy`, and nothing after it; a later `new` (or a snapshot in a later
frame) with the same id and tuple is a new life.  A snapshot frame
(snapshot-begin ... snapshot-end) also ends, silently, the life of every
flow it does not mention, as a reader drops them.  TCP states only move
forward (SYN_SENT ... CLOSE), but for a connection the kernel reopens in
place (SYN_SENT after TIME_WAIT or CLOSE).

Prints one summary line (and with -v up to 20 examples of each fault) on
stderr; exits 1 when any rule is broken, 2 on unreadable input.  --table
writes the flows alive at the end, one a line as ctkeys.py prints them
without the state (id proto src sport dst dport), sorted, for diff against
`ctkeys.py conntrack | cut -d' ' -f1-6`.
"""
import json
import sys

TCP_ORDER = {s: i for i, s in enumerate(
    ["NONE", "SYN_SENT", "SYN_SENT2", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
     "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE"])}

FAULTS = ("second destroy", "destroy before new", "record after destroy",
          "update before new", "new while alive", "state backwards")


def flow_key(r):
    s, d, ct = r.get("source", {}), r.get("destination", {}), r.get("conntrack", {})
    return (ct.get("id"), r.get("network", {}).get("transport"), s.get("ip"),
            s.get("port"), d.get("ip"), d.get("port"), ct.get("icmp", {}).get("id"))


def key_line(key):
    return " ".join("-" if x is None else str(x) for x in key[:6])


def check(lines, verbose, table):
    alive = {}          # key -> last TCP state rank (or None)
    dead = {}           # key -> (line number, how): destroyed or dropped by a frame
    frame, seen = None, set()   # frame: line of the open snapshot-begin
    faults = {f: [] for f in FAULTS}
    counts = {"records": 0, "lives": 0, "destroys": 0, "frame drops": 0}

    def fault(kind, n, key, why=""):
        faults[kind].append("line %d: %s %s" % (n, key, why))

    for n, line in enumerate(lines, 1):
        try:
            r = json.loads(line)
            action = r["event"]["action"]
        except (ValueError, KeyError, TypeError):
            print("lifecycle: line %d is not a record" % n, file=sys.stderr)
            sys.exit(2)
        if action == "snapshot-begin":
            frame, seen = n, set()
            continue
        if action == "snapshot-end":
            for key in [k for k in alive if k not in seen]:
                del alive[key]
                dead[key] = (n, "dropped by the frame")
                counts["frame drops"] += 1
            frame = None
            continue
        if action in ("overrun", "refresh"):  # markers that carry no flow
            continue
        counts["records"] += 1
        key = flow_key(r)
        if key[0] is None:
            continue
        state = r.get("conntrack", {}).get("state")
        rank = TCP_ORDER.get(state) if key[1] == "tcp" else None
        if frame is not None:
            seen.add(key)
        if action == "destroy":
            if key in alive:
                del alive[key]
                dead[key] = (n, "destroyed")
                counts["destroys"] += 1
            elif key in dead:
                fault("second destroy", n, key, "(first: line %d, %s)" % dead[key])
            else:
                fault("destroy before new", n, key)
            continue
        starts = action == "new" or (action == "snapshot" and key not in alive)
        if starts:
            if action == "new" and key in alive:
                fault("new while alive", n, key)
            # a snapshot of a flow destroyed inside this very frame is stale
            # dump data, not a new life
            if action == "snapshot" and key in dead and frame is not None and \
                    dead[key][0] > frame:
                fault("record after destroy", n, key, "(line %d, %s)" % dead[key])
                continue
            dead.pop(key, None)
            alive[key] = rank
            counts["lives"] += 1
            continue
        if key not in alive:
            if key in dead:
                fault("record after destroy", n, key, "(line %d, %s)" % dead[key])
            else:
                fault("update before new", n, key)
            continue
        old = alive[key]
        # the kernel reopens a closed connection in place on a new SYN
        reopen = state in ("SYN_SENT", "SYN_SENT2") and old is not None and \
            old >= TCP_ORDER["TIME_WAIT"]
        if rank is not None and old is not None and rank < old and not reopen:
            fault("state backwards", n, key, "(%s after rank %d)" % (state, old))
        if rank is not None:
            alive[key] = rank
    if table:
        with open(table, "w") as f:
            for k in sorted(key_line(k) for k in alive):
                print(k, file=f)
    bad = sum(len(v) for v in faults.values())
    summary = ", ".join("%d %s" % (v, k) for k, v in counts.items())
    summary += "; " + ", ".join("%d %s" % (len(v), k) for k, v in faults.items())
    print("lifecycle: " + summary, file=sys.stderr)
    if verbose:
        for kind, items in faults.items():
            for item in items[:20]:
                print("lifecycle: %s: %s" % (kind, item), file=sys.stderr)
    return 1 if bad else 0


def main():
    args = sys.argv[1:]
    verbose = "-v" in args
    table = args[args.index("--table") + 1] if "--table" in args[:-1] else None
    sys.exit(check(sys.stdin, verbose, table))


main()
