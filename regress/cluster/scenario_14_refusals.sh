#!/usr/bin/env bash
# Scenario 14: nodes that may not hold every pool IP (DESIGN.md section 4,
# liveness; yaimd.8, REFUSALS).  3 nodes, 9 IPs: 198.18.1.1-6 and
# 198.18.1.100-102.
#   A. node3's allowed-networks is 198.18.1.0/29.  It publishes its
#      refusals of .100-.102 with its node key (one txn), so from the cold
#      start every IP is held, node3 holds only addresses inside its
#      networks, and the spread is still 3/3/3.
#   B. node3 restarts without allowed-networks, so its parent allows only
#      the prefix of the interface's own address, 198.18.0.0/24, and has
#      told dcs so: node3 publishes its refusal of all 9 with its node
#      key, and nothing moves (the client sees no outage).
#   C. 198.18.0.255 joins the pool: node1 and node2 refuse it (outside
#      their allowed-networks) and publish that while running; node3's
#      dcs claims it (inside its networks) and its parent refuses it (the
#      directed broadcast address of 198.18.0.0/24).  node3 publishes the
#      refusal with the delete of its mark; nobody holds the address, and
#      a warning says that every healthy node refuses it.
# No overlap at any time.
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
# since_start I: node I's log since its last start.
since_start() {
	awk '/^---- start / { n = NR } { l[NR] = $0 }
	    END { for (i = n; i <= NR; i++) print l[i] }' "$LAB_DIR/node$1.log"
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

log "B. node3 without allowed-networks: only its interface's 198.18.0.0/24"
lab_stop_node 3 || lab_fail "node3 did not stop cleanly"
LAB_NODE_NETWORKS[3]=-
SCEN_UP_NODES="node1 node2" scen_steady "node3 stopped"
[ -z "$(refusals node3)" ] || lab_fail "node3's refusals outlived its lease: $(refusals node3)"
lab_mark refusals
lab_start_node 3
wait_until 10 refusals_are node3 "$LOW $HIGH" ||
    lab_fail "node3 refused $(refusals node3), want all 9"
nrev=$(create_rev "${LAB_PREFIX}nodes/node3")
for ip in $LOW $HIGH; do
	[ "$(create_rev "${LAB_PREFIX}refused/node3/$ip")" = "$nrev" ] ||
	    lab_fail "refused/node3/$ip was not written with node3's node key"
	[ "$(etcdctl_ get --print-value-only "${LAB_PREFIX}refused/node3/$ip")" = "outside the interface's networks" ] ||
	    lab_fail "refused/node3/$ip: wrong value"
done
# a window of three reconciliation intervals: nothing moves
sleep "$(awk -v i="$LAB_INTERVAL" 'BEGIN { print 3 * i / 1000 }')"
held_by_two || lab_fail "not all held by node1/node2: $(lab_holders | tr '\n' ' ')"
scen_assert_no_moves refusals "node3's join"
since_start 3 | grep -q "claimed 198.18.1" && lab_fail "node3 claimed a pool IP"
scen_close refusals
scen_assert_affected 0 "node3's join"

log "C. 198.18.0.255: refused by node1/node2 (networks) and node3's parent (broadcast)"
BC=198.18.0.255
etcdctl_ put "${LAB_PREFIX}ips/$BC" "" >/dev/null || lab_fail "put $BC"
wait_until 10 refusals_are node1 "$BC" || lab_fail "node1 refuses $(refusals node1)"
wait_until 10 refusals_are node2 "$BC" || lab_fail "node2 refuses $(refusals node2)"
wait_until 10 grep -q "the parent refused $BC: broadcast address" "$LAB_DIR/node3.log" ||
    lab_fail "node3's parent did not refuse $BC"
wait_until 10 refusals_are node3 "$LOW $HIGH $BC" || lab_fail "node3 refuses $(refusals node3)"
[ "$(etcdctl_ get --print-value-only "${LAB_PREFIX}refused/node3/$BC")" = "broadcast address" ] ||
    lab_fail "refused/node3/$BC: wrong value"
grep -q "released $BC, publishing that this node refuses it" "$LAB_DIR/node3.log" ||
    lab_fail "node3 did not publish its refusal with the delete of its mark"
wait_until 10 grep -q "nobody will hold $BC: each of the 3 healthy nodes refuses it" \
    "$LAB_DIR/node1.log" "$LAB_DIR/node2.log" "$LAB_DIR/node3.log" ||
    lab_fail "no warning that nobody will hold $BC"
[ -z "$(etcdctl_ get "${LAB_PREFIX}ips/$BC/marked")" ] || lab_fail "$BC is marked"
ip -n "$(lab_ns 3)" -o addr show | grep -q " $BC/" && lab_fail "node3 has $BC"
held_by_two || lab_fail "an IP lost its holder: $(lab_holders | tr '\n' ' ')"
lab_table
scen_end
