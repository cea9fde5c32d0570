#!/usr/bin/env bash
# The seccomp filters (DESIGN.md section 11b) under the real daemon, on
# its TLS paths: dcs talks to etcd over https with a client certificate,
# the checker runs an https check with its own CA and a tcp check.  Both
# children run with a filter (Seccomp: 2), the node joins and holds its
# VIP, survives a reload, fails over a 503 and back, and leaves cleanly
# on SIGTERM, all without a child dying of SIGSYS.  Then a child killed
# by SIGSYS makes the parent say so.  (The postgres path runs under the
# checker's filter in check_chroot.sh; that a forbidden call kills is
# regress/unit/test_sandbox.c.)
. "$(dirname "$0")/../lib.sh" || exit 1
. "$TOP/regress/tools/checklib.sh"
need_root
need_cmd ip python3 openssl etcd etcdctl
setup_user

P=$T/pki
mkdir -p "$P"
pki_ca ca
pki_cert server ca "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth,clientAuth"
pki_cert client ca "extendedKeyUsage=clientAuth"

# etcd of our own below: https with client certificates
vip_veth sbx 198.18.9.254/24

cport=$(free_port); pport=$(free_port)
mkdir -p "$T/etcd"
ip netns exec "$ns" etcd --name sbx --data-dir "$T/etcd" \
    --listen-client-urls "https://127.0.0.1:$cport" \
    --advertise-client-urls "https://127.0.0.1:$cport" \
    --listen-peer-urls "http://127.0.0.1:$pport" \
    --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "sbx=http://127.0.0.1:$pport" \
    --cert-file "$P/server.crt" --key-file "$P/server.key" \
    --client-cert-auth --trusted-ca-file "$P/ca.crt" \
    --log-level error >"$T/etcd.log" 2>&1 &
track_pid $!
E=https://127.0.0.1:$cport
etcdctl_tls() {
	ip netns exec "$ns" env ETCDCTL_API=3 etcdctl --endpoints="$E" \
	    --cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key" "$@"
}
wait_until 20 etcdctl_tls endpoint health >/dev/null 2>&1 ||
    { cat "$T/etcd.log"; fail "etcd did not start"; }

ip netns exec "$ns" python3 "$HTTPD_PY" --port-file "$T/web.port" \
    --control "$T/web.json" --log "$T/web.log" \
    --cert "$P/server.crt" --key "$P/server.key" >"$T/web.out" 2>&1 &
track_pid $!
wait_until 10 test -s "$T/web.port" || { cat "$T/web.out"; fail "httpd"; }
control web '{"status": 200, "body": "up"}'
ip netns exec "$ns" python3 "$TOP/regress/tools/tcplisten.py" "$T/tcp.port" \
    >/dev/null 2>&1 &
track_pid $!
wait_until 10 test -s "$T/tcp.port" || fail "tcp listener"

