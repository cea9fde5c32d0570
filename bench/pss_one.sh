#!/usr/bin/env bash
# PSS and RSS of all yaimd processes idle with one VIP (one node, a real
# etcd, an http check against a local server), after IDLE seconds.
# Prints one line per process (role pid pss_kb rss_kb), a total, and the
# libraries the parent maps.  YAIMD names the binary (default
# $BUILD/yaimd).
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
EOT
etcdctl_ put "/service/yaim/ips/198.18.0.1" x >/dev/null
ip netns exec "$ns" "$YAIMD" -d -f "$T/y.yml" >"$T/yaimd.log" 2>&1 &
Y=$!
track_pid "$Y"
wait_until 30 bash -c "ip -n $ns addr show dev vip0 | grep -q 198.18.0.1/" ||
    { cat "$T/yaimd.log"; fail "the VIP did not come up"; }
sleep "$IDLE"
kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/smaps_rollup"; }
tp=0 tr=0
for p in "$Y" $(child_pids "$Y"); do
	pss=$(kb "$p" Pss) rss=$(kb "$p" Rss)
	tp=$((tp + pss)) tr=$((tr + rss))
	printf '%-16s %7d pss %6d kB rss %6d kB\n' \
	    "$(tr '\0' ' ' <"/proc/$p/cmdline" | awk '{ print $2 }')" \
	    "$p" "$pss" "$rss"
done
printf 'total            pss %6d kB (%.1f MB) rss %6d kB (%.1f MB)\n' \
    "$tp" "$(echo "$tp / 1024" | bc -l)" "$tr" "$(echo "$tr / 1024" | bc -l)"
echo "parent maps:"
awk 'NF >= 6 && $6 ~ /^\// { print $6 }' "/proc/$Y/maps" | sort -u
