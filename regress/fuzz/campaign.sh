#!/bin/bash
# A long fuzz campaign (issue 13 item 7): every harness for
# CAMPAIGN_SECONDS (default 600) with a max_len that reaches the deep
# paths, CAMPAIGN_JOBS (default 2) harnesses at a time under nice 19, from
# the committed seeds.  Afterwards each harness's corpus is minimised
# (libFuzzer -merge=1) back into regress/fuzz/corpus/NAME, so that the
# next run and `make check`'s fuzz tier start from what this one found.
# Prints a markdown table: executions, coverage, features, corpus, crashes.
#
# usage: regress/fuzz/campaign.sh [NAME...]      (default: every harness)
# Needs `make fuzz-build`.  Crash inputs land in $CAMPAIGN_DIR/NAME-crash-*.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1
secs=${CAMPAIGN_SECONDS:-600}
jobs=${CAMPAIGN_JOBS:-2}
fb=${FUZZ_BUILD:-build-fuzz}
dir=${CAMPAIGN_DIR:-$(mktemp -d /var/tmp/yaim-fuzz.XXXXXX)}
mkdir -p "$dir"

# The largest input each harness needs to reach its bounds: the etcd and
# watch decoders, the config loader, imsg framing and netlink parsers
# take big inputs; the one-struct and one-datagram harnesses do not.
max_len_of() {
	case $1 in
	fuzz_assign|fuzz_hold_until|fuzz_peer_wire) echo 4096 ;;
	fuzz_http_req) echo 8192 ;;		# HTTP_REQ_MAX is 4 KiB
	fuzz_keys|fuzz_netif_req|fuzz_exec_msgs) echo 16384 ;;
	*) echo 65536 ;;
	esac
}

one() {
	local n=$1 work=$dir/$1.work log=$dir/$1.log seeds=regress/fuzz/corpus/$1
	mkdir -p "$work" "$seeds"
	nice -n 19 "$fb/$n" -max_total_time="$secs" -max_len="$(max_len_of "$n")" \
	    -error_exitcode=1 -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix="$dir/$n-" -print_final_stats=1 \
	    "$work" "$seeds" >"$log" 2>&1
	echo $? >"$dir/$n.rc"
}

# Keep the hand-written seeds as they are, and add only the inputs of
# this run that cover something they do not (libFuzzer merges into its
# first directory whatever of the others adds coverage to it).
merge() {
	local n=$1 seeds=regress/fuzz/corpus/$1 new=$dir/$1.min f
	rm -rf "$new"; mkdir -p "$new"
	cp -p "$seeds"/* "$new"/ 2>/dev/null
	nice -n 19 "$fb/$n" -merge=1 -max_len="$(max_len_of "$n")" \
	    "$new" "$dir/$n.work" >"$dir/$n.merge.log" 2>&1 || return 1
	for f in "$new"/*; do
		[ -e "$seeds/${f##*/}" ] || cp "$f" "$seeds"/
	done
	return 0
}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in regress/fuzz/fuzz_*.c; do names+=("$(basename "$f" .c)"); done
fi
for n in "${names[@]}"; do
	[ -x "$fb/$n" ] || { echo "campaign: $fb/$n not built (make fuzz-build)" >&2; exit 1; }
done

echo "campaign: ${#names[@]} harnesses, $secs s each, $jobs at a time, in $dir" >&2
running=0
for n in "${names[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	echo "$(date -u +%T) campaign: $n" >&2
	one "$n" &
	running=$((running + 1))
done
wait

printf '| harness | max_len | executions | exec/s | cov | ft | corpus (files, bytes) | result |\n'
printf '|---|---|---|---|---|---|---|---|\n'
fails=0
for n in "${names[@]}"; do
	log=$dir/$n.log rc=$(cat "$dir/$n.rc" 2>/dev/null || echo '?')
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	if [ "$rc" = 0 ]; then
		result=clean
		merge "$n" || result="clean (merge failed)"
	else
		result="FAILED rc $rc: $(grep -m1 -E 'ERROR|SUMMARY|deadly' "$log" | cut -c1-80)"
		fails=$((fails + 1))
	fi
	files=$(find "regress/fuzz/corpus/$n" -type f | wc -l)
	bytes=$(du -sb "regress/fuzz/corpus/$n" | cut -f1)
	printf '| %s | %s | %s | %s | %s | %s | %s, %s | %s |\n' "$n" \
	    "$(max_len_of "$n")" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
	    "${ft:-?}" "$files" "$bytes" "$result"
done
echo "campaign: logs in $dir; $fails harness(es) failed" >&2
[ "$fails" -eq 0 ]
