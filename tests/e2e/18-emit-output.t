#!/bin/bash
# --output FILE and SIGHUP: the file is appended to and made 0640; SIGHUP
# opens the path anew (logrotate's create mode, or none) while flows keep
# coming, and every record lands whole in exactly one of the files; --once
# goes on after SIGHUP too.  Without --output SIGHUP ends follow mode with
# status 0.  --quiet: no notices, errors still said.  A write that fails
# at run time ends with status 1.
. "$(dirname "$0")/lib.sh"
netns_setup
plan 27
umask 022
E="$EMIT -n --no-geoip --no-process"

# --quiet first, while the table is empty: the empty-table hint and the
# counters notice are what a cron job would mail
nsx $E --once >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 0 ] && [ -s "$TMP/err" ]; ok $? "without --quiet an empty table gives notices ($(head -c 60 "$TMP/err"))"
nsx $E --once --quiet >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 0 ] && [ ! -s "$TMP/err" ]; ok $? "--once --quiet: status 0, nothing on stderr" || cat "$TMP/err" >&2
nsx $EMIT -n --once -q >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 0 ] && [ ! -s "$TMP/err" ]; ok $? "-q: no GeoIP notice either" || cat "$TMP/err" >&2
nsx $E --once --quiet --output "$TMP/nodir/f.ndjson" 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q "^flowtop-emit: cannot open '$TMP/nodir/f.ndjson': No such file or directory$" "$TMP/err"
ok $? "--quiet still says errors: an unwritable --output path, status 1" || cat "$TMP/err" >&2
nsx $E --once --output "$TMP" 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q "^flowtop-emit: cannot open '$TMP': Is a directory$" "$TMP/err"
ok $? "a directory as --output: a clear error, status 1" || cat "$TMP/err" >&2
"$EMIT" -q -v --once >/dev/null 2>&1; is $? 2 "--quiet and --verbose together: usage error"

ct_inject -s 192.0.2.1 -d 198.51.100.2 -p tcp --sport 999 --dport 443 --state ESTABLISHED -t 300

# --once appends, the file made 0640 (less the umask)
F=$TMP/once.ndjson
nsx $E --once --output "$F" 2>/dev/null && nsx $E --once -o "$F" 2>/dev/null
ok $? "--once --output: status 0"
is "$(jq -r 'select(.source.port == 999) | .event.action' "$F" | tr '\n' ' ')" "snapshot snapshot " "two runs append two snapshots"
is "$(stat -c %a "$F")" 640 "the file is made with mode 0640"
chmod 600 "$F"
nsx $E --once -o "$F" 2>/dev/null; is "$(stat -c %a "$F")" 600 "an existing file keeps its mode"

# --once goes on after SIGHUP: a name server that never answers holds it
# in the wait for names, where the file is renamed and the signal sent;
# the records, written after the wait, go to the new file
nsbg python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
open(sys.argv[1] + ".bound", "w").close()
s.recvfrom(512)
open(sys.argv[1], "w").close()
while True:
    s.recvfrom(512)
' "$TMP/asked"
at_exit "kill $BGPID 2>/dev/null"
wait_for 5 test -e "$TMP/asked.bound"
F=$TMP/hup.ndjson
nsbg $EMIT --no-geoip --no-process --once --dns-timeout 3 --quiet --output "$F"
OPID=$BGPID
wait_for 5 test -e "$TMP/asked"; ok $? "--once asks the name server and waits"
mv "$F" "$F.1"
kill -HUP "$OPID"; wait "$OPID"; is $? 0 "--once --output: SIGHUP does not end it, status 0"
[ ! -s "$F.1" ] && [ "$(jq -r 'select(.source.port == 999) | .event.action' "$F")" = snapshot ]
ok $? "the records are in the new file"

# a runtime failure is status 1 (Restart=on-failure relies on it)
nsx $E --once --output /dev/full 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q "^flowtop-emit: cannot write to '/dev/full': No space left on device$" "$TMP/err"
ok $? "--once: a failed write says so and ends with status 1" || cat "$TMP/err" >&2
timeout 10 ip netns exec "$NS" $E --output /dev/full 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q "^flowtop-emit: cannot write to '/dev/full'" "$TMP/err"
ok $? "follow mode: a failed write ends it with status 1 (got $rc)" || cat "$TMP/err" >&2

# without --output SIGHUP ends follow mode, status 0
nsbg $E --interval 0 > "$TMP/plain.ndjson" 2>/dev/null
wait_for 5 grep -q snapshot-end "$TMP/plain.ndjson"
kill -HUP "$BGPID"; wait "$BGPID"; is $? 0 "without --output SIGHUP ends follow mode with status 0"

