#!/usr/bin/env bash
# The dcs etcd client (dcs/etcd.c) against one real etcd: every request
# kind, a claim race, watch events, compaction, failover from a dead
# endpoint, timeouts and a silent watch (etcd stopped with SIGSTOP).
. "$(dirname "$0")/../lib.sh" || exit 1
need_root
DRV=$TOOLS/etcd-driver
[ -x "$DRV" ] || fail "missing $DRV"
start_etcd one
E=$ETCD_ENDPOINT

expect() {	# expect OUTPUT REGEX WHAT
	echo "$1" | grep -Eq "$2" || { echo "$1"; fail "$3"; }
}

log "every request kind"
out=$("$DRV" -e "$E" grant 7 -- keepalive -- put /p/nodes/a healthy @ -- \
    put /p/ips/10.0.0.1 x -- put /p/ips/10.0.0.10 y -- \
    range /p/ips/10.0.0.1 -- range /p/ prefix -- \
    claim /p/ips/10.0.0.1/marked a -- claim /p/ips/10.0.0.1/marked b 1 -- \
    release /p/ips/10.0.0.1/marked 1 -- release /p/ips/10.0.0.1/marked -- \
    putnew /p/nodes/b healthy -- putnew /p/nodes/b healthy -- \
    putnew /p/nodes/a healthy 12345 -- del /p/ips/10.0.0.10 -- \
    revoke -- keepalive -- revoke -- range /p/nodes/ prefix 2>&1)
log "$out"
expect "$out" '^grant ok id=[1-9][0-9]* ttl=7$' "grant"
expect "$out" '^keepalive ok ttl=7 ' "keepalive"
expect "$out" '^range ok rev=[0-9]+ count=1 more=0 n=1$' "range of one key"
expect "$out" '^kv /p/ips/10.0.0.1 x create=[0-9]+ mod=[0-9]+ version=1 lease=0$' "kv fields"
expect "$out" '^range ok rev=[0-9]+ count=3 more=0 n=3$' "prefix range"
expect "$out" '^kv /p/nodes/a healthy .* lease=[1-9][0-9]*$' "lease in kv"
expect "$out" '^claim won rev=' "claim"
expect "$out" '^claim lost holder=a$' "second claim"
expect "$out" '^release not-ours$' "release with another lease"
expect "$out" '^release ok$' "release"
expect "$out" '^putnew created$' "putnew on a free key"
expect "$out" '^putnew ours$' "putnew on our own key"
expect "$out" '^putnew taken lease=[1-9]' "putnew on another lease"
expect "$out" '^del ok deleted=1$' "delete"
expect "$out" '^revoke ok' "revoke"
expect "$out" '^keepalive not-found: etcd '"$E"': lease [0-9]+ not found$' \
    "keepalive of a revoked lease"
expect "$out" '^revoke not-found: etcd '"$E"': etcdserver: requested lease not found$' \
    "revoke of a revoked lease"
expect "$out" '^range ok rev=[0-9]+ count=0 ' "revoke removed the node keys"
# etcd raises a TTL below its minimum; the granted TTL is reported
out=$("$DRV" -e "$E" grant 1 -- revoke 2>&1)
expect "$out" '^grant ok id=[0-9]+ ttl=2$' "raised TTL reported"

