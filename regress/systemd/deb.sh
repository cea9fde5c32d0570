#!/usr/bin/env bash
# The Debian package (make deb) in a fresh Debian 12 root: dpkg -i runs
# postinst (user, chroot) and starts nothing; booted under systemd-nspawn
# the unit is enabled but skipped while /etc/yaim/yaim.yml is missing;
# with a config "yaimd -n" passes and systemctl start/stop work against a
# real etcd; dpkg --purge leaves nothing behind but the system user.
# make check-deb builds the package first; a few minutes in all.
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/lib.bash" || exit 1
need_root
need_cmd ip python3 dpkg
deb=$(ls "$BUILD"/deb/yaimd_*.deb 2>/dev/null | head -n1)
[ -n "$deb" ] || fail "no $BUILD/deb/yaimd_*.deb: run make deb first"
ROOT=$T/root
# the package's dependencies are in the root already, so that dpkg -i
# needs no mirror; the package itself must add everything else
debian_root "$ROOT" systemd systemd-sysv dbus adduser iproute2 procps \
    libevent-2.1-7 libcurl4 libyaml-0-2 libcjson1 libmnl0 libcap-ng0 libpq5
# everything in the root but what changes by itself (or by booting it)
snapshot() {
	(cd "$ROOT" && find . -xdev \( -path ./proc -o -path ./sys -o \
	    -path ./dev -o -path ./run -o -path ./tmp -o -path ./var/log -o \
	    -path ./var/cache -o -path ./var/lib/dpkg -o \
	    -path ./var/lib/systemd -o -path ./etc/machine-id -o \
	    -path ./etc/localtime -o -path ./var/lib/dbus/machine-id -o \
	    -path ./var/tmp \) -prune -o -print | sort)
}
snapshot >"$T/before"

log "dpkg -i $(basename "$deb")"
t0=$SECONDS
cp "$deb" "$ROOT/tmp/yaimd.deb"
chroot "$ROOT" dpkg -i /tmp/yaimd.deb >"$T/dpkg.log" 2>&1 ||
    { cat "$T/dpkg.log"; fail "dpkg -i"; }
log "installed in $((SECONDS - t0)) s"
for r in checker dcs exec; do
	chroot "$ROOT" getent passwd "_yaimd-$r" |
	    grep -q ':/var/empty/yaimd:/usr/sbin/nologin$' || fail "no system user _yaimd-$r"
	chroot "$ROOT" getent group "_yaimd-$r" >/dev/null || fail "no group _yaimd-$r"
done
[ "$(stat -c '%u %a' "$ROOT/var/empty/yaimd")" = "0 755" ] || fail "chroot directory"
[ -x "$ROOT/usr/sbin/yaimd" ] || fail "no /usr/sbin/yaimd"
[ -x "$ROOT/usr/sbin/yaimctl" ] || fail "no /usr/sbin/yaimctl"
[ -f "$ROOT/usr/share/man/man8/yaimctl.8.gz" ] || fail "no yaimctl.8"
[ ! -e "$ROOT/etc/yaim/yaim.yml" ] || fail "the package installed a config"
[ -f "$ROOT/usr/share/doc/yaimd/examples/yaim.yml" ] || fail "no example config"
[ -L "$ROOT/etc/systemd/system/multi-user.target.wants/yaimd.service" ] ||
    fail "unit not enabled"
ls "$ROOT"/etc/rc2.d/S*yaimd >/dev/null 2>&1 || fail "init script not in rc2.d"

ns=$(netns_add deb)
ip -n "$ns" link add vip0 type veth peer name vip1 || fail "veth"
ip -n "$ns" link set vip0 up
ip -n "$ns" link set vip1 up
ip -n "$ns" addr add 198.18.0.254/24 dev vip0
log "booting the root"
boot_root "$ROOT" "$ns"
prop() { in_root systemctl show -P "$1" yaimd.service; }
[ "$(prop ActiveState)" = inactive ] || fail "yaimd is $(prop ActiveState) without a config"
[ "$(prop ConditionResult)" = no ] || fail "the unit's condition did not keep it from starting"

log "configured: yaimd -n, start, stop"
start_etcd deb "$ns"
etcdctl_ put "/service/yaim/ips/198.18.0.1" x >/dev/null
ip netns exec "$ns" python3 "$TOP/regress/tools/tcplisten.py" "$T/port" &
track_pid $!
wait_until 20 test -s "$T/port" || fail "tcp listener"
sed -e "s|http://127.0.0.1:2379|$ETCD_ENDPOINT|" -e 's|^interface: eth0 |interface: vip0 |' \
    -e 's|^checker-type: http|checker-type: tcp\ntcp-host: 127.0.0.1\ntcp-port: '"$(cat "$T/port")"'|' \
    -e '/^http-/d' "$ROOT/usr/share/doc/yaimd/examples/yaim.yml" >"$ROOT/etc/yaim/yaim.yml"
chmod 0600 "$ROOT/etc/yaim/yaim.yml"
in_root yaimd -n -f /etc/yaim/yaim.yml >"$T/n.out" 2>&1 || { cat "$T/n.out"; fail "yaimd -n"; }
grep -qx "configuration OK" "$T/n.out" || fail "yaimd -n: $(cat "$T/n.out")"
in_root systemctl start yaimd.service ||
    { in_root journalctl -u yaimd --no-pager | tail -n 20; fail "systemctl start"; }
wait_until 15 bash -c "ip -n $ns -4 addr show dev vip0 | grep -q 'inet 198.18.0.1/'" ||
    { in_root journalctl -u yaimd --no-pager | tail -n 30; fail "the packaged yaimd holds no VIP"; }
in_root systemctl stop yaimd.service || fail "systemctl stop"
ip -n "$ns" -4 addr show dev vip0 | grep -q 'inet 198.18.0.1/' && fail "VIP left after stop"

log "dpkg --purge"
in_root dpkg --purge yaimd >"$T/purge.log" 2>&1 || { cat "$T/purge.log"; fail "dpkg --purge"; }
grep -i 'warning' "$T/purge.log" && fail "purge warned"
halt_root
snapshot >"$T/after"
# what is left: the system user's lines only
diff "$T/before" "$T/after" | grep '^[<>]' >"$T/diff"
if [ -s "$T/diff" ]; then
	cat "$T/diff"
	fail "the purge left files behind"
fi
grep -q '^_yaimd-dcs:' "$ROOT/etc/passwd" || fail "the system users went"
echo "deb: ok"
