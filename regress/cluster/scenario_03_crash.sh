#!/usr/bin/env bash
# Scenario 3: a node crash.  3 nodes, 7 IPs; the node holding 3 crashes:
# its link goes down, then SIGKILL of yaimd and its children.  Its marks
# stay until its lease expires, so the survivors take its IPs over no
# earlier than TTL/2 after the crash (the last keepalive was about TTL/3
# before it, at most TTL - fence-margin, or the node would have fenced;
# TTL/2 leaves room for keepalives late on a loaded machine) and no later
# than TTL + a bound; only its IPs
# move; the survivors are balanced 4/3.  Then the node reboots (stale
# addresses gone, yaimd started): it gets its share back, and only IPs
# moving to it move.
# This is the crash without peers (`peers: no`): the takeover waits for
# the lease.  With peers (the default), scenario 16 covers it.
# Figures: outage_ms of the crashed node's IPs; gap_ms of the rejoin.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/regress/cluster/scen.sh"

LAB_EXTRA_CONFIG=${LAB_EXTRA_CONFIG:-peers: no}
# The lease is granted for ceil(TTL) s; a keepalive every third of it.
MIN_MS=${MIN_MS:-$((LAB_TTL / 2))}
MAX_MS=${MAX_MS:-$((LAB_TTL + 3000))}

scen_up 3 7
v=$(scen_fullest)
victim=node$v
survivors=$(echo $SCEN_NODES | tr ' ' '\n' | grep -vx "$victim" | tr '\n' ' ')
log "crashing $victim, which holds $(scen_held_by "$victim" | tr '\n' ' ')"
lab_mark crash
lab_kill_node "$v"
scen_liveness "$MAX_MS" "crash of $victim"
SCEN_UP_NODES=$survivors scen_steady "after the crash"
scen_assert_moves_only_from crash "$victim"
scen_close crash
scen_assert_affected 3 "crash"
scen_assert_max "$MAX_MS" "crash"
[ "$SCEN_MIN" -ge "$MIN_MS" ] ||
    lab_fail "crash: an IP was taken over after $SCEN_MIN ms, before the victim's lease can have expired (>= $MIN_MS ms)"

lab_mark rejoin
lab_revive_node "$v"
scen_steady "after the rejoin"
scen_assert_moves_only_to rejoin "$victim"
scen_close rejoin gap_ms
scen_end
