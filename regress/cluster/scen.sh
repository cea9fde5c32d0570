# Shared steps of the named fault scenarios (scenario_01..13_*.sh), on top
# of lab.sh.  Source it after regress/lib.sh and regress/cluster/lab.sh.
# (Not named scenario_*.sh: the runner runs every such file.)
#
# Every scenario prints, per fault, machine-readable lines that
# figures.sh collects over repetitions:
#	FIGURE <scenario> <label> <field> min=<ms> median=<ms> max=<ms> n=<vips>
# (over the VIPs the probe saw affected at that mark), and the probe's own
# "outage ..." lines.

SCEN=${SCEN:-$(basename "$0" .sh)}
SCEN_BOUND=${SCEN_BOUND:-30}	# s: the bound of a wait that is no figure
SCEN_NODES=

# scen_need: root, the tools and yaimd (a missing build is a skip).
scen_need() {
	local t
	need_root
	need_cmd ip etcd etcdctl python3
	for t in vipmon probe responder; do
		[ -x "$TOOLS/$t" ] || skip "$TOOLS/$t not built (make tests)"
	done
	[ -x "$YAIMD" ] || skip "no yaimd binary at $YAIMD"
}

# scen_nodes N: "node1 ... nodeN".
scen_nodes() {
	local i out=
	for ((i = 1; i <= $1; i++)); do
		out="$out${out:+ }node$i"
	done
	echo "$out"
}

# scen_all_held: every pool IP has exactly one holder (one dump per node,
# not one per IP as lab_all_held: fast enough for 60 VIPs).
scen_all_held() {
	local h
	h=$(lab_holders)
	lab_pool | awk -v h="$h" '
	    BEGIN { n = split(h, l, "\n")
		    for (i = 1; i <= n; i++) { split(l[i], f, " "); c[f[1]]++ } }
	    { if (c[$1] != 1) bad = 1 }
	    END { exit bad }'
}

# scen_held_by NODE: the pool IPs NODE holds, one a line.
scen_held_by() { lab_holders | awk -v n="$1" '$2 == n { print $1 }'; }

# scen_held_by_all I: the pool IPs on node I's interface, up or down.
scen_held_by_all() {
	ip -n "$(lab_ns "$1")" -o addr show dev "$(lab_if "$1")" |
	    awk -v m="$LAB_POOL_MATCH" '{ split($4, a, "/") }
		index(a[1], m) == 1 { print a[1] }' | sort -t . -k 4,4n
}

# scen_client_ok: the probe's latest answer for every pool IP came from
# its holder (the client reaches each VIP on the right node).
scen_client_ok() {
	local h
	h=$(lab_holders)
	lab_pool | awk -v h="$h" -v tl="$LAB_DIR/timeline.log" '
	    BEGIN { n = split(h, l, "\n")
		    for (i = 1; i <= n; i++) { split(l[i], f, " "); hold[f[1]] = f[2] }
		    while ((getline line < tl) > 0) { split(line, f, " "); last[f[2]] = f[3] } }
	    { if (last[$1] != hold[$1] || hold[$1] == "") bad = 1 }
	    END { exit bad }'
}

# scen_holds_nothing NODE
scen_holds_nothing() { [ -z "$(scen_held_by "$1")" ]; }

# scen_counts: "nodeI count" for every node, on one line.
scen_counts() { lab_counts $SCEN_NODES | tr '\n' ' ' | sed 's/ $//'; }

# scen_fullest: the index of a node holding the most VIPs.
scen_fullest() {
	lab_holders | awk '{ print $2 }' | sort | uniq -c | sort -k1,1rn -k2 |
	    awk 'NR == 1 { sub("node", "", $2); print $2 }'
}

# scen_up N NVIPS [etcd1|etcd3] [PROBE ARGS...]: the lab, NVIPS pool IPs
# (198.18.1.1..), the monitor, the probe, N yaimd nodes; waits until every
# IP is held and the nodes are balanced.
scen_up() {
	local n=$1 nv=$2 etcd=${3:-etcd1} reason i
	shift 3 2>/dev/null || shift $#
	scen_need
	lab_up "$n" "$etcd"
	reason=$(lab_yaimd_ready) || lab_fail "yaimd cannot run here: $reason"
	SCEN_NODES=$(scen_nodes "$n")
	[ "$nv" -eq 0 ] || lab_pool_add $(lab_pool_range 1 "$nv")
	lab_monitor_start
	lab_probe_start "$@"
	lab_mark coldstart
	for ((i = 1; i <= n; i++)); do
		lab_start_node "$i"
	done
	scen_steady "cold start"
}

