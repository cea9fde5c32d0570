#!/usr/bin/env bash
# The SysV init script, run directly against a real etcd in a namespace:
# start (running, ready and holding a VIP), start again, status, reload
# (a config whose health check fails drops the VIP, the good one brings it
# back; a bad one is refused and the daemon runs on), restart, stop (addresses gone, lease revoked,
# pid file removed), and no start without a config.  Hermetic: "make
# install" puts everything under $T (SYSCONFDIR, PREFIX), nothing under
# the host's /etc/init.d or /etc/default.
. "$(dirname "$0")/../lib.sh" || exit 1
need_root
need_cmd ip python3 make start-stop-daemon
[ -r /lib/lsb/init-functions ] || skip "needs /lib/lsb/init-functions"
start-stop-daemon --help 2>&1 | grep -q -- --notify-await ||
    skip "start-stop-daemon has no --notify-await (dpkg < 1.19.3)"
export SYSTEMCTL_SKIP_REDIRECT=1	# never hand over to a systemd
setup_user
# -o: install the binaries under test, never relink them (install.sh)
make -s -C "$TOP" BUILD="$BUILD" -o "$BUILD/yaimd" -o "$BUILD/yaimctl" \
    -o "$BUILD/yaimd-checker" -o "$BUILD/yaimd-dcs" PREFIX="$T/usr" \
    SYSCONFDIR="$T/etc" SYSTEMDUNITDIR="$T/lib/systemd/system" \
    install >"$T/install.log" 2>&1 || { cat "$T/install.log"; fail "make install"; }
INIT=$T/etc/init.d/yaimd
[ -x "$INIT" ] || fail "no $INIT"
grep -q "^DAEMON=$T/usr/sbin/yaimd\$" "$INIT" || fail "DAEMON not set to SBINDIR"
echo "PIDFILE=$T/yaimd.pid" >>"$T/etc/default/yaimd"
echo "STOP_TIMEOUT=10" >>"$T/etc/default/yaimd"

ns=$(netns_add init)
ip -n "$ns" link add vip0 type veth peer name vip1 || fail "veth"
ip -n "$ns" link set vip0 up
ip -n "$ns" link set vip1 up
ip -n "$ns" addr add 198.18.0.254/24 dev vip0
start_etcd init "$ns"
P=/service/yaim/
ip netns exec "$ns" python3 "$TOP/regress/tools/tcplisten.py" "$T/port" &
track_pid $!
wait_until 20 test -s "$T/port" || fail "tcp listener"
conf() {	# conf TCP-PORT: the config the init script starts with
	cat >"$T/etc/yaim/yaim.yml" <<EOT
dcs-clustername: yaim
dcs-namespace: service
dcs-endpoints: [ '$ETCD_ENDPOINT' ]
interface: vip0
nodename: i1
ttl: 3000
checker-type: tcp
tcp-host: 127.0.0.1
tcp-port: $1
check-interval: 200
rise: 1
fall: 1
allowed-networks: [198.18.0.0/24]
EOT
}
conf "$(cat "$T/port")"
etcdctl_ put "${P}ips/198.18.0.1" x >/dev/null
init() { ip netns exec "$ns" "$INIT" "$@"; }
pid() { cat "$T/yaimd.pid" 2>/dev/null; }
# start-stop-daemon's yaimd is not ours to track_pid: on a failure, stop
# whatever the pid file names (run before the namespace goes)
cleanup_add 'p=$(pid); [ -n "$p" ] && kill -TERM "$p" && sleep 3; kill -KILL "$p"'
up() { ip -n "$ns" -4 addr show dev vip0 | grep -q 'inet 198.18.0.1/'; }
# the pid file's process exists and is yaimd's parent
running() { [ -n "$(pid)" ] && [ "$(cat "/proc/$(pid)/comm" 2>/dev/null)" = "yaimd: parent" ]; }

log "status while stopped"
init status >"$T/out" 2>&1; rc=$?
[ "$rc" -eq 3 ] || { cat "$T/out"; fail "status while stopped: exit $rc, not 3"; }

log "start"
init start >"$T/out" 2>&1 || { cat "$T/out"; fail "start"; }
running || fail "not running after start (pid file: $(pid))"
# start returns after READY=1: both children are there already
[ "$(child_pids "$(pid)" | wc -w)" -eq 2 ] || fail "start returned before the children ran"
first=$(pid)
wait_until 15 up || fail "198.18.0.1 not held"
lease=$(etcdctl_ get -w json "${P}nodes/i1" | python3 -c '
import json, sys; print("%x" % json.load(sys.stdin)["kvs"][0]["lease"])')
[ -n "$lease" ] || fail "no node key"
init start >"$T/out" 2>&1 || { cat "$T/out"; fail "second start"; }
[ "$(pid)" = "$first" ] || fail "a second start replaced the daemon"
init status >"$T/out" 2>&1 || { cat "$T/out"; fail "status while running"; }
grep -q "yaimd is running" "$T/out" || fail "status says: $(cat "$T/out")"

log "reload"
kids=$(child_pids "$first")
conf 9			# nothing listens: the node becomes unhealthy
init reload >"$T/out" 2>&1 || { cat "$T/out"; fail "reload"; }
wait_until 10 bash -c "! ip -n $ns -4 addr show dev vip0 | grep -q 'inet 198.18.0.1/'" ||
    fail "reload did not apply the new health check"
conf "$(cat "$T/port")"
init reload >"$T/out" 2>&1 || { cat "$T/out"; fail "second reload"; }
wait_until 15 up || fail "198.18.0.1 not held again after reload"
[ "$(pid)" = "$first" ] && [ "$(child_pids "$first")" = "$kids" ] ||
    fail "reload restarted processes"
echo "interval: nonsense" >>"$T/etc/yaim/yaim.yml"
init reload >"$T/out" 2>&1 && fail "reload of a bad config succeeded"
grep -q "yaim.yml:[0-9]*:11: interval: expected a number" "$T/out" ||
    fail "bad reload error: $(cat "$T/out")"
running && [ "$(pid)" = "$first" ] || fail "a bad reload stopped the daemon"
up || fail "a bad reload dropped the VIP"
conf "$(cat "$T/port")"

log "restart"
init restart >"$T/out" 2>&1 || { cat "$T/out"; fail "restart"; }
running || fail "not running after restart"
[ "$(pid)" != "$first" ] || fail "restart kept the old process"
kill -0 "$first" 2>/dev/null && fail "the old daemon still runs"
wait_until 15 up || fail "198.18.0.1 not held after restart"

log "stop"
second=$(pid)
init stop >"$T/out" 2>&1 || { cat "$T/out"; fail "stop"; }
kill -0 "$second" 2>/dev/null && fail "still running after stop"
up && fail "198.18.0.1 left on the interface"
[ -z "$(etcdctl_ get --prefix "${P}nodes/")" ] || fail "node key left in etcd"
[ -z "$(etcdctl_ get --prefix "${P}ips/198.18.0.1/")" ] || fail "mark left in etcd"
[ ! -e "$T/yaimd.pid" ] || fail "pid file left"
init stop >"$T/out" 2>&1 || { cat "$T/out"; fail "stop while stopped"; }

log "no start without a config"
rm "$T/etc/yaim/yaim.yml"
init start >"$T/out" 2>&1 || { cat "$T/out"; fail "start without config failed"; }
grep -q "does not exist; not starting" "$T/out" || fail "start without config: $(cat "$T/out")"
[ ! -e "$T/yaimd.pid" ] || fail "started without a config"
echo "initscript: ok"
