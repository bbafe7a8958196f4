#!/bin/bash
# 23-emit-refresh.t - follow mode's refresh dumps stretch past --interval as
# the table grows, so that they take at most a small share of a core (see
# --interval in flowtop-emit(1)); -v says so, with the dump's cost.
. "$(dirname "$0")/lib.sh"
netns_setup
plan 3

# 20,000 flows cost a dump some milliseconds of CPU: without counters the
# refresh may take 1% of the time, so the next one is ~99 times that away,
# far past --interval 0.1
nsx "$TOP/build/tools/flowgen" inject 20000 --family 4 --proto udp --timeout 600 >/dev/null 2>&1
nsbg "$EMIT" -n --no-geoip --no-process -v --interval 0.1 > "$TMP/out" 2> "$TMP/err"
at_exit "kill $BGPID 2>/dev/null"
wait_line 20 "$TMP/err" 'the next refresh in'
ok $? "-v says that the dump's cost stretched the interval"
line=$(grep 'the next refresh in' "$TMP/err" | head -n 1)
gap=$(echo "$line" | sed -n 's/.*the next refresh in \([0-9.]*\) s, not 0.1 s.*/\1/p')
cost=$(echo "$line" | sed -n 's/.*took \([0-9.]*\) s of CPU.*/\1/p')
diag "$line"
# both figures are rounded: the cost to 0.01 s, the gap to 0.1 s
awk -v g="$gap" -v c="$cost" \
	'BEGIN { exit !(g > 0.1 && g >= 99 * (c - 0.005) - 0.05 && g <= 99 * (c + 0.005) + 0.05) }'
ok $? "without counters, 1% of the time: the gap is 99 times the dump's cost ($gap s for $cost s)"
grep -q '(dumps take at most 1% of the time)' "$TMP/err"
ok $? "and the notice names the share"
