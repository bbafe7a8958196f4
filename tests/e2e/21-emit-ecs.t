#!/bin/bash
# Every field the emitter writes, outside conntrack.*, checked against the
# ECS schema itself (npm's @elastic/ecs, fetched by scripts/install-deps):
# the field table, real records of real flows (tcp, udp, icmp, ipv6, a
# destroy, markers) in JSON and CSV.  Then the values ECS cannot check: the
# community ID against the spec's published vectors, the seed option, the
# times of a destroy, the marker condition, host.*.
. "$(dirname "$0")/lib.sh"
CHECK="$TOP/tests/tools/ecs_check.py"
SCHEMA=$("$TOP/scripts/install-deps" --ecs-path)
netns_setup
plan 23

[ -s "$SCHEMA" ]
ok $? "the ECS schema is there ($SCHEMA; scripts/install-deps fetches it)" || {
	diag "run scripts/install-deps as root"; done_testing; }
ECS_VERSION=$(jq -r .version "$SCHEMA")

# the table: every field the emitter can write, whatever flows there are
"$EMIT" --list-fields > "$TMP/fields.txt"
python3 "$CHECK" "$SCHEMA" fields "$TMP/fields.txt" > "$TMP/check.out"
ok $? "--list-fields: every field outside conntrack.* is an ECS $ECS_VERSION field of a fitting type" ||
	cat "$TMP/check.out" >&2

# the checker itself fails on what it must refuse (so that a pass means
# something): wrong types, unknown fields, arrays ECS does not allow, values
# outside ECS's lists, a wrong ecs.version, a CSV number that is not one
cat > "$TMP/bad.json" <<EOF
{"@timestamp":"2026-12-02T10:00:00.000000Z","ecs":{"version":"$ECS_VERSION"},"source":{"port":"80"}}
{"@timestamp":"2026-12-02T10:00:00.000000Z","flow":{"id":"x"}}
{"@timestamp":"2026-12-02T10:00:00.000000Z","host":{"name":["a","b"]}}
{"@timestamp":"2026-12-02T10:00:00.000000Z","event":{"kind":"marker","category":["network"],"type":["creation"]}}
{"@timestamp":"yesterday","network":{"direction":"sideways"},"source":{"ip":"10.0.0.300"}}
{"@timestamp":"2026-12-02T10:00:00.000000Z","ecs":{"version":"1.0.0"},"event":{"duration":-1.5},"user":{}}
EOF
python3 "$CHECK" "$SCHEMA" json "$TMP/bad.json" > "$TMP/bad.out"
st=$?
want="source.port: '80' is not an integer
flow.id is not an ECS
host.name is an array
event.kind: 'marker' is not one of
event.type 'creation' is not expected for event.category network
@timestamp: 'yesterday' is not an ISO 8601 date
network.direction: 'sideways' is not one of
source.ip: '10.0.0.300' is not an IP address
ecs.version '1.0.0'
event.duration: -1.5 is not an integer
user is an empty object"
missing=$(echo "$want" | while IFS= read -r w; do grep -qF "$w" "$TMP/bad.out" || echo "$w"; done)
[ $st -eq 1 ] && [ -z "$missing" ]
ok $? "the checker refuses bad records, each for its reason" || { diag "missing: $missing"; cat "$TMP/bad.out" >&2; }
printf 'source.port,event.category\nabc,network|nope\n' > "$TMP/bad.csv"
python3 "$CHECK" "$SCHEMA" csv "$TMP/bad.csv" > "$TMP/badcsv.out"
[ $? -eq 1 ] && grep -q "source.port: 'abc' is not an integer" "$TMP/badcsv.out" &&
	grep -q "event.category: 'nope' is not one of" "$TMP/badcsv.out"
ok $? "and bad CSV rows" || cat "$TMP/badcsv.out" >&2

# real flows, with counters and timestamps (the test namespace's sysctls)
OUT="$TMP/follow.json"
nsbg "$EMIT" -n --no-geoip --accounting --interval 0.5 > "$OUT" 2>"$TMP/err"
EPID=$BGPID
at_exit "kill $EPID 2>/dev/null"
wait_for 5 grep -q snapshot-end "$OUT"
ok $? "follow mode started"

