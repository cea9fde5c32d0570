#!/usr/bin/env bash
# Scale with dcs-drivers (regress/tools/dcs-driver: the real dcs engine,
# its etcd client and balancing, without privsep, checker or netlink), so
# that 20 nodes and 10,000 IPs fit on a 2-core machine:
#   - cold start: N drivers started at once (healthy at once) on M pool
#     IPs; time until every IP is held exactly once and the nodes hold
#     floor or ceil of M/N each, from the first start and from the last
#     "joined as"; claim transactions per IP (the drivers' "claiming"
#     lines, and etcd's Txn count) and releases;
#   - steady state: etcd's bytes sent (etcd_network_client_grpc_sent_bytes
#     _total) and CPU (process_cpu_seconds_total) per second over WINDOW
#     seconds, and the drivers' CPU;
#   - crash: SIGKILL of one driver; time until the others hold all M,
#     balanced (the lease TTL bounds it from below);
#   - join: the same node started again; time until all N are balanced,
#     and the IPs that moved (dropped by the others) against the minimum,
#     the joiner's floor(M/N).
#
#	bash bench/scale_drivers.sh N M REPS WINDOW_S OUTFILE
#
# Appends tab-separated lines to OUTFILE (prefixed with "d<N>x<M>"):
#	dcold REP MS_FROM_START MS_FROM_LAST_JOIN CLAIMS_PER_IP TXN_PER_IP RELEASES LOST
#	dsteady BYTES_SENT_PER_S ETCD_CPU_MS_PER_S DRIVERS_CPU_MS_PER_S
#	dcrash REP MS | djoin REP MS MOVED MIN
# Loopback only; every process is started here and killed by PID.
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
. "$TOP/regress/lib.sh" || exit 1
. "$TOP/regress/integration/dcs_lib.bash"
need_root
N=${1:?nodes} M=${2:?ips} REPS=${3:?reps} WINDOW=${4:?window} OUT=${5:?outfile}
TAG="d${N}x${M}"
TTL=${SCALE_TTL:-5000}
HZ=$(getconf CLK_TCK)
emit() { local IFS=$'\t'; echo "$*" >>"$OUT"; }
note() { log "scale_drivers $TAG: $*" >&2; }
mono() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }
names() { local i; for ((i = 1; i <= N; i++)); do [ "$i" = "${1:-0}" ] || echo "n$i"; done; }
metrics() { curl -s -m 10 "$ETCD_ENDPOINT/metrics"; }
# metric FILE NAME [LABEL]: the sum of a counter's samples
metric() {
	awk -v n="$2" -v l="${3:-}" '$1 ~ "^" n "({|$)" && index($1, l) { s += $NF }
	    END { printf "%.6f\n", s }' "$1"
}
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
drivers_ticks() {
	local n s=0
	for n in $(names); do s=$((s + $(ticks "${DRV_PID[$n]}"))); done
	echo $s
}

