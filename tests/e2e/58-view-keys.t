#!/bin/bash
# flowtop-view's keys for top and htop habits (issue 13), in a real terminal
# (tmux): F1/h help that explains bridged(?), F3 search, f filters, Esc
# clears, F6 < > P M T sort, F10 quits, a key that does nothing says so; the
# column heading in the default view; at 80 columns the destination is in
# view; '-' for missing counters in the per-process view; the empty screen's
# advice follows what flowtop already did; flowtop shows the emitter's
# messages after Ctrl-C.
. "$(dirname "$0")/lib.sh"
[ -x "$VIEW" ] || skip_all "flowtop-view not built"
command -v tmux >/dev/null || skip_all "tmux not installed"
plan 32

tmux_setup
bottom() { screen | tail -1; }

"$TOP/scripts/view-gen" --flows 60 --seed 3 > "$TMP/s.ndjson"

# --- 120 columns: the default layout, keys ----------------------------------
tmux_start 120 30 "$VIEW $TMP/s.ndjson"
wait_screen 'stream ended'
screen | sed -n 3p | grep -q 'SENT.*RECV.*\[PID/PROCESS\]:FAMILY:TRANSPORT\[STATE\]:APP -> SOURCE => DESTINATION'
ok $? "default view: a column heading that names the parts of the line"

# keys that do nothing say so: top's 1, htop's s (strace), a function key
while IFS='|' read -r key want name; do
	tm send-keys -t v "$key"
	wait_screen "$want"
	ok $? "$name"
done <<'KEYS'
1|'1' does nothing here; F1 or h shows the keys|a key that does nothing says so (1)
s|'s' does nothing here|s is no longer a filter of its own, and says so
F5|F5 does nothing here|function keys that do nothing say so too (F5)
KEYS
tm send-keys -t v j
wait_gone "does nothing here"
ok $? "the message goes with the next key"

tm send-keys -t v h
wait_screen 'flowtop-view keys'
ok $? "h shows the help"
screen | grep -q 'bridged(?) *a flow with no local process' &&
	screen | grep -q 'local and its process gone'
ok $? "the help explains bridged(?), gone processes included"
tm send-keys -t v x
wait_gone 'flowtop-view keys'
tm send-keys -t v F1
wait_screen 'flowtop-view keys'
ok $? "F1 shows the help"
tm send-keys -t v x
wait_gone 'flowtop-view keys'

tm send-keys -t v F3
wait_screen '^/_'
ok $? "F3 opens the search"
tm send-keys -t v f i r e f o x Enter
wait_screen 'filter /firefox (Esc clears)'
ok $? "Enter keeps the search, and the status says how to undo it"
n=$(screen | sed -n '4,29p' | grep -c .)
[ "$n" -eq "$(grep -c '"firefox"' "$TMP/s.ndjson")" ]
ok $? "the search keeps the firefox flows ($n)"
tm send-keys -t v Escape
wait_gone 'filter /firefox'
ok $? "Esc clears a kept search"
tm send-keys -t v f u
wait_screen 'filter udp (Esc clears)'
ok $? "f u: only udp"
screen | sed -n '4,29p' | grep -q ':tcp'
[ $? -ne 0 ]
ok $? "no tcp flow left on the screen"
tm send-keys -t v Escape
wait_gone 'filter udp'
ok $? "Esc clears a kept filter"
tm send-keys -t v Escape
wait_screen 'no search or filter to clear'
ok $? "Esc with nothing to clear says so"
tm send-keys -t v f z
wait_screen 'no such filter'
ok $? "f and a key that is no filter says so"

# top's and htop's sort keys
while IFS='|' read -r key want name; do
	tm send-keys -t v "$key"
	wait_screen "$want"
	ok $? "$name"
