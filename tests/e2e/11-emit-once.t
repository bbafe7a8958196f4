#!/bin/bash
# --once against the real kernel: real loopback traffic plus conntrack -I
# entries for both families and several protocols; the output must be the
# same flows, tuples and states as conntrack -L shows.
. "$(dirname "$0")/lib.sh"
netns_setup
plan 9

# real TCP and UDP on the namespace's loopback, held open while we look
nsx python3 - <<'PY' &
import socket, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("10.99.0.1", 8080)); srv.listen()
c = socket.create_connection(("10.99.0.1", 8080)); a, _ = srv.accept()
c.send(b"x"); a.recv(1)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.sendto(b"q", ("fd99::1", 5353))
time.sleep(30)
PY
at_exit "kill $! 2>/dev/null"
ct_inject -s 192.0.2.1 -d 198.51.100.2 -p tcp --sport 1234 --dport 443 --state ESTABLISHED -t 300 -u SEEN_REPLY,ASSURED
ct_inject -s 192.0.2.1 -d 198.51.100.2 -p tcp --sport 1235 --dport 22 --state SYN_SENT -t 300
ct_inject -s 2001:db8::1 -d 2001:db8::2 -p tcp --sport 999 --dport 80 --state TIME_WAIT -t 300
ct_inject -s 192.0.2.7 -d 198.51.100.9 -p udp --sport 5000 --dport 53 -t 300
ct_inject -s 2001:db8::7 -d 2001:db8::9 -p udp --sport 5001 --dport 123 -t 300
ct_inject -s 192.0.2.1 -d 198.51.100.2 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id 77 -t 300
ct_inject -s 2001:db8::1 -d 2001:db8::2 -p icmpv6 --icmpv6-type 128 --icmpv6-code 0 --icmpv6-id 5 -t 300
ct_inject -s 192.0.2.3 -d 198.51.100.4 -p sctp --sport 36412 --dport 36412 --state ESTABLISHED --orig-vtag 1 --reply-vtag 2 -t 300
wait_for 5 sh -c "ip netns exec $NS conntrack -L 2>/dev/null | grep -q 8080"

{ nsx conntrack -L -f ipv4 -o id; nsx conntrack -L -f ipv6 -o id; } 2>/dev/null | python3 "$TOP/tests/tools/ctkeys.py" conntrack > "$TMP/kernel"
nsx "$EMIT" --once -n > "$TMP/once.json" 2>"$TMP/err"; rc=$?
ok $rc "--once exits 0"
python3 "$TOP/tests/tools/ctkeys.py" stream < "$TMP/once.json" > "$TMP/ours"
[ "$(wc -l < "$TMP/kernel")" -ge 10 ]; ok $? "the namespace holds the test's flows ($(wc -l < "$TMP/kernel"))"
diff "$TMP/kernel" "$TMP/ours" >&2; ok $? "--once: same flows, tuples and states as conntrack -L"
json_lines_valid "$TMP/once.json"; ok $? "every line passes jq -e"
jq -s -e 'map(select(.network.transport=="icmp")) | length == 1 and .[0].conntrack.icmp == {"type":8,"code":0,"id":77}' "$TMP/once.json" >/dev/null
ok $? "ICMP type, code and id"
jq -s -e 'map(select(.network.transport=="sctp")) | length == 1 and .[0].conntrack.state == "ESTABLISHED" and .[0].network.iana_number == "132"' "$TMP/once.json" >/dev/null
ok $? "SCTP state and protocol number"
[ "$(jq -r '.event.action' "$TMP/once.json" | sort -u)" = snapshot ]; ok $? "--once writes snapshot records and no markers"

nsx "$EMIT" --once -n --format csv > "$TMP/once.csv" 2>/dev/null
python3 "$TOP/tests/tools/ctkeys.py" csv < "$TMP/once.csv" > "$TMP/ours.csv"; rc=$?
ok $rc "CSV parses with Python's csv module, every row has the header's width"
diff "$TMP/kernel" "$TMP/ours.csv" >&2; ok $? "CSV: the same flows as conntrack -L"
done_testing