# the spec's own vectors, injected (both families, tcp and icmp)
ct_inject -s 128.232.110.120 -d 66.35.250.204 -p tcp --sport 34855 --dport 80 --state ESTABLISHED -t 300
ct_inject -s 192.168.0.89 -d 192.168.0.1 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id 7 -t 30
ct_inject -s 2001:470:e5bf:dead:4957:2174:e82c:4887 -d 2607:f8b0:400c:c03::1a -p tcp \
	--sport 63943 --dport 25 --state ESTABLISHED -t 300
ct_inject -s 192.168.170.8 -d 192.168.170.56 -p sctp --sport 7 --dport 7 --state ESTABLISHED \
	--orig-vtag 1 --reply-vtag 2 -t 300
# network.direction: out of and into 10.99.0.1 (an address of the
# namespace), and a flow the namespace would only route
ct_inject -s 10.99.0.1 -d 192.0.2.80 -p tcp --sport 41000 --dport 443 --state ESTABLISHED -t 300
ct_inject -s 192.0.2.81 -d 10.99.0.1 -p tcp --sport 41000 --dport 22 --state ESTABLISHED -t 300
ct_inject -s 192.0.2.82 -d 198.51.100.82 -p tcp --sport 41000 --dport 22 --state ESTABLISHED -t 300
# real traffic: tcp to 80, udp to 53 and an echo request over both families;
# the sockets stay open until the emitter has named their process
cat > "$TMP/traffic.py" <<'PY'
import socket, sys, time
keep = []
for fam, addr in ((socket.AF_INET, "10.99.0.1"), (socket.AF_INET6, "fd99::1")):
    srv = socket.socket(fam); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, 80)); srv.listen()
    c = socket.create_connection((addr, 80)); a, _ = srv.accept()
    c.send(b"GET / HTTP/1.0\r\n\r\n"); a.recv(100); a.send(b"HTTP/1.0 200 OK\r\n\r\n"); c.recv(100)
    u = socket.socket(fam, socket.SOCK_DGRAM); u.bind((addr, 53))
    q = socket.socket(fam, socket.SOCK_DGRAM); q.sendto(b"q", (addr, 53)); u.recvfrom(10)
    keep += [srv, c, a, u, q]
# echo requests, as ping sends them (the kernel answers them itself)
def csum(b):
    s = sum(b[i] << 8 | b[i + 1] for i in range(0, len(b), 2))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
echo = bytes([8, 0, 0, 0, 0, 7, 0, 1]) + b"flowtop!"
echo = echo[:2] + csum(echo).to_bytes(2, "big") + echo[4:]
r4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
r4.sendto(echo, ("10.99.0.1", 0))
r6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
r6.sendto(bytes([128, 0, 0, 0, 0, 7, 0, 1]) + b"flowtop!", ("fd99::1", 0))   # the kernel sums ICMPv6
print("ready", flush=True)
time.sleep(20)
PY
nsbg python3 "$TMP/traffic.py" > "$TMP/py.out" 2>&1
PYPID=$BGPID
at_exit "kill $PYPID 2>/dev/null"
wait_for 5 grep -q ready "$TMP/py.out" || cat "$TMP/py.out" >&2
# a destroy with the kernel's times: an injected flow, deleted
ct_inject -s 192.0.2.50 -d 198.51.100.50 -p udp --sport 4000 --dport 123 -t 300
wait_for 5 sh -c "jq -c 'select(.source.ip==\"192.0.2.50\" and .event.action==\"new\")' $OUT 2>/dev/null | grep -q ."
sleep 0.1   # a duration that is not zero: the clock has to move
nsx conntrack -D -s 192.0.2.50 >/dev/null 2>&1
wait_for 5 sh -c "jq -c 'select(.source.ip==\"192.0.2.50\" and .event.action==\"destroy\")' $OUT 2>/dev/null | grep -q ."
ok $? "a destroy record for the deleted flow"
wait_for 5 sh -c "jq -c 'select(.destination.port==80 and .network.type==\"ipv6\" and .process.pid)' $OUT 2>/dev/null | grep -q ." &&
	wait_for 5 sh -c "jq -c 'select(.network.transport==\"ipv6-icmp\" and .destination.ip==\"fd99::1\")' $OUT 2>/dev/null | grep -q ."
