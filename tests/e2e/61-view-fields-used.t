#!/bin/bash
# 61-view-fields-used.t - flowtop-view --fields-used is the whole of what the
# view reads: a stream cut to those fields shows exactly what the whole
# stream shows (every sort, both layouts); flowtop-emit takes the list and
# writes nothing else; the front door passes it first, so that a --fields
# of the user's still wins.
. "$(dirname "$0")/lib.sh"

[ -x "$EMIT" ] && [ -x "$VIEW" ] || skip_all "not built"
perl -MMaxMind::DB::Writer::Tree -e1 2>/dev/null || skip_all "libmaxmind-db-writer-perl missing"
netns_setup
plan 20

perl "$TOP/tests/tools/mkmmdb.pl" --all "$TMP" || { echo "Bail out! mkmmdb.pl --all"; exit 1; }
DBS=(--geoip-db "$TMP/geoip2-city.mmdb" --geoip-db "$TMP/asn.mmdb")
LIST=$("$VIEW" --fields-used)
ok $? "--fields-used"

# flows of every kind the view shows differently: TCP states, UDP, ICMP
# with its id, IPv6, a zone, GeoIP places, a name from the hosts file, and
# a real connection with its process (-L leaves out the emitter's own
# look-ups of the other names, on loopback, which come and go between runs)
printf '10.99.0.1 here.test\n' >> "/etc/netns/$NS/hosts"
ct_inject -p tcp -s 10.99.0.1 -d 192.0.2.5 --sport 40001 --dport 443 --state ESTABLISHED -t 300 -u SEEN_REPLY
ct_inject -p tcp -s 203.0.113.7 -d 10.99.0.1 --sport 40002 --dport 22 --state TIME_WAIT -t 300
ct_inject -p udp -s 10.99.0.1 -d 198.51.100.9 --sport 40003 --dport 53 -t 300
ct_inject -p icmp -s 10.99.0.1 -d 192.0.2.77 --icmp-type 8 --icmp-code 0 --icmp-id 4242 -t 300
ct_inject -p tcp -s fd99::1 -d 2001:db8:1::1 --sport 40004 --dport 443 --state SYN_SENT -t 300
ct_inject -p udp -s 10.99.0.1 -d 192.0.2.6 --sport 40005 --dport 123 -t 300 -w 7
nsx python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.99.0.1", 5556)); s.listen(1)
c = socket.create_connection(("10.99.0.1", 5556)); a, _ = s.accept()
open(sys.argv[1], "w").write("up"); time.sleep(60)' "$TMP/up" >/dev/null 2>&1 &
SRV=$!
at_exit "kill $SRV"
wait_for 5 test -s "$TMP/up"

nsx "$EMIT" --once -L "${DBS[@]}" > "$TMP/full.ndjson" 2> "$TMP/err"
ok $? "flowtop-emit --once, every field"
grep -q '"process":{"pid"' "$TMP/full.ndjson" && grep -q '"zone":7' "$TMP/full.ndjson" &&
	grep -q '"geo":' "$TMP/full.ndjson" && grep -q '"domain":"here.test"' "$TMP/full.ndjson"
ok $? "the snapshot has processes, a zone, places and names to show" || head -c 2000 "$TMP/full.ndjson" >&2

# the same records cut to the list, by jq: only the fields differ
jq -c --arg l "$LIST" '. as $r | reduce ($l | split(",")[] | split(".")) as $p ({};
	($r | getpath($p)) as $v | if $v == null then . else setpath($p; $v) end)' \
	"$TMP/full.ndjson" > "$TMP/cut.ndjson"
is "$(wc -l < "$TMP/cut.ndjson")" "$(wc -l < "$TMP/full.ndjson")" "the cut stream has every record"
[ "$(wc -c < "$TMP/cut.ndjson")" -lt "$(( $(wc -c < "$TMP/full.ndjson") / 2 ))" ]
ok $? "and is less than half the bytes"

same=0
for args in "" "-o bytes" "-o rate" "-o age" "-o process" "-o destination" "-r" "-c" "-n"; do
	# shellcheck disable=SC2086
	a=$("$VIEW" --batch -w 0 $args "$TMP/full.ndjson" 2>&1)
	# shellcheck disable=SC2086
	b=$("$VIEW" --batch -w 0 $args "$TMP/cut.ndjson" 2>&1)
	if [ "$a" = "$b" ] && [ "$(wc -l <<< "$a")" -ge 7 ]; then
		same=$((same + 1))
	else
		diag "--batch $args differs:" "$(diff <(echo "$a") <(echo "$b") | head -n 6)"
	fi
