#!/usr/bin/env bash
# The lab tests itself, without yaimd: holders are simulated by hand.
#
# The lab part runs in a child process (this script with "inner"), so that
# afterwards we can check that its trap left no namespace and no process
# behind, also after a failure.
#
#   - etcd in the bridge namespace answers from every node namespace; the
#     pool helpers write the right keys and delete exactly the right ones;
#   - a VIP moves node1 -> node2 (with a gap), then node2's link goes down
#     and node3 takes its VIPs: vipmon logs the transitions and reports no
#     overlap (a down link does not count); the probe measures each outage
#     and names the nodes;
#   - a deliberate overlap: vipmon reports it and exits 1; the client sees
#     node1, then node3 again, and the probe counts the flap;
#   - the node life-cycle helpers (start, pause, freeze, stop, crash,
#     revive) with a stand-in for yaimd; the assignment table with a
#     leased mark;
#   - three etcd members: one killed, all stopped and restarted; a node cut
#     off from etcd but not from the client;
#   - the demo's plumbing (DEMO_SIM=1: the script moves the addresses).
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"

need_root
need_cmd ip etcd etcdctl python3
for t in vipmon probe responder; do
	[ -x "$TOOLS/$t" ] || skip "$TOOLS/$t not built (make tests)"
done

V1=198.18.1.1
V2=198.18.1.2

# timeline_has IP NODE: the probe has seen NODE answer for IP.
timeline_has() { grep -q " $1 $2\$" "$LAB_DIR/timeline.log"; }
# timeline_last IP NODE: the latest answer for IP came from NODE.
timeline_last() {
	[ "$(awk -v ip="$1" '$2 == ip { s = $3 } END { print s }' \
	    "$LAB_DIR/timeline.log")" = "$2" ]
}
translog_has() { grep -q " $1 $2\$" "$LAB_DIR/transitions.log"; }

# expect_outage LABEL VIP FROM TO STATUS MIN MAX
expect_outage() {
	local from to status ms
	from=$(lab_outage "$1" "$2" from)
	to=$(lab_outage "$1" "$2" to)
	status=$(lab_outage "$1" "$2" status)
	ms=$(lab_outage "$1" "$2")
	[ "$from $to $status" = "$3 $4 $5" ] && [ -n "$ms" ] &&
	    [ "$ms" -ge "$6" ] && [ "$ms" -le "$7" ] ||
	    lab_fail "probe at $1 for $2: got from=$from to=$to status=$status outage_ms=$ms, want $3 -> $4 $5 in $6..$7 ms"
	log "outage $1 $2: $3 -> $4 $5 ${ms} ms"
}

