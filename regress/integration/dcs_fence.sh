#!/usr/bin/env bash
# dcs engine, fencing (DESIGN.md section 5): with etcd stopped (SIGSTOP)
# the node drops every address before TTL has passed since it sent its
# last successful keepalive (by at least the margin), and with etcd back
# (SIGCONT) it rejoins with a new lease and takes its IPs again.
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/dcs_lib.bash"
need_root
start_etcd fence
DCS_TTL=3000 DCS_MARGIN=500 DCS_TIMEOUT=300 dcs_conf "$T/yaim.yml"
add_ips 1 3
start_driver f1 -H
wait_until 10 held_is f1 3 || { dump_logs f1; fail "f1 did not take all"; }
lease1=$(lease_of "${P}nodes/f1")
sleep 1.5	# a keepalive or two

log "etcd stopped"
kill -STOP "$ETCD_PID"
cleanup_add "kill -CONT $ETCD_PID"
wait_until 8 held_is f1 0 || { kill -CONT "$ETCD_PID"; dump_logs f1; fail "no fencing"; }
err_has f1 "FENCING" || fail "fencing not logged"
drop=$(awk '$2 == "dropped" { t = $1 } END { print t }' "$T/f1.out")
last=$(grep -o 'keepalive of lease [0-9a-f]* ok, sent_ms=[0-9]*' "$T/f1.err" |
    tail -n 1 | sed 's/.*sent_ms=//')
[ -n "$last" ] || fail "no successful keepalive logged"
after=$((drop - last))
log "dropped $after ms after the last good keepalive was sent (TTL 3000, margin 500)"
[ "$after" -lt 3000 ] || fail "dropped $after ms after the last keepalive: too late"
[ "$after" -ge 2400 ] || fail "dropped after only $after ms: fencing too early"

log "etcd resumed: rejoin with a new lease"
kill -CONT "$ETCD_PID"
wait_until 15 held_is f1 3 || { dump_logs f1; fail "f1 did not rejoin"; }
lease2=$(lease_of "${P}nodes/f1")
[ -n "$lease2" ] && [ "$lease2" != "$lease1" ] || fail "no new lease"
for ip in 198.18.0.1 198.18.0.2 198.18.0.3; do
	[ "$(lease_of "${P}ips/$ip/marked")" = "$lease2" ] ||
	    fail "mark of $ip not on the new lease"
done
etcdctl_ lease list | grep -q "$lease1" && fail "old lease $lease1 still there"
stop_driver f1
log "ok"
