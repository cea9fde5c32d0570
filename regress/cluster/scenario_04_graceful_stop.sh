#!/usr/bin/env bash
# Scenario 4: graceful stop.  3 nodes, 7 IPs; the node holding 3 gets
# SIGTERM: it removes its addresses, revokes its lease and exits 0; the
# others take its IPs over at once.  The client's outage must stay under
# a generous bound (a few tens of ms are expected; the lease TTL would be
# seconds); only its IPs move; the survivors are balanced 4/3.
# Figure: outage_ms of the stopped node's IPs.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/regress/cluster/scen.sh"

MAX_MS=${MAX_MS:-500}

scen_up 3 7
v=$(scen_fullest)
victim=node$v
survivors=$(echo $SCEN_NODES | tr ' ' '\n' | grep -vx "$victim" | tr '\n' ' ')
log "stopping $victim, which holds $(scen_held_by "$victim" | tr '\n' ' ')"
lab_mark stop
lab_stop_node "$v"
rc=$?
[ "$rc" -eq 0 ] || lab_fail "$victim exited with status $rc on SIGTERM"
scen_holds_nothing "$victim" || lab_fail "$victim left addresses behind: $(scen_held_by "$victim")"
[ -z "$(ip netns pids "$(lab_ns "$v")" | while read -r p; do
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep '^yaimd'; done)" ] ||
    lab_fail "a yaimd process is left in $victim's namespace"
scen_liveness "$MAX_MS" "graceful stop of $victim"
SCEN_UP_NODES=$survivors scen_steady "after the stop"
scen_assert_moves_only_from stop "$victim"
scen_close stop
scen_assert_affected 3 "stop"
scen_assert_max "$MAX_MS" "graceful stop"
# A takeover only after the lease ran out would mean the lease was not
# revoked.
nodekey=$(etcdctl_ get "${LAB_PREFIX}nodes/$victim" --keys-only)
[ -z "$nodekey" ] || lab_fail "$victim's node key is still in etcd"
scen_end
