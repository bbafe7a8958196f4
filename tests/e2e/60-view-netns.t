#!/bin/bash
# flowtop-view on a stream of several network namespaces (issue 10), in a
# real terminal (tmux), fed the way flowtop-emit --all-netns writes it: one
# frame around the first dump of every namespace, the same tuple and
# conntrack id in two of them, containers; then an overrun in one namespace
# and its unframed resync (its flows as snapshot records, a destroy for one
# it lost).  The namespace column, N to show one namespace, search by
# container and netns name, per-process rows per container, the narrow
# layout dropping the column first, bad namespace fields.  Last, the real
# emitter with --netns twice: --once into --batch, and follow mode on the
# screen.
. "$(dirname "$0")/lib.sh"
[ -x "$VIEW" ] || skip_all "flowtop-view not built"
command -v tmux >/dev/null || skip_all "tmux not installed"
plan 26

tmux_setup
rows() { screen | sed '1,3d;$d' | sed 's/ *$//' | grep -v '^$'; }

CID=a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6abcd
# rec ACTION ID SRC SPORT DST DPORT TRANSPORT STATE NETNS-JSON [CONTAINER-JSON]
rec() {
	local state= cont=
	[ "$8" != - ] && state="\"state\":\"$8\","
	[ -n "${10-}" ] && cont=",\"container\":${10}"
	printf '{"@timestamp":"2026-12-02T15:00:01.000000Z","event":{"action":"%s"},"network":{"type":"ipv4","transport":"%s"},"source":{"ip":"%s","port":%s},"destination":{"ip":"%s","port":%s},"process":{"pid":4242,"name":"nginx"}%s,"conntrack":{"id":%s,%s"netns":%s}}\n' \
		"$1" "$7" "$3" "$4" "$5" "$6" "$cont" "$2" "$state" "$9"
}
mark() { printf '{"@timestamp":"2026-12-02T15:00:0%s.000000Z","event":{"action":"%s"}%s}\n' "$1" "$2" "${3-}"; }
A='{"inode":4026532101}'
AC="{\"id\":\"$CID\",\"runtime\":\"docker\"}"
B='{"inode":4026532102,"name":"blue"}'
W='{"inode":4026532103}'
WC='{"id":"web","name":"web","runtime":"systemd-nspawn"}'
H='{"inode":4026531840}'
{
	mark 0 snapshot-begin
	# the same id and tuple in the container's namespace and in blue
	rec snapshot 7 192.0.2.1 611 198.51.100.1 443 tcp ESTABLISHED "$A" "$AC"
	rec snapshot 8 192.0.2.2 622 198.51.100.2 53 udp - "$A" "$AC"
	rec snapshot 7 192.0.2.1 611 198.51.100.1 443 tcp ESTABLISHED "$B"
	rec snapshot 9 192.0.2.3 633 198.51.100.3 22 tcp ESTABLISHED "$B"
	rec snapshot 5 192.0.2.4 644 198.51.100.4 8443 tcp ESTABLISHED "$W" "$WC"
	rec snapshot 6 192.0.2.5 655 198.51.100.5 123 udp - "$H"
	mark 1 snapshot-end
	# blue lost events: its resync has no frame; what it lost is destroyed
	mark 2 overrun ',"conntrack":{"netns":{"inode":4026532102,"name":"blue"}}'
	rec snapshot 7 192.0.2.1 611 198.51.100.1 443 tcp ESTABLISHED "$B"
	rec destroy 9 192.0.2.3 633 198.51.100.3 22 tcp CLOSE "$B"
} > "$TMP/ns.ndjson"

# --- 200 columns: the namespace in front of every line ---------------------
tmux_start 200 30 "$VIEW --linger 0 $TMP/ns.ndjson"
wait_screen 'stream ended'
ok $? "the stream is read to its end"
screen | sed -n 2p | grep -q 'flows 5/5 .*overruns 1'
ok $? "five flows after blue's resync, the overrun counted"
screen | sed -n 3p | grep -q 'NETNS \[PID/PROCESS\]:FAMILY'
ok $? "the heading names the namespace column"
rows | grep -q '^a1b2c3d4e5f6 \[4242/nginx\]:ipv4:tcp\[ESTABLISHED\]:443 -> 192.0.2.1:611 => 198.51.100.1:443' &&
	rows | grep -q '^blue \[4242/nginx\]:ipv4:tcp\[ESTABLISHED\]:443 -> 192.0.2.1:611 => 198.51.100.1:443'
