#!/usr/bin/env bash
# Scenario 8: one etcd member killed in a 3-member cluster: no outage.
# 3 nodes, 7 IPs, etcd e1..e3.  First a follower is killed (SIGKILL), then
# restarted; then the leader is killed (an election: leases are extended,
# nodes move to another endpoint).  Each time: no VIP changes holder, the
# client sees no failed attempt, nobody fences, and the pool stays
# balanced.  Each node's endpoint order starts at random, so some nodes
# were talking to the killed member.
# Figures: outage_ms (0 expected) at each kill.
#
# TTL: 8000 ms here, not the lab's 2000.  A leader election in etcd
# (default --election-timeout 1000 ms, randomised up to twice that, then
# a vote) leaves keepalives unanswered for more than TTL - fence-margin =
# 1.5 s with a 2 s TTL, so every node fences (as it must: it cannot know
# that the new leader extends the leases) and the whole pool is down until
# they rejoin.  Measured on this lab: with LAB_TTL=2000 the leader kill
# made all three nodes log FENCING after 1.5 s.  With yaimd's default of
# 5000 ms a node fences when etcd has no leader for more than 4.5 s minus
# the time since its last keepalive (up to a third of the TTL): about 2.8
# s at worst.  That is enough for an ordinary election, but a split vote
# on a loaded machine (a sanitizer run: 3.3 s without a leader) went past
# it.  Rule: TTL - fence-margin - TTL/3 must exceed etcd's election time.
LAB_TTL=${LAB_TTL:-8000}
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/regress/cluster/scen.sh"

HOLD_S=${HOLD_S:-$((LAB_TTL / 1000 + 2))}	# watch this long after a kill

# leader_member: K of the member that is leader now (empty if none).
leader_member() {
	local k st
	for ((k = 1; k <= LAB_ETCD_N; k++)); do
		[ -n "${LAB_ETCD_PIDS[k]:-}" ] || continue
		st=$(ETCDCTL_API=3 ip netns exec "$LAB_NS_BR" etcdctl \
		    --endpoints="http://${LAB_ETCD_ADDRS[k]}:2379" \
		    --dial-timeout=1s --command-timeout=2s \
		    endpoint status -w json 2>/dev/null)
		python3 -c '
import json, sys
s = json.loads(sys.argv[1])[0]["Status"]
sys.exit(0 if s["leader"] == s["header"]["member_id"] else 1)' "$st" 2>/dev/null &&
		    { echo "$k"; return 0; }
	done
	return 1
}

# kill_member LABEL K: SIGKILL member K, watch HOLD_S seconds, assert no
# outage and no fencing.
kill_member() {
	local label=$1 k=$2 f
	log "$label: killing etcd member e$k"
	lab_mark "$label"
	lab_etcd_kill "$k"
	sleep "$HOLD_S"	# the time over which "no outage" is claimed
	f=$(grep -h FENCING "$LAB_DIR"/node*.log)
	[ -z "$f" ] || lab_fail "$label: a node fenced: $f"
	scen_assert_no_moves "$label" "$label"
	scen_all_held || lab_fail "$label: not every IP held"
	scen_close "$label"
	scen_assert_affected 0 "$label"
	grep "^outage .*label=$label " "$LAB_DIR/probe.out" | grep -v ' fails=0 ' &&
	    lab_fail "$label: the client saw failed attempts"
	lab_balanced $SCEN_NODES || lab_fail "$label: not balanced: $(scen_counts)"
}

scen_up 3 7 etcd3
wait_until 10 leader_member || lab_fail "no etcd leader"
leader=$(leader_member)
follower=$(( leader % 3 + 1 ))
log "etcd leader e$leader; killing follower e$follower first"
kill_member kill-follower "$follower"
lab_etcd_start "$follower"
wait_until 30 etcdctl_ endpoint health --cluster || lab_fail "e$follower did not come back"
wait_until 10 leader_member || lab_fail "no etcd leader after the restart"
leader=$(leader_member)
kill_member kill-leader "$leader"
lab_etcd_start "$leader"
wait_until 30 etcdctl_ endpoint health --cluster || lab_fail "e$leader did not come back"
scen_end
