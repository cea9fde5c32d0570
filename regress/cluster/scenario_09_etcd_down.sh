#!/usr/bin/env bash
# Scenario 9: all of etcd stopped, then restarted.
#   - etcd (one member) is killed: every node fences, dropping all its
#     IPs within TTL of the stop (keepalives fail, and at last keepalive
#     + TTL - fence-margin it drops), logs FENCING and keeps running;
#   - etcd is started again on its data: every node rejoins with a new
#     lease; every IP is held within a bound, balanced, no overlap.
# Figures: fence_ms (stop to the last node dropping its last IP) and
# outage_ms from the restart (the mark is set before etcd starts; the
# leases of before the stop survive the restart and must expire first).
# This is etcd down without peers (`peers: no`): with peers (the default)
# failsafe keeps the IPs up instead; scenarios 17 and 18 cover that.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/regress/cluster/scen.sh"

LAB_EXTRA_CONFIG=${LAB_EXTRA_CONFIG:-peers: no}
FENCE_MS=${FENCE_MS:-$LAB_TTL}
UP_MS=${UP_MS:-$((LAB_TTL * 2 + 8000))}

nobody_holds() { [ -z "$(lab_holders)" ]; }

scen_up 3 7
lab_mark etcd-down
t0=$(date +%s%3N)
lab_etcd_stop_all
wait_until $((FENCE_MS / 1000 + 3)) nobody_holds ||
    lab_fail "not every node fenced: $(lab_holders | tr '\n' ' ')"
last=$(awk -v t="$t0" '$1 >= t && $3 == "-" { l = $1 } END { print l }' "$LAB_DIR/transitions.log")
[ -n "$last" ] || lab_fail "no drop in vipmon's transitions"
log "every node dropped its IPs; the last drop $((last - t0)) ms after etcd stopped"
echo "FIGURE $SCEN etcd-down fence_ms min=$((last - t0)) median=$((last - t0)) max=$((last - t0)) n=1"
[ $((last - t0)) -le "$FENCE_MS" ] ||
    lab_fail "the last node fenced $((last - t0)) ms after etcd stopped (bound: TTL $FENCE_MS ms)"
for i in 1 2 3; do
	lab_node_alive "$i" || lab_fail "node$i's yaimd died without etcd"
	grep -q FENCING "$LAB_DIR/node$i.log" || lab_fail "node$i did not log FENCING"
done
# They stay fenced while etcd is away.
sleep "$(awk -v t="$LAB_TTL" 'BEGIN { print t / 1000 }')"
nobody_holds || lab_fail "a node took IPs while etcd was down: $(lab_holders | tr '\n' ' ')"

lab_mark etcd-up
lab_etcd_start_all
scen_liveness "$UP_MS" "etcd restarted"
scen_steady "after the restart"
scen_close etcd-up
scen_assert_affected 7 "etcd-up"
scen_assert_max "$UP_MS" "etcd-up"
scen_end
