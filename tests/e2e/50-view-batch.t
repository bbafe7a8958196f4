#!/bin/bash
# flowtop-view --batch: a replayed stream printed sorted, line by line as
# expected; updates merge, destroys and dumps remove, CSV reads the same.
. "$(dirname "$0")/lib.sh"
[ -x "$VIEW" ] || skip_all "flowtop-view not built"
plan 12

T0='"@timestamp":"2026-11-29T14:10:30.000000Z"'
T1='"@timestamp":"2026-11-29T14:10:31.000000Z"'
T2='"@timestamp":"2026-11-29T14:10:33.000000Z"'
cat > "$TMP/s.ndjson" <<EOF
{$T0,"event":{"action":"snapshot-begin"}}
{$T0,"event":{"action":"snapshot"},"network":{"type":"ipv4","transport":"udp","protocol":"domain"},"source":{"ip":"10.99.0.1","port":40000},"destination":{"ip":"10.99.0.53","port":53},"process":{"pid":7,"name":"resolved"},"conntrack":{"id":1}}
{$T0,"event":{"action":"snapshot"},"network":{"type":"ipv4","transport":"tcp","protocol":"ssh"},"source":{"ip":"10.99.0.2","port":50000},"destination":{"ip":"10.99.0.1","port":22},"conntrack":{"id":2,"state":"TIME_WAIT"}}
{$T0,"event":{"action":"snapshot"},"network":{"type":"ipv4","transport":"tcp","protocol":"https"},"source":{"ip":"192.0.2.10","port":41536,"domain":"host.example","geo":{"country_iso_code":"NO","country_name":"Norway","city_name":"Oslo"}},"destination":{"ip":"140.82.121.4","port":443,"domain":"github.com","geo":{"country_iso_code":"US","country_name":"United States"}},"process":{"pid":11001,"name":"chromium-browser"},"conntrack":{"id":3,"state":"SYN_SENT"}}
{$T0,"event":{"action":"snapshot"},"network":{"type":"ipv6","transport":"tcp"},"source":{"ip":"fd99::1","port":33000},"destination":{"ip":"fd99::2","port":8080},"process":{"pid":99,"name":"curl"},"conntrack":{"id":4,"state":"ESTABLISHED"}}
{$T0,"event":{"action":"snapshot"},"network":{"type":"ipv4","transport":"icmp"},"source":{"ip":"10.99.0.1"},"destination":{"ip":"10.99.0.9"},"conntrack":{"id":5,"icmp":{"type":8,"code":0,"id":77}}}
{$T0,"event":{"action":"snapshot"},"network":{"type":"ipv4","transport":"tcp"},"source":{"ip":"10.99.0.1","port":1},"destination":{"ip":"10.99.0.7","port":7},"conntrack":{"id":6,"state":"CLOSE_WAIT"}}
{$T0,"event":{"action":"snapshot-end"}}
{$T1,"event":{"action":"update"},"conntrack":{"id":3,"state":"ESTABLISHED"}}
{$T1,"event":{"action":"destroy"},"conntrack":{"id":6}}
{$T1,"event":{"action":"new"},"network":{"type":"ipv4","transport":"tcp"},"source":{"ip":"10.99.0.1","port":2},"destination":{"ip":"10.99.0.8","port":80},"conntrack":{"id":7,"state":"FIN_WAIT"}}
{$T2,"event":{"action":"snapshot-begin"}}
{$T2,"event":{"action":"snapshot"},"conntrack":{"id":1}}
{$T2,"event":{"action":"snapshot"},"conntrack":{"id":2}}
{$T2,"event":{"action":"snapshot"},"conntrack":{"id":3}}
{$T2,"event":{"action":"snapshot"},"conntrack":{"id":4}}
{$T2,"event":{"action":"snapshot"},"conntrack":{"id":7}}
{$T2,"event":{"action":"snapshot-end"}}
EOF

cat > "$TMP/want" <<'EOF'
[11001/chromium-browser]:ipv4:tcp[ESTABLISHED]:https -> host.example:41536 (Norway, Oslo) => github.com:443 (United States, N/A)
[99/curl]:ipv6:tcp[ESTABLISHED]:8080 -> [fd99::1]:33000 => [fd99::2]:8080
bridged(?):ipv4:tcp[FIN_WAIT]:80 -> 10.99.0.1:2 => 10.99.0.8:80
bridged(?):ipv4:tcp[TIME_WAIT]:ssh -> 10.99.0.2:50000 => 10.99.0.1:22
[7/resolved]:ipv4:udp:domain -> 10.99.0.1:40000 => 10.99.0.53:53
EOF
"$VIEW" --batch "$TMP/s.ndjson" > "$TMP/got" 2> "$TMP/err"
ok $? "batch exits 0"
diff -u "$TMP/want" "$TMP/got" >&2
ok $? "sorted by state, updates merged, destroyed and swept flows gone"
is "$(cat "$TMP/err")" "" "nothing on stderr for a clean stream"

