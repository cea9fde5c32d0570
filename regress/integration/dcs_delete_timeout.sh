#!/usr/bin/env bash
# dcs engine: a mark delete that times out is not taken as undone (DESIGN.md
# 3).  etcd may still apply it, later: a node that put the address back on
# the same lease would hold it while the mark is gone and another node may
# claim it.  A proxy in front of etcd holds u1's deletes back 2 s (past
# etcd-timeout, 500 ms), then lets them through.  u1 releases two of four
# IPs to u2, u2 leaves at once, so the balance wants them back on u1: u1
# keeps them down and tries the release again until one is answered, and
# only then claims them anew; it never finds "the mark ... gone" under an
# address it holds.
. "$(dirname "$0")/../lib.sh" || exit 1
. "$(dirname "$0")/dcs_lib.bash"
need_root
need_cmd python3
start_etcd deltimeout
etcd_port=${ETCD_ENDPOINT##*:}
HOLD=$T/hold
python3 "$TOP/regress/tools/delay_proxy.py" "$T/proxy.port" "$etcd_port" \
    "$HOLD" 2 >"$T/proxy.log" 2>&1 &
track_pid $!
wait_until 5 test -s "$T/proxy.port" || fail "proxy did not start"
dcs_conf "$T/direct.yml"
sed "s|^dcs-endpoints: .*|dcs-endpoints: http://127.0.0.1:$(cat "$T/proxy.port")|" \
    "$T/direct.yml" >"$T/proxied.yml"
add_ips 1 4
DCS_CONF=$T/proxied.yml start_driver u1 -H
wait_until 10 held_is u1 4 || { dump_logs u1; fail "u1 did not take all"; }

log "u2 joins: u1 releases two, its deletes held back by the proxy"
touch "$HOLD"
DCS_CONF=$T/direct.yml start_driver u2 -H
wait_until 10 held_is u1 2 || { dump_logs u1 u2; fail "u1 did not release two"; }
wait_until 5 grep -q "^.* held 2$" "$T/proxy.log" ||
    { cat "$T/proxy.log"; dump_logs u1; fail "the proxy held no deletes"; }
gone=$(awk '$2 == "dropped" { print $3 }' "$T/u1.out" | sort -u)
log "u1 dropped $(echo $gone); u2 leaves"
stop_driver u2

log "the deletes time out, then etcd applies them late"
wait_until 5 grep -q "forwarded 2$" "$T/proxy.log" || fail "not forwarded"
err_has u1 "delete_done: releasing the mark of .*timed out" ||
    { dump_logs u1; fail "no delete timed out"; }
sleep 1
rm -f "$HOLD"
log "no more holding back: u1 finishes the releases and claims them again"
wait_until 15 held_is u1 4 || { dump_logs u1; fail "u1 did not take all back"; }
wait_until 5 marks_is 4 || fail "marks: $(marks)"
if err_has u1 "is gone \(deleted by someone else\?\)"; then
	dump_logs u1
	fail "u1 held an address whose mark a late delete removed"
fi
# each released IP was claimed again only once a release was answered (or
# seen applied): the first claim after "releasing" follows that answer
for ip in $gone; do
	awk -v ip="$ip" '
	    index($0, "releasing " ip " ") { rel = 1 }
	    rel && (index($0, "released " ip) ||
		index($0, "the mark of " ip " was not on our lease") ||
		index($0, "the mark of " ip " is gone: our release")) { done = 1 }
	    rel && index($0, "claiming " ip) { if (!done) bad = 1; exit }
	    END { exit bad }' "$T/u1.err" ||
		{ dump_logs u1; fail "$ip claimed again before its release was answered"; }
done
stop_driver u1
echo PASS
