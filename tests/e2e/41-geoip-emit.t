#!/bin/bash
# 41-geoip-emit.t - GeoIP fields in flowtop-emit's records, from fixture
# databases built here (tests/tools/mkmmdb.pl) in both layouts plus ASN,
# for flows injected with conntrack -I in a private namespace.
. "$(dirname "$0")/lib.sh"

[ -x "$EMIT" ] || skip_all "flowtop-emit not built"
perl -MMaxMind::DB::Writer::Tree -e1 2>/dev/null || skip_all "libmaxmind-db-writer-perl missing"
netns_setup
plan 27

perl "$TOP/tests/tools/mkmmdb.pl" --all "$TMP" || { echo "Bail out! mkmmdb.pl --all"; exit 1; }
DBS=(--geoip-db "$TMP/geoip2-city.mmdb" --geoip-db "$TMP/flat-city4.mmdb"
     --geoip-db "$TMP/flat-city6.mmdb" --geoip-db "$TMP/asn.mmdb")

tcp() { ct_inject -p tcp -s "$1" -d "$2" --sport "$3" --dport "$4" --state ESTABLISHED -t 300 -u SEEN_REPLY; }
tcp 10.99.0.1 192.0.2.5 40001 443		# GeoIP2 layout, city, AS
tcp 203.0.113.7 10.99.0.1 40002 22		# flat layout (name from the code), AS
tcp fd99::1 2001:db8:2::9 40003 443		# flat IPv6-only database
tcp fd99::1 2001:db8:1::1 40004 443		# GeoIP2 v6, UTF-8 city
tcp 10.99.0.1 198.51.100.200 40005 80		# "ZZ": nothing
tcp 10.99.0.1 192.0.3.1 40006 80		# outside every database
tcp 10.99.0.1 10.1.2.3 40007 80			# private (the fixtures have 10/8)
NFLOWS=7

# flow by destination port: jq -c of the part asked for
sel() { jq -c "select(.source.port == $1) | $2" "$TMP/out.json"; }

nsx "$EMIT" --once -n --no-process "${DBS[@]}" > "$TMP/out.json" 2> "$TMP/err"
ok $? "flowtop-emit --once with four databases"
is "$(wc -l < "$TMP/out.json")" "$NFLOWS" "every injected flow is written"
json_lines_valid "$TMP/out.json"; ok $? "valid JSON lines"
grep -q GeoIP "$TMP/err"; ok $((! $?)) "no GeoIP complaint when the databases open"

is "$(sel 40001 .destination.geo)" '{"country_iso_code":"NO","country_name":"Norway","city_name":"Oslo"}' \
	"GeoIP2 layout: destination country code, name and city"
is "$(sel 40001 .destination.as)" '{"number":64496,"organization":{"name":"Example \"Doc\" Net"}}' \
	"ASN database: number and organization"
is "$(sel 40001 '.source.geo // "none"')" '"none"' "the local private end has no geo"
is "$(sel 40002 .source.geo)" '{"country_iso_code":"FR","country_name":"France","city_name":"Paris"}' \
	"flat layout: source country, name from the code, city"
is "$(sel 40002 .source.as.number)" 64500 "flat range: AS number"
is "$(sel 40003 .destination.geo)" '{"country_iso_code":"BR","country_name":"Brazil","city_name":"São Paulo"}' \
	"flat IPv6 database: country, name from the code, UTF-8 city"
is "$(sel 40003 .destination.as.number)" 64511 "IPv6 AS number"
is "$(sel 40004 .destination.geo.city_name)" '"Tōkyō"' "GeoIP2 IPv6: city"
is "$(sel 40005 '[.destination.geo, .destination.as] | map(select(. != null)) | length')" 0 \
	"an unknown-country record gives no geo"
is "$(sel 40006 '[.destination.geo, .destination.as] | map(select(. != null)) | length')" 0 \
	"an address outside the databases gets none"
