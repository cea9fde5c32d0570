#!/usr/bin/env bash
# netif: what goes on the wire.  After an add: gratuitous ARP as request
# and as reply (tha = sha), 1 + garp-count times, garp-interval apart;
# for IPv6 unsolicited NAs to ff02::1, hop limit 255, override flag,
# target link-layer address option, valid checksum; and the garp-refresh
# period afterwards.  Captured with tcpdump on peer C.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netif_lib.bash"
need_cmd tcpdump

nf_lan B C
V4=198.18.0.100 V6=2001:db8::100
ip netns exec "$NS_C" tcpdump -i eth0 -n -l -tt -v -e 'arp or icmp6' \
    >"$T/cap" 2>"$T/cap.err" &
track_pid $!
wait_until 5 grep -q "listening on" "$T/cap.err" || fail "tcpdump did not start"
nf_start b "$NS_B" -i eth0 -c 2 -g 100 -r 1500

# stamps ERE: capture times (ms) of matching lines
stamps() {
	awk -v re="$1" '$0 ~ re { split($1, p, ".")
	    printf "%.0f\n", p[1] * 1000 + substr(p[2], 1, 3) }' "$T/cap"
}
# gaps ERE: differences between consecutive stamps
gaps() { stamps "$1" | awk 'NR > 1 { print $1 - prev } { prev = $1 }'; }

REQ="Request who-has $V4 tell $V4"
REP="Reply $V4 is-at $MAC_B"
nf_cmd b "add $V4"
wait_until 3 sh -c "[ \$(grep -c '$REQ' '$T/cap') -ge 3 ] && [ \$(grep -c '$REP' '$T/cap') -ge 3 ]" ||
    fail "not 3 ARP requests and replies: $(grep -c "$REQ" "$T/cap") $(grep -c "$REP" "$T/cap")"
# every one from B's MAC, broadcast
grep "$REQ" "$T/cap" | grep -q "^[0-9.]* $MAC_B > ff:ff:ff:ff:ff:ff" ||
    fail "request not broadcast from B: $(grep -m1 "$REQ" "$T/cap")"
grep "$REP" "$T/cap" | grep -q "^[0-9.]* $MAC_B > ff:ff:ff:ff:ff:ff" ||
    fail "reply not broadcast from B"
for g in $(gaps "$REQ" | head -2); do
	[ "$g" -ge 80 ] && [ "$g" -le 250 ] || fail "repeat gap $g ms, want ~100"
done
log "ARP repeat gaps (ms): $(gaps "$REQ" | head -2 | tr '\n' ' ')"

nf_cmd b "add $V6"
NA="neighbor advertisement, length 32, tgt is $V6"
wait_until 3 sh -c "[ \$(grep -c '$NA' '$T/cap') -ge 3 ]" ||
    fail "not 3 NAs: $(grep -c "$NA" "$T/cap")"
# the IPv6 header line precedes the NA line (tcpdump -v)
grep -B1 "$NA" "$T/cap" | grep -q "hlim 255" || fail "NA hop limit not 255"
grep -B1 "$NA" "$T/cap" | grep -qE "> 33:33:00:00:00:01" ||
    fail "NA not to the all-nodes MAC"
grep "$NA" "$T/cap" | grep -q "$V6 > ff02::1: \[icmp6 sum ok\]" ||
    fail "NA not $V6 > ff02::1 with a good checksum: $(grep -m1 "$NA" "$T/cap")"
grep "$NA" "$T/cap" | grep -q "Flags \[override\]" || fail "NA flags: $(grep -m1 "$NA" "$T/cap")"
grep -A1 "$NA" "$T/cap" | grep -q "destination link-address option (2), length 8 (1): $MAC_B" ||
    fail "NA lacks the target link-layer address"

# garp-refresh: both addresses again, 1.5 s apart
wait_until 5 sh -c "[ \$(grep -c '$REQ' '$T/cap') -ge 5 ]" ||
    fail "no periodic refresh"
g=$(gaps "$REQ" | tail -1)
[ "$g" -ge 1300 ] && [ "$g" -le 1800 ] || fail "refresh gap $g ms, want ~1500"
wait_until 3 sh -c "[ \$(grep -c '$NA' '$T/cap') -ge 4 ]" || fail "NA not refreshed"
log "refresh gap (ms): $g"
nf_cmd b quit
wait_until 3 sh -c "! kill -0 $PID_b 2>/dev/null" || fail "no quit"
echo PASS
