#!/usr/bin/env bash
# Scenario 16: a crash at the documented defaults, peers on (issue 12).
# No timing key in the nodes' configs (interval 1000 ms, ttl 5000 ms,
# peers yes, peer-interval and peer-timeout at their defaults), 3 nodes,
# 7 IPs.  The node holding the most crashes (link down, then SIGKILL);
# the survivors hear it no more for peer-timeout, revoke its lease and
# claim its IPs once it must have fenced (DESIGN.md 10.2): far sooner
# than its lease's TTL.  Only its IPs move, no overlap (vipmon).  Then it
# reboots and rejoins; CRASH_ROUNDS crashes in all (2 by default), each
# of the fullest node at that time.
# The issue's goal is median <= 500 ms, max <= 800 ms; on a loaded
# 2-core machine the bound asserted is MAX_MS (1500 ms), and the figures
# are printed (FIGURE ... crash-all: every crashed VIP of every round).
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
LAB_DEFAULT_TIMING=1
LAB_INTERVAL=1000		# yaim.yml(5) defaults (for scen_steady's pauses)
LAB_TTL=5000
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/regress/cluster/scen.sh"

MAX_MS=${MAX_MS:-1500}
CRASH_ROUNDS=${CRASH_ROUNDS:-2}
all=

scen_up 3 7
for ((r = 1; r <= CRASH_ROUNDS; r++)); do
	v=$(scen_fullest)
	victim=node$v
	survivors=$(echo $SCEN_NODES | tr ' ' '\n' | grep -vx "$victim" | tr '\n' ' ')
	nmine=$(scen_held_by "$victim" | grep -c .)
	log "round $r: crashing $victim, which holds $(scen_held_by "$victim" | tr '\n' ' ')"
	lab_mark "crash$r"
	lab_kill_node "$v"
	scen_liveness "$MAX_MS" "crash of $victim"
	SCEN_UP_NODES=$survivors scen_steady "after crash $r"
	scen_assert_moves_only_from "crash$r" "$victim"
	scen_close "crash$r"
	all="$all $(grep "^outage .*label=crash$r " "$LAB_DIR/probe.out" |
	    grep -E 'status=(recovered|down|moved)' |
	    sed 's/.* outage_ms=\([0-9]*\).*/\1/')"
	scen_assert_affected "$nmine" "crash $r"
	scen_assert_max "$MAX_MS" "crash $r"
	# the survivors moved its IPs by revoking its lease, not by its TTL
	grep -h "peers: revoked lease .* of $victim" $(for n in $survivors; do
	    echo "$LAB_DIR/$n.log"; done) | tail -n 1 | grep . ||
	    lab_fail "no survivor logged revoking $victim's lease"

	lab_mark "rejoin$r"
	lab_revive_node "$v"
	scen_steady "after rejoin $r"
	scen_assert_moves_only_to "rejoin$r" "$victim"
	scen_close "rejoin$r" gap_ms
done
f=$(echo $all | tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END {
    print a[1], a[int((NR + 1) / 2)], a[NR], NR }')
read -r mn md mx n <<<"$f"
echo "FIGURE $SCEN crash-all outage_ms min=$mn median=$md max=$mx n=$n"
[ "$md" -le 500 ] && [ "$mx" -le 800 ] &&
    log "crash: within the issue's goal (median <= 500 ms, max <= 800 ms)" ||
    log "crash: NOT within the issue's goal (median <= 500 ms, max <= 800 ms): median $md max $mx"
scen_end
