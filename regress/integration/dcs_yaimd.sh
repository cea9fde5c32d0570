#!/usr/bin/env bash
# The dcs engine inside yaimd (privsep, chroot, real netlink) against a
# real etcd in a namespace: a node whose link is down at start-up stays
# out; claimed IPs come up on the interface with marks on the node's
# lease; an IP outside allowed-networks is refused and the refusal
# published; a failing health check removes the addresses and the marks;
# recovery brings them back; SIGTERM removes the addresses and revokes the
# lease.
. "$(dirname "$0")/../lib.sh" || exit 1
need_root
need_cmd ip python3
setup_user
vip_netns dcsy
P=/service/yaim/
{ tcp_node_conf y1; cat <<EOT
ttl: 3000
interval: 2000
allowed-networks: [198.18.0.0/24]
EOT
} >"$T/y.yml"
for i in 1 2 3; do etcdctl_ put "${P}ips/198.18.0.$i" x >/dev/null; done
# an address outside allowed-networks: ignored by the engine with a warning
etcdctl_ put "${P}ips/198.18.1.1" x >/dev/null

nup() { ip -n "$ns" -4 addr show dev vip0 | grep -c 'inet 198.18.0.[123]/'; }
up_is() { [ "$(nup)" -eq "$1" ]; }
nmarks() { etcdctl_ get --prefix --keys-only "${P}ips/" | grep -c '/marked$'; }
marks_is() { [ "$(nmarks)" -eq "$1" ]; }

log "link down at start-up: the node stays out until it comes up"
ip -n "$ns" link set vip0 down
ip netns exec "$ns" "$YAIMD" -dv -f "$T/y.yml" >"$T/yaimd.log" 2>&1 &
Y=$!
track_pid "$Y"
wait_until 15 grep -q "read [0-9]* keys" "$T/yaimd.log" ||
    { cat "$T/yaimd.log"; fail "dcs did not read etcd"; }
sleep 1		# a window in which nothing may be claimed
[ -z "$(etcdctl_ get "${P}nodes/y1")" ] || fail "joined with the link down"
marks_is 0 || fail "claimed with the link down"
ip -n "$ns" link set vip0 up
wait_until 15 up_is 3 || { cat "$T/yaimd.log"; fail "addresses not up"; }
marks_is 3 || fail "marks"
lease=$(etcdctl_ get -w json "${P}nodes/y1" | python3 -c '
import json, sys; print("%x" % json.load(sys.stdin)["kvs"][0]["lease"])')
grep -q "ignoring etcd key \"${P}ips/198.18.1.1\": 198.18.1.1 is outside the allowed networks" "$T/yaimd.log" ||
    fail "no warning for the IP outside allowed-networks"
ip -n "$ns" addr show dev vip0 | grep -q 198.18.1.1 && fail "198.18.1.1 added"
[ "$(etcdctl_ get --print-value-only "${P}refused/y1/198.18.1.1")" = "outside allowed-networks" ] ||
    fail "the refusal of 198.18.1.1 is not published"

log "health check fails: addresses and marks go"
kill "$LPID"
wait_until 5 up_is 0 || { tail -n 30 "$T/yaimd.log"; fail "addresses kept while unhealthy"; }
wait_until 5 marks_is 0 || fail "marks kept while unhealthy"
[ -z "$(etcdctl_ get "${P}nodes/y1")" ] || fail "node key kept while unhealthy"

log "health back: addresses back on a new lease"
ip netns exec "$ns" python3 "$TOP/regress/tools/tcplisten.py" "$T/port2" \
    --bind 127.0.0.1 &
track_pid $!
wait_until 5 test -s "$T/port2" || fail "tcp listener 2"
# the check's port is fixed in the config: reload with the new one
sed -i "s/^tcp-port: .*/tcp-port: $(cat "$T/port2")/" "$T/y.yml"
kill -HUP "$Y"
wait_until 15 up_is 3 || { tail -n 30 "$T/yaimd.log"; fail "addresses not back"; }
marks_is 3 || fail "marks not back"
lease2=$(etcdctl_ get -w json "${P}nodes/y1" | python3 -c '
import json, sys; print("%x" % json.load(sys.stdin)["kvs"][0]["lease"])')
[ "$lease2" != "$lease" ] || fail "same lease after leaving"

log "SIGTERM: addresses removed, lease revoked"
kill -TERM "$Y"
wait_until 10 bash -c "! kill -0 $Y 2>/dev/null" || fail "yaimd did not exit"
up_is 0 || fail "addresses left"
marks_is 0 || fail "marks left"
etcdctl_ lease list | grep -q "$lease2" && fail "lease not revoked"
log "ok"
