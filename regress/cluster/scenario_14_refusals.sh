#!/usr/bin/env bash
# Scenario 14: nodes that may not hold every pool IP (DESIGN.md section 4,
# liveness; yaimd.8, REFUSALS).  3 nodes, 9 IPs: 198.18.1.1-6 and
# 198.18.1.100-102.
#   A. node3's allowed-networks is 198.18.1.0/29.  It publishes its
#      refusals of .100-.102 with its node key (one txn), so from the cold
#      start every IP is held, node3 holds only addresses inside its
#      networks, and the spread is still 3/3/3.
#   B. node3 restarts without allowed-networks, so its parent allows only
#      the interface's own prefix (198.18.0.0/24) and refuses every pool
#      IP, but only when asked to add one.  node3 learns each refusal by
#      trying, publishes it with the delete of its mark, and the others
#      take the IP back: within a bound every IP is held by node1 or
#      node2, node3 holds nothing and has published a refusal of all 9.
#      Without published refusals, the IPs that node1 and node2 leave to
#      node3 would stay unheld.
# No overlap at any time.  Figures: the client's outage per IP in B (each
# IP node3 tried is down from its release by the old holder until that
# holder took it back).
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/regress/cluster/scen.sh"

REFUSE_MS=${REFUSE_MS:-10000}	# B: all held by node1/node2 again
LOW="198.18.1.1 198.18.1.2 198.18.1.3 198.18.1.4 198.18.1.5 198.18.1.6"
HIGH="198.18.1.100 198.18.1.101 198.18.1.102"

# refusals NODE: the IPs of NODE's refusal keys, sorted.
refusals() {
	etcdctl_ get --prefix --keys-only "${LAB_PREFIX}refused/$1/" |
	    awk -v p="${LAB_PREFIX}refused/$1/" 'NF { print substr($0, length(p) + 1) }' |
	    sort -t . -k 4,4n | tr '\n' ' ' | sed 's/ $//'
}
refusals_are() { [ "$(refusals "$1")" = "$2" ]; }
# create_rev KEY: its create_revision.
create_rev() {
	etcdctl_ get -w json "$1" | python3 -c '
import json, sys
for kv in json.load(sys.stdin).get("kvs", []):
    print(kv["create_revision"])'
}
# Everything held by node1 and node2 only.
held_by_two() {
	scen_all_held && scen_holds_nothing node3
}

scen_need
lab_up 3
reason=$(lab_yaimd_ready) || lab_fail "yaimd cannot run here: $reason"
SCEN_NODES=$(scen_nodes 3)
lab_pool_add $LOW $HIGH
lab_monitor_start
lab_probe_start

log "A. node3: allowed-networks 198.18.1.0/29"
LAB_NODE_NETWORKS[3]=198.18.1.0/29
lab_mark coldstart
for i in 1 2 3; do lab_start_node "$i"; done
scen_steady "cold start"
counts=$(lab_counts $SCEN_NODES | awk '{ print $2 }' | tr '\n' ' ')
[ "$counts" = "3 3 3 " ] || lab_fail "want 3/3/3, got $(scen_counts)"
for ip in $(scen_held_by node3); do
	case " $HIGH " in *" $ip "*) lab_fail "node3 holds $ip, outside its networks";; esac
done
refusals_are node3 "$HIGH" || lab_fail "node3's refusals: $(refusals node3), want $HIGH"
nrev=$(create_rev "${LAB_PREFIX}nodes/node3")
for ip in $HIGH; do
	[ "$(create_rev "${LAB_PREFIX}refused/node3/$ip")" = "$nrev" ] ||
	    lab_fail "refused/node3/$ip was not written with node3's node key"
done
[ -z "$(refusals node1)$(refusals node2)" ] ||
    lab_fail "node1 or node2 published refusals: $(refusals node1) / $(refusals node2)"
lab_table

log "B. node3 without allowed-networks: its parent refuses every pool IP"
lab_stop_node 3 || lab_fail "node3 did not stop cleanly"
LAB_NODE_NETWORKS[3]=-
SCEN_UP_NODES="node1 node2" scen_steady "node3 stopped"
[ -z "$(refusals node3)" ] || lab_fail "node3's refusals outlived its lease: $(refusals node3)"
lab_mark refusals
t0=$(date +%s%3N)
lab_start_node 3
# node3 joins knowing no refusal; it is given IPs, tries them, and its
# parent refuses each one.
wait_until $(((REFUSE_MS + 999) / 1000)) refusals_are node3 "$LOW $HIGH" ||
    lab_fail "node3 refused $(refusals node3), want all 9, $(($(date +%s%3N) - t0)) ms after its start"
wait_until 10 held_by_two ||
    lab_fail "not all held by node1/node2: $(lab_holders | tr '\n' ' ')"
dt=$(($(date +%s%3N) - t0))
[ "$dt" -le "$REFUSE_MS" ] || lab_fail "took $dt ms (bound $REFUSE_MS ms)"
log "every IP held by node1/node2 $dt ms after node3 started; node3 refused all 9"
grep -q "the parent refused 198.18.1.* outside allowed-networks" "$LAB_DIR/node3.log" ||
    lab_fail "node3's log does not show its parent's refusals"
scen_close refusals
lab_table
# A window: node3 tries nothing again (refusals are for good).
tried=$(grep -c "claimed 198.18.1" "$LAB_DIR/node3.log")
sleep "$(awk -v i="$LAB_INTERVAL" 'BEGIN { print 3 * i / 1000 }')"
[ "$(grep -c "claimed 198.18.1" "$LAB_DIR/node3.log")" -eq "$tried" ] ||
    lab_fail "node3 claimed an IP its parent had refused"
held_by_two || lab_fail "an IP lost its holder: $(lab_holders | tr '\n' ' ')"
scen_end
