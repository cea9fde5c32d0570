#!/usr/bin/env bash
# exec checks, run the way the parent runs them (checkrun calls exec_run
# and reaps on SIGCHLD): exit 0, exit 1, a hang killed by the timeout
# (measured, whole process group gone), a flood of output (bounded), and
# the child's credentials read from /proc: the unprivileged user, no
# capabilities, no_new_privs, own session, no inherited fds, /dev/null
# stdin, default signals, and PATH as the only environment variable.
. "$(dirname "$0")/../lib.sh"
. "$TOP/regress/tools/checklib.sh"
need_root
need_checkrun
setup_user
XU=$YAIM_USER-exec
uid=$(id -u "$XU") gid=$(id -g "$XU")

# The command runs as $XU: a root-owned place for the scripts (outside
# /tmp, which others may write) and a place it may write to.
make_exec_dir
D=$EXEC_DIR
mkdir -p "$D/out"
chown "$XU" "$D/out"
ex() { checkrun "$@"; }
w=(-w "$YAIM_USER")

log "exit 0: healthy"
ex "$T/ok" -k exec -i 200 -T 1000 "${w[@]}" -t 1 -- /bin/sh -c 'exit 0'
expect_verdicts "$T/ok" "up ok 0"
expect_text "$T/ok" 1 "exec: exit status 0"

log "exit 1: unhealthy with the status"
ex "$T/one" -k exec -i 200 -T 1000 "${w[@]}" -t 1 -- /bin/sh -c 'exit 1'
expect_verdicts "$T/one" "down exit_status 1"
expect_text "$T/one" 1 "exec: exit status 1"

log "killed by a signal"
ex "$T/sig" -k exec -i 200 -T 1000 "${w[@]}" -t 1 -- /bin/sh -c 'kill -TERM $$'
expect_verdicts "$T/sig" "down signaled 15"

log "a command that cannot be executed"
ex "$T/noent" -k exec -i 200 -T 1000 "${w[@]}" -t 1 -- /nonexistent/check
expect_verdicts "$T/noent" "down internal 0"
expect_text "$T/noent" 1 "exec: cannot run: exec command /nonexistent/check: No such file or directory"

log "unsafe paths are refused, naming what is wrong (as OpenSSH's safe_path)"
# a script in /tmp: the directory is writable by others
U=$T/unsafe.sh
printf '#!/bin/sh\nexit 0\n' >"$U"; chmod 0755 "$U"
ex "$T/tmpdir" -k exec -i 200 -T 1000 "${w[@]}" -t 1 -- "$U"
expect_verdicts "$T/tmpdir" "down internal 0"
grep -q "unsafe exec command $U: /tmp is writable by group or others (mode 1777)" \
    "$T/tmpdir.err" || { cat "$T/tmpdir.err"; fail "no error naming /tmp"; }
# a script owned by the exec user itself, in a safe directory
cp "$U" "$D/owned.sh"; chown "$XU" "$D/owned.sh"
ex "$T/owned" -k exec -i 200 -T 1000 "${w[@]}" -t 1 -- "$D/owned.sh"
expect_verdicts "$T/owned" "down internal 0"
grep -q "unsafe exec command $D/owned.sh: $D/owned.sh is owned by uid $uid, not root" \
    "$T/owned.err" || { cat "$T/owned.err"; fail "no error naming the owner"; }
# group-writable, and a symlink to it: the target is what is checked
cp "$U" "$D/gw.sh"; chmod 0775 "$D/gw.sh"; ln -s gw.sh "$D/link.sh"
ex "$T/gw" -k exec -i 200 -T 1000 "${w[@]}" -t 1 -- "$D/link.sh"
expect_verdicts "$T/gw" "down internal 0"
grep -q "unsafe exec command $D/link.sh: $D/gw.sh is writable by group or others (mode 0775)" \
    "$T/gw.err" || { cat "$T/gw.err"; fail "no error naming the link's target"; }
# the same file made safe runs
chmod 0755 "$D/gw.sh"
ex "$T/safe" -k exec -i 200 -T 1000 "${w[@]}" -t 1 -- "$D/link.sh"
expect_verdicts "$T/safe" "up ok 0"

log "what a command leaves behind dies when the check ends, not only at timeout"
# one background child in the command's group, one that left it (setsid)
cat >"$D/bg.sh" <<'SH'
#!/bin/sh
sleep 100 >/dev/null 2>&1 &
echo $! >"$1/bg.child"
setsid sleep 100 >/dev/null 2>&1 &
echo $! >"$1/bg.escaped"
exit 0
SH
chmod 0755 "$D/bg.sh"
ex "$T/bg" -k exec -i 5000 -T 2000 "${w[@]}" -t 1 -- "$D/bg.sh" "$D/out"
expect_verdicts "$T/bg" "up ok 0"
gone() { local st; st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null); [ -z "$st" ] || [ "$st" = Z ]; }
for f in bg.child bg.escaped; do
	p=$(cat "$D/out/$f") || fail "no $f"
	wait_until 2 gone "$p" || fail "$f $p outlived the check"
done

