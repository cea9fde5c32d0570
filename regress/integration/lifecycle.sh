#!/usr/bin/env bash
# Start-up errors and SIGHUP: a missing user or chroot says what to create;
# an exec command in an unsafe place is refused, naming the place;
# a bad config on SIGHUP keeps the old one and logs the error; a good one
# reaches the children; the default config file is ./yaim.yml.
. "$(dirname "$0")/../lib.sh"
need_root
setup_user

ns=$(netns_add life)
ip -n "$ns" link add vip0 type veth peer name vip1 || fail "veth pair"
ip -n "$ns" link set vip0 up
ip -n "$ns" link set vip1 up

write_cfg() {	# write_cfg FILE [extra lines...]
	local f=$1; shift
	{
		echo "dcs-clustername: life"
		echo "dcs-endpoints: [ 'http://127.0.0.1:9' ]"
		echo "interface: vip0"
		echo "nodename: lifenode"
		echo "checker-type: tcp"
		echo "tcp-host: 127.0.0.1"
		echo "tcp-port: 9"
		printf '%s\n' "$@"
	} >"$f"
}

# 1. a user that does not exist: the error names the useradd command
write_cfg "$T/nouser.yml" "user: _yaimd_missing_$$"
out=$(ip netns exec "$ns" "$YAIMD" -d -f "$T/nouser.yml" 2>&1); rc=$?
[ "$rc" -eq 1 ] || fail "missing user: exit $rc"
echo "$out" | grep -q "user _yaimd_missing_$$-checker does not exist; create it with: useradd --system" ||
    fail "missing user: unhelpful error: $out"

# 1b. an exec command below a directory others may write: refused at start
printf '#!/bin/sh\nexit 0\n' >"$T/check.sh"; chmod 0755 "$T/check.sh"
write_cfg "$T/unsafe.yml" "checks:" "  - type: exec" \
    "    exec-command: [ $T/check.sh ]"
sed -i '/^checker-type\|^tcp-/d' "$T/unsafe.yml"
out=$(ip netns exec "$ns" "$YAIMD" -d -f "$T/unsafe.yml" 2>&1); rc=$?
[ "$rc" -eq 1 ] || fail "unsafe exec path: exit $rc"
echo "$out" | grep -qx "yaimd: unsafe exec command $T/check.sh: /tmp is writable by group or others (mode 1777)" ||
    fail "unsafe exec path: unhelpful error: $out"

# 2. a chroot that does not exist, and one that is group-writable
write_cfg "$T/nochroot.yml" "chroot: $T/absent"
out=$(ip netns exec "$ns" "$YAIMD" -d -f "$T/nochroot.yml" 2>&1); rc=$?
[ "$rc" -eq 1 ] || fail "missing chroot: exit $rc"
echo "$out" | grep -q "chroot directory $T/absent: No such file or directory; create it with: install -d -o root -g root -m 0755 $T/absent" ||
    fail "missing chroot: unhelpful error: $out"
mkdir -m 0775 "$T/gw"
write_cfg "$T/gw.yml" "chroot: $T/gw"
out=$(ip netns exec "$ns" "$YAIMD" -d -f "$T/gw.yml" 2>&1); rc=$?
[ "$rc" -eq 1 ] || fail "writable chroot: exit $rc"
echo "$out" | grep -q "must be owned by root and not writable by group or others" ||
    fail "writable chroot: unhelpful error: $out"

# 3. the default config file is ./yaim.yml
mkdir "$T/cwd"
write_cfg "$T/cwd/yaim.yml"
ip netns exec "$ns" sh -c "cd $T/cwd && $YAIMD -n" | grep -qx "configuration OK" || fail "./yaim.yml not read by default"
ip netns exec "$ns" sh -c "cd $T && $YAIMD -n 2>&1" | grep -q "yaim.yml" || fail "no error naming yaim.yml when it is missing"

# 4. SIGHUP: bad config kept out, good config applied
write_cfg "$T/run.yml"
ip netns exec "$ns" "$YAIMD" -dv -f "$T/run.yml" >"$T/yaimd.log" 2>&1 &
YPID=$!
track_pid "$YPID"
wait_until 10 grep -q "checks: 1 started" "$T/yaimd.log" || { cat "$T/yaimd.log"; fail "no start"; }
kids=$(child_pids "$YPID")
echo "interval: nonsense" >>"$T/run.yml"
kill -HUP "$YPID"
wait_until 5 grep -Eq "reload failed, keeping the old configuration: $T/run.yml:[0-9]+:11: interval: expected a number" "$T/yaimd.log" ||
    { cat "$T/yaimd.log"; fail "bad reload not reported as file:line:column"; }
kill -0 "$YPID" || fail "parent died on a bad reload"
[ "$(child_pids "$YPID")" = "$kids" ] || fail "children changed on a bad reload"
write_cfg "$T/run.yml" "interval: 700"
kill -HUP "$YPID"
wait_until 5 grep -q "configuration reloaded" "$T/yaimd.log" || { cat "$T/yaimd.log"; fail "good reload not applied"; }
# both children restarted their work with the new config, same processes
wait_until 5 bash -c "[ \$(grep -c 'checks: 1 started' '$T/yaimd.log') -ge 2 ]" ||
    { cat "$T/yaimd.log"; fail "checker did not get the new config"; }
wait_until 5 grep -q "interval 700 ms" "$T/yaimd.log" ||
    { cat "$T/yaimd.log"; fail "dcs did not get the new config"; }
[ "$(child_pids "$YPID")" = "$kids" ] || fail "children were restarted by a reload"
# an immutable key cannot change without a restart

sed -i 's/nodename: lifenode/nodename: othername/' "$T/run.yml"
kill -HUP "$YPID"
wait_until 5 grep -q "nodename cannot change while running; restart yaimd" "$T/yaimd.log" ||
    { cat "$T/yaimd.log"; fail "nodename change not refused"; }
kill -TERM "$YPID"
wait_until 10 bash -c "! kill -0 $YPID 2>/dev/null" || fail "no exit on SIGTERM"
echo "lifecycle: ok"
