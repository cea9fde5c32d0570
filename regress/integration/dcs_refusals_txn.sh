#!/usr/bin/env bash
# dcs engine: an etcd whose --max-txn-ops is below the engine's batch of
# refusal keys rejects the txn; the engine writes fewer per txn from then
# on (with a warning), and every refusal is still published and honoured.
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/dcs_lib.bash"
need_root
ETCD_ARGS="--max-txn-ops 8" start_etcd smalltxn
dcs_conf "$T/yaim.yml"
dcs_conf "$T/narrow.yml" "allowed-networks: [198.18.0.0/29]"
add_ips 1 30		# .8 .. .30 are outside narrow's networks: 23

nrefusals() {
	etcdctl_ get --prefix --keys-only "${P}refused/$1/" | grep -c .
}
nrefusals_is() { [ "$(nrefusals "$1")" -eq "$2" ]; }

start_driver b -H
wait_until 10 held_is b 30 || { dump_logs b; fail "b did not take 30"; }
DCS_CONF=$T/narrow.yml start_driver n -H
wait_until 15 nrefusals_is n 23 || { dump_logs n; fail "n published $(nrefusals n) refusals, not 23"; }
err_has n "etcd refused a txn with [0-9]+ refusal keys .*too many operations.*; writing at most [0-9]+ per txn" ||
    { dump_logs n; fail "no warning about the txn size"; }
# 30 IPs over 2 nodes: n may hold only .1 .. .7, so 7/23 at best... 15/15
# is out of reach; n takes all 7 it may, b keeps the 23 others.
wait_until 10 held_is n 7 || { dump_logs n b; fail "n holds $(nheld n), not 7"; }
wait_until 10 held_is b 23 || fail "b holds $(nheld b), not 23"
for ip in $(held n); do
	case $ip in 198.18.0.[1-7]) ;; *) fail "n holds $ip, outside its networks";; esac
done
no_overlap b n || fail "overlap"
stop_driver n
stop_driver b
log "ok"