inner() {
	local i k out
	lab_up 3
	echo "NSPREFIX=$NSPREFIX" >"$STATE"
	echo "PIDS=${_pids[*]}" >>"$STATE"

	# etcd from every node namespace
	for ((i = 1; i <= 3; i++)); do
		ETCDCTL_API=3 ip netns exec "$(lab_ns "$i")" etcdctl \
		    --endpoints="$(lab_etcd_endpoints ,)" --dial-timeout=2s \
		    put "/selftest/from/node$i" "hello" >/dev/null ||
		    lab_fail "node$i cannot write to etcd"
	done
	out=$(lab_etcdctl get --prefix /selftest/from/ --keys-only | grep -c .)
	[ "$out" -eq 3 ] || lab_fail "etcd: want 3 keys from the nodes, got $out"

	# the pool helpers: a pair of deletes that spares 198.18.1.10
	lab_pool_add "$V1" 198.18.1.10
	etcdctl_ put "${LAB_PREFIX}ips/$V1/marked" node1 >/dev/null
	etcdctl_ put "${LAB_PREFIX}ips/198.18.1.10/marked" node2 >/dev/null
	lab_pool_del "$V1"
	out=$(etcdctl_ get --prefix "${LAB_PREFIX}ips/" --keys-only | grep .)
	[ "$out" = "${LAB_PREFIX}ips/198.18.1.10
${LAB_PREFIX}ips/198.18.1.10/marked" ] ||
	    lab_fail "lab_pool_del: keys left: $out"
	lab_pool_del 198.18.1.10
	[ -z "$(etcdctl_ get --prefix "$LAB_PREFIX" --keys-only)" ] ||
	    lab_fail "lab_pool_del left keys"
	[ ! -s "$LAB_DIR/pool" ] || lab_fail "pool file not empty"
	lab_pool_add "$V1" "$V2"
	[ "$(lab_pool | tr '\n' ' ')" = "$V1 $V2 " ] ||
	    lab_fail "pool file: $(lab_pool)"

	# the node config generator
	lab_node_config 2 >"$LAB_DIR/cfg2.yml"
	for k in "nodename: node2" "interface: veth2" "dcs-clustername: lab" \
	    "  - http://198.18.0.254:2379" "  - 198.18.1.0/24" \
	    "http-url: http://127.0.0.1:$LAB_HEALTH_PORT/health"; do
		grep -qxF -- "$k" "$LAB_DIR/cfg2.yml" ||
		    lab_fail "config lacks \"$k\""
	done

	# the health target flips
	lab_health 2 503
	out=$(ip netns exec "$(lab_ns 2)" python3 -c "
import urllib.request, urllib.error
try:
    print(urllib.request.urlopen('http://127.0.0.1:$LAB_HEALTH_PORT/').status)
except urllib.error.HTTPError as e:
    print(e.code)")
	[ "$out" = 503 ] || lab_fail "health target: want 503, got $out"
	lab_health_mode 2 hang '{"mode": "hang"}'
	ip netns exec "$(lab_ns 2)" python3 -c "
import urllib.request
urllib.request.urlopen('http://127.0.0.1:$LAB_HEALTH_PORT/', timeout=0.5)" \
	    2>/dev/null && lab_fail "health target: answered in hang mode"
	lab_health 2 200

	[ "${LAB_SELFTEST_FAIL:-0}" = 1 ] && lab_fail "failing on purpose"

	# holders by hand; the monitor and the probe watch
	lab_sim_take 1 "$V1"
	lab_sim_take 2 "$V2"
	[ "$(lab_holders | tr '\n' ' ')" = "$V1 node1 $V2 node2 " ] ||
	    lab_fail "lab_holders: $(lab_holders)"
	lab_all_held || lab_fail "lab_all_held with one holder each"
	lab_monitor_start
	lab_probe_start
	wait_until 5 timeline_has "$V1" node1 ||
	    lab_fail "probe never reached $V1 on node1"
	wait_until 5 timeline_has "$V2" node2 ||
	    lab_fail "probe never reached $V2 on node2"

	# a move with a 300 ms gap
	lab_mark move
	lab_sim_drop 1 "$V1"
	sleep 0.3	# the simulated outage itself, not a wait
	lab_sim_take 2 "$V1"
	wait_until 5 timeline_has "$V1" node2 ||
	    lab_fail "probe never saw node2 answer for $V1"
	lab_balanced node1 node2 node3 && lab_fail "2/0/0 counted as balanced"
	[ "$(lab_counts node2)" = "node2 2" ] || lab_fail "counts: $(lab_counts node2)"

	# node2 crashes: link down; node3 takes both after 200 ms
	lab_mark crash2
	lab_link 2 down
	[ -z "$(lab_holders)" ] || lab_fail "a down link still counts: $(lab_holders)"
	lab_all_held && lab_fail "lab_all_held with no holder"
	sleep 0.2	# the simulated detection time
	lab_sim_take 3 "$V1"
	lab_sim_take 3 "$V2"
	wait_until 5 timeline_has "$V1" node3 ||
	    lab_fail "probe never saw node3 answer for $V1"
	wait_until 5 timeline_has "$V2" node3 ||
	    lab_fail "probe never saw node3 answer for $V2"
	lab_all_held || lab_fail "not all held after the takeover"

	lab_probe_stop
	lab_monitor_stop || lab_fail "vipmon saw an overlap in a clean run"
	grep -q '^vipmon: samples=[1-9][0-9]* overlaps=0 ' \
	    "$LAB_DIR/vipmon.out" || lab_fail "vipmon summary"
	for k in "$V1 node1" "$V1 -" "$V1 node2" "$V1 node3" "$V2 node2" \
	    "$V2 node3"; do
		translog_has $k || lab_fail "vipmon did not log \"$k\""
	done
	[ "$(lab_moves move | tr '\n' ' ')" = "$V1 node1 node3 $V2 node2 node3 " ] ||
	    lab_fail "lab_moves move: $(lab_moves move)"
	[ "$(lab_moves crash2 | tr '\n' ' ')" = "$V1 node2 node3 $V2 node2 node3 " ] ||
	    lab_fail "lab_moves crash2: $(lab_moves crash2)"
	expect_outage move "$V1" node1 node2 recovered 250 3000
	expect_outage move "$V2" node2 node2 unaffected 0 0
	expect_outage crash2 "$V1" node2 node3 recovered 150 3000
	expect_outage crash2 "$V2" node2 node3 recovered 150 3000
	grep -q '^probe: vips=2 marks=2 .* flaps=0$' "$LAB_DIR/probe.out" ||
	    lab_fail "probe summary: $(tail -n1 "$LAB_DIR/probe.out")"
	log "crash2 outage min/median/max: $(lab_outage_figures crash2)"

	# the monitor must be able to fail: node1 takes V1 while node3 has it
	lab_monitor_start
	lab_probe_start
	lab_mark overlap
	lab_sim_take 1 "$V1"
	wait_until 5 grep -q "^OVERLAP [0-9]* $V1 node1 node3\$" \
	    "$LAB_DIR/vipmon.out" || lab_fail "vipmon missed the overlap"
	# the client follows node1's announcement, then node3's again: the
	# probe counts that A, B, A as a flap
	wait_until 5 timeline_last "$V1" node1 ||
	    lab_fail "the probe did not follow node1's announcement"
	ip netns exec "$(lab_ns 3)" python3 "$LAB_CDIR/garp.py" veth3 "$V1"
	wait_until 5 timeline_last "$V1" node3 ||
	    lab_fail "the probe did not follow node3's announcement"
	lab_probe_stop >/dev/null
	[ "$(lab_outage overlap "$V1" flaps)" -ge 1 ] ||
	    lab_fail "probe: no flap counted: $(grep "label=overlap vip=$V1 " "$LAB_DIR/probe.out")"
	lab_monitor_stop >/dev/null && lab_fail "vipmon exited 0 after an overlap"
	grep -q '^vipmon: samples=[0-9]* overlaps=1 ' "$LAB_DIR/vipmon.out" ||
	    lab_fail "vipmon summary after the overlap"
	log "vipmon: $(grep OVERLAP "$LAB_DIR/vipmon.out")"

	lifecycle
	echo "PIDS=${_pids[*]}" >>"$STATE"
	log "inner: all checks passed"
}

has_children() { [ "$(lab_node_children "$1" | wc -w)" -eq "$2" ]; }
in_state() { [ "$(proc_status "$1" State)" = "$2" ]; }

# The node life-cycle helpers, with a stand-in for yaimd: a parent with
# two children, like the real one.  Once both children exist, its TERM
# trap is in place.
lifecycle() {
	local p kids k
	printf '%s\n' '#!/usr/bin/env bash' \
	    '[ "$1" = -d ] && [ "$2" = -f ] && [ -f "$3" ] || exit 2' \
	    "trap 'kill \$(jobs -p); exit 0' TERM" \
	    'sleep 600 &' 'sleep 600 &' 'wait' >"$T/fake-yaimd"
	chmod 0755 "$T/fake-yaimd"
	YAIMD=$T/fake-yaimd

	lab_start_node 1
	lab_node_alive 1 || lab_fail "lab_start_node: not running"
	[ -f "$LAB_DIR/node1/yaim.yml" ] || lab_fail "no node1 config"
	[ "$(stat -c '%U %a' "$LAB_DIR/node1/chroot")" = "root 755" ] ||
	    lab_fail "chroot: $(stat -c '%U %a' "$LAB_DIR/node1/chroot")"
	wait_until 5 has_children 1 2 ||
	    lab_fail "want 2 children, got $(lab_node_children 1)"
	p=$(lab_node_pid 1)
	kids=$(lab_node_children 1)
	[ "$(ip netns identify "$p")" = "$(lab_ns 1)" ] ||
	    lab_fail "yaimd is not in node1's namespace"

	lab_pause_node 1
	for k in $p $kids; do
		wait_until 5 in_state "$k" T ||
		    lab_fail "lab_pause_node: $k is $(proc_status "$k" State)"
	done
	lab_resume_node 1
	for k in $p $kids; do
		wait_until 5 in_state "$k" S ||
		    lab_fail "lab_resume_node: $k still stopped"
	done

	# a paused VM: silent link, stopped processes
	lab_freeze_node 1
	ip -n "$(lab_ns 1)" link show dev veth1 | grep -q ',UP' &&
	    lab_fail "lab_freeze_node: link still up"
	for k in $p $kids; do
		wait_until 5 in_state "$k" T || lab_fail "lab_freeze_node: $k runs"
	done
	lab_thaw_node 1
	ip -n "$(lab_ns 1)" link show dev veth1 | grep -q ',UP' ||
	    lab_fail "lab_thaw_node: link down"
	for k in $p $kids; do
		wait_until 5 in_state "$k" S || lab_fail "lab_thaw_node: $k stopped"
	done

	lab_stop_node 1 || lab_fail "lab_stop_node: status $?"
	lab_node_alive 1 && lab_fail "still alive after lab_stop_node"
	for k in $kids; do
		wait_until 5 _lab_gone "$k" || lab_fail "child $k survived SIGTERM"
	done

	# a crash with a VIP on the node: the link goes down, all die
	lab_start_node 1
	wait_until 5 has_children 1 2 || lab_fail "restart: no children"
	p=$(lab_node_pid 1)
	kids=$(lab_node_children 1)
	[ "$(lab_holder_of "$V1")" = "node1 node3" ] ||
	    lab_fail "before the crash: $(lab_holder_of "$V1")"
	lab_kill_node 1
	for k in $p $kids; do
		wait_until 5 _lab_gone "$k" || lab_fail "lab_kill_node: $k alive"
	done
	[ "$(lab_holder_of "$V1")" = node3 ] ||
	    lab_fail "after the crash: $(lab_holder_of "$V1")"
	ip -n "$(lab_ns 1)" addr show dev veth1 | grep -q "$V1/32" ||
	    lab_fail "the stale address should stay on the down link"
	lab_revive_node 1
	lab_node_alive 1 || lab_fail "lab_revive_node: not running"
	wait_until 5 has_children 1 2 || lab_fail "revive: no children"
	ip -n "$(lab_ns 1)" addr show dev veth1 | grep -q "$V1/32" &&
	    lab_fail "lab_revive_node kept the stale address"
	ip -n "$(lab_ns 1)" link show dev veth1 | grep -q ',UP' ||
	    lab_fail "lab_revive_node: link not up"
	lab_stop_node 1 || lab_fail "lab_stop_node after revive: status $?"

	# the assignment table shows a mark and its lease
	k=$(etcdctl_ lease grant 60 | awk '{ print $2 }')
	etcdctl_ put --lease="$k" "${LAB_PREFIX}ips/$V2/marked" node3 >/dev/null
	etcdctl_ put --lease="$k" "${LAB_PREFIX}nodes/node3" healthy >/dev/null
	lab_table | grep -Eq "^$V2 +node3 +[0-9.]+s +node3 +(59|60)/60s +200 +healthy\$" ||
	    lab_fail "lab_table: $(lab_table)"
	log "table:"
	lab_table
}

# Three etcd members: one killed, the cluster still serves; all stopped and
# restarted; a node cut off from etcd but not from the client.
inner3() {
	local t0 ms
	lab_up 2 etcd3
	echo "NSPREFIX=$NSPREFIX" >"$STATE"
	[ "$(etcdctl_ member list | grep -c started)" -eq 3 ] ||
	    lab_fail "want 3 started members"
	lab_etcd_kill 2
	# (if it was the leader, the others need an election first)
	wait_until 10 lab_etcdctl put /selftest/k one ||
	    lab_fail "no write with one member of three down"
	lab_etcd_start 2
	wait_until 20 etcdctl_ endpoint health --cluster ||
	    lab_fail "member 2 did not rejoin"
	lab_etcd_stop_all
	lab_etcdctl --command-timeout=1s get /selftest/k >/dev/null 2>&1 &&
	    lab_fail "etcd answers with every member down"
	lab_etcd_start_all
	[ "$(lab_etcdctl get --print-value-only /selftest/k)" = one ] ||
	    lab_fail "the value did not survive the restart"

	lab_cut_etcd 2
	t0=$(date +%s%3N)
	ETCDCTL_API=3 ip netns exec "$(lab_ns 2)" etcdctl \
	    --endpoints="$(lab_etcd_endpoints ,)" --dial-timeout=1s \
	    --command-timeout=1s get /selftest/k >/dev/null 2>&1 &&
	    lab_fail "node2 reaches etcd while cut"
	ms=$(($(date +%s%3N) - t0))
	[ "$ms" -ge 900 ] ||
	    lab_fail "the cut fails fast ($ms ms), not like a partition"
	ip netns exec "$LAB_NS_CLIENT" python3 -c "
import socket
s = socket.create_connection(('$(lab_node_addr 2)', $LAB_PORT), timeout=2)
assert s.recv(64) == b'node2\n'" || lab_fail "the client lost node2 too"
	lab_heal_etcd 2
	ETCDCTL_API=3 ip netns exec "$(lab_ns 2)" etcdctl \
	    --endpoints="$(lab_etcd_endpoints ,)" --dial-timeout=2s \
	    get /selftest/k >/dev/null || lab_fail "node2: etcd not back"
	echo "PIDS=${_pids[*]}" >>"$STATE"
	log "inner3: all checks passed"
}

case ${1:-} in
inner|inner3)
	STATE=$2
	"$1"
	exit 0
	;;
esac

# after_run STATEFILE: no namespace, no process of the inner run is left.
after_run() {
	local prefix pids p
	prefix=$(sed -n 's/^NSPREFIX=//p' "$1")
	pids=$(sed -n 's/^PIDS=//p' "$1" | tr '\n' ' ')
	[ -n "$prefix" ] && [ -n "$pids" ] || fail "inner run wrote no state"
	! ip netns list | grep -q "^$prefix" ||
	    fail "namespaces left: $(ip netns list | grep "^$prefix")"
	for p in $pids; do
		[ ! -e "/proc/$p" ] || [ "$(proc_status "$p" State)" = Z ] ||
		    fail "process $p ($(cat "/proc/$p/comm")) left running"
	done
}

log "run 1: the lab against simulated holders"
bash "$0" inner "$T/state1" || fail "lab self-test failed"
after_run "$T/state1"

log "run 2: three etcd members, a node cut off from etcd"
bash "$0" inner3 "$T/state3" || fail "lab self-test (etcd3) failed"
after_run "$T/state3"

log "run 3: the demo's plumbing, with simulated holders"
DEMO_SIM=1 DEMO_TABLE=1 bash "$TOP/regress/cluster/demo.sh" >"$T/demo.log" 2>&1 ||
    { cat "$T/demo.log"; fail "DEMO_SIM=1 demo.sh failed"; }
for k in "outage_ms min/median/max over the affected VIPs: [0-9]+ [0-9]+ [0-9]+ ms" \
    "gap_ms min/median/max over the affected VIPs: [0-9]+ [0-9]+ [0-9]+ ms" \
    "^vipmon: samples=[0-9]+ overlaps=0 " \
    "^demo: no VIP was ever on two nodes at once"; do
	grep -Eq "$k" "$T/demo.log" ||
	    { cat "$T/demo.log"; fail "demo output lacks /$k/"; }
done

log "run 4: a failure half-way still cleans up"
LAB_SELFTEST_FAIL=1 bash "$0" inner "$T/state2" >"$T/run2.log" 2>&1 &&
    fail "the failing run exited 0"
grep -q "FAIL: failing on purpose" "$T/run2.log" ||
    { cat "$T/run2.log"; fail "run 2 failed for the wrong reason"; }
after_run "$T/state2"
log "PASS: lab self-test, cleanup after success and after failure"