chmod 0711 "$T"
chmod 0755 "$P"
chmod 0644 "$P"/*
chmod 0600 "$P"/*.key
cat >"$T/y.yml" <<EOT
dcs-clustername: sbx
dcs-endpoints: [ '$E' ]
etcd-ca-file: $P/ca.crt
etcd-cert-file: $P/client.crt
etcd-key-file: $P/client.key
interface: vip0
nodename: s1
ttl: 3000
interval: 1000
allowed-networks: [198.18.9.0/24]
checks:
  - type: http
    name: web
    http-url: https://localhost:$(cat "$T/web.port")/
    http-ca-file: $P/ca.crt
    http-expected-response-contains: up
    interval: 1000
    timeout: 900
    rise: 1
    fall: 1
  - type: tcp
    tcp-host: 127.0.0.1
    tcp-port: $(cat "$T/tcp.port")
EOT
# it names a key file: root's and root-only, or yaimd refuses it
chmod 0600 "$T/y.yml"
etcdctl_tls put /service/sbx/ips/198.18.9.1 x >/dev/null || fail "etcdctl put"
ip netns exec "$ns" "$YAIMD" -dv -f "$T/y.yml" >"$T/yaimd.log" 2>&1 &
Y=$!
track_pid "$Y"

vip_up() { ip -n "$ns" -4 addr show dev vip0 | grep -q 'inet 198.18.9.1/'; }
vip_down() { ! vip_up; }
no_sigsys() {
	! grep -q "SIGSYS" "$T/yaimd.log" ||
	    { cat "$T/yaimd.log"; fail "a child died of SIGSYS: $1"; }
	kill -0 "$Y" 2>/dev/null || { cat "$T/yaimd.log"; fail "yaimd died: $1"; }
}
child_named() {
	local c
	for c in $(child_pids "$Y"); do
		[ "$(tr '\0' ' ' <"/proc/$c/cmdline" | sed 's/ *$//')" = "yaimd: $1" ] &&
		    { echo "$c"; return 0; }
	done
	return 1
}

wait_until 30 vip_up || { cat "$T/yaimd.log"; fail "the VIP did not come up over TLS"; }
for role in checker dcs; do
	c=$(child_named "$role") || fail "no $role child"
	[ "$(proc_status "$c" Seccomp)" = 2 ] ||
	    fail "$role runs with Seccomp: $(proc_status "$c" Seccomp)"
	[ "$(proc_status "$c" Seccomp_filters)" = 1 ] ||
	    fail "$role has $(proc_status "$c" Seccomp_filters) filters"
done
[ "$(proc_status "$Y" Seccomp)" = 0 ] || fail "the parent has a filter"
log "VIP held; both children filtered (Seccomp: 2)"
sleep 2
no_sigsys "idle"

log "reload: new config reaches both filtered children"
sed -i 's/^interval: 1000/interval: 1500/' "$T/y.yml"
kill -HUP "$Y"
wait_until 10 grep -q "configuration reloaded" "$T/yaimd.log" ||
    { cat "$T/yaimd.log"; fail "no reload"; }
sleep 1
no_sigsys "reload"
vip_up || fail "VIP lost over a reload"

log "503: the node leaves, then comes back"
control web '{"status": 503, "body": "up"}'
wait_until 10 vip_down || { cat "$T/yaimd.log"; fail "VIP kept while unhealthy"; }
control web '{"status": 200, "body": "up"}'
wait_until 15 vip_up || { cat "$T/yaimd.log"; fail "VIP not back"; }
no_sigsys "fail-over"

log "SIGTERM: addresses removed, lease revoked, exit 0"
kill -TERM "$Y"
wait_until 10 bash -c "! kill -0 $Y 2>/dev/null" || fail "yaimd alive after SIGTERM"
wait "$Y"; rc=$?
[ "$rc" -eq 0 ] || { cat "$T/yaimd.log"; fail "SIGTERM exit status $rc"; }
! grep -q SIGSYS "$T/yaimd.log" || { cat "$T/yaimd.log"; fail "SIGSYS on the way out"; }
vip_down || fail "VIP left behind"
[ -z "$(etcdctl_tls get --prefix /service/sbx/nodes/ --keys-only)" ] || fail "node key left"

log "a child dead of SIGSYS: the parent names the signal and seccomp"
ip netns exec "$ns" "$YAIMD" -d -f "$T/y.yml" >"$T/yaimd2.log" 2>&1 &
Y=$!
track_pid "$Y"
wait_until 30 vip_up || { cat "$T/yaimd2.log"; fail "no VIP on the second start"; }
d=$(child_named dcs) || fail "no dcs child"
kill -SYS "$d"
wait_until 5 bash -c "! kill -0 $Y 2>/dev/null" || fail "parent alive after dcs died"
wait "$Y"; rc=$?
[ "$rc" -eq 1 ] || fail "parent exit status $rc, want 1"
grep -q "dcs child (pid $d) was killed by SIGSYS (seccomp" "$T/yaimd2.log" ||
    { cat "$T/yaimd2.log"; fail "no SIGSYS log line"; }
vip_down || fail "VIP left behind after dcs died"
echo "sandbox: ok"
