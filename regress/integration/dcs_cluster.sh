#!/usr/bin/env bash
# dcs engine against a 3-member etcd cluster: the member a node uses is
# killed; the node keeps its lease and addresses (no fencing, nothing
# dropped), moves to another member, reads again and still sees changes.
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/dcs_lib.bash"
need_root
need_cmd etcd etcdctl

names=(m1 m2 m3)
start_etcd3
DCS_TTL=5000 DCS_TIMEOUT=500 DCS_RETRY_NUM=3 dcs_conf "$T/yaim.yml"
sed -i "s|^dcs-endpoints: .*|dcs-endpoints: [http://127.0.0.1:${ETCD3_PORT[m1]}, http://127.0.0.1:${ETCD3_PORT[m2]}, http://127.0.0.1:${ETCD3_PORT[m3]}]|" "$T/yaim.yml"
add_ips 1 4
start_driver c1 -H
start_driver c2 -H
wait_until 15 total_is 4 c1 c2 || { dump_logs c1 c2; fail "not all held"; }
wait_until 5 held_is c1 2 || fail "balance"
lease=$(lease_of "${P}nodes/c1")

# the member c1 watches on
ep=$(grep -o 'watching .* on http://[0-9.:]*' "$T/c1.err" | tail -n 1 | sed 's/.* on //')
victim=
for n in "${names[@]}"; do
	[ "$ep" = "http://127.0.0.1:${ETCD3_PORT[$n]}" ] && victim=$n
done
[ -n "$victim" ] || fail "cannot tell c1's member ($ep)"
log "killing $victim ($ep), the member c1 uses"
n0=$(grep -c " dropped " "$T/c1.out")
kill -KILL "${ETCD3_PID[$victim]}"
wait_until 15 err_has c1 "etcd endpoint is now" ||
    { dump_logs c1; fail "c1 did not move to another member"; }
alive=
for n in "${names[@]}"; do
	[ "$n" = "$victim" ] || alive+="${alive:+,}http://127.0.0.1:${ETCD3_PORT[$n]}"
done
ETCD_ENDPOINT=$alive
wait_until 15 etcdctl_ put "${P}ips/198.18.0.5" "" || fail "put after the kill"
wait_until 15 etcdctl_ put "${P}ips/198.18.0.6" "" || fail "put after the kill"
wait_until 10 total_is 6 c1 c2 || { dump_logs c1 c2; fail "change after the kill not seen"; }
sleep 6	# longer than the TTL: the lease must have been kept alive
[ "$(grep -c " dropped " "$T/c1.out")" -eq "$n0" ] || fail "c1 dropped addresses"
err_has c1 FENCING && fail "c1 fenced"
[ "$(lease_of "${P}nodes/c1")" = "$lease" ] || fail "c1's lease changed"
[ "$(nheld c1)" -eq 3 ] || fail "c1 holds $(nheld c1)"
no_overlap c1 c2 || fail "overlap"
stop_driver c1
stop_driver c2
log "ok"