# rotation under a steady flow of events: the injector adds flows with
# source ports 10001, 10002, ... until told to stop
LOG=$TMP/flows.ndjson
nsbg $E --interval 0 --quiet --output "$LOG" 2>"$TMP/follow.err"
EPID=$BGPID
at_exit "kill $EPID 2>/dev/null"
wait_for 5 grep -q snapshot-end "$LOG"; ok $? "follow mode writes to the file"
(
	i=0
	while [ ! -e "$TMP/stop" ] && [ $i -lt 5000 ]; do
		i=$((i + 1))
		ct_inject -s 192.0.2.7 -d 198.51.100.7 -p tcp --sport $((10000 + i)) --dport 80 --state ESTABLISHED -t 300
		echo $i > "$TMP/last"
	done
) &
INJ=$!
at_exit "touch $TMP/stop; kill $INJ 2>/dev/null"
has_new() { grep -q '"action":"new"' "$1"; }
rotated=0
for k in 1 2 3 4 5 6; do
	has_new "$LOG" || wait_for 5 has_new "$LOG" || break
	mv "$LOG" "$LOG.$k"
	# odd rounds as logrotate's create does, even ones left to the emitter
	[ $((k % 2)) -eq 1 ] && install -m 640 /dev/null "$LOG"
	kill -HUP "$EPID"
	wait_for 5 has_new "$LOG" || break
	rotated=$k
done
is "$rotated" 6 "six renames and SIGHUPs, each file then taking new records"
touch "$TMP/stop"; wait "$INJ"
last=$(cat "$TMP/last")
wait_for 5 grep -q "\"port\":$((10000 + last))[,}]" "$LOG"; ok $? "the last of $last injected flows is written"
kill -TERM "$EPID"; wait "$EPID"; is $? 0 "SIGTERM after the rotations: status 0"
[ ! -s "$TMP/follow.err" ]; ok $? "--quiet in follow mode: nothing on stderr" || cat "$TMP/follow.err" >&2
is "$(stat -c %a "$LOG.2")" 640 "the file that the emitter made itself is 0640"

# a path that cannot be opened again ends the run with status 1, said
mkdir "$TMP/gone"
nsbg $E --interval 0 --quiet --output "$TMP/gone/f.ndjson" 2>"$TMP/gone.err"
GPID=$BGPID
wait_for 5 grep -q snapshot-end "$TMP/gone/f.ndjson"; ok $? "follow mode writes into a directory that will go"
rm -r "$TMP/gone"
kill -HUP "$GPID"; wait "$GPID"; rc=$?
[ $rc -eq 1 ] && grep -q "^flowtop-emit: cannot open '$TMP/gone/f.ndjson' anew after SIGHUP: No such file or directory$" "$TMP/gone.err"
ok $? "SIGHUP with the directory gone: a clear error, status 1 (got $rc)" || cat "$TMP/gone.err" >&2

# count every record across the seven files
python3 - "$last" "$LOG".[1-6] "$LOG" > "$TMP/count" 2>&1 <<'PY'
import json, sys
last, files = int(sys.argv[1]), sys.argv[2:]
seen, lines, bad, news = {}, set(), [], []
for f in files:
    data = open(f, "rb").read()
    if data and not data.endswith(b"\n"):
        bad.append(f + ": ends inside a line")
    n = 0
    for l in data.splitlines():
        if l in lines:
            bad.append(f + ": line twice: " + l.decode()[:80])
        lines.add(l)
        try:
            r = json.loads(l)
        except ValueError:
            bad.append(f + ": not JSON: " + l.decode(errors="replace")[:80])
            continue
        if r["event"]["action"] == "new" and r["source"]["ip"] == "192.0.2.7":
            p = r["source"]["port"] - 10000
            seen[p] = seen.get(p, 0) + 1
            n += 1
    news.append(n)
wrong = [p for p in range(1, last + 1) if seen.get(p) != 1] + [p for p in seen if p > last]
print("bad:", len(bad), bad[:3])
print("wrong:", len(wrong), wrong[:10])
print("empty files:", sum(1 for n in news[1:] if n == 0), news)
PY
grep -q '^bad: 0 ' "$TMP/count"; ok $? "every line is whole and JSON, none twice" || cat "$TMP/count" >&2
grep -q '^wrong: 0 ' "$TMP/count"; ok $? "each of the $last flows has exactly one new record across the files" || cat "$TMP/count" >&2
grep -q '^empty files: 0 ' "$TMP/count"; ok $? "every file after a rotation has records of its own ($(sed -n 's/^empty files: [0-9]* //p' "$TMP/count"))" || cat "$TMP/count" >&2
