#!/usr/bin/env bash
# Process and privilege model (DESIGN.md section 1), read from /proc:
# three processes with their titles; a parent that maps none of the
# children's libraries; unprivileged, chrooted, capability-less children
# with no_new_privs and a seccomp filter; a parent with exactly
# NET_ADMIN|NET_RAW; a dead child ends the parent within 1 s; SIGTERM
# ends everything cleanly.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip
setup_user

ns=$(netns_add priv)
ip -n "$ns" link add dummy0 type veth peer name dummy1 || fail "veth pair"
ip -n "$ns" link set dummy1 up
ip -n "$ns" link set dummy0 up
ip -n "$ns" addr add 198.18.5.1/24 dev dummy0

cat >"$T/yaim.yml" <<CFG
dcs-clustername: privsep
dcs-endpoints: [ "http://127.0.0.1:9" ]
interface: dummy0
nodename: privnode
checker-type: tcp
tcp-host: 127.0.0.1
tcp-port: 9
CFG

start_yaimd() {
	ip netns exec "$ns" "$YAIMD" -d -f "$T/yaim.yml" >"$T/yaimd.log" 2>&1 &
	YPID=$!
	track_pid "$YPID"
	wait_until 10 have_children || { cat "$T/yaimd.log"; fail "children did not start"; }
	# children drop privileges once they have their config
	wait_until 10 children_dropped || { cat "$T/yaimd.log"; fail "children kept root"; }
}
have_children() { [ "$(child_pids "$YPID" | wc -w)" -eq 2 ]; }
children_dropped() {
	local c
	for c in $(child_pids "$YPID"); do
		[ "$(proc_status "$c" Uid)" != 0 ] || return 1
	done
}
title() { tr '\0' ' ' <"/proc/$1/cmdline" | sed 's/ *$//'; }
child_named() {
	local c
	for c in $(child_pids "$YPID"); do
		[ "$(title "$c")" = "yaimd: $1" ] && { echo "$c"; return 0; }
	done
	return 1
}

start_yaimd
[ "$(title "$YPID")" = "yaimd: parent" ] || fail "parent title is '$(title "$YPID")'"
CHK=$(child_named checker) || fail "no 'yaimd: checker' process"
DCS=$(child_named dcs) || fail "no 'yaimd: dcs' process"
# each child under its own role's user (DESIGN.md section 11)
declare -A role=([$CHK]=checker [$DCS]=dcs)
for c in "$CHK" "$DCS"; do
	u=${YAIM_USER}-${role[$c]}
	[ "$(proc_status "$c" Uid)" = "$(id -u "$u")" ] || fail "child $c uid $(proc_status "$c" Uid), want $u"
	awk '$1 == "Uid:" { if ($2 != $3 || $3 != $4 || $4 != $5) exit 1 }' \
	    "/proc/$c/status" || fail "child $c has mixed uids"
	[ "$(proc_status "$c" Gid)" = "$(id -g "$u")" ] || fail "child $c gid"
	[ "$(proc_status "$c" Groups)" = "$(id -g "$u")" ] || fail "child $c groups"
	# not dumpable: its /proc files are root's, not its uid's
	[ "$(stat -c %u "/proc/$c/mem")" = 0 ] || fail "child $c is dumpable"
	# rlimits after the drop: no core, no fork, bounded data
	grep -q '^Max core file size *0 *0 ' "/proc/$c/limits" || fail "child $c RLIMIT_CORE"
	grep -q '^Max processes *0 *0 ' "/proc/$c/limits" || fail "child $c RLIMIT_NPROC"
	grep -q '^Max data size *[0-9][0-9]* *[0-9][0-9]* ' "/proc/$c/limits" ||
	    [ -n "${SANITIZE:-}" ] || fail "child $c RLIMIT_DATA: $(grep 'data size' "/proc/$c/limits")"
	[ "$(proc_status "$c" CapEff)" = 0000000000000000 ] || fail "child $c CapEff $(proc_status "$c" CapEff)"
	[ "$(proc_status "$c" CapPrm)" = 0000000000000000 ] || fail "child $c CapPrm"
	[ "$(proc_status "$c" CapBnd)" = 0000000000000000 ] || fail "child $c CapBnd $(proc_status "$c" CapBnd)"
	[ "$(proc_status "$c" CapAmb)" = 0000000000000000 ] || fail "child $c CapAmb"
	[ "$(proc_status "$c" NoNewPrivs)" = 1 ] || fail "child $c NoNewPrivs"
	[ "$(proc_status "$c" Seccomp)" = 2 ] || fail "child $c Seccomp $(proc_status "$c" Seccomp)"
	[ "$(readlink "/proc/$c/root")" = "$YAIM_CHROOT" ] || fail "child $c root is $(readlink "/proc/$c/root")"
	# fd 3 is the socket to the parent; nothing else names a file
	case $(readlink "/proc/$c/fd/3") in socket:*) ;; *) fail "child $c fd 3 is not a socket" ;; esac
	for fd in /proc/$c/fd/*; do
		n=${fd##*/}; [ "$n" -le 2 ] && continue
		case $(readlink "$fd") in
		/dev/null|socket:*|pipe:*|anon_inode:*) ;;
		*) fail "child $c inherited fd $n -> $(readlink "$fd")" ;;
		esac
	done
