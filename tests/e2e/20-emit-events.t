#!/bin/bash
# --events writes only the record kinds asked for (the tracker still sees
# everything); --no-header leaves out CSV's first line.
. "$(dirname "$0")/lib.sh"
netns_setup
plan 12

ct_inject -s 192.0.2.1 -d 198.51.100.1 -p tcp --sport 1001 --dport 443 --state ESTABLISHED -t 300
ct_inject -s 192.0.2.2 -d 198.51.100.2 -p udp --sport 1002 --dport 53 -t 300
ct_inject -s 192.0.2.3 -d 198.51.100.3 -p udp --sport 1003 --dport 123 -t 300
E=("$EMIT" -n --no-process --no-geoip)

# --once: every record is a snapshot
nsx "${E[@]}" --once --events new > "$TMP/new.json" 2>/dev/null
ok $? "--once --events new exits 0"
[ ! -s "$TMP/new.json" ]; ok $? "--once --events new writes nothing (the records are snapshots)"
nsx "${E[@]}" --once > "$TMP/all.json" 2>/dev/null
nsx "${E[@]}" --once --events snapshot > "$TMP/snap.json" 2>/dev/null
[ "$(wc -l < "$TMP/all.json")" -eq 3 ] && [ "$(wc -l < "$TMP/snap.json")" -eq 3 ] &&
	jq -s -e 'all(.[]; .event.action == "snapshot")' "$TMP/snap.json" >/dev/null
ok $? "--once --events snapshot writes them all"

# --no-header: same rows, no header
F=(--format csv --fields source.ip,destination.port)
nsx "${E[@]}" --once "${F[@]}" > "$TMP/h.csv" 2>/dev/null
nsx "${E[@]}" --once "${F[@]}" --no-header > "$TMP/nh.csv" 2>/dev/null
[ "$(head -1 "$TMP/h.csv")" = "source.ip,destination.port" ] &&
	[ "$(tail -n +2 "$TMP/h.csv" | sort)" = "$(sort "$TMP/nh.csv")" ] &&
	[ "$(wc -l < "$TMP/nh.csv")" -eq 3 ] && ! grep -q source.ip "$TMP/nh.csv"
ok $? "--no-header: CSV without its header line, the same rows"

# follow mode, markers only: the frame and nothing else (no refresh dumps,
# so no refresh markers: 24 tests those)
M="$TMP/markers.json"
nsbg "${E[@]}" --interval 0 --events markers > "$M" 2>/dev/null
MPID=$BGPID
at_exit "kill $MPID 2>/dev/null"
wait_for 5 grep -q snapshot-end "$M"
kill "$MPID"; wait "$MPID" 2>/dev/null
is "$(jq -r .event.action "$M" | tr '\n' ' ')" "snapshot-begin snapshot-end " \
	"--events markers: the snapshot frame, no flow records"

# follow mode, a connection log: new and destroy only.  -v says when the
# event socket listens: flows made after that come as new.  A flow of the
# snapshot gets its destroy only if the snapshot was read before the
# kernel's DESTROY event (else the tracker rightly drops a flow that was
# gone before the stream named it), so 192.0.2.3 goes only once a record
# is out: the kernel fills a small table's dump when asked, before the
# loop's first round, and records leave at the start of the next round.
O="$TMP/log.json"
nsbg "${E[@]}" -v --interval 0.2 --events new,destroy > "$O" 2>"$TMP/err"
EPID=$BGPID
at_exit "kill $EPID 2>/dev/null"
wait_for 5 grep -q "event socket" "$TMP/err"
for i in 1 2 3; do
	ct_inject -s 203.0.113.$i -d 198.51.100.9 -p udp --sport 200$i --dport 53 -t 300
done
wait_record 5 "$O" '.source.ip == "203.0.113.1"'
nsx conntrack -D -s 192.0.2.3 >/dev/null 2>&1
wait_record 5 "$O" '.source.ip == "192.0.2.3" and .event.action == "destroy"'
ok $? "follow mode: a destroy of a snapshot's flow deleted after the start"
# a status change: an update event, which must not be written
nsx conntrack -U -p udp -s 203.0.113.1 -m 7 -u ASSURED >/dev/null 2>&1
for i in 1 2 3; do
	nsx conntrack -D -s 203.0.113.$i >/dev/null 2>&1
done
flows='select(.source.ip | startswith("203.0.113."))'
wait_for 5 sh -c "[ \$(jq -c '$flows | select(.event.action == \"destroy\")' $O | wc -l) -ge 3 ]"
ok $? "three flows injected and deleted: three destroys"
kill "$EPID"; wait "$EPID" 2>/dev/null
is "$(jq -r "$flows | \"\(.source.ip) \(.event.action)\"" "$O" | sort | tr '\n' ' ')" \
	"203.0.113.1 destroy 203.0.113.1 new 203.0.113.2 destroy 203.0.113.2 new 203.0.113.3 destroy 203.0.113.3 new " \
	"each flow once as new and once as destroy, nothing else"
is "$(jq -r .event.action "$O" | sort -u | tr '\n' ' ')" "destroy new " \
	"no snapshot, update or marker records"

# usage errors
for args in "--events new,bogus" "--events ''" "--no-header"; do
	eval "nsx \"\$EMIT\" --once $args" > /dev/null 2> "$TMP/uerr"
	rc=$?
	case $args in
	*bogus*) want="--events word 'bogus'" ;;
	*"''"*) want="--events word ''" ;;
	*) want="--no-header needs --format csv" ;;
	esac
	[ $rc -eq 2 ] && grep -q "^flowtop-emit: .*$want" "$TMP/uerr"
	ok $? "$args: status 2, says what is wrong"
	[ $rc -eq 2 ] || diag "status $rc: $(cat "$TMP/uerr")"
done
done_testing
