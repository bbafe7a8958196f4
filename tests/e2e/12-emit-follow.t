#!/bin/bash
# Follow mode against the real kernel: framed snapshot, new/update/destroy
# for a real short TCP connection and for injected flows, periodic counter
# refresh, and a stream that, replayed, equals the kernel's table.
. "$(dirname "$0")/lib.sh"
netns_setup
plan 11

# short TIME_WAIT/CLOSE so the kernel destroys a closed connection quickly;
# these are the test namespace's own settings
nsx sh -c 'echo 1 > /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_time_wait;
	   echo 1 > /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_close'
ct_inject -s 192.0.2.1 -d 198.51.100.2 -p tcp --sport 1111 --dport 443 --state ESTABLISHED -t 300 -u SEEN_REPLY,ASSURED

OUT="$TMP/follow.json"
nsbg "$EMIT" -n --no-geoip --accounting --interval 0.5 > "$OUT" 2>"$TMP/err"
EPID=$BGPID
at_exit "kill $EPID 2>/dev/null"
wait_for 5 grep -q snapshot-end "$OUT"; ok $? "follow mode starts with a framed snapshot"
[ "$(head -1 "$OUT" | jq -r .event.action)" = snapshot-begin ] &&
	jq -s -e 'map(.event.action) | index("snapshot") < index("snapshot-end")' "$OUT" >/dev/null
ok $? "snapshot-begin, snapshot records, snapshot-end in that order"

# a real, short TCP connection on the namespace's loopback; it lives long
# enough for a refresh dump to find its process
nsx python3 - <<'PY'
import socket, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("10.99.0.1", 7070)); srv.listen()
c = socket.create_connection(("10.99.0.1", 7070)); a, _ = srv.accept()
c.send(b"hello"); a.recv(5); time.sleep(1.5); c.close(); a.close(); srv.close()
PY
conn='select(.destination.port == 7070)'
wait_for 5 sh -c "jq -c '$conn | select(.event.action==\"new\")' $OUT | grep -q ."
ok $? "a new record for the connection"
wait_for 20 sh -c "jq -c '$conn | select(.event.action==\"destroy\")' $OUT | grep -q ."
ok $? "a destroy record once the kernel lets it go"
pids=$(jq -r "$conn | select(.process.pid or .event.action == \"destroy\") | .process.pid // \"none\"" "$OUT" | sort -u)
[ "$(echo "$pids" | wc -l)" -eq 1 ] && [ "$pids" != none ]
ok $? "the destroy names the process found while it lived, though the socket is gone ($pids)"
ids=$(jq -r "$conn | .conntrack.id" "$OUT" | sort -u | wc -l)
is "$ids" 1 "new, updates and destroy carry the same conntrack.id"
jq -r "$conn | .conntrack.state // empty" "$OUT" | grep -q ESTABLISHED; ok $? "an update shows ESTABLISHED"

# injected flow: new, then destroy when deleted
ct_inject -s 192.0.2.50 -d 198.51.100.50 -p udp --sport 4000 --dport 53 -t 300
wait_for 5 sh -c "jq -c 'select(.source.ip==\"192.0.2.50\" and .event.action==\"new\")' $OUT | grep -q ."
ok $? "conntrack -I shows up as new"
nsx conntrack -D -s 192.0.2.50 >/dev/null 2>&1
wait_for 5 sh -c "jq -c 'select(.source.ip==\"192.0.2.50\" and .event.action==\"destroy\")' $OUT | grep -q ."
ok $? "conntrack -D shows up as destroy"

# counters: traffic over a live connection is reported by the periodic dump
nsx python3 - <<'PY' &
import socket, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("10.99.0.1", 7171)); srv.listen()
c = socket.create_connection(("10.99.0.1", 7171)); a, _ = srv.accept()
for i in range(20):
    c.send(b"x" * 1000); a.recv(1000); time.sleep(0.1)
time.sleep(5)
PY
at_exit "kill $! 2>/dev/null"
wait_for 8 sh -c "jq -c 'select(.destination.port==7171 and .event.action==\"update\" and (.source.bytes // 0) > 10000)' $OUT | grep -q ."
ok $? "the interval dump writes updated byte counters"

{ nsx conntrack -L -f ipv4 -o id; nsx conntrack -L -f ipv6 -o id; } 2>/dev/null | grep -v 'dport=7070 ' |
	python3 "$TOP/tests/tools/ctkeys.py" conntrack | cut -d' ' -f1-6 > "$TMP/kernel"
python3 "$TOP/tests/tools/ctkeys.py" stream < "$OUT" | grep -v ' 7070 ' | cut -d' ' -f1-6 > "$TMP/ours"
diff "$TMP/kernel" "$TMP/ours" >&2; ok $? "the stream replayed equals the kernel's table"
kill $EPID
done_testing
