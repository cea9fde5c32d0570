#!/usr/bin/env bash
# netif: link down and up are reported (IMSG_LINK_STATE through the
# driver's "link" lines); held addresses survive an administrative down
# (IPv6 ones, which the kernel drops, are put back) but are NOT announced
# when the link returns: dcs drops everything on link down, so an address
# still held then is one about to go (a paused node waking up).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netif_lib.bash"

nf_lan A C
BOGUS=02:00:00:00:00:98
V4=198.18.0.100 V6=2001:db8::100
idx=$(ip netns exec "$NS_A" cat /sys/class/net/eth0/ifindex)
nf_start a "$NS_A" -i eth0 -l vip -c 0
nf_cmd a "add $V4"; nf_cmd a "add $V6"
nf_wait a "state $V6 up" || fail "no up"


# 1. carrier loss: the bridge port goes down
ip -n "$NS_br" link set pA down
nf_wait a "link down $idx\$" || fail "carrier loss not reported"
for v in $V4 $V6; do
	ip -n "$NS_C" neigh replace "$v" lladdr "$BOGUS" dev eth0 nud stale
done
ip -n "$NS_br" link set pA up
nf_wait a "link up $idx\$" || fail "carrier back not reported"
# garp-count is 0 here, so only a link-up announcement could change C
sleep 1
for v in $V4 $V6; do
	[ "$(neigh_mac "$NS_C" "$v")" = "$BOGUS" ] ||
	    fail "$v announced after link up: C has $(neigh_mac "$NS_C" "$v")"
done

# 2. administrative down: the kernel drops IPv6 addresses
ip -n "$NS_A" link set eth0 down
wait_until 3 nf_count_is a "link down $idx\$" 2 ||
    fail "admin down not reported"
ip -n "$NS_A" link set eth0 up
wait_until 3 nf_count_is a "link up $idx\$" 2 ||
    fail "admin up not reported"
wait_until 3 nf_has "$NS_A" "^$V6/128 proto=89" ||
    fail "$V6 not back after down/up: $(nf_addrs "$NS_A")"
nf_has "$NS_A" "^$V4/32 proto=89 label=eth0:vip" || fail "$V4 lost"
grep -q "state .* down" "$T/a.out" && fail "an address was reported down"
nf_cmd a quit
wait_until 3 sh -c "! kill -0 $PID_a 2>/dev/null" || fail "no quit"
nf_hasnt "$NS_A" "proto=89" || fail "left behind: $(nf_addrs "$NS_A")"
echo PASS
