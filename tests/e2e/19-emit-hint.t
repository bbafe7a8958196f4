#!/bin/bash
# 19-emit-hint.t - the empty-table hint: the nft command that flowtop-emit
# suggests is the one README and flowtop-emit(1) print, it runs on this
# system's nftables, and it really makes the kernel track connections.
. "$(dirname "$0")/lib.sh"
need_root
command -v nft >/dev/null || skip_all "nft missing"
plan 6

# a bare namespace: no rule asks for tracking, so the table stays empty
NS="flowtop-t$$-hint"
ip netns add "$NS" || { echo "Bail out! cannot add netns"; exit 1; }
nsx ip link set lo up

nsx "$EMIT" --once --no-process --no-geoip -n > "$TMP/out" 2> "$TMP/err"
[ ! -s "$TMP/out" ] && grep -q 'table is empty' "$TMP/err"
ok $? "an empty table gives the hint ($(head -c 70 "$TMP/err"))"

cmd=$(sed -n "s/.*(try: \(nft .*\))\$/\1/p" "$TMP/err")
[ -n "$cmd" ]; ok $? "the hint names an nft command"
grep -qF -- "$cmd" "$TOP/README.md"; ok $? "README prints the same command"
grep -qF -- "$cmd" "$TOP/man/flowtop-emit.1"; ok $? "flowtop-emit(1) prints the same command"

nsx sh -c "$cmd" 2> "$TMP/nft.err"
ok $? "the command runs on nftables $(nft --version | awk '{ print $2 }')" || cat "$TMP/nft.err" >&2

# traffic after the rule is tracked: a UDP datagram to the loopback
nsx python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", 9))'
wait_for 5 sh -c "ip netns exec $NS conntrack -L 2>/dev/null | grep -q 'dport=9 '"
ok $? "with it the kernel tracks a new flow"
done_testing