ok $? "one tuple and id in two namespaces: two flows, the container's by its short id"
rows | grep -q '^web \[4242/nginx\].*:8443' && rows | grep -q '^4026531840 \[4242/nginx\]:ipv4:udp:123'
ok $? "a container by its name, an unnamed namespace by its inode"
! rows | grep -q ':633 ' && rows | grep -q '^a1b2c3d4e5f6 .*:622 '
ok $? "blue's resync dropped its lost flow and none of the container's"
screen | tail -1 | grep -q 'N namespace'
ok $? "the key line offers N"
tm send-keys -t v h
wait_screen 'N  *next namespace or container alone' && screen | grep -q 'NETNS  *container name or id'
ok $? "the help explains N and the column"
tm send-keys -t v h
wait_gone 'any key closes this help'

# --- N: one namespace at a time, in the order of their names ---------------
tm send-keys -t v N
wait_screen 'filter ns 4026531840 (Esc clears)'
ok $? "N: the first namespace, on the status line with how to undo it"
tm send-keys -t v N
wait_screen 'filter ns a1b2c3d4e5f6 (Esc clears)' &&
	screen | sed -n 2p | grep -q 'flows 2/5' && [ "$(rows | grep -vc '^a1b2c3d4e5f6 ')" -eq 0 ]
ok $? "N again: the container's two flows alone"
screen | tail -1 | grep -q 'namespace a1b2c3d4e5f6 (2 of 4): N the next, Esc all'
ok $? "the bottom line says which of how many"
tm send-keys -t v N N N
wait_screen 'all 4 namespaces' && wait_gone 'filter ns' && screen | sed -n 2p | grep -q 'flows 5/5'
ok $? "after the last: all again"
tm send-keys -t v N N N Escape
wait_gone 'filter ns' && screen | sed -n 2p | grep -q 'flows 5/5'
ok $? "Esc clears the namespace filter"

# --- search: container name and id, netns name -------------------------------
tm send-keys -t v / b l u e Enter
wait_screen 'filter /blue' && [ "$(rows | wc -l)" -eq 1 ] && rows | grep -q '^blue '
ok $? "search by ip-netns name"
tm send-keys -t v / Escape / c 3 d 4 e 5 f 6 Enter
wait_screen 'filter /c3d4e5f6' && [ "$(rows | wc -l)" -eq 2 ] && [ "$(rows | grep -c '^a1b2c3d4e5f6 ')" -eq 2 ]
ok $? "search by container id"
tm send-keys -t v / Escape / w e b Enter
wait_screen 'filter /web' && [ "$(rows | wc -l)" -eq 1 ] && rows | grep -q '^web '
ok $? "search by container name"
tm send-keys -t v / Escape
wait_gone 'filter /'

# --- TAB: a process in two namespaces is two rows -----------------------------
tm send-keys -t v Tab
wait_screen 'PID  NETNS        PROCESS'
ok $? "the per-process heading has the namespace"
[ "$(rows | grep -c ' nginx ')" -eq 4 ] && rows | grep -q '4242  a1b2c3d4e5f6 nginx  *2 ' &&
	rows | grep -q '4242  blue         nginx  *1 '
ok $? "one process, a row per namespace with its flows"
tm send-keys -t v N N
wait_screen 'filter ns a1b2c3d4e5f6' && [ "$(rows | wc -l)" -eq 1 ]
ok $? "the process view follows the namespace filter"
tm send-keys -t v Escape Tab
wait_screen '^ flows [0-9]'

# --- 80 columns: compact, the namespace last, the first column to go --------
tmux_start 80 30 "$VIEW --linger 0 $TMP/ns.ndjson"
wait_screen 'stream ended'
! screen | grep -q NETNS && rows | grep -q '^\[4242/nginx\] *tcp .*198\.51\.100\.4:8443'
ok $? "narrow: no namespace column in view, the destination is"
tm send-keys -t v Right Right Right Right Right Right Right Right Right Right
wait_screen 'NETNS' && rows | grep -q ' web$' && rows | grep -q ' blue$'
ok $? "it scrolls in from the right"

