#!/usr/bin/env bash
# Host names with several addresses: the hosts data the resolver sees is
# ours (a private mount namespace with a file bound over /etc/hosts), and
# maps yaim-both to ::1 first, then 127.0.0.1, as Debian's localhost.  The
# services listen on 127.0.0.1 only.  tcp, postgres and http checks by
# that name must try ::1, be refused, and pass on 127.0.0.1 (the tcp and
# postgres checks failed for ever when only the first address was kept);
# a name whose every address refuses is still "connect refused".
. "$(dirname "$0")/../lib.sh"
. "$TOP/regress/tools/checklib.sh"
need_root
need_cmd unshare mount getent python3
need_checkrun

cat >"$T/hosts" <<'H'
127.0.0.1	localhost
::1	yaim-both
127.0.0.1	yaim-both
H
chmod 0644 "$T/hosts"
chmod 0711 "$T"
# inhosts CMD...: CMD with $T/hosts as /etc/hosts
inhosts() {
	unshare --mount sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' \
	    "$T/hosts" "$@"
}
order=$(inhosts getent ahosts yaim-both | awk '$2 == "STREAM" { print $1 }' |
    tr '\n' ' ')
[ "$order" = "::1 127.0.0.1 " ] ||
    skip "getaddrinfo orders yaim-both as \"$order\" here, not ::1 first"
log "getaddrinfo order of yaim-both: $order"

python3 "$TOP/regress/tools/tcplisten.py" "$T/l.port" >"$T/l.out" 2>&1 &
track_pid $!
wait_until 30 test -s "$T/l.port" || fail "listener"
LPORT=$(cat "$T/l.port")

log "tcp by name: ::1 refused, 127.0.0.1 accepts"
inhosts "$CHECKRUN" -v -k tcp -h yaim-both -p "$LPORT" -i 200 -T 1000 \
    -t 1 >"$T/tcp" 2>"$T/tcp.err" || { cat "$T/tcp.err"; fail "checkrun"; }
expect_verdicts "$T/tcp" "up ok 0"
grep -q "::1 port $LPORT: Connection refused; trying the next address" \
    "$T/tcp.err" || { cat "$T/tcp.err"; fail "no log of ::1 refused"; }
grep -q "127.0.0.1 port $LPORT accepted" "$T/tcp.err" ||
    { cat "$T/tcp.err"; fail "no log of the address that answered"; }

log "tcp by name, nothing listens: refused after both"
closed=$(free_port)
inhosts "$CHECKRUN" -v -k tcp -h yaim-both -p "$closed" -i 200 -T 1000 \
    -t 1 >"$T/closed" 2>"$T/closed.err" || fail "checkrun"
expect_verdicts "$T/closed" "down refused 0"
grep -q "::1 port $closed: Connection refused; trying the next" \
    "$T/closed.err" || { cat "$T/closed.err"; fail "::1 not tried"; }

log "http by name: libcurl gets both addresses"
start_httpd web
control web '{"status": 200, "body": "up"}'
inhosts "$CHECKRUN" -v -k http -u "http://yaim-both:$HTTPD_PORT/health" \
    -i 200 -T 1000 -t 1 >"$T/http" 2>"$T/http.err" ||
    { cat "$T/http.err"; fail "checkrun"; }
expect_verdicts "$T/http" "up ok 0"
grep -q "status 200 from 127.0.0.1" "$T/http.err" ||
    { cat "$T/http.err"; fail "no log of the address that answered"; }

PGBIN=
for v in 17 16 15 14 13; do
	[ -x /usr/lib/postgresql/$v/bin/initdb ] && { PGBIN=/usr/lib/postgresql/$v/bin; break; }
done
if [ -z "$PGBIN" ] || ! getent passwd postgres >/dev/null; then
	log "no PostgreSQL here: the postgres part is skipped"
	log "all resolve checks passed"
	exit 0
fi
PG=$T/pg
mkdir -p "$PG/sock"
echo secret >"$PG/pw"
chown -R postgres "$PG"
# from /, which the postgres user can read (not the caller's directory)
asp() { (cd / && runuser -u postgres -- "$@"); }
asp "$PGBIN/initdb" -D "$PG/data" -U postgres -A trust \
    --auth-host=scram-sha-256 --pwfile="$PG/pw" >"$PG/initdb.log" 2>&1 ||
    { cat "$PG/initdb.log"; fail "initdb"; }
PORT=$(free_port)
asp "$PGBIN/pg_ctl" -D "$PG/data" -l "$PG/log" -w -t 30 -o \
    "-p $PORT -k $PG/sock -c listen_addresses=127.0.0.1" start >/dev/null ||
    { cat "$PG/log"; fail "pg_ctl start"; }
cleanup_add "(cd / && runuser -u postgres -- $PGBIN/pg_ctl -D $PG/data -m immediate stop)"

log "postgres by name, listening on 127.0.0.1 only (as pgbouncer by default)"
inhosts "$CHECKRUN" -v -k postgres -h yaim-both -p "$PORT" -U postgres \
    -P secret -D postgres -q 'SELECT 1' -e 1 -i 300 -T 1000 -r 1 -F 1 \
    -t 1 >"$T/pgc" 2>"$T/pgc.err" || { cat "$T/pgc.err"; fail "checkrun"; }
expect_verdicts "$T/pgc" "up ok 0"
grep -q "connected to 127.0.0.1 port $PORT" "$T/pgc.err" ||
    { cat "$T/pgc.err"; fail "no log of the address that answered"; }
log "all resolve checks passed"
