#!/usr/bin/env bash
# Scenario 19: one node cut off from etcd only, peers on (issue 12).
# Frames from the node to etcd vanish (lab_cut_etcd, as in scenario 7);
# the node still reaches its peers and the client.  It cannot renew its
# lease, asks its peers for promises, and they refuse (they reach etcd),
# so it fences at its short deadline (250 ms past its last keepalive,
# DESIGN.md 10.2); its peers still hear it, so its IPs move when its
# lease expires (TTL) plus the claim wait.  Asserted: it drops every IP
# within FENCE_MS, before any other node takes one; every IP held within
# MAX_MS; only its IPs move; 0 overlaps.  Healed, it rejoins.
# Figures: fence_drop_ms, fence_margin_ms, outage_ms of its IPs.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/regress/cluster/scen.sh"

MAX_MS=${MAX_MS:-$((LAB_TTL + 3000))}
FENCE_MS=${FENCE_MS:-1500}	# 250 ms hold + request timeouts, loaded box

scen_up 3 7
v=$(scen_fullest)
victim=node$v
mine=$(scen_held_by "$victim")
nmine=$(grep -c . <<<"$mine")
survivors=$(echo $SCEN_NODES | tr ' ' '\n' | grep -vx "$victim" | tr '\n' ' ')
log "cutting $victim off from etcd only; it holds $(echo $mine)"
lab_mark cut
t0=$(date +%s%3N)
lab_cut_etcd "$v"
wait_until $((FENCE_MS / 1000 + 3)) scen_holds_nothing "$victim" ||
    lab_fail "$victim did not fence: still holds $(scen_held_by "$victim")"
scen_liveness "$MAX_MS" "$victim cut off from etcd"
lab_node_alive "$v" || lab_fail "$victim's yaimd died"
SCEN_UP_NODES=$survivors scen_steady "after the cut"
scen_assert_moves_only_from cut "$victim"
drop=0 take=99999999999999
for ip in $mine; do
	d=$(awk -v ip="$ip" -v t="$t0" '$1 >= t && $2 == ip && $3 == "-" { print $1; exit }' "$LAB_DIR/transitions.log")
	k=$(awk -v ip="$ip" -v t="$t0" '$1 >= t && $2 == ip && $3 != "-" { print $1; exit }' "$LAB_DIR/transitions.log")
	[ -n "$d" ] && [ -n "$k" ] || lab_fail "no drop/takeover transition for $ip"
	[ "$d" -gt "$drop" ] && drop=$d
	[ "$k" -lt "$take" ] && take=$k
done
log "fencing: $victim dropped its last IP $((drop - t0)) ms after the cut; the first takeover came $((take - t0)) ms after it: a margin of $((take - drop)) ms"
echo "FIGURE $SCEN cut fence_drop_ms min=$((drop - t0)) median=$((drop - t0)) max=$((drop - t0)) n=1"
echo "FIGURE $SCEN cut fence_margin_ms min=$((take - drop)) median=$((take - drop)) max=$((take - drop)) n=1"
[ "$((drop - t0))" -le "$FENCE_MS" ] ||
    lab_fail "$victim dropped its IPs $((drop - t0)) ms after the cut (bound $FENCE_MS ms)"
[ "$take" -gt "$drop" ] || lab_fail "a takeover before the fenced node dropped its IPs"
scen_close cut
scen_assert_affected "$nmine" "cut"
scen_assert_max "$MAX_MS" "cut"

log "healing $victim's path to etcd"
lab_mark heal
lab_heal_etcd "$v"
scen_steady "after the heal"
scen_assert_moves_only_to heal "$victim"
scen_close heal gap_ms
scen_end
