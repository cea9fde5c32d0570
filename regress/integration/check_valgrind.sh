#!/usr/bin/env bash
# checkrun under valgrind with one check of every kind (and failing ones:
# a body too large, a refused port, an exec killed by its timeout, a
# postgres refused with retries): no memory errors, nothing leaked.
. "$(dirname "$0")/../lib.sh"
. "$TOP/regress/tools/checklib.sh"
need_root
need_valgrind
need_cmd python3
need_checkrun
setup_user

start_httpd web
python3 "$TOP/regress/tools/tcplisten.py" "$T/tcp.port" >/dev/null 2>&1 &
track_pid $!
wait_until 10 test -s "$T/tcp.port" || fail "tcp listener"
closed=$(free_port)
cat >"$T/yaim.yml" <<YML
dcs-clustername: yaim
dcs-endpoints: [ "http://127.0.0.1:2379" ]
interface: lo
interval: 200
retry-num: 3
retry-after: 100
checks:
  - type: http
    http-url: http://localhost:$HTTPD_PORT/?status=200
    http-expected-response-contains: ok
  - type: http
    name: huge
    http-url: http://127.0.0.1:$HTTPD_PORT/?mode=stream&size=1000000
    http-max-body: 1000
  - type: tcp
    tcp-host: 127.0.0.1
    tcp-port: $(cat "$T/tcp.port")
  - type: tcp
    name: closed
    tcp-host: 127.0.0.1
    tcp-port: $closed
  - type: exec
    exec-command: [ /bin/sh, -c, "echo hello; exit 3" ]
    timeout: 150
  - type: exec
    name: hang
    exec-command: [ /bin/sleep, "10" ]
    timeout: 100
  - type: postgres
    postgres-host: 127.0.0.1
    postgres-port: $closed
    postgres-user: postgres
YML
valgrind --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
    "$CHECKRUN" -f "$T/yaim.yml" -t 3 -v >"$T/out" 2>"$T/vg"
rc=$?
grep -E "ERROR SUMMARY|in use at exit" "$T/vg"
[ $rc -eq 0 ] || { grep '^==' "$T/vg" | tail -n 60; fail "valgrind: exit $rc"; }
grep -q "ERROR SUMMARY: 0 errors" "$T/vg" || fail "valgrind errors"
# every kind ran under valgrind
for w in "http: status 200" "http: body larger than 1000" "tcp: connected" \
    "tcp: connect refused" "exec: exit status 3" "exec: killed by timeout" \
    "postgres: connect refused"; do
	grep -q "$w" "$T/vg" || fail "no \"$w\" under valgrind"
done
# some of them fail: exactly one report, "down"
[ "$(verdicts "$T/out" | cut -d' ' -f1)" = down ] || { cat "$T/out"; fail "verdicts"; }
log "valgrind clean"
