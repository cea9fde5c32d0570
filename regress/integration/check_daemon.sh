#!/usr/bin/env bash
# The health checks inside the real daemon: the chrooted checker runs an
# http check and asks the parent for an exec check; the node key appears
# in etcd only while both pass, goes at once when the http server answers
# 503 (logged with the typed reason), and comes back.  The exec command
# runs as the unprivileged user without capabilities under the real
# (capability-trimmed) parent, which kills it at its timeout.
. "$(dirname "$0")/../lib.sh"
. "$TOP/regress/tools/checklib.sh"
need_root
need_cmd ip python3
[ -x "$YAIMD" ] || fail "$YAIMD missing: build first"
setup_user

ns=$(netns_add chkd)
ip -n "$ns" link add vip0 type veth peer name vip1 || fail "veth pair"
ip -n "$ns" link set vip0 up
ip -n "$ns" link set vip1 up
ip -n "$ns" addr add 198.18.7.1/24 dev vip0
start_etcd chkd "$ns"

# the http server inside the namespace
rm -f "$T/web.port"
ip netns exec "$ns" python3 "$HTTPD_PY" --port-file "$T/web.port" \
    --control "$T/web.json" --log "$T/web.log" >"$T/web.out" 2>&1 &
track_pid $!
wait_until 10 test -s "$T/web.port" || fail "httpd did not start"
control web '{"status": 200, "body": "up"}'

XU=$YAIM_USER-exec
make_exec_dir	# root's, outside /tmp: yaimd refuses commands in /tmp
D=$EXEC_DIR
mkdir -p "$D/out"
chown "$XU" "$D/out"
cat >"$D/creds.sh" <<'SH'
#!/bin/sh
exec grep -E "^(Uid|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):" /proc/self/status >"$1/status"
SH
chmod 0755 "$D/creds.sh"

cat >"$T/yaim.yml" <<YML
dcs-clustername: chkd
dcs-endpoints: [ "$ETCD_ENDPOINT" ]
interface: vip0
nodename: chknode
interval: 300
ttl: 3000
checks:
  - type: http
    name: web
    http-url: http://127.0.0.1:$(cat "$T/web.port")/health
    http-expected-response-contains: up
    timeout: 200
    rise: 1
    fall: 1
  - type: exec
    name: script
    exec-command: [ $D/creds.sh, $D/out ]
    timeout: 250
    rise: 1
YML
KEY=/service/chkd/nodes/chknode
node_key() { [ "$(etcdctl_ get --print-value-only "$KEY")" = healthy ]; }
no_node_key() { [ -z "$(etcdctl_ get "$KEY")" ]; }

ip netns exec "$ns" "$YAIMD" -d -v -f "$T/yaim.yml" >"$T/yaimd.log" 2>&1 &
YPID=$!
track_pid "$YPID"

log "healthy: the node key appears"
wait_until 15 node_key || { cat "$T/yaimd.log"; fail "no node key while healthy"; }
grep -q "health: node healthy" "$T/yaimd.log" || fail "no 'node healthy' log line"

log "exec check ran as $XU without capabilities under the real parent"
# every run rewrites the file: take a complete copy
snap_status() { cp "$D/out/status" "$T/status" && grep -q '^NoNewPrivs:' "$T/status"; }
wait_until 5 snap_status || fail "exec check did not run"
S=$T/status
uid=$(id -u "$XU")
awk -v u="$uid" '$1 == "Uid:" { exit !($2 == u && $3 == u && $4 == u && $5 == u) }' "$S" ||
    fail "exec child: $(grep Uid "$S")"
for c in CapPrm CapEff CapAmb; do
	grep -q "^$c:[[:space:]]*0000000000000000$" "$S" || fail "exec child: $(grep "$c" "$S")"
done
grep -q "^NoNewPrivs:[[:space:]]*1$" "$S" || fail "exec child: no_new_privs not set"
log "exec child: $(tr '\n\t' '  ' <"$S")"
# three identities: checker, dcs and the exec command each its own uid
ids="$uid"
for c in $(child_pids "$YPID"); do
	case $(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null) in
	"yaimd: checker"*|"yaimd: dcs"*) ids+=" $(proc_status "$c" Uid)" ;;
	esac
done
[ "$(echo $ids | tr ' ' '\n' | sort -u | wc -l)" -eq 3 ] ||
    fail "checker, dcs and exec uids are not three distinct ones: $ids"
log "uids of exec, checker, dcs: $ids"

log "503: unhealthy at once, node key gone, reason logged"
control web '{"status": 503, "body": "up"}'
wait_until 5 no_node_key || { tail -n 30 "$T/yaimd.log"; fail "node key kept while unhealthy"; }
grep -q "health: node unhealthy (check web: http: unexpected status 503)" \
    "$T/yaimd.log" || { tail -n 30 "$T/yaimd.log"; fail "no typed reason in the log"; }

log "200 again: healthy, node key back"
control web '{"status": 200, "body": "up"}'
wait_until 10 node_key || { tail -n 30 "$T/yaimd.log"; fail "node key not back"; }

log "exec command fails: unhealthy with its exit status"
printf '#!/bin/sh\nexit 3\n' >"$D/creds.sh"
wait_until 5 no_node_key || fail "node key kept while the exec check fails"
grep -q "health: node unhealthy (check script: exec: exit status 3)" \
    "$T/yaimd.log" || { tail -n 30 "$T/yaimd.log"; fail "no exec reason in the log"; }

log "exec command hangs: the parent kills it at its timeout"
printf '#!/bin/sh\necho $$ >%s/out/hang.pid\nexec sleep 100\n' "$D" >"$D/creds.sh.new"
chmod 0755 "$D/creds.sh.new"
mv "$D/creds.sh.new" "$D/creds.sh"
wait_until 5 grep -q "check script: exec: killed by timeout after 250 ms" \
    "$T/yaimd.log" || { tail -n 30 "$T/yaimd.log"; fail "hang not killed"; }
# (the next run may have started already: its pid, killed in its turn)
hp=$(cat "$D/out/hang.pid")
wait_until 2 sh -c "st=\$(awk '{ print \$3 }' /proc/$hp/stat 2>/dev/null); [ -z \"\$st\" ] || [ \"\$st\" = Z ]" ||
    fail "hanging command $hp survived"

log "SIGHUP with another exec command while one hangs: healthy again"
printf '#!/bin/sh\necho $$ >%s/out/hang2.pid\nexec sleep 100\n' "$D" >"$D/creds.sh.new"
chmod 0755 "$D/creds.sh.new"
mv "$D/creds.sh.new" "$D/creds.sh"
wait_until 5 test -s "$D/out/hang2.pid" || fail "second hang did not start"
sed -i 's|^    exec-command: .*|    exec-command: [ /bin/true ]|' "$T/yaim.yml"
kill -HUP "$YPID"
wait_until 10 node_key || { tail -n 30 "$T/yaimd.log"; fail "not healthy after reload"; }
grep -q "configuration reloaded" "$T/yaimd.log" || fail "no reload"
hp=$(cat "$D/out/hang2.pid")
wait_until 5 sh -c "st=\$(awk '{ print \$3 }' /proc/$hp/stat 2>/dev/null); [ -z \"\$st\" ] || [ \"\$st\" = Z ]" ||
    fail "the old config's hanging command $hp survived"

kill -TERM "$YPID"
wait_until 10 sh -c "! kill -0 $YPID 2>/dev/null" || fail "yaimd did not stop"
log "all daemon checks passed"
