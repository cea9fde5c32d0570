#!/usr/bin/env bash
# Where a cold start of 1000 IPs on 10 nodes spends its time (not part of
# make bench; run by hand):
#
#	BUILD=build-x bash bench/profile_cold.sh [TTL_MS]
#
# Prints the etcd counters over the cold start (requests per method, WAL
# fsyncs and their total time, backend commits) and a system-wide perf
# profile by process and by shared object, then the node logs' key lines.
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
LAB_POOL_NET=198.19.0.0/16
LAB_POOL_MATCH=198.19.
LAB_TTL=${1:-5000} LAB_INTERVAL=1000
BENCH_YAIM_DROP='interval|retry_num|retry_after|garp-count|garp-interval'
export LAB_POOL_NET LAB_POOL_MATCH LAB_TTL LAB_INTERVAL BENCH_YAIM_DROP
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/bench/lablib.sh"
need_root
need_cmd perf
NODES=10

metrics() {
	ip netns exec "$LAB_NS_BR" curl -s -m 5 "http://198.18.0.254:2379/metrics" |
	    grep -E '^(grpc_server_handled_total|etcd_disk_wal_fsync_duration_seconds_(sum|count)|etcd_disk_backend_commit_duration_seconds_(sum|count)|etcd_server_proposals_committed_total)'
}

lab_up $NODES
reason=$(lab_yaimd_ready) || fail "$reason"
bench_pool_add_bulk 0 1000
m0=$(metrics)
perf record -a -g -o "$T/perf.data" -- sleep 15 >"$T/perf.log" 2>&1 &
perfpid=$!
track_pid $perfpid
sleep 0.5
t0=$(now_ms)
for ((i = 1; i <= NODES; i++)); do lab_start_node "$i"; done
bench_wait_ms 60 bench_settled $(for ((i = 1; i <= NODES; i++)); do echo node$i; done) \
    >/dev/null || echo "not settled in 60 s"
t1=$(now_ms)
m1=$(metrics)
echo "cold start (ttl $LAB_TTL): $((t1 - t0)) ms"
echo "== etcd counters over the cold start (delta)"
awk 'FNR == 1 { f++ }
    { k = $1; v = $2 + 0; if (f == 1) a[k] = v; else b[k] = v }
    END { for (k in b) if (b[k] != a[k]) printf "%-110s %.3f\n", k, b[k] - a[k] }' \
    <(echo "$m0") <(echo "$m1") | sort
wait $perfpid
echo "== perf: CPU samples by process (whole machine, 15 s from the start)"
perf report -i "$T/perf.data" --stdio --sort comm --no-children 2>/dev/null |
    grep -v '^#' | grep -v '^$' | grep '%' | head -n 15
echo "== perf: by shared object"
perf report -i "$T/perf.data" --stdio --sort comm,dso --no-children 2>/dev/null |
    grep -v '^#' | grep -v '^$' | grep '%' | head -n 20
echo "== node1: health and lease"
grep -E 'healthy|lease|FENCING|joined' "$LAB_DIR/node1.log" | head -n 12
echo "== fencing events: $(cat "$LAB_DIR"/node*.log | grep -c FENCING)"
