#!/bin/bash
# The Makefile as packagers and operators use it: the user's CPPFLAGS,
# CFLAGS and LDFLAGS are added to the project's own (never replace them),
# quiet output and V=1, an out-of-tree build (B=dir), and install /
# uninstall under DESTDIR with the unit and examples naming BINDIR.
. "$(dirname "$0")/lib.sh"
plan 9
cd "$TOP" || exit 1
mk() { make --no-print-directory "$@"; }

# one object, really compiled, in a build directory of the test's own
mk B="$TMP/b" CPPFLAGS='-D_FORTIFY_SOURCE=2 -DFT_MARK=1' CFLAGS='-O1 -g' "$TMP/b/src/lib/num.o" >"$TMP/quiet" 2>&1
ok $? "make CPPFLAGS=-D_FORTIFY_SOURCE=2 CFLAGS='-O1 -g' compiles (the project's -I flags stay)" || cat "$TMP/quiet" >&2
grep -qx "  CC     $TMP/b/src/lib/num.o" "$TMP/quiet"; ok $? "quiet by default: '  CC     file'"
touch -d '1 hour ago' "$TMP/b/.flags"
mk B="$TMP/b" CPPFLAGS='-D_FORTIFY_SOURCE=2 -DFT_MARK=1' CFLAGS='-O1 -g' V=1 -B "$TMP/b/src/lib/num.o" >"$TMP/loud" 2>&1
line=$(grep -- '-c -o' "$TMP/loud")
case $line in *-Isrc/lib*-D_FORTIFY_SOURCE=2\ -DFT_MARK=1*-std=c11*-O1\ -g*) true ;; *) false ;; esac
ok $? "V=1 shows the command: project flags first, then the user's" || diag "$line"

# link lines (dry run): the user's LDFLAGS and SANITIZE's flags together
mk -n -B B="$TMP/b" SANITIZE=address LDFLAGS=-Wl,-z,now "$TMP/b/flowtop-emit" V=1 >"$TMP/link" 2>&1
grep -- "-o $TMP/b/flowtop-emit " "$TMP/link" | grep -q -- '-fsanitize=address.*-Wl,-z,now'
ok $? "LDFLAGS from the command line and -fsanitize both reach the link"
grep -q -- "-o $TMP/b/flowtop-emit " "$TMP/link"; ok $? "B=dir puts the programs in dir, not in the tree"

# install and uninstall what the tree has built (-o all: never rebuild the
# tree's programs here, whatever flags they were built with)
D=$TMP/dest
P=/usr/local
mk install -o all DESTDIR="$D" >"$TMP/install" 2>&1
ok $? "make install DESTDIR=..." || cat "$TMP/install" >&2
missing=
for f in bin/flowtop bin/flowtop-emit bin/flowtop-view share/man/man1/flowtop.1 share/man/man1/flowtop-emit.1 \
	 share/man/man1/flowtop-view.1 lib/systemd/system/flowtop-emit.service share/doc/flowtop/examples/flowtop-emit.cron \
	 share/doc/flowtop/examples/shipping/rsyslog-flowtop.conf; do
	[ -f "$D$P/$f" ] || missing="$missing $f"
done
[ -f "$D/etc/logrotate.d/flowtop-emit" ] || missing="$missing /etc/logrotate.d/flowtop-emit"
is "$missing" "" "programs, man pages, unit, logrotate file and examples installed"
grep -q "^ExecStart=$P/bin/flowtop-emit " "$D$P/lib/systemd/system/flowtop-emit.service" &&
	grep -q "	root	$P/bin/flowtop-emit " "$D$P/share/doc/flowtop/examples/flowtop-emit.cron"
ok $? "the installed unit and cron example name BINDIR"
mk uninstall DESTDIR="$D" >/dev/null 2>&1
is "$(find "$D" -type f | sed "s|^$D||" | tr '\n' ' ')" "" "make uninstall removes every file it installed"
done_testing
