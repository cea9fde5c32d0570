#!/usr/bin/env bash
# dcs engine: refusals are published (<prefix>refused/<node>/<ip>, on the
# node's lease) and honoured by every node, so an IP one node refuses is
# held by another instead of staying unheld (DESIGN.md section 4,
# liveness).  Covers: a refusal learned from the parent after a claim
# (published in the txn that deletes the mark), refusals known at join
# (outside allowed-networks; published in the node key's txn), a
# refusal withdrawn when its IP leaves the pool, refusals gone with the
# lease, the warning for an IP that every healthy node refuses, and a
# reload forgetting the parent's refusals.
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/dcs_lib.bash"
need_root
start_etcd refusals
dcs_conf "$T/yaim.yml"
dcs_conf "$T/narrow.yml" "allowed-networks: [198.18.0.0/29]"
NET=198.18.0

# refusals NODE: the IPs NODE's refusal keys name, sorted.
refusals() {
	etcdctl_ get --prefix --keys-only "${P}refused/$1/" |
	    awk -v p="${P}refused/$1/" 'NF { print substr($0, length(p) + 1) }' |
	    sort
}
nrefusals() { refusals "$1" | wc -l; }
nrefusals_is() { [ "$(nrefusals "$1")" -eq "$2" ]; }
# field KEY FIELD: create_revision, mod_revision or lease of KEY (decimal).
field() {
	etcdctl_ get -w json "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for kv in d.get("kvs", []):
    print(kv.get(sys.argv[1], 0))' "$2"
}
# holder IP: the node in IP's mark, empty if unmarked.
holder() { etcdctl_ get --print-value-only "${P}ips/$1/marked"; }
refused_by_all() {	# refused_by_all IP NODE...: each NODE published it
	local ip=$1 n; shift
	for n; do
		[ -n "$(etcdctl_ get --keys-only "${P}refused/$n/$ip")" ] || return 1
	done
}
not_refused_by() { [ -z "$(etcdctl_ get --keys-only "${P}refused/$1/$2")" ]; }
all_marked() {	# all_marked FIRST LAST: every IP of the range has a mark
	local i
	for i in $(seq "$1" "$2"); do
		[ -n "$(holder "$NET.$i")" ] || return 1
	done
}

add_ips 1 9
start_driver b -H
start_driver c -H
wait_until 10 total_is 9 b c || { dump_logs b c; fail "b and c did not take 9"; }

log "1. a refuses, through its parent, every IP it is given"
start_driver a		# unhealthy until told: the refusals go in first
for i in $(seq 1 9); do send a refuse "$NET.$i"; done
wait_until 5 bash -c "[ \$(grep -c ' will-refuse ' '$T/a.out') -eq 9 ]" ||
    fail "a did not take the refuse commands"
send a healthy
# a is given 3 IPs, claims them, its parent refuses them; a publishes
# the refusals and the others hold all 9 again.  Without the published
# refusals b and c would leave those 3 to a for ever.  a is still under
# its target and accepts, as far as anyone knows, the other 6, so it is
# handed them one after another, until it has refused all 9.
wait_until 20 nrefusals_is a 9 || { dump_logs a b c; fail "a published $(nrefusals a) refusals, not 9"; }
wait_until 10 all_marked 1 9 || { dump_logs a b c; fail "not every IP is held after a's refusals"; }
wait_until 10 total_is 9 b c || { dump_logs a b c; fail "b and c hold $(total_held b c), not 9"; }
[ "$(nheld a)" -eq 0 ] || fail "a holds $(nheld a)"
[ "$(grep -c ' refused ' "$T/a.out")" -eq 9 ] || fail "a's parent refused $(grep -c ' refused ' "$T/a.out") adds, not 9"
alease=$(lease_of "${P}nodes/a")
for ip in $(refusals a); do
	[ "$(lease_of "${P}refused/a/$ip")" = "$alease" ] ||
	    fail "refused/a/$ip is not on a's lease $alease"
	[ "$(etcdctl_ get --print-value-only "${P}refused/a/$ip")" = "outside allowed-networks" ] ||
	    fail "refused/a/$ip: value $(etcdctl_ get --print-value-only "${P}refused/a/$ip")"
	# the refusal came with the delete of a's mark: the same revision
	grep -q "released $ip, publishing that this node refuses it" "$T/a.err" ||
	    fail "a did not publish the refusal of $ip with the delete of its mark"
