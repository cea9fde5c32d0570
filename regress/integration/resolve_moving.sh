#!/usr/bin/env bash
# Names resolved again while yaimd runs.  yaimd sees our hosts file (a
# private mount namespace, the file bound over /etc/hosts), reaches etcd
# by name, and checks a tcp service by name.  The service's name first
# points at an address where nothing listens: unhealthy.  Rewriting the
# file to the listener's address makes the node healthy within a few
# resolve-intervals, logged.  The etcd name moves to a second address
# etcd listens on.  A name that stops resolving keeps its last addresses
# (the node stays healthy) with one warning.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip unshare mount python3
[ -x "$YAIMD" ] || fail "$YAIMD missing: build first"
setup_user

vip_veth mov 198.18.8.1/24
# etcd inside the namespace, on 127.0.0.1 and 127.0.0.4
cport=$(free_port); pport=$(free_port)
mkdir -p "$T/etcd"
ip netns exec "$ns" etcd --name mov --data-dir "$T/etcd" \
    --listen-client-urls "http://127.0.0.1:$cport,http://127.0.0.4:$cport" \
    --advertise-client-urls "http://127.0.0.1:$cport" \
    --listen-peer-urls "http://127.0.0.1:$pport" \
    --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "mov=http://127.0.0.1:$pport" \
    --initial-cluster-state new --log-level error >"$T/etcd.log" 2>&1 &
track_pid $!
ETCD_ENDPOINT=http://127.0.0.1:$cport
ETCD_NS=$ns
wait_until 20 etcdctl_ endpoint health || { cat "$T/etcd.log"; fail "etcd"; }

# the service: 127.0.0.2 only; its name first points at 127.0.0.3
ip netns exec "$ns" python3 "$TOP/regress/tools/tcplisten.py" "$T/l.port" \
    --bind 127.0.0.2 >"$T/l.out" 2>&1 &
track_pid $!
wait_until 30 test -s "$T/l.port" || fail "listener"
LPORT=$(cat "$T/l.port")

chmod 0711 "$T"
# hosts SVC-ADDR ETCD-ADDR: rewrite in place (the bind mount holds the inode)
hosts() {
	{
		printf '127.0.0.1\tlocalhost\n'
		[ -z "$1" ] || printf '%s\tyaim-svc\n' "$1"
		printf '%s\tyaim-etcd\n' "$2"
	} >"$T/hosts"
}
hosts 127.0.0.3 127.0.0.1
chmod 0644 "$T/hosts"

cat >"$T/yaim.yml" <<YML
dcs-clustername: mov
dcs-endpoints: [ "http://yaim-etcd:$cport" ]
interface: vip0
nodename: movnode
interval: 300
ttl: 3000
resolve-interval: 1000
checks:
  - type: tcp
    name: svc
    tcp-host: yaim-svc
    tcp-port: $LPORT
    timeout: 200
    rise: 1
    fall: 1
YML
KEY=/service/mov/nodes/movnode
node_key() { [ "$(etcdctl_ get --print-value-only "$KEY")" = healthy ]; }
no_node_key() { [ -z "$(etcdctl_ get "$KEY")" ]; }

ip netns exec "$ns" unshare --mount sh -c \
    'mount --bind "$0" /etc/hosts && exec "$@"' "$T/hosts" \
    "$YAIMD" -d -v -f "$T/yaim.yml" >"$T/yaimd.log" 2>&1 &
YPID=$!
track_pid "$YPID"

log "yaim-svc is 127.0.0.3, where nothing listens: unhealthy"
wait_until 15 grep -q "health: node unhealthy (check svc: tcp: connect refused)" \
    "$T/yaimd.log" || { cat "$T/yaimd.log"; fail "not unhealthy"; }
sleep 1.5
no_node_key || fail "node key while the name points nowhere"

log "yaim-svc moves to 127.0.0.2: healthy within a few resolve-intervals"
t0=$(date +%s%N)
hosts 127.0.0.2 127.0.0.1
wait_until 10 node_key || { tail -n 30 "$T/yaimd.log"; fail "no node key after the move"; }
log "healthy $(( ($(date +%s%N) - t0) / 1000000 )) ms after the move"
grep -q 'check svc: tcp-host: "yaim-svc" now resolves to 127.0.0.2' \
    "$T/yaimd.log" || { tail -n 30 "$T/yaimd.log"; fail "move not logged"; }
grep -q "check svc: 127.0.0.2 port $LPORT accepted" "$T/yaimd.log" ||
    { tail -n 30 "$T/yaimd.log"; fail "answering address not logged"; }

log "yaim-etcd moves to 127.0.0.4: dcs follows, the node stays in"
hosts 127.0.0.2 127.0.0.4
wait_until 10 grep -q "\"yaim-etcd\" now resolves to 127.0.0.4" "$T/yaimd.log" ||
    { tail -n 30 "$T/yaimd.log"; fail "etcd move not logged"; }
wait_until 5 grep -q "dcs: etcd endpoints resolved again" "$T/yaimd.log" ||
    fail "dcs did not get the new address"
sleep 2
node_key || fail "node key gone after the etcd move"

log "yaim-svc stops resolving: last addresses kept, one warning"
hosts "" 127.0.0.4
wait_until 10 grep -q 'cannot resolve "yaim-svc" again' "$T/yaimd.log" ||
    { tail -n 30 "$T/yaimd.log"; fail "no warning"; }
sleep 3
node_key || fail "node key gone while the name does not resolve"
n=$(grep -c 'cannot resolve "yaim-svc" again' "$T/yaimd.log")
[ "$n" -eq 1 ] || fail "$n warnings in 3 s, want 1 (rate limit)"

kill -TERM "$YPID"
wait_until 10 sh -c "! kill -0 $YPID 2>/dev/null" || fail "yaimd did not stop"
grep -q "dcs child\|checker child" "$T/yaimd.log" &&
    { grep "child" "$T/yaimd.log"; fail "a child died"; }
log "all resolve-while-running checks passed"
