#!/usr/bin/env bash
# Scenario 1: cold start.  3 nodes and 7 IPs: every IP is held by exactly
# one node within a bound of the start, and the counts are 3/2/2.
# Figure: the client's outage from the start of the nodes (the time until
# each VIP answers first).
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/regress/cluster/scen.sh"

BOUND_MS=${BOUND_MS:-8000}	# from the start to every IP held

scen_need
lab_up 3
reason=$(lab_yaimd_ready) || lab_fail "yaimd cannot run here: $reason"
SCEN_NODES=$(scen_nodes 3)
lab_pool_add $(lab_pool_range 1 7)
lab_monitor_start
lab_probe_start
lab_mark coldstart
for i in 1 2 3; do
	lab_start_node "$i"
done
scen_liveness "$BOUND_MS" "cold start"
wait_until "$SCEN_BOUND" lab_balanced $SCEN_NODES ||
    lab_fail "not balanced: $(scen_counts)"
counts=$(lab_counts $SCEN_NODES | awk '{ print $2 }' | sort -n | tr '\n' ' ')
[ "$counts" = "2 2 3 " ] || lab_fail "want counts 2 2 3, got $(scen_counts)"
log "balanced: $(scen_counts)"
lab_table
scen_close coldstart
scen_assert_affected 7 "cold start"
scen_assert_max "$BOUND_MS" "cold start"
scen_end
