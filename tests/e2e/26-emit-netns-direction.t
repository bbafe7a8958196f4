#!/bin/bash
# 26-emit-netns-direction.t - network.direction is the program's own
# namespace's view: --all-netns watches that namespace like any other and
# tags its flows with its inode, yet they keep their direction; a flow of
# another namespace has none (its addresses are not ours).
. "$(dirname "$0")/lib.sh"
[ -x "$EMIT" ] || skip_all "flowtop-emit not built"
netns_setup
plan 3

ct_inject -s 10.99.0.1 -d 198.51.100.2 -p tcp --sport 1234 --dport 443 --state ESTABLISHED -t 300 -u SEEN_REPLY,ASSURED
INO=$(nsx stat -L -c %i /proc/self/ns/net)
dir() { jq -r 'select(.destination.port == 443) | .network.direction // "none"'; }

is "$(nsx "$EMIT" --once -n --no-geoip 2>"$TMP/err" | dir)" egress \
	"a plain run: egress from the namespace's own address"
is "$(nsx "$EMIT" --once -n --no-geoip --all-netns --netns-filter "$INO" 2>"$TMP/err" | dir)" egress \
	"--all-netns: the program's own namespace's flow keeps its direction"
is "$("$EMIT" --once -n --no-geoip --netns "$NS" 2>"$TMP/err" | dir)" none \
	"--netns of another namespace: no direction"
done_testing
