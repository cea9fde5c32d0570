#!/usr/bin/env bash
# yaimd.service for real: a minimal Debian 12 root (mmdebstrap) with yaimd
# installed by "make install", booted with systemd-nspawn in a network
# namespace of ours that holds the VIP interface and a real etcd.  Then:
# systemctl start (READY=1, the VIP held, logs in the journal), the
# sandbox in /proc (CapBnd, NoNewPrivs, Seccomp of the parent and the
# children), systemctl reload (good and bad: STATUS= tells), a child
# killed (Restart=on-failure brings yaimd back), systemctl stop (the VIP
# gone, the lease revoked, the unit inactive, not failed).
# Takes a minute or two (make check-systemd); the first run builds the
# root, about 1.5 minutes more.
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/lib.bash" || exit 1
need_root
need_cmd ip python3 make
[ -d /sys/fs/cgroup ] || skip "no cgroup file system for systemd-nspawn"
ROOT=$T/root
debian_root "$ROOT" systemd systemd-sysv dbus passwd iproute2 procps \
    libevent-2.1-7 libcurl4 libyaml-0-2 libcjson1 libmnl0 libcap-ng0 libpq5
make -s -C "$TOP" BUILD="$BUILD" -o "$BUILD/yaimd" DESTDIR="$ROOT" \
    PREFIX=/usr install >"$T/install.log" 2>&1 ||
    { cat "$T/install.log"; fail "make install into the root"; }
cp "$TOP/regress/setup-user.sh" "$ROOT/tmp/setup-user.sh"
chroot "$ROOT" sh /tmp/setup-user.sh _yaimd /var/empty/yaimd ||
    fail "setup-user.sh in the root"

