#!/usr/bin/env bash
# Scenario 18: every etcd member killed (SIGKILL) for DOWN_S seconds
# (10; DOWN_S=60 for the long variant), then started again on the same
# data dir (issue 12).  3 nodes, 7 IPs, peers and failsafe at their
# defaults.  While etcd is down every node promises the others and they
# keep the assignment (failsafe); the figure of the outage during that
# time is printed.  After the restart: every IP held again within
# UP_MS, balanced; 0 overlaps over the whole run.
# Figures: outage_ms while etcd is down, and after the restart.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/regress/cluster/scen.sh"

DOWN_S=${DOWN_S:-10}
UP_MS=${UP_MS:-$((LAB_TTL * 2 + 8000))}
LAB_ETCD=${LAB_ETCD:-etcd1}

scen_up 3 7 "$LAB_ETCD"
lab_mark etcd-killed
lab_etcd_stop_all
log "every etcd member killed; waiting $DOWN_S s"
sleep "$DOWN_S"
held=$(lab_holders | grep -c .)
log "after $DOWN_S s without etcd $held of 7 IPs are held: $(scen_counts)"
for i in 1 2 3; do
	lab_node_alive "$i" || lab_fail "node$i's yaimd died without etcd"
done
lab_mark etcd-restarted
lab_etcd_start_all
scen_liveness "$UP_MS" "etcd restarted"
scen_steady "after the restart"
wait_until 5 _scen_window_done etcd-killed
grep "^outage .*label=etcd-killed " "$LAB_DIR/probe.out" | sed 's/^/  /'
f=$(grep "^outage .*label=etcd-killed " "$LAB_DIR/probe.out" |
    grep -E 'status=(recovered|down|moved)' |
    sed 's/.* outage_ms=\([0-9]*\).*/\1/' | sort -n |
    awk '{ a[NR] = $1 } END { if (NR == 0) { print "- - - 0"; exit }
	print a[1], a[int((NR + 1) / 2)], a[NR], NR }')
read -r mn md mx n <<<"$f"
echo "FIGURE $SCEN etcd-killed outage_ms min=$mn median=$md max=$mx n=$n"
if [ "$n" -ne 0 ]; then
	[ -z "${STRICT_FAILSAFE:-}" ] || lab_fail "clients saw an outage while etcd was down ($n VIPs)"
	log "NOTE: clients saw an outage while etcd was down ($n VIPs); the issue's goal is none (STRICT_FAILSAFE=1 fails on it)"
fi
scen_close etcd-restarted
scen_assert_max "$UP_MS" "after the restart"
scen_end
