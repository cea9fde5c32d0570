#!/usr/bin/env bash
# Scenario 15: only the dcs child of a holder is stopped (SIGSTOP), as a
# compromised sibling of the same uid could do; its parent, link and etcd
# stay up.  dcs can no longer fence, so the parent must (DESIGN.md 5,
# "The parent enforces the deadline"):
#   - the parent drops every address of the node by dcs's last hold
#     deadline, TTL - fence-margin after its last keepalive at most, and
#     logs it; the node's lease then expires in etcd and the others take
#     its IPs over: no overlap at any time (vipmon), only its IPs move,
#     liveness within TTL + a bound;
#   - resumed (SIGCONT), dcs fences first, rejoins with a new lease and
#     the node is balanced again; only IPs moving to it move.
# Figures: drop_ms (stop to the parent's removal), outage_ms at the stop.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/regress/cluster/scen.sh"

MARGIN=500			# yaim.yml(5): the fence-margin default
MAX_MS=${MAX_MS:-$((LAB_TTL + 3000))}
DROP_MS=${DROP_MS:-$((LAB_TTL - MARGIN + 500))}
STOPPED_MS=${STOPPED_MS:-$((LAB_TTL + 2000))}	# longer than TTL

scen_up 3 7
v=$(scen_fullest)
victim=node$v
mine=$(scen_held_by "$victim")
dcs=$(scen_child "$v" dcs) || lab_fail "no dcs child of $victim"
survivors=$(echo $SCEN_NODES | tr ' ' '\n' | grep -vx "$victim" | tr '\n' ' ')
loglines=$(wc -l <"$LAB_DIR/$victim.log")
log "stopping $victim's dcs child $dcs; it holds $(echo $mine)"
lab_mark dcs-stop
t0=$(date +%s%3N)
kill -STOP "$dcs"
cleanup_add "kill -CONT $dcs"
wait_until $((DROP_MS / 1000 + 3)) scen_holds_nothing "$victim" ||
    lab_fail "$victim kept $(scen_held_by "$victim" | tr '\n' ' ') with its dcs stopped"
# when each of its IPs left it, from vipmon's transitions (polling here
# is slow on a loaded machine)
left_at() {
	awk -v t="$t0" -v ip="$1" -v n="$victim" '$1 >= t && $2 == ip &&
	    index("," $3 ",", "," n ",") == 0 { print $1; exit }' \
	    "$LAB_DIR/transitions.log"
}
all_left() {
	local ip
	for ip in $mine; do [ -n "$(left_at "$ip")" ] || return 1; done
}
wait_until 5 all_left || lab_fail "vipmon did not see every IP leave $victim"
drop=$(for ip in $mine; do left_at "$ip"; done | sort -n | tail -n 1)
dt=$((drop - t0))
log "$victim holds nothing $dt ms after its dcs stopped (bound $DROP_MS ms)"
echo "FIGURE $SCEN dcs-stop drop_ms min=$dt median=$dt max=$dt n=1"
[ "$dt" -le "$DROP_MS" ] ||
    lab_fail "$victim dropped its IPs only $dt ms after its dcs stopped"
grep -q "fencing: dcs gave no new hold deadline; dropping" "$LAB_DIR/$victim.log" ||
    lab_fail "$victim's parent did not log the fencing"
[ -n "$(lab_node_pid "$v")" ] && kill -0 "$(lab_node_pid "$v")" ||
    lab_fail "$victim's parent is gone"
scen_liveness "$MAX_MS" "dcs stop on $victim"
SCEN_UP_NODES=$survivors scen_steady "while $victim's dcs is stopped"
scen_assert_moves_only_from dcs-stop "$victim"
scen_holds_nothing "$victim" || lab_fail "$victim holds addresses again"
left=$((t0 + STOPPED_MS - $(date +%s%3N)))
[ "$left" -le 0 ] || sleep "$(awk -v m="$left" 'BEGIN { print m / 1000 }')"
scen_close dcs-stop
scen_assert_affected 3 "dcs stop"
scen_assert_max "$MAX_MS" "dcs stop"

log "resuming $victim's dcs child"
lab_mark dcs-cont
kill -CONT "$dcs"
scen_steady "after $victim's dcs resumed"
scen_assert_moves_only_to dcs-cont "$victim"
after=$(tail -n +$((loglines + 1)) "$LAB_DIR/$victim.log" | grep '^dcs\|dcs\[')
first=$(grep -m1 -E 'FENCING|claimed|claiming|joined' <<<"$after")
[[ "$first" == *FENCING* ]] ||
    lab_fail "$victim's dcs did not fence first on resuming: $first"
scen_close dcs-cont gap_ms
scen_end
