#!/usr/bin/env bash
# netif: add and delete IPv4 and IPv6 addresses; check prefix length,
# label, IFA_PROTO tag and nodad; repeated requests are harmless.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netif_lib.bash"

nf_lan A
V4=198.18.0.100 V6=2001:db8::100

# --- defaults: /32 and /128, label vip ---
nf_start d "$NS_A" -i eth0 -l vip -c 0
for i in 1 2; do
	nf_cmd d "add $V4"
	nf_cmd d "add $V6"
done
nf_wait d "state $V6 up" || fail "no up for $V6"
[ "$(nf_count d "state $V4 up")" -eq 2 ] || fail "repeated add of $V4 not acked twice"
[ "$(nf_count d "state $V6 up")" -eq 2 ] || fail "repeated add of $V6 not acked twice"
nf_addrs "$NS_A" >"$T/addrs"
cat "$T/addrs"
grep -qx "$V4/32 proto=89 label=eth0:vip flags=0x.*" "$T/addrs" ||
    fail "$V4 not /32 with proto 89 and label eth0:vip"
[ "$(grep -c "^$V4/" "$T/addrs")" -eq 1 ] || fail "$V4 present twice"
grep -qx "$V6/128 proto=89 label=- flags=0x.*" "$T/addrs" ||
    fail "$V6 not /128 with proto 89"
# nodad as iproute2 sees it; IFA_F_NODAD = 0x02
ip -n "$NS_A" -j addr show dev eth0 | python3 -c '
import json, sys
a = [x for x in json.load(sys.stdin)[0]["addr_info"] if x["local"] == sys.argv[1]]
assert len(a) == 1 and a[0].get("nodad") is True, a
assert a[0]["prefixlen"] == 128, a
assert not a[0].get("tentative") and not a[0].get("dadfailed"), a
' "$V6" || fail "$V6 lacks nodad or is tentative"
ip -n "$NS_A" -j addr show dev eth0 | python3 -c '
import json, sys
a = [x for x in json.load(sys.stdin)[0]["addr_info"] if x["local"] == sys.argv[1]]
assert len(a) == 1 and a[0]["label"] == "eth0:vip" and a[0]["prefixlen"] == 32, a
' "$V4" || fail "ip -j addr disagrees on $V4"
# the administrator's own addresses are untouched
nf_has "$NS_A" "^198.18.0.1/24 proto=0 " || fail "own IPv4 address changed"
nf_has "$NS_A" "^2001:db8::1/64 proto=0 " || fail "own IPv6 address changed"

for i in 1 2; do
	nf_cmd d "del $V4"
	nf_cmd d "del $V6"
done
wait_until 3 nf_count_is d "state $V6 down" 2 ||
    fail "repeated del of $V6 not acked twice"
[ "$(nf_count d "state $V4 down")" -eq 2 ] || fail "repeated del of $V4 not acked twice"
nf_hasnt "$NS_A" "^$V4/" || fail "$V4 still present"
nf_hasnt "$NS_A" "^$V6/" || fail "$V6 still present"
nf_cmd d "held"
nf_wait d "held 0" || fail "driver still holds something"
nf_cmd d quit
wait_until 3 sh -c "! kill -0 $PID_d 2>/dev/null" || fail "driver did not quit"
grep -q "refused\|error" "$T/d.out" && fail "unexpected refusal: $(cat "$T/d.out")"

# --- netmask / netmask6 from the config, no label ---
nf_start m "$NS_A" -i eth0 -m 24 -M 64 -c 0
nf_cmd m "add 198.18.0.101"
nf_cmd m "add 2001:db8::101"
nf_wait m "state 2001:db8::101 up" || fail "no up with netmask 24/64"
nf_addrs "$NS_A" >"$T/addrs2"
grep -qx "198.18.0.101/24 proto=89 label=eth0 flags=0x.*" "$T/addrs2" ||
    fail "198.18.0.101 not /24 with the interface label: $(cat "$T/addrs2")"
grep -qx "2001:db8::101/64 proto=89 label=- flags=0x.*" "$T/addrs2" ||
    fail "2001:db8::101 not /64"
nf_cmd m "del 198.18.0.101"
nf_cmd m "del 2001:db8::101"
nf_wait m "state 2001:db8::101 down" || fail "no down with netmask 24/64"
nf_hasnt "$NS_A" "proto=89" || fail "tagged address left: $(nf_addrs "$NS_A")"
nf_has "$NS_A" "^198.18.0.1/24 proto=0 " || fail "own /24 removed with the VIP"
echo "PASS"
