# The cluster lab: N yaimd nodes in network namespaces on one bridge, a
# client namespace, etcd (one member or three), per-node health targets and
# responders, the invariant monitor (vipmon) and the client probe (probe).
#
# Source it after regress/lib.sh:
#	. "$TOP/regress/lib.sh"; . "$TOP/regress/cluster/lab.sh"
# Every function is described in regress/cluster/README.md.
#
# Addresses (all inside namespaces this lab creates):
#	198.18.0.(10+I)/24	node I on veth<I>, MAC 02:00:00:00:00:<I in hex>
#	198.18.0.200/24		the client, MAC 02:00:00:00:00:c8
#	198.18.0.254/24		the bridge (single etcd listens here)
#	198.18.0.251-253	the three etcd members (lab_up N etcd3)
#	198.18.1.0/24		the VIP pool (allowed-networks)

LAB_SUBNET=198.18.0
LAB_POOL_NET=${LAB_POOL_NET:-198.18.1.0/24}
LAB_POOL_MATCH=${LAB_POOL_MATCH:-198.18.1.}	# text prefix of pool IPs
LAB_PORT=${LAB_PORT:-7}				# responder port
LAB_HEALTH_PORT=${LAB_HEALTH_PORT:-8080}
LAB_DCS_NAMESPACE=${LAB_DCS_NAMESPACE:-yaimlab}
LAB_CLUSTER=${LAB_CLUSTER:-lab}
LAB_PREFIX="/$LAB_DCS_NAMESPACE/$LAB_CLUSTER/"
LAB_INTERVAL=${LAB_INTERVAL:-200}		# ms, yaimd interval
LAB_TTL=${LAB_TTL:-2000}			# ms, yaimd ttl
LAB_MAXTIME=${LAB_MAXTIME:-600}			# s, bound for every helper process
LAB_CDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

LAB_N=0
LAB_DIR=
LAB_NS_BR=${NSPREFIX}br
LAB_NS_CLIENT=${NSPREFIX}client
LAB_ETCD_N=0
LAB_ETCD_ADDRS=()
LAB_ETCD_PIDS=()
LAB_NODE_PIDS=()	# yaimd per node, "" when not running
LAB_PAUSED=()		# PIDs stopped by lab_pause_node, per node
declare -a LAB_NODE_NETWORKS	# per node: allowed-networks (see _lab_networks)
LAB_VIPMON_PID=
LAB_PROBE_PID=

lab_ns() { echo "${NSPREFIX}node$1"; }
lab_if() { echo "veth$1"; }
lab_node_addr() { echo "$LAB_SUBNET.$((10 + $1))"; }
lab_node_mac() { printf '02:00:00:00:00:%02x' "$1"; }
lab_log() { log "lab: $*"; }

# lab_fail MSG: show the lab's logs, then fail.
lab_fail() {
	lab_dump_logs >&2
	fail "$*"
}

