#!/usr/bin/env bash
# netif under valgrind: requests, refusals, sync, an external removal, a
# link flap and quit, with no memory error and no definite leak.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netif_lib.bash"
need_valgrind

nf_lan A
ns=$NS_A
NF_WRAP=(valgrind -q --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite --log-file="$T/vg.log")
NF_START_WAIT=30
nf_start v "$ns" -i eth0 -l vip -c 2 -g 50 -r 1000
nf_cmd v "add 198.18.0.100"
nf_cmd v "add 2001:db8::100"
nf_cmd v "add 127.0.0.1"
nf_cmd v "add 198.18.0.101 af=9"
nf_wait v "state 198.18.0.101|<invalid> refused" 20 || fail "no answers"
nf_cmd v "sync 198.18.0.102 198.18.0.103 2001:db8::100 224.0.0.1"
nf_wait v "synced 4" 20 || fail "no sync"
ip -n "$ns" addr del 198.18.0.102/32 dev eth0
wait_until 20 nf_has "$ns" "^198.18.0.102/32 proto=89" || fail "no re-add"
ip -n "$ns" link set eth0 down
nf_wait v "link down" 20 || fail "no link down"
ip -n "$ns" link set eth0 up
nf_wait v "link up" 20 || fail "no link up"
nf_cmd v "del 198.18.0.103"
nf_cmd v "sync"
nf_wait v "synced 0" 20 || fail "no empty sync"
nf_cmd v "add 198.18.0.104"
nf_wait v "state 198.18.0.104 up" 20 || fail "no up"
nf_cmd v quit
wait_until 30 sh -c "! kill -0 $PID_v 2>/dev/null" || fail "no exit"
wait "$PID_v"; rc=$?
[ -s "$T/vg.log" ] && cat "$T/vg.log"
[ $rc -eq 0 ] || fail "valgrind run exited $rc"
nf_hasnt "$ns" "proto=89" || fail "left behind: $(nf_addrs "$ns")"
echo PASS
