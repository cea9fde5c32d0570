#!/usr/bin/env bash
# metrics-listen against two real yaimd nodes and etcd in a namespace:
# GET /metrics with curl parses under a strict parser (promparse.py:
# names, HELP/TYPE before samples, counters in _total, histograms),
# shows the node (healthy, in the cluster, held, pool, lease TTL); the
# listener answers 405/404/400/431 and survives idle and excess clients;
# yaimctl metrics prints the same metric names; a failover (node m1
# stopped) moves m2's takes, claims, held, etcd and notify counters.
. "$(dirname "$0")/../lib.sh" || exit 1
need_root
need_cmd ip python3 curl
setup_user
# m2 has users of its own: a parent's sweep of its exec user kills every
# process of that uid (DESIGN.md section 11), so m1's sweeps while it runs
# its release hooks at exit would kill m2's take hooks
U2=${YAIM_USER}m2
sh "$TOP/regress/setup-user.sh" "$U2" "$YAIM_CHROOT" || fail "setup-user.sh $U2"
YAIMCTL=${YAIMCTL:-$BUILD/yaimctl}
[ -x "$YAIMCTL" ] || skip "$YAIMCTL not built"
vip_netns metr
P=/service/yaim/
PARSE=$TOP/regress/tools/promparse.py
make_exec_dir
D=$EXEC_DIR
printf '#!/bin/sh\nexit 0\n' >"$D/hook.sh"
chmod 0755 "$D/hook.sh"
declare -A MPORT
conf() {	# conf NODE IFACE USER
	MPORT[$1]=$(ip netns exec "$ns" python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	{ tcp_node_conf "$1" "$2"; cat <<EOT
user: $3
ttl: 3000
interval: 1000
peers: no
allowed-networks: [198.18.0.0/24]
control-socket: $D/$1.sock
metrics-listen: 127.0.0.1:${MPORT[$1]}
notify-command: [ '$D/hook.sh' ]
EOT
	} >"$T/$1.yml"
}
conf m1 vip0 "$YAIM_USER"
conf m2 vip1 "$U2"
for i in 1 2 3 4; do etcdctl_ put "${P}ips/198.18.0.$i" "" >/dev/null; done
nup() { ip -n "$ns" -4 addr show dev "$1" | grep -c 'inet 198.18.0.[1-4]/32'; }
total_is() { [ $(( $(nup vip0) + $(nup vip1) )) -eq "$1" ]; }
scrape() {	# scrape NODE OUT: GET /metrics, parsed
	ip netns exec "$ns" curl -sS -m 5 -o "$2.raw" -D "$2.hdr" \
	    "http://127.0.0.1:${MPORT[$1]}/metrics" || return 1
	python3 "$PARSE" "$2.raw" >"$2"
}
# metric FILE SERIES: the value of one series (name{labels}) or nothing
metric() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
start() {
	ip netns exec "$ns" "$YAIMD" -dv -f "$T/$1.yml" >"$T/$1.log" 2>&1 &
	eval "Y_$1=$!"
	track_pid $!
}
start m1
wait_until 15 total_is 4 || { cat "$T/m1.log"; fail "m1 did not take the pool"; }
start m2
wait_until 20 bash -c "[ \$(ip -n $ns -4 addr show dev vip1 | grep -c 'inet 198.18.0') -eq 2 ]" ||
    { tail -n 20 "$T/m2.log"; fail "m2 did not take its share"; }
wait_until 10 total_is 4 || fail "not 4 addresses held in all"

log "GET /metrics: parses strictly and shows the node"
# settled: the parent's counters reach dcs within 200 ms of a change
settled() {
	scrape m1 "$T/m1.a" &&
	grep -qxF 'yaim_notify_command_configured{} 1' "$T/m1.a" &&
	[ "$(metric "$T/m1.a" 'yaim_notify_runs_total{event="release"}')" -ge 2 ] &&
	[ "$(metric "$T/m1.a" 'yaim_etcd_requests_total{kind="keepalive"}')" -gt 0 ]
}
wait_until 5 settled || { cat "$T/m1.a.raw"; fail "m1's metrics do not parse or settle"; }
grep -qi '^Content-Type: text/plain; version=0.0.4' "$T/m1.a.hdr" || fail "content type"
for s in 'yaim_healthy{} 1' 'yaim_in_cluster{} 1' 'yaim_pool_addresses{} 4' \
    'yaim_address_takes_total{} 4' 'yaim_address_releases_total{} 2' \
    'yaim_addresses_held{} 2' 'yaim_health_transitions_total{} 1'; do
	grep -qxF "$s" "$T/m1.a" || { cat "$T/m1.a"; fail "no '$s'"; }
done
[ "$(metric "$T/m1.a" 'yaim_addresses_held{}')" = "$(nup vip0)" ] || fail "held"
ttl=$(metric "$T/m1.a" 'yaim_lease_ttl_remaining_seconds{}')
python3 -c "import sys; sys.exit(0 if 0 < $ttl <= 3 else 1)" || fail "ttl $ttl"
for k in range txn grant keepalive; do
	v=$(metric "$T/m1.a" "yaim_etcd_requests_total{kind=\"$k\"}")
	[ "${v:-0}" -gt 0 ] || fail "no etcd $k requests counted"
done
grep -q '^yaim_etcd_request_duration_seconds_bucket{kind="keepalive",le="+Inf"}' "$T/m1.a" ||
    fail "no keepalive histogram"

log "yaimctl metrics: the same metric names"
"$YAIMCTL" -s "$D/m1.sock" metrics >"$T/ctl.raw" || fail "yaimctl metrics"
python3 "$PARSE" "$T/ctl.raw" >"$T/ctl" || fail "yaimctl metrics does not parse"
names() { sed 's/[{ ].*//' "$1" | sort -u; }
diff <(names "$T/m1.a") <(names "$T/ctl") || fail "yaimctl metrics names differ"

log "the listener: only GET /metrics, bounded"
code() { ip netns exec "$ns" curl -s -m 5 -o /dev/null -w '%{http_code}' "$@"; }
U=http://127.0.0.1:${MPORT[m1]}
[ "$(code -X POST "$U/metrics")" = 405 ] || fail "POST not 405"
[ "$(code -I "$U/metrics")" = 405 ] || fail "HEAD not 405"
[ "$(code "$U/")" = 404 ] || fail "/ not 404"
[ "$(code "$U/metrics/x")" = 404 ] || fail "/metrics/x not 404"
[ "$(code "$U/metrics?x=1")" = 200 ] || fail "a query string is not ignored"
[ "$(code -H "X-Big: $(head -c 5000 /dev/zero | tr '\0' a)" "$U/metrics")" = 431 ] ||
    fail "a 5000-byte header not 431"
raw() {	# raw BYTES: what the listener answers to them, first line
	ip netns exec "$ns" python3 - "${MPORT[m1]}" "$1" <<'EOT'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=7)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data = b""
while True:
    try:
        b = s.recv(65536)
    except socket.timeout:
        break
    if not b:
        break
    data += b
print(data.split(b"\r\n")[0].decode() if data else "closed")
EOT
}
[ "$(raw 'garbage\r\n\r\n')" = "HTTP/1.1 400 Bad Request" ] || fail "garbage not 400"
[ "$(raw 'GET /metrics HTTP/2.0\r\n\r\n')" = "HTTP/1.1 400 Bad Request" ] || fail "HTTP/2.0 not 400"
[ "$(raw 'GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello')" = "HTTP/1.1 400 Bad Request" ] ||
    fail "a body not 400"