# lab_dump_logs: the tail of every log the lab keeps.
lab_dump_logs() {
	local f
	[ -n "$LAB_DIR" ] || return 0
	for f in "$LAB_DIR"/*.log "$LAB_DIR"/*.out; do
		[ -s "$f" ] || continue
		echo "==== $(basename "$f") (last 40 lines)"
		tail -n 40 "$f"
	done
}

# lab_up N [etcd3]: bridge, N nodes, client, etcd, health targets and
# responders.  Everything is undone by the lib.sh trap.
lab_up() {
	local n=$1 etcd=${2:-etcd1} i
	need_root
	need_cmd ip etcd etcdctl python3
	[ "$n" -ge 1 ] && [ "$n" -le 60 ] || fail "lab_up: 1..60 nodes, not $n"
	LAB_N=$n
	LAB_DIR=$T/lab
	mkdir -p "$LAB_DIR"
	: >"$LAB_DIR/pool"
	: >"$LAB_DIR/marks"
	cleanup_add _lab_keep

	netns_add br >/dev/null
	ip -n "$LAB_NS_BR" link add br0 address 02:00:00:00:00:fe \
	    type bridge forward_delay 0 stp_state 0 ||
	    fail "lab_up: no bridge (kernel module bridge?)"
	ip -n "$LAB_NS_BR" addr add "$LAB_SUBNET.254/24" dev br0
	ip -n "$LAB_NS_BR" link set br0 up

	netns_add client >/dev/null
	_lab_attach "$LAB_NS_CLIENT" cl0 pc 02:00:00:00:00:c8 \
	    "$LAB_SUBNET.200/24"
	# The pool is on-link for the client: it ARPs for each VIP.
	ip -n "$LAB_NS_CLIENT" route add "$LAB_POOL_NET" dev cl0

	for ((i = 1; i <= n; i++)); do
		netns_add "node$i" >/dev/null
		_lab_attach "$(lab_ns "$i")" "$(lab_if "$i")" "p$i" \
		    "$(lab_node_mac "$i")" "$(lab_node_addr "$i")/24"
		LAB_NODE_PIDS[i]=
		LAB_PAUSED[i]=
	done
	# Runs before the namespaces are deleted (cleanups run in reverse).
	cleanup_add _lab_reap

	case $etcd in
	etcd1) lab_etcd_up 1 ;;
	etcd3) lab_etcd_up 3 ;;
	*) fail "lab_up: etcd1 or etcd3, not $etcd" ;;
	esac

	for ((i = 1; i <= n; i++)); do
		_lab_services "$i"
	done
	for ((i = 1; i <= n; i++)); do
		wait_until 10 _lab_services_ready "$i" ||
		    lab_fail "lab_up: node$i's health target or responder is not up"
	done
	lab_log "up: $n nodes, $LAB_ETCD_N etcd member(s), prefix $LAB_PREFIX"
}

# _lab_attach NS IFNAME PEERNAME MAC ADDR/LEN: a veth from NS to br0.
_lab_attach() {
	local ns=$1 ifn=$2 peer=$3 mac=$4 addr=$5
	ip -n "$LAB_NS_BR" link add "$peer" type veth peer name "$ifn" \
	    netns "$ns" || fail "lab: veth $ifn in $ns"
	ip -n "$LAB_NS_BR" link set "$peer" master br0 up
	ip -n "$ns" link set "$ifn" address "$mac"
	ip -n "$ns" addr add "$addr" dev "$ifn"
	ip -n "$ns" link set "$ifn" up
}

# _lab_services I: node I's health target and responder.
_lab_services() {
	local i=$1 ns
	ns=$(lab_ns "$i")
	lab_health "$i" 200
	ip netns exec "$ns" python3 "$TOP/regress/tools/httpd.py" \
	    --bind 127.0.0.1 --port "$LAB_HEALTH_PORT" \
	    --control "$LAB_DIR/node$i.health.json" \
	    >"$LAB_DIR/httpd$i.log" 2>&1 &
	track_pid $!
	ip netns exec "$ns" "$TOOLS/responder" -n "node$i" -p "$LAB_PORT" \
	    -t "$LAB_MAXTIME" >"$LAB_DIR/responder$i.log" 2>&1 &
	track_pid $!
}

_lab_services_ready() {
	local ns
	ns=$(lab_ns "$1")
	ip netns exec "$ns" python3 -c "
import socket, sys
for port in ($LAB_HEALTH_PORT, $LAB_PORT):
    socket.create_connection(('127.0.0.1', port), timeout=1).close()
"
}

# _lab_keep: with LAB_KEEP=DIR, the lab's files are copied there at exit.
_lab_keep() {
	[ -n "${LAB_KEEP:-}" ] || return 0
	mkdir -p "$LAB_KEEP" && cp -r "$LAB_DIR" "$LAB_KEEP/$NSPREFIX"
}

# _lab_reap: kill what is still running inside our namespaces (yaimd's
# children after a SIGKILL of their parent, for instance).  These are all
# processes this test started; we find them by namespace, not by name.
_lab_reap() {
	local ns p i
	for ns in $(ip netns list | awk '{ print $1 }' | grep "^$NSPREFIX"); do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -CONT "$p" 2>/dev/null
			kill -KILL "$p" 2>/dev/null
		done
	done
	for i in $(seq 1 50); do
		[ -z "$(for ns in $(ip netns list | awk '{ print $1 }' |
		    grep "^$NSPREFIX"); do ip netns pids "$ns"; done)" ] &&
		    break
		sleep 0.1
	done
}

#
# etcd
#

# lab_etcd_up 1|3: one member on the bridge address, or three members
# e1..e3 on 198.18.0.251..253, all in the bridge namespace.  Sets
# ETCD_ENDPOINT and ETCD_NS for lib.sh's etcdctl_.
lab_etcd_up() {
	local n=$1 k cluster=
	LAB_ETCD_N=$n
	LAB_ETCD_ADDRS=()
	if [ "$n" -eq 1 ]; then
		LAB_ETCD_ADDRS[1]=$LAB_SUBNET.254
	else
		for ((k = 1; k <= n; k++)); do
			LAB_ETCD_ADDRS[k]=$LAB_SUBNET.$((250 + k))
			ip -n "$LAB_NS_BR" addr add "${LAB_ETCD_ADDRS[k]}/24" \
			    dev br0
		done
	fi
	for ((k = 1; k <= n; k++)); do
		cluster="$cluster${cluster:+,}e$k=http://${LAB_ETCD_ADDRS[k]}:2380"
	done
	LAB_ETCD_CLUSTER=$cluster
	ETCD_ENDPOINT=$(lab_etcd_endpoints ,)
	ETCD_NS=$LAB_NS_BR
	for ((k = 1; k <= n; k++)); do
		lab_etcd_start "$k"
	done
	wait_until 30 etcdctl_ endpoint health --cluster ||
	    lab_fail "lab: etcd did not become healthy"
}

# lab_etcd_endpoints [SEP]: the client URLs, separated by SEP (newline).
lab_etcd_endpoints() {
	local k sep=${1:-$'\n'} out=
	for ((k = 1; k <= LAB_ETCD_N; k++)); do
		out="$out${out:+$sep}http://${LAB_ETCD_ADDRS[k]}:2379"
	done
	echo "$out"
}

# lab_etcd_start K: start (or restart, same data) member K.
lab_etcd_start() {
	local k=$1 a=${LAB_ETCD_ADDRS[$1]}
	mkdir -p "$LAB_DIR/etcd$k"
	ip netns exec "$LAB_NS_BR" etcd --name "e$k" \
	    --data-dir "$LAB_DIR/etcd$k" \
	    --listen-client-urls "http://$a:2379" \
	    --advertise-client-urls "http://$a:2379" \
	    --listen-peer-urls "http://$a:2380" \
	    --initial-advertise-peer-urls "http://$a:2380" \
	    --initial-cluster "$LAB_ETCD_CLUSTER" \
	    --initial-cluster-state new --initial-cluster-token "$NSPREFIX" \
	    --log-level error >>"$LAB_DIR/etcd$k.log" 2>&1 &
	LAB_ETCD_PIDS[k]=$!
	track_pid $!
}

# lab_etcd_kill K: SIGKILL member K.
lab_etcd_kill() {
	local p=${LAB_ETCD_PIDS[$1]:-}
	[ -n "$p" ] || return 0
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	LAB_ETCD_PIDS[$1]=
}

# lab_etcd_stop_all / lab_etcd_start_all: all of etcd down, then up.
lab_etcd_stop_all() {
	local k
	for ((k = 1; k <= LAB_ETCD_N; k++)); do
		lab_etcd_kill "$k"
	done
}
lab_etcd_start_all() {
	local k
	for ((k = 1; k <= LAB_ETCD_N; k++)); do
		[ -n "${LAB_ETCD_PIDS[k]:-}" ] || lab_etcd_start "$k"
	done
	wait_until 30 etcdctl_ endpoint health --cluster ||
	    lab_fail "lab: etcd did not come back"
}

# lab_etcdctl ARGS: etcdctl from node 1's namespace (proves the path from
# the nodes); etcdctl_ (lib.sh) runs it in the bridge namespace.
lab_etcdctl() {
	ETCDCTL_API=3 ip netns exec "$(lab_ns 1)" etcdctl \
	    --endpoints="$(lab_etcd_endpoints ,)" --dial-timeout=2s \
	    --command-timeout=3s "$@"
}

# lab_cut_etcd I / lab_heal_etcd I: node I loses etcd (and only etcd; the
# client still reaches it).  Frames to etcd go to a MAC nobody has, so
# they vanish silently, like a partition, instead of failing fast.
lab_cut_etcd() {
	local ns k
	ns=$(lab_ns "$1")
	for ((k = 1; k <= LAB_ETCD_N; k++)); do
		ip -n "$ns" neigh replace "${LAB_ETCD_ADDRS[k]}" \
		    lladdr 02:00:00:00:de:ad nud permanent dev "$(lab_if "$1")"
	done
}
lab_heal_etcd() {
	local ns k
	ns=$(lab_ns "$1")
	for ((k = 1; k <= LAB_ETCD_N; k++)); do
		ip -n "$ns" neigh del "${LAB_ETCD_ADDRS[k]}" \
		    dev "$(lab_if "$1")" 2>/dev/null
	done
	ip netns exec "$ns" nft delete table inet labetcd 2>/dev/null
	return 0
}
# lab_cut_etcd_both I: lab_cut_etcd, and what etcd sends node I is
# dropped too (nftables): lab_cut_etcd alone lets an open watch stream
# still deliver etcd's events to the node.  lab_heal_etcd heals both.
lab_cut_etcd_both() {
	local ns k
	ns=$(lab_ns "$1")
	need_cmd nft
	lab_cut_etcd "$1"
	ip netns exec "$ns" nft "add table inet labetcd" &&
	ip netns exec "$ns" nft "add chain inet labetcd in { type filter hook input priority 0; policy accept; }" ||
	    lab_fail "lab_cut_etcd_both $1: nft failed"
	for ((k = 1; k <= LAB_ETCD_N; k++)); do
		ip netns exec "$ns" nft "add rule inet labetcd in ip saddr ${LAB_ETCD_ADDRS[k]} drop" ||
		    lab_fail "lab_cut_etcd_both $1: nft rule failed"
	done
}

# lab_etcd_freeze_all / lab_etcd_thaw_all: SIGSTOP every etcd member the
# lab started (a frozen etcd: connections stay open, nothing answers);
# SIGCONT them.
lab_etcd_freeze_all() {
	local k
	for ((k = 1; k <= LAB_ETCD_N; k++)); do
		[ -z "${LAB_ETCD_PIDS[k]:-}" ] || kill -STOP "${LAB_ETCD_PIDS[k]}"
	done
	cleanup_add lab_etcd_thaw_all
}
lab_etcd_thaw_all() {
	local k
	for ((k = 1; k <= LAB_ETCD_N; k++)); do
		[ -z "${LAB_ETCD_PIDS[k]:-}" ] ||
		    kill -CONT "${LAB_ETCD_PIDS[k]}" 2>/dev/null
	done
	return 0
}

# lab_cut_peers I both|in / lab_heal_peers I: nftables inside node I's
# namespace drops the peer channel's UDP (LAB_PEER_PORT, yaim.yml(5)'s
# peer-port default): "both": to and from that port, either way; "in":
# only what arrives (node I still sends, and is heard).
LAB_PEER_PORT=${LAB_PEER_PORT:-7405}
lab_cut_peers() {
	local ns p=$LAB_PEER_PORT out=
	ns=$(lab_ns "$1")
	need_cmd nft
	[ "$2" != both ] || out="udp dport $p counter drop; udp sport $p counter drop;"
	ip netns exec "$ns" nft "add table inet labcut" &&
	ip netns exec "$ns" nft "add chain inet labcut in { type filter hook input priority 0; policy accept; udp dport $p counter drop; udp sport $p counter drop; }" &&
	ip netns exec "$ns" nft "add chain inet labcut out { type filter hook output priority 0; policy accept; $out }" ||
	    lab_fail "lab_cut_peers $1 $2: nft failed"
}
# lab_peer_drops I: how many datagrams lab_cut_peers has dropped on node I.
lab_peer_drops() {
	ip netns exec "$(lab_ns "$1")" nft list table inet labcut 2>/dev/null |
	    awk '{ for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) }
		END { print n + 0 }'
}
lab_heal_peers() {
	ip netns exec "$(lab_ns "$1")" nft delete table inet labcut 2>/dev/null
	return 0
}

#
# the pool
#

# lab_pool_add IP...: put <prefix>ips/IP; the lab's pool file follows.
lab_pool_add() {
	local ip
	for ip; do
		etcdctl_ put "${LAB_PREFIX}ips/$ip" "" >/dev/null ||
		    lab_fail "lab_pool_add $ip"
		grep -qxF "$ip" "$LAB_DIR/pool" || echo "$ip" >>"$LAB_DIR/pool"
	done
}

# lab_pool_del IP...: the correct pair of deletes, the pool key and its
# mark.  Never "del --prefix <prefix>ips/IP": that also hits IP0..IP99.
lab_pool_del() {
	local ip
	for ip; do
		etcdctl_ del "${LAB_PREFIX}ips/$ip" >/dev/null &&
		    etcdctl_ del "${LAB_PREFIX}ips/$ip/marked" >/dev/null ||
		    lab_fail "lab_pool_del $ip"
		grep -vxF "$ip" "$LAB_DIR/pool" >"$LAB_DIR/pool.new"
		mv "$LAB_DIR/pool.new" "$LAB_DIR/pool"
	done
}

# lab_pool: the pool IPs, one a line.
lab_pool() { cat "$LAB_DIR/pool"; }

# lab_pool_range FIRST COUNT: print 198.18.1.FIRST .. (COUNT addresses).
lab_pool_range() {
	local i
	for ((i = $1; i < $1 + $2; i++)); do
		echo "${LAB_POOL_MATCH}$i"
	done
}

#
# holders
#

# lab_holders: "IP nodeI" for every pool-network address on a node whose
# link is up, sorted by IP.
lab_holders() {
	local i
	for ((i = 1; i <= LAB_N; i++)); do
		ip -n "$(lab_ns "$i")" -o addr show dev "$(lab_if "$i")" up \
		    2>/dev/null | awk -v node="node$i" -v m="$LAB_POOL_MATCH" '
			{ split($4, a, "/")
			  if (index(a[1], m) == 1) print a[1], node }'
	done | sort -t . -k 4,4n
}

# lab_holder_of IP: the node(s) holding IP, space separated.
lab_holder_of() {
	lab_holders | awk -v ip="$1" '$1 == ip { printf "%s%s", s, $2; s = " " }
	    END { print "" }'
}

# lab_all_held: every pool IP has exactly one holder (for wait_until).
lab_all_held() {
	local ip h
	for ip in $(lab_pool); do
		h=$(lab_holder_of "$ip")
		[ -n "$h" ] && [ "${h// /}" = "$h" ] || return 1
	done
}

# lab_wait_all_held BOUND_S: liveness: wait (bounded) until every pool IP
# has exactly one holder; print how long after the last mark that was.
lab_wait_all_held() {
	local t0
	t0=$(tail -n 1 "$LAB_DIR/marks" 2>/dev/null | awk '{ print $1 }')
	wait_until "$1" lab_all_held || return 1
	[ -n "$t0" ] || t0=$(date +%s%3N)
	echo "liveness: every pool IP held $(($(date +%s%3N) - t0)) ms after" \
	    "mark $(tail -n 1 "$LAB_DIR/marks" | awk '{ print $2 }')"
}

# lab_counts NODE...: "node count" for each named node.
lab_counts() {
	local h node
	h=$(lab_holders)
	for node; do
		echo "$node $(awk -v n="$node" '$2 == n' <<<"$h" | wc -l)"
	done
}

# lab_balanced NODE...: the named nodes' counts differ by at most 1 and no
# other node holds anything.
lab_balanced() {
	local h min max c node total=0 want
	h=$(lab_holders)
	min=1000000 max=0
	for node; do
		c=$(awk -v n="$node" '$2 == n' <<<"$h" | wc -l)
		total=$((total + c))
		[ "$c" -lt "$min" ] && min=$c
		[ "$c" -gt "$max" ] && max=$c
	done
	want=$(wc -l <<<"$h")
	[ -z "$h" ] && want=0
	[ $((max - min)) -le 1 ] && [ "$total" -eq "$want" ]
}

# lab_table: the assignment table: per pool IP its holder (from the
# interfaces), how long it has held it (from vipmon's transitions, when
# the monitor runs), the mark in etcd with its lease (left/granted), the
# holder's health target code and its node key in etcd.
lab_table() {
	local snap h ip node since held mark lease ttl hs nk l now
	snap=$(etcdctl_ get --prefix "$LAB_PREFIX" -w json 2>/dev/null |
	    python3 -c '
import base64, json, sys
prefix = sys.argv[1]
try:
    kvs = json.load(sys.stdin).get("kvs", [])
except ValueError:
    kvs = []
for kv in kvs:
    k = base64.b64decode(kv["key"]).decode(errors="replace")[len(prefix):]
    v = base64.b64decode(kv.get("value", "")).decode(errors="replace")
    lease = "%x" % int(kv.get("lease", 0))
    p = k.split("/")
    if len(p) == 3 and p[0] == "ips" and p[2] == "marked":
        print("mark", p[1], v or "-", lease)
    elif len(p) == 2 and p[0] == "nodes":
        print("node", p[1], v or "-", lease)
' "$LAB_PREFIX")
	declare -A ttls=()
	for l in $(awk '$1 == "mark" || $1 == "node" { print $4 }' <<<"$snap" |
	    sort -u); do
		[ "$l" != 0 ] || continue
		ttls[$l]=$(etcdctl_ lease timetolive "$l" 2>/dev/null | sed -n \
		    's/.*TTL(\([0-9]*\)s), remaining(\(-\?[0-9]*\)s).*/\2\/\1s/p')
	done
	h=$(lab_holders)
	now=$(date +%s%3N)
	printf '%-15s %-7s %-7s %-7s %-7s %-5s %s\n' IP HOLDER FOR MARK LEASE \
	    CHECK NODEKEY
	for ip in $(lab_pool); do
		node=$(awk -v ip="$ip" '$1 == ip { printf "%s%s", s, $2; s = "," }' <<<"$h")
		held=-
		if [ -n "$node" ] && [ -s "$LAB_DIR/transitions.log" ]; then
			since=$(awk -v ip="$ip" '$2 == ip { t = $1 } END { print t }' \
			    "$LAB_DIR/transitions.log")
			[ -n "$since" ] &&
			    held=$(awk -v d=$((now - since)) 'BEGIN { printf "%.1fs", d / 1000 }')
		fi
		read -r mark lease <<<"$(awk -v ip="$ip" \
		    '$1 == "mark" && $2 == ip { print $3, $4 }' <<<"$snap")"
		ttl=-
		[ -n "${lease:-}" ] && [ "$lease" != 0 ] && ttl=${ttls[$lease]:--}
		hs=- nk=-
		if [ -n "$node" ] && [ -f "$LAB_DIR/${node%%,*}.health" ]; then
			hs=$(cat "$LAB_DIR/${node%%,*}.health")
			nk=$(awk -v n="${node%%,*}" '$1 == "node" && $2 == n { print $3 }' <<<"$snap")
		fi
		printf '%-15s %-7s %-7s %-7s %-7s %-5s %s\n' "$ip" "${node:--}" \
		    "$held" "${mark:--}" "$ttl" "$hs" "${nk:--}"
	done
}

