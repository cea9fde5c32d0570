#!/usr/bin/env bash
# netif: every kind of refused request is refused, reported with its
# reason and logged with it; none stops the driver.  Allowed networks
# come from the config, or else from the interface's prefixes, kept
# current from monitor events.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netif_lib.bash"

nf_lan A
ns=$NS_A

# expect NAME "REQUEST" SHOWN TOKEN "LOGGED REASON"
expect() {
	local name=$1 req=$2 shown=$3 token=$4 why=$5 verb=${2%% *}
	nf_cmd "$name" "$req"
	nf_wait "$name" "state $shown refused $token\$" ||
	    fail "\"$req\" not refused as $token: $(tail -n 3 "$T/$name.out")"
	[ "$verb" = add ] && verb=add || verb=delete
	grep -qF "refused $verb $shown on eth0: $why ($token" "$T/$name.err" ||
	    fail "\"$req\": reason not logged: $(tail -n 2 "$T/$name.err")"
}

# --- allowed-networks given ---
nf_start r "$ns" -i eth0 -a 198.18.0.0/25 -a 2001:db8::/64 -c 0
expect r "add 198.18.0.50 ifname=eth1" 198.18.0.50 bad-iface "not the configured interface"
expect r "add 198.18.0.51 ifname=eth0XXXXXXXXXXXX" 198.18.0.51 bad-iface "not the configured interface"
expect r "add 198.18.0.52 af=7" "<invalid>" bad-family "bad address family"
expect r "add 198.18.0.53 pad=1" "<invalid>" bad-family "bad address family"
expect r "add 198.18.0.54 plen=33" "<invalid>" bad-family "bad address family"
expect r "add ::ffff:198.18.0.55" "::ffff:198.18.0.55" bad-family "bad address family"
expect r "add 127.0.0.1" 127.0.0.1 loopback "loopback address"
expect r "add 127.9.9.9" 127.9.9.9 loopback "loopback address"
expect r "add ::1" ::1 loopback "loopback address"
expect r "add 224.0.0.5" 224.0.0.5 multicast "multicast address"
expect r "add 239.1.1.1" 239.1.1.1 multicast "multicast address"
expect r "add ff02::1" ff02::1 multicast "multicast address"
expect r "add 255.255.255.255" 255.255.255.255 broadcast "broadcast address"
expect r "add 198.18.0.255" 198.18.0.255 broadcast "broadcast address"
expect r "add 0.0.0.0" 0.0.0.0 unspecified "unspecified address"
expect r "add 0.1.2.3" 0.1.2.3 unspecified "unspecified address"
expect r "add ::" :: unspecified "unspecified address"
expect r "add 169.254.1.1" 169.254.1.1 link-local "link-local address"
expect r "add fe80::1" fe80::1 link-local "link-local address"
expect r "add 10.1.2.3" 10.1.2.3 not-allowed "outside allowed-networks"
expect r "add 198.18.0.200" 198.18.0.200 not-allowed "outside allowed-networks"
expect r "add 2001:db9::1" 2001:db9::1 not-allowed "outside allowed-networks"
expect r "add 198.18.0.1" 198.18.0.1 not-allowed "outside allowed-networks"
grep -q "198.18.0.1 on eth0: .*already configured on the interface" "$T/r.err" ||
    fail "own-address refusal does not say why"
expect r "del 127.0.0.1" 127.0.0.1 loopback "loopback address"
expect r "del 198.18.0.1" 198.18.0.1 not-allowed "outside allowed-networks"
# nothing was added, the own address is still there, and we still work
nf_hasnt "$ns" "proto=89" || fail "a refused address was added"
nf_has "$ns" "^198.18.0.1/24 proto=0" || fail "own address removed by a refused del"
nf_cmd r "add 198.18.0.60"
nf_wait r "state 198.18.0.60 up" || fail "valid add after refusals failed"
# sync: refused entries are reported, valid ones held
nf_cmd r "sync 198.18.0.61 127.0.0.2 2001:db8::61"
nf_wait r "synced 3" || fail "sync not done"
grep -q "state 127.0.0.2 refused loopback" "$T/r.out" || fail "sync: no refusal"
grep -q "state 198.18.0.60 down" "$T/r.out" || fail "sync did not drop 198.18.0.60"
nf_has "$ns" "^198.18.0.61/32 proto=89" || fail "sync did not add 198.18.0.61"
nf_has "$ns" "^2001:db8::61/128 proto=89" || fail "sync did not add 2001:db8::61"
nf_hasnt "$ns" "^127.0.0.2/" || fail "sync added a refused address"
kill -0 "$PID_r" || fail "driver died"
nf_cmd r quit
wait_until 3 sh -c "! kill -0 $PID_r 2>/dev/null" || fail "no quit"

# --- no allowed-networks: the interface's prefixes, kept current ---
nf_start p "$ns" -i eth0 -c 0
nf_cmd p "add 198.18.0.70"
nf_wait p "state 198.18.0.70 up" || fail "in-prefix IPv4 refused"
nf_cmd p "add 2001:db8::70"
nf_wait p "state 2001:db8::70 up" || fail "in-prefix IPv6 refused"
expect p "add 198.18.5.7" 198.18.5.7 not-allowed "outside allowed-networks"
ip -n "$ns" addr add 198.18.5.1/24 dev eth0
# the monitor learns the new prefix (poll: the event may take a moment)
ok=0
for i in $(seq 1 50); do
	nf_cmd p "add 198.18.5.7"
	if wait_until 1 grep -q "state 198.18.5.7 up" "$T/p.out"; then ok=1; break; fi
done
[ $ok = 1 ] || fail "new interface prefix not learnt"
expect p "add 198.18.5.255" 198.18.5.255 broadcast "broadcast address"
ip -n "$ns" addr del 198.18.5.1/24 dev eth0
# what is held can be let go even without the prefix that allowed it
nf_cmd p "del 198.18.5.7"
nf_wait p "state 198.18.5.7 (down|refused)" || fail "no answer to del"
grep -q "state 198.18.5.7 down" "$T/p.out" || fail "held address not released"
nf_hasnt "$ns" "^198.18.5.7/" || fail "198.18.5.7 still present"
# the monitor forgets it (poll with fresh addresses: one answered up
# before the event arrived would stay held)
ok=0
for i in $(seq 8 40); do
	nf_cmd p "add 198.18.5.$i"
	nf_wait p "state 198.18.5.$i (refused not-allowed|up)" || fail "no answer"
	if grep -q "state 198.18.5.$i refused not-allowed" "$T/p.out"; then
		ok=1; break
	fi
done
[ $ok = 1 ] || fail "removed interface prefix still allowed"
nf_cmd p quit
wait_until 3 sh -c "! kill -0 $PID_p 2>/dev/null" || fail "no quit"
nf_hasnt "$ns" "proto=89" || fail "left behind: $(nf_addrs "$ns")"
echo PASS
