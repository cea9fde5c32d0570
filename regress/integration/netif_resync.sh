#!/usr/bin/env bash
# netif: when the monitor socket overflows (ENOBUFS), netif resynchronises
# from a full dump: a held address removed while events were being lost
# is added back, and the interface prefixes are right again.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netif_lib.bash"

nf_lan A
ns=$NS_A
VIP=198.18.0.100
nf_start r "$ns" -i eth0 -c 0
nf_cmd r "add $VIP"
nf_wait r "state $VIP up" || fail "no up"

# freeze the driver, lose our address, then flood its 8 MB socket buffer
kill -STOP "$PID_r"
ip -n "$ns" addr del "$VIP/32" dev eth0 || fail "ip addr del"
python3 - >"$T/batch" <<'PY'
for i in range(12000):
    a = "198.19.%d.%d/32" % (i // 250, i % 250 + 1)
    print("address add %s dev eth0" % a)
    print("address del %s dev eth0" % a)
PY
ip -n "$ns" -batch "$T/batch" || fail "ip -batch"
# a new prefix appears while events are lost
ip -n "$ns" addr add 198.18.7.1/24 dev eth0
kill -CONT "$PID_r"
nf_wait_err r "netlink monitor lost events; resynchronising eth0" 10 ||
    fail "no ENOBUFS resync: $(tail -n 5 "$T/r.err")"
wait_until 5 nf_has "$ns" "^$VIP/32 proto=89" ||
    fail "$VIP not re-added after the resync"
nf_wait_err r "$VIP on eth0 vanished; adding it back" ||
    fail "re-add not logged"
# the prefix added during the loss is known (the dump saw it)
ok=0
for i in $(seq 1 20); do
	nf_cmd r "add 198.18.7.$((i + 10))"
	nf_wait r "state 198.18.7.$((i + 10)) (up|refused)" || fail "no answer"
	grep -q "state 198.18.7.$((i + 10)) up" "$T/r.out" && { ok=1; break; }
done
[ $ok = 1 ] || fail "prefix added during the loss not allowed"
nf_cmd r quit
wait_until 5 sh -c "! kill -0 $PID_r 2>/dev/null" || fail "no quit"
nf_hasnt "$ns" "proto=89" || fail "left behind: $(nf_addrs "$ns")"
echo PASS
