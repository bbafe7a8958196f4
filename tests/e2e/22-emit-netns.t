#!/bin/bash
# Other network namespaces from the host: two named ones (A, B) with
# injected flows, the same tuple in both, a TCP client in A; an unnamed one
# held by an `unshare -n` process placed in a docker-style cgroup.
# --all-netns sees every flow tagged with its namespace (and container),
# --netns-filter keeps to the ones it names (a name, a container id, an inode);
# --netns NAME only that one; follow mode picks up a namespace made later
# and drops a deleted one with destroy records; an overrun in one
# namespace resyncs it alone.  This machine has other namespaces too (other
# tests, other copies of this one, benchmarks of a million flows): every
# --all-netns run keeps to the test's namespaces with --netns-filter (a dump
# of any namespace walks the machine's whole table, so one of a million
# flows would make each of them slow), every check selects the test's own
# namespaces by inode, and the others are only read.
. "$(dirname "$0")/lib.sh"
netns_setup
plan 40

A=$NS
B="$NS-b"
C="$NS-c"
ip netns add "$B" || { echo "Bail out! cannot add netns $B"; exit 1; }
at_exit "ip netns del $B 2>/dev/null"
at_exit "ip netns del $C 2>/dev/null"
X="$NS-x"
ip netns add "$X" || { echo "Bail out! cannot add netns $X"; exit 1; }
at_exit "ip netns del $X 2>/dev/null"
ino() { stat -L -c %i "$1"; }
INO_A=$(ino "/run/netns/$A")
INO_B=$(ino "/run/netns/$B")
INO_X=$(ino "/run/netns/$X")
INO_H=$(ino /proc/self/ns/net)

# the same tuple in A, B and X (which no filter names), and one of each of A's and B's own
for n in "$A" "$B" "$X"; do
	ip netns exec "$n" conntrack -I -s 192.0.2.1 -d 198.51.100.1 -p tcp --sport 611 --dport 443 \
		--state ESTABLISHED -t 300 -u SEEN_REPLY,ASSURED >/dev/null 2>&1
done
ip netns exec "$A" conntrack -I -s 192.0.2.2 -d 198.51.100.2 -p udp --sport 622 --dport 53 -t 300 >/dev/null 2>&1
ip netns exec "$B" conntrack -I -s 2001:db8::3 -d 2001:db8::4 -p tcp --sport 633 --dport 22 \
	--state SYN_SENT -t 300 >/dev/null 2>&1

# a TCP client in A, held open
cat > "$TMP/tcp.py" <<'PY'
import socket, sys, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("10.99.0.1", 688)); srv.listen()
c = socket.create_connection(("10.99.0.1", 688)); a, _ = srv.accept()
c.send(b"x"); a.recv(1)
open(sys.argv[1], "w").write("%d\n" % c.getsockname()[1])
time.sleep(600)
PY
nsbg python3 "$TMP/tcp.py" "$TMP/cport"
TCPPID=$BGPID
at_exit "kill $TCPPID 2>/dev/null"

# the unnamed namespace, in a docker-style cgroup when cgroup v2 lets us
CID=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
unshare -n sleep 600 &
UPID=$!
at_exit "kill $UPID 2>/dev/null"
wait_for 5 sh -c "[ \$(stat -L -c %i /proc/$UPID/ns/net) != \$(stat -L -c %i /proc/self/ns/net) ]"
INO_U=$(ino "/proc/$UPID/ns/net")
nsenter -t "$UPID" -n conntrack -I -s 192.0.2.9 -d 198.51.100.9 -p tcp --sport 644 --dport 8443 \
	--state ESTABLISHED -t 300 >/dev/null 2>&1
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
CGTOP=
if [ -n "$CG2" ] && mkdir "$CG2/flowtop-t$$" 2>/dev/null; then
	CGTOP="$CG2/flowtop-t$$"
	# the process leaves the cgroup (it is killed first: hooks run newest first)
	at_exit "rmdir $CGTOP/system.slice/docker-$CID.scope $CGTOP/system.slice $CGTOP"
	mkdir -p "$CGTOP/system.slice/docker-$CID.scope" &&
		echo "$UPID" > "$CGTOP/system.slice/docker-$CID.scope/cgroup.procs" || CGTOP=
	at_exit "kill -9 $UPID 2>/dev/null; wait $UPID"
