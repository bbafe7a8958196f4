#!/bin/bash
# flowtop-view in a real terminal (tmux): layout, sort order on screen,
# scrolling and [+N], filters, search, pause, TAB, help, resize, quit and
# signals restoring the terminal.
. "$(dirname "$0")/lib.sh"
[ -x "$VIEW" ] || skip_all "flowtop-view not built"
command -v tmux >/dev/null || skip_all "tmux not installed"
plan 27

tmux_setup
# flow rows of the pane: lines after the heading, up to the key line
rows() { screen | sed -n '4,29p' | sed 's/ *$//' | grep -v '^$'; }

"$TOP/scripts/view-gen" --flows 60 --seed 3 > "$TMP/s.ndjson"
"$VIEW" --batch --width 120 "$TMP/s.ndjson" > "$TMP/batch"

tmux_start 120 30 "cat $TMP/s.ndjson | $VIEW 2>$TMP/err"
wait_screen 'stream ended'
ok $? "replayed stream shown, end of stream said"
screen | head -1 | grep -q '^Kernel netfilter TCP/UDP flow statistics, \[+0\]'
ok $? "heading with [+0]"
screen | sed -n 2p | grep -q 'flows 60/60'
ok $? "status line: shown/total"
diff <(rows | head -20) <(sed -n '2,21p' "$TMP/batch") >&2
ok $? "rows on screen are the batch lines, in the same sorted order"

tm send-keys -t v Down Down Down
wait_screen '\[+3\]'
ok $? "Down x3 scrolls: [+3]"
diff <(rows | head -5) <(sed -n '5,9p' "$TMP/batch") >&2
ok $? "the list moved three lines"
tm send-keys -t v k
wait_screen '\[+2\]'
ok $? "k scrolls back one"
tm send-keys -t v End
wait_screen "\[+$((60 - 26))\]"
ok $? "End: last flow on the last row"
[ "$(rows | tail -1)" = "$(tail -1 "$TMP/batch")" ]
ok $? "bottom row is the last flow"
tm send-keys -t v Home
wait_screen '\[+0\]'
ok $? "Home: back to the top"
tm send-keys -t v NPage
wait_screen '\[+26\]'
ok $? "PgDn: one page"
tm send-keys -t v PPage
wait_screen '\[+0\]'

tm send-keys -t v f u
wait_screen 'filter udp (Esc clears)'
rows | grep -v ':udp' | grep -q . ; [ $? -ne 0 ] && [ "$(rows | wc -l)" -eq "$(grep -c ':udp' "$TMP/batch")" ]
ok $? "f u: only udp flows"
tm send-keys -t v f u f 6
wait_screen 'filter ipv6 '
[ "$(rows | wc -l)" -eq "$(grep -c ':ipv6:' "$TMP/batch")" ] && ! rows | grep -q ':ipv4:'
ok $? "f 6: only IPv6 flows"
tm send-keys -t v Escape
wait_gone '  filter '

tm send-keys -t v / f i r e f o x Enter
wait_screen 'filter /firefox'
n=$(rows | wc -l)
[ "$n" -gt 0 ] && [ "$n" -eq "$(grep -c 'firefox' "$TMP/batch")" ]
ok $? "search filters to the matching flows ($n)"
tm send-keys -t v / Escape
wait_gone 'filter /firefox'
ok $? "Esc clears the search"

tm send-keys -t v o
wait_screen 'sort bytes'
ok $? "o: next sort order"
tm send-keys -t v r
wait_screen 'sort bytes (reversed)'
ok $? "r: reversed"
tm send-keys -t v o o o o o r
wait_screen 'sort state  '

tm send-keys -t v Tab
wait_screen 'PROCESS *FLOWS'
ok $? "TAB: per-process view"
screen | grep -q 'firefox'
ok $? "process rows named"
tm send-keys -t v Tab
wait_screen 'SENT *RECV'

tm send-keys -t v '?'
wait_screen 'flowtop-view keys'
ok $? "? shows help"
tm send-keys -t v x
wait_gone 'flowtop-view keys'
ok $? "any key closes help"

tm resize-window -t v -x 70 -y 20
# redrawn at the new size: the key line on the last of 20 rows
wait_for 3 sh -c "tmux -L $SOCK capture-pane -p -t v | sed -n 20p | grep -q 'F1 help'"
w=$(screen | awk '{ if (length($0) > m) m = length($0) } END { print m }')
[ "$w" -le 70 ] && screen | sed -n 20p | grep -q 'F1 help'
ok $? "resize: redrawn at 70x20 (widest line $w)"

tm send-keys -t v q
wait_for 3 test -s "$TMP/stty.after"
is "$(cat "$TMP/rc" 2>/dev/null)" "rc=0" "q quits with status 0"
diff <(grep -v rows "$TMP/stty.before") <(grep -v rows "$TMP/stty.after") >&2
ok $? "terminal settings restored after q"

# pause: a live stream keeps coming, the display holds still
mkfifo "$TMP/fifo"
rm -f "$TMP/rc" "$TMP/stty.after"
tmux_start 120 30 "sh -c 'echo \$\$ > $TMP/pid; exec $VIEW $TMP/fifo 2>$TMP/err'"
exec 7>"$TMP/fifo"
head -20 "$TMP/s.ndjson" >&7
wait_screen 'flows 19/19'
tm send-keys -t v p
wait_screen PAUSED
sed -n '21,40p' "$TMP/s.ndjson" >&7
# the total follows the table, the rows shown stay the paused ones
wait_screen 'flows 19/39'
ok $? "paused: the display holds while the stream goes on"
tm send-keys -t v p
wait_screen 'flows 39/39'
ok $? "resumed: the new flows appear"

# a signal restores the terminal too
kill -TERM "$(cat "$TMP/pid")"
exec 7>&-
wait_for 3 test -s "$TMP/stty.after"
diff "$TMP/stty.before" "$TMP/stty.after" >&2
ok $? "terminal restored after SIGTERM"
done_testing