# scen_steady WHAT: wait (bounded) until every pool IP is held and the
# running nodes are balanced; fail naming WHAT otherwise.
scen_steady() {
	local nodes="${SCEN_UP_NODES:-$SCEN_NODES}"
	wait_until "$SCEN_BOUND" scen_all_held ||
	    lab_fail "$1: not every pool IP held after ${SCEN_BOUND}s: $(lab_holders | tr '\n' ' ')"
	wait_until "$SCEN_BOUND" _scen_settled $nodes ||
	    lab_fail "$1: $nodes not balanced and quiet after ${SCEN_BOUND}s: $(scen_counts)"
	log "$1: steady: $(scen_counts)"
}

# scen_quiet MS: vipmon saw no VIP change holder in the last MS.
scen_quiet() {
	local last
	last=$(tail -n 1 "$LAB_DIR/transitions.log" 2>/dev/null | awk '{ print $1 }')
	[ -z "$last" ] || [ $(($(date +%s%3N) - last)) -ge "$1" ]
}
# Balanced, all held, and quiet for two reconciliation intervals (a cold
# start passes through balanced states while it still moves IPs).
_scen_settled() {
	lab_balanced "$@" && scen_all_held &&
	    scen_quiet $((2 * LAB_INTERVAL + 100))
}

# scen_liveness BOUND_MS WHAT: every pool IP has one holder within
# BOUND_MS of the last mark; prints the time taken.
scen_liveness() {
	local bound=$1 t0 dt
	t0=$(tail -n 1 "$LAB_DIR/marks" | awk '{ print $1 }')
	wait_until $(((bound + 999) / 1000 + 1)) scen_all_held ||
	    lab_fail "liveness: $2: not every pool IP held $(($(date +%s%3N) - t0)) ms after the fault: $(lab_holders | tr '\n' ' ')"
	dt=$(($(date +%s%3N) - t0))
	[ "$dt" -le "$bound" ] ||
	    lab_fail "liveness: $2: every IP held only after $dt ms (bound $bound ms)"
	log "liveness: $2: every pool IP held $dt ms after the fault (bound $bound ms)"
}

# scen_close LABEL [FIELD]: close the probe's window of mark LABEL with a
# quiet mark, print its outage lines and the FIGURE line of FIELD
# (outage_ms by default) over the VIPs that changed holder or failed
# (status moved counts as 0: no failed attempt was seen); sets SCEN_MIN,
# SCEN_MED, SCEN_MAX, SCEN_N.
scen_close() {
	local label=$1 field=${2:-outage_ms} f
	lab_mark "settled-$label"
	wait_until 10 grep -q "^outage .*label=$label " "$LAB_DIR/probe.out" ||
	    lab_fail "the probe printed no outage lines for $label"
	# every VIP's line is printed at once; give the last ones a moment
	wait_until 5 _scen_window_done "$label"
	grep "^outage .*label=$label " "$LAB_DIR/probe.out" | sed 's/^/  /'
	f=$(grep "^outage .*label=$label " "$LAB_DIR/probe.out" |
	    grep -E 'status=(recovered|down|moved)' |
	    sed "s/.* $field=\([0-9]*\).*/\1/" | sort -n |
	    awk '{ a[NR] = $1 } END {
		if (NR == 0) { print "- - - 0"; exit }
		print a[1], a[int((NR + 1) / 2)], a[NR], NR }')
	read -r SCEN_MIN SCEN_MED SCEN_MAX SCEN_N <<<"$f"
	echo "FIGURE $SCEN $label $field min=$SCEN_MIN median=$SCEN_MED max=$SCEN_MAX n=$SCEN_N"
}
_scen_window_done() {
	[ "$(grep -c "^outage .*label=$1 " "$LAB_DIR/probe.out")" -ge \
	    "$(lab_pool | wc -l)" ]
}

