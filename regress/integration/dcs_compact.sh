#!/usr/bin/env bash
# dcs engine: compaction while watching.  The watch survives a compaction
# to the current revision and still sees changes, without a re-read; a
# broken watch (etcd restarted) makes the engine read again and watch
# again from the new revision.
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/dcs_lib.bash"
need_root
start_etcd compact
DCS_INTERVAL=60000 DCS_TTL=10000 dcs_conf "$T/yaim.yml"
add_ips 1 2
start_driver k1 -H
wait_until 10 held_is k1 2 || { dump_logs k1; fail "k1 did not take all"; }

rev() { etcdctl_ endpoint status -w json | python3 -c '
import json, sys; print(json.load(sys.stdin)[0]["Status"]["header"]["revision"])'; }

log "compact to the current revision, then a change"
etcdctl_ compact "$(rev)" >/dev/null || fail "compact"
add_ips 3 3
wait_until 3 held_is k1 3 || { dump_logs k1; fail "change after compaction not seen"; }
etcdctl_ del "${P}ips/198.18.0.1" >/dev/null
wait_until 3 held_is k1 2 || fail "delete after compaction not seen"

log "a plain compaction does not make the engine read again"
n0=$(grep -c "read [0-9]* keys" "$T/k1.err")
for i in 4 5 6; do add_ips "$i" "$i"; done
etcdctl_ compact "$(rev)" >/dev/null || fail "compact 2"
wait_until 3 held_is k1 5 || fail "changes not seen"
[ "$(grep -c "read [0-9]* keys" "$T/k1.err")" -eq "$n0" ] ||
    fail "a plain compaction made the engine read again"

log "broken stream: etcd restarted; read again, watch again"
mapfile -d '' args < "/proc/$ETCD_PID/cmdline"
kill -TERM "$ETCD_PID"
wait_until 10 bash -c "! kill -0 $ETCD_PID 2>/dev/null" || fail "etcd did not stop"
"${args[@]}" >>"$T/etcd-restart.log" 2>&1 &
ETCD_PID=$!
track_pid "$ETCD_PID"
wait_until 20 etcdctl_ endpoint health || fail "etcd did not restart"
wait_until 10 bash -c "[ \$(grep -c 'read [0-9]* keys' '$T/k1.err') -gt $n0 ]" ||
    { dump_logs k1; fail "no re-read after the broken stream"; }
add_ips 7 7
wait_until 5 held_is k1 6 || { dump_logs k1; fail "change after the restart not seen"; }
[ "$(nmarks)" -eq 6 ] || fail "marks"
stop_driver k1
log "ok"