ok $? "the ipv6 tcp flow with its process, the ipv6 echo" || jq -c "select(.destination.port==80) | [.event.action, .source.ip, .process]" "$OUT" >&2
kill "$PYPID"; wait "$PYPID" 2>/dev/null
kill "$EPID"; wait "$EPID"

REQ="@timestamp,ecs.version,event.action,event.kind,event.category,event.type,event.dataset,event.start,event.end,event.duration"
REQ="$REQ,host.name,network.direction,network.type,network.transport,network.iana_number,network.protocol,network.community_id"
REQ="$REQ,network.bytes,network.packets,source.ip,source.port,source.bytes,source.packets"
REQ="$REQ,destination.ip,destination.port,destination.bytes,destination.packets,process.pid,process.name,process.executable,user.id,user.name"
[ -r /etc/machine-id ] && grep -qE '^[0-9a-f]{32}$' /etc/machine-id && REQ="$REQ,host.id"
python3 "$CHECK" "$SCHEMA" json "$OUT" --require "$REQ" > "$TMP/check.out"
ok $? "follow mode's records: every key outside conntrack.* fits ECS $ECS_VERSION ($(tail -1 "$TMP/check.out"))" ||
	head -20 "$TMP/check.out" >&2

# --once, JSON and CSV: the same flows as snapshot records, with names
# from the namespace's hosts file, GeoIP and AS fields from fixture
# databases (tests/tools/mkmmdb.pl)
echo "192.0.2.80 web.example" >> "/etc/netns/$NS/hosts"
GEO=(--no-geoip)
if perl "$TOP/tests/tools/mkmmdb.pl" geoip2-city "$TMP/city.mmdb" 2>/dev/null &&
   perl "$TOP/tests/tools/mkmmdb.pl" asn "$TMP/asn.mmdb" 2>/dev/null; then
	GEO=(--geoip-db "$TMP/city.mmdb" --geoip-db "$TMP/asn.mmdb")
	ONCE_REQ=",destination.geo.country_iso_code,destination.geo.country_name,destination.geo.city_name"
	ONCE_REQ="$ONCE_REQ,destination.as.number,destination.as.organization.name,source.geo.country_iso_code"
fi
GEO+=(--dns-timeout 0.5)
# the real flows linger in TIME_WAIT; the injected ones are enough here
nsx conntrack -D -s 10.99.0.1 -d 10.99.0.1 >/dev/null 2>&1
nsx conntrack -D -s fd99::1 -d fd99::1 >/dev/null 2>&1
nsx "$EMIT" --once "${GEO[@]}" > "$TMP/once.json" 2>/dev/null
python3 "$CHECK" "$SCHEMA" json "$TMP/once.json" --require "event.start,network.community_id,host.name,destination.domain${ONCE_REQ:-}" \
	> "$TMP/check.out"
ok $? "--once records fit ECS ($(tail -1 "$TMP/check.out"))" || head -20 "$TMP/check.out" >&2
nsx "$EMIT" --once "${GEO[@]}" --format csv > "$TMP/once.csv" 2>/dev/null
python3 "$CHECK" "$SCHEMA" csv "$TMP/once.csv" --require "event.category,network.community_id,source.port" > "$TMP/check.out"
ok $? "CSV: every column is an ECS field or conntrack.*, every value fits ($(tail -1 "$TMP/check.out"))" ||
	head -20 "$TMP/check.out" >&2

# values: the community ID of the spec's vectors (corelight community-id-spec
# baseline), both directions of a flow alike, the seed
cid() { jq -r "select($1) | .network.community_id" "$TMP/once.json" | sort -u | tr '\n' ' '; }
is "$(cid '.source.ip == "128.232.110.120"')" "1:LQU9qZlK+B5F3KDmev6m5PMibrg= " "community ID: the spec's TCP vector"
is "$(cid '.source.ip == "192.168.0.89"')" "1:X0snYXpgwiv9TZtqg64sgzUn6Dk= " "community ID: the spec's ICMP echo vector"
is "$(cid '.source.ip == "2001:470:e5bf:dead:4957:2174:e82c:4887"')" "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4= " \
	"community ID: the spec's IPv6 TCP vector"
is "$(cid '.source.ip == "192.168.170.8"')" "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs= " "community ID: the spec's SCTP vector"
nsx "$EMIT" --once -n --no-geoip --no-process --community-id-seed 1 > "$TMP/seed1.json" 2>/dev/null
is "$(jq -r 'select(.source.ip == "128.232.110.120") | .network.community_id' "$TMP/seed1.json")" \
	"1:3V71V58M3Ksw/yuFALMcW0LAHvc=" "--community-id-seed 1: the spec's seed-1 vector"
