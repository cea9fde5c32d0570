#!/usr/bin/env bash
# The checks need no file once loaded: checkrun -R chroots into the empty
# directory and drops to the unprivileged user without capabilities, as
# the checker child does, then runs https (CA from memory, name pinned by
# the parent's resolution), tcp and postgres (libpq over TCP) checks.
# The host name web.yaim.test exists only in a private /etc/hosts (a
# mount namespace): it is found at load time and never again, since the
# chroot has no /etc/hosts (libcurl would answer "localhost" by itself).
. "$(dirname "$0")/../lib.sh"
. "$TOP/regress/tools/checklib.sh"
need_root
need_cmd python3 openssl
need_checkrun
setup_user
[ -z "$(ls -A "$YAIM_CHROOT")" ] || skip "$YAIM_CHROOT is not empty"
# LeakSanitizer needs /proc, which the chroot does not have
[ -z "${SANITIZE:-}" ] || export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

# https server with a test CA
mkdir -p "$T/pki"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=test CA" \
    -keyout "$T/pki/ca.key" -out "$T/pki/ca.pem" \
    -addext basicConstraints=critical,CA:TRUE 2>/dev/null || fail "openssl"
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$T/pki/srv.key" -out "$T/pki/srv.csr" 2>/dev/null || fail "openssl"
printf 'subjectAltName=DNS:web.yaim.test,DNS:localhost,IP:127.0.0.1\n' >"$T/pki/ext"
openssl x509 -req -in "$T/pki/srv.csr" -CA "$T/pki/ca.pem" \
    -CAkey "$T/pki/ca.key" -CAcreateserial -days 2 -extfile "$T/pki/ext" \
    -out "$T/pki/srv.pem" 2>/dev/null || fail "openssl"
start_httpd tls --cert "$T/pki/srv.pem" --key "$T/pki/srv.key"
control tls '{"status": 200, "body": "chrooted ok"}'

python3 "$TOP/regress/tools/tcplisten.py" "$T/tcp.port" >/dev/null 2>&1 &
track_pid $!
wait_until 10 test -s "$T/tcp.port" || fail "tcp listener"

pgcheck=
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
if [ -x "$PGBIN/initdb" ] && getent passwd postgres >/dev/null; then
	chmod 0711 "$T"
	mkdir -p "$T/pg/sock"
	echo secret >"$T/pg/pw"
	# TLS on, so that libpq negotiates it inside the chroot too
	cp "$T/pki/srv.pem" "$T/pki/srv.key" "$T/pg/"
	chmod 0600 "$T/pg/srv.key"
	chown -R postgres "$T/pg"
	# from /, which the postgres user can read
	(cd / && runuser -u postgres -- "$PGBIN/initdb" -D "$T/pg/data" \
	    -U postgres -A trust --auth-host=scram-sha-256 \
	    --pwfile="$T/pg/pw") >"$T/pg/initdb.log" 2>&1 ||
	    { cat "$T/pg/initdb.log"; fail initdb; }
	PGPORT_=$(free_port)
	(cd / && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$T/pg/data" \
	    -l "$T/pg/log" -w -t 30 -o "-p $PGPORT_ -k $T/pg/sock -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=$T/pg/srv.pem -c ssl_key_file=$T/pg/srv.key" \
	    start) >/dev/null || { cat "$T/pg/log"; fail "pg_ctl start"; }
	cleanup_add "(cd / && runuser -u postgres -- $PGBIN/pg_ctl -D $T/pg/data -m immediate stop)"
	pgcheck="  - type: postgres
    postgres-host: web.yaim.test
    postgres-port: $PGPORT_
    postgres-user: postgres
    postgres-password: secret
    postgres-query: SELECT pg_is_in_recovery()
    postgres-expected: PGWANT
    rise: 1
  - type: postgres
    name: pg-tls
    postgres-host: 127.0.0.1
    postgres-port: $PGPORT_
    postgres-user: postgres
    postgres-password: secret
    postgres-query: SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()
    postgres-expected: t
    rise: 1"
else
	log "PostgreSQL not installed: the postgres part is skipped"
fi

# conf FILE PGWANT CAFILE
conf() {
	cat >"$1" <<YML
dcs-clustername: yaim
dcs-endpoints: [ "http://127.0.0.1:2379" ]
interface: lo
interval: 300
checks:
  - type: http
    http-url: https://web.yaim.test:$HTTPD_PORT/
    http-ca-file: $3
    http-expected-response-contains: chrooted
    rise: 1
  - type: tcp
    tcp-host: web.yaim.test
    tcp-port: $(cat "$T/tcp.port")
    rise: 1
${pgcheck//PGWANT/$2}
YML
}

need_cmd unshare
printf '127.0.0.1 localhost\n127.0.0.1 web.yaim.test\n' >"$T/hosts"
# checkrun OUT ARGS: as in checklib.sh, with web.yaim.test in a private
# /etc/hosts
CHECKRUN_REAL=$CHECKRUN
checkrun() {
	local out=$1; shift
	unshare -m -- sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' \
	    sh "$T/hosts" "$CHECKRUN_REAL" "$@" >"$out" 2>"$out.err"
	local rc=$?
	[ $rc -eq 0 ] || { cat "$out" "$out.err"; fail "checkrun $* exited $rc"; }
}
getent hosts web.yaim.test >/dev/null && skip "web.yaim.test resolves outside the test"

log "every kind healthy inside the chroot"
conf "$T/good.yml" f "$T/pki/ca.pem"
checkrun "$T/good" -f "$T/good.yml" -R "$YAIM_CHROOT" -t 2 -v
expect_verdicts "$T/good" "up ok 0"
grep -q "http: status 200" "$T/good.err" || fail "no https result"
grep -q "tcp: connected" "$T/good.err" || fail "no tcp result"
[ -z "$pgcheck" ] || grep -q "postgres: query result f" "$T/good.err" ||
    { cat "$T/good.err"; fail "no postgres result"; }
# pg-tls: libpq negotiated TLS from inside the chroot
[ -z "$pgcheck" ] || grep -q "check pg-tls: postgres: query result t" \
    "$T/good.err" || { cat "$T/good.err"; fail "postgres without TLS"; }

if [ -n "$pgcheck" ]; then
	log "a query mismatch inside the chroot"
	conf "$T/bad.yml" t "$T/pki/ca.pem"
	checkrun "$T/bad" -f "$T/bad.yml" -R "$YAIM_CHROOT" -t 1
	expect_verdicts "$T/bad" "down query_mismatch 0"
	expect_text "$T/bad" 1 "postgres: query result mismatch (got f, expected t)"
fi

log "another CA inside the chroot: TLS error"
mkdir -p "$T/other"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
    -keyout "$T/other/ca.key" -out "$T/other/ca.pem" 2>/dev/null || fail openssl
conf "$T/other.yml" f "$T/other/ca.pem"
checkrun "$T/otherca" -f "$T/other.yml" -R "$YAIM_CHROOT" -t 1
expect_verdicts "$T/otherca" "down tls 60"
log "all chroot checks passed"
