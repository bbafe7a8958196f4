#!/bin/bash
# dist/flowtop-emit.service: systemd-analyze verify is clean, the unit runs
# the emitter unprivileged with exactly the capabilities it needs, hardened
# (offline security review), writes where its logrotate file rotates, and
# uses no option that the emitter lacks.  Nothing is loaded into the
# machine's systemd: verify and security read the file only.
. "$(dirname "$0")/lib.sh"
SA=$(command -v systemd-analyze) || skip_all "systemd-analyze is not installed (scripts/install-deps)"
plan 9
UNIT=$TOP/dist/flowtop-emit.service

# the installed unit names the installed program; here, the tree's
mkdir -p "$TMP/unit" "$TMP/man/man1"
sed "s|/usr/bin/flowtop-emit|$EMIT|" "$UNIT" > "$TMP/unit/flowtop-emit.service"
# verify checks that Documentation=man:flowtop-emit(1) exists: the tree's
# page, where man is installed
cp "$TOP"/build/man/*.1 "$TMP/man/man1/" 2>/dev/null
if command -v man >/dev/null && [ -f "$TMP/man/man1/flowtop-emit.1" ]; then man_opt=--man=yes; else man_opt=--man=no; fi
MANPATH=$TMP/man "$SA" verify "$man_opt" "$TMP/unit/flowtop-emit.service" >"$TMP/verify" 2>&1
rc=$?
[ $rc -eq 0 ] && [ ! -s "$TMP/verify" ]
ok $? "systemd-analyze verify $man_opt: clean" || cat "$TMP/verify" >&2

"$SA" security --offline=yes --threshold=30 "$TMP/unit/flowtop-emit.service" >"$TMP/security" 2>&1
ok $? "offline security review: exposure at most 3.0 ($(grep -o 'exposure level.*' "$TMP/security" | head -1))" || grep '✗' "$TMP/security" >&2

# unit file values (last assignment wins, as in systemd)
val() { sed -n "s/^$1=//p" "$UNIT" | tail -1; }
is "$(val DynamicUser)" yes "runs as a dynamic, unprivileged user"
caps="CAP_NET_ADMIN CAP_SYS_PTRACE CAP_DAC_READ_SEARCH"
[ "$(val AmbientCapabilities)" = "$caps" ] && [ "$(val CapabilityBoundingSet)" = "$caps" ]
ok $? "ambient and bounding capabilities: exactly $caps"
[ "$(val NoNewPrivileges)" = yes ] && [ "$(val ProtectSystem)" = strict ] && [ "$(val ProtectHome)" = yes ] &&
	[ "$(val PrivateTmp)" = yes ] && [ "$(val Restart)" = on-failure ]
ok $? "NoNewPrivileges, ProtectSystem=strict, ProtectHome, PrivateTmp, Restart=on-failure"

exec_start=$(val ExecStart)
case $exec_start in *--accounting*) false ;; *) true ;; esac
ok $? "no --accounting (ProtectKernelTunables keeps /proc/sys read-only)"
out=$(echo "$exec_start" | sed -n 's/.*--output \([^ ]*\).*/\1/p')
[ "$(val LogsDirectory)" = flowtop ] && [ "$out" = /var/log/flowtop/flows.ndjson ] &&
	grep -q "^$out {" "$TOP/dist/flowtop-emit.logrotate"
ok $? "--output is in LogsDirectory, the file that the logrotate file rotates"
[ "$(val ExecReload)" = '/bin/kill -HUP $MAINPID' ] && grep -q 'systemctl kill -s HUP flowtop-emit.service' "$TOP/dist/flowtop-emit.logrotate"
ok $? "reload and logrotate's postrotate send SIGHUP (reopen)"

# every option of ExecStart is one that flowtop-emit knows
help=$("$EMIT" --help 2>&1)
missing=
for o in $(echo "$exec_start" | grep -o -- '--[a-z-]*'); do
	echo "$help" | grep -q -- "$o" || missing="$missing $o"
done
[ -z "$missing" ]; ok $? "flowtop-emit has every option the unit uses${missing:+ (missing:$missing)}"
done_testing