done
# NET_ADMIN (12) and NET_RAW (13) only
[ "$(proc_status "$YPID" CapEff)" = 0000000000003000 ] || fail "parent CapEff $(proc_status "$YPID" CapEff)"
[ "$(proc_status "$YPID" CapPrm)" = 0000000000003000 ] || fail "parent CapPrm $(proc_status "$YPID" CapPrm)"
[ "$(proc_status "$YPID" CapBnd)" = 0000000000003000 ] || fail "parent CapBnd $(proc_status "$YPID" CapBnd)"
[ "$(proc_status "$CHK" Uid)" != "$(proc_status "$DCS" Uid)" ] ||
    fail "checker and dcs share a uid"
# one child cannot signal or trace the other: from the checker's uid, a
# kill -0 of dcs (and the other way round) is refused with EPERM, and
# reading its /proc/PID/environ (ptrace access) with EACCES
for pair in "$CHK:$DCS" "$DCS:$CHK"; do
	from=${pair%%:*} to=${pair##*:}
	out=$(setpriv --reuid "$(proc_status "$from" Uid)" \
	    --regid "$(proc_status "$from" Gid)" --clear-groups \
	    kill -0 "$to" 2>&1) && fail "uid of $from may signal $to"
	echo "$out" | grep -qi 'not permitted' || fail "kill -0 $to from $from: $out"
	# nor trace it: /proc/PID/environ needs ptrace read access
	out=$(setpriv --reuid "$(proc_status "$from" Uid)" \
	    --regid "$(proc_status "$from" Gid)" --clear-groups \
	    cat "/proc/$to/environ" 2>&1) && fail "uid of $from may trace $to"
	echo "$out" | grep -qi 'permission denied' || fail "environ of $to from $from: $out"
done
# the root parent maps none of the children's libraries (DESIGN.md 1)
bad=$(grep -Eo '/[^ ]*lib(curl|ssl|crypto|gnutls|pq|cjson)[^ /]*\.so[^ ]*' \
    "/proc/$YPID/maps" | sort -u)
[ -z "$bad" ] || fail "the parent maps $bad"
grep -q libcurl "/proc/$DCS/maps" || fail "dcs does not map libcurl: wrong test"
log "privileges as designed: parent $YPID, checker $CHK, dcs $DCS"

# kill -9 of either child ends the parent within 1 s, saying which and how
for victim in dcs checker; do
	if [ "$victim" = dcs ]; then v=$DCS; else v=$CHK; fi
	kill -KILL "$v"
	t0=$(date +%s%N)
	wait_until 1 bash -c "! kill -0 $YPID 2>/dev/null" || fail "parent alive 1 s after kill -9 of $victim"
	wait "$YPID"; rc=$?
	dt=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ "$rc" -ne 0 ] || fail "parent exited 0 after $victim died"
	grep -q "$victim child (pid $v) was killed by signal 9" "$T/yaimd.log" ||
	    { cat "$T/yaimd.log"; fail "no log line naming the dead $victim"; }
	log "kill -9 $victim: parent exited $rc after ${dt} ms"
	# the other child follows its parent
	wait_until 2 bash -c "! pgrep -P $YPID >/dev/null" || true
	start_yaimd
	CHK=$(child_named checker); DCS=$(child_named dcs)
done

# SIGTERM: everything ends, exit status 0
kids=$(child_pids "$YPID")
kill -TERM "$YPID"
wait_until 10 bash -c "! kill -0 $YPID 2>/dev/null" || fail "parent alive after SIGTERM"
wait "$YPID"; rc=$?
[ "$rc" -eq 0 ] || { cat "$T/yaimd.log"; fail "SIGTERM exit status $rc"; }
for c in $kids; do
	wait_until 3 bash -c "! kill -0 $c 2>/dev/null" || fail "child $c survived SIGTERM"
done
log "SIGTERM: clean exit"
echo "privsep: ok"
