#!/bin/bash
# Event overrun: a tiny receive buffer and a burst of flows while the
# emitter is stopped.  It must say "overrun", resynchronise with a framed
# dump, keep running, and leave a reader's table equal to the kernel's.
. "$(dirname "$0")/lib.sh"
netns_setup
plan 6

OUT="$TMP/follow.json"
nsbg "$EMIT" -n --no-process --no-geoip --interval 0 --buffer-size 4K -v > "$OUT" 2>"$TMP/err"
EPID=$BGPID
at_exit "kill -CONT $EPID 2>/dev/null; kill $EPID 2>/dev/null"
wait_line 5 "$OUT" snapshot-end
grep -Eq 'receive buffer [0-9]+ bytes' "$TMP/err"; ok $? "-v reports the buffer size granted"

# stop the reader, make far more events than 4 KiB can hold, let it go
kill -STOP "$EPID"
nsx "$TOP/build/tools/flowgen" inject 3000 --timeout 600 >/dev/null 2>&1
nsx "$TOP/build/tools/flowgen" burst 2000 >/dev/null 2>&1
kill -CONT "$EPID"
# now, before the burst's unreplied UDP flows can time out (30 s)
n=$(nsx cat /proc/sys/net/netfilter/nf_conntrack_count)
[ "$n" -ge 5000 ]; ok $? "the kernel holds the burst ($n flows)"

wait_line 10 "$OUT" '"overrun"'; ok $? "an overrun marker is written"
# the resync frame after the marker must be complete
wait_for 20 sh -c "awk '/\"overrun\"/{o=1} o && /\"snapshot-end\"/{f=1} END{exit !f}' $OUT"
ok $? "a framed resync dump follows the overrun"
kill -0 "$EPID"; ok $? "the emitter keeps running"

# events queued behind the resync still come in: wait until the replayed
# stream settles on the kernel's table (or the deadline says it never does)
same_table() {
	{ nsx conntrack -L -f ipv4 -o id; nsx conntrack -L -f ipv6 -o id; } 2>/dev/null |
		python3 "$TOP/tests/tools/ctkeys.py" conntrack | cut -d' ' -f1-6 > "$TMP/kernel"
	python3 "$TOP/tests/tools/ctkeys.py" stream < "$OUT" | cut -d' ' -f1-6 > "$TMP/ours"
	diff "$TMP/kernel" "$TMP/ours" > "$TMP/diff"
}
wait_for 10 same_table
same_table; rc=$?
ok $rc "the replayed stream equals the kernel's table"
[ $rc -ne 0 ] && head "$TMP/diff" >&2
done_testing
