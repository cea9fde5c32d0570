#!/usr/bin/env bash
# Start-up errors and SIGHUP: a missing user or chroot says what to create;
# an exec command in an unsafe place is refused, naming the place; a
# readable file holding a secret is refused (yaimd -n warns);
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

# 2b. secrets (DESIGN.md section 11): a config holding etcd_password must
# be root's and readable by root only; so must an etcd-key-file.  The
# modes are set here on temporary copies, so the checkout's do not matter.
write_cfg "$T/secret.yml" "etcd_user: yaim" "etcd_password: s3cret"
chmod 0644 "$T/secret.yml"
out=$(ip netns exec "$ns" "$YAIMD" -d -f "$T/secret.yml" 2>&1); rc=$?
[ "$rc" -eq 1 ] || fail "readable secret: exit $rc"
echo "$out" | grep -qxF "yaimd: $T/secret.yml holds etcd_password, so it must be owned by root and readable by root only, not uid 0 with mode 0644; fix it with: chown root $T/secret.yml && chmod go= $T/secret.yml" ||
    fail "readable secret: unhelpful error: $out"
# -n only warns (it runs anywhere, on copies), and says the rest too
out=$(ip netns exec "$ns" "$YAIMD" -n -f "$T/secret.yml" 2>&1); rc=$?
[ "$rc" -eq 0 ] || fail "-n with a readable secret: exit $rc"
echo "$out" | grep -qF "yaimd: warning: $T/secret.yml holds etcd_password" ||
    fail "-n did not warn: $out"
echo "$out" | grep -qF "yaimd: warning: etcd_password is sent in clear text to http://127.0.0.1:9; use https:// endpoints" ||
    fail "-n did not warn about http://: $out"
chown nobody "$T/secret.yml"; chmod 0600 "$T/secret.yml"
out=$(ip netns exec "$ns" "$YAIMD" -d -f "$T/secret.yml" 2>&1); rc=$?
[ "$rc" -eq 1 ] && echo "$out" | grep -qF "not uid $(id -u nobody) with mode 0600" ||
    fail "secret owned by nobody: exit $rc: $out"
chown root "$T/secret.yml"
# a private key readable by the group
printf 'not really a key\n' >"$T/client.key"; chmod 0640 "$T/client.key"
write_cfg "$T/key.yml" "etcd-key-file: $T/client.key" "etcd-cert-file: $T/client.key"
chmod 0600 "$T/key.yml"
out=$(ip netns exec "$ns" "$YAIMD" -d -f "$T/key.yml" 2>&1); rc=$?
[ "$rc" -eq 1 ] && echo "$out" | grep -qxF "yaimd: $T/client.key is a private key, so it must be owned by root and readable by root only, not uid 0 with mode 0640; fix it with: chown root $T/client.key && chmod go= $T/client.key" ||
    fail "readable key: exit $rc: $out"
# fixed: it starts, and logs the clear-text warning loudly
ip netns exec "$ns" "$YAIMD" -d -f "$T/secret.yml" >"$T/secret.log" 2>&1 &
SPID=$!
track_pid "$SPID"
wait_until 10 grep -q "checks: 1 started" "$T/secret.log" || { cat "$T/secret.log"; fail "root-only secret refused"; }
grep -qF "warning: etcd_password is sent in clear text to http://127.0.0.1:9" "$T/secret.log" ||
    fail "no clear-text warning in the log"
kill -TERM "$SPID"
wait_until 10 bash -c "! kill -0 $SPID 2>/dev/null" || fail "no exit on SIGTERM"

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