#
# health
#

# lab_health I CODE: node I's health target answers CODE from now on.
# The target is regress/tools/httpd.py, driven by a JSON control file it
# reads at each request (written by rename: never half a file).
lab_health() {
	lab_health_mode "$1" "$2" "{\"status\": $2, \"body\": \"node$1 $2\\n\"}"
}

# lab_health_mode I LABEL JSON: any httpd.py behaviour, e.g.
#	lab_health_mode 2 hang '{"mode": "hang"}'
#	lab_health_mode 2 slow '{"mode": "slow", "delay": 2}'
# LABEL is what lab_table shows in its CHECK column.
lab_health_mode() {
	local f=$LAB_DIR/node$1.health
	printf '%s\n' "$3" >"$f.json.tmp" && mv "$f.json.tmp" "$f.json"
	echo "$2" >"$f"
}

#
# yaimd
#

# lab_node_config I: node I's yaim.yml on stdout.  LAB_EXTRA_CONFIG (a
# string of YAML lines) is appended.
lab_node_config() {
	local i=$1 e
	cat <<EOF
dcs-type: etcd
dcs-namespace: $LAB_DCS_NAMESPACE
dcs-clustername: $LAB_CLUSTER
dcs-endpoints:
EOF
	for e in $(lab_etcd_endpoints); do
		echo "  - $e"
	done
	# LAB_DEFAULT_TIMING=1: no timing keys, the documented defaults apply
	[ -n "${LAB_DEFAULT_TIMING:-}" ] || cat <<EOF
interval: $LAB_INTERVAL
ttl: $LAB_TTL
retry_num: 2
retry_after: 100
EOF
	cat <<EOF
nodename: node$i
interface: $(lab_if "$i")
user: ${YAIM_USER:-_yaimd}
chroot: $LAB_DIR/node$i/chroot
control-socket: $(lab_ctl_socket "$i")
$(_lab_networks "$i")
garp-count: 2
garp-interval: 100
checker-type: http
http-url: http://127.0.0.1:$LAB_HEALTH_PORT/health
http-expected-code: 200
EOF
	[ -z "${LAB_EXTRA_CONFIG:-}" ] || printf '%s\n' "$LAB_EXTRA_CONFIG"
}