log "claim race: two clients, 30 marks, exactly one winner each"
keys=()
for i in $(seq 1 30); do keys+=(claim "/race/ips/10.1.0.$i/marked"); done
args_a=() args_b=()
for ((i = 0; i < ${#keys[@]}; i += 2)); do
	args_a+=(-- "${keys[i]}" "${keys[i+1]}" A)
	args_b+=(-- "${keys[i]}" "${keys[i+1]}" B)
done
"$DRV" -e "$E" grant 30 "${args_a[@]}" >"$T/race.a" 2>&1 &
pa=$!
"$DRV" -e "$E" grant 30 "${args_b[@]}" >"$T/race.b" 2>&1 &
pb=$!
wait $pa; wait $pb
won=$(cat "$T/race.a" "$T/race.b" | grep -c '^claim won')
lost=$(cat "$T/race.a" "$T/race.b" | grep -c '^claim lost')
log "won=$won lost=$lost"
[ "$won" -eq 30 ] && [ "$lost" -eq 30 ] || fail "claim race: won=$won lost=$lost"
n=$(etcdctl_ get --prefix /race/ --keys-only | grep -c .)
[ "$n" -eq 30 ] || fail "claim race left $n marks"

log "watch: PUT and DELETE, with prev_kv"
"$DRV" -e "$E" watch /w/ 0 3 prefix >"$T/watch.out" 2>&1 &
pw=$!
track_pid $pw
wait_until 10 grep -q '^watch created' "$T/watch.out" || fail "watch not created"
etcdctl_ put /w/a 1 >/dev/null && etcdctl_ put /w/b 2 >/dev/null &&
    etcdctl_ del /w/a >/dev/null || fail "etcdctl"
wait_until 10 grep -q '^watch done events=3' "$T/watch.out" ||
    { cat "$T/watch.out"; fail "watch events"; }
out=$(cat "$T/watch.out")
expect "$out" '^event PUT /w/a 1 mod=[0-9]+ prev=0$' "PUT event"
expect "$out" '^event PUT /w/b 2 mod=' "second PUT event"
expect "$out" '^event DELETE /w/a  mod=[0-9]+ prev=1$' "DELETE event with prev_kv"

log "compaction while watching"
rev0=$(etcdctl_ get /w/b -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
"$DRV" -e "$E" watch /c/ 0 4 prefix >"$T/cwatch.out" 2>&1 &
track_pid $!
wait_until 10 grep -q '^watch created' "$T/cwatch.out" || fail "watch not created"
for i in 1 2; do etcdctl_ put /c/k$i v$i >/dev/null || fail put; done
rev=$(etcdctl_ get /c/k2 -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
etcdctl_ compact "$rev" >/dev/null || fail "compact"
for i in 3 4; do etcdctl_ put /c/k$i v$i >/dev/null || fail put; done
wait_until 10 grep -q '^watch done events=4' "$T/cwatch.out" ||
    { cat "$T/cwatch.out"; fail "live watch across a compaction"; }
out=$("$DRV" -e "$E" watch /c/ "$rev0" 1 prefix 2>&1)
log "$out"
expect "$out" "^watch compacted compact=$rev: etcd $E: watch start revision compacted \\(compact revision $rev\\)\$" \
    "watch from a compacted revision"

log "failover: first endpoint a dead loopback port"
dead=http://127.0.0.1:$(free_port)
out=$("$DRV" -e "$dead,$E" --seed 0 --retries 1 --retry-after 50 \
    range /w/ prefix -- endpoint 2>&1)
log "$out"
expect "$out" "^endpoint-changed $E\$" "endpoint change reported"
expect "$out" '^range ok ' "request after failover"
expect "$out" "^endpoint $E\$" "current endpoint"
expect "$out" "etcd $dead: connection refused; switching to etcd $E" "failover log"
# seed picks the first endpoint: seed 1 starts on the live one
out=$("$DRV" -e "$dead,$E" --seed 1 range /w/ prefix -- endpoint 2>&1)
expect "$out" "^endpoint $E\$" "seed 1 starts on the second endpoint"
echo "$out" | grep -q 'endpoint-changed' && fail "needless endpoint change"
# every endpoint dead: the retries are bounded, the error names the endpoint
dead2=http://127.0.0.1:$(free_port)
t0=$(date +%s%N)
out=$("$DRV" -e "$dead,$dead2" --retries 3 --retry-after 100 range /x 2>&1)
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
log "$out"
expect "$out" "^range error: etcd http://127.0.0.1:[0-9]+: connection refused\$" "all dead"
[ "$(echo "$out" | grep -c 'retry [0-9] of 3')" -eq 3 ] || fail "not 3 retries"
[ "$dt" -ge 300 ] && [ "$dt" -lt 3000 ] || fail "retry timing ${dt}ms"

log "broken endpoints: HTTP 503, a malformed reply"
# a plain HTTP server on loopback standing for a sick member or a proxy
bport=$(free_port)
cat >"$T/broken.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/v3/kv/range":
            body, code = b"upstream sick\n", 503
        else:
            body, code = b'{"header":{"revision":"x"}}', 200
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$T/broken.py" "$bport" &
track_pid $!
B=http://127.0.0.1:$bport
wait_until 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $bport))" ||
    fail "broken server did not start"
out=$("$DRV" -e "$B" --retries 0 range /w/ -- grant 5 2>&1)
log "$out"
expect "$out" "^range error: etcd $B: HTTP status 503\$" "HTTP 503 message"
expect "$out" "^grant error: etcd $B: bad reply to /v3/lease/grant: header.revision: not an int64 string\$" \
    "bad reply message"
out=$("$DRV" -e "$B,$E" --seed 0 --retry-after 10 range /w/b -- grant 5 2>&1)
log "$out"
expect "$out" '^kv /w/b 2 ' "failover after HTTP 503"
expect "$out" "etcd $B: HTTP status 503; switching to etcd $E" "503 moves on"
expect "$out" '^grant ok ' "grant after failover"

log "host names: only through the parent's CURLOPT_RESOLVE entries"
port=${E##*:}
out=$("$DRV" -e "http://etcd-a.invalid:$port" \
    --resolve "etcd-a.invalid:$port:127.0.0.1" range /w/b 2>&1)
log "$out"
expect "$out" '^kv /w/b 2 ' "endpoint name resolved by a resolve entry"
out=$("$DRV" -e "http://etcd-a.invalid:$port" range /w/b 2>&1)
log "$out"
expect "$out" "etcd endpoint http://etcd-a.invalid:$port: host etcd-a.invalid is neither an IP address nor resolved by the parent" \
    "unresolved name refused"

log "timeouts: etcd stopped (SIGSTOP)"
"$DRV" -e "$E" --silence 1500 watch /s/ 0 5 prefix >"$T/swatch.out" 2>&1 &
track_pid $!
wait_until 10 grep -q '^watch created' "$T/swatch.out" || fail "watch not created"
kill -STOP "$ETCD_PID"
cleanup_add "kill -CONT $ETCD_PID"
t0=$(date +%s%N)
out=$("$DRV" -e "$E" --timeout 400 --retries 1 --retry-after 100 grant 5 2>&1)
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
log "$out (${dt}ms)"
expect "$out" "^grant error: etcd $E: timed out" "timeout message"
[ "$dt" -lt 3000 ] || fail "timeout took ${dt}ms"
wait_until 10 grep -q '^watch broken' "$T/swatch.out" ||
    { cat "$T/swatch.out"; fail "silent watch not broken"; }
expect "$(cat "$T/swatch.out")" "^watch broken compact=0: watch broken: etcd $E: no watch message for 1500 ms\$" \
    "silent watch message"
kill -CONT "$ETCD_PID"
out=$("$DRV" -e "$E" range /w/b 2>&1)
expect "$out" '^kv /w/b 2 ' "etcd back"
exit 0
