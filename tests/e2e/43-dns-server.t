#!/bin/bash
# 43-dns-server.t - reverse DNS against a name server we control
# (tests/tools/dnsserver.py, in the test's own namespace): names at once,
# late, NXDOMAIN, SERVFAIL, hostile, and never; hundreds of never-answered
# addresses hold back neither the hosts file nor a slow server's names;
# late names become updates for exactly the flows with that address; a
# changed resolv.conf is followed; SIGINT/SIGTERM during the --once wait
# end it at once with 128+signo; one query per address; its queries are
# one flow, not one each.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3	# Debian's, where python3-dnslib is
[ -x "$EMIT" ] || skip_all "flowtop-emit not built"
[ -x "$TOP/build/tools/flowgen" ] || skip_all "build/tools/flowgen not built"
"$PY" -c 'import dnslib' 2>/dev/null || skip_all "python3-dnslib missing"
netns_setup
plan 38

FLOWGEN="$TOP/build/tools/flowgen"
NS1=10.99.0.53
NS2=10.99.0.54
nsx ip addr add "$NS1/32" dev lo
nsx ip addr add "$NS2/32" dev lo
echo "192.0.2.100 hosts.flowtop.test" >> "/etc/netns/$NS/hosts"
printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$NS1" > "/etc/netns/$NS/resolv.conf"

cat > "$TMP/rules1" <<'EOF'
192.0.2.1 ptr fast.flowtop.test 600
192.0.2.2 delay 700 ptr slow.flowtop.test
192.0.2.3 nx
192.0.2.4 servfail
192.0.2.5 hostile ctl
192.0.2.6 hostile bad
192.0.2.7 hostile long
192.0.2.8 hostile root
192.0.2.9 hostile nul
192.0.2.10 hostile quote
192.0.2.11 hostile dot
192.0.2.12 cname 12.0/25.2.0.192.in-addr.arpa classless.flowtop.test
2001:db8::1 ptr six.flowtop.test
203.0.113.0/24 delay 1200 auto
* drop
EOF
echo '* auto' > "$TMP/rules2"

start_server() {	# start_server ADDR RULES LOG
	nsbg "$PY" "$TOP/tests/tools/dnsserver.py" "$1" "$3" "$2"
	at_exit "kill $BGPID 2>/dev/null"
	wait_for 5 grep -q ready "$3" || { echo "Bail out! name server $1 did not start"; exit 1; }
}
start_server "$NS1" "$TMP/rules1" "$TMP/ns1.log"
start_server "$NS2" "$TMP/rules2" "$TMP/ns2.log"

ms() { date +%s%3N; }
tcp() { ct_inject -p tcp -s "$1" -d "$2" --sport "$3" --dport "$4" --state ESTABLISHED -t 600 -u SEEN_REPLY; }
sel() { jq -c "select(.source.port == $1) | $2" "$TMP/$3"; }
asked() { grep -c -x "$1" "$TMP/$2"; }	# how often a name was asked

# hundreds of addresses the server never answers: 400 destinations in
# 198.51.100.0/23 and their 25 sources in 10.0.1.0/24
nsx "$FLOWGEN" inject 400 --family 4 --proto tcp --dst 198.51.100.0/23 --timeout 600 2>/dev/null
for i in $(seq 1 12); do tcp 10.99.0.1 "192.0.2.$i" $((41000 + i)) 443; done
tcp 10.99.0.1 192.0.2.100 41100 443			# hosts file
tcp 10.99.0.1 192.0.2.3 41103 80			# NXDOMAIN again, other flow
tcp fd99::1 2001:db8::1 41200 443			# IPv6
n_before=$(nsx conntrack -L -p udp --dport 53 2>/dev/null | grep -c "dst=$NS1 ")

# ---- --once ------------------------------------------------------------------
t0=$(ms)
nsx "$EMIT" --once -v --dns-timeout 3 --no-process --no-geoip > "$TMP/once.json" 2> "$TMP/once.err"
rc=$?
t1=$(ms)
is "$rc" 0 "--once with a server that answers some and drops hundreds"
took=$((t1 - t0))
[ "$took" -le 3900 ]; ok $? "--once ends at its --dns-timeout of 3 s (${took} ms)"
# one jq for the whole file (json_lines_valid runs one a line)
[ "$(jq -c type "$TMP/once.json" | grep -c '^"object"$')" = "$(wc -l < "$TMP/once.json")" ]
ok $? "valid JSON lines, hostile names included"
is "$(sel 41100 .destination.domain once.json)" '"hosts.flowtop.test"' "a hosts-file name, with 425 silent addresses"
is "$(sel 41001 .destination.domain once.json)" '"fast.flowtop.test"' "a name the server gives at once"
is "$(sel 41002 .destination.domain once.json)" '"slow.flowtop.test"' "a name the server gives after 0.7 s"
is "$(sel 41012 .destination.domain once.json)" '"classless.flowtop.test"' "a PTR behind a CNAME (RFC 2317)"
is "$(sel 41200 .destination.domain once.json)" '"six.flowtop.test"' "IPv6 PTR"
grep -q -x '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa' "$TMP/ns1.log"
ok $? "asked in ip6.arpa"
is "$(sel 41003 '.destination.domain // "none"' once.json)$(sel 41103 '.destination.domain // "none"' once.json)" \
	'"none""none"' "NXDOMAIN: no name"
