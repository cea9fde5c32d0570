#!/usr/bin/env bash
# Failover as the client probe sees it: yaimd and keepalived alternately on
# the same 3-node lab, the same 3 VIPs, the same health targets.
#
#	bash bench/failover.sh SETTING REPS OUTFILE
#
# SETTING: default (each tool's defaults), T2 (yaimd ttl 2000, keepalived
# advert_int so that 3 x advert_int + skew ~ 2 s), Tmin (yaimd ttl 1000 on
# an etcd whose minimum lease TTL is 1 s; keepalived matched to the TTL
# etcd granted).  Appends tab-separated lines to OUTFILE:
#	fo SETTING TOOL FAULT REP GAP_MS OUTAGE_MS FLAPS MOVE_MS REJOIN_FLAPS
# GAP_MS and OUTAGE_MS are the probe's (client side); MOVE_MS is vipmon's
# (server side): the fault to node1's VIP up on another node;
# REJOIN_FLAPS are the probe's flaps while node1 comes back.
#	meta SETTING KEY VALUE
# Faults on node1: graceful (SIGTERM), health (its HTTP target answers
# 503), crash (link down, then SIGKILL of the daemon and its children).
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
SETTING=${1:?setting}
REPS=${2:?reps}
OUT=${3:?outfile}

# Only the health check interval is shared: 1 s, fall 1, rise 2 for both
# (keepalived's vrrp_script counts in whole seconds; yaimd's check
# interval defaults to "interval", 1000 ms).
case $SETTING in
default)
	# yaimd's documented defaults: drop the lab's timing keys.
	BENCH_YAIM_DROP='interval|ttl|retry_num|retry_after|garp-count|garp-interval'
	KA_ADV=1 ;;
T2)
	LAB_TTL=2000 LAB_INTERVAL=1000
	BENCH_YAIM_DROP='retry_num|retry_after|garp-count|garp-interval'
	KA_ADV=0.55 ;;	# 3 x 0.55 + (256-100)/256 x 0.55 = 1.99 s
Tmin)
	LAB_TTL=1000 LAB_INTERVAL=1000
	LAB_EXTRA_CONFIG='fence-margin: 250'
	BENCH_YAIM_DROP='retry_num|retry_after|garp-count|garp-interval'
	# etcd's minimum lease TTL is ceil(1.5 x election timeout): 2 s at
	# its defaults (that is the T2 setting); 1 s with these.
	BENCH_ETCD_FLAGS='--heartbeat-interval 50 --election-timeout 500'
	KA_ADV=0.28 ;;
*) echo "failover.sh: unknown setting $SETTING" >&2; exit 2 ;;
esac
export LAB_TTL LAB_INTERVAL LAB_EXTRA_CONFIG BENCH_YAIM_DROP BENCH_ETCD_FLAGS
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/bench/lablib.sh"
need_root
need_cmd keepalived curl

BOUND=40
VIPS=$(lab_pool_range 1 3)
KA_VIPS=$(echo $VIPS)
emit() { local IFS=$'\t'; echo "$*" >>"$OUT"; }
note() { log "failover[$SETTING]: $*" >&2; }

lab_up 3
reason=$(lab_yaimd_ready) || fail "$reason"
lab_pool_add $VIPS
lab_monitor_start
lab_probe_start
: >"$LAB_DIR/blocks"

# figures LABEL: "gap outage flaps" of the window of LABEL: the largest
# over the VIPs node1 lost (status recovered, down or moved), and the sum
# of flaps over every VIP.
figures() {
	awk -v l="$1" '$1 == "outage" {
		delete kv
		for (i = 2; i <= NF; i++) { split($i, p, "="); kv[p[1]] = p[2] }
		if (kv["label"] != l) next
		flaps += kv["flaps"]
		if (kv["status"] == "unaffected") next
		n++
		if (kv["gap_ms"] > g) g = kv["gap_ms"]
		if (kv["outage_ms"] > o) o = kv["outage_ms"]
	    } END { if (n == 0) print "- -", flaps + 0
		    else print g + 0, o + 0, flaps + 0 }' "$LAB_DIR/probe.out"
}

# window LABEL: wait until the probe closed LABEL's window (the next mark).
window_closed() { grep -q "^outage .*label=$1 " "$LAB_DIR/probe.out"; }

