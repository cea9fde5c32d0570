#!/usr/bin/env bash
# Scenario 17: etcd frozen for everyone (issue 12, failsafe).  3 nodes,
# 7 IPs, peers and failsafe at their defaults.  Every etcd member the lab
# started is stopped (SIGSTOP: connections stay open, nothing answers)
# for FROZEN_S seconds (10; FROZEN_S=60 for the long variant), then
# resumed (SIGCONT).  No node can renew its lease, every node promises
# the others (DESIGN.md 10.2), so every node keeps its addresses past its
# deadline: the client sees no failed attempt and no VIP moves during the
# freeze.  After the resume the nodes go back to normal work: every IP
# held, balanced; a single member resuming expires the overdue leases at
# once, and the nodes must re-mark what they hold (yaimd.8 PEERS: "a
# short outage" at most, bounded here by THAW_MAX_MS).  0 overlaps.
# Figures: outage_ms of the freeze (must be 0: n=0) and of the thaw.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/regress/cluster/scen.sh"

FROZEN_S=${FROZEN_S:-10}
THAW_MAX_MS=${THAW_MAX_MS:-$((LAB_TTL + 3000))}
LAB_ETCD=${LAB_ETCD:-etcd1}	# etcd3: three members, all frozen

scen_up 3 7 "$LAB_ETCD"
before=$(lab_holders)
lab_mark frozen
t0=$(date +%s%3N)
lab_etcd_freeze_all
log "every etcd member stopped; waiting $FROZEN_S s"
sleep "$FROZEN_S"
now=$(lab_holders)
[ "$now" = "$before" ] || {
	echo "holders before the freeze:"; echo "$before" | sed 's/^/  /'
	echo "holders after $FROZEN_S s frozen:"; echo "$now" | sed 's/^/  /'
	lab_etcd_thaw_all
	lab_fail "the assignment changed while etcd was frozen"
}
for i in 1 2 3; do
	lab_node_alive "$i" || lab_fail "node$i's yaimd died while etcd was frozen"
done
# before the thaw: what happens after it (a single member expiring the
# overdue leases, the nodes re-marking) is not the freeze's
scen_assert_no_moves frozen "etcd frozen"
lab_mark thawed
lab_etcd_thaw_all
log "etcd resumed $(($(date +%s%3N) - t0)) ms after the freeze"
# the freeze window: closed by the thaw mark
wait_until 10 grep -q "^outage .*label=frozen " "$LAB_DIR/probe.out" ||
    lab_fail "the probe printed no outage lines for the freeze"
wait_until 5 _scen_window_done frozen
grep "^outage .*label=frozen " "$LAB_DIR/probe.out" | sed 's/^/  /'
bad=$(grep "^outage .*label=frozen " "$LAB_DIR/probe.out" | grep -v 'status=unaffected')
f=$(grep "^outage .*label=frozen " "$LAB_DIR/probe.out" |
    sed 's/.* outage_ms=\([0-9]*\).*/\1/' | sort -n |
    awk '{ a[NR] = $1 } END { print a[1], a[int((NR + 1) / 2)], a[NR] }')
read -r mn md mx <<<"$f"
echo "FIGURE $SCEN frozen outage_ms min=$mn median=$md max=$mx n=$(grep -c . <<<"$bad")"
[ -z "$bad" ] || lab_fail "clients saw an outage while etcd was frozen: $(echo "$bad" | tr '\n' ';')"

scen_steady "after the thaw"
scen_close thawed
scen_assert_max "$THAW_MAX_MS" "after the thaw"
scen_end
