#!/bin/bash
# --accounting turns the namespace's counters and timestamps on, and puts
# back exactly what was there on SIGTERM, SIGINT, SIGHUP and a closed pipe.
# Without it, nothing changes.  (These are the test namespace's sysctls.)
. "$(dirname "$0")/lib.sh"
netns_setup
plan 24

A=/proc/sys/net/netfilter/nf_conntrack_acct
S=/proc/sys/net/netfilter/nf_conntrack_timestamp
get() { nsx cat $A $S | tr '\n' ' '; }
set_both() { nsx sh -c "echo $1 > $A; echo $2 > $S"; }

ct_inject -s 192.0.2.1 -d 198.51.100.2 -p tcp --sport 1 --dport 443 --state ESTABLISHED -t 300

set_both 0 0
nsx "$EMIT" --once -n >/dev/null 2>"$TMP/err"
is "$(get)" "0 0 " "without --accounting nothing changes"
grep -q -- 'counters are off.*--accounting' "$TMP/err"; ok $? "and it says once that counters are off, naming the flag"
is "$(grep -c 'counters are off' "$TMP/err")" 1 "only once"

for sig in TERM INT HUP; do
	for start in "0 0" "1 0"; do
		# shellcheck disable=SC2086
		set_both $start
		nsbg "$EMIT" -n --no-process --no-geoip --accounting > "$TMP/out" 2>/dev/null
		wait_line 5 "$TMP/out" snapshot-end
		on=$(get)
		kill -$sig "$BGPID"; wait "$BGPID"; st=$?
		if [ "$on" = "1 1 " ] && [ "$(get)" = "$start " ] && [ $st -eq 0 ]; then
			ok 0 "SIG$sig from '$start': on while running, restored after, status 0"
		else
			ok 1 "SIG$sig from '$start': on while running, restored after, status 0"
			diag "while running: $on, after: $(get), status $st"
		fi
	done
done

# SIGTERM while events pour in: taken at once, settings restored.  The
# signal goes once the stream shows the flood's first 1,000 new flows.
set_both 0 0
nsbg "$EMIT" -n --no-process --no-geoip --accounting > "$TMP/flood" 2>/dev/null
EPID=$BGPID
wait_line 5 "$TMP/flood" snapshot-end
nsx "$TOP/build/tools/flowgen" burst 30000 >/dev/null 2>&1 &
GEN=$!
news() { grep -c '"action":"new"' "$TMP/flood"; }
flooding() { [ "$(news)" -ge 1000 ]; }
wait_for 5 flooding; flowing=$?
n=$(news)
t0=$(date +%s%N)
kill -TERM "$EPID"; wait "$EPID"; st=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
wait "$GEN"
[ $flowing -eq 0 ] && [ $st -eq 0 ] && [ $ms -lt 2000 ] && [ "$(get)" = "0 0 " ]
ok $? "SIGTERM during an event flood ($n of 30000 new flows out): exits in ${ms} ms, status $st, restored"

# a closed pipe: the reader goes after one line, the next write fails
set_both 0 1
# the emitter's own pid, not a pattern that other runs on the machine match
nsx sh -c 'echo $$ > "$0"; exec "$@"' "$TMP/pipe.pid" "$EMIT" -n --no-process --no-geoip --accounting 2>"$TMP/err" |
	head -1 > /dev/null &
wait_for 5 sh -c "[ \"\$(ip netns exec $NS cat $A)\" = 1 ]"
ct_inject -s 192.0.2.9 -d 198.51.100.2 -p udp --sport 9 --dport 53 -t 300
wait $!
PIPE_EPID=$(cat "$TMP/pipe.pid")
wait_for 5 sh -c "! kill -0 $PIPE_EPID 2>/dev/null" || diag "the emitter still runs after its reader went"
is "$(get)" "0 1 " "a closed pipe restores the settings too"
! grep -qi 'pipe' "$TMP/err"; ok $? "and ends quietly"

# a reader that stalls (| sleep 30): the pipe fills, and TERM must still act at
# once; the pipe's shared file description must not be made non-blocking
set_both 0 0
nsx "$TOP/build/tools/flowgen" inject 20000 --timeout 600 >/dev/null 2>&1
mkfifo "$TMP/fifo"
# a reader that never reads (python, not sleep(1): other tests on the
# machine may clean up stray sleeps)
python3 -c 'import time; time.sleep(60)' < "$TMP/fifo" &
SLEEPER=$!
at_exit "kill $SLEEPER 2>/dev/null"
nsbg "$EMIT" -n --no-process --no-geoip --accounting > "$TMP/fifo" 2>"$TMP/err"
EPID=$BGPID
at_exit "kill -9 $EPID 2>/dev/null"
pipe_full() {
	python3 -c 'import fcntl, os, sys, termios, array
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
n = array.array("i", [0]); fcntl.ioctl(fd, termios.FIONREAD, n)
sys.exit(0 if n[0] >= 60000 else 1)' "/proc/$SLEEPER/fd/0"
}
wait_for 10 pipe_full; ok $? "the reader stalls with a full pipe" || cat "$TMP/err" >&2
flags=$(awk '/^flags:/ {print $2}' "/proc/$EPID/fdinfo/1")
# (no flags at all, a gone emitter, must not pass as blocking)
[ -n "$flags" ] && [ $(( 0$flags & 04000 )) -eq 0 ]; ok $? "the shared stdout stays blocking (flags $flags)"
t0=$(date +%s%N)
kill -TERM "$EPID"
wait_for 3 sh -c "! kill -0 $EPID"; gone=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $gone -eq 0 ] && wait "$EPID"; st=$?
[ $gone -eq 0 ] && [ $ms -lt 1000 ] && [ $st -eq 0 ] && [ "$(get)" = "0 0 " ]
ok $? "SIGTERM with a stalled reader: exits in ${ms} ms, status $st, restored ($(get))"
kill "$SLEEPER" 2>/dev/null