# move_ms LABEL VIPS: from LABEL's mark to the last of VIPS coming up on
# another node, from vipmon's transitions (server side).
move_ms() {
	local t0
	t0=$(awk -v l="$1" '$2 == l { print $1 }' "$LAB_DIR/marks")
	awk -v t0="$t0" -v vips="$2" '
	    BEGIN { n = split(vips, v, /[ \n]+/); for (i = 1; i <= n; i++) if (v[i] != "") want[v[i]] = 1 }
	    $1 >= t0 && ($2 in want) && !($2 in got) && $3 != "-" && $3 != "node1" &&
		$3 !~ /,/ { got[$2] = $1 - t0; if ($1 - t0 > m) m = $1 - t0 }
	    END { k = 0; for (x in want) if (!(x in got)) k++
		  if (k > 0 || m == "") print "-"; else print m }' \
	    "$LAB_DIR/transitions.log"
}

# back_home TOOL BOUND_S: node1 is back in the cluster.
back_home() {
	if [ "$1" = yaimd ]; then
		bench_wait_ms "$2" bench_settled node1 node2 node3 >/dev/null
	else
		bench_wait_ms "$2" ka_vips_home >/dev/null
	fi
}

# restart_all TOOL: stop it everywhere, clean up, start it again.
restart_all() {
	local i
	for i in 1 2 3; do
		if [ "$1" = yaimd ]; then lab_stop_node "$i" || true
		else ka_stop "$i"; fi
	done
	wait_until 10 bench_none_held || lab_fail "$1 left addresses"
	for i in 1 2 3; do
		if [ "$1" = yaimd ]; then lab_start_node "$i"; else ka_start "$i"; fi
	done
	back_home "$1" $BOUND || lab_fail "$1: no recovery after a restart"
}

node1_empty() { ! bench_holders | grep -q ' node1$'; }
ka_taken_over() { bench_all_held && node1_empty; }

# run_fault TOOL FAULT REP
run_fault() {
	local tool=$1 fault=$2 rep=$3 label t
	label=${tool:0:1}-$SETTING-$fault-$rep
	mine=$(bench_holders | awk '$2 == "node1" { print $1 }')
	lab_mark "$label"
	case $tool-$fault in
	yaimd-graceful) lab_stop_node 1 ;;
	yaimd-health|keepalived-health) lab_health 1 503 ;;
	yaimd-crash) lab_kill_node 1 ;;
	keepalived-graceful) ka_stop 1 ;;
	keepalived-crash) ka_kill 1 ;;
	esac
	if [ "$tool" = yaimd ]; then
		t=$(bench_wait_ms $BOUND bench_settled node2 node3)
	else
		t=$(bench_wait_ms $BOUND ka_taken_over)
	fi
	if [ -z "$t" ]; then
		emit anomaly "$SETTING" "$tool" "$label: node1's VIPs not taken over in $BOUND s: $(bench_holders | tr '\n' ' ')"
		note "$label: ANOMALY: not taken over; restarting $tool"
		lab_mark "settle-$label"
		[ "$fault" = health ] && lab_health 1 200
		[ "$fault" = crash ] && lab_revive_node 1 nostart
		restart_all "$tool"
		return 0
	fi
	sleep 0.3	# a few more answers from the new holder
	lab_mark "settle-$label"
	case $tool-$fault in
	yaimd-graceful) lab_start_node 1 ;;
	*-health) lab_health 1 200 ;;
	yaimd-crash) lab_revive_node 1 ;;
	keepalived-graceful) ka_start 1 ;;
	keepalived-crash) lab_revive_node 1 nostart; ka_start 1 ;;
	esac
	if ! back_home "$tool" 20; then
		# Not a measurement failure: note it, restart that tool on all
		# nodes and go on.
		emit anomaly "$SETTING" "$tool" "$label: node1 not back in 20 s: $(bench_holders | tr '\n' ' ')"
		note "$label: ANOMALY: node1 not back in 20 s; restarting $tool"
		cp "$LAB_DIR/ka1.log" "/tmp/yaimbench-anomaly-$label-ka1.log" 2>/dev/null; cp "$LAB_DIR/ka2.log" "/tmp/yaimbench-anomaly-$label-ka2.log" 2>/dev/null
		restart_all "$tool"
	fi
	lab_mark "rejoined-$label"
	wait_until 5 window_closed "settle-$label" ||
	    lab_fail "$label: no outage line"
	read -r g o f <<<"$(figures "$label")"
	read -r _ _ rf <<<"$(figures "settle-$label")"
	m=$(move_ms "$label" "$mine")
	emit fo "$SETTING" "$tool" "$fault" "$rep" "$g" "$o" "$f" "$m" "$rf"
	note "$label: gap ${g} ms, fault->new holder ${o} ms (vipmon ${m} ms), flaps $f, while rejoining $rf"
	sleep 0.5
}