# --- plain streams look as they did; bad namespace fields -------------------
"$TOP/scripts/view-gen" --flows 20 --seed 3 > "$TMP/plain.ndjson"
! "$VIEW" --batch "$TMP/plain.ndjson" | grep -q NETNS && ! "$VIEW" --batch -c "$TMP/plain.ndjson" | grep -q NETNS
ok $? "a plain stream has no namespace column"
{
	rec snapshot 1 192.0.2.1 1 198.51.100.1 80 tcp ESTABLISHED '{"inode":"4026532101"}'
	rec snapshot 2 192.0.2.1 2 198.51.100.1 80 tcp ESTABLISHED '{"inode":-1}'
	rec snapshot 3 192.0.2.1 3 198.51.100.1 80 tcp ESTABLISHED '{"inode":4026532101,"name":7}'
	rec snapshot 4 192.0.2.1 4 198.51.100.1 80 tcp ESTABLISHED '{"inode":4026532101}' \
		'{"id":"x","name":"ev\u001b[31mil\u0007"}'
} > "$TMP/bad.ndjson"
"$VIEW" --batch "$TMP/bad.ndjson" > "$TMP/bad.out" 2> "$TMP/bad.err"
grep -q 'skipped 3 bad lines' "$TMP/bad.err" && [ "$(wc -l < "$TMP/bad.out")" -eq 1 ]
ok $? "a namespace inode not a number, negative, a name not a string: bad lines"
R=$(printf '\357\277\275')	# U+FFFD, what the view puts for a control character
grep -qF "ev$R[31mil$R [4242/nginx]" "$TMP/bad.out" && ! grep -q "$(printf '\033')" "$TMP/bad.out"
ok $? "control characters of a container name never reach the terminal"

# --- the real emitter: two namespaces, the same tuple in each ---------------
if [ "$(id -u)" -ne 0 ] || ! command -v conntrack >/dev/null || ! [ -x "$EMIT" ] ||
	! ip netns add "flowtop-probe-$$" 2>/dev/null; then
	T_N=$((T_N + 1))
	echo "ok $T_N # SKIP needs root, network namespaces, conntrack and flowtop-emit"
	T_N=$((T_N + 1))
	echo "ok $T_N # SKIP needs root, network namespaces, conntrack and flowtop-emit"
else
	ip netns del "flowtop-probe-$$"
	netns_setup
	B2="$NS-b"
	ip netns add "$B2" && at_exit "ip netns del $B2 2>/dev/null"
	for n in "$NS" "$B2"; do
		ip netns exec "$n" conntrack -I -s 192.0.2.1 -d 198.51.100.1 -p tcp --sport 611 \
			--dport 443 --state ESTABLISHED -t 300 -u SEEN_REPLY,ASSURED >/dev/null 2>&1
	done
	"$EMIT" --once -n --no-geoip --netns "$NS" --netns "$B2" 2>"$TMP/emit.err" |
		"$VIEW" --batch -n > "$TMP/real.out" 2>&1
	grep -q "^$NS .*192\.0\.2\.1:611 => 198\.51\.100\.1:443" "$TMP/real.out" &&
		grep -q "^$B2 .*192\.0\.2\.1:611 => 198\.51\.100\.1:443" "$TMP/real.out" &&
		[ "$(wc -l < "$TMP/real.out")" -eq 2 ]
	ok $? "flowtop-emit --netns A --netns B: the same tuple twice, each by its namespace" ||
		cat "$TMP/real.out" "$TMP/emit.err" >&2
	# follow mode on the screen: a flow that ends in one namespace leaves
	# its twin in the other.  The twins are made while the emitter
	# listens: with nf_conntrack_events=2 (the kernel's default) only a
	# flow made then carries events, and an older one's end would wait
	# for a refresh dump, which a busy machine stretches (--interval is a
	# minimum)
	for n in "$NS" "$B2"; do
		ip netns exec "$n" conntrack -D -s 192.0.2.1 >/dev/null 2>&1
	done
	tmux_start 200 30 "$EMIT -n --no-geoip --netns $NS --netns $B2 2>$TMP/follow.err | $VIEW --linger 0"
	wait_screen 'refreshed [0-9]'	# the first frame is out: it listens
	for n in "$NS" "$B2"; do
		ip netns exec "$n" conntrack -I -s 192.0.2.1 -d 198.51.100.1 -p tcp --sport 611 \
			--dport 443 --state ESTABLISHED -t 300 -u SEEN_REPLY,ASSURED >/dev/null 2>&1
	done
	wait_screen "^$B2 .*192\.0\.2\.1:611 => 198\.51\.100\.1:443" &&
		wait_screen "^$NS .*192\.0\.2\.1:611 => 198\.51\.100\.1:443" &&
		ip netns exec "$NS" conntrack -D -s 192.0.2.1 >/dev/null 2>&1 &&
		wait_gone "^$NS .*192\.0\.2\.1:611" &&
		screen | grep -q "^$B2 .*192\.0\.2\.1:611 => 198\.51\.100\.1:443"
	ok $? "follow mode: the flow deleted in one namespace goes, its twin in the other stays" ||
		cat "$TMP/follow.err" >&2
fi
