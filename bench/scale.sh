#!/usr/bin/env bash
# Scale, yaimd alone (keepalived has no pool):
#   - cold start: 10 nodes, 1000 IPs, start to every IP held and balanced;
#   - node crash: time until the crashed node's IPs are held again and the
#     other 9 are balanced (and, after its revival, until all 10 are);
#   - etcd load at steady state with 10, 100, 1000 and 5000 IPs: etcd's
#     gRPC counters (grpc_server_handled_total, grpc_server_msg_received_
#     total) from its /metrics, per node per second;
#   - netlink: the parent's netif code (regress/tools/netif-driver) adds
#     1000 addresses with one sync and removes them with an empty one.
#
#	bash bench/scale.sh REPS SIZES WINDOW_S OUTFILE
#
# Appends tab-separated lines to OUTFILE:
#	cold REP MS | crash REP MS | rejoin REP MS | cold_ttl2 REP MS
#	coldcpu REP WALL_MS ETCD_CPU_MS YAIMD_CPU_MS (during that cold start)
#	load IPS REQ_PER_NODE_S MSG_PER_NODE_S | loadm IPS METHOD PER_NODE_S
#	loadb IPS BYTES_SENT_PER_NODE_S BYTES_RECEIVED_PER_NODE_S (by etcd)
#	loadcpu IPS ETCD_CPU_MS_PER_S YAIMD_CPU_MS_PER_S_PER_NODE
#	loadw IPS K REQ_PER_NODE_S BYTES_SENT_PER_NODE_S (5 sub-windows)
#	nl_add REP MS | nl_del REP MS | meta KEY VALUE
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
REPS=${1:?reps}
SIZES=${2:?sizes}
WINDOW=${3:?window}
OUT=${4:?outfile}
NODES=10
BIG=1000

# A /16 pool (198.19.0.0/16, inside 198.18.0.0/15): room for 5000 IPs.
LAB_POOL_NET=198.19.0.0/16
LAB_POOL_MATCH=198.19.
# yaimd's documented defaults (interval 1000, ttl 5000, ...); the cold
# start is repeated with ttl 2000 at the end (cold_ttl2).
LAB_TTL=2000 LAB_INTERVAL=1000
BENCH_YAIM_DROP='interval|ttl|retry_num|retry_after|garp-count|garp-interval'
export LAB_POOL_NET LAB_POOL_MATCH LAB_TTL LAB_INTERVAL BENCH_YAIM_DROP
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/bench/lablib.sh"
need_root

HZ=$(getconf CLK_TCK)
BENCH_POLL=0.1		# 10 "ip" runs a poll: every 10 ms would load the machine
emit() { local IFS=$'\t'; echo "$*" >>"$OUT"; }
note() { log "scale: $*" >&2; }
all_nodes() { local i; for ((i = 1; i <= NODES; i++)); do echo "node$i"; done; }
except_node() { all_nodes | grep -vx "node$1"; }

start_all() {
	local i
	for ((i = 1; i <= NODES; i++)); do lab_start_node "$i"; done
}
# stop_all: SIGTERM to every node at once (no cascade of moves), then wait.
stop_all() {
	local i p
	for ((i = 1; i <= NODES; i++)); do
		p=$(lab_node_pid "$i")
		[ -z "$p" ] || kill -TERM "$p" 2>/dev/null
	done
	for ((i = 1; i <= NODES; i++)); do lab_stop_node "$i" || true; done
	wait_until 30 bench_none_held || lab_fail "addresses left after stop"
}

