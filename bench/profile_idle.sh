#!/usr/bin/env bash
# Where an idle yaimd node spends its time (not part of make bench; run by
# hand): the footprint section's lab (3 nodes, 10 VIPs, every documented
# default), then over WINDOW seconds on node1:
#	- CPU ticks and wakeups (voluntary context switches) per process;
#	- etcd requests per method (its /metrics), per node per second;
#	- UDP datagrams in and out of node1 (the peer channel);
#	- a perf profile of node1's three processes (perf record -g), by
#	  process and shared object, and the top symbols;
#	- then syscalls per process (strace -c over 20 s, after perf: strace
#	  slows what it traces).
#
#	BUILD=build bash bench/profile_idle.sh [WINDOW_S]
#
# LAB_EXTRA_CONFIG adds yaim.yml lines (e.g. "peers: no", or a slower
# peer-interval, to see what the peer channel costs); STRACE=0 skips strace.
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BENCH_YAIM_DROP='interval|ttl|retry_num|retry_after|garp-count|garp-interval'
export BENCH_YAIM_DROP
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/bench/lablib.sh"
need_root
need_cmd perf strace curl
WINDOW=${1:-120}
HZ=$(getconf CLK_TCK)

metrics() {
	ip netns exec "$LAB_NS_BR" curl -s -m 5 "http://198.18.0.254:2379/metrics" |
	    grep -E '^grpc_server_handled_total|^etcd_http_successful_requests|^etcd_debugging_mvcc_(range|txn|put)_total|^etcd_server_proposals_committed_total'
}
udp() { ip netns exec "$(lab_ns 1)" awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { print $2, $5 }' /proc/net/snmp; }
ctxt() { awk '$1 == "voluntary_ctxt_switches:" { print $2 }' "/proc/$1/status"; }

lab_up 3
reason=$(lab_yaimd_ready) || fail "$reason"
lab_pool_add $(lab_pool_range 1 10)
for i in 1 2 3; do lab_start_node "$i"; done
bench_wait_ms 60 bench_settled node1 node2 node3 >/dev/null ||
    lab_fail "10 VIPs not held and balanced"
sleep 5
P=$(lab_node_pid 1)
declare -A role=([$P]=parent)
for c in $(child_pids "$P"); do
	role[$c]=$(tr '\0' ' ' <"/proc/$c/cmdline" | awk '{ print $2 }')
done
pids=${!role[*]}
declare -A t0 w0
for p in $pids; do t0[$p]=$(proc_cpu_ticks "$p"); w0[$p]=$(ctxt "$p"); done
m0=$(metrics) u0=$(udp) s0=$(now_ms)
perf record -g -o "$T/perf.data" -p "$(echo $pids | tr ' ' ,)" \
    -- sleep "$WINDOW" >"$T/perf.log" 2>&1 &
perfpid=$!
track_pid $perfpid
wait $perfpid
s1=$(now_ms) m1=$(metrics) u1=$(udp)
secs=$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
echo "== node1 over $secs s (perf running: CPU is a little inflated)"
for p in $pids; do
	awk -v r="${role[$p]}" -v d=$(($(proc_cpu_ticks "$p") - t0[$p])) \
	    -v w=$(($(ctxt "$p") - w0[$p])) -v hz="$HZ" -v s="$secs" \
	    'BEGIN { printf "%-8s cpu %.2f s/h  wakeups %.1f/s\n", r, d / hz / s * 3600, w / s }'
done
echo "== UDP datagrams on node1 per second (in, out)"
read -r i0 o0 <<<"$u0"; read -r i1 o1 <<<"$u1"
awk -v i=$((i1 - i0)) -v o=$((o1 - o0)) -v s="$secs" \
    'BEGIN { printf "in %.1f/s out %.1f/s\n", i / s, o / s }'
echo "== etcd requests per node per second (3 nodes, delta)"
awk -v s="$secs" 'FNR == 1 { f++ }
    { k = $1; v = $2 + 0; if (f == 1) a[k] = v; else b[k] = v }
    END { for (k in b) if (b[k] != a[k]) printf "%-100s %.2f\n", k, (b[k] - a[k]) / s / 3 }' \
    <(echo "$m0") <(echo "$m1") | sort
# after perf: strace stops the process at every syscall (STRACE=0: none)
[ "${STRACE:-1}" = 1 ] || pids=
for p in $pids; do
	timeout 20 strace -c -f -p "$p" -o "$T/strace.$p" 2>/dev/null &
	track_pid $!
done
[ -z "$pids" ] || sleep 21
for p in $pids; do
	echo "== strace -c ${role[$p]} (20 s)"
	head -n 14 "$T/strace.$p"
done
echo "== perf: by process and shared object"
perf report -i "$T/perf.data" --stdio --sort comm,dso --no-children -g none 2>/dev/null |
    grep '%' | grep -v '^#' | head -n 30
echo "== perf: top symbols"
perf report -i "$T/perf.data" --stdio --sort comm,dso,sym --no-children -g none 2>/dev/null |
    grep '%' | grep -v '^#' | grep -v '^ *|' | grep -v -- '---' | head -n 50
echo "== perf: callers, by process (children)"
perf report -i "$T/perf.data" --stdio --sort comm,sym --children 2>/dev/null |
    grep -E '^ +[0-9]' | head -n 60
for i in 1 2 3; do lab_stop_node "$i" || true; done
