# Shared helpers for integration and cluster tests.  Source it; it sets
# "set -u", a cleanup trap and a private temporary directory ($T).
#
# Network rule: traffic goes only to 127.0.0.0/8, ::1, or addresses inside
# namespaces the test created (we use 198.18.0.0/15 and 2001:db8::/32
# there).  Every loop is bounded; we kill only PIDs we started.
set -u
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-$TOP/build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
YAIMD=${YAIMD:-$BUILD/yaimd}
TOOLS=${TOOLS:-$BUILD/regress/tools}
T=$(mktemp -d /tmp/yaimt.XXXXXX)
NSPREFIX="yt$$"
_cleanups=()
_pids=()

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
log() { printf '%s %s\n' "$(date +%T.%3N)" "$*"; }

cleanup_add() { _cleanups+=("$*"); }
# track_pid PID: killed (TERM, then KILL) at exit.
track_pid() { _pids+=("$1"); }

_run_cleanup() {
	local i p
	trap - EXIT INT TERM
	for p in "${_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${_pids[@]}"; do
		for i in $(seq 1 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		kill -CONT "$p" 2>/dev/null
	done
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[$i]}" >/dev/null 2>&1
	done
	# netns_add may run in a command substitution: its record is a file
	if [ -f "$T/.netns" ]; then
		while read -r p; do
			ip netns del "$p" >/dev/null 2>&1
		done <"$T/.netns"
	fi
	rm -rf "$T"
}
trap _run_cleanup EXIT
trap 'exit 130' INT TERM

need_root() { [ "$(id -u)" -eq 0 ] || skip "needs root"; }
# need_valgrind: valgrind and an uninstrumented build (make sanitize sets
# SANITIZE=1; ASan and valgrind do not mix).
need_valgrind() {
	[ -z "${SANITIZE:-}" ] || skip "valgrind does not mix with sanitizers"
	need_cmd valgrind
}
need_cmd() {
	local c
	for c; do command -v "$c" >/dev/null 2>&1 || skip "needs $c"; done
}

# wait_until TIMEOUT_SECONDS CMD... : poll CMD every 20 ms until it
# succeeds; returns 1 on timeout.
wait_until() {
	local limit=$1; shift
	local end=$(( $(date +%s%N) + ${limit%.*} * 1000000000 ))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.02
	done
}

# free_port: print a TCP port that is free on 127.0.0.1 right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# setup_user: the unprivileged users ($YAIM_USER-checker, -dcs, -exec)
# and the chroot, as "make install" does.
setup_user() {
	YAIM_USER=${YAIM_USER:-_yaimd}
	YAIM_CHROOT=${YAIM_CHROOT:-/var/empty/yaimd}
	sh "$TOP/regress/setup-user.sh" "$YAIM_USER" "$YAIM_CHROOT" ||
	    fail "setup-user.sh failed"
}

# make_exec_dir: sets EXEC_DIR to a new root-owned 0755 directory outside
# /tmp, removed at exit: yaimd runs an exec command only if it and every
# directory above it are root's and writable by root only (not /tmp).
make_exec_dir() {
	EXEC_DIR=$(mktemp -d /run/yaimx.XXXXXX) || fail "mktemp /run"
	chmod 0755 "$EXEC_DIR"
	cleanup_add "rm -rf '$EXEC_DIR'"
}

# netns_add NAME: create namespace ${NSPREFIX}NAME with lo up; prints name.
# Safe in \$(...): the namespace is deleted at exit all the same.
netns_add() {
	local ns=${NSPREFIX}$1
	ip netns add "$ns" || fail "ip netns add $ns"
	echo "$ns" >>"$T/.netns"
	ip -n "$ns" link set lo up
	echo "$ns"
}

# start_etcd NAME [NETNS] [ADDR]: one single-member etcd with a temporary
# data dir on a free port.  Sets ETCD_ENDPOINT and ETCD_PID.  ADDR defaults
# to 127.0.0.1; with NETNS it runs inside that namespace.
# (ETCD_ARGS: more etcd flags, split on spaces.)
start_etcd() {
	local name=$1 ns=${2:-} addr=${3:-127.0.0.1}
	local cport pport
	need_cmd etcd etcdctl
	cport=$(free_port); pport=$(free_port)
	while [ "$pport" = "$cport" ]; do pport=$(free_port); done
	local data=$T/etcd-$name
	mkdir -p "$data"
	local ex=()
	[ -n "$ns" ] && ex=(ip netns exec "$ns")
	"${ex[@]}" etcd --name "$name" --data-dir "$data" \
	    --listen-client-urls "http://$addr:$cport" \
	    --advertise-client-urls "http://$addr:$cport" \
	    --listen-peer-urls "http://$addr:$pport" \
	    --initial-advertise-peer-urls "http://$addr:$pport" \
	    --initial-cluster "$name=http://$addr:$pport" \
	    --initial-cluster-state new --log-level error ${ETCD_ARGS:-} \
	    >"$T/etcd-$name.log" 2>&1 &
	ETCD_PID=$!
	track_pid "$ETCD_PID"
	ETCD_ENDPOINT="http://$addr:$cport"
	ETCD_NS=$ns
	wait_until 20 etcdctl_ endpoint health ||
	    { cat "$T/etcd-$name.log"; fail "etcd did not start"; }
}

