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
#   - a deliberate overlap: vipmon reports it and exits 1.
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
	expect_outage move "$V1" node1 node2 recovered 250 1500
	expect_outage move "$V2" node2 node2 unaffected 0 0
	expect_outage crash2 "$V1" node2 node3 recovered 150 1500
	expect_outage crash2 "$V2" node2 node3 recovered 150 1500
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
	lab_probe_stop >/dev/null
	lab_monitor_stop >/dev/null && lab_fail "vipmon exited 0 after an overlap"
	grep -q '^vipmon: samples=[0-9]* overlaps=1 ' "$LAB_DIR/vipmon.out" ||
	    lab_fail "vipmon summary after the overlap"
	log "vipmon: $(grep OVERLAP "$LAB_DIR/vipmon.out")"
	log "inner: all checks passed"
}

if [ "${1:-}" = inner ]; then
	STATE=$2
	inner
	exit 0
fi

# after_run STATEFILE: no namespace, no process of the inner run is left.
after_run() {
	local prefix pids p
	prefix=$(sed -n 's/^NSPREFIX=//p' "$1")
	pids=$(sed -n 's/^PIDS=//p' "$1")
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

log "run 2: a failure half-way still cleans up"
LAB_SELFTEST_FAIL=1 bash "$0" inner "$T/state2" >"$T/run2.log" 2>&1 &&
    fail "the failing run exited 0"
grep -q "FAIL: failing on purpose" "$T/run2.log" ||
    { cat "$T/run2.log"; fail "run 2 failed for the wrong reason"; }
after_run "$T/state2"
log "PASS: lab self-test, cleanup after success and after failure"
