#!/bin/bash
# Input that used to cost more than itself (issue 12): a stray quote in CSV
# swallowed the rest of the stream; a junk first line with a comma locked
# the reader into CSV; a number written as a JSON string passed; the byte
# sort wrapped at 2^64; strings of flows dropped at --max-flows stayed in
# the pool.
. "$(dirname "$0")/lib.sh"
[ -x "$VIEW" ] || skip_all "flowtop-view not built"
plan 12

H='@timestamp,event.action,network.type,network.transport,source.ip,source.port,destination.ip,destination.port,process.name,conntrack.id'
row() { echo "2026-11-29T14:10:30.000000Z,new,ipv4,tcp,10.0.0.$1,$1,10.0.1.$1,80,$2,$1"; }
{
	echo "$H"
	row 1 one
	row 2 '"unterminated'
	row 3 'st"ray'
	row 4 '"a"b"'
	for i in $(seq 5 50); do row "$i" "p$i"; done
} > "$TMP/q.csv"
"$VIEW" --batch "$TMP/q.csv" > "$TMP/out" 2> "$TMP/err"
ok $? "CSV with stray quotes: status 0"
is "$(wc -l < "$TMP/out")" 47 "every good row is shown: the first and the 46 after the broken three"
is "$(cat "$TMP/err")" "flowtop-view: skipped 3 bad lines (0 too long)" "only the three broken rows are lost, and counted"

T='"@timestamp":"2026-11-29T14:10:30.000000Z"'
j() { echo "{$T,\"event\":{\"action\":\"new\"},\"network\":{\"type\":\"ipv4\",\"transport\":\"tcp\"},\"source\":{\"ip\":\"10.0.0.$1\",\"port\":$2},\"destination\":{\"ip\":\"10.0.1.$1\",\"port\":80},\"conntrack\":{\"id\":$1,\"state\":\"ESTABLISHED\"}}"; }
{ echo 'Warning: something, somewhere'; j 1 1000; j 2 2000; } > "$TMP/junk.ndjson"
"$VIEW" --batch "$TMP/junk.ndjson" > "$TMP/out" 2> "$TMP/err"
is "$(wc -l < "$TMP/out")" 2 "a junk first line with a comma, then JSON: both flows read"
is "$(cat "$TMP/err")" "flowtop-view: skipped 1 bad lines (0 too long)" "the junk line is the only bad one"
{ echo 'a,b,c'; echo "$H"; row 1 one; } > "$TMP/junk.csv"
"$VIEW" --batch "$TMP/junk.csv" 2> "$TMP/err" | grep -q '^\[?/one\]'
ok $? "junk, then a CSV header: read as CSV"

# numbers as JSON strings are the wrong type: bad lines
{ j 1 1000; j 2 '"2000"'; j 3 3000 | sed 's/"id":3/"id":"3"/'; } > "$TMP/types.ndjson"
"$VIEW" --batch "$TMP/types.ndjson" > "$TMP/out" 2> "$TMP/err"
[ "$(wc -l < "$TMP/out")" = 1 ] && grep -q '10\.0\.0\.1:1000' "$TMP/out"
ok $? "\"port\":\"2000\" and \"id\":\"3\" are not taken as numbers"
is "$(cat "$TMP/err")" "flowtop-view: skipped 2 bad lines (0 too long)" "they are counted as bad lines"

# 16 EiB (2^63 each way) sorts above 909 TiB, not wrapped to zero
c() { echo "{$T,\"event\":{\"action\":\"new\"},\"network\":{\"type\":\"ipv4\",\"transport\":\"tcp\"},\"source\":{\"ip\":\"10.0.0.$1\",\"port\":1,\"bytes\":$2},\"destination\":{\"ip\":\"10.0.1.$1\",\"port\":80,\"bytes\":$3},\"conntrack\":{\"id\":$1}}"; }
{ c 1 999444702822400 0; c 2 9223372036854775808 9223372036854775808; c 3 5 5; } > "$TMP/bytes.ndjson"
"$VIEW" --batch --sort bytes --numeric "$TMP/bytes.ndjson" | sed 1d | grep -o '10\.0\.0\.[0-9]' > "$TMP/order"
is "$(tr '\n' ' ' < "$TMP/order")" "10.0.0.2 10.0.0.1 10.0.0.3 " "--sort bytes: 16 EiB, then 909 TiB, then 10 bytes"

# flows dropped at --max-flows leave no strings behind
{
	j 1 1 | sed 's/"conntrack"/"process":{"name":"kept"},"conntrack"/'
	for i in $(seq 2 2001); do
		echo "{$T,\"event\":{\"action\":\"new\"},\"source\":{\"ip\":\"10.0.$((i / 250)).$((i % 250))\",\"domain\":\"dropped-$i.example\"},\"process\":{\"name\":\"proc-$i\"},\"conntrack\":{\"id\":$i}}"
	done
} > "$TMP/many.ndjson"
"$VIEW" --batch --stats --max-flows 1 "$TMP/many.ndjson" > "$TMP/out" 2> "$TMP/err"
grep -q 'table full at 1 flows, dropped 2000' "$TMP/err"
ok $? "--max-flows 1: 2000 flows dropped" || cat "$TMP/err" >&2
n=$(sed -n 's/.*strings [0-9]* bytes (\([0-9]*\) distinct).*/\1/p' "$TMP/err")
[ -n "$n" ] && [ "$n" -le 10 ]
ok $? "their 4000 names are not in the pool (${n:-?} distinct strings)" || cat "$TMP/err" >&2
"$VIEW" --batch --stats "$TMP/many.ndjson" 2> "$TMP/err" > /dev/null
n=$(sed -n 's/.*strings [0-9]* bytes (\([0-9]*\) distinct).*/\1/p' "$TMP/err")
[ -n "$n" ] && [ "$n" -ge 4000 ]
ok $? "without the cap the same stream keeps them all (${n:-?} distinct strings)"
done_testing
