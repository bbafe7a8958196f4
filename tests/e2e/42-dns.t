#!/bin/bash
# 42-dns.t - reverse DNS in flowtop-emit's records: names from the
# namespace's hosts file; a name server that never answers (a UDP socket in
# the namespace that logs the questions and stays silent) holds back
# --once no longer than --dns-timeout, and follow mode not at all; the
# emitter never asks about its own name server.
. "$(dirname "$0")/lib.sh"

[ -x "$EMIT" ] || skip_all "flowtop-emit not built"
command -v python3 >/dev/null || skip_all "python3 missing"
netns_setup
plan 22

NSADDR=10.99.0.53
nsx ip addr add "$NSADDR/32" dev lo
cat >> "/etc/netns/$NS/hosts" <<'EOF'
10.99.0.1 me.flowtop.test
192.0.2.5 doc.example.net
fd99::1 six.flowtop.test
EOF
# hostile names: invalid UTF-8, a quote and a backslash, a control character
printf '192.0.2.7 bad\377name.example\n192.0.2.8 q"uo\\te.example\n192.0.2.9 ctl\001x.example\n' \
	>> "/etc/netns/$NS/hosts"
# slow: each question would wait 3 s, twice
printf 'nameserver %s\noptions timeout:3 attempts:2\n' "$NSADDR" > "/etc/netns/$NS/resolv.conf"