ns=$(netns_add nsp)
ip -n "$ns" link add vip0 type veth peer name vip1 || fail "veth"
ip -n "$ns" link set vip0 up
ip -n "$ns" link set vip1 up
ip -n "$ns" addr add 198.18.0.254/24 dev vip0
start_etcd nsp "$ns"
P=/service/yaim/
etcdctl_ put "${P}ips/198.18.0.1" x >/dev/null
# the health check: the container's own journald socket is no TCP port,
# so a listener of ours in the namespace (the container shares it)
ip netns exec "$ns" python3 "$TOP/regress/tools/tcplisten.py" "$T/port" &
track_pid $!
wait_until 20 test -s "$T/port" || fail "tcp listener"
conf() {	# conf NODENAME: /etc/yaim/yaim.yml in the root
	cat >"$ROOT/etc/yaim/yaim.yml" <<EOT
dcs-clustername: yaim
dcs-namespace: service
dcs-endpoints: [ '$ETCD_ENDPOINT' ]
interface: vip0
nodename: $1
ttl: 3000
checker-type: tcp
tcp-host: 127.0.0.1
tcp-port: $(cat "$T/port")
check-interval: 200
rise: 1
fall: 1
allowed-networks: [198.18.0.0/24]
EOT
}
conf c1
up() { ip -n "$ns" -4 addr show dev vip0 | grep -q 'inet 198.18.0.1/'; }
prop() { in_root systemctl show -P "$1" yaimd.service; }
# status_of PID FIELD: a /proc status line of a container process
status_of() { in_root awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

log "booting the root"
t0=$SECONDS
boot_root "$ROOT" "$ns"
log "booted in $((SECONDS - t0)) s"
[ "$(prop UnitFileState)" = enabled ] || in_root systemctl enable yaimd.service >/dev/null 2>&1

log "systemctl start"
in_root systemctl start yaimd.service ||
    { in_root journalctl -u yaimd --no-pager | tail -n 30; fail "systemctl start"; }
[ "$(prop ActiveState)" = active ] || fail "not active: $(prop ActiveState)"
prop StatusText | grep -qx 'node c1 on vip0, etcd prefix /service/yaim/' ||
    fail "StatusText: $(prop StatusText)"
main=$(prop MainPID)
[ "$(in_root cat "/proc/$main/comm")" = "yaimd: parent" ] || fail "MainPID $main is not the parent"
wait_until 15 up || { in_root journalctl -u yaimd --no-pager | tail -n 30; fail "198.18.0.1 not held"; }
lease=$(etcdctl_ get -w json "${P}nodes/c1" | python3 -c '
import json, sys; print("%x" % json.load(sys.stdin)["kvs"][0]["lease"])')
wait_until 10 bash -c "nsenter -t $LEADER -a journalctl -u yaimd --no-pager | grep -q 'holding 198.18.0.1/32 on vip0'" ||
    fail "yaimd's syslog lines are not in the journal"

log "the sandbox in /proc"
# the parent: NET_ADMIN and NET_RAW only (no exec checks), no new privs,
# the unit's seccomp filter
[ "$(status_of "$main" CapBnd)" = 0000000000003000 ] || fail "parent CapBnd $(status_of "$main" CapBnd)"
[ "$(status_of "$main" CapEff)" = 0000000000003000 ] || fail "parent CapEff $(status_of "$main" CapEff)"
[ "$(status_of "$main" NoNewPrivs)" = 1 ] || fail "parent NoNewPrivs"
[ "$(status_of "$main" Seccomp)" = 2 ] || fail "parent Seccomp $(status_of "$main" Seccomp)"
kids=$(in_root cat "/proc/$main/task/$main/children")
[ "$(echo "$kids" | wc -w)" -eq 2 ] || fail "children: $kids"
for k in $kids; do
	[ "$(status_of "$k" CapBnd)" = 0000000000000000 ] || fail "child $k CapBnd"
	[ "$(status_of "$k" CapEff)" = 0000000000000000 ] || fail "child $k CapEff"
	[ "$(status_of "$k" NoNewPrivs)" = 1 ] || fail "child $k NoNewPrivs"
	[ "$(status_of "$k" Seccomp)" = 2 ] || fail "child $k Seccomp"
	[ "$(in_root readlink "/proc/$k/root")" = /var/empty/yaimd ] || fail "child $k root"
	[ "$(status_of "$k" Uid)" != 0 ] || fail "child $k runs as root"
done
{
	echo "parent $main: $(in_root grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' "/proc/$main/status" | tr -s '\t\n' '  ')"
	for k in $kids; do
		echo "child $k: $(in_root grep -E '^(Uid|CapBnd|NoNewPrivs|Seccomp):' "/proc/$k/status" | tr -s '\t\n' '  ')root $(in_root readlink "/proc/$k/root")"
	done
} | sed 's/^/    /'
# ProtectSystem=strict: the file system is read-only for the service
in_root nsenter -t "$main" -m sh -c 'touch /etc/yaim/x' 2>/dev/null &&
    fail "the service's /etc is writable"

log "yaimctl under the unit: the default socket, root only"
[ "$(in_root stat -c '%U %a %F' /run/yaimd.sock)" = "root 600 socket" ] ||
    fail "/run/yaimd.sock: $(in_root stat -c '%U %a %F' /run/yaimd.sock 2>&1)"
in_root yaimctl status >"$T/ctl.out" 2>&1 || { cat "$T/ctl.out"; fail "yaimctl status"; }
grep -q '198\.18\.0\.1' "$T/ctl.out" || { cat "$T/ctl.out"; fail "yaimctl status shows no 198.18.0.1"; }

log "systemctl reload"
in_root systemctl reload yaimd.service || fail "systemctl reload"
wait_until 5 bash -c "nsenter -t $LEADER -a systemctl show -P StatusText yaimd.service | grep -q 'configuration reloaded'" ||
    fail "StatusText after reload: $(prop StatusText)"
conf c2
in_root systemctl reload yaimd.service || fail "systemctl reload (bad)"
wait_until 5 bash -c "nsenter -t $LEADER -a systemctl show -P StatusText yaimd.service | grep -q '^reload failed, keeping the old configuration: nodename cannot change'" ||
    fail "StatusText after a bad reload: $(prop StatusText)"
[ "$(prop MainPID)" = "$main" ] && [ "$(prop ActiveState)" = active ] ||
    fail "a bad reload disturbed the service"
conf c1
up || fail "reloads dropped the VIP"

log "a child dies: Restart=on-failure"
in_root kill -KILL "$(echo "$kids" | awk '{ print $1 }')"
wait_until 20 bash -c "m=\$(nsenter -t $LEADER -a systemctl show -P MainPID yaimd.service); [ -n \"\$m\" ] && [ \"\$m\" != 0 ] && [ \"\$m\" != $main ] && [ \"\$(nsenter -t $LEADER -a systemctl show -P ActiveState yaimd.service)\" = active ]" ||
    fail "not restarted: $(prop ActiveState) $(prop MainPID)"
[ "$(prop NRestarts)" -ge 1 ] || fail "NRestarts $(prop NRestarts)"
main=$(prop MainPID)
# the new run waits for the old lease to expire (duplicate node name)
wait_until 20 up || fail "198.18.0.1 not held after the restart"
lease=$(etcdctl_ get -w json "${P}nodes/c1" | python3 -c '
import json, sys; print("%x" % json.load(sys.stdin)["kvs"][0]["lease"])')

log "systemctl stop"
in_root systemctl stop yaimd.service || fail "systemctl stop"
[ "$(prop ActiveState)" = inactive ] || fail "after stop: $(prop ActiveState)"
up && fail "198.18.0.1 left on the interface"
[ -z "$(etcdctl_ get --prefix "${P}nodes/")" ] || fail "node key left"
[ -z "$(etcdctl_ get --prefix "${P}ips/198.18.0.1/")" ] || fail "mark left"
etcdctl_ lease timetolive "$lease" | grep -q 'already expired' ||
    fail "lease $lease not revoked: $(etcdctl_ lease timetolive "$lease")"
in_root journalctl -u yaimd --no-pager | grep -q 'dcs released the lease; exiting' ||
    fail "no orderly shutdown in the journal"

log "not started without a config"
rm "$ROOT/etc/yaim/yaim.yml"
in_root systemctl start yaimd.service || fail "start without a config failed"
[ "$(prop ConditionResult)" = no ] || fail "ConditionResult $(prop ConditionResult)"
[ "$(prop ActiveState)" = inactive ] || fail "started without a config"
halt_root
echo "nspawn: ok"
