#!/usr/bin/env bash
# make demo: etcd and 3 yaimd nodes with 6 VIPs in network namespaces, a
# client that probes every VIP every 5 ms, and an invariant monitor.
# Shows the assignment table, crashes a node, shows the IPs moving and the
# outage the client measured, restores the node, shows the rebalance, and
# cleans up.  Runs unattended; DEMO_INTERACTIVE=1 waits for Enter between
# steps.  Needs root (namespaces).  DEMO_SIM=1 runs the same show with the
# script itself moving the addresses (no yaimd), to test the lab.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"

DEMO_INTERACTIVE=${DEMO_INTERACTIVE:-0}
DEMO_VIPS=${DEMO_VIPS:-6}
DEMO_BOUND=${DEMO_BOUND:-30}	# s: every wait of the demo is bounded
DEMO_SIM=${DEMO_SIM:-0}		# 1: no yaimd, the script moves the IPs
DEMO_TABLE=${DEMO_TABLE:-3}	# s: how long each live table is shown
NODES="node1 node2 node3"

say() {
	if [ -t 1 ]; then
		printf '\n\033[1m== %s\033[0m\n' "$*"
	else
		printf '\n== %s\n' "$*"
	fi
}
step() {
	say "$*"
	if [ "$DEMO_INTERACTIVE" = 1 ] && [ -r /dev/tty ]; then
		printf '(press Enter) '
		read -r _ </dev/tty
	fi
}

# demo_failed WHY: the demo could not show what it should; clean up, say
# why (with the nodes' last log lines) and exit 1, so that make demo fails.
demo_failed() {
	local i
	echo "demo: FAILED: $*"
	for i in 1 2 3; do
		[ -f "$LAB_DIR/node$i.log" ] || continue
		echo "==== node$i: the last lines of its log"
		tail -n 15 "$LAB_DIR/node$i.log"
	done
	exit 1
}

# show_table SECONDS: the live assignment table, once a second.
show_table() {
	local i
	for ((i = 0; i < $1; i++)); do
		echo "-- $(date +%T)"
		lab_table
		[ $((i + 1)) -lt "$1" ] && sleep 1
	done
}

# show_moves SINCE_MS: the VIP transitions vipmon saw since then.
show_moves() {
	awk -v t="$1" '$1 >= t {
		printf "  +%5d ms  %-14s -> %s\n", $1 - t, $2, $3 }' \
	    "$LAB_DIR/transitions.log"
}

# close_window LABEL FIELD: a quiet mark, so that the probe closes the
# window of the previous one and prints its outage lines; then show them
# and the figures of FIELD.
close_window() {
	local label=$1 field=$2
	lab_mark "settled-$label"
	wait_until 5 grep -q "^outage .*label=$label " "$LAB_DIR/probe.out" ||
	    return
	grep "^outage .*label=$label " "$LAB_DIR/probe.out" |
	    sed 's/^outage mark=[0-9]* label=[^ ]* /  /'
	echo "  $field min/median/max over the affected VIPs:" \
	    "$(lab_outage_figures "$label" "$field") ms"
}

need_root
if ! command -v etcd >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1
then
	sh "$TOP/regress/deps.sh" || fail "could not install the dependencies"
fi
for t in vipmon probe responder; do
	[ -x "$TOOLS/$t" ] || fail "$TOOLS/$t is missing: run make first"
done

step "setting up: etcd, 3 node namespaces, a client namespace"
lab_up 3
lab_pool_add $(lab_pool_range 1 "$DEMO_VIPS")
echo "pool: $(lab_pool | paste -sd ' ')"
etcdctl_ get --prefix "${LAB_PREFIX}ips/" --keys-only | grep .

if [ "$DEMO_SIM" = 1 ]; then
	step "simulated holders (DEMO_SIM=1): the script plays the daemons"
else
	reason=$(lab_yaimd_ready) || demo_failed "$reason"
	step "starting yaimd on node1, node2, node3"
fi
lab_monitor_start
lab_probe_start
for i in 1 2 3; do
	if [ "$DEMO_SIM" = 1 ]; then
		lab_sim_balance $NODES
	else
		lab_start_node "$i"
	fi
done
wait_until "$DEMO_BOUND" lab_all_held ||
    demo_failed "after ${DEMO_BOUND}s the pool is not held: $(lab_holders | tr '\n' ' ')"
wait_until "$DEMO_BOUND" lab_balanced $NODES ||
    lab_fail "not balanced after ${DEMO_BOUND}s: $(lab_counts $NODES | tr '\n' ' ')"
lab_counts $NODES | sed 's/^/  /'
show_table "$DEMO_TABLE"

victim=node$(lab_holders | awk '{ print $2 }' | sort | uniq -c | sort -rn |
    awk 'NR == 1 { sub("node", "", $2); print $2 }')
victim_i=${victim#node}
step "crashing $victim: its link goes down, then SIGKILL"
t0=$(date +%s%3N)
lab_mark "crash-$victim"
lab_kill_node "$victim_i"
survivors=$(echo $NODES | tr ' ' '\n' | grep -vx "$victim" | tr '\n' ' ')
if [ "$DEMO_SIM" = 1 ]; then
	sleep "$((LAB_TTL / 1000))"	# the lease running out, simulated
	lab_sim_balance $survivors
fi
wait_until "$DEMO_BOUND" lab_all_held ||
    lab_fail "not every VIP has a holder ${DEMO_BOUND}s after the crash"
wait_until "$DEMO_BOUND" lab_balanced $survivors ||
    lab_fail "survivors not balanced: $(lab_counts $survivors | tr '\n' ' ')"
echo "moves seen by the monitor:"
show_moves "$t0"
echo "outage seen by the client, per VIP:"
close_window "crash-$victim" outage_ms
show_table "$((DEMO_TABLE > 1 ? DEMO_TABLE - 1 : 1))"

step "restoring $victim: reboot, yaimd starts again"
t0=$(date +%s%3N)
lab_mark "restore-$victim"
if [ "$DEMO_SIM" = 1 ]; then
	lab_revive_node "$victim_i" nostart
	lab_sim_balance $NODES
else
	lab_revive_node "$victim_i"
fi
wait_until "$DEMO_BOUND" lab_balanced $NODES ||
    lab_fail "no rebalance after ${DEMO_BOUND}s: $(lab_counts $NODES | tr '\n' ' ')"
wait_until "$DEMO_BOUND" lab_all_held || lab_fail "not all held after restore"
echo "moves seen by the monitor (only IPs moving to $victim should move):"
show_moves "$t0"
others=$(lab_moves "restore-$victim" | awk -v v="$victim" '$3 != v')
if [ -z "$others" ]; then
	echo "  ok: only IPs moving to $victim moved"
else
	echo "  unexpected moves:"; echo "$others" | sed 's/^/    /'
fi
echo "outage seen by the client, per VIP:"
close_window "restore-$victim" gap_ms
show_table "$((DEMO_TABLE > 1 ? DEMO_TABLE - 1 : 1))"

step "stopping: the invariants"
# The probe ends before the nodes stop (a stop is not an outage to show);
# the monitor watches the shutdown too.
lab_probe_stop >"$LAB_DIR/probe.final"
for i in 1 2 3; do
	[ -z "$(lab_node_pid "$i")" ] || lab_stop_node "$i" ||
	    echo "node$i exited with status $?"
done
lab_finish >"$LAB_DIR/finish.out"
grep -E '^probe: vips=' "$LAB_DIR/probe.final"
grep -E '^vipmon: samples=' "$LAB_DIR/finish.out"
echo "demo: no VIP was ever on two nodes at once; cleaning up"
