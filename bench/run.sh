#!/usr/bin/env bash
# make bench: failover (yaimd and keepalived alternately, 3 settings),
# scale (yaimd alone) and footprint, in one run.  Prints one report and
# writes it to bench/results/<YYYY-MM-DD>.md.  See bench/README.md.
#
#	BUILD=build-x bash bench/run.sh
#	BENCH_QUICK=1		1 repetition, small sizes, short windows
#	BENCH_SECTIONS="failover scale scale-drivers footprint"	(any subset)
#	BENCH_REPS=N		repetitions (default 5; quick 1)
#	BENCH_OUT=FILE		the report (default bench/results/<date>.md)
#	BENCH_SCALE_BIG=1	scale-drivers also runs 20 dcs-drivers on
#				10,000 IPs (about 10 minutes more on 2 cores)
#	BENCH_FP_SAMPLES=N BENCH_FP_STEP=S	footprint: N samples S s apart per tool (6 x 10)
#
# Targets are goals: the bench fails only when it could not measure.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
export TOP
BUILD=${BUILD:-$TOP/build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
export BUILD
QUICK=${BENCH_QUICK:-0}
SECTIONS=${BENCH_SECTIONS:-failover scale scale-drivers footprint}
if [ "$QUICK" = 1 ]; then
	REPS=${BENCH_REPS:-1}
	SETTINGS=${BENCH_SETTINGS:-default T2 Tmin}
	SIZES="10 100 1000"
	WINDOW=5
	FP_SAMPLES=${BENCH_FP_SAMPLES:-5} FP_STEP=${BENCH_FP_STEP:-2}
else
	REPS=${BENCH_REPS:-5}
	SETTINGS=${BENCH_SETTINGS:-default T2 Tmin}
	SIZES="10 100 1000 5000"
	WINDOW=15
	# 60 s idle per tool
	FP_SAMPLES=${BENCH_FP_SAMPLES:-6} FP_STEP=${BENCH_FP_STEP:-10}
fi
DREPS=$((REPS < 3 ? REPS : 3))	# dcs-drivers: cold start, crash, join
DATE=$(date -u +%F)
OUTMD=${BENCH_OUT:-$TOP/bench/results/$DATE.md}

say() { printf '%s bench: %s\n' "$(date -u +%T)" "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"

# Extra packages, idempotent.  keepalived's package must not start the
# system service: a policy-rc.d that forbids starts covers the install.
deps() {
	local p missing= policy=/usr/sbin/policy-rc.d made=0
	for p in keepalived curl iproute2 etcd-server etcd-client python3; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'ok installed' || missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	say "installing$missing"
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing
	local rc=$?
	[ "$made" = 1 ] && rm -f "$policy"
	[ $rc -eq 0 ] || die "could not install$missing"
}
deps
for f in "$BUILD/yaimd" "$BUILD/regress/tools/probe" \
    "$BUILD/regress/tools/vipmon" "$BUILD/regress/tools/responder" \
    "$BUILD/regress/tools/netif-driver" "$BUILD/regress/tools/dcs-driver"; do
	[ -x "$f" ] || die "$f is missing: make BUILD=$BUILD all"
done

WORK=$(mktemp -d /tmp/yaimbench.XXXXXX)
# the section logs of the last run stay in /tmp/yaimbench-last
trap 'rm -rf /tmp/yaimbench-last; mv "$WORK" /tmp/yaimbench-last' EXIT
DATA=$WORK/data.tsv
: >"$DATA"
t_start=$(date +%s)
failed=
# section NAME CMD...: run one part; its log goes to $WORK/NAME.log.
section() {
	local name=$1 t0 rc
	shift
	t0=$(date +%s)
	say "$name ..."
	"$@" >"$WORK/$name.log" 2>&1
	rc=$?
	grep -E 'failover\[|scale:|scale_drivers|footprint:|^FAIL|^OVERLAP|^SUSPECT' \
	    "$WORK/$name.log" | sed 's/^/    /' >&2
	if [ $rc -ne 0 ]; then
		failed="$failed $name"
		say "$name could not measure (exit $rc); the last lines of its log:"
		tail -n 30 "$WORK/$name.log" | sed 's/^/    /' >&2
	fi
	say "$name: $(($(date +%s) - t0)) s"
	echo "$name	$(($(date +%s) - t0))" >>"$WORK/durations"
}

for s in $SECTIONS; do
	case $s in
	failover)
		for st in $SETTINGS; do
			section "failover-$st" bash "$TOP/bench/failover.sh" \
			    "$st" "$REPS" "$DATA"
		done ;;
	scale)
		section scale bash "$TOP/bench/scale.sh" "$REPS" "$SIZES" \
		    "$WINDOW" "$DATA" ;;
	scale-drivers)
		# the dcs engine alone: claims per IP, crash, join, etcd
		section scale-drivers bash "$TOP/bench/scale_drivers.sh" 10 \
		    1000 "$DREPS" "$WINDOW" "$DATA"
		[ "${BENCH_SCALE_BIG:-0}" != 1 ] ||
		    section scale-drivers-big bash \
		    "$TOP/bench/scale_drivers.sh" 20 10000 "$DREPS" \
		    "$WINDOW" "$DATA" ;;
	footprint)
		section footprint bash "$TOP/bench/footprint.sh" \
		    "$FP_SAMPLES" "$FP_STEP" "$DATA" ;;
	*) die "unknown section $s" ;;
	esac
done

mkdir -p "$(dirname "$OUTMD")"
{
	echo "# yaim bench, $DATE"
	echo
	echo "\`make bench\`$([ "$QUICK" = 1 ] && echo " (BENCH_QUICK=1)"):" \
	    "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?'), " \
	    "$(nproc) cores, $(uname -r), keepalived" \
	    "$(keepalived -v 2>&1 | head -n 1 | awk '{ print $2 }'), etcd" \
	    "$(etcd --version 2>/dev/null | head -n 1 | awk '{ print $3 }')," \
	    "repetitions $REPS, $(($(date +%s) - t_start)) s in all" \
	    "($(tr '\t' ' ' <"$WORK/durations" | paste -sd, | sed 's/,/, /g') s)."
	echo
	echo "Noise: other helpers ran builds and tests on this 2-core machine" \
	    "during the run, so every figure is noisy; compare medians, and" \
	    "yaimd with keepalived from the same run only."
	[ -z "$failed" ] || { echo; echo "**Could not measure:$failed** (see the run's output)."; }
	echo
	python3 "$TOP/bench/report.py" "$DATA" || echo "report.py failed" >&2
	echo "## Raw data"
	echo
	echo '```'
	cat "$DATA"
	echo '```'
} >"$WORK/report.md"
cp "$WORK/report.md" "$OUTMD"
# stdout: the report without the raw data
sed '/^## Raw data/,$d' "$WORK/report.md"
say "written $OUTMD"
[ -z "$failed" ] || die "could not measure:$failed"