block_yaimd() {
	local rep=$1 i t0 f
	t0=$(now_ms)
	lab_mark "start-yaimd-$rep"
	for i in 1 2 3; do lab_start_node "$i"; done
	bench_wait_ms $BOUND bench_settled node1 node2 node3 >/dev/null ||
	    lab_fail "yaimd: no 1/1/1 at start"
	if [ "$rep" = 1 ]; then
		emit meta "$SETTING" yaimd_granted_ttl_s "$(bench_lease_ttl node1)"
		emit meta "$SETTING" yaimd_config "$(lab_node_config 1 |
		    grep -E '^(interval|ttl|fence-margin):' | tr '\n' ' ')"
	fi
	sleep 1
	for f in graceful health crash; do run_fault yaimd "$f" "$rep"; done
	lab_mark "stop-yaimd-$rep"
	for i in 1 2 3; do lab_stop_node "$i" || true; done
	wait_until 10 bench_none_held || lab_fail "yaimd left addresses"
	echo "yaimd $t0 $(now_ms)" >>"$LAB_DIR/blocks"
}

block_keepalived() {
	local rep=$1 i t0 f
	t0=$(now_ms)
	lab_mark "start-keepalived-$rep"
	for i in 1 2 3; do ka_start "$i"; done
	bench_wait_ms $BOUND ka_vips_home >/dev/null ||
	    lab_fail "keepalived: VIPs not on their masters"
	[ "$rep" = 1 ] && emit meta "$SETTING" keepalived_advert_int_s "$KA_ADV"
	sleep 1
	for f in graceful health crash; do run_fault keepalived "$f" "$rep"; done
	lab_mark "stop-keepalived-$rep"
	for i in 1 2 3; do ka_stop "$i"; done
	wait_until 10 bench_none_held || lab_fail "keepalived left addresses"
	echo "keepalived $t0 $(now_ms)" >>"$LAB_DIR/blocks"
}

if [ "$SETTING" = Tmin ]; then
	# keepalived gets the TTL etcd actually granted: start yaimd once.
	for i in 1 2 3; do lab_start_node "$i"; done
	bench_wait_ms $BOUND bench_settled node1 node2 node3 >/dev/null ||
	    lab_fail "yaimd: no 1/1/1 at start"
	g=$(bench_lease_ttl node1)
	for i in 1 2 3; do lab_stop_node "$i" || true; done
	wait_until 10 bench_none_held || lab_fail "yaimd left addresses"
	KA_ADV=$(awk -v t="$g" 'BEGIN { printf "%.2f", t / (3 + 156 / 256) }')
	note "etcd granted ${g} s: keepalived advert_int $KA_ADV"
fi

for ((rep = 1; rep <= REPS; rep++)); do
	block_yaimd "$rep"
	block_keepalived "$rep"
done
lab_mark end
sleep 0.2
lab_probe_stop >/dev/null
lab_monitor_stop >/dev/null
for tool in yaimd keepalived; do
	n=$(awk -v tool=$tool 'FNR == NR { if ($1 == tool) { a[++k] = $2; b[k] = $3 }; next }
	    /^(OVERLAP|SUSPECT)/ { for (i = 1; i <= k; i++)
		if ($2 >= a[i] && $2 <= b[i]) c++ }
	    END { print c + 0 }' "$LAB_DIR/blocks" "$LAB_DIR/vipmon.out")
	emit overlaps "$SETTING" "$tool" "$n"
done
# each overlap with the window it fell in (the last mark before it)
grep -E '^(OVERLAP|SUSPECT)' "$LAB_DIR/vipmon.out" | while read -r kind t rest; do
	w=$(awk -v t="$t" '$1 <= t { l = $2 } END { print l }' "$LAB_DIR/marks")
	emit overlapat "$SETTING" "$kind" "$t" "${w:-before-any-mark}" "$rest"
	echo "$kind $t $rest (window ${w:-none})" >&2
done
note "done"