# the silent name server: logs each question's name, answers nothing
cat > "$TMP/silentdns.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
log = open(sys.argv[2], "a", buffering=1)
print("ready", file=log)
while True:
    data, _ = s.recvfrom(4096)
    labels, i = [], 12
    while i < len(data) and data[i]:
        n = data[i]
        labels.append(data[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    print(".".join(labels), file=log)
EOF
nsx python3 "$TMP/silentdns.py" "$NSADDR" "$TMP/dns.log" &
at_exit "kill $! 2>/dev/null"
wait_for 5 grep -q ready "$TMP/dns.log" || { echo "Bail out! silent DNS server did not start"; exit 1; }

tcp() { ct_inject -p tcp -s "$1" -d "$2" --sport "$3" --dport "$4" --state ESTABLISHED -t 300 -u SEEN_REPLY; }
tcp 10.99.0.1 192.0.2.5 41001 443		# both names in hosts
tcp fd99::1 2001:db8::77 41002 443		# v6: one from hosts, one to the silent server
tcp 10.99.0.1 198.51.100.77 41003 80		# only the silent server could say
udp_flow() { ct_inject -p udp -s 10.99.0.1 -d "$NSADDR" --sport "$1" --dport 53 -t 100; }
udp_flow 41004					# a flow to the name server itself
tcp 10.99.0.1 192.0.2.7 41005 443
tcp 10.99.0.1 192.0.2.8 41006 443
tcp 10.99.0.1 192.0.2.9 41007 443

ms() { date +%s%3N; }
sel() { jq -c "select(.source.port == $1) | $2" "$TMP/$3"; }

t0=$(ms)
nsx "$EMIT" --once -n --no-process --no-geoip > "$TMP/numeric.json" 2>/dev/null
t1=$(ms)
base=$((t1 - t0))
# (on all seven flows: an empty output would have no names either)
is "$(wc -l < "$TMP/numeric.json") $(jq -c 'select(.source.domain or .destination.domain)' "$TMP/numeric.json" | wc -l)" "7 0" \
	"-n: seven flows, no names"

t0=$(ms)
nsx "$EMIT" --once --dns-timeout 1 --no-process --no-geoip > "$TMP/once.json" 2> "$TMP/once.err"
ok $? "--once --dns-timeout 1 with a silent name server"
t1=$(ms)
took=$((t1 - t0))
diag "--once: ${took} ms with DNS (timeout 1 s), ${base} ms with -n"
[ $((took - base)) -le 1700 ]; ok $? "--once is not held back past its timeout (${took} ms, -n ${base} ms)"
[ "$took" -ge 1000 ]; ok $? "--once waited for the slow look-ups, up to the timeout (${took} ms)"
json_lines_valid "$TMP/once.json"; ok $? "valid JSON lines"
is "$(sel 41001 '[.source.domain, .destination.domain]' once.json)" '["me.flowtop.test","doc.example.net"]' \
	"names from the namespace's hosts file"
is "$(sel 41002 '[.source.domain, .destination.domain // "none"]' once.json)" '["six.flowtop.test","none"]' \
	"IPv6: a name from hosts; none from the silent server"
is "$(sel 41003 '.destination.domain // "none"' once.json)" '"none"' "no name where the server is silent"
is "$(sel 41005 .destination.domain once.json)" "$(printf '"bad\357\277\275name.example"')" "an invalid UTF-8 name is repaired"
is "$(sel 41006 .destination.domain once.json)" '"q\"uo\\te.example"' "a quote and a backslash are escaped"
is "$(sel 41007 .destination.domain once.json)" '"ctl\u0001x.example"' "a control character is escaped"
grep -qx '77.100.51.198.in-addr.arpa' "$TMP/dns.log"
ok $? "the silent server was really asked"
grep -q '^53\.0\.99\.10\.in-addr' "$TMP/dns.log"
ok $((! $?)) "its own name server is never looked up"
is "$(sel 41004 '.destination.domain // "none"' once.json)" '"none"' "so the flow to it has no destination name"

# follow mode: records go out at once; a name that arrives later comes in
# an update
: > "$TMP/dns.log"
nsx "$EMIT" --no-process --no-geoip > "$TMP/follow.json" 2>/dev/null &
EPID=$!
at_exit "kill $EPID 2>/dev/null"
t0=$(ms)
wait_line 5 "$TMP/follow.json" snapshot-end
t1=$(ms)
[ $((t1 - t0)) -le 1000 ]; ok $? "follow mode: the first snapshot is written at once, slow names or not ($((t1 - t0)) ms)"
t0=$(ms)
tcp 10.99.0.1 203.0.113.9 41100 443		# silent server: 6 s per question
wait_line 5 "$TMP/follow.json" '"port":41100'
t1=$(ms)
[ $((t1 - t0)) -le 1000 ]; ok $? "follow mode: a new flow is written without waiting for its name ($((t1 - t0)) ms)"
echo "192.0.2.6 late.example.net" >> "/etc/netns/$NS/hosts"
tcp 10.99.0.1 192.0.2.6 41101 443
wait_record 5 "$TMP/follow.json" '.source.port == 41101 and .destination.domain == "late.example.net"'
ok $? "follow mode: the name of a new flow arrives (in its new or a later update record)"
diag "late.example.net came in: $(jq -r 'select(.source.port == 41101 and .destination.domain) | .event.action' "$TMP/follow.json" | head -1)"

# the queries the emitter makes are flows too; they must not start more:
# wait until the flow of its own queries has been written (and enriched)
wait_record 5 "$TMP/follow.json" ".event.action == \"new\" and .destination.ip == \"$NSADDR\" and .destination.port == 53"
ok $? "follow mode: the flow of its own queries is written"
# then a later flow only the silent server could name: queries go out in
# order, so once its question is in, any question that the flow above
# started is in too (and a look-up is in flight for the stop below)
tcp 10.99.0.1 203.0.113.10 41102 443
wait_line 5 "$TMP/dns.log" '^10\.113\.0\.203\.in-addr\.arpa$'
ok $? "follow mode: a later flow's question reaches the server"
n53=$(grep -c '^53\.0\.99\.10\.in-addr' "$TMP/dns.log")
is "$n53" 0 "follow mode: the flows of its own queries start no look-up of the name server"
# at most 5 addresses (2 in the snapshot, 203.0.113.9 and .10, and
# 192.0.2.6 if asked before the hosts file is read again), 2 tries each
nq=$(grep -c 'in-addr.arpa\|ip6.arpa' "$TMP/dns.log")
[ "$nq" -le 10 ]; ok $? "follow mode: a bounded number of questions ($nq) for the few unknown addresses"
t0=$(ms)
kill "$EPID"
wait "$EPID" 2>/dev/null
t1=$(ms)
[ $((t1 - t0)) -le 1000 ]; ok $? "follow mode: it stops at once with a look-up in flight ($((t1 - t0)) ms)"
done_testing