# the same with --once, which writes through stdio with the signals open
python3 -c 'import time; time.sleep(60)' < "$TMP/fifo" &
SLEEPER=$!
at_exit "kill $SLEEPER 2>/dev/null"
nsbg "$EMIT" --once -n --no-process --no-geoip --accounting > "$TMP/fifo" 2>"$TMP/err"
EPID=$BGPID
at_exit "kill -9 $EPID 2>/dev/null"
wait_for 10 pipe_full
t0=$(date +%s%N)
kill -TERM "$EPID"
wait_for 3 sh -c "! kill -0 $EPID"; gone=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $gone -eq 0 ] && wait "$EPID"; st=$?
[ $gone -eq 0 ] && [ $ms -lt 1000 ] && [ $st -eq 143 ] && [ "$(get)" = "0 0 " ] && [ ! -s "$TMP/err" ]
ok $? "--once, SIGTERM with a stalled reader: exits in ${ms} ms, status $st, restored, quiet" || cat "$TMP/err" >&2
kill "$SLEEPER" 2>/dev/null
nsx conntrack -F >/dev/null 2>&1

# kill -9 leaves the settings on (nothing can run at SIGKILL); the run
# wrote what it replaced to a state file of its namespace first, and the
# next run there puts it back and says so once; a run in another
# namespace leaves it alone
INO=$(nsx stat -L -c %i /proc/self/ns/net)
STATE=/run/flowtop/acct-$INO.state
at_exit "rm -f $STATE"
set_both 0 0
nsbg "$EMIT" -n --no-process --no-geoip --accounting > /dev/null 2>&1
EPID=$BGPID
wait_for 5 sh -c "[ \"\$(ip netns exec $NS cat $A $S | tr '\n' ' ')\" = '1 1 ' ]"
grep -q "^pid=$EPID\$" "$STATE" && grep -q '^acct=0$' "$STATE" && grep -q '^timestamp=0$' "$STATE"
ok $? "--accounting writes what it replaced, and its pid, to $STATE"
kill -9 "$EPID"; wait "$EPID" 2>/dev/null
is "$(get)" "1 1 " "kill -9 leaves the settings on"
OTHER="$NS-other"
ip netns add "$OTHER" && at_exit "ip netns del $OTHER"
ip netns exec "$OTHER" "$EMIT" --once -n > /dev/null 2>"$TMP/err"
[ "$(get)" = "1 1 " ] && [ -e "$STATE" ] && ! grep -q restored "$TMP/err"
ok $? "a run in another namespace leaves them alone"
nsx "$EMIT" --once -n > /dev/null 2>"$TMP/err"
[ "$(get)" = "0 0 " ] && [ ! -e "$STATE" ] &&
	[ "$(grep -c "restored net.netfilter.nf_conntrack_acct=0 and net.netfilter.nf_conntrack_timestamp=0, which run $EPID" "$TMP/err")" = 1 ]
ok $? "the next run in the namespace puts them back and says so once"
nsx "$EMIT" --once -n > /dev/null 2>"$TMP/err"
! grep -q restored "$TMP/err"; ok $? "and the run after it says nothing"
# a live run's file is left alone; a clean end removes it
set_both 0 1
nsbg "$EMIT" -n --no-process --no-geoip --accounting > /dev/null 2>&1
EPID=$BGPID
wait_for 5 test -e "$STATE"
nsx "$EMIT" --once -n > /dev/null 2>"$TMP/err"
[ "$(get)" = "1 1 " ] && ! grep -q restored "$TMP/err"; ok $? "a running run's settings are not touched"
kill "$EPID"; wait "$EPID"
[ "$(get)" = "0 1 " ] && [ ! -e "$STATE" ]; ok $? "a clean end restores and removes the state file"

# counters and start times appear in records of flows made while it is on
set_both 0 0
nsbg "$EMIT" -n --no-process --no-geoip --accounting --interval 0 > "$TMP/out" 2>/dev/null
wait_line 5 "$TMP/out" snapshot-end
ct_inject -s 192.0.2.77 -d 198.51.100.2 -p tcp --sport 7 --dport 443 --state ESTABLISHED -t 300
nsx "$EMIT" --once -n > "$TMP/acct.json" 2>/dev/null
kill "$BGPID"; wait "$BGPID"
jq -s -e 'map(select(.source.ip == "192.0.2.77"))[0] | (.source.bytes | type) == "number" and (.network.packets | type) == "number" and (.event.start | test("Z$"))' "$TMP/acct.json" >/dev/null
ok $? "with --accounting, records carry counters and event.start"
done_testing
