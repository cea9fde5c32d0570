#!/usr/bin/env bash
# netif: SIGHUP applies a new config.  Held addresses still allowed are not
# touched; those the new allowed-networks exclude are removed and reported
# refused; a broken file changes nothing.  Also exercises -f (config_load).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netif_lib.bash"

nf_lan A
ns=$NS_A
conf() {	# conf ALLOWED-NETWORK LABEL
	cat >"$T/yaim.yml" <<EOC
dcs-clustername: vip
dcs-namespace: prod
dcs-endpoints: [http://127.0.0.1:2379]
interface: eth0
label: $2
allowed-networks:
  - $1
  - 2001:db8::/64
garp-count: 1
garp-interval: 100
checker-type: tcp
tcp-host: 127.0.0.1
tcp-port: 5432
EOC
}
conf 198.18.0.0/24 one
nf_start h "$ns" -f "$T/yaim.yml"
nf_cmd h "add 198.18.0.100"
nf_cmd h "add 198.18.0.200"
nf_cmd h "add 2001:db8::100"
nf_wait h "state 2001:db8::100 up" || fail "no up"
nf_has "$ns" "^198.18.0.200/32 proto=89 label=eth0:one " || fail "label from file"

# 1. a broken file: nothing changes
echo "interface: [" >"$T/yaim.yml"
kill -HUP "$PID_h"
nf_wait h "error: reload failed" || fail "broken file not reported"
nf_wait_err h "reload: .*yaim.yml" || fail "broken file not logged"

# 2. the allowed networks shrink, the label changes
conf 198.18.0.0/25 two
kill -HUP "$PID_h"
nf_wait h "reloaded" || fail "no reload"
grep -q "state 198.18.0.200 refused not-allowed" "$T/h.out" ||
    fail "198.18.0.200 not refused after the reload"
nf_hasnt "$ns" "^198.18.0.200/" || fail "198.18.0.200 still present"
# untouched: same label as before, no release, no second announcement
nf_has "$ns" "^198.18.0.100/32 proto=89 label=eth0:one " ||
    fail "198.18.0.100 was touched: $(nf_addrs "$ns")"
nf_has "$ns" "^2001:db8::100/128 proto=89" || fail "2001:db8::100 lost"
grep -q "released 198.18.0.100" "$T/h.err" && fail "198.18.0.100 released"
[ "$(nf_count h "state 198.18.0.100 ")" -eq 1 ] || fail "198.18.0.100 re-reported"
# new additions use the new label and the new networks
nf_cmd h "add 198.18.0.101"
nf_wait h "state 198.18.0.101 up" || fail "no up after reload"
nf_has "$ns" "^198.18.0.101/32 proto=89 label=eth0:two " || fail "new label"
nf_cmd h "add 198.18.0.201"
nf_wait h "state 198.18.0.201 refused not-allowed" || fail "old network still allowed"
nf_cmd h quit
wait_until 3 sh -c "! kill -0 $PID_h 2>/dev/null" || fail "no quit"
nf_hasnt "$ns" "proto=89" || fail "left behind: $(nf_addrs "$ns")"

# what yaimd -n says of a missing interface, with the file's name
conf 198.18.0.0/24 one
sed -i 's/^interface: eth0$/interface: nosuch0/' "$T/yaim.yml"
out=$(ip netns exec "$ns" "$DRIVER" -f "$T/yaim.yml" </dev/null 2>&1) &&
    fail "missing interface accepted"
[ "$out" = "netif-driver: $T/yaim.yml:4:12: interface \"nosuch0\" does not exist" ] ||
    fail "missing interface: $out"
echo PASS
