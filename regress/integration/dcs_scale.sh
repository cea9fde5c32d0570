#!/usr/bin/env bash
# dcs engine at scale: 3 nodes and 2000 IPs.  All held within a bound,
# balanced 667/667/666, never one IP on two nodes, and an unhealthy
# node's 667 IPs taken over within a bound.  (Claiming everything at
# once, one HTTP request each, used to overrun etcd.)
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/dcs_lib.bash"
need_root
start_etcd scale
# 2000 claims make etcd slow on a loaded 2-core machine: a TTL and request
# timeout with room, since this tests scale, not fencing (dcs_fence does).
DCS_TTL=6000 DCS_TIMEOUT=2000 dcs_conf "$T/yaim.yml"
add_many() {	# 100 puts per txn
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
add_many 0 1999
nodes=(s1 s2 s3)
t0=$(date +%s%N)
for n in "${nodes[@]}"; do start_driver "$n" -H; done
wait_until 40 total_is 2000 "${nodes[@]}" ||
    { dump_logs "${nodes[@]}" | grep -v claim | tail -50; fail "total $(total_held "${nodes[@]}")"; }
log "2000 held in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
counts() { for n; do nheld "$n"; done | sort -r | tr '\n' ' '; }
counts_are() { local w=$1; shift; [ "$(counts "$@")" = "$w" ]; }
wait_until 10 counts_are "667 667 666 " "${nodes[@]}" ||
    fail "balance $(counts "${nodes[@]}")"
grep -q FENCING "$T"/s?.err && fail "fenced under load"
no_overlap "${nodes[@]}" || fail "overlap"
t0=$(date +%s%N)
send s1 unhealthy
wait_until 30 total_is 2000 s2 s3 || fail "take-over: $(total_held s2 s3)"
log "take-over of s1's IPs in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
wait_until 10 counts_are "1000 1000 " s2 s3 || fail "balance $(counts s2 s3)"
no_overlap "${nodes[@]}" || fail "overlap"
[ "$(nmarks)" -eq 2000 ] || fail "$(nmarks) marks"
for n in "${nodes[@]}"; do stop_driver "$n"; done
[ "$(nmarks)" -eq 0 ] || fail "marks left"
log "ok"
