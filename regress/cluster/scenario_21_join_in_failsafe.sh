#!/usr/bin/env bash
# Scenario 21: a node joins while the others cannot reach etcd (issue
# 12, "a node that joins while the others are in failsafe").  node1 and
# node2 hold 7 IPs; both are cut from etcd (lab_cut_etcd) but hear each
# other, so they hold on each other's promises (failsafe).  Their leases
# expire in etcd and the marks go with them.  Then node3 starts; it
# reaches etcd, sees every IP unmarked, and must not claim one while
# node1 or node2 still holds it: the join rule makes it wait for their
# acks (which make them need its promise, which it refuses: they fence)
# or for J.  Asserted: 0 overlaps over the whole run; after the heal
# every IP held and balanced over the three.
# Figures: the outage seen during the join (printed, not bounded).
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/regress/cluster/scen.sh"

JOIN_S=${JOIN_S:-8}

scen_need
lab_up 3
reason=$(lab_yaimd_ready) || lab_fail "yaimd cannot run here: $reason"
SCEN_NODES="node1 node2 node3"
lab_pool_add $(lab_pool_range 1 7)
lab_monitor_start
lab_probe_start
lab_mark coldstart
lab_start_node 1
lab_start_node 2
SCEN_UP_NODES="node1 node2" scen_steady "cold start of node1 and node2"

lab_mark cut
# both ways: a watch stream that still delivered etcd's side would show
# them their own leases expiring, and they would drop their IPs
lab_cut_etcd_both 1
lab_cut_etcd_both 2
# past the TTL: their leases and marks are gone from etcd
sleep $(((LAB_TTL + 1999) / 1000 + 1))
log "node1 and node2 cut from etcd: $(scen_counts)"
left=$(etcdctl_ get --prefix --keys-only "${LAB_PREFIX}ips/" | grep -c /marked)
log "marks left in etcd: $left"
# the premise: they hold everything on each other's promises (with
# LAB_EXTRA_CONFIG="peers: no", a check of the script: they fence)
if [ -z "${LAB_EXTRA_CONFIG:-}" ]; then
	scen_all_held && lab_balanced node1 node2 ||
	    lab_fail "node1 and node2 did not keep their IPs in failsafe: $(scen_counts)"
fi

lab_mark join
lab_start_node 3
sleep "$JOIN_S"
log "$JOIN_S s after node3 started: $(scen_counts)"
for i in 1 2 3; do
	lab_node_alive "$i" || lab_fail "node$i's yaimd died"
done
scen_close join

lab_mark heal
lab_heal_etcd 1
lab_heal_etcd 2
scen_steady "after the heal"
scen_close heal gap_ms
scen_end
