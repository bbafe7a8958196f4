#!/bin/bash
# Every filter gives what a jq selection over the unfiltered output gives,
# with the kernel-side filters on and off, in --once and in follow mode.
. "$(dirname "$0")/lib.sh"
netns_setup

inject_mix() {  # $1: a distinguishing source port base
	local b=$1
	ct_inject -s 192.0.2.1 -d 198.51.100.2 -p tcp --sport $((b + 1)) --dport 443 --state ESTABLISHED -t 300 -u SEEN_REPLY,ASSURED
	ct_inject -s 192.0.2.130 -d 198.51.100.2 -p tcp --sport $((b + 2)) --dport 22 --state SYN_SENT -t 300
	ct_inject -s 192.0.2.1 -d 198.51.100.9 -p udp --sport $((b + 3)) --dport 53 -t 300
	ct_inject -s 127.0.0.1 -d 127.0.0.1 -p tcp --sport $((b + 4)) --dport 631 --state TIME_WAIT -t 300
	ct_inject -s 2001:db8::1 -d 2001:db8:1::2 -p tcp --sport $((b + 5)) --dport 80 --state ESTABLISHED -t 300
	ct_inject -s 2001:db8::5 -d 2001:db8:2::2 -p udp --sport $((b + 6)) --dport 53 -t 300
	ct_inject -s ::1 -d ::1 -p udp --sport $((b + 7)) --dport 5353 -t 300
	ct_inject -s 192.0.2.1 -d 198.51.100.2 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id $((b % 60000 + 8)) -t 300
	ct_inject -s 2001:db8::1 -d 2001:db8:1::2 -p icmpv6 --icmpv6-type 128 --icmpv6-code 0 --icmpv6-id $((b % 60000 + 9)) -t 300
	ct_inject -s 192.0.2.3 -d 198.51.100.4 -p sctp --sport $((b + 10)) --dport 36412 --state ESTABLISHED --orig-vtag $b --reply-vtag 2 -t 300
}

# filter options | jq predicate over one record
CASES=(
	"-4|.network.type == \"ipv4\""
	"-6|.network.type == \"ipv6\""
	"-p tcp|.network.transport == \"tcp\""
	"-p udp,icmp,icmpv6|(.network.transport | IN(\"udp\",\"icmp\",\"ipv6-icmp\"))"
	"-p sctp|.network.transport == \"sctp\""
	"-p 17|.network.transport == \"udp\""
	"--state ESTABLISHED|.conntrack.state == \"ESTABLISHED\""
	"--state SYN_SENT,TIME_WAIT|(.conntrack.state | IN(\"SYN_SENT\",\"TIME_WAIT\"))"
	"--src 192.0.2.0/25|(.source.ip | test(\"^192\\\\.0\\\\.2\\\\.([0-9]|[0-9][0-9]|1[01][0-9]|12[0-7])$\"))"
	"--src 192.0.2.1|.source.ip == \"192.0.2.1\""
	"--dst 2001:db8:1::/48|(.destination.ip | startswith(\"2001:db8:1:\"))"
	"--src 192.0.2.1,2001:db8::1|(.source.ip | IN(\"192.0.2.1\",\"2001:db8::1\"))"
	"--port 53|(.source.port == 53 or .destination.port == 53)"
	"--no-loopback|((.source.ip | startswith(\"127.\") or . == \"::1\") or (.destination.ip | startswith(\"127.\") or . == \"::1\")) | not"
	"-4 -p tcp --state ESTABLISHED --no-loopback|.network.type == \"ipv4\" and .network.transport == \"tcp\" and .conntrack.state == \"ESTABLISHED\" and (.source.ip | startswith(\"127.\") | not)"
)
plan $(( ${#CASES[@]} * 3 + 1 ))

inject_mix 10000
nsx "$EMIT" --once -n --no-process --no-geoip > "$TMP/all" 2>/dev/null
[ "$(wc -l < "$TMP/all")" -eq 10 ]; ok $? "ten flows to filter"

ids() { jq -r '.conntrack.id' | sort; }

for c in "${CASES[@]}"; do
	opts=${c%%|*}
	pred=${c#*|}
	jq -c "select($pred)" "$TMP/all" | ids > "$TMP/want"
	# shellcheck disable=SC2086
	nsx "$EMIT" --once -n --no-process --no-geoip $opts 2>/dev/null | ids > "$TMP/got"
	diff "$TMP/want" "$TMP/got" >&2; ok $? "--once $opts ($(wc -l < "$TMP/want") flows)"
	# shellcheck disable=SC2086
	nsx "$EMIT" --once -n --no-process --no-geoip --no-kernel-filter $opts 2>/dev/null | ids > "$TMP/got2"
	diff "$TMP/got" "$TMP/got2" >&2; ok $? "--once $opts: same without kernel filters"
done

# follow mode: events pass the same filters (kernel BPF where it applies).
# Two batches go in, one after the other; the kernel reports them in order,
# so once the second batch's last expected event is out, every event of the
# first has been written or dropped, and the first is compared whole.
# tuples KEY-LOW: the (transport, addresses, port or ICMP id) of the records
# on stdin whose port or id is in (KEY-LOW, KEY-LOW + 10]
tuples() {
	jq -r --argjson lo "$1" '(.source.port // .conntrack.icmp.id) as $k |
		select($k > $lo and $k <= $lo + 10) |
		[.network.transport, .source.ip, .destination.ip, $k] | @tsv' | sort
}
# all_out WANT KEY-LOW: every line of WANT is among the new records so far
all_out() {
	jq -c 'select(.event.action == "new")' "$TMP/ev" | tuples "$2" > "$TMP/sofar"
	[ -z "$(comm -23 "$1" "$TMP/sofar")" ]
}
for c in "${CASES[@]}"; do
	opts=${c%%|*}
	pred=${c#*|}
	: > "$TMP/ev"
	# shellcheck disable=SC2086
	nsbg "$EMIT" -n --no-process --no-geoip --interval 0 $opts > "$TMP/ev" 2>/dev/null
	pid=$BGPID
	wait_line 5 "$TMP/ev" snapshot-end
	base=$((20000 + RANDOM % 20000))
	inject_mix $base
	inject_mix $((base + 100))
	# the truth: an unfiltered dump of what the kernel holds now
	nsx "$EMIT" --once -n --no-process --no-geoip 2>/dev/null > "$TMP/all2"
	jq -c "select($pred)" "$TMP/all2" | tuples $base > "$TMP/want"
	jq -c "select($pred)" "$TMP/all2" | tuples $((base + 100)) > "$TMP/want2"
	wait_for 10 all_out "$TMP/want2" $((base + 100)) || diag "follow $opts: the second batch never came out whole"
	kill "$pid"; wait "$pid" 2>/dev/null
	jq -c 'select(.event.action == "new")' "$TMP/ev" | tuples $base > "$TMP/got"
	[ -s "$TMP/want" ] && [ -s "$TMP/want2" ] && diff "$TMP/want" "$TMP/got" >&2
	ok $? "follow $opts: the events that pass ($(wc -l < "$TMP/want") of 10)"
	nsx conntrack -F >/dev/null 2>&1
	inject_mix 10000
done
done_testing
