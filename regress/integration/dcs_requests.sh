#!/usr/bin/env bash
# dcs engine: etcd requests per node at steady state do not grow with the
# number of IPs (one lease and one keepalive for all marks, one watch, one
# read per interval).  Counted by etcd itself: the sum of its
# grpc_server_started_total counters over a quiet window, 10 IPs against
# 500 IPs.  The ratio must stay below 1.5.
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/dcs_lib.bash"
need_root
need_cmd curl
start_etcd requests
DCS_INTERVAL=2000 DCS_TTL=3000 dcs_conf "$T/yaim.yml"
WINDOW=${WINDOW:-12}

requests() {
	curl -s --max-time 5 "$ETCD_ENDPOINT/metrics" |
	    awk '/^grpc_server_started_total/ { s += $2 } END { print s + 0 }'
}
measure() {	# requests in WINDOW seconds with nothing else talking to etcd
	local a b
	sleep 1
	a=$(requests); sleep "$WINDOW"; b=$(requests)
	echo $((b - a))
}
# add_many FIRST LAST: pool keys in 198.18.X.Y, 100 puts per txn.
add_many() {
	local i batch=()
	for i in $(seq "$1" "$2"); do
		batch+=("put ${P}ips/198.18.$((i / 250)).$((i % 250 + 1)) \"\"")
		if [ ${#batch[@]} -eq 100 ] || [ "$i" -eq "$2" ]; then
			printf '\n%s\n\n\n' "$(printf '%s\n' "${batch[@]}")" |
			    etcdctl_ txn >/dev/null || fail "txn"
			batch=()
		fi
	done
}

add_many 0 9
start_driver q1 -H
wait_until 10 held_is q1 10 || { dump_logs q1; fail "not 10"; }
r10=$(measure)
log "10 IPs: $r10 requests in $WINDOW s"
add_many 10 499
wait_until 30 held_is q1 500 || { dump_logs q1; fail "not 500: $(nheld q1)"; }
r500=$(measure)
log "500 IPs: $r500 requests in $WINDOW s"
[ "$r10" -gt 0 ] || fail "no requests counted at all"
# keepalives every TTL/3 and one read per interval: about 1.5 per second
[ "$r10" -le $((WINDOW * 3)) ] || fail "$r10 requests in $WINDOW s with 10 IPs"
[ $((r500 * 2)) -le $((r10 * 3)) ] ||
    fail "requests grew with the IPs: $r10 -> $r500"
stop_driver q1
log "ok"
