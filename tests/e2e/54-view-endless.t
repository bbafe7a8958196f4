#!/bin/bash
# --batch on input that never runs dry (issue 12): --for, SIGTERM and SIGINT
# end the reading at once on /dev/zero, /dev/urandom and a big file, and
# the flows read so far are printed.
. "$(dirname "$0")/lib.sh"
[ -x "$VIEW" ] || skip_all "flowtop-view not built"
plan 10

# ms since START
START=0
clock() { START=$(date +%s%N); }
elapsed() { echo $(( ($(date +%s%N) - START) / 1000000 )); }

clock
timeout -k 1 5 "$VIEW" --batch --for 0.5 /dev/zero > "$TMP/out" 2> "$TMP/err"
rc=$? el=$(elapsed)
[ $rc -eq 0 ] && [ "$el" -lt 2500 ]
ok $? "--for 0.5 on /dev/zero: done in ${el} ms (rc $rc)"
grep -q 'skipped [1-9][0-9]* bad lines ([1-9][0-9]* too long)' "$TMP/err"
ok $? "its endless NUL line counted as too long" || cat "$TMP/err" >&2

clock
timeout -k 1 5 "$VIEW" --batch --for 0.5 /dev/urandom > "$TMP/out" 2> "$TMP/err"
rc=$? el=$(elapsed)
[ $rc -eq 0 ] && [ "$el" -lt 2500 ]
ok $? "--for 0.5 on /dev/urandom: done in ${el} ms (rc $rc)"

# signals: wait until the view has read something, then stop it
# sig_test SIG FILE: status and ms from the signal to the exit
sig_test() {
	"$VIEW" --batch "$2" > "$TMP/out" 2> "$TMP/err" &
	local pid=$! rc
	wait_for 5 sh -c "awk '/^rchar/ { exit !(\$2 > 1000000) }' /proc/$pid/io"
	clock
	kill -"$1" "$pid"
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
	kill -0 "$pid" 2>/dev/null && { kill -9 "$pid"; wait "$pid"; echo "killed $(elapsed)"; return; }
	wait "$pid"
	rc=$?
	echo "$rc $(elapsed)"
}
set -- $(sig_test TERM /dev/zero)
[ "$1" = 0 ] && [ "$2" -lt 1000 ]
ok $? "SIGTERM on /dev/zero: ends with status 0 at once (status $1 after $2 ms)"
set -- $(sig_test INT /dev/urandom)
[ "$1" = 0 ] && [ "$2" -lt 1000 ]
ok $? "SIGINT on /dev/urandom: ends with status 0 at once (status $1 after $2 ms)"
grep -q 'skipped [1-9][0-9]* bad lines' "$TMP/err"
ok $? "what was read before the signal is reported" || cat "$TMP/err" >&2

# a big regular file (always readable): 400 MB of records that keep one
# flow busy, then a second flow at the very end that --for never reaches
T='"@timestamp":"2026-11-29T14:10:30.000000Z"'
rec="{$T,\"event\":{\"action\":\"update\"},\"network\":{\"type\":\"ipv4\",\"transport\":\"tcp\"},\"source\":{\"ip\":\"10.0.0.1\",\"port\":1,\"domain\":\"busy.example\"},\"destination\":{\"ip\":\"10.0.0.2\",\"port\":2},\"conntrack\":{\"id\":1,\"state\":\"ESTABLISHED\"}}"
{ yes "$rec" | head -c 400000000; echo; echo "${rec/busy/last}" | sed 's/"id":1,/"id":2,/'; } > "$TMP/big"
clock
timeout -k 1 20 "$VIEW" --batch --for 0.3 "$TMP/big" > "$TMP/out" 2> "$TMP/err"
rc=$? el=$(elapsed)
[ $rc -eq 0 ] && [ "$el" -lt 1500 ]
ok $? "--for 0.3 on a 400 MB file: done in ${el} ms (rc $rc)"
grep -q 'busy\.example' "$TMP/out" && ! grep -q 'last\.example' "$TMP/out"
ok $? "it printed the flow read so far, not the one at the end" || cat "$TMP/out" >&2
# the slices add up to the whole: a smaller file (quick under ASan too) is
# read to its last line
{ yes "$rec" | head -c 20000000; echo; echo "${rec/busy/last}" | sed 's/"id":1,/"id":2,/'; } > "$TMP/big"
timeout -k 1 60 "$VIEW" --batch "$TMP/big" > "$TMP/out" 2> "$TMP/err"
ok $? "without --for a 20 MB file is read to the end"
[ "$(grep -c -e 'busy\.example' -e 'last\.example' "$TMP/out")" = 2 ]
ok $? "both flows, the last one included"
done_testing
