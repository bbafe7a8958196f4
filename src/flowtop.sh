#!/bin/sh
# flowtop - the front door: runs flowtop-emit | flowtop-view.
# Options go to flowtop-emit, except --track (handled here), -h and -V.
# Exit status: the view's, or the emitter's when the emitter could not start.
set -u
VERSION=@VERSION@
PROG=flowtop
TABLE=flowtop_track

usage() {
	cat <<EOF
usage: $PROG [--track] [FLOWTOP-EMIT OPTIONS]
Show the kernel's tracked connections, live: flowtop-emit | flowtop-view.

  --track        for this session, add the nftables table 'inet $TABLE'
                 with a 'ct state' rule so that the kernel tracks
                 connections at all; it is removed on exit
  -h, --help     this text
  -V, --version  the version

Every other option is passed to flowtop-emit (see flowtop-emit --help).
Keys: F1 or h on the screen shows them, or see flowtop-view(1).
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
find_prog() {
	if [ -x "$here/$1" ]; then echo "$here/$1"; else command -v "$1"; fi
}
EMIT=${FLOWTOP_EMIT:-$(find_prog flowtop-emit)}
VIEW=${FLOWTOP_VIEW:-$(find_prog flowtop-view)}
[ -n "$EMIT" ] || { echo "$PROG: cannot find 'flowtop-emit'" >&2; exit 1; }
[ -n "$VIEW" ] || { echo "$PROG: cannot find 'flowtop-view'" >&2; exit 1; }

# take our own options out, keep the rest in order for the emitter
track=0
n=$#
i=0
while [ "$i" -lt "$n" ]; do
	a=$1
	shift
	i=$((i + 1))
	case $a in
	--track) track=1; continue ;;
	-h|--help) usage; exit 0 ;;
	-V|--version) echo "$PROG $VERSION"; exit 0 ;;
	esac
	set -- "$@" "$a"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/flowtop.XXXXXX") || exit 1
created=0
# The emitter's messages wait in $tmp/err while the view owns the terminal;
# every way out shows them once the view has put the terminal back, Ctrl-C
# and kill included (the traps end here, after the pipeline).  Ctrl-C
# reaches the emitter too, but the pipeline can end before it has said its
# last: it gets two seconds to finish.
err_shown=0
show_err() {
	if [ "$err_shown" = 0 ]; then
		epid=$(cat "$tmp/pid" 2>/dev/null)
		if [ -n "$epid" ] && kill -TERM "$epid" 2>/dev/null; then
			i=0
			while kill -0 "$epid" 2>/dev/null && [ "$i" -lt 40 ]; do
				sleep 0.05
				i=$((i + 1))
			done
		fi
		err_shown=1
		[ -s "$tmp/err" ] && cat "$tmp/err" >&2
	fi
}
cleanup() {
	show_err
	if [ "$created" = 1 ]; then
		nft delete table inet "$TABLE" 2>/dev/null
		created=0
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# --track, or a table a running flowtop --track left: the view's empty
# screen then does not advise what is already done
tracked=
if nft list table inet "$TABLE" >/dev/null 2>&1; then
	tracked=--tracked
elif [ "$track" = 1 ]; then
	if ! nft -f - 2>"$tmp/nft" <<EOF
table inet $TABLE {
	chain pre { type filter hook prerouting priority 0; ct state new counter; }
	chain out { type filter hook output priority 0; ct state new counter; }
}
EOF
	then
		echo "$PROG: cannot add nftables table 'inet $TABLE': $(head -1 "$tmp/nft")" >&2
		exit 1
	fi
	created=1
	tracked=--tracked
fi

# The emitter's stderr waits in a file while the screen is up, and the view
# stays off the terminal until the stream has data, so a failed start leaves
# the emitter's own message readable.
# Only the fields the view reads: at a million flows the rest of each
# record is most of the emitter's and the view's work.  First, so that a
# --fields of the user's (any spelling getopt takes) comes later and wins.
fields=$("$VIEW" --fields-used 2>/dev/null) && [ -n "$fields" ] && set -- -F "$fields" "$@"

# The view's table holds 1,000,000 flows unless told more; here the stream
# is this kernel's, whose table may be larger (a gateway's often is).
# Capped at what flowtop-view takes.
maxflows=
ctmax=$(cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null)
case $ctmax in
''|*[!0-9]*) ;;
*) if [ "${#ctmax}" -gt 9 ] || [ "$ctmax" -gt 100000000 ]; then
	maxflows=--max-flows=100000000
   elif [ "$ctmax" -gt 1000000 ]; then
	maxflows=--max-flows=$ctmax
   fi ;;
esac

(
	"$EMIT" "$@" </dev/null 2>"$tmp/err" &
	echo $! >"$tmp/pid"
	wait $!
	echo $? >"$tmp/rc"
) | (
	"$VIEW" --wait-stream $tracked $maxflows
	rc=$?
	# q in the view: stop the emitter too
	[ -s "$tmp/pid" ] && kill -TERM "$(cat "$tmp/pid")" 2>/dev/null
	exit $rc
)
vrc=$?
show_err
if [ "$vrc" = 3 ]; then
	erc=$(cat "$tmp/rc" 2>/dev/null)
	[ -n "$erc" ] && [ "$erc" != 0 ] && exit "$erc"
	echo "$PROG: flowtop-emit ended without output" >&2
	exit 1
fi
exit "$vrc"
