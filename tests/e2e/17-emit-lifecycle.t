#!/bin/bash
# Flow lifecycle under churn: thousands of short TCP and UDP flows a second
# on the namespace's loopback, short conntrack timeouts, and a refresh dump
# every 0.1 s, so that dumps and kernel events race all the time.  Every
# flow's records must be new or snapshot, updates, one destroy, nothing
# after it (tests/tools/lifecycle.py); the replayed stream must end equal to
# the kernel's table.
. "$(dirname "$0")/lib.sh"
netns_setup
plan 7

# this namespace's own timeouts: closed and unreplied flows go within 1 s
for s in tcp_timeout_time_wait tcp_timeout_close tcp_timeout_fin_wait tcp_timeout_close_wait \
	 tcp_timeout_last_ack tcp_timeout_syn_sent tcp_timeout_syn_recv udp_timeout udp_timeout_stream; do
	nsx sh -c "echo 1 > /proc/sys/net/netfilter/nf_conntrack_$s"
done
ct_inject -s 192.0.2.1 -d 198.51.100.2 -p tcp --sport 1111 --dport 443 --state ESTABLISHED -t 300

OUT="$TMP/follow.json"
nsbg "$EMIT" -n --no-geoip --accounting --interval 0.1 > "$OUT" 2>"$TMP/err"
EPID=$BGPID
at_exit "kill $EPID 2>/dev/null"
OUT2="$TMP/overrun.json"
nsbg "$EMIT" -n --no-geoip --no-process --interval 0.1 --buffer-size 128K > "$OUT2" 2>"$TMP/err2"
EPID2=$BGPID
at_exit "kill $EPID2 2>/dev/null"
wait_for 5 grep -q snapshot-end "$OUT"
wait_for 5 grep -q snapshot-end "$OUT2"

made=$(nsx python3 "$TOP/tests/tools/churn.py" --rate 3000 --seconds 5 --max 16000)
[ "${made:-0}" -ge 5000 ]; ok $? "the load made ${made:-0} short flows"

# the kernel lets the last of them go within a few seconds; then the
# stream, replayed as a reader does, must hold exactly the kernel's table
wait_for 15 sh -c "[ \$(ip netns exec $NS conntrack -C) -le 2 ]"
{ nsx conntrack -L -f ipv4 -o id; nsx conntrack -L -f ipv6 -o id; } 2>/dev/null |
	python3 "$TOP/tests/tools/ctkeys.py" conntrack | cut -d' ' -f1-6 > "$TMP/kernel"
same_table() {  # same_table STREAM: the checker replays it (and checks it)
	python3 "$TOP/tests/tools/lifecycle.py" -v --table "$TMP/ours" < "$1" 2>"$TMP/lc"
	diff -q "$TMP/kernel" "$TMP/ours" >/dev/null
}
for run in "$OUT:$EPID:" "$OUT2:$EPID2: (overrunning)"; do
	out=${run%%:*} pid=${run#*:} what=${run##*:}
	pid=${pid%%:*}
	wait_for 10 same_table "$out"; rc=$?
	ok $rc "the replayed stream ends equal to conntrack -L$what"
	[ $rc -ne 0 ] && diff "$TMP/kernel" "$TMP/ours" | head >&2
	kill "$pid"; wait "$pid"; st=$?
	is "$st" 0 "the emitter ran to the end and exits 0 on TERM$what"
	python3 "$TOP/tests/tools/lifecycle.py" -v < "$out" 2>"$TMP/lc"; rc=$?
	ok $rc "every flow's life is in order$what: $(grep -m1 '^lifecycle: [0-9]' "$TMP/lc" | sed 's/^lifecycle: //')"
	[ $rc -ne 0 ] && head -40 "$TMP/lc" >&2
done
diag "overrun markers in the small-buffer stream: $(grep -c '"overrun"' "$OUT2")"
done_testing