# scen_assert_max MAX_MS WHAT: the last scen_close's max is at most MAX_MS
# (no affected VIP counts as 0).
scen_assert_max() {
	[ "$SCEN_MAX" = - ] && return 0
	[ "$SCEN_MAX" -le "$1" ] ||
	    lab_fail "$2: outage max $SCEN_MAX ms > bound $1 ms"
}

# scen_assert_affected N WHAT: exactly N VIPs were affected.
scen_assert_affected() {
	[ "$SCEN_N" -eq "$1" ] ||
	    lab_fail "$2: the probe saw $SCEN_N VIPs affected, want $1"
}

# scen_assert_no_moves LABEL WHAT: no VIP changed holder since LABEL.
scen_assert_no_moves() {
	local m
	m=$(lab_moves "$1")
	[ -z "$m" ] || lab_fail "$2: VIPs moved: $(echo "$m" | tr '\n' ';')"
}

# scen_assert_moves_only_to LABEL NODE: every VIP that changed holder
# since LABEL went to NODE, and as many moved as NODE holds now.
scen_assert_moves_only_to() {
	local m bad k c
	m=$(lab_moves "$1")
	echo "moves since $1:"; echo "$m" | sed 's/^/  /'
	bad=$(awk -v n="$2" '$3 != n' <<<"$m")
	[ -z "$bad" ] || lab_fail "moves not to $2: $(echo "$bad" | tr '\n' ';')"
	k=$(grep -c . <<<"$m")
	c=$(scen_held_by "$2" | grep -c .)
	[ "$k" -eq "$c" ] ||
	    lab_fail "$k VIPs moved, but $2 holds $c: more moved than must"
}

# scen_assert_moves_only_from LABEL NODE: every VIP that changed holder
# since LABEL was NODE's.
scen_assert_moves_only_from() {
	local m bad
	m=$(lab_moves "$1")
	bad=$(awk -v n="$2" '$2 != n' <<<"$m")
	[ -z "$bad" ] || lab_fail "moves not from $2: $(echo "$bad" | tr '\n' ';')"
}

# scen_reap_node I: node I's yaimd exited by itself: collect its status
# into SCEN_RC and forget it.
scen_reap_node() {
	local p=${LAB_NODE_PIDS[$1]:-}
	SCEN_RC=
	[ -n "$p" ] || return 0
	wait "$p" 2>/dev/null
	SCEN_RC=$?
	LAB_NODE_PIDS[$1]=
}

# scen_child I checker|dcs: the PID of node I's child of that kind.
scen_child() {
	local p
	for p in $(lab_node_children "$1"); do
		[ "$(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null |
		    awk '{ print $1, $2 }')" = "yaimd: $2" ] && { echo "$p"; return 0; }
	done
	return 1
}

# scen_end: the probe stops, every running node gets SIGTERM and must exit
# 0 (the monitor still watches), then lab_finish: any overlap fails.
# With SCEN_OVERLAP_OK=FUNCTION, vipmon's output is in finish.out and
# FUNCTION decides whether its overlaps are the ones the scenario allows.
scen_end() {
	local i rc
	lab_probe_stop >"$LAB_DIR/probe.final"
	grep -E '^probe: vips=' "$LAB_DIR/probe.final"
	for ((i = 1; i <= LAB_N; i++)); do
		[ -n "$(lab_node_pid "$i")" ] || continue
		lab_stop_node "$i"
		rc=$?
		[ "$rc" -eq 0 ] || lab_fail "node$i exited with status $rc on SIGTERM"
	done
	if [ -n "${SCEN_OVERLAP_OK:-}" ]; then
		# the scenario judges vipmon's overlaps itself
		lab_monitor_stop >"$LAB_DIR/finish.out"
		rc=$?
		[ "$rc" -le 1 ] || lab_fail "vipmon ended badly (exit $rc)"
		"$SCEN_OVERLAP_OK" || lab_fail "overlaps outside what $SCEN allows"
	else
		lab_finish >"$LAB_DIR/finish.out"
	fi
	grep -E '^(OVERLAP|vipmon: samples=)' "$LAB_DIR/finish.out"
	log "$SCEN: PASS"
}
