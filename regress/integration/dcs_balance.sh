#!/usr/bin/env bash
# dcs engine: 3 nodes and 7 IPs settle at 3/2/2 and stay there; a node
# that stops (shutdown) hands its IPs over at once, a node that dies
# (kill -9) loses them once its lease expires; the rest always hold all.
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/dcs_lib.bash"
need_root
start_etcd balance
DCS_TTL=2000 dcs_conf "$T/yaim.yml"
add_ips 1 7
nodes=(b1 b2 b3)
for n in "${nodes[@]}"; do start_driver "$n" -H; done
balance() { for n; do nheld "$n"; done | sort -r | tr '\n' ' '; }
balance_is() { local want=$1; shift; [ "$(balance "$@")" = "$want" ]; }

log "3 nodes, 7 IPs: 3/2/2"
wait_until 15 balance_is "3 2 2 " "${nodes[@]}" ||
    { dump_logs "${nodes[@]}"; fail "balance $(balance "${nodes[@]}")"; }
moves=$(cat "$T"/b?.out | grep -c -E ' (held|dropped) ')
sleep 2
[ "$(cat "$T"/b?.out | grep -c -E ' (held|dropped) ')" -eq "$moves" ] ||
    fail "addresses moved in a steady state"
[ "$(nmarks)" -eq 7 ] || fail "marks"
no_overlap "${nodes[@]}" || fail "overlap"

log "b1 shuts down: b2 and b3 take its IPs at once"
stop_driver b1
wait_until 2 balance_is "4 3 " b2 b3 ||
    { dump_logs b2 b3; fail "after shutdown: $(balance b2 b3)"; }

log "b1 back, then b2 killed with SIGKILL: taken over after its TTL"
start_driver b1 -H
wait_until 10 balance_is "3 2 2 " "${nodes[@]}" || fail "rejoin balance"
kill -KILL "${DRV_PID[b2]}"
t0=$(date +%s%N)
wait_until 10 balance_is "4 3 " b1 b3 ||
    { dump_logs b1 b3; fail "after kill: $(balance b1 b3)"; }
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
log "taken over $dt ms after the kill (TTL 2 s)"
[ "$dt" -ge 500 ] || fail "taken over after $dt ms: before the dead lease could expire?"
no_overlap b1 b3 || fail "overlap"
[ "$(nmarks)" -eq 7 ] || fail "marks at the end"
stop_driver b1
stop_driver b3
log "ok"
