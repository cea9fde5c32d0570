#!/usr/bin/env bash
# dcs engine: the exact keys and leases after start-up (node key, marks and
# refusals on the node's one lease, the granted TTL), nothing written while
# unhealthy,
# bad pool keys ignored with one warning each, and shutdown revoking the
# lease.
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/dcs_lib.bash"
need_root
start_etcd keys
DCS_TTL=3000 DCS_INTERVAL=1000 dcs_conf "$T/yaim.yml" \
    "allowed-networks: [198.18.0.0/15, 2001:db8::/32]"
add_ips 1 3
etcdctl_ put "${P}ips/2001:db8::5" "" >/dev/null
# keys the engine must ignore, each with a warning saying why
etcdctl_ put "${P}ips/2001:DB8::6" "" >/dev/null
etcdctl_ put "${P}ips/not-an-ip" "" >/dev/null
etcdctl_ put "${P}ips/198.18.0.1/extra" "" >/dev/null
etcdctl_ put "${P}ips/192.0.2.1" "" >/dev/null
etcdctl_ put "${P}ips/198.18.0.200/marked" "ghost" >/dev/null

log "unhealthy from start-up: no node key, no marks"
start_driver n1
wait_until 10 err_has n1 "read [0-9]+ keys" || { dump_logs n1; fail "no read"; }
sleep 0.5
[ -z "$(etcdctl_ get "${P}nodes/n1")" ] || fail "node key written while unhealthy"
[ "$(marks)" = "198.18.0.200 ghost" ] || { marks; fail "marks while unhealthy"; }
[ "$(nheld n1)" -eq 0 ] || fail "addresses up while unhealthy"

log "healthy: node key, 4 marks, all on one lease with the granted TTL"
send n1 healthy
wait_until 10 held_is n1 4 || { dump_logs n1; fail "n1 holds $(nheld n1), not 4"; }
[ "$(etcdctl_ get --print-value-only "${P}nodes/n1")" = healthy ] ||
    fail "node key value"
lease=$(lease_of "${P}nodes/n1")
[ -n "$lease" ] || fail "node key has no lease"
for ip in 198.18.0.1 198.18.0.2 198.18.0.3 2001:db8::5; do
	[ "$(etcdctl_ get --print-value-only "${P}ips/$ip/marked")" = n1 ] ||
	    fail "mark of $ip"
	[ "$(lease_of "${P}ips/$ip/marked")" = "$lease" ] ||
	    fail "mark of $ip is not on the node lease $lease"
done
[ "$(held n1 | tr '\n' ' ')" = "198.18.0.1 198.18.0.2 198.18.0.3 2001:db8::5 " ] ||
    fail "held set: $(held n1)"
ttl=$(etcdctl_ lease timetolive "$lease" | sed -n 's/.*granted with TTL(\([0-9]*\)s).*/\1/p')
[ "$ttl" = 3 ] || fail "lease TTL $ttl, want 3"
err_has n1 "lease $lease granted, TTL 3 s" || fail "grant not logged"
# 192.0.2.1 is outside allowed-networks: refused, published on the lease
[ "$(etcdctl_ get --print-value-only "${P}refused/n1/192.0.2.1")" = "outside allowed-networks" ] ||
    fail "no refusal of 192.0.2.1"
[ "$(lease_of "${P}refused/n1/192.0.2.1")" = "$lease" ] ||
    fail "the refusal of 192.0.2.1 is not on the node lease $lease"
[ "$(etcdctl_ get --prefix --keys-only "${P}refused/" | grep -c .)" -eq 1 ] ||
    fail "refusal keys: $(etcdctl_ get --prefix --keys-only "${P}refused/")"
[ "$(etcdctl_ lease timetolive --keys "$lease" | grep -o "${P}" | wc -l)" -eq 6 ] ||
    fail "keys attached to the lease: node key, 4 marks and 1 refusal wanted"

log "ignored keys: one warning each, with the reason"
sleep 2.2	# two more full reads (interval 1 s): still one warning each
for re in '2001:DB8::6.*canonical spelling is 2001:db8::6' \
    'not-an-ip.*not an IP address' \
    '198.18.0.1/extra.*unexpected path below an IP key' \
    '192.0.2.1.*outside the allowed networks' \
    '198.18.0.200/marked.*a mark without its pool key \(held by ghost\)'; do
	n=$(grep -Ec "ignoring etcd key .*$re" "$T/n1.err")
	[ "$n" -eq 1 ] || { dump_logs n1; fail "warning /$re/ seen $n times"; }
done
# the leftover mark without a pool key is not in the pool
! held n1 | grep -q 198.18.0.200 || fail "a mark alone made a pool IP"

log "the keepalive keeps everything alive past the TTL"
sleep 4
[ "$(nmarks)" -eq 5 ] || fail "marks expired while alive"

log "shutdown: addresses down, lease revoked, keys gone"
stop_driver n1
out_has n1 released || fail "no released line"
[ "$(nheld n1)" -eq 0 ] || fail "addresses left up"
etcdctl_ lease list | grep -q "$lease" && fail "lease $lease still listed"
[ -z "$(etcdctl_ get "${P}nodes/n1")" ] || fail "node key left"
[ -z "$(etcdctl_ get --prefix "${P}refused/")" ] || fail "refusal left"
[ "$(marks)" = "198.18.0.200 ghost" ] || { marks; fail "marks left"; }
log "a TTL below etcd's minimum: the granted TTL counts and is logged"
DCS_TTL=1000 DCS_MARGIN=250 dcs_conf "$T/short.yml" \
    "allowed-networks: [198.18.0.0/15, 2001:db8::/32]"
DCS_CONF=$T/short.yml start_driver n2 -H
wait_until 10 held_is n2 4 || { dump_logs n2; fail "n2 did not take all"; }
lease=$(lease_of "${P}nodes/n2")
granted=$(etcdctl_ lease timetolive "$lease" | sed -n 's/.*granted with TTL(\([0-9]*\)s).*/\1/p')
[ "$granted" -gt 1 ] || fail "etcd granted $granted s; the test expects a raise"
err_has n2 "etcd granted lease $lease with TTL $granted s instead of the 1 s asked for" ||
    fail "raised TTL not logged"
sleep $((granted + 1))
[ "$(nheld n2)" -eq 4 ] && [ "$(nmarks)" -eq 5 ] ||
    fail "the raised TTL was not kept alive"
grep -q FENCING "$T/n2.err" && fail "fenced with the raised TTL"
stop_driver n2
log "ok"
