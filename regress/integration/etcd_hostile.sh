#!/usr/bin/env bash
# A hostile etcd gateway (DESIGN.md section 11): a 60 MiB range reply, a
# reply of millions of tiny values, a watch message that never ends and
# one of millions of tiny values.
# dcs refuses each with an error that says which bound it hit, stays well
# within its RLIMIT_DATA (its peak RSS is measured), and keeps running;
# or, if it dies, the parent exits non-zero.  The gateway is
# regress/tools/hostile_etcd.py, on 127.0.0.1 inside our namespace.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip python3
setup_user

ns=$(netns_add hostile)
ip -n "$ns" link add vip0 type veth peer name vip1 || fail "veth pair"
ip -n "$ns" link set vip0 up
ip -n "$ns" link set vip1 up
ip -n "$ns" addr add 198.18.9.1/24 dev vip0
ip netns exec "$ns" python3 "$TOP/regress/tools/tcplisten.py" "$T/tcp.port" \
    >/dev/null 2>&1 &
track_pid $!
wait_until 30 test -s "$T/tcp.port" || fail "tcplisten did not start"

# peak RSS allowed: far below PRIVSEP_DATA_DCS (384 MiB), and far below
# what cJSON made of these replies before the bounds (1.4 to 2.5 GB)
LIMIT_KB=$((160 * 1024))
# ASan's shadow memory and quarantine double it (313 MB seen): the bound
# then only says the replies were refused, not how lean that was
[ -z "${SANITIZE:-}" ] || LIMIT_KB=$((LIMIT_KB * 3))

run_mode() {	# run_mode MODE EXPECTED-LOG-TEXT
	local mode=$1 want=$2 dcs hwm
	rm -f "$T/etcd.port"
	ip netns exec "$ns" python3 "$TOP/regress/tools/hostile_etcd.py" \
	    "$T/etcd.port" "$mode" 60 2>"$T/$mode.etcd" &
	EPID=$!
	track_pid "$EPID"
	wait_until 30 test -s "$T/etcd.port" || fail "$mode: gateway did not start"
	cat >"$T/$mode.yml" <<CFG
dcs-clustername: hostile
dcs-endpoints: [ "http://127.0.0.1:$(cat "$T/etcd.port")" ]
interface: vip0
nodename: hostilenode
interval: 500
ttl: 5000
retry_after: 100
etcd-timeout: 10000
checker-type: tcp
tcp-host: 127.0.0.1
tcp-port: $(cat "$T/tcp.port")
CFG
	ip netns exec "$ns" "$YAIMD" -d -f "$T/$mode.yml" >"$T/$mode.log" 2>&1 &
	YPID=$!
	track_pid "$YPID"
	wait_until 40 grep -qF "$want" "$T/$mode.log" ||
	    { tail -20 "$T/$mode.log"; tail -5 "$T/$mode.etcd"; fail "$mode: no '$want' in the log"; }
	# let it retry a few times
	sleep 3
	if kill -0 "$YPID" 2>/dev/null; then
		dcs=$(for c in $(child_pids "$YPID"); do
		    tr '\0' ' ' <"/proc/$c/cmdline" | grep -q '^yaimd: dcs' && echo "$c"; done)
		[ -n "$dcs" ] || fail "$mode: no dcs child"
		hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$dcs/status")
		log "$mode: dcs alive, peak RSS ${hwm} kB"
		[ "$hwm" -lt "$LIMIT_KB" ] || fail "$mode: dcs peak RSS $hwm kB"
		kill -TERM "$YPID"
		wait_until 10 bash -c "! kill -0 $YPID 2>/dev/null" || fail "$mode: no exit"
	else
		# died: it must have said so and exited non-zero
		wait "$YPID"; rc=$?
		[ "$rc" -ne 0 ] || fail "$mode: exited 0 after dcs died"
		grep -q "dcs child .* removing all addresses and exiting" "$T/$mode.log" ||
		    fail "$mode: parent did not report the dead dcs"
		log "$mode: dcs died cleanly, parent exited $rc"
	fi
	kill "$EPID" 2>/dev/null
	wait "$EPID" 2>/dev/null
}

run_mode huge-range "reply longer than 16777216 bytes"
run_mode dense-range "reply: has more than 1048576 JSON values"
run_mode endless-watch "watch stream: object longer than the limit"
run_mode dense-watch "has more than 1048576 JSON values"
echo "etcd_hostile: ok"
