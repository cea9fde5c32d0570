#!/usr/bin/env bash
# dcs engine under valgrind: join, leave (unhealthy), rejoin, reload, a
# bad key, a pool removal and shutdown, with no memory error and no
# definite leak.
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/dcs_lib.bash"
need_root
need_cmd valgrind
[ -z "${SANITIZE:-}" ] || skip "valgrind does not mix with sanitizers"
start_etcd vg
dcs_conf "$T/yaim.yml"
add_ips 1 4
DRV_WRAP="valgrind --leak-check=full --error-exitcode=9 --errors-for-leak-kinds=definite --track-fds=no"
start_driver v1 -H
wait_until 60 held_is v1 4 || { dump_logs v1; fail "not 4"; }
send v1 unhealthy
wait_until 10 held_is v1 0 || fail "unhealthy"
send v1 healthy
wait_until 10 held_is v1 4 || fail "healthy again"
send v1 reload
wait_until 10 err_has v1 "reconfigured" || fail "reload"
etcdctl_ put "${P}ips/bad" x >/dev/null
etcdctl_ del "${P}ips/198.18.0.1" >/dev/null
wait_until 10 held_is v1 3 || fail "pool removal"
send v1 shutdown
wait_until 30 bash -c "! kill -0 ${DRV_PID[v1]} 2>/dev/null" || fail "no exit"
wait "${DRV_PID[v1]}"
rc=$?
grep -E "ERROR SUMMARY|definitely lost" "$T/v1.err"
[ "$rc" -eq 0 ] || { dump_logs v1; fail "valgrind/driver exit $rc"; }
grep -q "ERROR SUMMARY: 0 errors" "$T/v1.err" || fail "valgrind errors"
out_has v1 released || fail "no released line"
log "ok"