# lab_ctl_socket I: node I's control socket (one per node: they share the
# host's file system).  lab_yaimctl I ARGS: yaimctl for node I.
lab_ctl_socket() { echo "$LAB_DIR/node$1/yaimd.sock"; }
lab_yaimctl() {
	local i=$1
	shift
	"${YAIMCTL:-$BUILD/yaimctl}" -s "$(lab_ctl_socket "$i")" "$@"
}

# _lab_networks I: node I's allowed-networks: LAB_NODE_NETWORKS[I] (a
# space-separated list of prefixes, or "-" for none: the parent then allows
# the interface's own prefixes), else the pool network.
_lab_networks() {
	local nets=${LAB_NODE_NETWORKS[$1]:-$LAB_POOL_NET} n
	[ "$nets" != "-" ] || return 0
	echo "allowed-networks:"
	for n in $nets; do
		echo "  - $n"
	done
}

# lab_yaimd_ready: yaimd is built and "yaimd -n" accepts node 1's config
# in node 1's namespace (it checks the interface); else prints why not.
# Before lab_up it only checks the binary (for an early skip).
lab_yaimd_ready() {
	local out cfg=$T/lab-check.yml
	[ -f "$YAIMD" ] && [ -x "$YAIMD" ] ||
	    { echo "no yaimd binary at $YAIMD"; return 1; }
	[ "$LAB_N" -gt 0 ] || return 0
	mkdir -p "$LAB_DIR/node1/chroot"
	lab_node_config 1 >"$cfg"
	out=$(ip netns exec "$(lab_ns 1)" "$YAIMD" -n -f "$cfg" 2>&1) ||
	    { echo "yaimd -n: $out"; return 1; }
}

