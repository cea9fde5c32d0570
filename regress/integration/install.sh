#!/usr/bin/env bash
# make install with DESTDIR and PREFIX: the binary, both man pages and the
# empty root-owned chroot directory land under DESTDIR; the users
# (_yaimd-checker, _yaimd-dcs, _yaimd-exec) are created on the real system
# only (without DESTDIR), as regress's setup_user shows.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd make
dest=$T/dest
# -o: install the binary under test, never rebuild it (a sanitizer build
# relinked by a plain make would be broken for the tests after this one)
make -s -C "$TOP" BUILD="$BUILD" -o "$BUILD/yaimd" DESTDIR="$dest" \
    PREFIX=/usr install >"$T/install.log" 2>&1 ||
    { cat "$T/install.log"; fail "make install"; }
[ -x "$dest/usr/sbin/yaimd" ] || fail "no $dest/usr/sbin/yaimd"
cmp -s "$dest/usr/sbin/yaimd" "$BUILD/yaimd" || fail "installed binary differs"
[ -f "$dest/usr/share/man/man8/yaimd.8" ] || fail "no yaimd.8"
[ -f "$dest/usr/share/man/man5/yaim.yml.5" ] || fail "no yaim.yml.5"
d=$dest/var/empty/yaimd
[ -d "$d" ] || fail "no chroot directory under DESTDIR"
[ "$(stat -c '%u %a' "$d")" = "0 755" ] || fail "chroot directory is $(stat -c '%u %a' "$d")"
[ -z "$(ls -A "$d")" ] || fail "chroot directory is not empty"
# idempotent: a second install changes nothing and succeeds
make -s -C "$TOP" BUILD="$BUILD" -o "$BUILD/yaimd" DESTDIR="$dest" \
    PREFIX=/usr install >>"$T/install.log" 2>&1 || fail "second make install"
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
