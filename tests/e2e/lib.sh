# lib.sh - shared by the end-to-end tests (sourced, not run).
#
# Each test gets its own network namespace, so it sees only its own conntrack
# table; everything it makes is removed by the EXIT trap, pass or fail.
# TAP helpers: plan N, ok COND-STATUS "name", is GOT WANT "name", skip_all.

set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
EMIT="$TOP/flowtop-emit"
VIEW="$TOP/flowtop-view"
T_N=0
T_FAILED=0
NS=
TMP=$(mktemp -d "${TMPDIR:-/tmp}/flowtop-test.XXXXXX")
CLEANUP_HOOKS=

plan() { echo "1..$1"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
diag() { printf '# %s\n' "$@" >&2; }

# ok STATUS NAME: pass when STATUS is 0 (use: cmd; ok $? "name")
ok() {
	T_N=$((T_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T_N - $2"
	else
		echo "not ok $T_N - $2"
		T_FAILED=$((T_FAILED + 1))
	fi
	return "$1"
}

# is GOT WANT NAME
is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:  $1" "want: $2"
		return 1
	fi
}

done_testing() {
	[ "$T_FAILED" -eq 0 ]
	exit $?
}

# at_exit CMD: run CMD when the test exits, newest first
at_exit() { CLEANUP_HOOKS="$*; $CLEANUP_HOOKS"; }

_cleanup() {
	set +e
	eval "$CLEANUP_HOOKS" >/dev/null 2>&1
	if [ -n "$NS" ]; then
		# kill anything still running inside the namespace
		for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$NS" 2>/dev/null
		rm -rf "/etc/netns/$NS"
	fi
	rm -rf "$TMP"
}
trap _cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

need_root() {
	[ "$(id -u)" = 0 ] || skip_all "needs root for network namespaces"
	ip netns add "flowtop-probe-$$" 2>/dev/null || skip_all "cannot create network namespaces"
	ip netns del "flowtop-probe-$$"
}

# netns_setup: a fresh namespace with lo up, 10.99.0.1/32 and fd99::1/128 on
# lo, and an nftables rule that asks for connection tracking.
netns_setup() {
	need_root
	NS="flowtop-t$$-$(basename "$0" .t)"
	ip netns add "$NS" || { echo "Bail out! cannot add netns"; exit 1; }
	mkdir -p "/etc/netns/$NS"
	printf '127.0.0.1 localhost\n::1 localhost\n' > "/etc/netns/$NS/hosts"
	# no resolver inside: lookups answer from hosts or fail at once
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "/etc/netns/$NS/resolv.conf"
	nsx ip link set lo up
	nsx ip addr add 10.99.0.1/32 dev lo
	nsx ip addr add fd99::1/128 dev lo nodad
	nsx nft -f - <<'NFT'
table inet flowtop_test {
	chain out { type filter hook output priority 0; ct state new,established counter; }
	chain in { type filter hook input priority 0; ct state new,established counter; }
}
NFT
}

# nsx CMD...: run CMD inside the test's namespace
nsx() { ip netns exec "$NS" "$@"; }

# nsbg CMD...: start CMD inside the namespace in the background; BGPID is
# CMD's own pid (a backgrounded function would give a subshell's instead)
nsbg() { ip netns exec "$NS" "$@" & BGPID=$!; }

# inject a flow with conntrack -I inside the namespace; quiet
ct_inject() { nsx conntrack -I "$@" >/dev/null 2>&1; }

# wait_for SECONDS CMD...: poll CMD every 0.05 s until it succeeds; gives up
# after SECONDS * 20 tries, so at least SECONDS (a whole number) by the
# clock, and longer where each try is slow: a loaded machine slows the
# event and the check alike (with a deadline by the clock alone the churn
# test failed once under load)
wait_for() {
	local t=$1 i=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -ge $((t * 20)) ] && return 1
		sleep 0.05
	done
	return 0
}

# wait_line SECONDS FILE ERE: a line of FILE (an output being written)
# matches ERE; on giving up, says so and shows the end of FILE
wait_line() {
	wait_for "$1" grep -Eq -e "$3" "$2" && return 0
	diag "no line matching '$3' in $2 after $1 s; it ends:"
	tail -n 3 "$2" 2>&1 | cut -c 1-200 | sed 's/^/#   /' >&2
	return 1
}

# wait_record SECONDS FILE JQ: the NDJSON stream in FILE has a record for
# which the jq expression JQ holds (a line still being written is skipped)
_has_record() { jq -c "select($2)" "$1" 2>/dev/null | grep -q .; }
wait_record() {
	wait_for "$1" _has_record "$2" "$3" && return 0
	diag "no record with $3 in $2 after $1 s"
	return 1
}

# json_lines_valid FILE: every line is one JSON object
json_lines_valid() {
	local bad
	bad=$(while IFS= read -r l; do printf '%s\n' "$l" | jq -e 'type == "object"' >/dev/null 2>&1 || echo x; done < "$1" | wc -l)
	[ "$bad" -eq 0 ]
}

# A private tmux server for the tests that drive a real terminal: tm runs
# tmux on it, screen prints pane "v", and wait_screen / wait_gone poll the
# pane for a pattern (WAIT_TICKS times 0.05 s, 3 s unless set).
tmux_setup() {
	SOCK="flowtop-t$$"
	at_exit "_tmux_cleanup"
}
tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
# Every pane's processes go with SIGKILL before the server: a program that
# loses its terminal must not outlive the test (a sanitizer build's exit
# could hang there, and a leftover spins on a CI machine's CPU).  A pane's
# process leads a session of its own.
_tmux_cleanup() {
	_tmux_kill_panes -a
	tm kill-server 2>/dev/null
}
# _tmux_kill_panes -a | -t SESSION: SIGKILL to the processes of those panes
# (a session of its own each), before their terminal goes: the sanitizer
# build's view hung at exit once its terminal was gone, at 90 % CPU
_tmux_kill_panes() {
	local p
	for p in $(tm list-panes "$@" -F '#{pane_pid}' 2>/dev/null); do
		pkill -KILL -s "$p" 2>/dev/null
	done
}
screen() { tm capture-pane -p -t v; }
# tmux_start W H CMD: CMD in a fresh W x H pane "v" (LANG=C.UTF-8,
# TERM=screen) that stays on screen when CMD ends; CMD's status lands in
# $TMP/rc as rc=N, the terminal settings before and after it in
# $TMP/stty.before and $TMP/stty.after.  A session "keep" outlives each
# pane's, so that killing one never ends the server while the next starts.
tmux_start() {
	local w=$1 h=$2
	shift 2
	rm -f "$TMP/rc" "$TMP/stty.after"
	tm has-session -t keep 2>/dev/null || tm new-session -d -s keep "sleep 600"
	_tmux_kill_panes -t v
	tm kill-session -t v 2>/dev/null
	tm new-session -d -s v -x "$w" -y "$h" \
		"export LANG=C.UTF-8 TERM=screen; stty -a > $TMP/stty.before; $*; echo rc=\$? > $TMP/rc; stty -a > $TMP/stty.after; sleep 30"
	tm set-option -t v remain-on-exit on >/dev/null
}
_wait_pane() {  # _wait_pane shown|gone PATTERN
	local i
	for i in $(seq "${WAIT_TICKS:-60}"); do
		if screen | grep -q -e "$2"; then
			[ "$1" = shown ] && return 0
		else
			[ "$1" = gone ] && return 0
		fi
		sleep 0.05
	done
	diag "pane never $1: $2"
	screen >&2
	return 1
}
wait_screen() { _wait_pane shown "$1"; }
wait_gone() { _wait_pane gone "$1"; }
