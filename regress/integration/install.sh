#!/usr/bin/env bash
# make install with DESTDIR and PREFIX: the stripped binaries, yaimd and
# yaimctl (unstripped with NOSTRIP=1), the children's executables in
# libexec, the three man pages, the systemd unit and the init script
# (naming SBINDIR and the config), /etc/default/yaimd, the config (0600,
# never overwritten) and the empty root-owned chroot directory land under
# DESTDIR; the users (_yaimd-checker, _yaimd-dcs, _yaimd-exec) are created
# on the real system only (without DESTDIR), as regress's setup_user shows.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd make
dest=$T/dest
# -o: install the binary under test, never rebuild it (a sanitizer build
# relinked by a plain make would be broken for the tests after this one)
make -s -C "$TOP" BUILD="$BUILD" -o "$BUILD/yaimd" -o "$BUILD/yaimctl" \
    -o "$BUILD/yaimd-checker" -o "$BUILD/yaimd-dcs" DESTDIR="$dest" \
    PREFIX=/usr install >"$T/install.log" 2>&1 ||
    { cat "$T/install.log"; fail "make install"; }
[ -x "$dest/usr/sbin/yaimd" ] || fail "no $dest/usr/sbin/yaimd"
strip -o "$T/stripped" "$BUILD/yaimd" || fail "strip"
cmp -s "$dest/usr/sbin/yaimd" "$T/stripped" || fail "installed binary is not the stripped build"
# the children's executables, in the libexec directory yaimd looks in
for h in yaimd-checker yaimd-dcs; do
	f=$dest/usr/libexec/yaim/$h
	[ -x "$f" ] || fail "no $f"
	strip -o "$T/$h.stripped" "$BUILD/$h" || fail "strip $h"
	cmp -s "$f" "$T/$h.stripped" || fail "installed $h is not the stripped build"
	[ "$(stat -c '%u %a' "$f")" = "0 755" ] || fail "$f is $(stat -c '%u %a' "$f")"
done
[ -f "$dest/usr/share/man/man8/yaimd.8" ] || fail "no yaimd.8"
[ -x "$dest/usr/sbin/yaimctl" ] || fail "no $dest/usr/sbin/yaimctl"
strip -o "$T/stripped-ctl" "$BUILD/yaimctl" || fail "strip yaimctl"
cmp -s "$dest/usr/sbin/yaimctl" "$T/stripped-ctl" || fail "installed yaimctl is not the stripped build"
[ -f "$dest/usr/share/man/man8/yaimctl.8" ] || fail "no yaimctl.8"
[ -f "$dest/usr/share/man/man5/yaim.yml.5" ] || fail "no yaim.yml.5"
unit=$dest/lib/systemd/system/yaimd.service
[ "$(stat -c %a "$unit" 2>/dev/null)" = 644 ] || fail "no $unit, mode 0644"
grep -qx 'ExecStart=/usr/sbin/yaimd -f /etc/yaim/yaim.yml' "$unit" ||
    fail "unit ExecStart: $(grep ExecStart= "$unit")"
[ "$(stat -c %a "$dest/etc/init.d/yaimd" 2>/dev/null)" = 755 ] || fail "no /etc/init.d/yaimd, mode 0755"
sh -n "$dest/etc/init.d/yaimd" || fail "init script syntax"
grep -q '^### BEGIN INIT INFO' "$dest/etc/init.d/yaimd" || fail "no LSB header"
[ -f "$dest/etc/default/yaimd" ] || fail "no /etc/default/yaimd"
conf=$dest/etc/yaim/yaim.yml
[ "$(stat -c '%u %a' "$conf" 2>/dev/null)" = "0 600" ] || fail "config not root 0600"
cmp -s "$conf" "$TOP/yaim.yml" || fail "config is not the example"
echo "# mine" >>"$conf"
echo "# mine" >>"$dest/etc/default/yaimd"
d=$dest/var/empty/yaimd
[ -d "$d" ] || fail "no chroot directory under DESTDIR"
[ "$(stat -c '%u %a' "$d")" = "0 755" ] || fail "chroot directory is $(stat -c '%u %a' "$d")"
[ -z "$(ls -A "$d")" ] || fail "chroot directory is not empty"
# idempotent: a second install changes nothing and succeeds
make -s -C "$TOP" BUILD="$BUILD" -o "$BUILD/yaimd" -o "$BUILD/yaimctl" \
    -o "$BUILD/yaimd-checker" -o "$BUILD/yaimd-dcs" DESTDIR="$dest" \
    PREFIX=/usr install >>"$T/install.log" 2>&1 || fail "second make install"
