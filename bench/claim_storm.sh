#!/usr/bin/env bash
# Claim load against etcd keepalives: N dcs-drivers (the real dcs engine,
# no privsep) cold-start on M pool IPs with a short TTL, optionally while
# HOGS busy loops compete for the CPU.  Prints, per repetition, the time
# until every IP is held and how many times a node fenced (a keepalive
# answered after TTL - margin).  Not part of "make bench": run it by hand.
#
#	BUILD=build-x bash bench/claim_storm.sh
#	STORM_N=10 STORM_M=1000 STORM_TTL=2000 STORM_HOGS=2 STORM_REPS=3
#
# Loopback only; the hogs are bounded by timeout and killed by PID.
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
. "$TOP/regress/lib.sh" || exit 1
. "$TOP/regress/integration/dcs_lib.bash"
N=${STORM_N:-10} M=${STORM_M:-1000} TTL=${STORM_TTL:-2000}
HOGS=${STORM_HOGS:-2} REPS=${STORM_REPS:-3} LIMIT=${STORM_LIMIT:-120}

fill_pool() {
	python3 - "$ETCD_ENDPOINT" "$P" "$M" <<'PY'
import base64, json, sys, urllib.request
ep, p, m = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(m):
    k = "%sips/198.%d.%d.%d" % (p, 18 + i // 65536, i // 256 % 256, i % 256)
    d = json.dumps({"key": base64.b64encode(k.encode()).decode(),
                    "value": ""}).encode()
    urllib.request.urlopen(urllib.request.Request(ep + "/v3/kv/put", d)).read()
PY
}

one_rep() {
	local r=$1 i t0 dt names= hogs=()
	start_etcd "storm$r"
	DCS_TTL=$TTL DCS_INTERVAL=1000 DCS_TIMEOUT=1000 dcs_conf "$T/yaim.yml"
	fill_pool || fail "cannot fill the pool"
	for ((i = 0; i < HOGS; i++)); do
		timeout "$LIMIT" sh -c 'while :; do :; done' &
		hogs+=($!)
		track_pid $!
	done
	t0=$(date +%s%3N)
	for ((i = 1; i <= N; i++)); do
		start_driver "r${r}n$i" -H
		names="$names r${r}n$i"
	done
	if wait_until "$LIMIT" total_is "$M" $names; then
		dt=$(($(date +%s%3N) - t0))
	else
		dt="over-${LIMIT}000"
	fi
	kill "${hogs[@]}" 2>/dev/null
	echo "rep $r: all $M held after $dt ms; fencing events: $(cat "$T"/r"${r}"n*.err | grep -c FENCING)"
	for i in $names; do stop_driver "$i"; done
	kill "$ETCD_PID" 2>/dev/null
	wait "$ETCD_PID" 2>/dev/null
}

echo "claim storm: $N nodes, $M IPs, ttl $TTL ms, $HOGS CPU hogs, $REPS reps"
for ((r = 1; r <= REPS; r++)); do
	one_rep "$r"
done
