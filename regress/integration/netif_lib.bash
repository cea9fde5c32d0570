# Helpers for the netif_*.sh integration tests.  Sourced after lib.sh;
# not a test itself (the runner runs *.sh only).
#
# A LAN: namespace "br" holds a bridge; every host namespace gets eth0
# on it.  Hosts: A 198.18.0.1, B .2, C .3 (/24) and 2001:db8::N/64.
need_root
need_cmd ip python3
DRIVER=$TOOLS/netif-driver
[ -x "$DRIVER" ] || fail "$DRIVER not built"

# nf_lan HOST...: creates the bridge namespace and one namespace per host;
# sets NS_<host>, MAC_<host>.
nf_lan() {
	local h n=0 ns
	NS_br=$(netns_add br)
	ip -n "$NS_br" link add br0 type bridge || fail "bridge"
	ip -n "$NS_br" link set br0 up
	for h; do
		n=$((n + 1))
		ns=$(netns_add "$h")
		ip -n "$NS_br" link add "p$h" type veth peer name eth0 netns "$ns" ||
		    fail "veth for $h"
		ip -n "$NS_br" link set "p$h" master br0 up
		ip -n "$ns" link set eth0 up
		ip -n "$ns" addr add "198.18.0.$n/24" dev eth0
		ip -n "$ns" addr add "2001:db8::$n/64" dev eth0 nodad
		eval "NS_$h=$ns"
		eval "MAC_$h=$(ip -n "$ns" -j link show eth0 |
		    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')"
	done
}

# nf_start NAME NS DRIVER-ARGS...: runs the driver in NS with commands from
# a fifo; output in $T/NAME.out (timestamped), log in $T/NAME.err.  The
# array NF_WRAP, if set, prefixes the command (valgrind).
nf_start() {
	local name=$1 ns=$2 fd; shift 2
	mkfifo "$T/$name.in"
	ip netns exec "$ns" ${NF_WRAP[@]+"${NF_WRAP[@]}"} "$DRIVER" -t "$@" \
	    <"$T/$name.in" \
	    >"$T/$name.out" 2>"$T/$name.err" &
	eval "PID_$name=$!"
	track_pid "$!"
	exec {fd}>"$T/$name.in"
	eval "FD_$name=$fd"
	nf_wait "$name" ' ready$' "${NF_START_WAIT:-5}" || { cat "$T/$name.err"; fail "$name did not start"; }
}

# nf_cmd NAME LINE: one command to the driver.
nf_cmd() { local fd; eval "fd=\$FD_$1"; echo "$2" >&"$fd"; }
# nf_close NAME: EOF on the driver's stdin.
nf_close() { local fd; eval "fd=\$FD_$1"; exec {fd}>&-; }

# nf_wait NAME ERE [SECONDS]: until a line of NAME's output matches.
nf_wait() { wait_until "${3:-3}" grep -qE -- "$2" "$T/$1.out"; }
nf_wait_err() { wait_until "${3:-3}" grep -qE -- "$2" "$T/$1.err"; }
# nf_count NAME ERE: how many output lines match.
nf_count() { grep -cE -- "$2" "$T/$1.out"; }

# nf_addrs NS: every address of eth0 as "addr/plen proto=N label=L flags=F",
# read with a raw netlink dump (iproute2 6.1 does not print IFA_PROTO).
nf_addrs() {
	ip netns exec "$1" python3 - <<'PY'
import socket, struct
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, IFA_FLAGS, IFA_PROTO = 1, 2, 3, 8, 11
idx = socket.if_nametoindex("eth0")
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
s.bind((0, 0))
req = struct.pack("=LHHLL", 0, 22, 0x301, 1, 0) + struct.pack("=BBBBI", 0, 0, 0, 0, 0)
req = struct.pack("=L", len(req)) + req[4:]
s.send(req)
done = False
while not done:
    data = s.recv(65536)
    off = 0
    while off + 16 <= len(data):
        ln, typ, flg, seq, pid = struct.unpack_from("=LHHLL", data, off)
        if typ == 3 or typ == 2:
            done = True
            break
        if typ == 20:
            fam, plen, fl, scope, ifi = struct.unpack_from("=BBBBI", data, off + 16)
            a = off + 24
            attrs = {}
            while a + 4 <= off + ln:
                alen, atyp = struct.unpack_from("=HH", data, a)
                if alen < 4:
                    break
                attrs[atyp] = data[a + 4:a + alen]
                a += (alen + 3) & ~3
            if ifi == idx:
                raw = attrs.get(IFA_LOCAL, attrs.get(IFA_ADDRESS))
                addr = socket.inet_ntop(fam, raw)
                proto = attrs.get(IFA_PROTO, b"\0")[0]
                label = attrs.get(IFA_LABEL, b"").rstrip(b"\0").decode()
                flags = struct.unpack("=I", attrs[IFA_FLAGS])[0] if IFA_FLAGS in attrs else fl
                print("%s/%d proto=%d label=%s flags=0x%x" % (addr, plen, proto, label or "-", flags))
        off += (ln + 3) & ~3
PY
}

# nf_has NS ERE: an address line of nf_addrs matches.
nf_has() { nf_addrs "$1" >"$T/.addrs" && grep -qE -- "$2" "$T/.addrs"; }
nf_hasnt() { ! nf_has "$@"; }

# now_us: CLOCK_REALTIME in microseconds, as the driver's -t stamps.
now_us() { echo $(( $(date +%s%N) / 1000 )); }
# stamp_us NAME ERE: timestamp (us) of NAME's first output line matching.
stamp_us() {
	grep -m1 -E -- "$2" "$T/$1.out" | awk '{ split($1, p, "."); printf "%.0f\n", p[1] * 1000000 + p[2] }'
}

# nf_count_is NAME ERE N: exactly N output lines match (for wait_until,
# which must re-evaluate: never pass it "$(...)").
nf_count_is() { [ "$(nf_count "$1" "$2")" -eq "$3" ]; }

# neigh_mac NS IP: lladdr of NS's eth0 neighbour entry for IP ("" if none).
neigh_mac() {
	ip -n "$1" -j neigh show "$2" dev eth0 | python3 -c '
import json, sys
n = json.load(sys.stdin)
print(n[0].get("lladdr", "") if n else "")'
}
# neigh_is NS IP MAC: the entry carries MAC.
neigh_is() { [ "$(neigh_mac "$1" "$2")" = "$3" ]; }
