#!/usr/bin/env bash
# postgres checks against a real PostgreSQL from Debian's packages, over
# TCP on a loopback port: primary (pg_is_in_recovery() = f) healthy, a
# query result mismatch, a query error, results of 10^8 rows (cut off at
# 1000) and of one 10 MB value, a wrong password, a refused port
# with retry_num/retry_after (measured), retries that outlast a restart, a
# query timeout, and a streaming standby (in recovery) that must fail.
. "$(dirname "$0")/../lib.sh"
. "$TOP/regress/tools/checklib.sh"
need_root
need_checkrun
PGBIN=
for v in 17 16 15 14 13; do
	[ -x /usr/lib/postgresql/$v/bin/initdb ] && { PGBIN=/usr/lib/postgresql/$v/bin; break; }
done
[ -n "$PGBIN" ] || skip "PostgreSQL server binaries not installed"
getent passwd postgres >/dev/null || skip "no postgres user"

chmod 0711 "$T"
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
# pg_start DIR PORT
pg_start() {
	asp "$PGBIN/pg_ctl" -D "$1" -l "$1.log" -w -t 30 -o \
	    "-p $2 -k $PG/sock -c listen_addresses=127.0.0.1" start \
	    >/dev/null || { cat "$1.log"; fail "pg_ctl start $1"; }
}
pg_stop() { asp "$PGBIN/pg_ctl" -D "$1" -m immediate -w stop >/dev/null 2>&1; }
pg_start "$PG/data" "$PORT"
cleanup_add "(cd / && runuser -u postgres -- $PGBIN/pg_ctl -D $PG/data -m immediate stop)"

pg=(-k postgres -h 127.0.0.1 -p "$PORT" -U postgres -P secret -D postgres)
common=(-i 300 -T 1000 -r 1 -F 1)

log "primary: pg_is_in_recovery() is f: healthy"
checkrun "$T/primary" "${pg[@]}" -q 'SELECT pg_is_in_recovery()' -e f \
    "${common[@]}" -t 1
expect_verdicts "$T/primary" "up ok 0"
expect_text "$T/primary" 1 "postgres: query result f"

log "query result mismatch"
checkrun "$T/mismatch" "${pg[@]}" -q 'SELECT pg_is_in_recovery()' -e t \
    "${common[@]}" -t 1
expect_verdicts "$T/mismatch" "down query_mismatch 0"
expect_text "$T/mismatch" 1 "postgres: query result mismatch (got f, expected t)"

log "query error"
checkrun "$T/qerr" "${pg[@]}" -q 'SELECT * FROM no_such_table' -e 1 \
    "${common[@]}" -t 1
expect_verdicts "$T/qerr" "down query_error 0"
grep -q 'postgres: query error: ERROR:  relation "no_such_table" does not exist' \
    "$T/qerr" || { cat "$T/qerr"; fail "query error text"; }

log "bounded results: many rows are cut off, the first row is what counts"
checkrun "$T/rows" "${pg[@]}" -q 'SELECT generate_series(1, 100000000)' \
    -e 1 -i 9000 -T 8000 -r 1 -F 1 -t 9
expect_verdicts "$T/rows" "down query_error 0"
expect_text "$T/rows" 1 "postgres: query error: more than 1000 rows"
checkrun "$T/rows2" "${pg[@]}" -q 'SELECT generate_series(1, 1000)' -e 1 \
    "${common[@]}" -t 1
expect_verdicts "$T/rows2" "up ok 0"
checkrun "$T/wide" "${pg[@]}" -q "SELECT repeat('x', 10000000)" -e 1 \
    -i 9000 -T 8000 -r 1 -F 1 -t 9
expect_verdicts "$T/wide" "down query_mismatch 0"

log "wrong password: a connect error with libpq's reason"
checkrun "$T/pw" -k postgres -h 127.0.0.1 -p "$PORT" -U postgres -P wrong \
    -D postgres "${common[@]}" -t 1
expect_verdicts "$T/pw" "down connect 0"
grep -q 'password authentication failed' "$T/pw" || { cat "$T/pw"; fail "auth text"; }

log "query timeout"
checkrun "$T/slow" "${pg[@]}" -q 'SELECT pg_sleep(5)' -e '' -i 3000 \
    -T 500 -t 2
expect_verdicts "$T/slow" "down timeout 0"
expect_between "$(first_report_ms "$T/slow")" 480 1900 "query timeout after (ms)"

log "refused port: retry_num 2 (three attempts), retry_after 300 ms"
closed=$(free_port)
checkrun "$T/refused" -k postgres -h 127.0.0.1 -p "$closed" -U postgres \
    -n 2 -a 300 -i 5000 -T 500 -t 3 -v
expect_verdicts "$T/refused" "down refused 0"
expect_between "$(first_report_ms "$T/refused")" 590 2500 \
    "three attempts 300 ms apart took (ms)"
[ "$(grep -c 'attempt [12] of 3' "$T/refused.err")" = 2 ] ||
    { cat "$T/refused.err"; fail "not three attempts"; }

log "retries outlast a restart: the first verdict is healthy"
pg_stop "$PG/data"
"$CHECKRUN" "${pg[@]}" -q 'SELECT pg_is_in_recovery()' -e f -n 29 -a 200 \
    -i 500 -T 500 -r 1 -t 12 -v >"$T/restart" 2>"$T/restart.err" &
cr=$!
track_pid $cr
wait_until 5 grep -q 'attempt 2 of 30' "$T/restart.err" ||
    { cat "$T/restart"*; fail "no failed attempts before the restart"; }
pg_start "$PG/data" "$PORT"
wait_until 20 grep -q health "$T/restart" || { cat "$T/restart"*; fail "no verdict"; }
expect_verdicts "$T/restart" "up ok 0"

log "primary versus recovery: a streaming standby must be unhealthy"
SPORT=$(free_port)
if PGPASSWORD=secret asp "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PORT" \
    -U postgres -D "$PG/standby" -R -X stream >"$PG/basebackup.log" 2>&1; then
	pg_start "$PG/standby" "$SPORT"
	cleanup_add "(cd / && runuser -u postgres -- $PGBIN/pg_ctl -D $PG/standby -m immediate stop)"
	checkrun "$T/standby" -k postgres -h 127.0.0.1 -p "$SPORT" -U postgres \
	    -P secret -D postgres -q 'SELECT pg_is_in_recovery()' -e f \
	    "${common[@]}" -t 1
	expect_verdicts "$T/standby" "down query_mismatch 0"
	expect_text "$T/standby" 1 "postgres: query result mismatch (got t, expected f)"
else
	cat "$PG/basebackup.log"
	fail "pg_basebackup failed"
fi

log "the flat keys from a yaim.yml, with a host name"
cat >"$T/yaim.yml" <<YML
dcs-clustername: yaim
dcs-endpoints: [ "http://127.0.0.1:2379" ]
interface: lo
interval: 300
retry_num: 2
retry_after: 100
checker-type: postgres
postgres-host: localhost
postgres-port: $PORT
postgres-user: postgres
postgres-password: secret
postgres-query: SELECT pg_is_in_recovery()
postgres-expected: f
rise: 1
YML
checkrun "$T/cfg" -f "$T/yaim.yml" -t 1
expect_verdicts "$T/cfg" "up ok 0"
log "all postgres checks passed"
