#!/bin/bash
# The string pool is rebuilt while the paused per-process view is on screen
# (issue 12): under AddressSanitizer, rows that kept pointers into the old
# pool were a heap-use-after-free.  Five flows with process names, then
# 200k updates of one flow, each with a new 480-byte destination.domain
# (about 96 MB of strings, past the 64 MiB rebuild point), through a FIFO
# while TAB and space hold the process rows on screen.
. "$(dirname "$0")/lib.sh"
[ -x "$VIEW" ] || skip_all "flowtop-view not built"
command -v tmux >/dev/null || skip_all "tmux not installed"
plan 6

# The view under ASan and UBSan: the one under test when the tree was built
# with SANITIZE, else its own build in build/asan-view (a few seconds, then
# incremental).
AVIEW=$VIEW
if ! grep -q __asan_init "$VIEW"; then
	AVIEW=$TOP/build/asan-view/flowtop-view
	(
		flock 9
		make -C "$TOP" -s B=build/asan-view SANITIZE=address,undefined \
			build/asan-view/flowtop-view >"$TMP/build.err" 2>&1 ||
		{
			# a Makefile without out-of-tree builds: build a copy
			rm -rf "$TOP/build/asan-view" && mkdir -p "$TOP/build/asan-view" &&
			cp -a "$TOP/Makefile" "$TOP/src" "$TOP/build/asan-view/" &&
			make -C "$TOP/build/asan-view" -s SANITIZE=address,undefined flowtop-view >>"$TMP/build.err" 2>&1
		}
	) 9>"$TOP/build/.asan-view.lock"
fi
[ -x "$AVIEW" ] && grep -q __asan_init "$AVIEW"
ok $? "an ASan build of flowtop-view" || { cat "$TMP/build.err" >&2; done_testing; }

tmux_setup
mkfifo "$TMP/fifo"
tm new-session -d -s v -x 120 -y 30 \
	"export LANG=C.UTF-8 TERM=screen ASAN_OPTIONS=abort_on_error=0:exitcode=66; $AVIEW --stats $TMP/fifo 2>$TMP/err; echo rc=\$? > $TMP/rc; sleep 60"
tm set-option -t v remain-on-exit on >/dev/null
exec 7>"$TMP/fifo"

T='"@timestamp":"2026-11-29T14:10:30.000000Z"'
for i in 1 2 3 4 5; do
	echo "{$T,\"event\":{\"action\":\"new\"},\"network\":{\"type\":\"ipv4\",\"transport\":\"tcp\"},\"source\":{\"ip\":\"10.0.0.$i\",\"port\":4000$i},\"destination\":{\"ip\":\"10.0.1.$i\",\"port\":443},\"process\":{\"pid\":10$i,\"name\":\"proc-$i-name\"},\"conntrack\":{\"id\":$i,\"state\":\"ESTABLISHED\"}}"
done >&7
wait_screen 'flows 5/5'
tm send-keys -t v Tab
wait_screen 'PROCESS *FLOWS'
tm send-keys -t v Space
wait_screen 'PAUSED'
ok $? "per-process view, paused"

python3 - >&7 <<'PY'
import sys
out = sys.stdout
head = ('{"@timestamp":"2026-11-29T14:10:31.000000Z","event":{"action":"update"},'
        '"conntrack":{"id":1},"destination":{"domain":"')
pad = "d" * 471
for i in range(200000):
    out.write('%s%08d.%s"}}\n' % (head, i, pad))
PY
exec 7>&-
# the end of the stream on screen, or the view gone
wait_for 60 sh -c "test -s $TMP/rc || tmux -L $SOCK capture-pane -p -t v | grep -q 'stream ended'"
screen | grep -q 'stream ended' && [ ! -s "$TMP/rc" ]
ok $? "the view read the whole stream while paused"
! grep -q -e AddressSanitizer -e 'runtime error' "$TMP/err" && [ ! -s "$TMP/rc" ]
ok $? "no use-after-free: still running, nothing from the sanitizers" ||
	grep -A12 -e 'ERROR: AddressSanitizer' -e 'runtime error' "$TMP/err" | head -16 >&2
[ "$(screen | grep -c 'proc-[1-5]-name')" -eq 5 ]
ok $? "the paused process rows still show their five names" || screen >&2

tm send-keys -t v q
wait_for 10 test -s "$TMP/rc"
# --stats on exit: less than 64 MiB left in the pool means it was rebuilt
# (96 MB of distinct strings went in), so the test did reach the rebuild
pool=$(sed -n 's/.*strings \([0-9]*\) bytes.*/\1/p' "$TMP/err")
[ "$(cat "$TMP/rc")" = rc=0 ] && [ -n "$pool" ] && [ "$pool" -lt $((64 << 20)) ]
ok $? "quits cleanly, and the pool was rebuilt on the way (${pool:-?} bytes at exit)" ||
	cat "$TMP/rc" "$TMP/err" >&2
done_testing
