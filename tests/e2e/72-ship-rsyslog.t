#!/bin/bash
# A real log shipper reads flowtop's stream: rsyslog (imfile + mmjsonparse)
# runs dist/shipping/rsyslog-flowtop.conf as shipped, with only its paths
# moved into the test's directory, over an NDJSON file that flowtop-emit
# --once wrote from injected flows; every flow's fields must come out of
# rsyslog's template.  rsyslogd runs in the foreground inside the test's
# namespace with its own config, pid file and work directory; the machine's
# rsyslog (if any) is never touched.
. "$(dirname "$0")/lib.sh"
RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
[ -x "$RSYSLOGD" ] || skip_all "rsyslogd is not installed (scripts/install-deps)"
netns_setup
plan 5

ct_inject -s 192.0.2.1 -d 198.51.100.2 -p tcp --sport 41000 --dport 443 --state ESTABLISHED -t 300 -u SEEN_REPLY,ASSURED
ct_inject -s 192.0.2.7 -d 198.51.100.9 -p udp --sport 5000 --dport 53 -t 300
ct_inject -s 2001:db8::1 -d 2001:db8::2 -p tcp --sport 999 --dport 80 --state TIME_WAIT -t 300

mkdir -p "$TMP/log/flowtop" "$TMP/work"
nsx "$EMIT" --once -n > "$TMP/log/flowtop/flows.ndjson" 2>"$TMP/err"
ok $? "flowtop-emit --once wrote the stream"
n=$(wc -l < "$TMP/log/flowtop/flows.ndjson")
# what rsyslog must print, computed from the records with jq
jq -r '[."@timestamp", .event.action, .network.transport, .source.ip, (.source.port|tostring),
	.destination.ip, (.destination.port|tostring), (.process.name // "")] | join(" ")' \
	"$TMP/log/flowtop/flows.ndjson" | sort > "$TMP/want"

sed -e "s|/var/log/|$TMP/log/|g" "$TOP/dist/shipping/rsyslog-flowtop.conf" > "$TMP/flowtop.conf"
cat > "$TMP/rsyslog.conf" <<CONF
global(workDirectory="$TMP/work" maxMessageSize="64k")
include(file="$TMP/flowtop.conf")
CONF
"$RSYSLOGD" -N1 -f "$TMP/rsyslog.conf" >"$TMP/check" 2>&1
ok $? "rsyslogd -N1 accepts the shipped configuration" || cat "$TMP/check" >&2

nsbg "$RSYSLOGD" -n -f "$TMP/rsyslog.conf" -i "$TMP/rsyslogd.pid" >"$TMP/rsyslog.out" 2>&1
at_exit "kill $BGPID 2>/dev/null"
out=$TMP/log/flowtop-connections.log
lines() { [ -f "$out" ] && [ "$(wc -l < "$out")" -ge "$1" ]; }
wait_for 10 lines "$n"
ok $? "rsyslog wrote one line per record ($n)" || cat "$TMP/rsyslog.out" >&2
sort "$out" > "$TMP/got"
diff "$TMP/want" "$TMP/got" >&2
ok $? "every record's timestamp, action, addresses and ports came through mmjsonparse"
grep -q ' 198\.51\.100\.2 443 ' "$TMP/got" && grep -q ' 2001:db8::2 80 ' "$TMP/got"
ok $? "numbers and IPv6 addresses are intact"
done_testing
