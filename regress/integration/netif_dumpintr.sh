#!/usr/bin/env bash
# netif: a resync dump that the kernel marks NLM_F_DUMP_INTR (addresses
# changed while it was dumping) is redone, not trusted.  The kernel dumps
# by position and puts a new IPv6 address in front of the older ones, so
# churn in front of our held addresses shifts them between the dump's
# datagrams and one can be skipped: trusted, resync would call it
# "vanished", add it back and announce it.
#
# IPv6 churn runs the whole time; the driver is frozen and flooded with
# IPv4 events until its monitor socket overflows (Drops in
# /proc/net/netlink), then thawed: ENOBUFS, resync, a dump in the middle
# of the churn.  Several rounds.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netif_lib.bash"

NVIP=${NVIP:-1500}	# held: the dump spans several datagrams
NCHURN=200		# churn addresses, added then deleted in blocks
ROUNDS=${ROUNDS:-12}

nf_lan A
ns=$NS_A

# drops NS: the Drops column of the netlink socket bound to netif's
# monitor groups (RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR).
drops() {
	ip netns exec "$1" awk '$2 == 0 && $4 == "00000111" { print $9; f = 1 }
	    END { if (!f) print -1 }' /proc/net/netlink | head -n 1
}
drops_above() { [ "$(drops "$ns")" -gt "$1" ]; }
resyncs() { grep -c "netlink monitor lost events; resynchronising eth0" \
    "$T/r.err"; }
resyncs_above() { [ "$(resyncs)" -gt "$1" ]; }

nf_start r "$ns" -v -i eth0 -c 0
vips=$(python3 -c "print(' '.join('2001:db8::a:%x' % i for i in range(1, $NVIP + 1)))")
nf_cmd r "sync $vips"
nf_wait r "^[0-9.]+ synced $NVIP$" 60 || fail "sync of $NVIP did not finish"
grep -q "refused\|down" "$T/r.out" && fail "not all held: $(grep -m3 "refused\|down" "$T/r.out")"
[ "$(drops "$ns")" -ge 0 ] || fail "monitor socket not found in /proc/net/netlink"

python3 - "$NCHURN" >"$T/churn" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(1, n + 1):
    print("address add 2001:db8::c:%x/128 dev eth0 nodad" % i)
for i in range(1, n + 1):
    print("address del 2001:db8::c:%x/128 dev eth0" % i)
PY
# the overflow itself: IPv4 events come much faster than IPv6 ones
python3 - >"$T/flood" <<'PY'
for i in range(12000):
    a = "198.19.%d.%d/32" % (i // 250, i % 250 + 1)
    print("address add %s dev eth0" % a)
    print("address del %s dev eth0" % a)
PY
# bounded: at most 3000 batches, and it stops when $T/stop appears
(
	for i in $(seq 1 3000); do
		[ -e "$T/stop" ] && exit 0
		ip -n "$ns" -batch "$T/churn" >/dev/null 2>&1 || exit 1
	done
) &
churn=$!
track_pid "$churn"
cleanup_add "touch $T/stop"

log "holding $NVIP; churn started"
for round in $(seq 1 "$ROUNDS"); do
	log "round $round"
	kill -0 "$churn" 2>/dev/null || fail "churn stopped early"
	before=$(resyncs)
	d=$(drops "$ns")
	kill -STOP "$PID_r"
	ip -n "$ns" -batch "$T/flood" || fail "flood"
	wait_until 30 drops_above "$d" ||
	    { kill -CONT "$PID_r"; fail "round $round: monitor did not overflow"; }
	kill -CONT "$PID_r"
	wait_until 20 resyncs_above "$before" ||
	    fail "round $round: no resync: $(tail -n 3 "$T/r.err")"
	# the driver answers once the resync is over; a freeze before that
	# would overflow a queue still being drained, and the kernel reports
	# ENOBUFS once per overflow
	nf_cmd r held
	wait_until 30 nf_count_is r "held [0-9]+" "$round" ||
	    fail "round $round: resync did not finish"
done
log "rounds done"
touch "$T/stop"
wait "$churn" || fail "churn failed"
nf_cmd r held
wait_until 10 nf_count_is r "held [0-9]+" $((ROUNDS + 1)) ||
    fail "no held answer"

redone=$(grep -c "changed during dump .* redoing it" "$T/r.err")
gaveup=$(grep -c "changed during each of" "$T/r.err")
echo "$(resyncs) resyncs, $redone dumps redone, $gaveup given up"
if grep -q "vanished" "$T/r.err"; then
	fail "held addresses called vanished: $(grep -c vanished "$T/r.err"): $(grep -m3 vanished "$T/r.err")"
fi
[ "$(grep "held [0-9]*$" "$T/r.out" | tail -n 1 | awk '{ print $3 }')" = "$NVIP" ] ||
    fail "held: $(grep "held [0-9]*$" "$T/r.out" | tail -n 1)"
n=$(nf_addrs "$ns" | grep -c "^2001:db8::a:[0-9a-f]*/128 proto=89")
[ "$n" -eq "$NVIP" ] || fail "$n of $NVIP held addresses on eth0"
# with no interrupted dump at all, nothing above tested the fix
[ "$redone" -gt 0 ] || [ "$gaveup" -gt 0 ] ||
    skip "no resync dump was interrupted ($(resyncs) resyncs); fix untested"
log "quitting"
nf_cmd r quit
wait_until 20 sh -c "! kill -0 $PID_r 2>/dev/null" || fail "no quit"
nf_hasnt "$ns" "proto=89" || fail "left behind: $(nf_addrs "$ns" | grep -c proto=89)"
echo PASS
