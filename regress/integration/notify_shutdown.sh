#!/usr/bin/env bash
# notify-command at exit, against a real yaimd, etcd and namespace:
# 1. SIGTERM while takes are still queued: the addresses leave the
#    interface at once (the hooks still running), every address's log
#    reads take, release (the release hook sees its address gone), and
#    yaimd exits 0 within 2 x etcd-timeout + 0.5 s + notify-timeout;
# 2. a hook that hangs at exit: yaimd still exits within that bound, the
#    hooks and their process groups are killed, and the warning names
#    what was killed and what was not run;
# 3. a child dies (SIGKILL of the checker): the parent exits 1 and every
#    address gets its release all the same.
. "$(dirname "$0")/../lib.sh" || exit 1
need_root
need_cmd ip python3
setup_user
XU=$YAIM_USER-exec
vip_netns nshut
P=/service/yaim/
make_exec_dir
D=$EXEC_DIR
mkdir -p "$D/out"
chown "$XU" "$D/out"
# The hook: one line as it begins (with how many times its address is on
# vip0 then), one as it ends; the pid of the sleeper it leaves behind.
cat >"$D/hook.sh" <<'EOT'
#!/bin/sh
d=$(dirname "$0")
on=-
[ -n "$3" ] && on=$(ip -o -4 addr show dev vip0 | grep -c " $3/")
echo "begin $2 $3 $$ on=$on" >>"$d/out/log"
s=$(cat "$d/sleep")
sleep "$s" &
echo "$!" >"$d/out/sleeper.$$"
wait
echo "end $2 $3 $$" >>"$d/out/log"
EOT
chmod 0755 "$D/hook.sh"
ETO=2000	# etcd-timeout, the default
# conf N NOTIFY-TIMEOUT: N addresses in the pool
conf() {
	{ tcp_node_conf h1; cat <<EOT
ttl: 3000
interval: 1000
etcd-timeout: $ETO
allowed-networks: [198.18.0.0/24]
notify-command: [ '$D/hook.sh', 'yaimd' ]
notify-timeout: $2
EOT
	} >"$T/y.yml"
	etcdctl_ del --prefix "${P}ips/" >/dev/null
	for i in $(seq 1 "$1"); do
		etcdctl_ put "${P}ips/198.18.0.$i" "" >/dev/null
	done
}
nup() { ip -n "$ns" -4 addr show dev vip0 | grep -c 'inet 198.18.0.[0-9]*/32'; }
up_is() { [ "$(nup)" -eq "$1" ]; }
L=$D/out/log
nlines() { grep -c "$1" "$L" 2>/dev/null || true; }
count_is() { [ "$(nlines "$1")" -eq "$2" ]; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# start N: yaimd with N addresses up; a fresh hook log
start() {
	rm -f "$D"/out/*
	ip netns exec "$ns" "$YAIMD" -dv -f "$T/y.yml" >"$T/yaimd.log" 2>&1 &
	Y=$!
	track_pid "$Y"
	wait_until 15 up_is "$1" || { cat "$T/yaimd.log"; fail "addresses not up"; }
}
# stopped_within MS CODE: yaimd exits with CODE within MS of t0
stopped_within() {
	local rc
	wait_until $(( $1 / 1000 + 5 )) bash -c "! kill -0 $Y 2>/dev/null" ||
	    fail "yaimd did not exit"
	el=$(( $(now_ms) - t0 ))
	wait "$Y"; rc=$?
	[ "$rc" -eq "$2" ] || { tail -n 20 "$T/yaimd.log"; fail "exit status $rc, not $2"; }
	[ "$el" -le "$1" ] || { tail -n 20 "$T/yaimd.log"; fail "exit after $el ms, bound $1 ms"; }
	log "exited $rc after $el ms (bound $1 ms)"
}
# order N: each of the N addresses' hooks read take, release, one at a
# time, the release begun with the address off the interface
order() {
	python3 - "$L" "$1" <<'EOT' || { cat "$L"; fail "hook order"; }
import sys
seq, running, n = {}, {}, int(sys.argv[2])
for line in open(sys.argv[1]):
    f = line.split()
    what, ev = f[0], f[1]
    if ev not in ("take", "release"):
        continue
    ip = f[2]
    if what == "begin":
        if running.get(ip):
            sys.exit("two hooks at once for %s: %s" % (ip, line.strip()))
        if ev == "release" and f[4] != "on=0":
            sys.exit("release hook before the removal: " + line.strip())
        running[ip] = ev
        seq.setdefault(ip, []).append(ev)
    else:
        if running.get(ip) != ev:
            sys.exit("end without begin for %s: %s" % (ip, line.strip()))
        running[ip] = None
want = ["198.18.0.%d" % i for i in range(1, n + 1)]
if sorted(seq) != sorted(want):
    sys.exit("addresses: %s" % " ".join(sorted(seq)))
for ip in want:
    if seq[ip] != ["take", "release"] or running.get(ip):
        sys.exit("%s: %s" % (ip, " ".join(seq[ip])))
print("%d addresses: take, release" % n)
EOT
}

log "1. SIGTERM with takes still queued (8 addresses, hooks of 0.5 s)"
NTO=4000
conf 8 $NTO
echo 0.5 >"$D/sleep"
start 8
log "takes ended at SIGTERM: $(nlines '^end take ') of 8"
t0=$(now_ms)
kill -TERM "$Y"
# the addresses go at once; 16 hooks of 0.5 s, 4 at a time, take longer
wait_until 3 up_is 0 || fail "addresses not removed"
kill -0 "$Y" 2>/dev/null || fail "addresses removed only after the hooks"
log "addresses gone after $(( $(now_ms) - t0 )) ms"
stopped_within $(( 2 * ETO + 500 + NTO )) 0
count_is '^end release ' 8 || { cat "$L"; fail "releases missing at exit"; }
order 8
grep -q 'notify: exiting after' "$T/yaimd.log" && fail "hooks cut short"

log "2. a hook that hangs at exit is killed at the bound (12 addresses)"
NTO=1500
conf 12 $NTO
echo 0 >"$D/sleep"
start 12
wait_until 10 count_is '^end take ' 12 || { cat "$L"; fail "takes"; }
echo 30 >"$D/sleep"
t0=$(now_ms)
kill -TERM "$Y"
stopped_within $(( 2 * ETO + 500 + NTO )) 0
[ "$el" -ge $(( NTO - 100 )) ] || fail "did not wait for the hooks ($el ms)"
up_is 0 || fail "addresses left"
w=$(grep 'notify: exiting after 1500 ms of hooks: killing' "$T/yaimd.log") ||
    { tail -n 20 "$T/yaimd.log"; fail "no warning at the bound"; }
log "$w"
# nothing lost silently: each address's release began or is named
# (killed, perhaps before its first line, or not run)
for i in $(seq 1 12); do
	a=198.18.0.$i
	grep -q "^begin release $a " "$L" ||
	    grep -q "release $a[,)]" <<<"$w" ||
	    fail "release $a neither run nor named"
done
for pid in $(awk '$1 == "begin" && $2 == "release" { print $4 }' "$L"); do
	sp=$(cat "$D/out/sleeper.$pid" 2>/dev/null) || continue
	wait_until 3 bash -c "! kill -0 $pid 2>/dev/null && ! kill -0 $sp 2>/dev/null" ||
	    fail "hook $pid or its sleeper $sp outlived yaimd"
done
count_is '^end release ' 0 || fail "a killed hook ended normally"

log "3. the checker dies: exit 1, and every address gets its release"
NTO=4000
conf 4 $NTO
echo 0.2 >"$D/sleep"
start 4
wait_until 10 count_is '^end take ' 4 || { cat "$L"; fail "takes"; }
chk=
for c in $(child_pids "$Y"); do
	tr '\0' ' ' <"/proc/$c/cmdline" | grep -q '^yaimd: checker' && chk=$c
done
[ -n "$chk" ] || fail "no checker child of $Y"
t0=$(now_ms)
kill -KILL "$chk"
stopped_within $(( 600 + NTO + 1000 )) 1
count_is '^end release ' 4 || { cat "$L"; fail "releases missing after a child died"; }
order 4
log "ok"