tail -n1 "$conf" | grep -qx '# mine' || fail "make install overwrote the config"
tail -n1 "$dest/etc/default/yaimd" | grep -qx '# mine' || fail "make install overwrote /etc/default/yaimd"
# other paths reach the unit and the init script; NOSTRIP keeps symbols
make -s -C "$TOP" BUILD="$BUILD" -o "$BUILD/yaimd" -o "$BUILD/yaimctl" \
    -o "$BUILD/yaimd-checker" -o "$BUILD/yaimd-dcs" DESTDIR="$T/d2" \
    PREFIX=/opt/y SYSCONFDIR=/opt/etc NOSTRIP=1 install >>"$T/install.log" 2>&1 ||
    fail "make install PREFIX=/opt/y"
cmp -s "$T/d2/opt/y/sbin/yaimd" "$BUILD/yaimd" || fail "NOSTRIP=1: installed binary differs"
cmp -s "$T/d2/opt/y/sbin/yaimctl" "$BUILD/yaimctl" || fail "NOSTRIP=1: installed yaimctl differs"
grep -qx 'ExecStart=/opt/y/sbin/yaimd -f /opt/etc/yaim/yaim.yml' \
    "$T/d2/lib/systemd/system/yaimd.service" || fail "unit does not follow PREFIX, SYSCONFDIR"
grep -qx 'DAEMON=/opt/y/sbin/yaimd' "$T/d2/opt/etc/init.d/yaimd" &&
    grep -qx 'YAIMD_CONFIG=/opt/etc/yaim/yaim.yml' "$T/d2/opt/etc/init.d/yaimd" &&
    grep -q '/opt/etc/default/yaimd' "$T/d2/opt/etc/init.d/yaimd" ||
    fail "init script does not follow PREFIX, SYSCONFDIR"
[ -f "$T/d2/opt/etc/yaim/yaim.yml" ] || fail "config not under SYSCONFDIR"
# the unit as installed passes systemd's own checks, and its exposure
# score stays at most 3.0 (the threshold counts tenths; DESIGN.md
	# section 12)
if command -v systemd-analyze >/dev/null 2>&1; then
	# (verify wants ExecStart to exist: point it into DESTDIR)
	sed "s|/usr/sbin/yaimd|$dest/usr/sbin/yaimd|" "$unit" >"$T/yaimd.service"
	systemd-analyze verify --man=no "$T/yaimd.service" \
	    >"$T/verify.log" 2>&1 || { cat "$T/verify.log"; fail "systemd-analyze verify"; }
	systemd-analyze security --offline=true --threshold=30 "$unit" \
	    >"$T/security.log" 2>&1 || { tail -n 3 "$T/security.log"; fail "exposure over 3.0"; }
	tail -n 1 "$T/security.log"
else
	echo "no systemd-analyze: unit not verified"
fi
# the user step is idempotent on the real system as well
sh "$TOP/regress/setup-user.sh" _yaimd /var/empty/yaimd || fail "setup-user.sh"
sh "$TOP/regress/setup-user.sh" _yaimd /var/empty/yaimd || fail "setup-user.sh twice"
# one user per role, each with its own uid and group, none with a shell
uids=
for r in checker dcs exec; do
	getent passwd "_yaimd-$r" | grep -q ':/usr/sbin/nologin$' ||
	    fail "_yaimd-$r missing or with a login shell"
	uids+="$(id -u "_yaimd-$r") "
	[ "$(id -gn "_yaimd-$r")" = "_yaimd-$r" ] || fail "_yaimd-$r group"
done
[ "$(echo $uids | tr ' ' '\n' | sort -u | wc -l)" -eq 3 ] ||
    fail "role users share a uid: $uids"
[ "$(stat -c '%u %a' /var/empty/yaimd)" = "0 755" ] || fail "/var/empty/yaimd mode"
echo "install: ok"
