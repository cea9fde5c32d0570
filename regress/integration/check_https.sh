#!/usr/bin/env bash
# https checks against httpd.py with a certificate made here: verified
# through http-ca-file (handed to libcurl as a blob), refused with the
# wrong CA or a name the certificate does not carry, accepted without
# verification when told so.
. "$(dirname "$0")/../lib.sh"
. "$TOP/regress/tools/checklib.sh"
need_cmd python3 openssl
need_checkrun

mkcert() {
	local dir=$1 cn=$2 san=$3
	mkdir -p "$dir"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$cn CA" \
	    -keyout "$dir/ca.key" -out "$dir/ca.pem" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null ||
	    fail "openssl CA"
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" \
	    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null ||
	    fail "openssl csr"
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
	    "$san" >"$dir/ext"
	openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" \
	    -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
	    -extfile "$dir/ext" -out "$dir/server.pem" 2>/dev/null ||
	    fail "openssl sign"
}
mkcert "$T/pki" localhost "DNS:localhost,IP:127.0.0.1"
mkcert "$T/other" wrong.example "DNS:wrong.example"

start_httpd tls --cert "$T/pki/server.pem" --key "$T/pki/server.key"
P=$HTTPD_PORT
control tls '{"status": 200, "body": "secure ok"}'
common=(-i 300 -T 1000 -r 1 -F 1)

log "verified with the right CA, by name and by address"
checkrun "$T/ok" -k http -u "https://localhost:$P/" -C "$T/pki/ca.pem" \
    -s "secure ok" "${common[@]}" -t 1
expect_verdicts "$T/ok" "up ok 0"
checkrun "$T/ok4" -k http -u "https://127.0.0.1:$P/" -C "$T/pki/ca.pem" \
    "${common[@]}" -t 1
expect_verdicts "$T/ok4" "up ok 0"

log "without http-ca-file our CA is unknown: TLS error (so the blob counted)"
checkrun "$T/noca" -k http -u "https://localhost:$P/" "${common[@]}" -t 1
expect_verdicts "$T/noca" "down tls 60"

log "the wrong CA is a TLS error"
checkrun "$T/wrongca" -k http -u "https://localhost:$P/" \
    -C "$T/other/ca.pem" "${common[@]}" -t 1
expect_verdicts "$T/wrongca" "down tls 60"
grep -q "http: TLS error" "$T/wrongca" || fail "no TLS text"

log "a name the certificate does not carry is a TLS error"
start_httpd tls2 --cert "$T/other/server.pem" --key "$T/other/server.key"
checkrun "$T/badname" -k http -u "https://127.0.0.1:$HTTPD_PORT/" \
    -C "$T/other/ca.pem" "${common[@]}" -t 1
expect_verdicts "$T/badname" "down tls 60"

log "http-tls-verify off accepts the unknown CA"
checkrun "$T/noverify" -k http -u "https://localhost:$P/" -K \
    "${common[@]}" -t 1
expect_verdicts "$T/noverify" "up ok 0"

log "plain http to a TLS port fails as a connect error, not a crash"
checkrun "$T/plain" -k http -u "http://127.0.0.1:$P/" "${common[@]}" -t 1
[ "$(verdicts "$T/plain" | head -n1 | cut -d' ' -f1)" = down ] ||
    { cat "$T/plain"; fail "plain http to TLS port was healthy"; }

log "http-ca-file from a yaim.yml (a checks: list item)"
cat >"$T/yaim.yml" <<YML
dcs-clustername: yaim
dcs-endpoints: [ "http://127.0.0.1:2379" ]
interface: lo
interval: 300
checks:
  - type: http
    name: web-tls
    http-url: https://localhost:$P/
    http-ca-file: $T/pki/ca.pem
    http-expected-response-contains: secure
    rise: 1
YML
checkrun "$T/cfg" -f "$T/yaim.yml" -t 1
expect_verdicts "$T/cfg" "up ok 0"
log "all https checks passed"
