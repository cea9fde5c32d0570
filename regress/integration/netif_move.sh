#!/usr/bin/env bash
# netif: move a VIP from A to B on a shared bridge.  Peer C has reached
# the VIP through A; after the move C's neighbour entry must carry B's
# MAC, and C must reach the VIP through B within 100 ms of the add
# request (gratuitous ARP for IPv4, unsolicited NA for IPv6).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netif_lib.bash"
need_cmd ping

LIMIT_US=100000
nf_lan A B C
nf_start a "$NS_A" -i eth0 -l vip
nf_start b "$NS_B" -i eth0 -l vip


# first.py PINGLOG T0_US: the first reply stamped after T0, in us.
cat >"$T/first.py" <<'PY'
import re, sys
t0 = int(sys.argv[2]) / 1e6
for l in open(sys.argv[1]):
    m = re.match(r"\[(\d+\.\d+)\] \d+ bytes from", l)
    if m and float(m.group(1)) > t0:
        print(int(float(m.group(1)) * 1e6))
        sys.exit(0)
sys.exit(1)
PY

move() {
	local vip=$1 fam=$2 t0 t1 first
	log "$vip: held by A, reached by C"
	nf_cmd a "add $vip"
	nf_wait a "state $vip up" || fail "A: no up for $vip"
	ip netns exec "$NS_C" ping "$fam" -c 1 -W 2 "$vip" >/dev/null ||
	    fail "C cannot reach $vip through A"
	[ "$(neigh_mac "$NS_C" "$vip")" = "$MAC_A" ] ||
	    fail "C's entry for $vip is not A's MAC before the move"

	# C pings every 10 ms for at most 6 s; -D stamps each reply
	ip netns exec "$NS_C" ping "$fam" -D -n -i 0.01 -W 1 -w 6 "$vip" \
	    >"$T/ping$fam.out" 2>&1 &
	local ping_pid=$!
	track_pid "$ping_pid"
	wait_until 2 grep -q "bytes from" "$T/ping$fam.out" ||
	    fail "C's ping to $vip through A does not answer"

	nf_cmd a "del $vip"
	nf_wait a "state $vip down" || fail "A: no down for $vip"
	nf_hasnt "$NS_A" "^$vip/" || fail "A still has $vip"
	t0=$(now_us)
	nf_cmd b "add $vip"
	nf_wait b "state $vip up" || fail "B: no up for $vip"
	# the first reply stamped after the add request
	wait_until 2 python3 "$T/first.py" "$T/ping$fam.out" "$t0" ||
	    fail "C never reached $vip through B"
	first=$(python3 "$T/first.py" "$T/ping$fam.out" "$t0")
	kill "$ping_pid" 2>/dev/null
	t1=$(stamp_us b "state $vip up")
	log "$vip: add request -> up $(( (t1 - t0) / 1000 )) ms," \
	    "-> first reply through B $(( (first - t0) / 1000 )) ms"
	[ $((first - t0)) -lt $LIMIT_US ] ||
	    fail "$vip: C reached B only after $(( (first - t0) / 1000 )) ms"
	[ "$(neigh_mac "$NS_C" "$vip")" = "$MAC_B" ] ||
	    fail "C's entry for $vip is $(neigh_mac "$NS_C" "$vip"), not B's $MAC_B"
	ip netns exec "$NS_C" ping "$fam" -c 1 -W 2 "$vip" >/dev/null ||
	    fail "C cannot reach $vip through B"
	[ "$(neigh_mac "$NS_C" "$vip")" = "$MAC_B" ] || fail "entry moved back"
	nf_cmd b "del $vip"
	nf_wait b "state $vip down" || fail "B: no down for $vip"
}

move 198.18.0.100 -4
move 2001:db8::100 -6
echo PASS
