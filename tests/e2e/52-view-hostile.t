#!/bin/bash
# Hostile input through --batch and the screen: junk lines are skipped and
# counted exactly, good flows survive, and no escape sequence or control
# character from the stream reaches the terminal.
. "$(dirname "$0")/lib.sh"
[ -x "$VIEW" ] || skip_all "flowtop-view not built"
command -v tmux >/dev/null || skip_all "tmux not installed"
plan 11

python3 - "$TMP/h.ndjson" <<'PY'
import json, random, sys
rng = random.Random(7)
T = '"@timestamp":"2026-11-29T14:10:30.000000Z"'
def good(i, name, dom):
    return ('{%s,"event":{"action":"snapshot"},"network":{"type":"ipv4","transport":"tcp"},'
            '"source":{"ip":"10.0.0.%d","port":%d,"domain":%s},"destination":{"ip":"10.0.0.99","port":80},'
            '"process":{"pid":%d,"name":%s},"conntrack":{"id":%d,"state":"ESTABLISHED"}}'
            % (T, i, 1000 + i, json.dumps(dom), i, json.dumps(name), i)).encode()
lines = [
    good(1, "evil\x1b]0;pwned\x07name", "a\x1b[2Jb.example"),
    b"not json at all",
    b"{",
    b'{"a":"' + b"A" * (2 << 20) + b'"}',                       # a line of megabytes
    bytes(rng.choice([b for b in range(256) if b not in (10, 13, 32, 9)]) for _ in range(3000)),
    good(2, "c1\xc2\x9b31mcsi", "rtl\u202eevil.example"),
    b'{' + T.encode() + b',"event":{"action":"new"},"conntrack":{"id":"\xff\xfe"}}',  # invalid UTF-8
    b'{' + T.encode() + b',"event":{"action":"new"},"source":{"ip":{"x":1}},"conntrack":{"id":5}}',
    b"[1,2,3]",
    b"42",
    b'{"event":{"action":"new"},"process":{"name":"raw\x1b[31mctl"},"conntrack":{"id":6}}',
    b"\x1b[2J\x1b]0;owned\x07",
    b'{' + T.encode() + b',"event":{"action":"new"},"conntrack":{"id":7}}{"x":1}',
    good(3, "plain", "ok.example"),
]
with open(sys.argv[1], "wb") as f:
    f.write(b"\n".join(lines) + b"\n")
PY
BAD=11

"$VIEW" --batch "$TMP/h.ndjson" > "$TMP/out" 2> "$TMP/err"
ok $? "batch survives the hostile file"
is "$(wc -l < "$TMP/out")" 3 "the three good flows are all there"
is "$(cat "$TMP/err")" "flowtop-view: skipped $BAD bad lines (1 too long)" "bad lines counted exactly"
! LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$TMP/out" && ! grep -q $'\xc2\x9b' "$TMP/out" && ! grep -q $'\xe2\x80\xae' "$TMP/out"
ok $? "no control character, C1 or bidi override in the output"
grep -q 'evil\.\]0;pwned\.name' <(sed 's/\xef\xbf\xbd/./g' "$TMP/out")
ok $? "escape shown as a visible replacement"

# the same through the screen
SOCK="flowtop-t$$"
tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
at_exit "tmux -L $SOCK kill-server"
tm new-session -d -s v -x 200 -y 20 "export LANG=C.UTF-8 TERM=screen; $VIEW $TMP/h.ndjson 2>$TMP/err2; echo rc=\$? > $TMP/rc; sleep 30"
tm set-option -t v remain-on-exit on >/dev/null
title0=$(tm display -p -t v '#{pane_title}')
wait_for 3 sh -c "tmux -L $SOCK capture-pane -p -t v | grep -q 'stream ended'"
ok $? "screen up"
tm capture-pane -p -t v > "$TMP/scr"
grep -q "bad lines $BAD" "$TMP/scr"
ok $? "status line counts the bad lines"
is "$(grep -c 'ESTABLISHED' "$TMP/scr")" 3 "three flows on screen"
grep -q 'Kernel netfilter' "$TMP/scr" && [ "$(tm display -p -t v '#{pane_title}')" = "$title0" ]
ok $? "no clear-screen and no title change reached the terminal"
tm capture-pane -p -e -t v > "$TMP/scr-e"
! grep -q $'\e\[31m' "$TMP/scr-e" && grep -q '\[31mcsi\|31mcsi' "$TMP/scr"
ok $? "injected colour shown as text, never applied"
tm send-keys -t v q
wait_for 3 test -s "$TMP/rc"
is "$(cat "$TMP/rc")" "rc=0" "quits cleanly"
done_testing