fill_pool() {	# 100 puts per transaction
	python3 - "$ETCD_ENDPOINT" "$P" "$M" <<'PY'
import base64, json, sys, urllib.request
ep, p, m = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = lambda s: base64.b64encode(s.encode()).decode()
for s in range(0, m, 100):
    ops = [{"requestPut": {"key": b("%sips/198.%d.%d.%d" % (p, 18 + i // 65536,
            i // 256 % 256, i % 256)), "value": ""}}
           for i in range(s, min(m, s + 100))]
    d = json.dumps({"success": ops}).encode()
    urllib.request.urlopen(urllib.request.Request(ep + "/v3/kv/txn", d)).read()
PY
}

start_etcd scaled
DCS_INTERVAL=1000 DCS_TTL=$TTL DCS_TIMEOUT=${SCALE_TIMEOUT:-2000} \
    dcs_conf "$T/yaim.yml"
fill_pool || fail "cannot fill the pool"
emit meta "${TAG}_config" "dcs-driver x $N, $M IPs, interval 1000, ttl $TTL"

# stop_all: shutdown to every driver at once, then wait (bounded).
stop_all() {
	local n
	for n in $(names); do send "$n" shutdown; done
	for n in $(names); do
		wait_until 20 bash -c "! kill -0 ${DRV_PID[$n]} 2>/dev/null" ||
		    fail "driver $n did not exit after shutdown"
		wait "${DRV_PID[$n]}" 2>/dev/null
	done
}

# mon_start LIMIT NAME...: the monitor, in the background, before what it
# times; mon_wait: its line "balanced T JOIN HELD DROPPED" in $r, and its
# exit code.
mon_start() {
	local limit=$1; shift
	python3 "$TOP/bench/drvmon.py" "$T" "$M" "$limit" "$@" >"$T/mon" &
	MON_PID=$!
	track_pid $MON_PID
	wait_until 10 test -s "$T/mon.ready" || fail "the monitor did not start"
	rm -f "$T/mon.ready"
}
mon_wait() { wait "$MON_PID"; local rc=$?; r=$(cat "$T/mon"); return $rc; }

for ((rep = 1; rep <= REPS; rep++)); do
	for n in $(names); do : >"$T/$n.out"; : >"$T/$n.err"; done
	metrics >"$T/m0" || fail "no etcd metrics"
	mon_start 300 $(names)
	t0=$(mono)
	for n in $(names); do start_driver "$n" -H; done
	mon_wait || fail "cold start $rep: $r"
	set -- $r
	metrics >"$T/m1"
	claims=$(cat "$T"/n*.err | grep -c ' claiming ')
	lost=$(cat "$T"/n*.err | grep -c 'lost the race')
	rel=$(cat "$T"/n*.err | grep -c 'releasing .* (balance')
	txn=$(awk -v a="$(metric "$T/m0" grpc_server_handled_total 'grpc_method="Txn"')" \
	    -v b="$(metric "$T/m1" grpc_server_handled_total 'grpc_method="Txn"')" \
	    'BEGIN { printf "%.0f", b - a }')
	emit dcold "$TAG" "$rep" $(($2 - t0)) $(($2 - $3)) \
	    "$(awk -v c="$claims" -v m="$M" 'BEGIN { printf "%.3f", c / m }')" \
	    "$(awk -v c="$txn" -v m="$M" 'BEGIN { printf "%.3f", c / m }')" \
	    "$rel" "$lost"
	note "cold start $rep: balanced $(($2 - t0)) ms from start, $(($2 - $3)) ms from the last join; $claims claims ($lost lost), $txn txns, $rel releases for $M IPs"
	grep -l FENCING "$T"/n*.err >/dev/null 2>&1 &&
	    note "fencing: $(cat "$T"/n*.err | grep -c FENCING)"
	no_overlap $(names) || fail "cold start $rep: an IP on two drivers"
	# SCALE_KEEP=DIR: keep the logs of the first cold start (by hand)
	if [ "$rep" -eq 1 ] && [ -n "${SCALE_KEEP:-}" ]; then
		mkdir -p "$SCALE_KEEP" && cp "$T"/n*.out "$T"/n*.err "$SCALE_KEEP"/
	fi
	[ "$rep" -eq "$REPS" ] && break
	stop_all
	wait_until 30 marks_is 0 || fail "marks left after shutdown"
done

# steady state
sleep 3
metrics >"$T/s0"
d0=$(drivers_ticks)
t0=$(mono)
sleep "$WINDOW"
metrics >"$T/s1"
d1=$(drivers_ticks)
t1=$(mono)
emit dsteady "$TAG" "$(awk -v a="$(metric "$T/s0" etcd_network_client_grpc_sent_bytes_total)" \
    -v b="$(metric "$T/s1" etcd_network_client_grpc_sent_bytes_total)" \
    -v ms=$((t1 - t0)) 'BEGIN { printf "%.0f", (b - a) / (ms / 1000) }')" \
    "$(awk -v a="$(metric "$T/s0" process_cpu_seconds_total)" \
    -v b="$(metric "$T/s1" process_cpu_seconds_total)" \
    -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", (b - a) * 1000 / (ms / 1000) }')" \
    "$(awk -v d=$((d1 - d0)) -v hz="$HZ" -v ms=$((t1 - t0)) \
    'BEGIN { printf "%.1f", d * 1000 / hz / (ms / 1000) }')"
note "steady state: $(tail -n 1 "$OUT" | cut -f3-) (etcd bytes sent/s, etcd CPU ms/s, drivers' CPU ms/s)"

# crash and join
for ((rep = 1; rep <= REPS; rep++)); do
	k=$(((rep - 1) % N + 1))
	mon_start 120 $(names "$k")
	t0=$(mono)
	kill -KILL "${DRV_PID[n$k]}"
	wait "${DRV_PID[n$k]}" 2>/dev/null
	mon_wait || fail "crash $rep: $r"
	set -- $r
	emit dcrash "$TAG" "$rep" $(($2 - t0))
	note "crash of n$k: the others balanced after $(($2 - t0)) ms (ttl $TTL)"
	eval "exec ${DRV_FD[n$k]}>&-"
	: >"$T/n$k.out"; : >"$T/n$k.err"
	mon_start 120 $(names)
	t0=$(mono)
	start_driver "n$k" -H
	mon_wait || fail "join $rep: $r"
	set -- $r
	emit djoin "$TAG" "$rep" $(($2 - t0)) "$5" $((M / N))
	note "join of n$k: balanced after $(($2 - t0)) ms; $5 IPs moved (at least $((M / N)) must)"
	no_overlap $(names) || fail "join $rep: an IP on two drivers"
	sleep 1
done
stop_all
note done
