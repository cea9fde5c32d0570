#!/usr/bin/env bash
# yaimctl against a yaimd with a real etcd in a namespace: status (text
# and JSON), pool add/del (canonical form, exact keys), drain across a
# SIGHUP and undrain, reload good and bad, log verbose|brief, who may
# connect (mode, owner, SO_PEERCRED, control-group), the bounds on
# clients and requests (dcs survives them), a missing socket, a second
# yaimd on the same socket, a stale socket after a crash.
. "$(dirname "$0")/../lib.sh" || exit 1
need_root
need_cmd ip python3 setpriv stat
setup_user
YAIMCTL=${YAIMCTL:-$BUILD/yaimctl}
[ -x "$YAIMCTL" ] || skip "$YAIMCTL not built"
vip_netns ctl
P=/service/yaim/
# a directory others may traverse (T is 0700), for the non-root clients
SD=$(mktemp -d /run/yaimctl.XXXXXX) || fail "mktemp /run"
chmod 0755 "$SD"
cleanup_add "rm -rf '$SD'"
S=$SD/yaimd.sock
write_config() {
	{ tcp_node_conf y1; cat <<EOT
ttl: 3000
interval: 1000
allowed-networks: [198.18.0.0/24]
control-socket: $S
$*
EOT
	} >"$T/y.yml"
}
write_config
for i in 1 2; do etcdctl_ put "${P}ips/198.18.0.$i" "" >/dev/null; done

