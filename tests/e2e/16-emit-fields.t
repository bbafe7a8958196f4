#!/bin/bash
# Kernel fields end to end: NAT from the reply tuple, mark, zone, status,
# timeout, and --fields for both formats.
. "$(dirname "$0")/lib.sh"
netns_setup
plan 8

# SNAT: replies go to 198.51.100.1:61000; DNAT: really served by 10.0.0.8:8080
ct_inject -s 192.168.1.10 -d 203.0.113.7 -p tcp --sport 40000 --dport 443 \
	--reply-src 203.0.113.7 --reply-dst 198.51.100.1 --reply-port-src 443 --reply-port-dst 61000 \
	--state ESTABLISHED -t 300 -m 5 --zone 3 -u SEEN_REPLY,ASSURED
ct_inject -s 203.0.113.9 -d 198.51.100.1 -p tcp --sport 5555 --dport 80 \
	--reply-src 10.0.0.8 --reply-dst 203.0.113.9 --reply-port-src 8080 --reply-port-dst 5555 \
	--state ESTABLISHED -t 300
ct_inject -s 2001:db8::1 -d 2001:db8::2 -p udp --sport 1 --dport 2 -t 300

nsx "$EMIT" --once -n --no-process --no-geoip > "$TMP/all.json" 2>/dev/null
rec() { jq -c "select(.source.ip == \"$1\")" "$TMP/all.json"; }

rec 192.168.1.10 | jq -e '.source.nat == {"ip":"198.51.100.1","port":61000} and (.destination.nat | not)' >/dev/null
ok $? "SNAT: source.nat from the reply tuple, no destination.nat"
rec 203.0.113.9 | jq -e '.destination.nat == {"ip":"10.0.0.8","port":8080} and (.source.nat | not)' >/dev/null
ok $? "DNAT: destination.nat from the reply tuple, no source.nat"
# conntrack-tools 1.4.7 sets mark 6 for "-m 5 -u ...": compare with its own listing
mark=$(nsx conntrack -L -s 192.168.1.10 2>/dev/null | grep -o 'mark=[0-9]*' | cut -d= -f2)
rec 192.168.1.10 | jq -e --argjson m "${mark:-0}" '.conntrack.mark == $m and $m > 0 and .conntrack.zone == 3 and (.conntrack.timeout > 0 and .conntrack.timeout <= 300)' >/dev/null
ok $? "mark, zone and timeout"
rec 192.168.1.10 | jq -e '.conntrack.status | index("ASSURED") and index("SEEN_REPLY")' >/dev/null
ok $? "status flags"
rec 2001:db8::1 | jq -e '(.conntrack.state | not) and .network.type == "ipv6" and .conntrack.reply.source.ip == "2001:db8::2"' >/dev/null
ok $? "UDP: no state, IPv6 reply tuple"
[ "$(jq -r 'paths(. == null) | length' "$TMP/all.json" | wc -l)" -eq 0 ] && ! grep -q '""' "$TMP/all.json"
ok $? "no null and no empty string anywhere"

nsx "$EMIT" --once -n --no-process --no-geoip --fields conntrack.mark,source.ip 2>/dev/null > "$TMP/sub.json"
jq -s -e 'all(.[]; keys == ["conntrack","source"] and (.source | keys) == ["ip"])' "$TMP/sub.json" >/dev/null
ok $? "--fields with JSON: only those fields, nested as usual"
nsx "$EMIT" --once -n --no-process --no-geoip --format csv --fields source.ip,conntrack.mark 2>/dev/null > "$TMP/sub.csv"
[ "$(head -1 "$TMP/sub.csv")" = "source.ip,conntrack.mark" ] && grep -qx "192.168.1.10,$mark" "$TMP/sub.csv"
ok $? "--fields with CSV: columns in the order asked"
done_testing
