#!/usr/bin/env bash
# Scenario 13: 3 nodes with 60 IPs, and a node crash (link down, SIGKILL).
#   - cold start: 20/20/20 within a bound;
#   - crash of node3: its 20 IPs are taken over once it must have fenced
#     (peers on, the default: its lease revoked after peer-timeout of
#     silence, then W; with peers: no, once its lease expired), within
#     TTL + a bound; only its IPs move; the survivors hold 30/30;
#   - no overlap at any sample.
# The probe runs every 10 ms here (60 VIPs at 5 ms would cost it most of
# a core of this 2-core machine).
# Figures: outage_ms of the crashed node's 20 IPs (min/median/max).
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/regress/cluster/scen.sh"

# peers on: its last heartbeat came at most peer-interval (50 ms) before
# the crash, a survivor revokes after peer-timeout (200 ms) of silence
# and claims W (276 ms) later: 426 ms at the earliest.  peers: no: TTL/2.
if [[ "${LAB_EXTRA_CONFIG:-}" == *"peers: no"* ]]; then
	MIN_MS=${MIN_MS:-$((LAB_TTL / 2))}
else
	MIN_MS=${MIN_MS:-400}
fi
MAX_MS=${MAX_MS:-$((LAB_TTL + 4000))}
START_MS=${START_MS:-15000}

scen_need
lab_up 3
reason=$(lab_yaimd_ready) || lab_fail "yaimd cannot run here: $reason"
SCEN_NODES=$(scen_nodes 3)
lab_pool_add $(lab_pool_range 1 60)
lab_monitor_start
lab_probe_start -i 10
lab_mark coldstart
for i in 1 2 3; do
	lab_start_node "$i"
done
scen_liveness "$START_MS" "cold start with 60 IPs"
scen_steady "cold start"
[ "$(scen_counts)" = "node1 20 node2 20 node3 20" ] ||
    lab_fail "want 20/20/20, got $(scen_counts)"
scen_close coldstart
scen_assert_affected 60 "coldstart"

victim=node3
lab_mark crash
lab_kill_node 3
scen_liveness "$MAX_MS" "crash of $victim"
SCEN_UP_NODES="node1 node2" scen_steady "after the crash"
[ "$(lab_counts node1 node2 | tr '\n' ' ')" = "node1 30 node2 30 " ] ||
    lab_fail "want 30/30, got $(scen_counts)"
scen_assert_moves_only_from crash "$victim"
[ "$(lab_moves crash | grep -c .)" -eq 20 ] ||
    lab_fail "$(lab_moves crash | grep -c .) IPs moved, want node3's 20"
scen_close crash
scen_assert_affected 20 "crash"
scen_assert_max "$MAX_MS" "crash"
[ "$SCEN_MIN" -ge "$MIN_MS" ] ||
    lab_fail "crash: an IP was taken over after $SCEN_MIN ms, before the victim can have fenced (>= $MIN_MS ms)"
scen_end