ctl() { "$YAIMCTL" -s "$S" "$@"; }
nup() { ip -n "$ns" -4 addr show dev vip0 | grep -c 'inet 198.18.0.[0-9]*/32'; }
up_is() { [ "$(nup)" -eq "$1" ]; }
nmarks() { etcdctl_ get --prefix --keys-only "${P}ips/" | grep -c '/marked$'; }
marks_is() { [ "$(nmarks)" -eq "$1" ]; }
# jq-less JSON: py EXPR evaluates EXPR with s = yaimctl -j status
py() { ctl -j status | python3 -c "import json, sys; s = json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
start_yaimd() {
	ip netns exec "$ns" "$YAIMD" -dv -f "$T/y.yml" >>"$T/yaimd.log" 2>&1 &
	Y=$!
	track_pid "$Y"
}
alive() { kill -0 "$Y" 2>/dev/null && ctl status >/dev/null; }
# expect RC WANT-STDERR-SUBSTRING CMD...: exit status and message
expect() {
	local rc=$1 want=$2 got; shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	[ "$got" -eq "$rc" ] || { cat "$T/out" "$T/err"; fail "$* exited $got, not $rc"; }
	[ -z "$want" ] || grep -qF -- "$want" "$T/err" ||
	    { cat "$T/err"; fail "$*: no \"$want\" on stderr"; }
}

log "no daemon: the exact message"
expect 1 "" "$YAIMCTL" -s "$SD/none.sock" status
[ "$(cat "$T/err")" = "yaimctl: yaimd is not running: $SD/none.sock: No such file or directory" ] ||
    { cat "$T/err"; fail "message for a missing socket"; }
expect 1 "usage: yaimctl" "$YAIMCTL" frobnicate
log "-V and -h, as yaimctl.8 says"
expect 0 "" "$YAIMCTL" -V
grep -Eqx 'yaimctl [0-9]+\.[0-9]+.*' "$T/out" || fail "yaimctl -V: $(cat "$T/out")"
"$YAIMCTL" --version | cmp -s - "$T/out" || fail "--version differs from -V"
expect 0 "" "$YAIMCTL" -h
head -n 1 "$T/out" | grep -qxF 'usage: yaimctl [-hjV] [-s socket] command [argument ...]' ||
    fail "yaimctl -h: $(head -n 1 "$T/out")"
grep -q -- '--version' "$T/out" || fail "yaimctl -h names no --version"
expect 1 "usage: yaimctl" "$YAIMCTL" log loud

log "start: socket 0600 root:root, status"
start_yaimd
wait_until 15 up_is 2 || { cat "$T/yaimd.log"; fail "addresses not up"; }
[ "$(stat -c '%a %U %G %F' "$S")" = "600 root root socket" ] ||
    fail "socket is $(stat -c '%a %U %G %F' "$S")"
wait_until 5 py 's["node"]["state"] == "in"' || { ctl status; fail "not in"; }
ctl status >"$T/status" || fail "status"
grep -q '^node: *y1$' "$T/status" || { cat "$T/status"; fail "status: node"; }
grep -q '^drained: *no$' "$T/status" || fail "status: drained"
grep -q "^etcd: *$ETCD_ENDPOINT\$" "$T/status" || fail "status: etcd"
grep -q '^IP  *HOLDER  *FOR  *MARK  *HERE  *REFUSED$' "$T/status" ||
    { cat "$T/status"; fail "status: table header"; }
grep -q '^198.18.0.1  *y1  *[0-9.]*s  *[0-9a-f]*  *up  *-$' "$T/status" ||
    { cat "$T/status"; fail "status: 198.18.0.1 row"; }
py 's["node"]["name"] == "y1" and s["node"]["healthy"] is True and
    s["node"]["drained"] is False and s["node"]["lease"] is not None and
    0 < s["node"]["ttl_left_ms"] <= 3000 and
    0 <= s["node"]["fence_left_ms"] < s["node"]["ttl_left_ms"] and
    s["node"]["etcd_endpoint"] == "'"$ETCD_ENDPOINT"'" and
    [p["ip"] for p in s["pool"]] == ["198.18.0.1", "198.18.0.2"] and
    all(p["holder"] == "y1" and p["local"] == "up" and
        p["mark_lease"] == s["node"]["lease"] and p["held_ms"] >= 0
        for p in s["pool"])' || { ctl -j status; fail "-j status"; }

log "pool add/del: canonical form, exact keys, per-IP results"
etcdctl_ put "${P}ips/198.18.0.30" "" >/dev/null
expect 0 "" ctl pool add 198.18.0.3 2001:db8::5
grep -qx "198.18.0.3: added" "$T/out" || { cat "$T/out"; fail "add output"; }
[ "$(etcdctl_ get --keys-only "${P}ips/198.18.0.3")" = "${P}ips/198.18.0.3" ] ||
    fail "198.18.0.3 not in etcd"
[ -z "$(etcdctl_ get --print-value-only "${P}ips/198.18.0.3")" ] ||
    fail "pool key has a value"
wait_until 10 up_is 4 || { ctl status; fail "198.18.0.3 not taken"; }
expect 0 "" ctl pool add 198.18.0.3
grep -qx "198.18.0.3: already in the pool" "$T/out" || fail "re-add output"
expect 1 "198.18.0.03: not in canonical form (write 198.18.0.3)" \
    ctl pool add 198.18.0.03
expect 1 "2001:DB8::7: not in canonical form (write 2001:db8::7)" \
    ctl pool add 198.18.0.4 2001:DB8::7
grep -qx "198.18.0.4: added" "$T/out" || fail "the good IP of a mixed request"
expect 1 "bogus: not an IP address" ctl pool add bogus
[ -z "$(etcdctl_ get --keys-only --prefix "${P}ips/198.18.0.03")" ] ||
    fail "a non-canonical key was written"
expect 0 "" ctl pool del 198.18.0.3 198.18.0.4 2001:db8::5
grep -qx "198.18.0.3: deleted" "$T/out" || fail "del output"
[ -z "$(etcdctl_ get --keys-only "${P}ips/198.18.0.3")" ] || fail "not deleted"
[ -n "$(etcdctl_ get --keys-only "${P}ips/198.18.0.30")" ] ||
    fail "pool del 198.18.0.3 deleted 198.18.0.30: a prefix delete"
expect 1 "198.18.0.3: not in the pool" ctl pool del 198.18.0.3
ctl -j pool del 198.18.0.30 | python3 -c '
import json, sys; r = json.load(sys.stdin)
sys.exit(0 if r["ok"] and r["results"][0]["ip"] == "198.18.0.30" else 1)' ||
    fail "-j pool del"
wait_until 10 up_is 2 || { ctl status; fail "deleted IPs still up"; }

log "drain: every address released, out of the cluster, across SIGHUP"
expect 0 "" ctl drain
grep -q "^drained" "$T/out" || { cat "$T/out"; fail "drain output"; }
up_is 0 || fail "addresses up after drain returned"
marks_is 0 || fail "marks after drain"
[ -z "$(etcdctl_ get "${P}nodes/y1")" ] || fail "node key after drain"
py 's["node"]["drained"] is True and s["node"]["lease"] is None' ||
    fail "status does not show drained"
ctl status | grep -q '^drained: *yes$' || fail "text status: drained"
kill -HUP "$Y"
wait_until 10 grep -q "configuration reloaded" "$T/yaimd.log" || fail "SIGHUP"
sleep 2
up_is 0 || fail "a drained node claimed after SIGHUP"
[ -z "$(etcdctl_ get "${P}nodes/y1")" ] || fail "a drained node joined"
py 's["node"]["drained"] is True' || fail "drain lost by SIGHUP"

log "undrain: back in"
expect 0 "" ctl undrain
wait_until 15 up_is 2 || { ctl status; fail "not back after undrain"; }
py 's["node"]["drained"] is False' || fail "still drained"

log "reload: good, bad (with its position), immutable keys"
expect 0 "" ctl reload
grep -qx "configuration reloaded" "$T/out" || fail "reload output"
cp "$T/y.yml" "$T/y.good"
sed -i 's/^ttl: .*/ttl: soon/' "$T/y.yml"
line=$(grep -n '^ttl:' "$T/y.yml" | cut -d: -f1)
expect 1 "reload failed, keeping the old configuration: $T/y.yml:$line:6: ttl: expected a number" \
    ctl reload
cp "$T/y.good" "$T/y.yml"
sed -i "s|^control-socket: .*|control-socket: $SD/other.sock|" "$T/y.yml"
expect 1 "control-socket cannot change while running" ctl reload
cp "$T/y.good" "$T/y.yml"
expect 0 "" ctl reload
up_is 2 || fail "addresses lost by reloads"

log "log verbose|brief: every process"
expect 0 "" ctl log brief
grep -qx "log level brief" "$T/out" || fail "log output"
for p in parent checker dcs; do
	wait_until 5 grep -q "$p.*log level now brief" "$T/yaimd.log" ||
	    { tail "$T/yaimd.log"; fail "$p did not change its log level"; }
done
n=$(grep -c "control: client [0-9]*: pid" "$T/yaimd.log")
ctl status >/dev/null
[ "$(grep -c "control: client [0-9]*: pid" "$T/yaimd.log")" -eq "$n" ] ||
    fail "debug lines while brief"
expect 0 "" ctl log verbose
wait_until 5 grep -q "dcs.*log level now verbose" "$T/yaimd.log" || fail "verbose"

log "who may connect: root only at 0600; SO_PEERCRED behind the mode"
NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
expect 1 "cannot connect to yaimd: $S: Permission denied" \
    "${NOBODY[@]}" "$YAIMCTL" -s "$S" status
chmod 0666 "$S"
expect 1 "permission denied: neither root nor in control-group" \
    "${NOBODY[@]}" "$YAIMCTL" -s "$S" status
grep -q "refusing pid [0-9]*: uid 65534" "$T/yaimd.log" || fail "refusal not logged"
chmod 0600 "$S"

log "bounds: clients, request size, garbage; dcs survives all"
python3 - "$S" >"$T/py.out" 2>&1 <<'EOF' &
import socket, struct, sys, time
path = sys.argv[1]
held = []
for i in range(8):
    s = socket.socket(socket.AF_UNIX); s.connect(path); held.append(s)
time.sleep(0.5)
extra = socket.socket(socket.AF_UNIX); extra.connect(path)
extra.settimeout(5)
data = b""
while True:
    b = extra.recv(4096)
    if not b: break
    data += b
print("extra:", data[20:20 + 64].split(b"\0")[0].decode(), flush=True)
open(path + ".held", "w").close()
time.sleep(3)
EOF
PY=$!
track_pid "$PY"
wait_until 10 test -e "$S.held" || { cat "$T/py.out"; fail "clients"; }
grep -q "extra: too many clients (8); try again" "$T/py.out" ||
    { cat "$T/py.out"; fail "ninth client not turned away"; }
expect 1 "too many clients (8); try again" ctl status
wait "$PY"
wait_until 5 alive || fail "dcs died of too many clients"
python3 - "$S" <<'EOF' || fail "oversized request not refused"
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
# IMSG_CTL_REQ_POOL_ADD claiming 1 MiB
s.sendall(struct.pack("=IIII", 701, 1 << 20, 0, 0) + b"\0" * 4096)
data = b""
try:
    while True:
        b = s.recv(4096)
        if not b: break
        data += b
except ConnectionResetError:
    # closed with our bytes unread: the answer may be lost, the log says
    sys.exit(0)
sys.exit(0 if b"more than 65536" in data else 1)
EOF
python3 - "$S" <<'EOF' || fail "garbage requests not refused"
import socket, struct, sys
for msg in (struct.pack("=IIII", 12345, 16, 0, 0),      # not a request
            struct.pack("=IIII", 700, 20, 0, 0) + b"xxxx",  # status + junk
            struct.pack("=IIII", 701, 16 + 257 * 48, 0, 0) + b"1" * 257 * 48,
            struct.pack("=IIII", 706, 20, 0, 0) + struct.pack("=I", 7),
            struct.pack("=IIII", 700, 3, 0, 0)):          # len < header
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
    s.sendall(msg)
    data = b""
    while True:
        b = s.recv(4096)
        if not b: break
        data += b
    if struct.unpack("=I", data[:4])[0] != 803:
        sys.exit(1)
EOF
python3 - "$S" <<'EOF' || fail "pipelined requests"
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
s.sendall(struct.pack("=IIII", 700, 16, 0, 0) * 20)
data = b""; ends = 0
while ends < 20:
    b = s.recv(65536)
    if not b: break
    data += b
    ends = 0; off = 0
    while off + 16 <= len(data):
        t, l = struct.unpack("=II", data[off:off + 8])
        if off + l > len(data): break
        ends += t == 803; off += l
sys.exit(0 if ends == 20 else 1)
EOF
wait_until 5 alive || fail "dcs died of bad requests"
grep -q "control: client [0-9]* .*more than 65536.*closing it" "$T/yaimd.log" ||
    fail "oversized request not logged"
up_is 2 || fail "addresses lost to bad clients"

log "a second yaimd on the same socket refuses to start"
expect 1 "another yaimd is running there" ip netns exec "$ns" "$YAIMD" -d -f "$T/y.yml"
alive || fail "the first yaimd suffered from the second"

log "a crash leaves a stale socket: replaced; control-group 0660"
kill -KILL "$Y"
wait_until 5 bash -c "! kill -0 $Y 2>/dev/null" || fail "yaimd not killed"
[ -S "$S" ] || fail "no stale socket to test with"
expect 1 "yaimd is not running: $S: Connection refused" ctl status
write_config "control-group: daemon"
start_yaimd
wait_until 15 alive || { tail -n 20 "$T/yaimd.log"; fail "no restart over a stale socket"; }
[ "$(stat -c '%a %U %G' "$S")" = "660 root daemon" ] ||
    fail "socket is $(stat -c '%a %U %G' "$S") with control-group"
expect 0 "" setpriv --reuid=nobody --regid=daemon --clear-groups "$YAIMCTL" -s "$S" status
expect 0 "" setpriv --reuid=nobody --regid=nogroup --groups=1 "$YAIMCTL" -s "$S" status
expect 1 "Permission denied" "${NOBODY[@]}" "$YAIMCTL" -s "$S" status

log "SIGTERM: the socket goes with yaimd"
kill -TERM "$Y"
wait_until 10 bash -c "! kill -0 $Y 2>/dev/null" || fail "yaimd did not exit"
[ ! -e "$S" ] || fail "socket left behind"
log "ok"
