#!/usr/bin/env bash
# PSS and RSS of all yaimd processes idle with one VIP (one node, a real
# etcd, an http check against a local server), after IDLE seconds.
# Prints one line per process (role pid pss rss uss; USS, the pages no
# other process maps, does not move with what else runs), a total, and the
# libraries the parent maps; then the same for keepalived (one VRRP
# instance, the same VIP and check) in the same run.  YAIMD names the
# binary (default $BUILD/yaimd).
#
#	bash bench/pss_one.sh [IDLE_S]
. "$(dirname "$0")/../regress/lib.sh" || exit 1
. "$TOP/regress/tools/checklib.sh"
need_root
need_cmd ip python3
setup_user
IDLE=${1:-10}
ns=$(netns_add pss)
ip -n "$ns" link add vip0 type veth peer name vip1 || fail "veth"
ip -n "$ns" link set vip0 up
ip -n "$ns" link set vip1 up
ip -n "$ns" link set lo up
ip -n "$ns" addr add 198.18.0.254/24 dev vip0
start_etcd pss "$ns"
ip netns exec "$ns" python3 "$HTTPD_PY" --port-file "$T/web.port" \
    --control "$T/web.json" --log "$T/web.log" >"$T/web.out" 2>&1 &
track_pid $!
wait_until 10 test -s "$T/web.port" || fail "httpd"
cat >"$T/y.yml" <<EOT
dcs-clustername: yaim
dcs-endpoints: [ '$ETCD_ENDPOINT' ]
interface: vip0
nodename: n1
checker-type: http
http-url: http://127.0.0.1:$(cat "$T/web.port")/
control-socket: $T/yaimd.sock
EOT
etcdctl_ put "/service/yaim/ips/198.18.0.1" x >/dev/null
ip netns exec "$ns" "$YAIMD" -d -f "$T/y.yml" >"$T/yaimd.log" 2>&1 &
Y=$!
track_pid "$Y"
wait_until 30 bash -c "ip -n $ns addr show dev vip0 | grep -q 198.18.0.1/" ||
    { cat "$T/yaimd.log"; fail "the VIP did not come up"; }
sleep "$IDLE"
kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/smaps_rollup"; }
# role TOP PID: parent, or a yaimd child's title ("yaimd: dcs"), or
# keepalived's VRRP child.
role() {
	if [ "$2" = "$1" ]; then
		echo parent
	elif [ "$2" = "$(cat "$T/vrrp.pid" 2>/dev/null)" ]; then
		echo vrrp
	else
		tr '\0' ' ' <"/proc/$2/cmdline" | awk '{ print $2 }'
	fi
}
# measure TOOL PID: every process of PID's tree, then the sum.
measure() {
	local tool=$1 p pss rss uss tp=0 tr=0 tu=0
	for p in "$2" $(child_pids "$2"); do
		pss=$(kb "$p" Pss) rss=$(kb "$p" Rss)
		# USS: the pages only this process maps, whoever else runs
		uss=$(($(kb "$p" Private_Clean) + $(kb "$p" Private_Dirty)))
		tp=$((tp + pss)) tr=$((tr + rss)) tu=$((tu + uss))
		printf '%-10s %-12s %7d pss %6d kB rss %6d kB uss %6d kB\n' \
		    "$tool" "$(role "$2" "$p")" "$p" "$pss" "$rss" "$uss"
	done
	printf '%-10s total        pss %6d kB (%.1f MB) rss %6d kB (%.1f MB) uss %6d kB (%.1f MB)\n' \
	    "$tool" "$tp" "$(echo "$tp / 1024" | bc -l)" "$tr" \
	    "$(echo "$tr / 1024" | bc -l)" "$tu" "$(echo "$tu / 1024" | bc -l)"
	# the same pages shared only among these processes: PSS on a host
	# where nothing else maps them (bench/pss_alone.py)
	python3 "$TOP/bench/pss_alone.py" "$2" $(child_pids "$2") |
	    awk -v t="$tool" '$1 == "total" { printf "%-10s alone        pss %6d kB (%.1f MB)                            uss %6d kB (%.1f MB)\n", t, $2, $2 / 1024, $3, $3 / 1024 }'
}
measure yaimd "$Y"
echo "parent maps:"
awk 'NF >= 6 && $6 ~ /^\// { print $6 }' "/proc/$Y/maps" | sort -u

# keepalived in the same run, on the same interface: one VRRP instance
# with the same VIP, its check a curl of the same URL every second (as
# bench/lablib.sh's ka_conf).  KEEPALIVED=0 skips it.
[ "${KEEPALIVED:-1}" = 1 ] && command -v keepalived >/dev/null || exit 0
kill -TERM "$Y"
wait_until 15 bash -c "! kill -0 $Y 2>/dev/null" || fail "yaimd did not stop"
cat >"$T/ka.conf" <<EOT
global_defs {
	router_id n1
	vrrp_version 3
	script_user root
	enable_script_security
}
vrrp_script chk {
	script "/usr/bin/curl -sf -o /dev/null -m 0.5 http://127.0.0.1:$(cat "$T/web.port")/"
	interval 1
	timeout 1
	fall 1
	rise 2
}
vrrp_instance v1 {
	state BACKUP
	interface vip0
	virtual_router_id 11
	priority 150
	advert_int 1
	virtual_ipaddress {
		198.18.0.1/32 dev vip0
	}
	track_script {
		chk
	}
}
EOT
ip netns exec "$ns" keepalived -n -l -D -f "$T/ka.conf" -p "$T/ka.pid" \
    -r "$T/vrrp.pid" -c "$T/checkers.pid" -b "$T/bfd.pid" >"$T/ka.log" 2>&1 &
K=$!
track_pid "$K"
wait_until 30 bash -c "ip -n $ns addr show dev vip0 | grep -q 198.18.0.1/" ||
    { cat "$T/ka.log"; fail "keepalived: the VIP did not come up"; }
sleep "$IDLE"
measure keepalived "$K"
kill -TERM "$K"
wait_until 15 bash -c "! kill -0 $K 2>/dev/null" || kill -KILL $(child_pids "$K") "$K"