is "$(asked 3.2.0.192.in-addr.arpa ns1.log)" 1 "one question for an address two flows share"
is "$(sel 41004 '.destination.domain // "none"' once.json)" '"none"' "SERVFAIL: no name"
is "$(sel 41005 .destination.domain once.json)" '"ctl\u0001x.hostile.test"' "a control character is escaped"
is "$(sel 41006 .destination.domain once.json)" "$(printf '"bad\357\277\275name.hostile.test"')" "invalid UTF-8 is repaired"
len=$(sel 41007 '.destination.domain | length' once.json)
is "$len" 253 "the longest name DNS allows is kept whole"
is "$(sel 41008 '.destination.domain // "none"' once.json)" '"none"' "the empty name is no name"
is "$(sel 41009 .destination.domain once.json)" "$(printf '"nul\357\277\275x.hostile.test"')" "a NUL in a label is replaced"
is "$(sel 41010 .destination.domain once.json)" '"q\"uo\\te.hostile.test"' "a quote and a backslash are escaped"
n_silent=$(jq -c 'select(.destination.ip | startswith("198.51.10")) | select(.destination.domain)' "$TMP/once.json" | wc -l)
is "$n_silent" 0 "no names for the silent addresses"
grep -q '^53\.0\.99\.10\.in-addr' "$TMP/ns1.log"
ok $((! $?)) "its own name server is never looked up"
nq=$(grep -c 'in-addr.arpa$' "$TMP/ns1.log")
[ "$nq" -ge 425 ]; ok $? "every silent address was asked ($nq questions)"
n_after=$(nsx conntrack -L -p udp --dport 53 2>/dev/null | grep -c "dst=$NS1 ")
is "$((n_after - n_before))" 1 "its $nq questions are one flow to the name server, not one each"
grep -q 'reverse DNS: .* queries sent, .* answered with a name, .* NXDOMAIN' "$TMP/once.err"
ok $? "--verbose reports the resolver's counters"
diag "$(grep 'reverse DNS:' "$TMP/once.err")"

# ---- signals during the --once wait -------------------------------------------
sig_once() {	# sig_once SIGNAL: the exit status and the ms it took
	: > "$TMP/sig.json"
	nsbg "$EMIT" --once --dns-timeout 30 --no-process --no-geoip > "$TMP/sig.json" 2>/dev/null
	local pid=$BGPID n0
	n0=$(grep -c . "$TMP/ns1.log")
	# waiting: its questions have reached the server
	wait_for 5 sh -c "[ \$(grep -c . '$TMP/ns1.log') -ge $((n0 + 400)) ]"
	local t0 t1
	t0=$(ms)
	kill -s "$1" "$pid"
	wait "$pid"
	SIG_RC=$?
	t1=$(ms)
	SIG_MS=$((t1 - t0))
}
sig_once INT
is "$SIG_RC" 130 "SIGINT during the --once wait: status 130"
[ "$SIG_MS" -le 300 ]; ok $? "and at once (${SIG_MS} ms)"
is "$(wc -c < "$TMP/sig.json")" 0 "and no records"
sig_once TERM
is "$SIG_RC" 143 "SIGTERM during the --once wait: status 143 (${SIG_MS} ms)"