done
sleep 1	# a window: nothing is claimed again by a
[ "$(nheld a)" -eq 0 ] || fail "a took a refused IP again"
no_overlap a b c || fail "overlap"

log "2. a leaves: its refusals go with its lease"
stop_driver a
nrefusals_is a 0 || fail "refusals of a left after it left: $(refusals a)"
wait_until 5 total_is 9 b c || fail "b and c hold $(total_held b c)"

log "3. d, allowed-networks $NET.0/29: refuses .8 and .9 at join"
DCS_CONF=$T/narrow.yml start_driver d -H
wait_until 10 nrefusals_is d 2 || { dump_logs d; fail "d published $(nrefusals d) refusals, not 2"; }
[ "$(refusals d | tr '\n' ' ')" = "$NET.8 $NET.9 " ] || fail "d refuses $(refusals d)"
nrev=$(field "${P}nodes/d" create_revision)
for ip in 8 9; do
	[ "$(field "${P}refused/d/$NET.$ip" create_revision)" = "$nrev" ] ||
	    fail "refused/d/$NET.$ip was not written with d's node key"
	[ "$(etcdctl_ get --print-value-only "${P}refused/d/$NET.$ip")" = "outside allowed-networks" ] ||
	    fail "refused/d/$NET.$ip has the wrong value"
done
wait_until 10 held_is d 3 || { dump_logs b c d; fail "d holds $(nheld d), not 3"; }
wait_until 10 total_is 9 b c d || fail "b, c and d hold $(total_held b c d)"
for ip in $(held d); do
	case $ip in $NET.8|$NET.9) fail "d holds $ip, outside its networks";; esac
done
all_marked 1 9 || fail "an IP is unheld"
err_has d "ips/$NET.9\": $NET.9 is outside the allowed networks" ||
    fail "d did not warn about $NET.9"

log "4. .9 leaves the pool: d withdraws its refusal"
del_ip "$NET.9"
wait_until 5 nrefusals_is d 1 || fail "refused/d/$NET.9 not withdrawn"
[ "$(refusals d)" = "$NET.8" ] || fail "d refuses $(refusals d)"
wait_until 5 total_is 8 b c d || fail "b, c and d hold $(total_held b c d), not 8"

log "5. an IP refused by every healthy node: nobody holds it, a warning says so"
X=$NET.200	# outside d's networks
send b refuse "$X"
send c refuse "$X"
wait_until 5 out_has b " will-refuse $X$" || fail "b did not take refuse"
wait_until 5 out_has c " will-refuse $X$" || fail "c did not take refuse"
etcdctl_ put "${P}ips/$X" "" >/dev/null
wait_until 10 refused_by_all "$X" b c d ||
    { dump_logs b c d; fail "not every node published its refusal of $X"; }
wait_until 5 grep -q "nobody will hold $X: each of the 3 healthy nodes refuses it" "$T/b.err" "$T/c.err" "$T/d.err" ||
    fail "no warning that nobody will hold $X"
mark_gone "$X" || fail "$X is marked by $(holder "$X")"
[ "$(total_held b c d)" -eq 8 ] || fail "b, c and d hold $(total_held b c d), not 8"
no_overlap b c d || fail "overlap"

log "6. a reload makes b forget its parent's refusal: b takes $X"
# (the driver's parent refused only the one add it was told to)
send b reload
wait_until 10 not_refused_by b "$X" ||
    fail "b did not withdraw its refusal of $X after the reload"
wait_until 10 out_has b " held $X$" || { dump_logs b; fail "b did not take $X after the reload"; }
err_has b "forgetting 1 refusal\(s\) of the parent" || fail "no log line for the forgotten refusal"
[ "$(holder "$X")" = b ] || fail "$X is marked by $(holder "$X")"
no_overlap b c d || fail "overlap"

stop_driver b
stop_driver c
stop_driver d
[ "$(etcdctl_ get --prefix --keys-only "${P}refused/" | grep -c .)" -eq 0 ] ||
    fail "refusal keys left after every node left"
log "ok"