fi
wait_for 5 test -s "$TMP/cport"
CPORT=$(cat "$TMP/cport")

# --- --all-netns --once ---------------------------------------------------
MINE="--netns-filter $A --netns-filter $B --netns-filter $INO_U --netns-filter $INO_H"
"$EMIT" --all-netns $MINE --once -n --no-geoip > "$TMP/all.json" 2>"$TMP/all.err"
ok $? "--all-netns --once exits 0"
n=$(jq -r '.conntrack.netns.inode' "$TMP/all.json" | sort -u | grep -cvx -e "$INO_A" -e "$INO_B" -e "$INO_U" -e "$INO_H")
is "$n" 0 "--netns-filter: no namespace it does not name (by name or inode)"
json_lines_valid "$TMP/all.json"; ok $? "every line is JSON"
# one namespace's records as ctkeys lines (id proto src sport dst dport state)
mine() { jq -c "select(.conntrack.netns.inode == $2)" "$1" | python3 "$TOP/tests/tools/ctkeys.py" stream; }
kernel() { { $1 conntrack -L -f ipv4 -o id; $1 conntrack -L -f ipv6 -o id; } 2>/dev/null |
	python3 "$TOP/tests/tools/ctkeys.py" conntrack; }
mine "$TMP/all.json" "$INO_A" > "$TMP/a.ours"
kernel "ip netns exec $A" > "$TMP/a.kernel"
[ -s "$TMP/a.kernel" ] && diff "$TMP/a.kernel" "$TMP/a.ours" >&2
ok $? "A: the same flows as conntrack -L in A ($(wc -l < "$TMP/a.kernel"))"
mine "$TMP/all.json" "$INO_B" > "$TMP/b.ours"
kernel "ip netns exec $B" > "$TMP/b.kernel"
[ -s "$TMP/b.kernel" ] && diff "$TMP/b.kernel" "$TMP/b.ours" >&2
ok $? "B: the same flows as conntrack -L in B ($(wc -l < "$TMP/b.kernel"))"
mine "$TMP/all.json" "$INO_U" > "$TMP/u.ours"
kernel "nsenter -t $UPID -n" > "$TMP/u.kernel"
[ -s "$TMP/u.kernel" ] && diff "$TMP/u.kernel" "$TMP/u.ours" >&2
ok $? "the unnamed namespace: the same flows as conntrack -L in it ($(wc -l < "$TMP/u.kernel"))"
n=$(jq -c "select(.source.port == 611 and .destination.port == 443) | .conntrack.netns.inode" \
	"$TMP/all.json" | grep -cx -e "$INO_A" -e "$INO_B")
is "$n" 2 "the same tuple in A and B: two flows, one in each"
n=$(jq -r "select(.conntrack.netns.inode == $INO_A) | .conntrack.netns.name" "$TMP/all.json" | sort -u)
is "$n" "$A" "A's flows carry conntrack.netns.name"
n=$(jq -r "select(.conntrack.netns.inode == $INO_B) | .conntrack.netns.name" "$TMP/all.json" | sort -u)
is "$n" "$B" "B's flows carry B's name"
n=$(jq -r "select(.conntrack.netns.inode == $INO_U) | [.source.port, (.conntrack.netns.name // \"-\")] | @tsv" \
	"$TMP/all.json")
is "$n" "644	-" "the unnamed namespace's flow, without a name"
if [ -n "$CGTOP" ]; then
	n=$(jq -r "select(.conntrack.netns.inode == $INO_U) | [.container.id, .container.runtime] | @tsv" \
		"$TMP/all.json")
	is "$n" "$CID	docker" "its container.id and container.runtime from the docker-<id>.scope cgroup"
else
	ok 0 "# SKIP no writable cgroup v2 hierarchy"
