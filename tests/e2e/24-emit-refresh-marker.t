#!/bin/bash
# 24-emit-refresh-marker.t - follow mode writes a "refresh" marker at the end
# of each refresh dump (under --events markers): at scale refreshes are
# minutes apart, and a reader must be able to tell a quiet table from a
# stale one.  The marker is an ECS record like the others; the view shows
# how long ago the table was last confirmed whole ("refreshed Ns ago"),
# counting from snapshot-end or refresh, and takes the marker as no bad line.
. "$(dirname "$0")/lib.sh"
netns_setup
plan 9

ct_inject -s 192.0.2.1 -d 198.51.100.1 -p udp --sport 1001 --dport 53 -t 300
ct_inject -s 192.0.2.2 -d 198.51.100.2 -p udp --sport 1002 --dport 53 -t 300
E=("$EMIT" -n --no-process --no-geoip --interval 0.2)

# A dump walks the machine's whole conntrack hash, which other tests and
# benchmarks may fill: with a million flows elsewhere the 1 % share
# stretches --interval 0.2 to a minute or two (110 s seen under load).  -v
# says so at the first dump's end, before snapshot-end is out: the wait
# for the first refresh is what it says plus a minute.
refresh_wait() {	# refresh_wait ERRFILE: seconds to wait for the first refresh
	local g
	g=$(sed -n 's/.*the next refresh in \([0-9]*\)\.[0-9] s.*/\1/p' "$1" | head -n 1)
	echo $(( ${g:-0} + 60 ))
}

# markers only: the frame, then a refresh marker per refresh dump
M="$TMP/markers.json"
nsbg "${E[@]}" -v --events markers > "$M" 2>"$TMP/err"
at_exit "kill $BGPID 2>/dev/null"
wait_line 60 "$M" '"snapshot-end"'
wait_line "$(refresh_wait "$TMP/err")" "$M" '"refresh"'
ok $? "a refresh marker after a refresh dump"
kill "$BGPID"; wait "$BGPID" 2>/dev/null
is "$(jq -r .event.action "$M" | uniq | head -n 3 | tr '\n' ' ')" "snapshot-begin snapshot-end refresh " \
	"the frame first, then refresh markers alone"
jq -s -e 'map(select(.event.action == "refresh")) | length >= 1 and
	all(.[]; .event.dataset == "flowtop.marker" and (has("source") or has("conntrack") | not)
		and (."@timestamp" | test("^20[0-9-]+T[0-9:.]+Z$")))' "$M" >/dev/null
ok $? "a refresh marker is a marker: event.dataset flowtop.marker, a time, no flow fields"

# the ECS check takes it (event.action is a keyword without listed values)
SCHEMA=$("$TOP/scripts/install-deps" --ecs-path)
if [ -s "$SCHEMA" ]; then
	grep '"refresh"' "$M" > "$TMP/refresh.json"
	python3 "$TOP/tests/tools/ecs_check.py" "$SCHEMA" json "$TMP/refresh.json" \
		--require event.action,event.dataset > "$TMP/ecs.out"
	ok $? "the refresh markers pass the ECS check" || head -n 5 "$TMP/ecs.out" >&2
else
	ok 0 "# SKIP no ECS schema (scripts/install-deps fetches it)"
fi

# CSV: a row with only @timestamp and event.action filled
C="$TMP/markers.csv"
nsbg "${E[@]}" -v --events markers --format csv --fields @timestamp,event.action,source.ip > "$C" 2>"$TMP/cerr"
CPID=$BGPID
at_exit "kill $CPID 2>/dev/null"
wait_line 60 "$C" ',snapshot-end,$'
wait_line "$(refresh_wait "$TMP/cerr")" "$C" ',refresh,$'
ok $? "CSV: a refresh row, its flow columns empty"
kill "$CPID"; wait "$CPID" 2>/dev/null

# the view: the age counts from snapshot-end, a refresh marker sets it back,
# and a marker is no bad line
command -v tmux >/dev/null || { skip_all_rest=1; }
if [ -n "${skip_all_rest-}" ]; then
	for i in 1 2 3 4; do ok 0 "# SKIP tmux not installed"; done
	exit 0
fi
tmux_setup
F="$TMP/stream.fifo"
mkfifo "$F"
tm new-session -d -s v -x 120 -y 20 "export LANG=C.UTF-8 TERM=screen; $VIEW $F; sleep 30"
exec 7> "$F"
at_exit "exec 7>&-"
mark() { printf '{"@timestamp":"2026-12-02T15:00:0%s.000000Z","event":{"action":"%s","dataset":"flowtop.marker"}}\n' "$1" "$2" >&7; }
mark 0 snapshot-begin
printf '{"@timestamp":"2026-12-02T15:00:00.000000Z","event":{"action":"snapshot"},"network":{"type":"ipv4","transport":"udp"},"source":{"ip":"192.0.2.1","port":1001},"destination":{"ip":"198.51.100.1","port":53},"conntrack":{"id":11}}\n' >&7
WAIT_TICKS=100 wait_screen " 1/1 "
screen | grep -q refreshed
[ $? -ne 0 ]; ok $? "no refresh age before the table was ever confirmed whole"
mark 1 snapshot-end
# the age grows while nothing comes (a tick a second redraws it)
WAIT_TICKS=100 wait_screen "refreshed [2-9]s ago"
ok $? "after snapshot-end the status counts the seconds since"
mark 2 refresh
WAIT_TICKS=60 wait_screen "refreshed [01]s ago"
ok $? "a refresh marker sets the age back"
screen | grep -q "bad lines"
[ $? -ne 0 ]; ok $? "the markers are no bad lines"