# metrics: "handled received" sums, and per-method handled counts.
metrics() {
	ip netns exec "$LAB_NS_BR" curl -s -m 5 "http://198.18.0.254:2379/metrics"
}
# load_ticks: "etcd yaimd" CPU ticks (yaimd: every process of every node).
load_ticks() {
	local i p y=0
	for ((i = 1; i <= NODES; i++)); do
		for p in $(lab_node_pid "$i") $(lab_node_children "$i"); do
			y=$((y + $(proc_cpu_ticks "$p")))
		done
	done
	echo "$(proc_cpu_ticks "${LAB_ETCD_PIDS[1]}") $y"
}
# load IPS: steady-state etcd load over WINDOW seconds.
load() {
	local ips=$1 k t0 t1 tk c0 c1
	sleep 2		# past the claims and garp of the last change
	metrics >"$T/m0" || lab_fail "no etcd metrics"
	c0=$(load_ticks)
	t0=$(now_ms) tk=$t0
	# 5 sub-windows: min / median / max of the request rate
	for ((k = 1; k <= 5; k++)); do
		sleep "$(awk -v w="$WINDOW" 'BEGIN { print w / 5 }')"
		metrics >"$T/m$k" || lab_fail "no etcd metrics"
		t1=$(now_ms)
		emit loadw "$ips" "$k" $(mdelta "$T/m$((k - 1))" "$T/m$k" \
		    $((t1 - tk)) | awk '$1 == "load" { r = $2 }
		    $1 == "loadb" { b = $2 } END { print r, b }')
		tk=$t1
	done
	c1=$(load_ticks)
	emit loadcpu "$ips" $(awk -v e=$((${c1% *} - ${c0% *})) \
	    -v y=$((${c1#* } - ${c0#* })) -v hz="$HZ" -v ms=$((t1 - t0)) -v n=$NODES \
	    'BEGIN { printf "%.1f %.2f", e * 1000 / hz / (ms / 1000), y * 1000 / hz / (ms / 1000) / n }')
	mdelta "$T/m0" "$T/m5" $((t1 - t0)) | sed "s/^\([a-z]*\)\t/\1\t$ips\t/" >>"$OUT"
	note "etcd load with $ips IPs: $(grep -P "^load\t$ips\t" "$OUT" | cut -f3-) (req/s/node, msg/s/node)"
}

# mdelta FILE0 FILE1 MS: per node per second between two /metrics dumps:
#	load X REQ MSG | loadb X SENT RECEIVED | loadm X METHOD REQ
mdelta() {
	awk -v ms="$3" -v n=$NODES '
	    FNR == 1 { f++ }
	    /^grpc_server_(handled|msg_received)_total\{/ {
		split($0, a, "grpc_method=\""); split(a[2], b, "\""); m = b[1]
		kind = ($0 ~ /^grpc_server_handled/) ? "h" : "r"
		v = $NF + 0
		if (f == 1) { s0[kind] += v; if (kind == "h") p0[m] += v }
		else { s1[kind] += v; if (kind == "h") p1[m] += v }
	    }
	    /^etcd_network_client_grpc_(sent|received)_bytes_total/ {
		kind = ($0 ~ /sent/) ? "s" : "v"
		if (f == 1) b0[kind] += $NF; else b1[kind] += $NF
	    }
	    END {
		w = ms / 1000
		printf "load\tX\t%.2f\t%.2f\n", (s1["h"] - s0["h"]) / w / n,
		    (s1["r"] - s0["r"]) / w / n
		printf "loadb\tX\t%.0f\t%.0f\n", (b1["s"] - b0["s"]) / w / n,
		    (b1["v"] - b0["v"]) / w / n
		for (m in p1) if (p1[m] > p0[m])
			printf "loadm\tX\t%s\t%.2f\n", m, (p1[m] - p0[m]) / w / n
	    }' "$1" "$2" | sed 's/\tX\t/\t/'
}

# grow_to N: the pool has N IPs, all held, balanced over all nodes.
grow_to() {
	local have t
	have=$(wc -l <"$LAB_DIR/pool")
	[ "$1" -gt "$have" ] && bench_pool_add_bulk "$have" "$1"
	t=$(bench_wait_ms 300 bench_settled $(all_nodes)) ||
	    lab_fail "pool of $1: not held and balanced within 300 s"
	note "pool of $1 held and balanced ${t} ms after the last put"
}

lab_up $NODES
reason=$(lab_yaimd_ready) || fail "$reason"
emit meta nodes $NODES
emit meta yaimd_config "defaults (interval 1000 ttl 5000)"

# --- etcd load at the small sizes, cold start and crash at BIG
bench_pool_add_bulk 0 "$(echo $SIZES | awk '{ print $1 }')"
start_all
for size in $SIZES; do
	[ "$size" -le $BIG ] || continue
	grow_to "$size"
	load "$size"
done
[ "$(wc -l <"$LAB_DIR/pool")" -eq $BIG ] || grow_to $BIG
for ((rep = 1; rep <= REPS; rep++)); do
	stop_all
	e0=$(proc_cpu_ticks "${LAB_ETCD_PIDS[1]}")
	t0=$(now_ms)
	start_all
	bench_wait_ms 120 bench_settled $(all_nodes) >/dev/null ||
	    lab_fail "cold start $rep: not held and balanced in 120 s"
	t1=$(now_ms)
	emit cold "$rep" $((t1 - t0))
	# where the time goes: etcd's CPU and every yaimd process's (all of
	# theirs is this cold start: they are fresh), in ms
	e1=$(proc_cpu_ticks "${LAB_ETCD_PIDS[1]}")
	y=0
	for ((i = 1; i <= NODES; i++)); do
		for p in $(lab_node_pid "$i") $(lab_node_children "$i"); do
			y=$((y + $(proc_cpu_ticks "$p" children)))
		done
	done
	emit coldcpu "$rep" $((t1 - t0)) $(((e1 - e0) * 1000 / HZ)) $((y * 1000 / HZ))
	note "cold start $rep: $(($(now_ms) - t0)) ms"
done
sleep 2
for ((rep = 1; rep <= REPS; rep++)); do
	k=$(((rep - 1) % NODES + 1))
	t0=$(now_ms)
	lab_kill_node "$k"
	bench_wait_ms 120 bench_settled $(except_node "$k") >/dev/null ||
	    lab_fail "crash $rep: node$k's IPs not taken over in 120 s"
	emit crash "$rep" $(($(now_ms) - t0))
	note "crash of node$k: $(($(now_ms) - t0)) ms"
	t0=$(now_ms)
	lab_revive_node "$k"
	bench_wait_ms 120 bench_settled $(all_nodes) >/dev/null ||
	    lab_fail "rejoin $rep: not balanced in 120 s"
	emit rejoin "$rep" $(($(now_ms) - t0))
	sleep 1
done
# --- cold start again with ttl 2000 (lease keepalives vs claims)
stop_all
BENCH_YAIM_DROP='interval|retry_num|retry_after|garp-count|garp-interval'
LAB_TTL=2000
fence0=$(cat "$LAB_DIR"/node*.log | grep -c FENCING)
for ((rep = 1; rep <= (REPS < 3 ? REPS : 3); rep++)); do
	t0=$(now_ms)
	start_all
	bench_wait_ms 120 bench_settled $(all_nodes) >/dev/null ||
	    lab_fail "cold start (ttl 2000) $rep: not held and balanced in 120 s"
	emit cold_ttl2 "$rep" $(($(now_ms) - t0))
	note "cold start (ttl 2000) $rep: $(($(now_ms) - t0)) ms, $(($(cat "$LAB_DIR"/node*.log | grep -c FENCING) - fence0)) fencing events so far"
	stop_all
done
emit meta fencing_events_ttl2 $(($(cat "$LAB_DIR"/node*.log | grep -c FENCING) - fence0))

# --- the larger pools, back at the defaults
BENCH_YAIM_DROP='interval|ttl|retry_num|retry_after|garp-count|garp-interval'
start_all
for size in $SIZES; do
	[ "$size" -gt $BIG ] || continue
	grow_to "$size"
	load "$size"
done
stop_all

# --- netlink: the parent's netif code, alone, in its own namespace
NL=$(netns_add nl)
# a veth pair inside the namespace (this kernel has no dummy module)
ip -n "$NL" link add dummy0 type veth peer name dummy1 || fail "no veth"
ip -n "$NL" link set dummy1 up
ip -n "$NL" link set dummy0 up
mkfifo "$T/nl.in"
ip netns exec "$NL" "$TOOLS/netif-driver" -t -i dummy0 -a 198.19.0.0/16 \
    -c 0 <"$T/nl.in" >"$T/nl.out" 2>"$T/nl.err" &
track_pid $!
exec {nlfd}>"$T/nl.in"
wait_until 5 grep -q ' ready$' "$T/nl.out" || fail "netif-driver did not start"
list=$(for ((k = 0; k < BIG; k++)); do bench_ip "$k"; done | tr '\n' ' ')
count() { grep -c " state .* $1\$" "$T/nl.out"; }
nl_enough() { [ "$(count "$1")" -ge "$2" ]; }
# nl_time KIND WANT T0_US: ms from T0 to the WANT-th "state IP KIND".
nl_time() {
	wait_until 60 nl_enough "$1" "$2" ||
	    fail "netif-driver: $2 x $1 not seen"
	grep " state .* $1\$" "$T/nl.out" | sed -n "${2}p" |
	    awk -v t0="$3" '{ printf "%.1f", ($1 * 1e6 - t0) / 1000 }'
}
for ((rep = 1; rep <= REPS; rep++)); do
	t0=$(date +%s%6N)
	echo "sync $list" >&$nlfd
	a=$(nl_time up $((rep * BIG)) "$t0")
	[ "$(ip -n "$NL" -o -4 addr show dev dummy0 | grep -c 198.19.)" -eq $BIG ] ||
	    fail "netlink: not $BIG addresses on dummy0"
	t0=$(date +%s%6N)
	echo "sync" >&$nlfd
	d=$(nl_time down $((rep * BIG)) "$t0")
	emit nl_add "$rep" "$a"
	emit nl_del "$rep" "$d"
	note "netlink $rep: add $BIG in $a ms, remove in $d ms"
done
exec {nlfd}>&-
note done
