#!/bin/bash
# flowtop against the real kernel, in a private namespace, in a real terminal:
# --track turns tracking on, a connection the test makes appears, shows
# closed and goes; q stops the emitter and removes the nftables table.  And a
# failed emitter start gives the emitter's message and status.
. "$(dirname "$0")/lib.sh"
FT="$TOP/flowtop"
[ -x "$FT" ] && [ -x "$EMIT" ] && [ -x "$VIEW" ] || skip_all "flowtop not built"
command -v tmux >/dev/null || skip_all "tmux not installed"
netns_setup
plan 11

# no tracking rule of our own: --track must provide it
nsx nft delete table inet flowtop_test

tmux_setup
WAIT_TICKS=100

tm new-session -d -s v -x 160 -y 30 "export LANG=C.UTF-8 TERM=screen; ip netns exec $NS $FT --track -n --no-geoip --interval 1 2>$TMP/err; echo rc=\$? > $TMP/rc; sleep 30"
tm set-option -t v remain-on-exit on >/dev/null
wait_screen 'Kernel netfilter'
ok $? "flowtop is up"
wait_for 3 nsx nft list table inet flowtop_track
ok $? "--track added the nftables table"

# a real connection on the namespace's loopback, held open
nsx python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.99.0.1", 5555)); s.listen(1)
c, _ = s.accept(); time.sleep(30)' >/dev/null 2>&1 &
SRV=$!
at_exit "kill $SRV"
wait_for 3 sh -c "ip netns exec $NS ss -Hltn 'sport = :5555' | grep -q 5555"
nsx python3 -c '
import socket, sys, time
c = socket.create_connection(("10.99.0.1", 5555)); c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
open(sys.argv[1], "w").write("up")
while open(sys.argv[1]).read() != "close": time.sleep(0.05)
c.close()' "$TMP/cli" >/dev/null 2>&1 &
CLI=$!
at_exit "kill $CLI"
wait_for 3 test -s "$TMP/cli"
wait_screen 'tcp\[ESTABLISHED\]:5555 -> 10.99.0.1:[0-9]* => 10.99.0.1:5555'
ok $? "the connection shows up, ESTABLISHED"
screen | grep 'ESTABLISHED\]:5555' | grep -q '\[[0-9]*/python3\]'
ok $? "with its process"

# close it with a reset: the kernel moves it to CLOSE
printf close > "$TMP/cli"
wait_screen 'tcp\[CLOSE\]:5555'
ok $? "the closed connection shows CLOSE"
screen > "$TMP/closed"
# delete the entry, as expiry would: destroy event, dimmed, then gone
nsx conntrack -D -p tcp --dport 5555 >/dev/null 2>&1
for i in $(seq 100); do screen | grep -q ':5555' || break; sleep 0.05; done
! screen | grep -q ':5555'
ok $? "destroyed flow leaves the screen"

tm send-keys -t v q
wait_for 5 test -s "$TMP/rc"
is "$(cat "$TMP/rc")" "rc=0" "q ends flowtop with status 0"
! nsx nft list table inet flowtop_track >/dev/null 2>&1
ok $? "the nftables table is gone"
[ -z "$(ip netns pids "$NS" | xargs -r ps -o comm= -p | grep flowtop-emit)" ]
ok $? "no flowtop-emit left running"

# the emitter cannot start: its message, its status, the terminal untouched
setpriv --reuid=65534 --regid=65534 --clear-groups "$FT" > "$TMP/out" 2> "$TMP/err2" < /dev/null
rc=$?
is "$rc" 1 "unprivileged: the emitter's status"
grep -q 'flowtop-emit: .*CAP_NET_ADMIN' "$TMP/err2" && ! grep -q . "$TMP/out"
ok $? "unprivileged: the emitter's own message, nothing drawn"
done_testing