fi
n=$(jq -r "select(.conntrack.netns.inode == $INO_A and .container) | .container.id" "$TMP/all.json" | wc -l)
is "$n" 0 "A (no process in a container) has no container fields"
n=$(jq -r "select(.conntrack.netns.inode == $INO_A and .source.port == $CPORT and .destination.port == 688) |
	.process.pid" "$TMP/all.json")
is "$n" "$TCPPID" "the TCP client in A is attributed to its pid"
n=$(jq -r 'select(.conntrack.netns.inode == null)' "$TMP/all.json" | wc -l)
is "$n" 0 "every record names its namespace (the host's too)"
if [ -n "$CGTOP" ]; then
	"$EMIT" --all-netns --netns-filter "${CID:0:12}" --once -n --no-geoip > "$TMP/cid.json" 2>&1
	n=$(jq -r '.conntrack.netns.inode' "$TMP/cid.json" | sort -u)
	is "$n" "$INO_U" "--netns-filter with a short container id: that container's flows only"
else
	ok 0 "# SKIP no writable cgroup v2 hierarchy"
fi
"$EMIT" --netns-filter "$A" --once > /dev/null 2>&1; rc=$?
is "$rc" 2 "--netns-filter without --all-netns is a usage error"
SCHEMA=$("$TOP/scripts/install-deps" --ecs-path 2>/dev/null)
if [ -s "$SCHEMA" ]; then
	python3 "$TOP/tests/tools/ecs_check.py" "$SCHEMA" json "$TMP/all.json" >&2
	ok $? "container.* and every field outside conntrack.* are ECS fields of the right type"
else
	ok 0 "# SKIP no ECS schema (scripts/install-deps fetches it)"
fi
n=$(jq -c "select(.conntrack.netns.inode == $INO_A and .source.port == 622 and .destination.port == 53)" \
	"$TMP/all.json" | wc -l)
is "$n" 1 "each namespace once: A's own flow is written once"
n=$(jq -r '.conntrack.netns.inode' "$TMP/all.json" | sort | uniq -c | awk '$1 > 0 { print $2 }' |
	grep -cx -e "$INO_A" -e "$INO_B" -e "$INO_U")
is "$n" 3 "A, B and the unnamed namespace, each found by the scan"

# --- --netns -----------------------------------------------------------------
"$EMIT" --netns "$A" --once -n --no-geoip > "$TMP/a.json" 2>"$TMP/a.err"
ok $? "--netns NAME --once exits 0"
n=$(jq -r '.conntrack.netns.inode' "$TMP/a.json" | sort -u)
is "$n" "$INO_A" "--netns NAME: only that namespace's flows"
python3 "$TOP/tests/tools/ctkeys.py" stream < "$TMP/a.json" > "$TMP/a.only"
diff "$TMP/a.kernel" "$TMP/a.only" >&2; ok $? "--netns NAME: all of its flows"
"$EMIT" --netns "pid:$UPID" --netns "/run/netns/$B" --once -n --no-geoip > "$TMP/pb.json" 2>&1
n=$(jq -r '.conntrack.netns.inode' "$TMP/pb.json" | sort -u | tr '\n' ' ')
is "$n" "$(printf '%s\n' "$INO_U" "$INO_B" | sort -u | tr '\n' ' ')" "--netns pid:PID and --netns PATH, together"
nsx "$EMIT" --once -n --no-geoip > "$TMP/plain.json" 2>/dev/null
n=$(jq -c 'select(.conntrack.netns or .container)' "$TMP/plain.json" | wc -l)
is "$n" 0 "a plain run has no namespace or container fields"
"$EMIT" --netns flowtop-no-such-ns --once > /dev/null 2>"$TMP/err"; rc=$?
is "$rc:$(cat "$TMP/err")" "1:flowtop-emit: cannot open network namespace 'flowtop-no-such-ns': No such file or directory" \
	"an unknown namespace: exit 1, said why"
"$EMIT" --netns /etc/hostname --once > /dev/null 2>"$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q "'/etc/hostname'.*not a network namespace" "$TMP/err"
ok $? "a file that is no namespace: exit 1, said why"
"$EMIT" --netns pid:x --once > /dev/null 2>"$TMP/err"; rc=$?
is "$rc" 2 "a malformed pid:PID is a usage error"
"$EMIT" --all-netns --accounting --once > /dev/null 2>&1; rc=$?
is "$rc" 2 "--accounting with other namespaces is a usage error"
if command -v setpriv > /dev/null; then
	setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin "$EMIT" --netns "$A" --once -n \
		> /dev/null 2>"$TMP/err"; rc=$?
	[ $rc = 1 ] && grep -q "needs CAP_SYS_ADMIN" "$TMP/err"
	ok $? "without CAP_SYS_ADMIN: exit 1, the message names it ($(cat "$TMP/err"))"
else
	ok 0 "# SKIP no setpriv"
fi

# --- follow mode: a namespace made later, then deleted --------------------------
OUT="$TMP/follow.json"
"$EMIT" --all-netns --netns-filter "$A" --netns-filter "$C" -n --no-geoip --no-process -p tcp \
	> "$OUT" 2>"$TMP/follow.err" &
EPID=$!
at_exit "kill $EPID 2>/dev/null"
wait_for 30 grep -q snapshot-end "$OUT"; ok $? "follow mode: the first frame ends"
ip netns add "$C"
INO_C=$(ino "/run/netns/$C")
ip netns exec "$C" conntrack -I -s 192.0.2.77 -d 198.51.100.77 -p tcp --sport 677 --dport 80 \
	--state ESTABLISHED -t 300 >/dev/null 2>&1
# (jq 1.6's -e looks at the last line only: test the output instead)
has() { [ -n "$(jq -c "select($1)" "$OUT" 2>/dev/null)" ]; }
wait_for 30 has ".conntrack.netns.inode == $INO_C and .source.port == 677 and .conntrack.netns.name == \"$C\""
ok $? "a namespace made after the start is picked up, with its flow"
ip netns exec "$C" conntrack -I -s 192.0.2.78 -d 198.51.100.78 -p tcp --sport 678 --dport 80 \
	--state ESTABLISHED -t 300 >/dev/null 2>&1
wait_for 5 has ".conntrack.netns.inode == $INO_C and .source.port == 678 and .event.action == \"new\""
ok $? "its events come as new records"
n=$(jq -c "select(.conntrack.netns.inode == $INO_X)" "$OUT" | wc -l)
is "$n" 0 "follow mode: --netns-filter leaves out a namespace it does not name, in later scans too"
ip netns del "$C"
wait_for 30 has ".conntrack.netns.inode == $INO_C and .source.port == 677 and .event.action == \"destroy\""
ok $? "a deleted namespace is dropped with destroy records for its flows"
kill "$EPID" 2>/dev/null
wait "$EPID" 2>/dev/null
mine "$OUT" "$INO_A" > "$TMP/a.follow"
grep ' tcp ' "$TMP/a.kernel" | diff - "$TMP/a.follow" >&2
ok $? "follow mode: A's TCP flows as the kernel has them"

# --- an overrun in B resyncs B alone ------------------------------------------
OUT="$TMP/overrun.json"
"$EMIT" --netns "$A" --netns "$B" -n --no-geoip --no-process --interval 0 --buffer-size 4K \
	> "$OUT" 2>"$TMP/overrun.err" &
EPID=$!
at_exit "kill -CONT $EPID 2>/dev/null; kill $EPID 2>/dev/null"
wait_for 10 grep -q snapshot-end "$OUT"
kill -STOP "$EPID"
ip netns exec "$B" "$TOP/build/tools/flowgen" inject 1500 --timeout 600 >/dev/null 2>&1
# its event lost in the overrun too: only the resync can say it went
ip netns exec "$B" conntrack -D -f ipv6 -p tcp --sport 633 >/dev/null 2>&1
kill -CONT "$EPID"
wait_for 10 has ".event.action == \"overrun\" and .conntrack.netns.inode == $INO_B"
ok $? "an overrun marker that names B"
kernel "ip netns exec $B" > "$TMP/b.kernel"
wait_for 10 sh -c "jq -c 'select(.conntrack.netns.inode == $INO_B)' $OUT |
	python3 $TOP/tests/tools/ctkeys.py stream | cmp -s - $TMP/b.kernel"
ok $? "B's resync: the replayed stream equals B's table ($(wc -l < "$TMP/b.kernel") flows)"
n=$(awk '/"snapshot-end"/ { e = 1; next } e && /"snapshot-begin"/ { n++ } END { print n + 0 }' "$OUT")
is "$n" 0 "no second frame that a reader would sweep A's flows by"
mine "$OUT" "$INO_A" > "$TMP/a.after"
diff "$TMP/a.kernel" "$TMP/a.after" >&2; ok $? "A's flows untouched by B's resync"
"$VIEW" --batch < "$OUT" > "$TMP/view.txt" 2>&1
grep -q '198.51.100.2:53' "$TMP/view.txt"; ok $? "the view still shows A's flows"
kill "$EPID" 2>/dev/null

done_testing
