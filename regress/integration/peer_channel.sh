#!/usr/bin/env bash
# The peer channel (DESIGN.md section 10a) in two namespaces joined by a
# veth pair: the parent binds the UDP socket and dcs holds it (any address
# on the interface by default; peer-address when set); peer-key-file must
# be a root-only file; forged datagrams of every kind are dropped, counted
# and logged, at most one line per reason in ten seconds, and the daemon
# keeps running; an interface without an address, a taken port, peers: no
# and SIGHUP of the peer keys.
. "$(dirname "$0")/../lib.sh" || exit 1
# configs naming peer-key-file must be root-only (DESIGN.md section 11)
umask 077
need_root
need_cmd ip python3 ss
setup_user
na=$(netns_add pca)
nb=$(netns_add pcb)
ip link add pca0 netns "$na" type veth peer name pcb0 netns "$nb" ||
    fail "veth"
ip -n "$na" link set pca0 up
ip -n "$nb" link set pcb0 up
ip -n "$na" addr add 198.18.7.1/24 dev pca0
ip -n "$nb" addr add 198.18.7.2/24 dev pcb0
start_etcd pc "$na" 198.18.7.1
PORT=7405	# the default, on purpose

conf() {	# conf NAME IFACE EXTRA...
	local name=$1 ifc=$2
	shift 2
	cat <<EOT
dcs-clustername: peerchan
dcs-endpoints: [ '$ETCD_ENDPOINT' ]
interface: $ifc
nodename: $name
ttl: 3000
checker-type: exec
exec-command: /bin/true
check-interval: 200
control-socket: $T/$name.sock
EOT
	printf '%s\n' "$@"
}

# The key file: root-only, else yaimd refuses to start.
python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())' \
    >"$T/peer.key"
chmod 0644 "$T/peer.key"
conf pa pca0 "peer-key-file: $T/peer.key" >"$T/a.yml"
ip netns exec "$na" timeout 20 "$YAIMD" -d -f "$T/a.yml" >"$T/bad.log" 2>&1 &&
    fail "started with a peer-key-file readable by others"
grep -q "peer.key: must be owned by root and not accessible to group or others" \
    "$T/bad.log" || { cat "$T/bad.log"; fail "no clear error for the key file mode"; }
chmod 0600 "$T/peer.key"

conf pb pcb0 "peer-address: 198.18.7.2" >"$T/b.yml"
ip netns exec "$na" "$YAIMD" -dv -f "$T/a.yml" >"$T/a.log" 2>&1 &
A=$!
track_pid "$A"
ip netns exec "$nb" "$YAIMD" -dv -f "$T/b.yml" >"$T/b.log" 2>&1 &
B=$!
track_pid "$B"
wait_until 15 grep -q "read [0-9]* keys" "$T/a.log" ||
    { cat "$T/a.log"; fail "node pa did not start"; }
wait_until 15 grep -q "read [0-9]* keys" "$T/b.log" ||
    { cat "$T/b.log"; fail "node pb did not start"; }
grep -q "peer channel on any address of pca0 port $PORT" "$T/a.log" ||
    fail "pa: no log line for the peer channel"
grep -q "peer channel on 198.18.7.2 port $PORT" "$T/b.log" ||
    fail "pb: no log line for the peer channel"
grep -q "peer channel: telling the other nodes 198.18.7.1$" "$T/a.log" ||
    fail "pa: not the interface's own address to publish"

# holder NS PATTERN: the pid holding the UDP socket whose local address
# matches PATTERN; it must be the dcs child, not the parent.
holder() {
	ip netns exec "$1" ss -uanpH | awk -v p="$2" '$4 ~ p' |
	    sed -n 's/.*pid=\([0-9]*\),.*/\1/p' | sort -u
}
check_holder() {	# check_holder NS PATTERN PARENT
	local pids pid
	pids=$(holder "$1" "$2")
	[ -n "$pids" ] || { ip netns exec "$1" ss -uanp; fail "no socket like $2 in $1"; }
	[ "$(echo "$pids" | wc -l)" -eq 1 ] || fail "more than one process holds $2: $pids"
	pid=$pids
	[ "$pid" != "$3" ] || fail "the parent holds the peer socket $2"
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q '^yaimd: dcs' ||
	    fail "pid $pid holding $2 is not the dcs child: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
	[ "$(proc_status "$pid" PPid)" = "$3" ] || fail "pid $pid is not a child of $3"
	[ "$(proc_status "$pid" Uid | cut -f1)" != 0 ] || fail "dcs runs as root"
}
check_holder "$na" "%pca0:$PORT\$" "$A"
check_holder "$nb" "^198\\.18\\.7\\.2:$PORT\$" "$B"
log "pa: any address on pca0, pb: 198.18.7.2; both held by dcs"

# Forged datagrams from pb's namespace to pa, each kind several times.
cat >"$T/forge.py" <<'EOT'
import hmac, hashlib, os, socket, struct, sys
host, port, me = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
def msg(sender, dest, version=1, key=os.urandom(32)):
    h = b'YP' + bytes([version, 1, len(sender), len(dest)]) + \
        struct.pack('>HqQQQQ', 0, 0, 1, 1, 1, 0) + sender + dest
    return h + hmac.new(key, h, hashlib.sha256).digest()
kinds = [b'hi', b'X' * 600, b'X' * 100, msg(b'mallory', me, version=2),
         msg(b'mallory', me), msg(me, me), msg(b'mallory', me)[:-1]]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for k in kinds:
    for i in range(20):
        s.sendto(k, (host, port))
