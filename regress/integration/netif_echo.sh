#!/usr/bin/env bash
# netif: the monitor's echo of our own removal is not someone else's.  An
# address removed and held again before the monitor is read (a fence,
# then a new add from dcs, DESIGN.md 5) gets the late RTM_DELADDR of that
# removal: it is not "removed by someone else", nor added back, nor
# announced again.  And with holding not allowed (ops->may_hold 0, the
# parent's fence) an address someone removes is not put back but
# reported down.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netif_lib.bash"

nf_lan A
ns=$NS_A
nf_start e "$ns" -i eth0 -c 0

n=0
for vip in 198.18.0.100 2001:db8::100; do
	n=$((n + 1))
	case $vip in *:*) plen=128 ;; *) plen=32 ;; esac
	# one read: the three commands run before any monitor event
	kill -STOP "$PID_e"
	nf_cmd e "add $vip
del $vip
add $vip
held"
	kill -CONT "$PID_e"
	wait_until 3 nf_count_is e "held 1\$" $n || fail "no answers for $vip: $(tail -n 5 "$T/e.out")"
	nf_has "$ns" "^$vip/$plen proto=89" || fail "$vip not on eth0"
	sleep 0.5	# the echoes arrive and are handled
	if grep -E "$vip on eth0 (was removed|vanished)" "$T/e.err"; then
		fail "the echo of our own removal of $vip taken for someone else's"
	fi
	nf_has "$ns" "^$vip/$plen proto=89" || fail "$vip gone after the echo"
	grep -q "state $vip down .*netlink" "$T/e.out" && fail "$vip: netlink error"
	nf_cmd e "del $vip"
	nf_wait e "held 0|state $vip down" || fail "no down for $vip"
done

log "no holding allowed: an address someone removes stays gone"
vip=198.18.0.101
nf_cmd e "add $vip"
nf_wait e "state $vip up" || fail "no up for $vip"
nf_cmd e "allow 0"
nf_wait e "allow 0" || fail "allow 0 not taken"
ip -n "$ns" addr del "$vip/32" dev eth0 || fail "ip addr del $vip"
nf_wait e "state $vip down" || fail "$vip not reported down"
nf_wait_err e "$vip on eth0 was removed by someone else; not adding it back" ||
    fail "not logged: $(tail -n 3 "$T/e.err")"
sleep 0.3
nf_hasnt "$ns" "^$vip/32 " || fail "$vip put back with holding not allowed"
nf_cmd e "held"
nf_wait e "held 0" || fail "$vip still held"
nf_cmd e quit
wait_until 3 sh -c "! kill -0 $PID_e 2>/dev/null" || fail "no quit"
nf_hasnt "$ns" "proto=89" || fail "left behind: $(nf_addrs "$ns")"
echo PASS
