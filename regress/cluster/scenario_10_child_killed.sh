#!/usr/bin/env bash
# Scenario 10: SIGKILL of a child of yaimd, both variants: the checker,
# then the dcs child (of another node).  Each time:
#   - the parent removes every address it added and exits non-zero within
#     1 s (yaimd(8): children are never restarted in place); no yaimd
#     process is left in the node's namespace;
#   - the others take its IPs over: after a checker death the dcs child can
#     still revoke the lease (fast); after a dcs death the lease must
#     expire (about TTL); either way within TTL + a bound;
#   - the node is restarted and rejoins: balanced 3/2/2 again.
# Figures: exit_ms (kill to the parent's exit) and outage_ms per variant.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/regress/cluster/scen.sh"

EXIT_MS=${EXIT_MS:-1000}		# yaimd(8): "within a second"
MAX_MS=${MAX_MS:-$((LAB_TTL + 3000))}

yaimd_in_ns() {
	local p
	for p in $(ip netns pids "$(lab_ns "$1")"); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q '^yaimd' &&
		    echo "$p"
	done
}
no_yaimd_in_ns() { [ -z "$(yaimd_in_ns "$1")" ]; }

# kill_child KIND: SIGKILL that child of the node holding the most.
kill_child() {
	local kind=$1 v victim pid cp t0 dt
	v=$(scen_fullest)
	victim=node$v
	pid=$(lab_node_pid "$v")
	cp=$(scen_child "$v" "$kind") || lab_fail "no $kind child of $victim"
	log "kill-$kind: SIGKILL of $victim's $kind child $cp; it holds $(scen_held_by "$victim" | tr '\n' ' ')"
	lab_mark "kill-$kind"
	t0=$(date +%s%3N)
	kill -KILL "$cp"
	wait_until $((EXIT_MS / 1000 + 5)) _lab_gone "$pid" ||
	    lab_fail "$victim's parent still runs 5 s after its $kind child died"
	dt=$(($(date +%s%3N) - t0))
	scen_reap_node "$v"
	log "kill-$kind: the parent exited with status $SCEN_RC, $dt ms after the kill"
	echo "FIGURE $SCEN kill-$kind exit_ms min=$dt median=$dt max=$dt n=1"
	[ "$SCEN_RC" -ne 0 ] || lab_fail "the parent exited 0 after its $kind child died"
	scen_holds_nothing "$victim" ||
	    lab_fail "the parent exited and left $(scen_held_by "$victim" | tr '\n' ' ')"
	[ "$dt" -le "$EXIT_MS" ] ||
	    lab_fail "the parent took $dt ms to exit (bound $EXIT_MS ms)"
	grep -iE "$kind|child" "$LAB_DIR/$victim.log" | tail -n 3
	wait_until 5 no_yaimd_in_ns "$v" ||
	    lab_fail "yaimd processes left in $victim's namespace: $(yaimd_in_ns "$v")"
	scen_liveness "$MAX_MS" "kill-$kind"
	SCEN_UP_NODES=$(echo $SCEN_NODES | tr ' ' '\n' | grep -vx "$victim" | tr '\n' ' ') \
	    scen_steady "after kill-$kind"
	scen_assert_moves_only_from "kill-$kind" "$victim"
	scen_close "kill-$kind"
	scen_assert_max "$MAX_MS" "kill-$kind"

	lab_mark "restart-$kind"
	lab_start_node "$v"
	scen_steady "after the restart of $victim"
	scen_assert_moves_only_to "restart-$kind" "$victim"
	scen_close "restart-$kind" gap_ms
}

scen_up 3 7
kill_child checker
kill_child dcs
scen_end
