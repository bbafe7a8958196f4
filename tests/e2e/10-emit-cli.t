#!/bin/bash
# flowtop-emit as a Unix tool: help, version, usage errors, privilege, pipes.
. "$(dirname "$0")/lib.sh"
netns_setup
plan 28

out=$("$EMIT" --help); rc=$?
ok $rc "--help exits 0"
echo "$out" | grep -q -- '--once' && echo "$out" | grep -q -- '--buffer-size'; ok $? "--help lists the options"
"$EMIT" --version | grep -Eq '^flowtop-emit [0-9]+\.[0-9]+'; ok $? "--version"

for bad in "--bogus" "--format xml" "-p nosuch" "--state NOPE" "--src 10.0.0.0/99" \
	   "--port 70000" "-4 -6" "--interval -1" "--fields source.ip,nope" "stray"; do
	# shellcheck disable=SC2086
	"$EMIT" $bad >/dev/null 2>"$TMP/err"; rc=$?
	# worded as flowtop-view words it: the error, then the hint
	[ $rc -eq 2 ] && head -1 "$TMP/err" | grep -q "^flowtop-emit: " &&
		[ "$(tail -1 "$TMP/err")" = "try 'flowtop-emit --help'" ]
	ok $? "bad usage '$bad' exits 2 with a message and the hint"
done

# every number option refuses NaN, infinities, negatives and overflow as a
# usage error that names the option
for spec in "-i:interval" "--interval:interval" "--dns-timeout:--dns-timeout" \
	    "-b:--buffer-size" "--buffer-size:--buffer-size" "-P:port" "--port:port" \
	    "-p:protocol" "--src 10.0.0.0/:network"; do
	opt=${spec%%:*} name=${spec#*:} bad=
	for v in nan inf -1 1e999 NaN -inf 0x10; do
		case $opt in *' '*) set -- ${opt% *} "${opt#* }$v" ;; *) set -- "$opt" "$v" ;; esac
		# in the namespace, once, bounded: a value wrongly taken must not
		# leave a follow-mode run on the machine's own table
		nsx timeout 5 "$EMIT" --once -n "$@" >/dev/null 2>"$TMP/err"; rc=$?
		[ $rc -eq 2 ] && grep -q "^flowtop-emit: .*$name" "$TMP/err" || bad="$bad $v($rc)"
	done
	[ -z "$bad" ]; ok $? "$opt refuses nan, inf, -1, 1e999, hex with status 2, naming it${bad:+ (failed:$bad)}"
done

# no privilege: one clear line, exit 1, nothing on stdout
nsx setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$EMIT" --once >"$TMP/out" 2>"$TMP/err"; rc=$?
if [ $rc -eq 1 ] && grep -q 'CAP_NET_ADMIN' "$TMP/err" && [ ! -s "$TMP/out" ] &&
   [ "$(wc -l < "$TMP/err")" -eq 1 ]; then ok 0 "no privilege: one clear line, exit 1"
else ok 1 "no privilege: one clear line, exit 1"; cat "$TMP/err" >&2; fi

# a closed pipe ends quietly with status 0
nsx "$TOP/build/tools/flowgen" inject 3000 >/dev/null 2>&1
nsx "$EMIT" --once -n 2>"$TMP/err" | head -1 >/dev/null
st=${PIPESTATUS[0]}
if [ "$st" -eq 0 ] && ! grep -Eqi 'pipe|cannot write' "$TMP/err"; then ok 0 "--once | head -1: status 0, quiet"
else ok 1 "--once | head -1: status 0, quiet"; diag "status $st"; cat "$TMP/err" >&2; fi
# a full disk and a closed stdout are errors, said as such
nsx "$EMIT" --once -n > /dev/full 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'cannot write to standard output: No space left' "$TMP/err"
ok $? "stdout on a full disk: clear error, exit 1"
nsx timeout 10 "$EMIT" -n --interval 0 > /dev/full 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'cannot write to standard output: No space left' "$TMP/err"
ok $? "follow mode on a full disk: clear error, exit 1"
nsx "$EMIT" --once -n >&- 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'cannot write to standard output: Bad file descriptor' "$TMP/err"
ok $? "closed stdout: clear error, exit 1 (nothing written into a socket)"

# follow mode on a quiet table: the reader's exit alone must end it
start=$(date +%s)
nsx timeout 10 "$EMIT" -n --interval 0 2>/dev/null | head -1 >/dev/null
st=${PIPESTATUS[0]}
[ "$st" -eq 0 ] && [ $(( $(date +%s) - start )) -lt 5 ]
ok $? "follow mode | head -1 on a quiet table: ends at once with status 0 (status $st)"
done_testing
