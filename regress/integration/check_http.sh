#!/usr/bin/env bash
# http checks against a real HTTP server (regress/tools/httpd.py): status,
# body, Host header, hang (timeout enforced and measured), huge bodies,
# refused port, names pinned through the parent's resolution, rise/fall
# flapping, and the spec's flat keys read from a yaim.yml.
. "$(dirname "$0")/../lib.sh"
. "$TOP/regress/tools/checklib.sh"
need_cmd python3
need_checkrun

start_httpd web
P=$HTTPD_PORT
U=http://127.0.0.1:$P
common=(-i 200 -T 300 -r 1 -F 1)

log "healthy: 200 with the expected body"
control web '{"status": 200, "body": "{\"value\":\"foo\"}"}'
checkrun "$T/ok" -k http -u "$U/health" -c 200 -s '"value":"foo"' \
    "${common[@]}" -t 1
expect_verdicts "$T/ok" "up ok 0"
expect_text "$T/ok" 1 "http: status 200"

log "unexpected status"
control web '{"status": 503, "body": "{\"value\":\"foo\"}"}'
checkrun "$T/503" -k http -u "$U/" -c 200 -s foo "${common[@]}" -t 1
expect_verdicts "$T/503" "down status 503"
expect_text "$T/503" 1 "http: unexpected status 503"

log "body mismatch"
control web '{"status": 200, "body": "{\"value\":\"bar\"}"}'
checkrun "$T/body" -k http -u "$U/" -s '"value":"foo"' "${common[@]}" -t 1
expect_verdicts "$T/body" "down body_mismatch 0"

log "Host header override reaches the server"
control web '{"status": 200, "body": "ok"}'
: >"$T/web.log"
checkrun "$T/host" -k http -u "$U/vhost" -H www.example.test "${common[@]}" -t 1
expect_verdicts "$T/host" "up ok 0"
grep -q "^GET /vhost host=www.example.test$" "$T/web.log" ||
    { cat "$T/web.log"; fail "Host header not sent"; }

log "a host name is resolved up front and pinned (CURLOPT_RESOLVE)"
checkrun "$T/name" -k http -u "http://localhost:$P/named" "${common[@]}" -t 1
expect_verdicts "$T/name" "up ok 0"

if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
	log "IPv6 literal URL"
	start_httpd web6 --bind ::1
	checkrun "$T/v6" -k http -u "http://[::1]:$HTTPD_PORT/v6" "${common[@]}" -t 1
	expect_verdicts "$T/v6" "up ok 0"
else
	log "no IPv6 loopback here: IPv6 part skipped"
fi

log "hang after accept: timeout enforced"
checkrun "$T/hang" -k http -u "$U/?mode=hang" -i 2000 -T 400 -r 1 -F 1 -t 2
expect_verdicts "$T/hang" "down timeout 0"
expect_between "$(first_report_ms "$T/hang")" 380 1900 "hang reported after (ms)"

log "slow answer within the timeout is fine, beyond it is not"
checkrun "$T/slow1" -k http -u "$U/?mode=slow&delay=0.1" -i 1000 -T 600 -t 1
expect_verdicts "$T/slow1" "up ok 0"
checkrun "$T/slow2" -k http -u "$U/?mode=slow&delay=1" -i 1000 -T 300 -t 1
expect_verdicts "$T/slow2" "down timeout 0"

log "huge body with a Content-Length, and streamed without one"
checkrun "$T/huge" -k http -u "$U/?mode=huge&size=10000000" -m 65536 \
    "${common[@]}" -t 1
expect_verdicts "$T/huge" "down body_too_large 65536"
expect_text "$T/huge" 1 "http: body larger than 65536 bytes"
checkrun "$T/stream" -k http -u "$U/?mode=stream&size=10000000" -m 65536 \
    "${common[@]}" -t 1
expect_verdicts "$T/stream" "down body_too_large 65536"
log "a body of exactly the limit is fine"
checkrun "$T/exact" -k http -u "$U/?mode=huge&size=65536" -m 65536 \
    "${common[@]}" -t 1
expect_verdicts "$T/exact" "up ok 0"

log "connection closed without an answer"
checkrun "$T/close" -k http -u "$U/?mode=close" "${common[@]}" -t 1
expect_verdicts "$T/close" "down connect 52"

log "closed port: refused"
closed=$(free_port)
checkrun "$T/refused" -k http -u "http://127.0.0.1:$closed/" "${common[@]}" -t 1
expect_verdicts "$T/refused" "down refused 0"
expect_text "$T/refused" 1 "http: connect refused"

log "rise 2 / fall 3 against a flapping server: only the expected transitions"
# one status per request; 14 requests at 150 ms take ~2.1 s
control web '{"seq": [200, 503, 200, 200, 503, 503, 200, 503, 503, 503, 200, 503, 200, 200]}'
checkrun "$T/flap" -k http -u "$U/" -i 150 -T 100 -r 2 -F 3 -t 5
# requests: 1 ok, 2 x (first verdict down), 3-4 ok ok (up), 5-6 x x,
# 7 ok, 8-10 x x x (down), 11 ok, 12 x, 13-14 ok ok (up), then 200 forever
expect_verdicts "$T/flap" "down status 503" "up ok 0" "down status 503" "up ok 0"
n=$(grep -c '^GET / ' "$T/web.log")
[ "$n" -ge 14 ] || fail "only $n requests during the flapping test"

log "the spec's flat keys from a yaim.yml"
control web '{"status": 200, "body": "{\"value\":\"foo\"}"}'
cat >"$T/yaim.yml" <<YML
dcs-type: etcd
dcs-namespace: /service/
dcs-clustername: yaim
dcs-endpoints: [ "http://127.0.0.1:2379" ]
interface: lo
interval: 200
checker-type: http
http-url: http://localhost:$P/spec
http-expected-code: 200
http-expected-response-contains: '"value":"foo"'
http-timeout: 150
rise: 2
YML
checkrun "$T/spec" -f "$T/yaim.yml" -t 1
expect_verdicts "$T/spec" "up ok 0"
# rise 2 at 200 ms: the second request, about 200 ms after the first
expect_between "$(first_report_ms "$T/spec")" 180 1500 "rise 2 took (ms)"
log "all http checks passed"
