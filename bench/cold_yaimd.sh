#!/usr/bin/env bash
# Cold start of real yaimd nodes (the cluster lab: privsep, checker,
# netlink), counting claims (issue 15: at most 1.2 claim transactions per
# pool IP; balanced within 1 s of the last node turning healthy):
#
#	BUILD=build-x bash bench/cold_yaimd.sh [REPS] [NODES] [IPS] [OUT]
#
# Per repetition: all nodes started at once on IPS pool IPs (yaimd's
# defaults: interval 1000, ttl 5000); the time until every IP is held
# exactly once and the nodes are within 1 of each other (from the nodes'
# interfaces, polled), from the first start and from the moment etcd
# showed the last node key (polled every 20 ms: a node key is written
# when the node turns healthy); etcd's Txn count over the cold start per
# IP (claims, plus one node key a node, plus releases), and the nodes'
# "claimed" and "releasing" log lines.  Lines "ycold REP FROM_START_MS
# FROM_LAST_HEALTHY_MS TXN_PER_IP CLAIMS RELEASES" go to OUT if given.
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
REPS=${1:-3} NODES=${2:-10} IPS=${3:-1000} OUT=${4:-/dev/null}
LAB_POOL_NET=198.19.0.0/16
LAB_POOL_MATCH=198.19.
LAB_TTL=5000 LAB_INTERVAL=1000
BENCH_YAIM_DROP='interval|ttl|retry_num|retry_after|garp-count|garp-interval'
export LAB_POOL_NET LAB_POOL_MATCH LAB_TTL LAB_INTERVAL BENCH_YAIM_DROP
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/bench/lablib.sh"
need_root
BENCH_POLL=0.05
emit() { local IFS=$'\t'; echo "$*" >>"$OUT"; }
all_nodes() { local i; for ((i = 1; i <= NODES; i++)); do echo "node$i"; done; }
txns() {
	ip netns exec "$LAB_NS_BR" curl -s -m 5 "http://198.18.0.254:2379/metrics" |
	    awk '/^grpc_server_handled_total\{/ && /grpc_method="Txn"/ { s += $NF }
		END { printf "%.0f\n", s }'
}
loglines() { cat "$LAB_DIR"/node*.log | grep -c "$1"; }
# nodes_poll: "<wall ms> <node keys>" whenever the count changes, for 60 s
nodes_poll() {
	ip netns exec "$LAB_NS_BR" python3 - "$LAB_PREFIX" <<'PY'
import base64, json, sys, time, urllib.request
p = sys.argv[1] + "nodes/"
b = lambda s: base64.b64encode(s.encode()).decode()
end = p[:-1] + "0"
req = json.dumps({"key": b(p), "range_end": b(end), "count_only": True}).encode()
last, stop = -1, time.time() + 60
while time.time() < stop:
    try:
        r = urllib.request.urlopen(urllib.request.Request(
            "http://198.18.0.254:2379/v3/kv/range", req), timeout=2)
        n = int(json.load(r).get("count", "0"))
    except Exception:
        n = last
    if n != last:
        print(int(time.time() * 1000), n, flush=True)
        last = n
    time.sleep(0.02)
PY
}
stop_all() {
	local i p
	for ((i = 1; i <= NODES; i++)); do
		p=$(lab_node_pid "$i")
		[ -z "$p" ] || kill -TERM "$p" 2>/dev/null
	done
	for ((i = 1; i <= NODES; i++)); do lab_stop_node "$i" || true; done
	wait_until 30 bench_none_held || lab_fail "addresses left after stop"
}

lab_up "$NODES"
reason=$(lab_yaimd_ready) || fail "$reason"
bench_pool_add_bulk 0 "$IPS"
for ((rep = 1; rep <= REPS; rep++)); do
	x0=$(txns) c0=$(loglines ' claimed ') r0=$(loglines 'releasing .* (balance')
	nodes_poll >"$T/np$rep" &
	pp=$!
	track_pid $pp
	sleep 0.3
	t0=$(now_ms)
	for ((i = 1; i <= NODES; i++)); do lab_start_node "$i"; done
	bench_wait_ms 120 bench_settled $(all_nodes) >/dev/null ||
	    lab_fail "cold start $rep: not held and balanced in 120 s"
	t1=$(now_ms)
	kill "$pp" 2>/dev/null
	wait "$pp" 2>/dev/null
	th=$(awk -v n="$NODES" '$2 == n { print $1; exit }' "$T/np$rep")
	x=$(($(txns) - x0)) c=$(($(loglines ' claimed ') - c0))
	r=$(($(loglines 'releasing .* (balance') - r0))
	emit ycold "$rep" $((t1 - t0)) $((t1 - ${th:-$t1})) \
	    "$(awk -v x="$x" -v m="$IPS" 'BEGIN { printf "%.3f", x / m }')" "$c" "$r"
	log "yaimd cold start $rep ($NODES nodes, $IPS IPs): balanced $((t1 - t0)) ms after the start, $((t1 - ${th:-$t1})) ms after the last node key; $x txns ($c claimed, $r releases); last node key at +$((${th:-$t1} - t0)) ms; fencing $(loglines FENCING)"
	stop_all
done
