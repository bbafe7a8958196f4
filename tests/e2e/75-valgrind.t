#!/bin/bash
# 75-valgrind.t - the house rule "clean under valgrind", checked: the
# emitter's --once and follow mode (ended by SIGTERM) over a namespace with
# a real connection whose process and user are looked up (the user name
# helper thread must be gone at exit, not "possibly lost"), and the view's
# --batch over a generated stream.  Any memory error, or a definite or
# possible leak, fails.  With names looked up (no -n), as a user runs it:
# the exit then takes long enough that a detached helper was still alive
# at it in most runs.
. "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null || skip_all "needs valgrind"
[ -x "$EMIT" ] && [ -x "$VIEW" ] || skip_all "programs not built"
netns_setup
plan 7

VG="valgrind -q --leak-check=full --show-leak-kinds=definite,possible
    --errors-for-leak-kinds=definite,possible --error-exitcode=99"

# a connection held by a process, so that process and user are asked
nsbg python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.99.0.1", 7075)); s.listen()
c = socket.create_connection(("10.99.0.1", 7075)); a, _ = s.accept()
print("ready", flush=True); time.sleep(120)' > "$TMP/py.out"
at_exit "kill $BGPID 2>/dev/null"
wait_line 10 "$TMP/py.out" '^ready' || { echo "Bail out! no connection"; exit 1; }
ct_inject -s 2001:db8::7 -d 2001:db8::9 -p udp --sport 5001 --dport 123 -t 300

# valgrind's report (-q: errors and leaks only) is all of stderr but the
# emitter's own notices, which start with "flowtop-emit:"
vg_report() { grep -v '^flowtop-emit: ' "$1"; }

nsx $VG "$EMIT" --once > "$TMP/once.json" 2> "$TMP/once.err"
is "$?" 0 "--once exits 0 under valgrind"
jq -e 'select(.destination.port == 7075) | .user.name' "$TMP/once.json" 2>/dev/null | grep -q .
ok $? "--once named the connection's user (the helper thread ran)"
is "$(vg_report "$TMP/once.err")" "" "--once: no memory error, no leak"

nsbg $VG "$EMIT" --interval 0.5 > "$TMP/follow.json" 2> "$TMP/follow.err"
EPID=$BGPID
at_exit "kill $EPID 2>/dev/null"
wait_line 60 "$TMP/follow.json" '"snapshot-end"'
ct_inject -s 192.0.2.9 -d 198.51.100.9 -p udp --sport 5009 --dport 53 -t 300
wait_record 30 "$TMP/follow.json" '.event.action == "new" and .source.port == 5009'
kill -TERM "$EPID"
wait "$EPID"
is "$?" 0 "follow mode ends on SIGTERM with 0 under valgrind"
is "$(vg_report "$TMP/follow.err")" "" "follow mode: no memory error, no leak"

"$TOP/scripts/view-gen" --flows 500 --updates 500 > "$TMP/gen.json"
$VG "$VIEW" --batch "$TMP/gen.json" > "$TMP/view.out" 2> "$TMP/view.err"
is "$?" 0 "the view's --batch exits 0 under valgrind"
is "$(cat "$TMP/view.err")" "" "the view's --batch: no memory error, no leak"
done_testing
