#!/usr/bin/env bash
# netif: tagged leftovers of a crash are removed (and logged) at start-up;
# quit, EOF and SIGTERM each leave no address of ours behind; untagged
# addresses are never touched.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netif_lib.bash"

nf_lan A
ns=$NS_A
V4=198.18.0.100 V6=2001:db8::100 V4b=198.18.0.101

# an administrator's address inside the VIP range, untagged
ip -n "$ns" addr add 198.18.0.200/32 dev eth0

# 1. crash: SIGKILL leaves tagged addresses behind
nf_start k "$ns" -i eth0 -l vip -c 0
nf_cmd k "add $V4"; nf_cmd k "add $V6"; nf_cmd k "add $V4b"
nf_wait k "state $V4b up" || fail "crash run did not add"
kill -KILL "$PID_k"
wait_until 3 sh -c "! kill -0 $PID_k 2>/dev/null" || fail "kill -9"
nf_has "$ns" "^$V4/32 proto=89" || fail "setup: leftover $V4 missing"
nf_has "$ns" "^$V6/128 proto=89" || fail "setup: leftover $V6 missing"

# 2. start-up removes them and says so
nf_start s "$ns" -i eth0 -l vip -c 0
for a in "$V4/32" "$V6/128" "$V4b/32"; do
	grep -q "removing leftover address $a (proto 0x59) from eth0" "$T/s.err" ||
	    fail "leftover $a not logged: $(cat "$T/s.err")"
done
nf_hasnt "$ns" "proto=89" || fail "leftovers still present: $(nf_addrs "$ns")"
nf_has "$ns" "^198.18.0.200/32 proto=0" || fail "untagged address removed"
nf_has "$ns" "^198.18.0.1/24 proto=0" || fail "own address removed"

# 3. quit releases everything
nf_cmd s "add $V4"; nf_cmd s "add $V6"
nf_wait s "state $V6 up" || fail "no up"
nf_cmd s quit
wait_until 3 sh -c "! kill -0 $PID_s 2>/dev/null" || fail "quit did not exit"
wait "$PID_s"; rc=$?
[ $rc -eq 0 ] || fail "quit: exit $rc"
nf_hasnt "$ns" "proto=89" || fail "quit left: $(nf_addrs "$ns")"
grep -q "released $V4/32 from eth0" "$T/s.err" || fail "release not logged"

# 4. EOF on stdin releases everything
nf_start e "$ns" -i eth0 -c 0
nf_cmd e "add $V4"; nf_cmd e "add $V6"
nf_wait e "state $V6 up" || fail "no up"
nf_close e
wait_until 3 sh -c "! kill -0 $PID_e 2>/dev/null" || fail "EOF did not exit"
nf_hasnt "$ns" "proto=89" || fail "EOF left: $(nf_addrs "$ns")"

# 5. SIGTERM releases everything
nf_start t "$ns" -i eth0 -c 5 -g 200
nf_cmd t "add $V4"; nf_cmd t "add $V6"; nf_cmd t "add $V4b"
nf_wait t "state $V4b up" || fail "no up"
kill -TERM "$PID_t"
wait_until 3 sh -c "! kill -0 $PID_t 2>/dev/null" || fail "SIGTERM did not exit"
wait "$PID_t"; rc=$?
[ $rc -eq 0 ] || fail "SIGTERM: exit $rc"
nf_hasnt "$ns" "proto=89" || fail "SIGTERM left: $(nf_addrs "$ns")"
grep -q "signal 15: releasing" "$T/t.err" || fail "SIGTERM not logged"

# 6. release keeps running and holds nothing
nf_start r "$ns" -i eth0 -c 0
nf_cmd r "add $V4"; nf_cmd r "add $V6"
nf_wait r "state $V6 up" || fail "no up"
nf_cmd r release
nf_wait r "^[0-9.]+ released$" || fail "no release"
nf_hasnt "$ns" "proto=89" || fail "release left: $(nf_addrs "$ns")"
nf_cmd r held
nf_wait r "held 0" || fail "still holding after release"
nf_has "$ns" "^198.18.0.200/32 proto=0" || fail "untagged address removed"

# 7. a missing interface or an over-long label is a config error
out=$(ip netns exec "$ns" "$DRIVER" -i nosuch0 </dev/null 2>&1) &&
    fail "missing interface accepted"
echo "$out" | grep -q 'interface "nosuch0" does not exist' ||
    fail "missing interface: $out"
out=$(ip netns exec "$ns" "$DRIVER" -i eth0 -l abcdefghijk </dev/null 2>&1) &&
    fail "long label accepted"
echo "$out" | grep -q 'label "eth0:abcdefghijk" is longer than 15 characters' ||
    fail "long label: $out"
echo PASS
