#!/usr/bin/env bash
# netif: the held set is capped at NETIF_HELD_MAX (10000, DESIGN.md
# section 11).  A full sync fits; one more add is refused with the
# too-many refusal and a log line that says so; what is held can still be
# released, and then the add goes through.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netif_lib.bash"

nf_lan A
ns=$NS_A
ip -n "$ns" addr add 198.18.0.1/16 dev eth0	# allowed: the /16
N=10000
set_of() {	# set_of FIRST COUNT
	python3 -c 'import sys
f, n = int(sys.argv[1]), int(sys.argv[2])
print(" ".join("198.18.%d.%d" % (i // 250 + 1, i % 250 + 1) for i in range(f, f + n)))' "$@"
}
nf_start s "$ns" -i eth0 -c 0
t0=$(date +%s%N)
nf_cmd s "sync $(set_of 0 $N)"
nf_wait s "synced $N\$" 120 || fail "sync of $N"
log "sync of $N: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
[ "$(nf_count s " up$")" -eq $N ] || fail "not all $N held"
extra=198.18.200.1
nf_cmd s "add $extra"
nf_wait s "state $extra refused too-many" 5 || { tail -3 "$T/s.out"; fail "add beyond the cap not refused"; }
nf_wait_err s "refusing to add $extra: $N addresses held already, the most yaimd holds" ||
    fail "no log line for the refusal"
nf_hasnt "$ns" "^$extra/" || fail "$extra added beyond the cap"
# one released, the add fits again
nf_cmd s "del 198.18.1.1"
nf_wait s "state 198.18.1.1 down" 5 || fail "del"
nf_cmd s "add $extra"
nf_wait s "state $extra up" 5 || fail "add after a release"
nf_cmd s "sync"
nf_wait s "synced 0" 120 || fail "empty sync"
echo PASS