[ "$(raw 'GET /metrics HTTP/1.0\n\n')" = "HTTP/1.1 200 OK" ] || fail "bare LF not accepted"
t0=$(date +%s)
[ "$(raw 'GET /metrics HTTP/1.1\r\n')" = "closed" ] || fail "a half request answered"
[ $(( $(date +%s) - t0 )) -le 6 ] || fail "idle client not closed at 5 s"
# 12 idle connections: 8 held, the rest closed at once; still serving
ip netns exec "$ns" python3 - "${MPORT[m1]}" >"$T/idle" <<'EOT'
import socket, sys, time
ss = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(12)]
time.sleep(0.5)
closed = 0
for s in ss:
    s.setblocking(False)
    try:
        if s.recv(1) == b"":
            closed += 1
    except BlockingIOError:
        pass
print(closed)
EOT
[ "$(cat "$T/idle")" -eq 4 ] || fail "excess clients: $(cat "$T/idle") closed, not 4"
wait_until 7 scrape m1 "$T/m1.b" || fail "not serving after the idle clients"
kill -0 "$Y_m1" || fail "m1 died"

log "failover: m1 stops, m2's counters move"
wait_until 5 scrape m2 "$T/m2.a" || fail "m2's metrics"
takes0=$(metric "$T/m2.a" 'yaim_address_takes_total{}')
claims0=$(metric "$T/m2.a" 'yaim_claims_total{}')
runs0=$(metric "$T/m2.a" 'yaim_notify_runs_total{event="take"}')
txn0=$(metric "$T/m2.a" 'yaim_etcd_requests_total{kind="txn"}')
[ "$(metric "$T/m2.a" 'yaim_addresses_held{}')" -eq 2 ] || fail "m2 holds not 2"
kill -TERM "$Y_m1"
wait_until 10 bash -c "! kill -0 $Y_m1 2>/dev/null" || fail "m1 did not exit"
wait_until 15 bash -c "[ \$(ip -n $ns -4 addr show dev vip1 | grep -c 'inet 198.18.0') -eq 4 ]" ||
    fail "m2 did not take over"
moved() {
	scrape m2 "$T/m2.b" &&
	[ "$(metric "$T/m2.b" 'yaim_notify_runs_total{event="take"}')" -ge $((runs0 + 2)) ]
}
wait_until 5 moved || fail "m2's metrics after the failover"
[ "$(metric "$T/m2.b" 'yaim_addresses_held{}')" -eq 4 ] || fail "held gauge did not move"
[ "$(metric "$T/m2.b" 'yaim_address_takes_total{}')" -eq $((takes0 + 2)) ] ||
    fail "takes counter did not move by 2"
[ "$(metric "$T/m2.b" 'yaim_claims_total{}')" -ge $((claims0 + 2)) ] || fail "claims"
[ "$(metric "$T/m2.b" 'yaim_etcd_requests_total{kind="txn"}')" -gt "$txn0" ] || fail "etcd txn"
[ "$(metric "$T/m2.b" 'yaim_notify_runs_total{event="take"}')" -eq $((runs0 + 2)) ] ||
    fail "notify take runs did not move by 2"
[ "$(metric "$T/m2.b" 'yaim_notify_failures_total{event="take"}')" -eq 0 ] || fail "hook failures"
kill -TERM "$Y_m2"
wait_until 10 bash -c "! kill -0 $Y_m2 2>/dev/null" || fail "m2 did not exit"
log "ok"
