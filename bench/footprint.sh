#!/usr/bin/env bash
# Footprint at idle: 3 nodes, 10 VIPs, each tool at its defaults (yaimd:
# every documented default; keepalived: advert_int 1, 10 VRRP instances per
# node with rotated priorities, one vrrp_script like yaimd's HTTP check).
# yaimd, then keepalived, each idle for SAMPLES x STEP seconds; each step
# samples RSS and PSS of every process and the CPU time used in it.
#
#	bash bench/footprint.sh SAMPLES STEP_S OUTFILE
#
# Appends tab-separated lines to OUTFILE:
#	fp TOOL SAMPLE RSS_KB_ALL PSS_KB_ALL CPU_S_PER_H_ALL CPU_S_PER_H_WITH_SCRIPTS
#	fpproc TOOL NODE ROLE RSS_KB PSS_KB	(at the first sample)
#	fptotal TOOL SECONDS CPU_S CPU_S_WITH_SCRIPTS
#	fpcpu TOOL NODE ROLE CPU_S_PER_HOUR	(each process, whole window)
#	fpmap TOOL FILE RSS_KB PSS_KB	(node1's processes, the largest mappings)
#	fpalone TOOL PSS_KB USS_KB	(at the first sample: every page divided
#		only among TOOL's own processes, bench/pss_alone.py; the kernel's
#		PSS also divides by other processes mapping the same libraries,
#		which on a shared machine come and go)
# "ALL" sums every process of the 3 nodes.
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
SAMPLES=${1:?samples}
STEP=${2:?step}
OUT=${3:?outfile}
BENCH_YAIM_DROP='interval|ttl|retry_num|retry_after|garp-count|garp-interval'
export BENCH_YAIM_DROP
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/bench/lablib.sh"
need_root
need_cmd keepalived curl
HZ=$(getconf CLK_TCK)
KA_ADV=1

emit() { local IFS=$'\t'; echo "$*" >>"$OUT"; }
note() { log "footprint: $*" >&2; }
pss_kb() { awk '$1 == "Pss:" { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null; }

# procs TOOL: "node role pid" for every process of TOOL.
procs() {
	local i p c
	for i in 1 2 3; do
		if [ "$1" = yaimd ]; then p=$(lab_node_pid "$i"); else p=${KA_PIDS[i]}; fi
		echo "node$i parent $p"
		for c in $(child_pids "$p"); do
			if [ "$1" = yaimd ]; then
				# the children set their title: "yaimd: dcs"
				echo "node$i $(tr '\0' ' ' <"/proc/$c/cmdline" |
				    awk '{ print $2 }') $c"
			elif [ "$c" = "$(cat "$LAB_DIR/ka$i/vrrp.pid" 2>/dev/null)" ]; then
				echo "node$i vrrp $c"
			else
				echo "node$i child $c"
			fi
		done
	done
}

# ticks PIDS... [children]: the summed CPU ticks.
ticks() {
	local mode=$1 p s=0
	shift
	for p; do s=$((s + $(proc_cpu_ticks "$p" "$mode"))); done
	echo $s
}

measure() {
	local tool=$1 list pids rss pss k c0 c1 w0 w1 cs0 cw0 t0 t1 t00
	list=$(procs "$tool")
	pids=$(awk '{ print $3 }' <<<"$list")
	while read -r node role p; do
		emit fpproc "$tool" "$node" "$role" "$(proc_rss_kb "$p")" "$(pss_kb "$p")"
	done <<<"$list"
	# where node1's RSS is: per mapped file, summed over its processes
	for p in $(awk '$1 == "node1" { print $3 }' <<<"$list"); do
		cat "/proc/$p/smaps" 2>/dev/null
	done | awk -v tool="$tool" '
	    /^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6) ? $6 : "[anon]"
		sub(/.*\//, "", name) }
	    $1 == "Rss:" { rss[name] += $2 }
	    $1 == "Pss:" { pss[name] += $2 }
	    END { for (n in rss) if (rss[n] >= 256)
		printf "fpmap\t%s\t%s\t%d\t%d\n", tool, n, rss[n], pss[n] }' |
	    sort -t "$(printf '\t')" -k4,4nr | head -n 12 >>"$OUT"
	python3 "$TOP/bench/pss_alone.py" $pids |
	    awk -v t="$tool" '$1 == "total" { printf "fpalone\t%s\t%s\t%s\n", t, $2, $3 }' >>"$OUT"
	declare -A start=()
	for p in $pids; do start[$p]=$(proc_cpu_ticks "$p"); done
	c0=$(ticks own $pids); w0=$(ticks children $pids)
	cs0=$c0 cw0=$w0 t00=$(now_ms)
	for ((k = 1; k <= SAMPLES; k++)); do
		t0=$(now_ms)
		sleep "$STEP"
		c1=$(ticks own $pids); w1=$(ticks children $pids)
		t1=$(now_ms)
		rss=0 pss=0
		for p in $pids; do
			rss=$((rss + $(proc_rss_kb "$p")))
			pss=$((pss + $(pss_kb "$p")))
		done
		emit fp "$tool" "$k" "$rss" "$pss" \
		    "$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v ms=$((t1 - t0)) 'BEGIN { printf "%.2f", d / hz / (ms / 1000) * 3600 }')" \
		    "$(awk -v d=$((w1 - w0)) -v hz="$HZ" -v ms=$((t1 - t0)) 'BEGIN { printf "%.2f", d / hz / (ms / 1000) * 3600 }')"
		c0=$c1 w0=$w1
	done
	while read -r node role p; do
		emit fpcpu "$tool" "$node" "$role" "$(awk -v d=$(($(proc_cpu_ticks "$p") - start[$p])) \
		    -v hz="$HZ" -v ms=$((t1 - t00)) 'BEGIN { printf "%.2f", d / hz / (ms / 1000) * 3600 }')"
	done <<<"$list"
	emit fptotal "$tool" $(((t1 - t00) / 1000)) \
	    "$(awk -v d=$((c1 - cs0)) -v hz="$HZ" 'BEGIN { printf "%.2f", d / hz }')" \
	    "$(awk -v d=$((w1 - cw0)) -v hz="$HZ" 'BEGIN { printf "%.2f", d / hz }')"
	note "$tool: $(tail -n 1 "$OUT")"
}

lab_up 3
reason=$(lab_yaimd_ready) || fail "$reason"
VIPS=$(lab_pool_range 1 10)
KA_VIPS=$(echo $VIPS)
lab_pool_add $VIPS

for i in 1 2 3; do lab_start_node "$i"; done
bench_wait_ms 60 bench_settled node1 node2 node3 >/dev/null ||
    lab_fail "yaimd: 10 VIPs not held and balanced"
sleep 3
measure yaimd
for i in 1 2 3; do lab_stop_node "$i" || true; done
wait_until 10 bench_none_held || lab_fail "yaimd left addresses"

for i in 1 2 3; do ka_start "$i"; done
bench_wait_ms 60 ka_vips_home >/dev/null ||
    lab_fail "keepalived: VIPs not on their masters"
sleep 3
measure keepalived
for i in 1 2 3; do ka_stop "$i"; done
note done
