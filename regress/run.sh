#!/usr/bin/env bash
# The regress runner.  Runs every tier (or the ones named) and ends with
# one line: "N passed, N failed, N skipped".
#
# Test items and their contract:
#   unit/         $BUILD/regress/unit/test_*   exit 0 pass, 77 skip, else fail
#   config/       bad/*.yml with bad/*.err (exact error text) and
#                 good/*.yml with good/*.out (exact "yaimd -nv" output)
#   integration/  integration/*.sh              exit 0 pass, 77 skip, else fail
#   cluster/      cluster/scenario_*.sh (the CI subset lists CHECK_SUBSET)
#   fuzz/         every regress/fuzz harness: seeds + FUZZ_SECONDS (10)
#   lint          mandoc -Tlint on every man page; cppcheck on the daemon
# A test that needs something it does not have exits 77 and says why.
set -u
cd "$(dirname "$0")/.." || exit 2
export TOP=$PWD
export BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
export YAIMD=$BUILD/yaimd
export TOOLS=$BUILD/regress/tools
export LC_ALL=C

tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=(lint unit config fuzz integration cluster)

passed=0 failed=0 skipped=0
failures=()
logdir=$(mktemp -d /tmp/yaim-regress.XXXXXX)

# run_item NAME CMD... : runs one item with a time limit, records the result.
run_item() {
	local name=$1; shift
	local log=$logdir/$(echo "$name" | tr '/ ' '__').log
	local t0=$SECONDS rc
	timeout --kill-after=10 "${ITEM_TIMEOUT:-600}" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	local dt=$((SECONDS - t0))
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1)); printf 'PASS  %s (%ss)\n' "$name" "$dt"
	elif [ $rc -eq 77 ]; then
		skipped=$((skipped + 1))
		printf 'SKIP  %s: %s\n' "$name" "$(grep -m1 -i 'skip' "$log" | cut -c1-200)"
	else
		failed=$((failed + 1)); failures+=("$name")
		printf 'FAIL  %s (exit %s, %ss)\n' "$name" "$rc" "$dt"
		tail -n 30 "$log" | sed 's/^/      | /'
	fi
}

tier_lint() {
	local m
	for m in yaimd.8 yaimctl.8 yaim.yml.5; do
		run_item "lint/$m" sh -c "command -v mandoc >/dev/null || { echo 'SKIP: mandoc missing'; exit 77; }; out=\$(mandoc -Tlint -Wwarning $m 2>&1); [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
	done
	run_item "lint/cppcheck" bash regress/cppcheck.sh
}

tier_unit() {
	local t
	# ASan and UBSan make the simulator about 10 times slower: 10^6
	# simulated s would pass the item's time limit
	[ -z "${SANITIZE:-}" ] || export YAIM_SIM_SECONDS=${YAIM_SIM_SECONDS:-100000}
	for t in "$BUILD"/regress/unit/test_*; do
		[ -x "$t" ] || continue
		run_item "unit/$(basename "$t")" "$t"
	done
}

tier_config() {
	local f
	for f in regress/config/bad/*.yml; do
		[ -e "$f" ] || continue
		run_item "config/bad/$(basename "$f")" bash regress/config/check-one.sh bad "$f"
	done
	for f in regress/config/good/*.yml; do
		[ -e "$f" ] || continue
		run_item "config/good/$(basename "$f")" bash regress/config/check-one.sh good "$f"
	done
}

tier_integration() {
	local t
	for t in regress/integration/*.sh; do
		[ -e "$t" ] || continue
		run_item "integration/$(basename "$t" .sh)" bash "$t"
	done
}

# Each libFuzzer harness: its seed corpus, then FUZZ_SECONDS of fuzzing.
tier_fuzz() {
	local f n fb=${FUZZ_BUILD:-build-fuzz} secs=${FUZZ_SECONDS:-10}
	case $fb in /*) ;; *) fb=$TOP/$fb ;; esac
	for f in regress/fuzz/fuzz_*.c; do
		n=$(basename "$f" .c)
		if [ ! -x "$fb/$n" ]; then
			run_item "fuzz/$n" sh -c "echo 'SKIP: $fb/$n not built (make fuzz-build needs clang)'; exit 77"
			continue
		fi
		mkdir -p "$fb/corpus/$n"
		local seeds=regress/fuzz/corpus/$n
		[ -d "$seeds" ] || seeds=
		# regress/fuzz/NAME.options: more libFuzzer flags (-max_len)
		local opts=
		[ -f "regress/fuzz/$n.options" ] && opts=$(cat "regress/fuzz/$n.options")
		# libFuzzer's own error exit code is 77, our "skip": a crash
		# must fail the item, and its input lands in the log directory
		run_item "fuzz/$n" "$fb/$n" -max_total_time="$secs" \
		    -error_exitcode=1 -artifact_prefix="$logdir/$n-" \
		    -print_final_stats=1 $opts "$fb/corpus/$n" $seeds
	done
}

tier_cluster() {
	local t subset
	subset=$(cat regress/cluster/CHECK_SUBSET 2>/dev/null)
	for t in $subset; do
		run_item "cluster/$t" bash "regress/cluster/$t.sh"
	done
}

tier_cluster_all() {
	local t
	for t in regress/cluster/scenario_*.sh; do
		[ -e "$t" ] || continue
		run_item "cluster/$(basename "$t" .sh)" bash "$t"
	done
}

for tier in "${tiers[@]}"; do
	case $tier in
	lint) tier_lint ;;
	unit) tier_unit ;;
	config) tier_config ;;
	fuzz) tier_fuzz ;;
	integration) tier_integration ;;
	cluster) tier_cluster ;;
	cluster-all) tier_cluster_all ;;
	*) echo "run.sh: unknown tier $tier" >&2; exit 2 ;;
	esac
done

if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]}"
	echo "logs: $logdir"
else
	rm -rf "$logdir"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
