#!/bin/bash
# Every number option of flowtop-view refuses NaN, infinities, negative and
# overflowing values as a usage error naming the option (issue 12: --fps nan
# died with SIGFPE, --linger nan kept closed flows for ever), and still takes
# good values.
. "$(dirname "$0")/lib.sh"
[ -x "$VIEW" ] || skip_all "flowtop-view not built"
OPTS="--fps --linger --max-flows --width --for"
BAD="nan inf -1 1e999 0x10 '' 12abc"
plan $(( $(echo $OPTS | wc -w) * ($(eval "set -- $BAD"; echo $#) + 1) ))

for opt in $OPTS; do
	eval "set -- $BAD"
	for v in "$@"; do
		timeout 5 "$VIEW" --batch "$opt" "$v" /dev/null > "$TMP/out" 2> "$TMP/err"
		rc=$?
		[ $rc -eq 2 ] && [ ! -s "$TMP/out" ] &&
			head -1 "$TMP/err" | grep -q "^flowtop-view: bad value for $opt '$v'"
		ok $? "$opt '$v': usage error naming the option (status $rc)" || cat "$TMP/err" >&2
	done
done

# the good values still work
T='"@timestamp":"2026-11-29T14:10:30.000000Z"'
echo "{$T,\"event\":{\"action\":\"new\"},\"network\":{\"type\":\"ipv4\",\"transport\":\"udp\"},\"source\":{\"ip\":\"10.0.0.1\",\"port\":1},\"destination\":{\"ip\":\"10.0.0.2\",\"port\":53},\"conntrack\":{\"id\":1}}" > "$TMP/one"
for ov in "--fps 30" "--linger 0.5" "--max-flows 10" "--width 60" "--for 0.2"; do
	timeout 5 "$VIEW" --batch $ov "$TMP/one" > "$TMP/out" 2> "$TMP/err"
	rc=$?
	[ $rc -eq 0 ] && grep -q '10\.0\.0\.1' "$TMP/out" && [ ! -s "$TMP/err" ]
	ok $? "$ov is taken (status $rc)" || cat "$TMP/err" >&2
done
done_testing
