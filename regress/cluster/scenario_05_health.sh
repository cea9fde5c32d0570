#!/usr/bin/env bash
# Scenario 5: the health target of the node holding 3 fails (HTTP 503),
# then recovers.
#   - on failure (fall 1, check every interval) the node releases its IPs
#     at once and revokes its lease: the others take them over within a
#     bound of a few check intervals, not a lease TTL; only its IPs move;
#     its node key leaves etcd; the others are balanced 4/3;
#   - on recovery (rise 2) it rejoins: balanced 3/2/2 again, and only IPs
#     moving to it move.
# Figures: outage_ms at the failure; gap_ms at the rejoin.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/regress/cluster/scen.sh"

# fall 1 at one check interval, plus the move itself: well under the TTL
MAX_MS=${MAX_MS:-$((LAB_TTL * 3 / 4))}
REJOIN_MS=${REJOIN_MS:-5000}

nodekey_gone() { [ -z "$(etcdctl_ get "${LAB_PREFIX}nodes/$1" --keys-only)" ]; }

scen_up 3 7
v=$(scen_fullest)
victim=node$v
survivors=$(echo $SCEN_NODES | tr ' ' '\n' | grep -vx "$victim" | tr '\n' ' ')
log "$victim's health target answers 503; it holds $(scen_held_by "$victim" | tr '\n' ' ')"
lab_mark unhealthy
lab_health "$v" 503
wait_until 5 scen_holds_nothing "$victim" ||
    lab_fail "$victim still holds $(scen_held_by "$victim") 5 s after its check failed"
scen_liveness "$MAX_MS" "$victim unhealthy"
wait_until 5 nodekey_gone "$victim" || lab_fail "$victim's node key stayed in etcd"
lab_node_alive "$v" || lab_fail "$victim's yaimd died"
SCEN_UP_NODES=$survivors scen_steady "after the failure"
scen_assert_moves_only_from unhealthy "$victim"
scen_close unhealthy
scen_assert_affected 3 "unhealthy"
scen_assert_max "$MAX_MS" "unhealthy"

log "$victim's health target answers 200 again"
lab_mark recover
lab_health "$v" 200
t0=$(date +%s%3N)
scen_steady "after the recovery"
dt=$(($(date +%s%3N) - t0))
[ "$dt" -le "$REJOIN_MS" ] || lab_fail "rebalance took $dt ms (bound $REJOIN_MS ms)"
log "rebalanced $dt ms after the recovery"
scen_assert_moves_only_to recover "$victim"
scen_close recover gap_ms
scen_end