log "hang: killed with its process group at the timeout"
cat >"$D/hang.sh" <<'SH'
#!/bin/sh
sleep 100 &
echo $! >"$1/hang.child"
echo $$ >"$1/hang.pid"
wait
SH
chmod 0755 "$D/hang.sh"
ex "$T/hang" -k exec -i 3000 -T 400 "${w[@]}" -t 2 -- "$D/hang.sh" "$D/out"
expect_verdicts "$T/hang" "down killed_timeout 0"
expect_text "$T/hang" 1 "exec: killed by timeout after 400 ms"
expect_between "$(first_report_ms "$T/hang")" 390 1900 "killed after (ms)"
for f in hang.pid hang.child; do
	p=$(cat "$D/out/$f") || fail "no $f"
	# gone, or at most a zombie waiting for a reaper that is not us
	st=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)
	[ -z "$st" ] || [ "$st" = Z ] || fail "$f $p survived the timeout ($st)"
done

log "a flood of output is drained and bounded"
ex "$T/loud" -k exec -i 5000 -T 3000 -M 1000 "${w[@]}" -t 2 -v -- \
    /bin/sh -c 'head -c 20000000 /dev/zero | tr "\0" y; echo; exit 0'
expect_verdicts "$T/loud" "up ok 0"
grep -q "bytes of output dropped" "$T/loud.err" ||
    { cat "$T/loud.err"; fail "no trace of the bound on output"; }

log "credentials of the exec child, from /proc"
# bash, because it runs "ls" with its redirection in the forked child, so
# the list shows the script's own fds: 0 1 2 and bash's 255 (the script).
cat >"$D/creds.sh" <<'SH'
#!/bin/bash
o=/proc/$$ out=$1
ls $o/fd >$out/fds
readlink $o/fd/255 >$out/fd255
readlink $o/fd/0 >$out/stdin
tr "\0" "\n" <$o/environ >$out/environ
awk '{ print $6 }' $o/stat >$out/sid
echo $$ >$out/pid
# last, as the program yaimd started would see it (bash itself blocks
# SIGCHLD around its children; exec restores the mask it was given)
exec grep -E "^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|SigBlk|SigIgn):" /proc/self/status >$out/status
SH
chmod 0755 "$D/creds.sh"
ex "$T/creds" -k exec -i 5000 -T 2000 "${w[@]}" -t 1 -- "$D/creds.sh" "$D/out"
expect_verdicts "$T/creds" "up ok 0"
S=$D/out/status
st() { awk -v f="$1:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "$S"; }
[ "$(st Uid)" = "$uid $uid $uid $uid" ] ||
    fail "Uid: $(st Uid), want $uid x4"
[ "$(st Gid)" = "$gid $gid $gid $gid" ] ||
    fail "Gid: $(st Gid), want $gid x4"
[ "$(st Groups)" = "$gid" ] || fail "Groups: '$(st Groups)', want $gid"
for c in CapInh CapPrm CapEff CapBnd CapAmb; do
	[ "$(st $c)" = 0000000000000000 ] || fail "$c: $(st $c)"
done
[ "$(st NoNewPrivs)" = 1 ] || fail "NoNewPrivs: $(st NoNewPrivs)"
[ "$(st SigBlk)" = 0000000000000000 ] || fail "SigBlk: $(st SigBlk)"
[ "$(st SigIgn)" = 0000000000000000 ] || fail "SigIgn: $(st SigIgn)"
[ "$(sort -n "$D/out/fds" | tr '\n' ' ')" = "0 1 2 255 " ] ||
    fail "open fds: $(tr '\n' ' ' <"$D/out/fds")"
[ "$(cat "$D/out/fd255")" = "$D/creds.sh" ] ||
    fail "fd 255 is $(cat "$D/out/fd255"), not the script"
[ "$(cat "$D/out/stdin")" = /dev/null ] || fail "stdin: $(cat "$D/out/stdin")"
[ "$(cat "$D/out/environ")" = "PATH=/usr/bin:/bin" ] ||
    fail "environment: $(tr '\n' ' ' <"$D/out/environ")"
[ "$(cat "$D/out/sid")" = "$(cat "$D/out/pid")" ] ||
    fail "not a session leader: sid $(cat "$D/out/sid")"
log "exec child: $(tr '\n\t' '  ' <"$S")"

log "rise 2 / fall 2 with a script that flaps on a schedule"
cat >"$D/flap.sh" <<'SH'
#!/bin/sh
# exit codes by call number: ok fail ok ok fail fail ok ok, then ok
n=$(cat "$1/n" 2>/dev/null || echo 0); n=$((n + 1)); echo $n >"$1/n"
set -- 0 1 0 0 1 1 0 0
[ $n -le 8 ] && eval "exit \${$n}"
exit 0
SH
chmod 0755 "$D/flap.sh"
ex "$T/flap" -k exec -i 150 -T 1000 -r 2 -F 2 "${w[@]}" -t 4 -- \
    "$D/flap.sh" "$D/out"
# 1 ok, 2 fail (first verdict: down), 3-4 ok ok (up), 5-6 fail fail (down),
# 7-8 ok ok (up)
expect_verdicts "$T/flap" "down exit_status 1" "up ok 0" \
    "down exit_status 1" "up ok 0"
log "all exec checks passed"