# lab_start_node I: start yaimd in node I's namespace (log: nodeI.log).
lab_start_node() {
	local i=$1 d=$LAB_DIR/node$1
	[ -z "${LAB_NODE_PIDS[i]:-}" ] || lab_fail "node$i is already running"
	[ -n "${YAIM_USER:-}" ] || setup_user
	install -d -o root -g root -m 0755 "$d" "$d/chroot"
	lab_node_config "$i" >"$d/yaim.yml"
	echo "---- start $(date +%T.%3N)" >>"$LAB_DIR/node$i.log"
	# LAB_LOG_TS=1: each line gets the epoch ms it was read at (the
	# clock of vipmon and the marks), for the crash breakdown of
	# DESIGN.md 10.4; LAB_YAIMD_VERBOSE=1 adds -v.  $! stays yaimd's.
	if [ "${LAB_LOG_TS:-0}" = 1 ]; then
		ip netns exec "$(lab_ns "$i")" "$YAIMD" -d \
		    ${LAB_YAIMD_VERBOSE:+-v} -f "$d/yaim.yml" \
		    > >(perl -MTime::HiRes=time -ne '$|=1;
		    printf "%.3f %s", time, $_' >>"$LAB_DIR/node$i.log") 2>&1 &
	else
		ip netns exec "$(lab_ns "$i")" "$YAIMD" -d \
		    ${LAB_YAIMD_VERBOSE:+-v} -f "$d/yaim.yml" \
		    >>"$LAB_DIR/node$i.log" 2>&1 &
	fi
	LAB_NODE_PIDS[i]=$!
	track_pid $!
}

# lab_node_pid I: yaimd's PID on node I (empty if not running).
lab_node_pid() { echo "${LAB_NODE_PIDS[$1]:-}"; }

# lab_node_alive I: yaimd on node I is running.
lab_node_alive() {
	local p=${LAB_NODE_PIDS[$1]:-}
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null
}

# lab_stop_node I: SIGTERM, wait (bounded) for the exit; returns its status.
lab_stop_node() {
	local i=$1 p=${LAB_NODE_PIDS[$1]:-} rc
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null
	if ! wait_until 15 _lab_gone "$p"; then
		kill -KILL "$p" 2>/dev/null
		LAB_NODE_PIDS[i]=
		lab_fail "node$i did not exit within 15 s of SIGTERM"
	fi
	wait "$p" 2>/dev/null
	rc=$?
	LAB_NODE_PIDS[i]=
	return $rc
}
_lab_gone() { ! kill -0 "$1" 2>/dev/null || [ "$(proc_status "$1" State)" = Z ]; }

# lab_kill_node I: a crash: the link goes down, then SIGKILL of yaimd and
# its children (the whole machine dies).  Its stale addresses stay on the
# down link, where they serve nobody (vipmon does not count them).
lab_kill_node() {
	local i=$1 p=${LAB_NODE_PIDS[$1]:-} kids
	ip -n "$(lab_ns "$i")" link set "$(lab_if "$i")" down
	[ -n "$p" ] || return 0
	kids=$(child_pids "$p")
	kill -KILL "$p" $kids 2>/dev/null
	wait "$p" 2>/dev/null
	LAB_NODE_PIDS[i]=
}

# lab_revive_node I [nostart]: after lab_kill_node, a reboot: the stale
# pool addresses are gone, the link is up, yaimd starts (unless nostart).
lab_revive_node() {
	local i=$1 ns ifn a
	ns=$(lab_ns "$i")
	ifn=$(lab_if "$i")
	for a in $(ip -n "$ns" -o addr show dev "$ifn" |
	    awk -v m="$LAB_POOL_MATCH" 'index($4, m) == 1 { print $4 }'); do
		ip -n "$ns" addr del "$a" dev "$ifn"
	done
	ip -n "$ns" link set "$ifn" up
	[ "${2:-}" = nostart ] || lab_start_node "$i"
}

# lab_link I up|down: node I's link only (no process change).
lab_link() { ip -n "$(lab_ns "$1")" link set "$(lab_if "$1")" "$2"; }

# lab_pause_node I / lab_resume_node I: SIGSTOP / SIGCONT yaimd and its
# children together, like a paused VM.
lab_pause_node() {
	local i=$1 p=${LAB_NODE_PIDS[$1]:-}
	[ -n "$p" ] || return 0
	LAB_PAUSED[i]="$p $(child_pids "$p")"
	kill -STOP ${LAB_PAUSED[i]} 2>/dev/null
}
lab_resume_node() {
	local i=$1
	[ -n "${LAB_PAUSED[i]:-}" ] || return 0
	kill -CONT ${LAB_PAUSED[i]} 2>/dev/null
	LAB_PAUSED[i]=
}

# lab_freeze_node I / lab_thaw_node I: a paused VM.  SIGSTOP alone is not
# one: the namespace's kernel goes on answering ARP and TCP for the
# addresses of a stopped yaimd, so when others take them over that is a
# real overlap.  A paused VM is silent: freeze takes the link down too.
# The order matters: SIGSTOP first, then the link, as in a VM where both
# stop at the same instant (link first, yaimd sees the link go down in a
# few ms and drops its addresses: that is a link failure, not a pause).
# Thaw brings the link up, then sends SIGCONT, as a resumed VM's kernel
# answers before its processes run: until yaimd drops the addresses it no
# longer owns, they are live.
lab_freeze_node() {
	lab_pause_node "$1"
	lab_link "$1" down
}
lab_thaw_node() {
	lab_link "$1" up
	lab_resume_node "$1"
}

# lab_node_children I: yaimd's child PIDs on node I.
lab_node_children() {
	local p=${LAB_NODE_PIDS[$1]:-}
	[ -n "$p" ] && child_pids "$p"
}

#
# simulated holders (no yaimd): what the self-test and tool tests use
#

# lab_sim_take I IP: node I adds IP/32 and announces it (gratuitous ARP).
lab_sim_take() {
	local ns ifn
	ns=$(lab_ns "$1")
	ifn=$(lab_if "$1")
	ip -n "$ns" addr add "$2/32" dev "$ifn" || return 1
	ip netns exec "$ns" python3 "$LAB_CDIR/garp.py" "$ifn" "$2" 1
}

# lab_sim_drop I IP: node I removes IP.
lab_sim_drop() { ip -n "$(lab_ns "$1")" addr del "$2/32" dev "$(lab_if "$1")"; }

# lab_sim_balance NODE...: a central stand-in for the daemons, for testing
# the lab: drop pool IPs from nodes not named (and from extra holders),
# then give every unheld IP to the named node holding the fewest.
lab_sim_balance() {
	local ip h node best c bc i
	for ip in $(lab_pool); do
		for h in $(lab_holder_of "$ip"); do
			if [[ " $* " != *" $h "* ]] ||
			    [ "$(lab_holder_of "$ip" | wc -w)" -gt 1 ]; then
				lab_sim_drop "${h#node}" "$ip"
			fi
		done
	done
	for ip in $(lab_pool); do
		[ -z "$(lab_holder_of "$ip")" ] || continue
		best= bc=1000000
		for node; do
			c=$(lab_holders | awk -v n="$node" '$2 == n' | wc -l)
			[ "$c" -lt "$bc" ] && { best=$node; bc=$c; }
		done
		lab_sim_take "${best#node}" "$ip"
	done
	# rebalance: move from the fullest to the emptiest until within 1
	for ((i = 0; i < 100; i++)); do
		lab_balanced "$@" && break
		local max= min= mc=-1 nc=1000000
		for node; do
			c=$(lab_holders | awk -v n="$node" '$2 == n' | wc -l)
			[ "$c" -gt "$mc" ] && { max=$node; mc=$c; }
			[ "$c" -lt "$nc" ] && { min=$node; nc=$c; }
		done
		ip=$(lab_holders | awk -v n="$max" '$2 == n { print $1; exit }')
		lab_sim_drop "${max#node}" "$ip"
		lab_sim_take "${min#node}" "$ip"
	done
}

#
# the monitor and the probe
#

# lab_mark LABEL: a fault is about to be injected now (read by the probe).
lab_mark() { echo "$(date +%s%3N) ${1// /_}" >>"$LAB_DIR/marks"; }

# lab_monitor_start [ARGS]: vipmon on every node, on the pool network and
# the pool file.  Output: vipmon.out, transitions: transitions.log.
lab_monitor_start() {
	local i nsargs=()
	for ((i = 1; i <= LAB_N; i++)); do
		nsargs+=(-n "node$i=$(lab_ns "$i")")
	done
	"$TOOLS/vipmon" "${nsargs[@]}" -N "$LAB_POOL_NET" -f "$LAB_DIR/pool" \
	    -l "$LAB_DIR/transitions.log" -t "$LAB_MAXTIME" "$@" \
	    >"$LAB_DIR/vipmon.out" 2>&1 &
	LAB_VIPMON_PID=$!
	track_pid $!
	wait_until 5 grep -q '^vipmon: started' "$LAB_DIR/vipmon.out" ||
	    lab_fail "vipmon did not start"
}

# lab_monitor_stop: stop vipmon, print its output; returns 1 if it saw an
# overlap, 2 if it ended without its summary.  The verdict is read from
# its summary line, so this works from a subshell too.
lab_monitor_stop() {
	local p=$LAB_VIPMON_PID line k
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	wait_until 10 _lab_gone "$p" || kill -KILL "$p" 2>/dev/null
	LAB_VIPMON_PID=
	cat "$LAB_DIR/vipmon.out"
	line=$(grep '^vipmon: samples=' "$LAB_DIR/vipmon.out" | tail -n 1)
	[ -n "$line" ] || return 2
	k=$(sed 's/.* overlaps=\([0-9]*\).*/\1/' <<<"$line")
	[ "$k" -eq 0 ] || return 1
}

# lab_moves LABEL: the VIPs whose holder changed since that mark, from
# vipmon's transitions: "IP BEFORE AFTER" (holder at the mark, holder now;
# "-" for none).  For "only the IPs that must move moved".
lab_moves() {
	local t
	t=$(awk -v l="$1" '$2 == l { t = $1 } END { print t }' "$LAB_DIR/marks")
	[ -n "$t" ] || { echo "lab_moves: no mark $1" >&2; return 1; }
	awk -v t="$t" '
	    $1 <= t { before[$2] = $3 }
	    { now[$2] = $3 }
	    END {
		for (ip in now) {
			b = (ip in before) ? before[ip] : "-"
			if (b != now[ip]) print ip, b, now[ip]
		}
	    }' "$LAB_DIR/transitions.log" | sort -t . -k 4,4n
}

# lab_overlaps: the OVERLAP lines so far.
lab_overlaps() { grep '^OVERLAP' "$LAB_DIR/vipmon.out"; }

# lab_probe_start [ARGS]: the probe in the client namespace, on the pool
# file, port LAB_PORT, every 5 ms.  Output: probe.out, timeline.log.
lab_probe_start() {
	ip netns exec "$LAB_NS_CLIENT" "$TOOLS/probe" -f "$LAB_DIR/pool" \
	    -p "$LAB_PORT" -i 5 -m "$LAB_DIR/marks" \
	    -l "$LAB_DIR/timeline.log" -t "$LAB_MAXTIME" "$@" \
	    >"$LAB_DIR/probe.out" 2>&1 &
	LAB_PROBE_PID=$!
	track_pid $!
	wait_until 5 grep -q '^probe: started' "$LAB_DIR/probe.out" ||
	    lab_fail "probe did not start"
}

# lab_probe_stop: stop the probe, print its output (outage lines, per-VIP
# lines, the final "probe:" line).
lab_probe_stop() {
	[ -n "$LAB_PROBE_PID" ] || return 0
	kill -TERM "$LAB_PROBE_PID" 2>/dev/null
	wait "$LAB_PROBE_PID"
	LAB_PROBE_PID=
	cat "$LAB_DIR/probe.out"
}

# lab_outage LABEL VIP [FIELD]: a field (default outage_ms) of the outage
# line for that mark and VIP.
lab_outage() {
	awk -v l="$1" -v v="$2" -v f="${3:-outage_ms}" '
	    $1 == "outage" {
		delete kv
		for (i = 2; i <= NF; i++) {
			split($i, p, "="); kv[p[1]] = p[2]
		}
		if (kv["label"] == l && kv["vip"] == v) print kv[f]
	    }' "$LAB_DIR/probe.out"
}

# lab_outage_figures LABEL [FIELD]: "min median max" of FIELD (default
# outage_ms; gap_ms for the client-visible gap) over the VIPs that were
# affected (status recovered or down) at that mark.
lab_outage_figures() {
	grep "^outage .*label=$1 " "$LAB_DIR/probe.out" |
	    grep -E 'status=(recovered|down)' |
	    sed "s/.* ${2:-outage_ms}=\([0-9]*\).*/\1/" | sort -n |
	    awk '{ a[NR] = $1 } END {
		if (NR == 0) { print "- - -"; exit }
		print a[1], a[int((NR + 1) / 2)], a[NR] }'
}

# lab_finish: stop the probe and the monitor, print both; fail on any
# overlap.  Every scenario ends with it.
lab_finish() {
	local rc
	lab_probe_stop
	lab_monitor_stop
	rc=$?
	[ $rc -eq 0 ] || lab_fail "invariant: a VIP was on two nodes at once (vipmon exit $rc)"
}
