#!/usr/bin/env bash
# Repetitions of the fault scenarios, for the outage figures.
#
#	BUILD=build-x bash regress/cluster/figures.sh [-a] [-n RUNS] [-o DIR] [SCENARIO...]
#
# Runs each scenario (default: every scenario_01..13) RUNS times (default
# 5), one after the other, keeping each run's output in DIR (default a new
# /tmp/yaim-figures.XXXXXX), then prints a Markdown table: per scenario,
# fault (the mark's label) and field, the min/median/max over all runs of
# the per-VIP values (outage_ms, gap_ms: every VIP that changed holder or
# failed; other fields: one value per run), the number of values, and the
# runs that passed (a run where no VIP was affected counts one value 0).
# -a: no runs, only the table of what DIR holds.  Root is needed, as for
# the scenarios.
set -u
cd "$(dirname "$0")/../.." || exit 2
export TOP=$PWD
export BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
export YAIMD=${YAIMD:-$BUILD/yaimd}
export TOOLS=${TOOLS:-$BUILD/regress/tools}

runs=5 out= tabulate_only=0
while getopts an:o: opt; do
	case $opt in
	a) tabulate_only=1 ;;
	n) runs=$OPTARG ;;
	o) out=$OPTARG ;;
	*) echo "usage: figures.sh [-a] [-n runs] [-o dir] [scenario...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$out" ] || out=$(mktemp -d /tmp/yaim-figures.XXXXXX)
mkdir -p "$out"
if [ $# -eq 0 ]; then
	set -- $(cd regress/cluster && ls scenario_[01][0-9]_*.sh |
	    grep -v '^scenario_00' | sed 's/\.sh$//')
fi

[ "$tabulate_only" = 1 ] && set --
for s; do
	for ((r = 1; r <= runs; r++)); do
		t0=$SECONDS
		timeout --kill-after=10 600 bash "regress/cluster/$s.sh" \
		    >"$out/$s.$r.log" 2>&1 </dev/null
		rc=$?
		echo "$s run $r: exit $rc ($((SECONDS - t0)) s)" | tee -a "$out/runs.txt" >&2
		echo "$rc" >"$out/$s.$r.rc"
	done
done

# One line per value: scenario label field value.
values() {
	local f s
	for f in "$out"/*.log; do
		s=$(basename "$f" | sed 's/\.[0-9]*\.log$//')
		awk -v s="$s" '
		    $1 == "FIGURE" {
			label = $3; field = $4
			if (field == "outage_ms" || field == "gap_ms") {
				# no VIP affected: a client outage of 0
				if ($8 == "n=0") print s, label, field, 0
				else want[label] = field
				next
			}
			split($7, v, "=")	# max: the one value of the run
			if (v[2] != "-") print s, label, field, v[2]
		    }
		    # scen_close indents its lines; a failure dump has them raw
		    /^  outage / { line[++n] = $0 }
		    END {
			for (i = 1; i <= n; i++) {
				delete kv
				m = split(line[i], w, " ")
				for (j = 2; j <= m; j++) { split(w[j], p, "="); kv[p[1]] = p[2] }
				l = kv["label"]
				if (!(l in want)) continue
				if (kv["status"] !~ /^(recovered|down|moved)$/) continue
				print s, l, want[l], kv[want[l]]
			}
		    }' "$f"
	done
}

passed() {
	local s=$1 n=0 k=0 f
	for f in "$out/$s".*.rc; do
		[ -e "$f" ] || continue
		k=$((k + 1))
		[ "$(cat "$f")" = 0 ] && n=$((n + 1))
	done
	echo "$n/$k"
}

echo "| scenario | fault | field | min | median | max | values | runs passed |"
echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"
values | sort -k1,1 -k2,2 -k3,3 -k4,4n | awk '
    { key = $1 " " $2 " " $3
      if (key != last && last != "") flush()
      last = key; v[++n] = $4 }
    END { if (n) flush() }
    function flush(  k) {
	split(last, k, " ")
	printf "%s %s %s %s %s %s %d\n", k[1], k[2], k[3], v[1], v[int((n + 1) / 2)], v[n], n
	delete v; n = 0
    }' | while read -r s l f mn md mx n; do
	echo "| $s | $l | $f | $mn | $md | $mx | $n | $(passed "$s") |"
done
echo
echo "(outputs: $out)"