is "$(sel 40007 '[.destination.geo, .destination.as] | map(select(. != null)) | length')" 0 \
	"a private address gets none, though the databases have it"

# CSV carries the same fields in columns
nsx "$EMIT" --once -n --no-process -f csv -F source.port,destination.geo.country_iso_code,destination.geo.city_name,destination.as.number \
	"${DBS[@]}" > "$TMP/out.csv" 2>/dev/null
grep -qx '40001,NO,Oslo,64496' "$TMP/out.csv"; ok $? "CSV columns carry geo and AS"

# --no-geoip
nsx "$EMIT" --once -n --no-process --no-geoip "${DBS[@]}" > "$TMP/nogeo.json" 2>/dev/null
is "$(wc -l < "$TMP/nogeo.json") $(jq -c 'select(.destination.geo or .source.geo or .destination.as or .source.as)' "$TMP/nogeo.json" | wc -l)" "$NFLOWS 0" \
	"--no-geoip: every flow, no geo fields"

# a broken database: one clear error line naming it, the stream goes on
printf 'not a database at all\n' > "$TMP/broken.mmdb"
nsx "$EMIT" --once -n --no-process --geoip-db "$TMP/broken.mmdb" > "$TMP/broken.json" 2> "$TMP/broken.err"
ok $? "a broken database: still exit 0"
is "$(grep -c "^flowtop-emit: cannot open GeoIP database '$TMP/broken.mmdb': " "$TMP/broken.err")" 1 \
	"one error line naming the file"
is "$(grep -c GeoIP "$TMP/broken.err")" 1 "and nothing else about GeoIP"
is "$(wc -l < "$TMP/broken.json")" "$NFLOWS" "every flow is still written"
is "$(jq -c 'select(.destination.geo or .source.geo)' "$TMP/broken.json" | wc -l)" 0 "without geo"

nsx "$EMIT" --once -n --no-process --geoip-db "$TMP/broken.mmdb" --geoip-db "$TMP/geoip2-city.mmdb" \
	> "$TMP/mixed.json" 2>/dev/null
is "$(jq -c 'select(.source.port == 40001) | .destination.geo.country_iso_code' "$TMP/mixed.json")" \
	'"NO"' "a broken and a good database: the good one answers"

# a database that cannot be read
cp "$TMP/asn.mmdb" "$TMP/unreadable.mmdb"; chmod 000 "$TMP/unreadable.mmdb"
if [ "$(id -u)" = 0 ]; then
	# root reads anything: make it unreadable by making it a directory
	rm -f "$TMP/unreadable.mmdb"; mkdir "$TMP/unreadable.mmdb"
fi
nsx "$EMIT" --once -n --no-process --geoip-db "$TMP/unreadable.mmdb" > "$TMP/unr.json" 2> "$TMP/unr.err"
is "$(grep -c "^flowtop-emit: cannot open GeoIP database '$TMP/unreadable.mmdb': " "$TMP/unr.err")" 1 \
	"an unreadable database: one error line naming it"
is "$(wc -l < "$TMP/unr.json")" "$NFLOWS" "and the flows are written"

# follow mode: a flow that appears later is enriched in its "new" record
nsx "$EMIT" -n --no-process "${DBS[@]}" > "$TMP/follow.json" 2>/dev/null &
EPID=$!
at_exit "kill $EPID 2>/dev/null"
wait_for 5 grep -q snapshot-end "$TMP/follow.json"
tcp 10.99.0.1 203.0.113.99 40100 443
wait_for 5 grep -q '"port":40100' "$TMP/follow.json"
ok $? "follow mode: the new flow is written"
is "$(jq -c 'select(.source.port == 40100) | [.event.action, .destination.geo.country_iso_code, .destination.as.number]' "$TMP/follow.json" | head -1)" \
	'["new","FR",64500]' "follow mode: its new record carries geo and AS"
kill "$EPID" 2>/dev/null
wait "$EPID" 2>/dev/null
done_testing
