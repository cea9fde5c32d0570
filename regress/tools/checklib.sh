# Helpers for the health check tests (regress/integration/check_*.sh).
# Source after regress/lib.sh.
CHECKRUN=${CHECKRUN:-$TOOLS/checkrun}
HTTPD_PY=${HTTPD_PY:-$TOP/regress/tools/httpd.py}

need_checkrun() {
	[ -x "$CHECKRUN" ] || fail "$CHECKRUN missing: build first"
}

# start_httpd NAME [httpd.py args]: sets HTTPD_PORT; control file
# $T/NAME.json, request log $T/NAME.log.
start_httpd() {
	local name=$1; shift
	rm -f "$T/$name.port"
	python3 "$HTTPD_PY" --port-file "$T/$name.port" \
	    --control "$T/$name.json" --log "$T/$name.log" "$@" \
	    >"$T/$name.out" 2>&1 &
	track_pid $!
	# python3 alone may take 10 s to start on a loaded 2-core machine
	wait_until 30 test -s "$T/$name.port" ||
	    { cat "$T/$name.out"; fail "httpd $name did not start"; }
	HTTPD_PORT=$(cat "$T/$name.port")
}

# control NAME JSON: set the behaviour of httpd NAME.
control() { printf '%s\n' "$2" >"$T/$1.json.tmp" && mv "$T/$1.json.tmp" "$T/$1.json"; }

# checkrun OUT ARGS...: run the engine, reports to OUT, log to OUT.err.
checkrun() {
	local out=$1; shift
	"$CHECKRUN" "$@" >"$out" 2>"$out.err"
	local rc=$?
	[ $rc -eq 0 ] || { cat "$out" "$out.err"; fail "checkrun $* exited $rc"; }
}

# verdicts OUT: the reports as "up|down REASON DETAIL", one a line.
verdicts() { awk '$2 == "health" { print $3, $4, $5 }' "$1"; }

# expect_verdicts OUT "up ok 0" "down status 503" ...: exactly these.
expect_verdicts() {
	local out=$1; shift
	local want got
	want=$(printf '%s\n' "$@")
	got=$(verdicts "$out")
	if [ "$got" != "$want" ]; then
		echo "--- want"; echo "$want"; echo "--- got"; cat "$out"
		echo "--- log"; tail -n 20 "$out.err"
		fail "unexpected verdicts in $(basename "$out")"
	fi
}

# expect_text OUT N TEXT: report N (1-based) carries exactly TEXT.
expect_text() {
	local got
	got=$(awk -v n="$2" '$2 == "health" && ++i == n {
	    $1 = $2 = $3 = $4 = $5 = $6 = ""; sub(/^ +/, ""); print }' "$1")
	[ "$got" = "$3" ] || { cat "$1"; fail "report $2: text \"$got\", want \"$3\""; }
}

# ms_of HH:MM:SS.mmm
ms_of() {
	awk -F'[:.]' '{ print (($1 * 60 + $2) * 60 + $3) * 1000 + $4 }' <<<"$1"
}

# first_report_ms OUT: milliseconds from start to the first report.
first_report_ms() {
	local s r
	s=$(awk '$2 == "start" { print $1; exit }' "$1")
	r=$(awk '$2 == "health" { print $1; exit }' "$1")
	[ -n "$s" ] && [ -n "$r" ] || { echo -1; return; }
	local d=$(( $(ms_of "$r") - $(ms_of "$s") ))
	[ "$d" -ge 0 ] || d=$((d + 86400000))	# across midnight
	echo "$d"
}

# expect_between VALUE LO HI WHAT
expect_between() {
	[ "$1" -ge "$2" ] && [ "$1" -le "$3" ] ||
	    fail "$4: $1 not in [$2, $3]"
	log "$4: $1 (within [$2, $3])"
}