done <<'KEYS'
F6|sort bytes |F6: next sort order
<|sort state |<: previous sort order
>|sort bytes |>: next sort order
P|sort rate |P: by rate (top's CPU)
T|sort age |T: by age (top's time)
M|sort bytes |M: by bytes (top's memory)
KEYS
tm send-keys -t v F10
wait_for 3 test -s "$TMP/rc"
is "$(cat "$TMP/rc" 2>/dev/null)" "rc=0" "F10 quits"

# --- 80 columns: the compact layout keeps the destination in view ----------
"$VIEW" --batch --width 0 "$TMP/s.ndjson" | sed 1d | sed 's/.* => //; s/ (.*//' > "$TMP/dst"
tmux_start 80 24 "$VIEW $TMP/s.ndjson"
wait_screen 'stream ended'
screen | sed -n 3p | grep -q 'PROCESS.*STATE.*DESTINATION'
ok $? "80 columns: the compact heading"
# rows 4-23: the first 20 flows in batch order, destination at column 50
diff <(screen | sed -n '4,23p' | cut -c50-80 | sed 's/ *$//') <(head -20 "$TMP/dst") >&2
ok $? "80 columns: every row shows its whole destination"

# --- no counters: '-' in the per-process view ------------------------------
T='"@timestamp":"2026-11-29T14:10:30.000000Z"'
for i in 1 2 3; do
	echo "{$T,\"event\":{\"action\":\"new\"},\"network\":{\"type\":\"ipv4\",\"transport\":\"udp\"},\"source\":{\"ip\":\"10.0.0.$i\",\"port\":1$i},\"destination\":{\"ip\":\"10.0.0.9\",\"port\":53},\"process\":{\"pid\":4$i,\"name\":\"dig\"},\"conntrack\":{\"id\":$i}}"
done > "$TMP/nocount"
tmux_start 120 30 "$VIEW $TMP/nocount"
wait_screen 'stream ended'
tm send-keys -t v Tab
wait_screen 'PID *PROCESS *FLOWS'
screen | grep -E -q '^ *41 +dig +1 +- +- +-$'
ok $? "per-process view without counters: '-', not 0"

# --- the rows follow the table: no stale sort or sums after a change ------
mkfifo "$TMP/fifo"
tmux_start 120 30 "$VIEW $TMP/fifo"
exec 7>"$TMP/fifo"
cat "$TMP/nocount" >&7
wait_screen 'flows 3/3'
tm send-keys -t v Tab
wait_screen '^ *41  *dig '
echo "{$T,\"event\":{\"action\":\"new\"},\"network\":{\"type\":\"ipv4\",\"transport\":\"tcp\"},\"source\":{\"ip\":\"10.0.0.7\",\"port\":7},\"destination\":{\"ip\":\"10.0.0.9\",\"port\":443},\"process\":{\"pid\":77,\"name\":\"curl\"},\"conntrack\":{\"id\":7,\"state\":\"ESTABLISHED\"}}" >&7
wait_screen '^ *77  *curl  *1 '
ok $? "per-process view: a new process shows up while it is on screen"
tm send-keys -t v Tab
wait_screen '\[77/curl\]'
ok $? "back to the flows: the new flow is in the list"
exec 7>&-

# --- the empty screen's advice ---------------------------------------------
echo "{$T,\"event\":{\"action\":\"snapshot-begin\"}}" > "$TMP/empty"
echo "{$T,\"event\":{\"action\":\"snapshot-end\"}}" >> "$TMP/empty"
tmux_start 120 30 "$VIEW $TMP/empty"
wait_screen "run 'flowtop --track'"
ok $? "empty table: advice to track"
tmux_start 120 30 "$VIEW --tracked $TMP/empty"
wait_screen 'No flows yet'
! screen | grep -q "run 'flowtop --track'"
ok $? "empty table with --tracked (what flowtop --track passes): no advice to do it again"

# --- flowtop: the emitter's last words survive Ctrl-C ----------------------
# a stand-in emitter: three records, then it waits and, stopped, says so
cat > "$TMP/emit" <<EMIT
#!/bin/sh
trap 'echo "flowtop-emit: stopped (test)" >&2; exit 0' INT TERM
cat "$TMP/nocount"
while :; do sleep 0.05; done
EMIT
chmod +x "$TMP/emit"
if [ -x "$TOP/flowtop" ] && [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
	# in a namespace of its own: flowtop asks nftables about its table
	tmux_start 120 30 "FLOWTOP_EMIT=$TMP/emit unshare -n $TOP/flowtop"
	wait_screen 'flows 3/3'
	tm send-keys -t v C-c
	wait_screen 'flowtop-emit: stopped (test)'
	ok $? "flowtop: Ctrl-C, then the emitter's message on the terminal"
else
	echo "ok $((T_N += 1)) # SKIP flowtop not built or no namespaces"
fi
done_testing
