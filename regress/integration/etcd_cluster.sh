#!/usr/bin/env bash
# The dcs etcd client against a 3-member etcd cluster on loopback: the
# member in use is killed mid-run; requests go on on another member and an
# established watch reports a broken stream, then works again elsewhere.
. "$(dirname "$0")/../lib.sh" || exit 1
need_root
need_cmd etcd etcdctl
DRV=$TOOLS/etcd-driver
[ -x "$DRV" ] || fail "missing $DRV"

start_etcd3 --experimental-watch-progress-notify-interval 500ms
E1=http://127.0.0.1:${ETCD3_PORT[m1]}
E2=http://127.0.0.1:${ETCD3_PORT[m2]}
E3=http://127.0.0.1:${ETCD3_PORT[m3]}
EPS=$E1,$E2,$E3
log "cluster up: $EPS"

# progress notifications keep a quiet watch alive (silence bound 3 s,
# progress every 500 ms)
"$DRV" -e "$EPS" --seed 1 --silence 3000 watch /quiet/ 0 -1 prefix \
    >"$T/quiet.out" 2>&1 &
qw=$!
track_pid $qw
wait_until 10 grep -q '^watch created' "$T/quiet.out" || fail "quiet watch"
wait_until 10 sh -c "[ \$(grep -c '^progress rev=' '$T/quiet.out') -ge 6 ]" ||
    { cat "$T/quiet.out"; fail "no progress notifications"; }
grep -q '^watch broken' "$T/quiet.out" && fail "quiet watch broken"
kill "$qw"

# A stopped member: a request failing there moves the client on and
# breaks the watch it holds there at once (not after the silence bound).
"$DRV" -e "$EPS" --seed 2 --timeout 500 --retries 3 --retry-after 100 \
    watch-bg /k/ 0 prefix -- sleep 1000 -- ranges 5 200 /k/ -- sleep 500 \
    >"$T/stop.out" 2>&1 &
ds=$!
track_pid $ds
wait_until 10 grep -q "^watch-bg created rev=[0-9]* endpoint=$E3" "$T/stop.out" ||
    { cat "$T/stop.out"; fail "watch on m3"; }
kill -STOP "${ETCD3_PID[m3]}"
cleanup_add "kill -CONT ${ETCD3_PID[m3]}"
wait_until 20 sh -c "! kill -0 $ds" || fail "driver hangs"
kill -CONT "${ETCD3_PID[m3]}"
log "$(cat "$T/stop.out")"
grep -q "^watch-bg broken: watch broken: etcd $E3: timed out .*client moved to another endpoint" \
    "$T/stop.out" || fail "watch on a stopped member not broken at once"
grep -q '^ranges ok=5 err=0 ' "$T/stop.out" || fail "ranges around a stopped member"
wait_until 20 etcdctl_ endpoint health --cluster || fail "m3 did not recover"

# A watch on m1 (seed 0) and a stream of ranges, then m1 dies.
"$DRV" -e "$EPS" --seed 0 watch /k/ 0 1000 prefix >"$T/watch.out" 2>&1 &
track_pid $!
wait_until 10 grep -q "^watch created rev=[0-9]* endpoint=$E1" "$T/watch.out" ||
    fail "watch on m1"
"$DRV" -e "$EPS" --seed 0 --timeout 1000 --retries 10 --retry-after 200 \
    grant 10 -- ranges 40 100 /k/ -- keepalive -- put /k/after 1 @ -- \
    range /k/ prefix >"$T/ranges.out" 2>&1 &
dr=$!
track_pid $dr
sleep 1		# let some requests run on m1 first
log "killing m1 (pid ${ETCD3_PID[m1]})"
kill -KILL "${ETCD3_PID[m1]}"
wait_until 30 sh -c "! kill -0 $dr" || fail "driver hangs"
cat "$T/ranges.out"
grep -q '^ranges ok=40 err=0 endpoint=http://127.0.0.1:' "$T/ranges.out" ||
    fail "requests failed while m1 died"
grep -q "^ranges ok=40 err=0 endpoint=$E1" "$T/ranges.out" &&
    fail "still on the dead member"
grep -q "^endpoint-changed " "$T/ranges.out" || fail "no endpoint change"
grep -q '^keepalive ok ttl=' "$T/ranges.out" || fail "keepalive after the kill"
grep -q '^kv /k/after 1 ' "$T/ranges.out" || fail "put after the kill"

wait_until 20 grep -q '^watch broken' "$T/watch.out" ||
    { cat "$T/watch.out"; fail "watch on the dead member not broken"; }
log "$(cat "$T/watch.out")"
# the engine then re-reads and watches again: that works on m2/m3
out=$("$DRV" -e "$EPS" --seed 0 --retries 5 watch /k/ 1 1 prefix 2>&1)
log "$out"
echo "$out" | grep -q "^watch created rev=[0-9]* endpoint=http" || fail "re-watch"
echo "$out" | grep -q "^watch created rev=[0-9]* endpoint=$E1" && fail "re-watch on m1"
echo "$out" | grep -q '^event PUT /k/after 1' || fail "re-watch events"

# Quorum lost (m2 dies too): requests fail within their bounds, and the
# error names an endpoint and what failed.
kill -KILL "${ETCD3_PID[m2]}"
t0=$(date +%s%N)
out=$("$DRV" -e "$EPS" --seed 2 --timeout 500 --retries 2 --retry-after 100 \
    grant 5 -- range /k/ prefix 2>&1)
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
log "$out (${dt}ms)"
echo "$out" | grep -Eq '^grant error: etcd http://127.0.0.1:[0-9]+: ' ||
    fail "grant without quorum"
echo "$out" | grep -Eq '^range error: etcd http://127.0.0.1:[0-9]+: ' ||
    fail "range without quorum"
[ "$dt" -lt 8000 ] || fail "requests without quorum took ${dt}ms"
exit 0
