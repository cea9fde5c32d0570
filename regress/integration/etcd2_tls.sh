#!/usr/bin/env bash
# The etcd v2 keys client (dcs/etcd2.c, through etcd2-driver) over TLS
# with client certificates, as etcd_tls.sh does for v3, against a real
# etcd with --enable-v2: the material reaches the client as blobs, as in
# the dcs child; an unknown server CA, no client certificate and a client
# certificate of another CA all fail, naming the endpoint.
. "$(dirname "$0")/../lib.sh" || exit 1
need_root
need_cmd openssl etcd etcdctl
DRV=$TOOLS/etcd2-driver
[ -x "$DRV" ] || fail "missing $DRV"

P=$T/pki
mkdir -p "$P"
pki_ca ca
pki_ca otherca
pki_cert server ca "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth"
pki_cert client ca "extendedKeyUsage=clientAuth"
pki_cert rogue otherca "extendedKeyUsage=clientAuth"

cport=$(free_port); pport=$(free_port)
mkdir -p "$T/etcd-tls"
etcd --name tls --data-dir "$T/etcd-tls" \
    --listen-client-urls "https://127.0.0.1:$cport" \
    --advertise-client-urls "https://127.0.0.1:$cport" \
    --listen-peer-urls "http://127.0.0.1:$pport" \
    --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "tls=http://127.0.0.1:$pport" \
    --cert-file "$P/server.crt" --key-file "$P/server.key" \
    --client-cert-auth --trusted-ca-file "$P/ca.crt" \
    --enable-v2 --log-level error >"$T/etcd-tls.log" 2>&1 &
track_pid $!
E=https://127.0.0.1:$cport
ETCD_ENDPOINT=$E
etcdctl_tls() {
	ETCDCTL_API=3 etcdctl --endpoints="$E" --cacert "$P/ca.crt" \
	    --cert "$P/client.crt" --key "$P/client.key" "$@"
}
wait_until 20 etcdctl_tls endpoint health ||
    { cat "$T/etcd-tls.log"; fail "etcd did not start"; }

k=/service/yaim/ips/198.18.0.1/marked
out=$("$DRV" -e "$E" --ca "$P/ca.crt" --cert "$P/client.crt" \
    --key "$P/client.key" create "$k" n1 10 -- refresh "$k" n1 10 -- \
    list /service/yaim/ -- watch /service/yaim 1 2000 -- delete "$k" n1 2>&1)
log "$out"
echo "$out" | grep -q '^create ok' || fail "create over TLS"
echo "$out" | grep -q '^refresh ok' || fail "refresh over TLS"
echo "$out" | grep -q '^ip 198.18.0.1 dir=1 .* mark=n1 ' || fail "list over TLS"
echo "$out" | grep -q "^watch ok action=create key=$k " || fail "watch over TLS"
echo "$out" | grep -q '^delete ok' || fail "delete over TLS"

# A server certificate from an unknown CA: a TLS error naming the endpoint.
out=$("$DRV" -e "$E" --retries 0 --ca "$P/otherca.crt" \
    --cert "$P/client.crt" --key "$P/client.key" list /service/yaim/ 2>&1)
log "$out"
echo "$out" | grep -q "^list error code=0: etcd $E: TLS error: " ||
    fail "unknown server CA: no TLS error"

# No client certificate: etcd refuses the handshake.
out=$("$DRV" -e "$E" --retries 0 --ca "$P/ca.crt" list /service/yaim/ 2>&1)
log "$out"
echo "$out" | grep -q "^list error code=0: etcd $E: TLS error: " ||
    fail "no client cert: no TLS error"

# A client certificate from another CA (TLS 1.3: sometimes only a closed
# connection, so only the endpoint and the failure are asserted).
out=$("$DRV" -e "$E" --retries 0 --ca "$P/ca.crt" --cert "$P/rogue.crt" \
    --key "$P/rogue.key" list /service/yaim/ 2>&1)
log "$out"
echo "$out" | grep -q "^list error code=0: etcd $E: " ||
    fail "rogue client cert: no error"
log "ok"
