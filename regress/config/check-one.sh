#!/usr/bin/env bash
# check-one.sh MODE FILE: one config regress item (run from the repo top).
#   bad:  "$YAIMD -n -f FILE" must exit 1 with stderr exactly FILE's .err
#   good: "$YAIMD -nv -f FILE" must exit 0 with stdout exactly FILE's .out,
#         and that output, loaded again, must print the same
# Exit 0 pass, 1 fail (with a diff), 77 skip.
set -u
mode=${1:-}
file=${2:-}
case $mode in bad|good) ;; *) echo "usage: $0 bad|good FILE" >&2; exit 2 ;; esac
[ -f "$file" ] || { echo "no such file: $file" >&2; exit 2; }
YAIMD=${YAIMD:-${BUILD:-build}/yaimd}
[ -x "$YAIMD" ] || { echo "SKIP: $YAIMD not built"; exit 77; }

tmp=$(mktemp -d /tmp/yaim-config.XXXXXX) || exit 2
trap 'rm -rf "$tmp"' EXIT

if [ "$mode" = bad ]; then
	want=${file%.yml}.err
	expect_rc=1
	timeout 20 "$YAIMD" -n -f "$file" >"$tmp/stdout" 2>"$tmp/got"
else
	want=${file%.yml}.out
	expect_rc=0
	timeout 20 "$YAIMD" -nv -f "$file" >"$tmp/got" 2>"$tmp/stderr"
fi
rc=$?
[ -f "$want" ] || { echo "missing expected output $want"; exit 1; }

fail=0
if [ $rc -ne $expect_rc ]; then
	echo "$file: exit status $rc, expected $expect_rc"
	fail=1
fi
if ! diff -u "$want" "$tmp/got"; then
	echo "$file: output differs from $want (diff above: - expected, + got)"
	fail=1
fi
# The printout is itself a configuration with the same meaning: feeding it
# back must print the same (secrets print masked either way).
if [ $fail -eq 0 ] && [ "$mode" = good ]; then
	sed '$d' "$tmp/got" >"$tmp/again.yml"
	timeout 20 "$YAIMD" -nv -f "$tmp/again.yml" >"$tmp/again" \
	    2>"$tmp/stderr"
	rc=$?
	if [ $rc -ne 0 ] || ! diff -u "$want" "$tmp/again"; then
		echo "$file: the -nv output does not load back the same" \
		    "(exit $rc)"
		fail=1
	fi
fi
if [ $fail -ne 0 ]; then
	for f in stdout stderr; do
		[ -s "$tmp/$f" ] && { echo "--- $f:"; cat "$tmp/$f"; }
	done
	exit 1
fi
echo "$file: ok"
exit 0