# start_etcd3 [ETCD-ARG...]: a 3-member etcd cluster (m1 m2 m3) on
# 127.0.0.1, each member with its own data dir and free ports; the
# ETCD-ARGs go to every member.  Sets ETCD3_PORT[member] (client port),
# ETCD3_PID[member] and ETCD_ENDPOINT (the three client URLs, so etcdctl_
# talks to the cluster); returns once the whole cluster is healthy.
start_etcd3() {
	local n initial= pport
	declare -gA ETCD3_PORT ETCD3_PID
	declare -A peer
	need_cmd etcd etcdctl
	for n in m1 m2 m3; do
		ETCD3_PORT[$n]=$(free_port)
		pport=$(free_port)
		while [ "$pport" = "${ETCD3_PORT[$n]}" ]; do pport=$(free_port); done
		peer[$n]=$pport
		initial+="${initial:+,}$n=http://127.0.0.1:$pport"
	done
	for n in m1 m2 m3; do
		mkdir -p "$T/etcd-$n"
		etcd --name "$n" --data-dir "$T/etcd-$n" \
		    --listen-client-urls "http://127.0.0.1:${ETCD3_PORT[$n]}" \
		    --advertise-client-urls "http://127.0.0.1:${ETCD3_PORT[$n]}" \
		    --listen-peer-urls "http://127.0.0.1:${peer[$n]}" \
		    --initial-advertise-peer-urls "http://127.0.0.1:${peer[$n]}" \
		    --initial-cluster "$initial" --initial-cluster-state new \
		    --initial-cluster-token "yaim-$$" \
		    --log-level error "$@" >"$T/etcd-$n.log" 2>&1 &
		ETCD3_PID[$n]=$!
		track_pid "${ETCD3_PID[$n]}"
	done
	ETCD_ENDPOINT=http://127.0.0.1:${ETCD3_PORT[m1]},http://127.0.0.1:${ETCD3_PORT[m2]},http://127.0.0.1:${ETCD3_PORT[m3]}
	ETCD_NS=
	wait_until 30 etcdctl_ endpoint health --cluster ||
	    { cat "$T"/etcd-*.log; fail "cluster did not start"; }
}

# etcdctl_ ARGS: etcdctl against the last started etcd (in its netns).
etcdctl_() {
	local ex=()
	[ -n "${ETCD_NS:-}" ] && ex=(ip netns exec "$ETCD_NS")
	ETCDCTL_API=3 "${ex[@]}" etcdctl --endpoints="$ETCD_ENDPOINT" \
	    --dial-timeout=2s --command-timeout=3s "$@"
}

# proc_status PID FIELD: one line of /proc/PID/status, value only.
proc_status() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# child_pids PID: direct children of PID.
child_pids() { cat "/proc/$1/task/$1/children" 2>/dev/null; }

# vip_veth NAME [CIDR]: a namespace ${NSPREFIX}NAME with a veth pair
# vip0/vip1 up, vip0 with CIDR (default 198.18.0.254/24).  Sets ns.
# For a test that starts an etcd of its own (TLS, more addresses).
vip_veth() {
	ns=$(netns_add "$1")
	ip -n "$ns" link add vip0 type veth peer name vip1 || fail "veth"
	ip -n "$ns" link set vip0 up
	ip -n "$ns" link set vip1 up
	ip -n "$ns" addr add "${2:-198.18.0.254/24}" dev vip0 ||
	    fail "address on vip0"
}

# vip_netns NAME: vip_veth NAME, etcd started in the namespace, and a TCP
# listener for a tcp check.  Sets ns, LPID (the listener) and LPORT (its
# port).
vip_netns() {
	vip_veth "$1"
	start_etcd "$1" "$ns"
	ip netns exec "$ns" python3 "$TOP/regress/tools/tcplisten.py" \
	    "$T/port" &
	LPID=$!
	track_pid "$LPID"
	wait_until 20 test -s "$T/port" || fail "tcp listener"
	LPORT=$(cat "$T/port")
}

# tcp_node_conf NODENAME [INTERFACE]: the yaim.yml lines the single-node
# tests share (the etcd of vip_netns, a tcp check of its listener, every
# check result counting at once); the test appends its own keys.
tcp_node_conf() {
	cat <<EOT
dcs-clustername: yaim
dcs-namespace: service
dcs-endpoints: [ '$ETCD_ENDPOINT' ]
interface: ${2:-vip0}
nodename: $1
checker-type: tcp
tcp-host: 127.0.0.1
tcp-port: $LPORT
check-interval: 200
rise: 1
fall: 1
EOT
}

# A test PKI in $P (EC P-256, 2 days), for the TLS tests:
# pki_ca NAME: a self-signed CA; pki_cert NAME CA EXT: a key and a
# certificate signed by CA, with the x509v3 extension lines EXT.
pki_ca() {
	mkdir -p "$P"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$P/$1.key" -out "$P/$1.crt" -days 2 \
	    -subj "/CN=$1" -addext basicConstraints=critical,CA:TRUE \
	    2>/dev/null || fail "openssl ca $1"
}
pki_cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$P/$1.key" -out "$P/$1.csr" -subj "/CN=$1" \
	    2>/dev/null || fail "openssl req $1"
	printf '%s\n' "$3" >"$P/$1.ext"
	openssl x509 -req -in "$P/$1.csr" -CA "$P/$2.crt" -CAkey "$P/$2.key" \
	    -CAcreateserial -out "$P/$1.crt" -days 2 -extfile "$P/$1.ext" \
	    2>/dev/null || fail "openssl sign $1"
}