"$VIEW" --batch --width 40 "$TMP/s.ndjson" > "$TMP/got40"
cut -c1-40 "$TMP/want" | sed 's/ *$//' > "$TMP/want40"
diff -u "$TMP/want40" "$TMP/got40" >&2
ok $? "--width 40 cuts each line at 40 columns"

"$VIEW" --batch --numeric "$TMP/s.ndjson" | grep -c '192.0.2.10:41536' | grep -qx 1
ok $? "--numeric shows addresses, not names"

"$VIEW" --batch --sort process "$TMP/s.ndjson" | head -3 > "$TMP/proc"
is "$(cut -d: -f1 "$TMP/proc" | tr '\n' ' ')" "[11001/chromium-browser] [99/curl] [7/resolved] " "--sort process: by name"

"$VIEW" --batch -r "$TMP/s.ndjson" | head -1 | grep -q '^\[7/resolved\]'
ok $? "--reverse puts stateless flows first"

# the same flows as CSV give the same lines
cat > "$TMP/s.csv" <<'EOF'
@timestamp,event.action,network.type,network.transport,network.protocol,source.ip,source.port,destination.ip,destination.port,process.pid,process.name,conntrack.id,conntrack.state,conntrack.status
2026-11-29T14:10:30.000000Z,snapshot,ipv6,tcp,,fd99::1,33000,fd99::2,8080,99,curl,4,ESTABLISHED,SEEN_REPLY|ASSURED
2026-11-29T14:10:30.000000Z,snapshot,ipv4,udp,domain,10.99.0.1,40000,10.99.0.53,53,7,resolved,1,,
EOF
"$VIEW" --batch "$TMP/s.csv" > "$TMP/gotcsv"
grep -e curl -e resolved "$TMP/want" | sort -r | diff -u - "$TMP/gotcsv" >&2
ok $? "CSV with a header reads the same"

# counters switch on the columns; rate from successive records
cat > "$TMP/c.ndjson" <<EOF
{$T0,"event":{"action":"new","start":"2026-11-29T14:09:30.000000Z"},"network":{"type":"ipv4","transport":"tcp"},"source":{"ip":"10.0.0.1","port":1,"bytes":1000},"destination":{"ip":"10.0.0.2","port":2,"bytes":0},"conntrack":{"id":1,"state":"ESTABLISHED"}}
{$T2,"event":{"action":"update"},"source":{"bytes":5000},"destination":{"bytes":2000},"conntrack":{"id":1}}
EOF
printf '%s\n' "  SENT   RECV     RATE    AGE  FLOW" \
	"  4.9K   2.0K   2.0K/s   1m03  bridged(?):ipv4:tcp[ESTABLISHED]:2 -> 10.0.0.1:1 => 10.0.0.2:2" > "$TMP/wantc"
"$VIEW" --batch "$TMP/c.ndjson" | diff -u "$TMP/wantc" - >&2
ok $? "counter columns: bytes each way, rate, age"

# stdin, and a closed pipe ends quietly
"$VIEW" --batch < "$TMP/s.ndjson" | cmp -s - "$TMP/want"
ok $? "reads stdin"
for i in $(seq 3000); do echo "{$T0,\"event\":{\"action\":\"new\"},\"conntrack\":{\"id\":$i}}"; done > "$TMP/many"
"$VIEW" --batch "$TMP/many" | head -1 > /dev/null
ok "${PIPESTATUS[0]}" "closed pipe: exit 0"

# --for: follow a stream that does not end
start=$(date +%s%N)
timeout 4 "$VIEW" --batch --for 0.5 <(cat "$TMP/s.ndjson"; exec sleep 3 2>/dev/null) > "$TMP/gotfor"
rc=$?
el=$(( ($(date +%s%N) - start) / 1000000 ))
[ $rc -eq 0 ] && [ $el -lt 2000 ] && cmp -s "$TMP/gotfor" "$TMP/want"
ok $? "--for 0.5 prints after half a second (rc $rc, ${el} ms)"
done_testing
