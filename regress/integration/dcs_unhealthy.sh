#!/usr/bin/env bash
# dcs engine: an unhealthy node releases everything at once (addresses
# down and marks gone within 100 ms, measured on the drivers' monotonic
# clocks: the peer's take-over proves the marks were gone), rejoins with
# a new lease when healthy again; link down counts as unhealthy; an IP
# the parent refuses is released and never claimed again.
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/dcs_lib.bash"
need_root
BOUND=${DCS_RELEASE_BOUND_MS:-100}	# the design's bound; raise only for slow builds
start_etcd unhealthy
dcs_conf "$T/yaim.yml"
add_ips 1 6
start_driver u1 -H
wait_until 10 held_is u1 6 || { dump_logs u1; fail "u1 did not take all"; }
start_driver u2 -H
wait_until 10 held_is u2 3 || { dump_logs u1 u2; fail "u2 did not get 3"; }
wait_until 5 held_is u1 3 || fail "u1 did not go down to 3"
lease1=$(lease_of "${P}nodes/u1")

# cmd_ms NAME WORD: time of the last "cmd WORD" line.
cmd_ms() { awk -v w="$2" '$2 == "cmd" && $3 == w { t = $1 } END { print t }' "$T/$1.out"; }

check_release() {	# check_release WHAT T0 IPS...
	local what=$1 t0=$2 ip t; shift 2
	for ip; do
		t=$(awk -v ip="$ip" -v t0="$t0" '$2 == "dropped" && $3 == ip &&
		    $1 >= t0 { print $1; exit }' "$T/u1.out")
		[ -n "$t" ] || fail "$what: u1 did not drop $ip"
		[ $((t - t0)) -le "$BOUND" ] || fail "$what: $ip dropped after $((t - t0)) ms"
		t=$(awk -v ip="$ip" -v t0="$t0" '$2 == "held" && $3 == ip &&
		    $1 >= t0 { print $1; exit }' "$T/u2.out")
		[ -n "$t" ] || fail "$what: u2 did not take $ip"
		[ $((t - t0)) -le "$BOUND" ] ||
		    fail "$what: $ip taken by u2 after $((t - t0)) ms (mark gone late)"
		log "$what: $ip taken over by u2 $((t - t0)) ms after the command"
	done
}

log "u1 unhealthy: everything released at once"
mine=$(held u1)
send u1 unhealthy
wait_until 5 held_is u2 6 || { dump_logs u1 u2; fail "u2 did not take over"; }
check_release unhealthy "$(cmd_ms u1 unhealthy)" $mine
[ "$(nheld u1)" -eq 0 ] || fail "u1 still holds addresses"
[ -z "$(etcdctl_ get "${P}nodes/u1")" ] || fail "u1's node key left"
etcdctl_ lease list | grep -q "$lease1" && fail "u1's lease not revoked"
no_overlap u1 u2 || fail "overlap"

log "u1 healthy again: new lease, takes its share back"
send u1 healthy
wait_until 10 held_is u1 3 || { dump_logs u1 u2; fail "u1 did not rejoin"; }
wait_until 5 held_is u2 3 || fail "u2 did not release to u1"
lease2=$(lease_of "${P}nodes/u1")
[ -n "$lease2" ] && [ "$lease2" != "$lease1" ] || fail "no new lease ($lease2)"
no_overlap u1 u2 || fail "overlap"

log "u1 link down: counts as unhealthy"
mine=$(held u1)
send u1 link down
wait_until 5 held_is u2 6 || fail "u2 did not take over on link down"
check_release "link down" "$(cmd_ms u1 link)" $mine
send u1 link up
wait_until 10 held_is u1 3 || fail "u1 did not rejoin after link up"
no_overlap u1 u2 || fail "overlap"

log "refusal: the parent refuses an IP; released, never claimed again"
stop_driver u2
wait_until 5 held_is u1 6 || fail "u1 did not take all"
send u1 refuse 198.18.0.99
wait_until 5 out_has u1 " will-refuse 198.18.0.99$" || fail "refuse not taken"
add_ips 99 99
wait_until 5 out_has u1 " refused 198.18.0.99$" || fail "no refusal"
wait_until 5 mark_gone 198.18.0.99 || fail "mark of a refused IP kept"
err_has u1 "refused 198.18.0.99.*never claiming it again" || fail "refusal log"
sleep 1.5	# a full re-read or two: still not claimed
[ "$(grep -c "claiming 198.18.0.99$" "$T/u1.err")" -eq 1 ] ||
    fail "refused IP claimed again"
mark_gone 198.18.0.99 || fail "refused IP marked again"
[ "$(nheld u1)" -eq 6 ] || fail "u1 holds $(nheld u1)"
stop_driver u1
[ "$(nmarks)" -eq 0 ] || fail "marks left"
log "ok"
