#!/bin/bash
# The capabilities of dist/flowtop-emit.service are exactly those needed:
# flowtop-emit run as an unprivileged user with the unit's ambient and
# bounding sets names the process of a root-owned socket; take away
# CAP_SYS_PTRACE or CAP_DAC_READ_SEARCH and the process fields go (the
# flows stay), and the emitter says once which capabilities that takes.
# The set is read from the unit file itself.
. "$(dirname "$0")/lib.sh"
[ -x "$EMIT" ] || skip_all "flowtop-emit not built"
command -v setpriv >/dev/null || skip_all "needs setpriv (util-linux)"
netns_setup
plan 8
UNIT=$TOP/dist/flowtop-emit.service
amb=$(sed -n 's/^AmbientCapabilities=//p' "$UNIT" | tail -1)
bnd=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tail -1)
is "$amb" "$bnd" "the unit's ambient and bounding sets are the same ($amb)"

# a root-owned connection on the namespace's loopback, held while we look
nsx python3 -c '
import ctypes, socket, time
ctypes.CDLL(None).prctl(15, ctypes.c_char_p(b"ft-holder"), 0, 0, 0)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 7411)); s.listen()
c = socket.create_connection(("127.0.0.1", 7411)); a, _ = s.accept()
time.sleep(60)' &
at_exit "kill $! 2>/dev/null"
wait_for 5 sh -c "ip netns exec $NS conntrack -L 2>/dev/null | grep -q 'dport=7411'"

# run_as CAP_NAME...: flowtop-emit --once as nobody with just these caps;
# prints the 7411 flow's process.name ("null" without), stderr in $TMP/err
run_as() {
	local set
	set=$(echo "$@" | tr 'A-Z ' 'a-z\n' | sed -n 's/^cap_\(.*\)/+\1/p' | paste -sd,)
	nsx setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,"$set" \
		--ambient-caps=-all,"$set" --bounding-set=-all,"$set" \
		"$EMIT" --once -n --no-geoip 2>"$TMP/err" |
		jq -r 'select(.destination.port == 7411 and .source.port != 7411) | .process.name'
}
# shellcheck disable=SC2086
got=$(run_as $amb)
is "$got" ft-holder "as nobody with the unit's capabilities: the process is named" || cat "$TMP/err" >&2
! grep -q CAP_ "$TMP/err"; ok $? "and no word of a missing capability" || cat "$TMP/err" >&2
got=$(run_as CAP_NET_ADMIN CAP_SYS_PTRACE)
is "$got" null "without CAP_DAC_READ_SEARCH: the flow, no process"
grep -q '(CAP_DAC_READ_SEARCH is missing)$' "$TMP/err"; ok $? "and the message says which one is missing" || cat "$TMP/err" >&2
got=$(run_as CAP_NET_ADMIN CAP_DAC_READ_SEARCH)
is "$got" null "without CAP_SYS_PTRACE: the flow, no process"
got=$(run_as CAP_NET_ADMIN)
is "$got" null "CAP_NET_ADMIN alone: the flow, no process"
[ "$(grep -c 'process attribution needs CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH$' "$TMP/err")" -eq 1 ] &&
	! grep -q 'permission denied' "$TMP/err"
ok $? "CAP_NET_ADMIN alone: the message names the two missing capabilities, once" ||
	diag "stderr: $(tr '\n' ' ' < "$TMP/err")"
done_testing
