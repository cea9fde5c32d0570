#!/usr/bin/env bash
# netif: an address we hold that someone else removes is added back,
# logged, and announced again (peer C's neighbour entry, set to a bogus
# MAC beforehand, comes back to B's MAC without C sending anything).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netif_lib.bash"

nf_lan B C
BOGUS=02:00:00:00:00:99
# -c 0: only the first announcement, so a later one must be the re-add's
nf_start b "$NS_B" -i eth0 -l vip -c 0


for vip in 198.18.0.100 2001:db8::100; do
	case $vip in *:*) plen=128 ;; *) plen=32 ;; esac
	nf_cmd b "add $vip"
	nf_wait b "state $vip up" || fail "no up for $vip"
	sleep 0.2	# let the first announcement pass before faking C's entry
	ip -n "$NS_C" neigh replace "$vip" lladdr "$BOGUS" dev eth0 nud stale ||
	    fail "cannot set C's neighbour entry"
	neigh_is "$NS_C" "$vip" "$BOGUS" || fail "C's entry not bogus"
	ip -n "$NS_B" addr del "$vip/$plen" dev eth0 || fail "ip addr del $vip"
	wait_until 2 nf_has "$NS_B" "^$vip/$plen proto=89" ||
	    fail "$vip not added back: $(nf_addrs "$NS_B")"
	nf_wait_err b "$vip on eth0 was removed by someone else; adding it back" ||
	    fail "re-add of $vip not logged"
	wait_until 2 neigh_is "$NS_C" "$vip" "$MAC_B" ||
	    fail "$vip not announced again: C has $(neigh_mac "$NS_C" "$vip")"
	grep -q "state $vip down" "$T/b.out" && fail "$vip reported down"
	nf_has "$NS_B" "^$vip/$plen proto=89 label=$([ $plen = 32 ] && echo eth0:vip || echo -) " ||
	    fail "$vip re-added without its label"
done
nf_cmd b quit
wait_until 3 sh -c "! kill -0 $PID_b 2>/dev/null" || fail "no quit"
nf_hasnt "$NS_B" "proto=89" || fail "left behind: $(nf_addrs "$NS_B")"
echo PASS
