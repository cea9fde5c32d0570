#!/usr/bin/env bash
# Fencing enforced by the parent (DESIGN.md section 5, "The parent
# enforces the deadline"): while dcs renews its lease the parent keeps the
# addresses; with the dcs child stopped (SIGSTOP: frozen, or stopped by a
# compromised process) the parent drops every address itself by dcs's last
# hold deadline, logs it and keeps running; with dcs resumed (SIGCONT) the
# node fences, takes a new lease and holds its addresses again.
. "$(dirname "$0")/../lib.sh" || exit 1
need_root
need_cmd ip python3
setup_user
vip_netns fstop
P=/service/yaim/
TTL=3000
MARGIN=500
{ tcp_node_conf s1; cat <<EOT
ttl: $TTL
fence-margin: $MARGIN
interval: 2000
allowed-networks: [198.18.0.0/24]
EOT
} >"$T/y.yml"
for i in 1 2 3; do etcdctl_ put "${P}ips/198.18.0.$i" x >/dev/null; done

nup() { ip -n "$ns" -4 addr show dev vip0 | grep -c 'inet 198.18.0.[123]/'; }
up_is() { [ "$(nup)" -eq "$1" ]; }
lease_of_node() {
	etcdctl_ get -w json "${P}nodes/s1" | python3 -c '
import json, sys
kvs = json.load(sys.stdin).get("kvs") or [{}]
print("%x" % kvs[0].get("lease", 0))'
}
# no fork: the machine may be loaded
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

ip netns exec "$ns" "$YAIMD" -dvv -f "$T/y.yml" >"$T/yaimd.log" 2>&1 &
Y=$!
track_pid "$Y"
wait_until 15 up_is 3 || { cat "$T/yaimd.log"; fail "addresses not up"; }
lease1=$(lease_of_node)

log "dcs renews: the parent keeps the addresses past several TTLs"
sleep $(( 2 * TTL / 1000 + 1 ))
up_is 3 || { tail -n 40 "$T/yaimd.log"; fail "addresses lost while dcs renews"; }
grep -q "fencing:" "$T/yaimd.log" &&
    { grep "fencing:" "$T/yaimd.log"; fail "the parent fenced a live dcs"; }
grep -q "dcs may hold addresses for" "$T/yaimd.log" ||
    fail "no hold deadline from dcs logged"

# the dcs child: the parent's child whose title is "yaimd: dcs"
dcs=
for c in $(child_pids "$Y"); do
	tr '\0' ' ' <"/proc/$c/cmdline" | grep -q '^yaimd: dcs' && dcs=$c
done
[ -n "$dcs" ] || fail "no dcs child of $Y"

# the exact times the addresses leave the interface
ip netns exec "$ns" ip -ts monitor address >"$T/mon.txt" 2>&1 &
track_pid $!
sleep 0.5
log "SIGSTOP dcs (pid $dcs)"
kill -STOP "$dcs"
cleanup_add "kill -CONT $dcs"
t0=$(now_ms)
# the last hold deadline is at most TTL - margin after the stop
wait_until $(( TTL / 1000 + 3 )) up_is 0 ||
    { kill -CONT "$dcs"; tail -n 40 "$T/yaimd.log"; fail "addresses kept with dcs stopped"; }
gone=$(( $(now_ms) - t0 ))
log "addresses gone $gone ms after the SIGSTOP (TTL $TTL, margin $MARGIN)"
# coarse (seen by polling); the exact check against the deadline follows
[ "$gone" -le $(( TTL + 1000 )) ] ||
    fail "addresses gone only $gone ms after the stop: past the deadline"
# not before the deadline of the last keepalive dcs saw succeed
last=$(grep -o 'keepalive of lease [0-9a-f]* ok, sent_ms=[0-9]*' "$T/yaimd.log" |
    tail -n 1 | sed 's/.*sent_ms=//')
[ -n "$last" ] || fail "no successful keepalive logged"
# its deadline (CLOCK_MONOTONIC, python's time.monotonic) on the wall
# clock of "ip -ts monitor", and when the first and last address left
wait_until 5 test "$(grep -c 'Deleted.*inet 198.18.0.[123]/' "$T/mon.txt")" -eq 3 ||
    fail "ip monitor saw no removal"
read -r first final deadline < <(python3 - "$T/mon.txt" "$last" \
    $((TTL - MARGIN)) <<'EOP'
import datetime, re, sys, time
off = time.time() * 1000 - time.monotonic() * 1000
ts = []
for line in open(sys.argv[1]):
    m = re.match(r'\[(\S+)\] Deleted .*inet 198\.18\.0\.[123]/', line)
    if m:
        ts.append(datetime.datetime.strptime(m.group(1),
            '%Y-%m-%dT%H:%M:%S.%f').timestamp() * 1000)
print(int(min(ts)), int(max(ts)), int(int(sys.argv[2]) + int(sys.argv[3]) + off))
EOP
)
log "addresses left $((first - deadline)) to $((final - deadline)) ms after the deadline"
[ "$first" -ge $((deadline - 5)) ] ||
    fail "an address left $((deadline - first)) ms before the deadline"
[ "$final" -le $((deadline + 500)) ] ||
    fail "the last address left $((final - deadline)) ms after the deadline"
grep -q "fencing: dcs gave no new hold deadline; dropping 3 addresses" \
    "$T/yaimd.log" || { tail -n 20 "$T/yaimd.log"; fail "the parent did not log the fencing"; }
kill -0 "$Y" 2>/dev/null || fail "the parent exited"
[ "$(proc_status "$dcs" State)" = T ] || fail "dcs is not stopped"
sleep 1
up_is 0 || fail "addresses came back while dcs is stopped"

log "SIGCONT dcs: the node fences, takes a new lease and its addresses"
kill -CONT "$dcs"
wait_until 20 up_is 3 || { tail -n 40 "$T/yaimd.log"; fail "addresses not back"; }
lease2=$(lease_of_node)
[ "$lease2" != 0 ] && [ "$lease2" != "$lease1" ] || fail "no new lease ($lease1, $lease2)"
child_pids "$Y" | tr ' ' '\n' | grep -qx "$dcs" ||
    fail "the same dcs child does not run any more"
n=$(grep -c "fencing: dcs gave no new hold deadline" "$T/yaimd.log")
[ "$n" -eq 1 ] || fail "the parent fenced $n times"
# dcs read the fence (IMSG_FENCED) and the parent put nothing back itself
grep -q "the parent fenced (1): every address is down" "$T/yaimd.log" ||
    fail "dcs did not hear of the parent's fence"
if grep -E "198.18.0.[123] on vip0 (was removed|vanished)" "$T/yaimd.log"; then
	fail "the parent took its own fence for someone else's removal"
fi

log "SIGTERM: addresses removed, clean exit"
kill -TERM "$Y"
wait_until 10 bash -c "! kill -0 $Y 2>/dev/null" || fail "yaimd did not exit"
wait "$Y"; rc=$?
[ "$rc" -eq 0 ] || { tail -n 20 "$T/yaimd.log"; fail "yaimd exited $rc"; }
up_is 0 || fail "addresses left"
log "ok"
