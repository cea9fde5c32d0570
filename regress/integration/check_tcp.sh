#!/usr/bin/env bash
# tcp checks: a listener (by address and by name), a closed port (refused)
# and a listener whose backlog is full, so that the connect hangs and the
# timeout must end it (measured).
. "$(dirname "$0")/../lib.sh"
. "$TOP/regress/tools/checklib.sh"
need_cmd python3
need_checkrun

# listen NAME [args]: sets LPORT
listen() {
	local name=$1; shift
	python3 "$TOP/regress/tools/tcplisten.py" "$T/$name.port" "$@" \
	    >"$T/$name.out" 2>&1 &
	track_pid $!
	wait_until 10 test -s "$T/$name.port" || fail "listener $name"
	LPORT=$(cat "$T/$name.port")
}

listen open
log "listener by address"
checkrun "$T/open" -k tcp -h 127.0.0.1 -p "$LPORT" -i 200 -T 300 -t 1
expect_verdicts "$T/open" "up ok 0"
expect_text "$T/open" 1 "tcp: connected"

log "listener by name (resolved up front)"
checkrun "$T/name" -k tcp -h localhost -p "$LPORT" -i 200 -T 300 -t 1
expect_verdicts "$T/name" "up ok 0"

log "closed port: refused"
closed=$(free_port)
checkrun "$T/closed" -k tcp -h 127.0.0.1 -p "$closed" -i 200 -T 300 -t 1
expect_verdicts "$T/closed" "down refused 0"
expect_text "$T/closed" 1 "tcp: connect refused"

log "full backlog: the connect hangs, the timeout ends it"
listen full --full
checkrun "$T/full" -k tcp -h 127.0.0.1 -p "$LPORT" -i 2000 -T 500 -t 2
expect_verdicts "$T/full" "down timeout 0"
expect_between "$(first_report_ms "$T/full")" 480 1900 "tcp timeout after (ms)"

if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
	log "IPv6 loopback listener"
	listen open6 --bind ::1
	checkrun "$T/v6" -k tcp -h ::1 -p "$LPORT" -i 200 -T 300 -t 1
	expect_verdicts "$T/v6" "up ok 0"
else
	log "no IPv6 loopback here: IPv6 part skipped"
fi
log "all tcp checks passed"