bad=
for v in -1 65536 abc "" 1.5 0x10 " 1"; do
	"$EMIT" --once --community-id-seed "$v" >/dev/null 2>"$TMP/err"
	st=$?
	{ [ $st -eq 2 ] && grep -q -- "--community-id-seed" "$TMP/err"; } || bad="$bad '$v'($st)"
done
is "$bad" "" "--community-id-seed: -1, 65536, abc, '', 1.5, 0x10 and ' 1' are usage errors"

# the destroy's times: the kernel's start and stop, the duration in ns
jq -e -s 'map(select(.source.ip == "192.0.2.50" and .event.action == "destroy"))[0] as $d
	| ($d.event.start | sub("\\.(?<f>[0-9]+)Z$"; "Z") | fromdateiso8601) as $s
	| ($d.event.end | sub("\\.(?<f>[0-9]+)Z$"; "Z") | fromdateiso8601) as $e
	| ($d.event.start | capture("\\.(?<f>[0-9]+)Z$").f | tonumber) as $sus
	| ($d.event.end | capture("\\.(?<f>[0-9]+)Z$").f | tonumber) as $eus
	| (($e - $s) * 1000000 + $eus - $sus) as $us
	| ($d.event.duration | type) == "number" and $d.event.duration >= 100000000
	  and ($d.event.duration / 1000 - $us | fabs) <= 1' "$OUT" >/dev/null
ok $? "destroy: event.duration is event.end - event.start in ns (>= 0.1 s here)" ||
	jq -c 'select(.source.ip == "192.0.2.50" and .event.action == "destroy") | .event' "$OUT" >&2
jq -e -s 'map(select(.event.action != "destroy" and (.event.end or .event.duration))) | length == 0' "$OUT" >/dev/null
ok $? "only destroy records have event.end and event.duration"

# markers: one condition tells them, and they carry nothing of a flow
# (--interval 0.5: refresh markers too, as many as the run's length allows)
jq -e -s '(map(select(.event.dataset == "flowtop.marker") | .event.action) | unique - ["refresh"]) == ["snapshot-begin","snapshot-end"]
	and all(.[] | select(.event.dataset == "flowtop.marker"); (keys | sort) == ["@timestamp","ecs","event"]
		and (.event | keys | sort) == ["action","dataset"])
	and all(.[] | select(.event.dataset != "flowtop.marker"); .event.dataset == "flowtop.flow" and .network.type)' \
	"$OUT" >/dev/null
ok $? "event.dataset == flowtop.marker is every marker and nothing else; flows say flowtop.flow"

# direction from the namespace's point of view; none when it would only
# route the flow, or for the namespace to itself
dir() { jq -r "select(.source.ip == \"$1\" and .destination.ip == \"$2\") | .network.direction // \"none\"" \
	"$TMP/once.json" | sort -u | tr '\n' ' '; }
is "$(dir 10.99.0.1 192.0.2.80)$(dir 192.0.2.81 10.99.0.1)$(dir 192.0.2.82 198.51.100.82)$(dir 128.232.110.120 66.35.250.204)" \
	"egress ingress none none " "network.direction: egress, ingress, none for routed flows"
jq -r 'select(.network.transport == "tcp" and .source.ip == "10.99.0.1" and .destination.ip == "10.99.0.1")
	| .network.direction // "none"' "$OUT" | sort -u > "$TMP/self"
is "$(cat "$TMP/self")" "none" "no direction for the namespace's flows to itself"

# host.*: this machine's
hn=$(hostname | tr 'A-Z' 'a-z')
jq -e -s --arg h "$hn" 'map(select(.network.type)) | length > 0 and all(.host.name == $h)' "$TMP/once.json" >/dev/null
ok $? "host.name on every flow record: $hn"
mid=$(cat /etc/machine-id 2>/dev/null)
jq -e -s --arg m "$mid" 'map(select(.network.type)) | all(.host.id == (if $m == "" then null else $m end))' \
	"$TMP/once.json" >/dev/null
ok $? "host.id is /etc/machine-id (${mid:-none})"
done_testing
