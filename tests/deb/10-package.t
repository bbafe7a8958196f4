#!/bin/bash
# `make deb`: builds the Debian package (in the test's own directory, so the
# tree's build stays as it is) and checks what it installs.  Slower than the
# other tests (dpkg-buildpackage, about 20 s): `make deb-check` and CI run it.
. "$(dirname "$0")/../e2e/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (install-deps --deb)"
plan 12
cd "$TOP" || exit 1
VERSION=$(sed -n 's/^VERSION *:= *//p' Makefile)

start=$(date +%s)
make --no-print-directory deb B="$TMP/b" >"$TMP/make.out" 2>&1
ok $? "make deb builds ($(( $(date +%s) - start )) s)" || tail -30 "$TMP/make.out" >&2
DEB=$TMP/b/deb/flowtop_${VERSION}_$(dpkg --print-architecture).deb
[ -f "$DEB" ]; ok $? "the package is $TMP/b/deb/${DEB##*/}"
is "$(dpkg-deb -f "$DEB" Version 2>/dev/null)" "$VERSION" "its version is the Makefile's VERSION"

dpkg-deb -c "$DEB" 2>/dev/null | awk '{print $6}' | sed 's|^\./|/|' > "$TMP/files"
missing=
for f in /usr/bin/flowtop /usr/bin/flowtop-emit /usr/bin/flowtop-view \
	 /usr/share/man/man1/flowtop.1.gz /usr/share/man/man1/flowtop-emit.1.gz /usr/share/man/man1/flowtop-view.1.gz \
	 /lib/systemd/system/flowtop-emit.service /etc/logrotate.d/flowtop-emit \
	 /usr/share/doc/flowtop/copyright /usr/share/doc/flowtop/examples/flowtop-emit.cron \
	 /usr/share/doc/flowtop/examples/shipping/rsyslog-flowtop.conf; do
	grep -qx "$f" "$TMP/files" || missing="$missing $f"
done
is "$missing" "" "programs, man pages, the unit, the logrotate file and the examples are in it"
! grep -q '^/usr/sbin/' "$TMP/files"; ok $? "nothing in /usr/sbin: no clash with netsniff-ng's /usr/sbin/flowtop"

dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles 2>/dev/null | grep -qx /etc/logrotate.d/flowtop-emit
ok $? "the logrotate file is a conffile"
mkdir -p "$TMP/root"
dpkg-deb -x "$DEB" "$TMP/root"
grep -qx 'ExecStart=/usr/bin/flowtop-emit .*' "$TMP/root/lib/systemd/system/flowtop-emit.service"
ok $? "the unit runs /usr/bin/flowtop-emit"
"$TMP/root/usr/bin/flowtop-emit" --version | grep -q "^flowtop-emit $VERSION"
ok $? "the packaged flowtop-emit runs"
readelf -d "$TMP/root/usr/bin/flowtop-emit" | grep -q BIND_NOW && readelf -h "$TMP/root/usr/bin/flowtop-emit" | grep -q 'DYN'
ok $? "built with dpkg-buildflags (hardening: PIE, bind now)"
grep -q -- '-D_FORTIFY_SOURCE=2' "$TMP/b/deb/build.log"
ok $? "dpkg-buildflags' CPPFLAGS reached the compiler"

# every library that the Makefile asks pkg-config for comes from a package
# that debian/control names as a build dependency
bdeps=$(sed -n '/^Build-Depends:/,/^[A-Z][a-z-]*: /p' debian/control | sed 's/^Build-Depends://')
undeclared=
for pc in $(sed -n 's/^PKGS_\(EMIT\|VIEW\) *:= *//p' Makefile); do
	pkg=$(dpkg -S "$(pkg-config --variable=pcfiledir "$pc")/$pc.pc" 2>/dev/null | cut -d: -f1)
	if [ -z "$pkg" ]; then undeclared="$undeclared $pc(no .pc)"; continue; fi
	echo "$bdeps" | grep -qw -- "$pkg" || undeclared="$undeclared $pkg"
done
is "$undeclared" "" "debian/control's Build-Depends names every library of PKGS_EMIT and PKGS_VIEW"
head -1 debian/changelog | grep -q "^flowtop ($VERSION)"
ok $? "debian/changelog's version is the Makefile's"
done_testing
