#!/usr/bin/env bash
# dcs engine: the watch is checked every interval (DESIGN.md 4.3).  At
# steady state there is no full read; a lost watch event (the test hook
# engine_test_drop_events, through dcs-driver's drop-watch) is found by
# the next check and repaired by a full read within a few intervals.
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/dcs_lib.bash"
need_root
start_etcd watchdrop
DCS_INTERVAL=500 DCS_TTL=10000 dcs_conf "$T/yaim.yml"
add_ips 1 2
start_driver k1 -H
wait_until 10 held_is k1 2 || { dump_logs k1; fail "k1 did not take all"; }
sleep 1
n0=$(grep -c "read [0-9]* keys" "$T/k1.err")
sleep 3
[ "$(grep -c "read [0-9]* keys" "$T/k1.err")" -eq "$n0" ] ||
    fail "full reads at steady state"
grep -q "the watch agrees" "$T/k1.err" || fail "no check of the watch"

log "a lost create is repaired"
send k1 "drop-watch 1"
sleep 0.3
add_ips 3 3
wait_until 4 held_is k1 3 || { dump_logs k1; fail "lost event not repaired"; }
grep -q "missed a change" "$T/k1.err" || fail "mismatch not logged"
stop_driver k1
log "ok"
