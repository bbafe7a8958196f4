#!/bin/bash
# The view leaves stdin's file description as it found it (issue 12: it
# set O_NONBLOCK on it, and the next program sharing it failed with
# "cat: -: Resource temporarily unavailable").  After --batch and after the
# screen, the flags are unchanged and a cat on the same stdin reads the rest
# of a pipe that is still being written.
. "$(dirname "$0")/lib.sh"
[ -x "$VIEW" ] || skip_all "flowtop-view not built"
command -v tmux >/dev/null || skip_all "tmux not installed"
plan 7

T='"@timestamp":"2026-11-29T14:10:30.000000Z"'
REC="{$T,\"event\":{\"action\":\"new\"},\"network\":{\"type\":\"ipv4\",\"transport\":\"udp\"},\"source\":{\"ip\":\"10.0.0.1\",\"port\":1},\"destination\":{\"ip\":\"10.0.0.2\",\"port\":53},\"conntrack\":{\"id\":1}}"
# the writer: one record now, a last line only once the view has gone
cat > "$TMP/writer" <<EOF
#!/bin/sh
printf '%s\n' '$REC'
while [ ! -e "$TMP/go" ]; do sleep 0.02; done
echo tail-line
EOF
chmod +x "$TMP/writer"
flags() { sed -n 's/^flags:[[:space:]]*//p' /proc/self/fdinfo/0; }

"$TMP/writer" | {
	flags > "$TMP/before"
	"$VIEW" --batch --for 0.3 > "$TMP/out" 2> "$TMP/err"
	echo $? > "$TMP/rc"
	flags > "$TMP/after"
	touch "$TMP/go"
	cat > "$TMP/rest" 2> "$TMP/cat.err"
}
is "$(cat "$TMP/rc")" 0 "--batch --for on a pipe: status 0"
grep -q '10\.0\.0\.1:1' "$TMP/out"
ok $? "it read the record"
[ -s "$TMP/before" ] && cmp -s "$TMP/before" "$TMP/after"
ok $? "stdin's flags unchanged after --batch ($(cat "$TMP/before") -> $(cat "$TMP/after"))"
is "$(cat "$TMP/rest" "$TMP/cat.err")" "tail-line" "cat on the same stdin reads the rest"

# the screen, quit with q
rm -f "$TMP/go" "$TMP/rc" "$TMP/before" "$TMP/after" "$TMP/rest"
tmux_setup
cat > "$TMP/run" <<EOF
#!/bin/bash
export LANG=C.UTF-8 TERM=screen
flags() { sed -n 's/^flags:[[:space:]]*//p' /proc/self/fdinfo/0; }
"$TMP/writer" | {
	flags > "$TMP/before"
	"$VIEW" 2> "$TMP/err"
	echo \$? > "$TMP/rc"
	flags > "$TMP/after"
	touch "$TMP/go"
	cat > "$TMP/rest" 2> "$TMP/cat.err"
}
sleep 30
EOF
chmod +x "$TMP/run"
tm new-session -d -s v -x 120 -y 30 "$TMP/run"
wait_screen 'flows 1/1'
ok $? "screen up with the flow"
tm send-keys -t v q
wait_for 5 test -s "$TMP/rest"
[ "$(cat "$TMP/rc")" = 0 ] && [ -s "$TMP/before" ] && cmp -s "$TMP/before" "$TMP/after"
ok $? "stdin's flags unchanged after the screen ($(cat "$TMP/before") -> $(cat "$TMP/after"))"
is "$(cat "$TMP/rest" "$TMP/cat.err")" "tail-line" "cat after the screen reads the rest"
done_testing
