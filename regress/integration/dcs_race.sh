#!/usr/bin/env bash
# dcs engine: three nodes started at once on the same pool race for the
# marks.  Never two marks for one IP, each mark's holder is the one node
# that holds the address, no IP is ever up on two nodes, and the pool
# balances 4/4/4.  Then IPs added to and removed from the pool (with the
# correct pair of deletes) are picked up and released at once.
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/dcs_lib.bash"
need_root
start_etcd race
dcs_conf "$T/yaim.yml"
add_ips 1 12
nodes=(r1 r2 r3)
for n in "${nodes[@]}"; do start_driver "$n"; done
for n in "${nodes[@]}"; do send "$n" healthy; done

# holders_match: every mark names the one driver holding that address.
holders_match() {
	local ip holder n owners
	while read -r ip holder; do
		owners=
		for n in "${nodes[@]}"; do
			held "$n" | grep -qx "$ip" && owners="$owners$n "
		done
		[ "$owners" = "$holder " ] || {
			echo "mark $ip: holder $holder, held by: $owners"
			return 1
		}
	done < <(marks)
}

log "race: 12 IPs over 3 nodes"
wait_until 15 total_is 12 "${nodes[@]}" ||
    { dump_logs "${nodes[@]}"; fail "not all 12 held"; }
wait_until 10 marks_is 12 || fail "$(nmarks) marks, want 12"
sleep 1	# let the balance settle, then check it holds still
counts=$(for n in "${nodes[@]}"; do nheld "$n"; done | sort | tr '\n' ' ')
[ "$counts" = "4 4 4 " ] || { dump_logs "${nodes[@]}"; fail "balance $counts"; }
holders_match || fail "marks and held addresses disagree"
# etcd keeps one key per name, so two marks would mean two keys for one
# IP under different spellings: count the distinct mark keys.
[ "$(etcdctl_ get --prefix --keys-only "${P}ips/" | grep -c '/marked$')" -eq 12 ] ||
    fail "mark count"
no_overlap "${nodes[@]}" || fail "an IP was held twice"

log "IP added to the pool: held by one node within 2 s"
add_ips 100 100
wait_until 2 total_is 13 "${nodes[@]}" || fail "198.18.0.100 not picked up"
holders_match || fail "holders after the add"

log "IP removed from the pool with two exact deletes: released, 198.18.0.10 stays"
holder=$(marks | awk '$1 == "198.18.0.1" { print $2 }')
[ -n "$holder" ] || fail "no holder for 198.18.0.1"
t0=$(date +%s%N)
etcdctl_ del "${P}ips/198.18.0.1" >/dev/null
wait_until 2 out_has "$holder" " dropped 198.18.0.1\$" ||
    fail "198.18.0.1 not dropped by $holder"
wait_until 2 mark_gone 198.18.0.1 ||
    fail "the mark of 198.18.0.1 was not deleted by its holder"
log "released in $(( ($(date +%s%N) - t0) / 1000000 )) ms (etcdctl included)"
etcdctl_ del "${P}ips/198.18.0.1/marked" >/dev/null	# the second delete
[ "$(total_held "${nodes[@]}")" -eq 12 ] || fail "total after removal"
for n in "${nodes[@]}"; do held "$n"; done | grep -qx 198.18.0.10 ||
    fail "198.18.0.10 lost with 198.18.0.1"
sleep 1
counts=$(for n in "${nodes[@]}"; do nheld "$n"; done | sort | tr '\n' ' ')
[ "$counts" = "4 4 4 " ] || fail "balance after the changes: $counts"
holders_match || fail "holders at the end"
no_overlap "${nodes[@]}" || fail "an IP was held twice"
for n in "${nodes[@]}"; do stop_driver "$n"; done
[ "$(nmarks)" -eq 0 ] || fail "marks left after shutdown"
log "ok"
