#!/usr/bin/env bash
# etcd client over TLS with client certificates, all made here with
# openssl: CA, server cert for 127.0.0.1 (IP SAN), client cert.  The
# material reaches the client as blobs, as in the dcs child.  The server
# cert needs clientAuth too: etcd's gateway dials its own gRPC port with it.
. "$(dirname "$0")/../lib.sh" || exit 1
need_root
need_cmd openssl etcd etcdctl
DRV=$TOOLS/etcd-driver
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
    --log-level error >"$T/etcd-tls.log" 2>&1 &
track_pid $!
E=https://127.0.0.1:$cport
ETCD_ENDPOINT=$E
etcdctl_tls() {
	ETCDCTL_API=3 etcdctl --endpoints="$E" --cacert "$P/ca.crt" \
	    --cert "$P/client.crt" --key "$P/client.key" "$@"
}
wait_until 20 etcdctl_tls endpoint health ||
    { cat "$T/etcd-tls.log"; fail "etcd did not start"; }

out=$("$DRV" -e "$E" --ca "$P/ca.crt" --cert "$P/client.crt" \
    --key "$P/client.key" grant 10 -- put /t/x 1 @ -- range /t/ prefix -- \
    claim /t/m n1 -- watch /t/ 1 2 prefix -- revoke 2>&1)
log "$out"
echo "$out" | grep -q '^grant ok' || fail "grant over TLS"
echo "$out" | grep -q '^kv /t/x 1 ' || fail "range over TLS"
echo "$out" | grep -q '^claim won' || fail "claim over TLS"
echo "$out" | grep -q '^event PUT /t/m n1' || fail "watch over TLS"
echo "$out" | grep -q '^revoke ok' || fail "revoke over TLS"
[ "$(etcdctl_tls get --prefix /t/ --keys-only | grep -c .)" -eq 0 ] ||
    fail "revoke left keys"

# A server certificate from an unknown CA: a TLS error naming the endpoint.
out=$("$DRV" -e "$E" --retries 0 --ca "$P/otherca.crt" \
    --cert "$P/client.crt" --key "$P/client.key" range /t/ 2>&1)
log "$out"
echo "$out" | grep -q "^range error: etcd $E: TLS error: " ||
    fail "unknown server CA: no TLS error"

# No client certificate: etcd refuses the handshake.
out=$("$DRV" -e "$E" --retries 0 --ca "$P/ca.crt" range /t/ 2>&1)
log "$out"
echo "$out" | grep -q "^range error: etcd $E: TLS error: " ||
    fail "no client cert: no TLS error"

# A client certificate from another CA.  With TLS 1.3 the server's
# rejection reaches us after our side of the handshake, sometimes as a
# closed connection, so only the endpoint and the failure are asserted.
out=$("$DRV" -e "$E" --retries 0 --ca "$P/ca.crt" --cert "$P/rogue.crt" \
    --key "$P/rogue.key" range /t/ 2>&1)
log "$out"
echo "$out" | grep -q "^range error: etcd $E: " ||
    fail "rogue client cert: no error"
exit 0
