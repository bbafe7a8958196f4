#!/bin/bash
# dist/flowtop-emit.logrotate and dist/flowtop-emit.cron, run for real with
# their paths moved into the test's directory: logrotate renames the log,
# creates the new one with the old owner and mode 0640, and signals the
# writer, which goes on in the new file; the cron line runs with cron's own
# environment (PATH=/usr/bin:/bin, nothing else) and appends records.
# logrotate -d also reads the shipped file as it is.  Nothing outside the
# test's directory and namespace is touched (own state file, no systemctl).
. "$(dirname "$0")/lib.sh"
LOGROTATE=$(command -v logrotate || echo /usr/sbin/logrotate)
[ -x "$LOGROTATE" ] || skip_all "logrotate is not installed (scripts/install-deps)"
netns_setup
plan 12
LR=$TOP/dist/flowtop-emit.logrotate
CRON=$TOP/dist/flowtop-emit.cron

# logrotate ignores a file that group or others may write: the installed
# one is 0644, a checkout's may be 0664
install -m 644 "$LR" "$TMP/shipped.conf"
"$LOGROTATE" -d -s "$TMP/state.d" "$TMP/shipped.conf" >"$TMP/debug" 2>&1
rc=$?
[ $rc -eq 0 ] && ! grep -qi '^error' "$TMP/debug" && grep -q 'Handling 2 logs' "$TMP/debug"
ok $? "logrotate -d reads the shipped file without an error" || cat "$TMP/debug" >&2

# the same file, its paths in $TMP and its signal sent to our writer
mkdir -p "$TMP/log/flowtop"
LOG=$TMP/log/flowtop/flows.ndjson
sed -e "s|/var/log/|$TMP/log/|g" \
    -e "s|systemctl kill -s HUP flowtop-emit.service|kill -HUP \$(cat $TMP/writer.pid)|" "$LR" > "$TMP/lr.conf"
chmod 644 "$TMP/lr.conf"
grep -q "kill -HUP" "$TMP/lr.conf"; ok $? "postrotate redirected to the test's writer"

ct_inject -s 192.0.2.1 -d 198.51.100.2 -p tcp --sport 1000 --dport 443 --state ESTABLISHED -t 300
# the emitter in follow mode, as the unit runs it, reopening on SIGHUP
nsbg "$EMIT" -n --quiet --output "$LOG"
echo "$BGPID" > "$TMP/writer.pid"
at_exit "kill $BGPID 2>/dev/null; wait $BGPID"
wait_for 5 grep -q '"port":1000' "$LOG"
ok $? "the writer logs the first flow"
# the service's files belong to its dynamic user: logrotate must keep that
chown 65534:65534 "$LOG"

"$LOGROTATE" -f -s "$TMP/state" "$TMP/lr.conf" >"$TMP/lr.out" 2>&1
ok $? "logrotate -f rotates with the shipped configuration" || cat "$TMP/lr.out" >&2
grep -q '"port":1000' "$LOG.1" 2>/dev/null; ok $? "the old records are in flows.ndjson.1 (not compressed yet: delaycompress)"
is "$(stat -c '%a %u:%g' "$LOG" 2>/dev/null)" "640 65534:65534" "the new file: mode 0640, the old owner (create)"
# postrotate's SIGHUP has been sent, not necessarily taken: a flow made
# before the writer opens the path anew lands, rightly, in the old file
reopened() { for f in /proc/"$(cat "$TMP/writer.pid")"/fd/*; do [ "$(readlink "$f")" = "$LOG" ] && return 0; done; return 1; }
wait_for 5 reopened || diag "the writer has not opened $LOG anew"
ct_inject -s 192.0.2.1 -d 198.51.100.2 -p tcp --sport 2000 --dport 443 --state ESTABLISHED -t 300
wait_for 5 grep -q '"port":2000' "$LOG"
ok $? "after SIGHUP the writer goes on in the new file"
! grep -q '"port":2000' "$LOG.1"; ok $? "and no longer in the old one"

# cron: one job line, as root, with absolute paths, run in cron's environment
job=$(grep -Ev '^[[:space:]]*(#|$)|^[A-Za-z_]+=' "$CRON")
[ "$(echo "$job" | wc -l)" -eq 1 ] && [ "$(echo "$job" | awk '{print $6}')" = root ] &&
	echo "$job" | awk '{print $7}' | grep -q '^/'
ok $? "cron.d: one job, user root, the program by its absolute path"
cmd=$(echo "$job" | cut -f3- | sed -e "s|/usr/bin/flowtop-emit|$EMIT|" -e "s|/var/log/|$TMP/log/|g")
[ -n "$cmd" ] && [ "$cmd" != "$job" ]; ok $? "the command is tab-separated after the user field"
cron_run() { nsx env -i PATH=/usr/bin:/bin SHELL=/bin/sh HOME=/root LOGNAME=root /bin/sh -c "$1"; }
SNAP=$TMP/log/flowtop-snapshots.ndjson
cron_run "$(echo "$cmd" | sed 's/ --quiet//')" 2>/dev/null && cron_run "$(echo "$cmd" | sed 's/ --quiet//')" 2>/dev/null &&
	[ "$(jq -r 'select(.destination.port == 443) | .source.port' "$SNAP" | sort | tr '\n' ' ')" = "1000 1000 2000 2000 " ]
ok $? "with cron's PATH the command appends a snapshot each run" || cat "$SNAP" >&2
rm -f "$SNAP"
out=$(cron_run "$cmd" 2>&1) && [ -z "$out" ] && [ "$(jq -r 'select(.destination.port == 443) | .source.port' "$SNAP" | sort | tr '\n' ' ')" = "1000 2000 " ]
ok $? "the cron line as shipped (--quiet) succeeds and prints nothing (no mail)" || echo "$out" >&2
done_testing