# ---- follow mode ---------------------------------------------------------------
: > "$TMP/ns1.log"
# -v -v: it says when a name failed and when it saw resolv.conf change
nsbg "$EMIT" -v -v --no-process --no-geoip --interval 0 > "$TMP/follow.json" 2>"$TMP/follow.err"
EPID=$BGPID
at_exit "kill $EPID 2>/dev/null"
wait_for 5 grep -q snapshot-end "$TMP/follow.json"
ok $? "follow mode: the snapshot is written"
t0=$(ms)
tcp 10.99.0.1 203.0.113.7 42001 443		# answered after 1.2 s
tcp 10.99.0.1 203.0.113.7 42002 443		# the same address
tcp 10.99.0.1 203.0.113.8 42003 443		# another one, answered too
tcp 10.99.0.1 198.51.101.200 42004 443		# never answered
# jq -e cannot say whether a select matched: grep its output
has_late() { jq -c 'select(.event.action == "update" and .source.port == 42002 and .destination.domain)' "$TMP/follow.json" | grep -q .; }
wait_for 6 has_late
ok $? "a late name comes as an update ($(($(ms) - t0)) ms after the flow)"
wait_for 3 sh -c "jq -c 'select(.event.action == \"update\" and .source.port == 42003 and .destination.domain)' '$TMP/follow.json' | grep -q ."
upd7=$(jq -c 'select(.event.action == "update" and .destination.domain == "203-0-113-7.auto.test") | .source.port' "$TMP/follow.json" | sort -n | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
is "$upd7" "42001x1 42002x1 " "one update each for exactly the flows with that address"
bad=$(jq -c 'select(.event.action == "update" and (.destination.domain // "" | endswith(".auto.test")) and .destination.domain != ((.destination.ip | gsub("[.]"; "-")) + ".auto.test"))' "$TMP/follow.json" | wc -l)
is "$bad" 0 "no flow gets another address's name"
is "$(jq -c 'select(.source.port == 42004 and .event.action == "update")' "$TMP/follow.json" | wc -l)" 0 \
	"no update for a flow whose name never comes"

# a changed resolv.conf: the next questions go to the new server, and so
# do those still with the old one.  The files are looked at at most once
# a second, in the resolver's rounds, which run while it is busy or when
# an address it has no answer for is looked up: an idle emitter sees the
# change with the next such look-up, and until then a flow to an address
# that failed with the old servers takes that failure from the cache, and
# never gets a name (a quiet machine gave 77's flow a name only because
# it came while 77's question was still out; under load it failed first).
# So, in order: once 198.51.101.77 of the snapshot has failed with the old
# server, the change; a flow to an address not asked before, asked of the
# old server or already of the new; once the change is seen, the flow to
# 198.51.101.77, whose failure is asked again.
wait_line 15 "$TMP/follow.err" 'no name for 198\.51\.101\.77: '
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$NS2" > "/etc/netns/$NS/resolv.conf"
tcp 10.99.0.1 192.0.2.200 42006 443
wait_line 5 "$TMP/follow.err" "'/etc/resolv.conf' changed"
named() {	# named PORT NAME: the flow from PORT got NAME
	jq -c "select(.source.port == $1 and .destination.domain == \"$2\")" "$TMP/follow.json" | grep -q .
}
wait_for 5 named 42006 192-0-2-200.auto.test
ok $? "a flow as resolv.conf changes: a name from the new server"
t0=$(ms)
tcp 10.99.0.1 198.51.101.77 42005 443
wait_for 5 named 42005 198-51-101-77.auto.test
ok $? "a changed resolv.conf is followed: an address that failed with the old server gets a name from the new ($(($(ms) - t0)) ms)"
grep -q -x '77.101.51.198.in-addr.arpa' "$TMP/ns2.log"
ok $? "the new server was asked"
# each of those questions was answered before the next was asked: c-ares
# had no query left in between, and must keep its socket all the same
tcp 10.99.0.1 198.51.101.79 42007 443
wait_for 5 named 42007 198-51-101-79.auto.test
is "$(nsx conntrack -L -p udp --dport 53 2>/dev/null | grep -c "dst=$NS2 ")" 1 \
	"questions far apart in time are one flow to the name server too"

# ---- a signal during the --once dump itself (no DNS wait: -n) -------------------
kill "$EPID" 2>/dev/null	# the follow-mode emitter has had its turn
wait "$EPID" 2>/dev/null
# a table big enough that the dump takes a while (within the machine's limit)
big=$(( $(cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null || echo 262144) / 2 ))
[ "$big" -gt 150000 ] && big=150000
nsx "$FLOWGEN" inject "$big" --family 4 --proto udp --offset 1000 --timeout 600 2>/dev/null
: > "$TMP/dump.json"
nsbg "$EMIT" --once -n --no-process --no-geoip > "$TMP/dump.json" 2>/dev/null
pid=$BGPID
wait_for 10 test -s "$TMP/dump.json"	# records are being written: mid-dump
kill -INT "$pid"
wait "$pid"
is "$?" 130 "SIGINT during the --once dump: status 130"
n=$(wc -l < "$TMP/dump.json")
[ "$n" -lt "$big" ]; ok $? "and it stopped part way ($n of $big records)"
done_testing
