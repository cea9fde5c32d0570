#!/usr/bin/env bash
# notify-command against a real yaimd, etcd and namespace: the hook runs
# as the exec user with the event and the address appended; under a flap
# (drain/undrain several times, with a hook slower than the flap) every
# address's log shows take and release alternating, each hook ending
# before the next of that address starts; healthy/unhealthy on health
# changes; a hook past notify-timeout is killed with its process group;
# a queue overflow (300 events for a queue of 256) is logged and counted,
# and the queue drains afterwards; the counters (yaimctl metrics) agree.
. "$(dirname "$0")/../lib.sh" || exit 1
need_root
need_cmd ip python3
setup_user
YAIMCTL=${YAIMCTL:-$BUILD/yaimctl}
[ -x "$YAIMCTL" ] || skip "$YAIMCTL not built"
XU=$YAIM_USER-exec
vip_netns nhook
P=/service/yaim/
make_exec_dir
D=$EXEC_DIR
mkdir -p "$D/out"
chown "$XU" "$D/out"
echo 0.2 >"$D/sleep"
# The hook: one line as it begins, one as it ends, then the pid of the
# sleeper it left behind (a grandchild in its process group).
cat >"$D/hook.sh" <<'EOT'
#!/bin/sh
d=$(dirname "$0")
echo "begin $2 $3 $$ $(id -un)" >>"$d/out/log"
s=$(cat "$d/sleep")
sleep "$s" &
echo "$!" >"$d/out/sleeper.$$"
wait
echo "end $2 $3 $$" >>"$d/out/log"
EOT
chmod 0755 "$D/hook.sh"
S=$D/yaimd.sock
{ tcp_node_conf h1; cat <<EOT
ttl: 3000
interval: 1000
allowed-networks: [198.18.0.0/23]
control-socket: $S
notify-command: [ '$D/hook.sh', 'yaimd' ]
notify-timeout: 1500
EOT
} >"$T/y.yml"
for i in 1 2 3 4; do etcdctl_ put "${P}ips/198.18.0.$i" "" >/dev/null; done
ctl() { "$YAIMCTL" -s "$S" "$@"; }
nup() { ip -n "$ns" -4 addr show dev vip0 | grep -c 'inet 198.18.[01].[0-9]*/32'; }
up_is() { [ "$(nup)" -eq "$1" ]; }
L=$D/out/log
nlines() { grep -c "$1" "$L" 2>/dev/null || true; }
count_is() { [ "$(nlines "$1")" -eq "$2" ]; }

ip netns exec "$ns" "$YAIMD" -dv -f "$T/y.yml" >"$T/yaimd.log" 2>&1 &
Y=$!
track_pid "$Y"
wait_until 15 up_is 4 || { cat "$T/yaimd.log"; fail "addresses not up"; }
wait_until 10 count_is '^end take ' 4 || { cat "$L"; fail "no take hooks"; }
grep -q "^begin healthy  [0-9]* $XU\$" "$L" || { cat "$L"; fail "no healthy hook as $XU"; }
grep -q "^begin take 198.18.0.1 [0-9]* $XU\$" "$L" || { cat "$L"; fail "take 198.18.0.1"; }

log "flap: 5 x drain/undrain, with a hook slower than the moves"
for i in 1 2 3 4 5; do
	ctl drain >/dev/null || fail "drain"
	up_is 0 || fail "drain left addresses"
	ctl undrain >/dev/null || fail "undrain"
	wait_until 10 up_is 4 || fail "undrain: addresses not back"
done
# 1 + 5 takes and 5 releases per address; the hooks catch up later
wait_until 30 count_is '^end take ' 24 || { cat "$L"; fail "takes missing"; }
wait_until 30 count_is '^end release ' 20 || { cat "$L"; fail "releases missing"; }
python3 - "$L" <<'EOT' || fail "hook order"
import sys
seq, running = {}, {}
for line in open(sys.argv[1]):
    f = line.split()
    what, ev = f[0], f[1]
    if ev not in ("take", "release"):
        continue
    ip = f[2]
    if what == "begin":
        if running.get(ip):
            sys.exit("two hooks at once for %s: %s" % (ip, line.strip()))
        running[ip] = ev
        seq.setdefault(ip, []).append(ev)
    else:
        if running.get(ip) != ev:
            sys.exit("end without begin for %s: %s" % (ip, line.strip()))
        running[ip] = None
for ip, s in sorted(seq.items()):
    want = ["take", "release"] * 5 + ["take"]
    if s != want:
        sys.exit("%s: %s" % (ip, " ".join(s)))
    print(ip, " ".join(s))
EOT
grep -q 'queue full' "$T/yaimd.log" && fail "overflow during the flap"