done
is "$same" 9 "--batch shows the same from both, in every order and layout"
"$VIEW" --batch -w 0 "$TMP/cut.ndjson" > "$TMP/shown"
grep -q 'python3' "$TMP/shown" && grep -q 'here.test' "$TMP/shown" && grep -q 'TIME_WAIT' "$TMP/shown"
ok $? "with processes, names and states in it" || cat "$TMP/shown" >&2

# the emitter takes the list as it is and writes only those fields
nsx "$EMIT" --once -L -F "$LIST" "${DBS[@]}" > "$TMP/f.ndjson" 2> "$TMP/ferr"
ok $? "flowtop-emit --once -F \"\$(flowtop-view --fields-used)\""
extra=$(jq -r --arg l "$LIST" '[paths(scalars) | map(tostring) | join(".") |
	sub("\\.[0-9]+$"; "")] - ($l | split(",")) | .[]' "$TMP/f.ndjson" | sort -u)
is "$extra" "" "its records hold no other field"
is "$(jq -r '.conntrack.id' "$TMP/f.ndjson" | sort | tr '\n' ' ')" \
	"$(jq -r '.conntrack.id' "$TMP/full.ndjson" | sort | tr '\n' ' ')" "and every flow"
# what it does not write it does not look up, but what it writes it still does
jq -s -e 'any(.[]; .source.port == 40001 and .destination.geo.country_iso_code == "NO") and
	any(.[]; .destination.port == 5556 and .process.pid > 0)' "$TMP/f.ndjson" >/dev/null &&
	grep -q '"domain":"here.test"' "$TMP/f.ndjson"
ok $? "places, processes and names are still there" || head -c 3000 "$TMP/f.ndjson" | sed "s/^/# /"
# a database is opened only for fields that need it: a broken one is
# said only then
printf 'not a database at all\n' > "$TMP/broken.mmdb"
nsx "$EMIT" --once -L -n -F source.ip,process.pid --geoip-db "$TMP/broken.mmdb" > /dev/null 2> "$TMP/b1.err"
nsx "$EMIT" --once -L -n -F source.ip,destination.geo.city_name --geoip-db "$TMP/broken.mmdb" > /dev/null 2> "$TMP/b2.err"
! grep -q GeoIP "$TMP/b1.err" && grep -q "cannot open GeoIP database" "$TMP/b2.err"
ok $? "GeoIP is opened only when a GeoIP field is written" || cat "$TMP/b1.err" "$TMP/b2.err" >&2
"$VIEW" --batch -w 0 "$TMP/f.ndjson" | grep -c ':' > "$TMP/n"
is "$(cat "$TMP/n")" "$("$VIEW" --batch -w 0 "$TMP/full.ndjson" | grep -c ':')" "and the view shows as many rows"

# the front door: the list first, the user's options after it
cat > "$TMP/emit-args" <<EOF
#!/bin/sh
for a in "\$@"; do printf '%s\n' "\$a"; done > "$TMP/args"
EOF
chmod +x "$TMP/emit-args"
FLOWTOP_EMIT="$TMP/emit-args" "$TOP/flowtop" --fields source.ip -n < /dev/null > /dev/null 2> "$TMP/fd.err"
is "$(head -n 5 "$TMP/args" | tr '\n' ' ')" "-F $LIST --fields source.ip -n " \
	"flowtop passes -F with the view's list before the user's options"
grep -q "ended without output" "$TMP/fd.err"
ok $? "(and says so when the emitter writes nothing)"

# the view's table follows the kernel's, where it is larger than the
# default: a private mount namespace shows flowtop another nf_conntrack_max
cat > "$TMP/view-args" <<EOF
#!/bin/sh
printf '%s ' "\$@" > "$TMP/vargs"
EOF
chmod +x "$TMP/view-args"
vargs() {	# vargs CTMAX: the view's arguments under that nf_conntrack_max
	printf '%s\n' "$1" > "$TMP/ctmax"
	rm -f "$TMP/vargs"
	unshare -m sh -c "mount --bind $TMP/ctmax /proc/sys/net/netfilter/nf_conntrack_max &&
		FLOWTOP_EMIT=$TMP/emit-args FLOWTOP_VIEW=$TMP/view-args $TOP/flowtop" </dev/null >/dev/null 2>&1
	cat "$TMP/vargs" 2>/dev/null
}
is "$(vargs 262144)" "--wait-stream " "nf_conntrack_max 262,144: the view's own default"
is "$(vargs 4000000)" "--wait-stream --max-flows=4000000 " "4,000,000: the view holds as many"
is "$(vargs 99999999999)" "--wait-stream --max-flows=100000000 " "more than the view takes: its most"

# stdout hygiene
"$VIEW" --fields-used > /dev/full 2> "$TMP/full.err"
is "$?" 1 "a failed write is an error"
grep -q "cannot write the field list: No space left on device" "$TMP/full.err"
ok $? "and says which" || cat "$TMP/full.err" >&2