EOT
ip netns exec "$nb" python3 "$T/forge.py" 198.18.7.1 "$PORT" pa ||
    fail "forge.py"
reasons=("too short" "too long" "not a yaim peer message" "unknown version"
    "unknown sender" "claims to come from this node" "malformed")
for r in "${reasons[@]}"; do
	wait_until 5 grep -q "peer channel: dropped [0-9]* datagram(s) $r" \
	    "$T/a.log" || { grep "peer channel" "$T/a.log"; fail "no drop logged: $r"; }
	n=$(grep -c "peer channel: dropped [0-9]* datagram(s) $r" "$T/a.log")
	[ "$n" -eq 1 ] || fail "$n log lines for \"$r\" within ten seconds"
done
grep -q "dropped 1 datagram(s) too short, the last from .*198.18.7.2" \
    "$T/a.log" || fail "the drop log does not name the sender's address"
log "seven kinds of forgeries dropped, one log line each"

# The same against the socket bound to peer-address, and the daemons live.
ip netns exec "$na" python3 "$T/forge.py" 198.18.7.2 "$PORT" pb ||
    fail "forge.py"
wait_until 5 grep -q "peer channel: dropped 1 datagram(s) unknown sender" \
    "$T/b.log" || fail "pb: forged datagram not dropped"
kill -0 "$A" && kill -0 "$B" || fail "a daemon died"
grep -q "fatal\|FATAL" "$T/a.log" "$T/b.log" && fail "fatal in a log"

log "an interface without an address: bound all the same, and a warning"
ip -n "$nb" link add pcd0 type veth peer name pcd1
ip -n "$nb" link set pcd0 up && ip -n "$nb" link set pcd1 up
# (another port: pb's socket in this namespace has 7405)
conf pc pcd0 "peer-port: 7406" >"$T/c.yml"
ip netns exec "$nb" "$YAIMD" -dv -f "$T/c.yml" >"$T/c.log" 2>&1 &
C=$!
track_pid "$C"
wait_until 15 grep -q "pcd0 has no address to tell the other nodes; set peer-address" \
    "$T/c.log" || { cat "$T/c.log"; fail "no warning for an interface without address"; }
# (polled: holder is empty while the socket is in flight to dcs)
held() { test -n "$(holder "$@")"; }
wait_until 15 held "$nb" "%pcd0:7406\$" ||
    { ip netns exec "$nb" ss -uanp; cat "$T/c.log"; fail "pc: no socket on pcd0"; }
kill -TERM "$C"
wait_until 10 sh -c "! kill -0 $C 2>/dev/null" || fail "pc did not exit"

log "the port taken: yaimd does not start"
conf pe pcd0 "peer-address: 198.18.7.2" >"$T/e.yml"
ip netns exec "$nb" timeout 20 "$YAIMD" -d -f "$T/e.yml" >"$T/e.log" 2>&1 &&
    fail "started with its peer port taken"
grep -q "peer socket: cannot bind to 198.18.7.2 port $PORT: Address already in use" \
    "$T/e.log" || { cat "$T/e.log"; fail "no clear error for a taken port"; }

log "peers: no: no socket at all"
conf pd pcd0 "peers: no" >"$T/d.yml"
ip netns exec "$nb" "$YAIMD" -dv -f "$T/d.yml" >"$T/d.log" 2>&1 &
D=$!
track_pid "$D"
wait_until 15 grep -q "read [0-9]* keys" "$T/d.log" ||
    { cat "$T/d.log"; fail "pd did not start"; }
for pid in $D $(child_pids "$D"); do
	ip netns exec "$nb" ss -uanpH | grep -q "pid=$pid," &&
	    fail "peers: no, but pid $pid holds a UDP socket"
done
grep "peer channel" "$T/d.log" && fail "peers: no, but a peer channel"
kill -TERM "$D"

log "SIGHUP: peer-port cannot change, peer-key-file can"
conf pa pca0 "peer-key-file: $T/peer.key" "peer-port: 7999" >"$T/a.yml"
kill -HUP "$A"
wait_until 5 grep -q "reload failed, keeping the old configuration: peer-port cannot change while running" \
    "$T/a.log" || fail "pa: peer-port changed on reload"
python3 -c 'import base64, os; print(base64.b64encode(os.urandom(48)).decode())' \
    >"$T/peer2.key"
chmod 0600 "$T/peer2.key"
conf pa pca0 "peer-key-file: $T/peer2.key" >"$T/a.yml"
kill -HUP "$A"
wait_until 5 grep -q "configuration reloaded" "$T/a.log" ||
    fail "pa: a new peer-key-file was not taken"
echo "short" >"$T/peer2.key"
kill -HUP "$A"
wait_until 5 grep -q "reload failed, keeping the old configuration: $T/peer2.key: the key is not base64" \
    "$T/a.log" || { tail "$T/a.log"; fail "pa: a bad key file on reload"; }

log "SIGTERM: both leave"
kill -TERM "$A" "$B"
wait_until 10 sh -c "! kill -0 $A 2>/dev/null && ! kill -0 $B 2>/dev/null" ||
    fail "did not exit"
wait "$A"; ra=$?
wait "$B"; rb=$?
[ "$ra" -eq 0 ] && [ "$rb" -eq 0 ] || fail "exit status $ra, $rb"
echo "PASS"
