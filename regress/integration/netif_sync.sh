#!/usr/bin/env bash
# netif: IMSG_ADDR_SYNC semantics at scale.  The interface ends up holding
# exactly the listed set (duplicates and refused entries aside); every
# listed address is answered; a repeated sync changes nothing; an empty
# one drops everything.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netif_lib.bash"

nf_lan A
ns=$NS_A
ip -n "$ns" addr add 198.18.0.1/16 dev eth0	# allowed: the /16
N=1000
set_of() {	# set_of FIRST COUNT: addresses FIRST..FIRST+COUNT-1
	python3 -c 'import sys
f, n = int(sys.argv[1]), int(sys.argv[2])
print(" ".join("198.18.%d.%d" % (i // 250 + 1, i % 250 + 1) for i in range(f, f + n)))' "$@"
}
held_now() { nf_addrs "$ns" | awk '/proto=89/ { sub("/.*", "", $1); print $1 }' | sort; }
expect_set() {	# expect_set FIRST COUNT
	set_of "$1" "$2" | tr ' ' '\n' | sort >"$T/want"
	held_now >"$T/have"
	cmp -s "$T/want" "$T/have" ||
	    fail "held set differs: $(diff "$T/want" "$T/have" | head -5)"
}

nf_start s "$ns" -i eth0 -c 0
# 1. N addresses, one duplicate, one refused
nf_cmd s "sync $(set_of 0 $N) 198.18.1.1 127.0.0.1"
nf_wait s "synced $((N + 2))" 30 || fail "first sync"
expect_set 0 $N
[ "$(nf_count s " up$")" -eq $N ] || fail "not every address answered up"
nf_wait s "state 127.0.0.1 refused loopback" || fail "refusal not answered"
# 2. the same again: nothing changes, all answered up again
t0=$(now_us)
nf_cmd s "sync $(set_of 0 $N)"
nf_wait s "synced $N\$" 30 || fail "second sync"
log "no-op sync of $N: $(( ($(now_us) - t0) / 1000 )) ms"
expect_set 0 $N
[ "$(nf_count s " up$")" -eq $((2 * N)) ] || fail "repeat not answered"
[ "$(nf_count s " down$")" -eq 0 ] || fail "repeat removed something"
[ "$(grep -c ": holding 198" "$T/s.err")" -eq $N ] ||
    fail "repeat re-added addresses"
# 3. shift by half: half go, half come
nf_cmd s "sync $(set_of $((N / 2)) $N)"
wait_until 30 nf_count_is s "synced $N\$" 2 || fail "third sync"
wait_until 5 nf_count_is s " down$" $((N / 2)) || fail "not half removed"
expect_set $((N / 2)) $N
# 4. empty: all go
nf_cmd s "sync"
nf_wait s "synced 0" 30 || fail "empty sync"
[ -z "$(held_now)" ] || fail "empty sync left addresses"
nf_cmd s held
nf_wait s "held 0" || fail "driver still holds"
nf_has "$ns" "^198.18.0.1/16 proto=0" || fail "own address touched"
echo PASS