log "unhealthy and healthy again"
unh=$(nlines '^end unhealthy ') hea=$(nlines '^end healthy ')
kill "$LPID"
wait_until 10 count_is '^end unhealthy ' $((unh + 1)) || { cat "$L"; fail "no unhealthy hook"; }
wait_until 10 count_is '^end release ' 24 || fail "no release when unhealthy"
ip netns exec "$ns" python3 "$TOP/regress/tools/tcplisten.py" "$T/port2" \
    --bind 127.0.0.1 &
track_pid $!
wait_until 5 test -s "$T/port2" || fail "tcp listener 2"
sed -i "s/^tcp-port: .*/tcp-port: $(cat "$T/port2")/" "$T/y.yml"
kill -HUP "$Y"
wait_until 15 up_is 4 || fail "addresses not back"
wait_until 10 count_is '^end healthy ' $((hea + 1)) || { cat "$L"; fail "no second healthy hook"; }
wait_until 10 count_is '^end take ' 28 || fail "takes after recovery"

log "a hook past notify-timeout is killed, with its process group"
echo 30 >"$D/sleep"
ctl drain >/dev/null || fail "drain"
wait_until 10 count_is '^begin release ' 28 || { cat "$L"; fail "no slow hooks"; }
t0=$(date +%s)
wait_until 10 bash -c "[ \$(grep -c 'notify release 198.18.0.[0-9]*: killed at notify-timeout after 1[45][0-9][0-9] ms' '$T/yaimd.log') -ge 4 ]" ||
    { grep notify "$T/yaimd.log" | tail -n 20; tail -n 8 "$L"; fail "no timeout logged"; }
[ $(( $(date +%s) - t0 )) -le 4 ] || fail "timeout took too long"
for pid in $(grep '^begin release' "$L" | tail -n 4 | awk '{print $4}'); do
	sp=$(cat "$D/out/sleeper.$pid")
	wait_until 3 bash -c "! kill -0 $pid 2>/dev/null && ! kill -0 $sp 2>/dev/null" ||
	    fail "hook $pid or its sleeper $sp outlived the timeout"
done
count_is '^end release ' 24 || fail "a killed hook ended normally"

log "overflow: 150 addresses, a slow hook, 300 events for a queue of 256"
echo 0 >"$D/sleep"
ctl undrain >/dev/null
for i in $(seq 1 146); do etcdctl_ put "${P}ips/198.18.1.$i" "" >/dev/null; done
wait_until 30 up_is 150 || { echo "up: $(nup)"; fail "150 addresses not up"; }
wait_until 60 count_is '^end take ' 178 || { echo "$(nlines '^end take ')"; fail "150 takes"; }
echo 1 >"$D/sleep"
ctl drain >/dev/null || fail "drain 150"
ctl undrain >/dev/null || fail "undrain 150"
wait_until 20 grep -q 'notify: queue full (256 events waiting); dropped' "$T/yaimd.log" ||
    { tail -n 20 "$T/yaimd.log"; fail "no overflow logged"; }
[ "$(grep -c 'notify: queue full' "$T/yaimd.log")" -le 2 ] || fail "overflow log not rate-limited"
echo 0 >"$D/sleep"
# drained: as many hooks ended as began, and no new one for 2 s
settled() {
	local a b
	a=$(wc -l <"$L"); sleep 2; b=$(wc -l <"$L")
	[ "$a" -eq "$b" ] && [ "$(nlines '^begin ')" -eq $(( $(nlines '^end ') + 4 )) ]
}
wait_until 60 settled || { echo "begin $(nlines "^begin ") end $(nlines "^end ")"; grep "notify" "$T/yaimd.log" | tail -5; fail "the queue does not drain"; }
log "the counters: overflow and timeouts, through yaimctl metrics"
ctl metrics >"$T/metrics" || fail "yaimctl metrics"
dropped=$(awk '$1 == "yaim_notify_dropped_total" { print $2 }' "$T/metrics")
[ "${dropped:-0}" -gt 0 ] || { grep notify "$T/metrics"; fail "overflow not counted"; }
timeouts=$(awk '$1 == "yaim_notify_timeouts_total" { print $2 }' "$T/metrics")
[ "${timeouts:-0}" -ge 4 ] || fail "timeouts not counted ($timeouts)"
fails=$(awk '$1 == "yaim_notify_failures_total{event=\"release\"}" { print $2 }' "$T/metrics")
[ "${fails:-0}" -ge 4 ] || fail "failures not counted ($fails)"
grep -qx 'yaim_notify_queued 0' "$T/metrics" || fail "queue not empty"
kill -TERM "$Y"
wait_until 10 bash -c "! kill -0 $Y 2>/dev/null" || fail "yaimd did not exit"
log "ok"
