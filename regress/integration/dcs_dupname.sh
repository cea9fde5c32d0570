#!/usr/bin/env bash
# dcs engine, node identity: a second yaimd with the same node name
# refuses with a clear error and holds nothing, and joins only once the
# first one's key is gone; a node restarted right after a crash (kill -9)
# does not take its earlier incarnation's marks as its own and waits for
# them to expire.
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/dcs_lib.bash"
need_root
start_etcd dupname
DCS_TTL=3000 dcs_conf "$T/yaim.yml"
add_ips 1 4

log "two drivers named d: the second refuses"
NODE=d start_driver first -H
wait_until 10 held_is first 4 || { dump_logs first; fail "first did not take all"; }
lease1=$(lease_of "${P}nodes/d")
NODE=d start_driver second -H
wait_until 10 err_has second "DUPLICATE NODE NAME: ${P}nodes/d already exists on lease $lease1" ||
    { dump_logs second; fail "no duplicate error"; }
sleep 1.5
[ "$(nheld second)" -eq 0 ] || fail "the duplicate holds addresses"
[ "$(lease_of "${P}nodes/d")" = "$lease1" ] || fail "node key stolen"
for ip in 198.18.0.1 198.18.0.2 198.18.0.3 198.18.0.4; do
	[ "$(lease_of "${P}ips/$ip/marked")" = "$lease1" ] ||
	    fail "mark of $ip moved off the first node's lease"
done

log "the first leaves: the second joins on the DELETE and takes over"
stop_driver first
wait_until 5 held_is second 4 || { dump_logs second; fail "second did not take over"; }
lease2=$(lease_of "${P}nodes/d")
[ -n "$lease2" ] && [ "$lease2" != "$lease1" ] || fail "second's lease"
no_overlap first second || fail "overlap"
stop_driver second

log "crash and immediate restart: the old marks are not ours"
start_driver c -H
wait_until 10 held_is c 4 || fail "c did not take all"
old=$(lease_of "${P}nodes/c")
kill -KILL "${DRV_PID[c]}"
wait "${DRV_PID[c]}" 2>/dev/null
mv "$T/c.out" "$T/c-dead.out"; mv "$T/c.err" "$T/c-dead.err"
t0=$(awk 'END { print $1 }' "$T/c-dead.out")
start_driver c -H
wait_until 15 held_is c 4 || { dump_logs c; fail "restarted c did not take all"; }
err_has c "DUPLICATE NODE NAME: ${P}nodes/c already exists on lease $old" ||
    fail "the restart did not see its earlier lease"
err_has c "adopting" && fail "the restart adopted marks of the dead lease"
new=$(lease_of "${P}nodes/c")
[ "$new" != "$old" ] || fail "same lease"
for ip in 198.18.0.1 198.18.0.2 198.18.0.3 198.18.0.4; do
	[ "$(lease_of "${P}ips/$ip/marked")" = "$new" ] ||
	    fail "mark of $ip not on the new lease"
done
# it held nothing until the dead lease expired (about TTL after its last
# keepalive, at least 2 s after the kill)
first=$(awk '$2 == "held" { print $1; exit }' "$T/c.out")
log "first address up again $((first - t0)) ms after the dead node's last line"
[ $((first - t0)) -ge 1500 ] || fail "took an address $((first - t0)) ms after the crash"
stop_driver c
log "ok"
