#!/usr/bin/env bash
# The sd_notify protocol, against a stand-in for the service manager's
# socket: with NOTIFY_SOCKET set (an @abstract name, then a path) yaimd
# stays in the foreground, sends READY=1 once its children run, brackets
# a reload with RELOADING=1 and READY=1 (a failed one names the error in
# STATUS=), sends STOPPING=1 on SIGTERM, and keeps the variable from its
# children.
. "$(dirname "$0")/../lib.sh" || exit 1
need_root
need_cmd ip python3
setup_user
vip_netns sdn
P=/service/yaim/
{ tcp_node_conf n1; cat <<EOT
ttl: 3000
allowed-networks: [198.18.0.0/24]
EOT
} >"$T/y.yml"
etcdctl_ put "${P}ips/198.18.0.1" x >/dev/null
up() { ip -n "$ns" -4 addr show dev vip0 | grep -q 'inet 198.18.0.1/'; }
msgs() { cat "$T/notify" 2>/dev/null; }
nmsgs() { msgs | wc -l; }
# nmsgs_at_least N: polled by wait_until (a $(nmsgs) argument would be read once)
nmsgs_at_least() { [ "$(nmsgs)" -ge "$1" ]; }

# run_one SOCKET-NAME [OPTION]: the whole life of one yaimd under a
# stand-in manager
run_one() {
	local sock=$1 y kid lpid
	shift
	rm -f "$T/notify" "$T/notify.ready"
	# in the namespace: abstract names belong to a network namespace
	case $sock in /*) rm -f "$sock" ;; esac
	ip netns exec "$ns" python3 "$TOP/regress/tools/notifylisten.py" \
	    "$sock" "$T/notify" 60 &
	lpid=$!
	track_pid "$lpid"
	wait_until 20 test -e "$T/notify.ready" || fail "notify listener"
	log "NOTIFY_SOCKET=$sock $*"
	# no -d: without a service manager yaimd would daemonize here
	NOTIFY_SOCKET=$sock ip netns exec "$ns" "$YAIMD" "$@" -f "$T/y.yml" \
	    >"$T/yaimd.out" 2>&1 &
	y=$!
	track_pid "$y"
	wait_until 15 grep -q "^READY=1" "$T/notify" ||
	    { cat "$T/yaimd.out"; fail "no READY=1"; }
	kill -0 "$y" 2>/dev/null || fail "yaimd forked away from its manager"
	[ "$(cat "/proc/$y/comm")" = "yaimd: parent" ] ||
	    fail "pid $y is $(cat "/proc/$y/comm"), not the parent"
	msgs | head -n1 | grep -qx 'READY=1|STATUS=node n1 on vip0, etcd prefix /service/yaim/' ||
	    fail "first message: $(msgs | head -n1)"
	[ "$(child_pids "$y" | wc -w)" -eq 2 ] || fail "READY=1 without two children"
	for kid in $(child_pids "$y"); do
		tr '\0' '\n' <"/proc/$kid/environ" | grep -q NOTIFY_SOCKET &&
		    fail "child $kid inherited NOTIFY_SOCKET"
	done
	wait_until 15 up || fail "198.18.0.1 not held"

	kill -HUP "$y"
	wait_until 5 nmsgs_at_least 3 || fail "reload: $(msgs)"
	msgs | sed -n 2p | grep -qx "RELOADING=1|STATUS=reloading $T/y.yml" ||
	    fail "reload began with: $(msgs | sed -n 2p)"
	msgs | sed -n 3p | grep -qx 'READY=1|STATUS=node n1 on vip0, etcd prefix /service/yaim/; configuration reloaded' ||
	    fail "reload ended with: $(msgs | sed -n 3p)"

	sed 's/nodename: n1/nodename: n2/' "$T/y.yml" >"$T/y2.yml"
	cp "$T/y.yml" "$T/y.good"
	cp "$T/y2.yml" "$T/y.yml"
	kill -HUP "$y"
	wait_until 5 nmsgs_at_least 5 || fail "failed reload: $(msgs)"
	msgs | sed -n 5p | grep -qx 'READY=1|STATUS=reload failed, keeping the old configuration: nodename cannot change while running; restart yaimd' ||
	    fail "failed reload ended with: $(msgs | sed -n 5p)"
	cp "$T/y.good" "$T/y.yml"
	up || fail "198.18.0.1 dropped by a failed reload"

	kill -TERM "$y"
	wait_until 10 bash -c "! kill -0 $y 2>/dev/null" || fail "no exit on SIGTERM"
	wait "$y"; rc=$?
	[ "$rc" -eq 0 ] || fail "exit status $rc after SIGTERM"
	msgs | sed -n 6p | grep -qx 'STOPPING=1|STATUS=leaving the cluster' ||
	    fail "shutdown: $(msgs)"
	[ "$(nmsgs)" -eq 6 ] || fail "more than 6 messages: $(msgs)"
	up && fail "198.18.0.1 left on the interface"
	[ -z "$(etcdctl_ get --prefix "${P}nodes/")" ] || fail "node key left in etcd"
	kill "$lpid"
	return 0
}

run_one "@yaimt-notify-$$"
run_one "$T/notify.sock"
run_one "$T/notify.sock" -d	# in the foreground anyway: notifies all the same
echo "sdnotify: ok"
