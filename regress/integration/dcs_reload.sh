#!/usr/bin/env bash
# dcs engine: a reload (engine_reconfigure) keeps the lease and every
# held address; an operator deleting our node key or one of our marks
# makes the engine write the node key again and drop, then reclaim, the
# address.
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/dcs_lib.bash"
need_root
start_etcd reload
dcs_conf "$T/yaim.yml"
add_ips 1 3
start_driver g1 -H
wait_until 10 held_is g1 3 || { dump_logs g1; fail "g1 did not take all"; }
lease=$(lease_of "${P}nodes/g1")

log "reload with a new interval: nothing moves"
DCS_INTERVAL=700 dcs_conf "$T/yaim.yml"
n0=$(grep -c " dropped " "$T/g1.out")
send g1 reload
wait_until 5 err_has g1 "reconfigured: TTL 3000 ms .*interval 700 ms" ||
    { dump_logs g1; fail "reload not applied"; }
sleep 1.6	# two reads at the new interval
[ "$(grep -c " dropped " "$T/g1.out")" -eq "$n0" ] || fail "reload dropped addresses"
[ "$(nheld g1)" -eq 3 ] || fail "held after reload"
[ "$(lease_of "${P}nodes/g1")" = "$lease" ] || fail "lease changed on reload"
for ip in 198.18.0.1 198.18.0.2 198.18.0.3; do
	[ "$(lease_of "${P}ips/$ip/marked")" = "$lease" ] || fail "mark of $ip"
done

log "our node key deleted by an operator: written again"
etcdctl_ del "${P}nodes/g1" >/dev/null
wait_until 5 bash -c "[ -n \"\$(ETCDCTL_API=3 etcdctl --endpoints=$ETCD_ENDPOINT get ${P}nodes/g1)\" ]" ||
    { dump_logs g1; fail "node key not written again"; }
[ "$(lease_of "${P}nodes/g1")" = "$lease" ] || fail "node key on another lease"
sleep 0.5
[ "$(nheld g1)" -eq 3 ] || fail "held after the node key came back: $(nheld g1)"
[ "$(grep -c " dropped " "$T/g1.out")" -eq "$n0" ] ||
    fail "addresses dropped while the node key was rewritten"

log "one of our marks deleted by an operator: address dropped, claimed again"
etcdctl_ del "${P}ips/198.18.0.2/marked" >/dev/null
wait_until 5 out_has g1 " dropped 198.18.0.2$" || fail "not dropped"
wait_until 5 held_is g1 3 || fail "not held again"
[ "$(lease_of "${P}ips/198.18.0.2/marked")" = "$lease" ] || fail "mark not back"
stop_driver g1
log "ok"
