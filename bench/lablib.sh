# Bench helpers on top of the cluster lab.  Source after regress/lib.sh
# and regress/cluster/lab.sh.  Adds: etcd flags, yaimd config overrides,
# keepalived per node (VRRPv3 on the lab bridge), fast holder checks for
# big pools, bulk pool writes, per-process RSS and CPU.
#
# Settings (environment):
#	BENCH_ETCD_FLAGS	extra etcd flags (e.g. a shorter election timeout)
#	BENCH_YAIM_DROP		ERE of config keys dropped from the lab config
#				(yaimd then uses its documented defaults)
#	KA_ADV			keepalived advert_int, seconds (1)
#	KA_CHECK_INTERVAL	vrrp_script interval, whole seconds (1)
#	KA_FALL, KA_RISE	vrrp_script fall and rise (1, 2: yaimd's defaults)
#	KA_VIPS			the VIPs, one VRRP instance each

BENCH_ETCD_FLAGS=${BENCH_ETCD_FLAGS:-}
BENCH_YAIM_DROP=${BENCH_YAIM_DROP:-}
KA_ADV=${KA_ADV:-1}
KA_CHECK_INTERVAL=${KA_CHECK_INTERVAL:-1}
KA_FALL=${KA_FALL:-1}
KA_RISE=${KA_RISE:-2}
KA_VIPS=${KA_VIPS:-}
KA_PIDS=()

now_ms() { date +%s%3N; }

# etcd: the lab's start plus BENCH_ETCD_FLAGS (lab.sh is not ours to edit,
# so its function is wrapped: it is redefined with the flags inserted).
eval "$(declare -f lab_etcd_start | sed '1s/lab_etcd_start/_bench_etcd_start_orig/' |
    sed 's/--log-level error/--log-level error $BENCH_ETCD_FLAGS/')"
lab_etcd_start() { _bench_etcd_start_orig "$@"; }

# yaimd config: the lab's, minus the keys matching BENCH_YAIM_DROP.
eval "$(declare -f lab_node_config | sed '1s/lab_node_config/_bench_node_config_orig/')"
lab_node_config() {
	if [ -n "$BENCH_YAIM_DROP" ]; then
		_bench_node_config_orig "$@" | grep -Ev "^($BENCH_YAIM_DROP):"
	else
		_bench_node_config_orig "$@"
	fi
}

# bench_lease_ttl NODE: the TTL etcd granted to NODE's lease (seconds).
bench_lease_ttl() {
	local lease
	lease=$(etcdctl_ get "${LAB_PREFIX}nodes/$1" -w json 2>/dev/null |
	    python3 -c 'import json,sys
kv = json.load(sys.stdin).get("kvs", [])
print("%x" % int(kv[0].get("lease", 0)) if kv else "")')
	[ -n "$lease" ] || return 1
	etcdctl_ lease timetolive "$lease" |
	    sed -n 's/.*granted with TTL(\([0-9]*\)s).*/\1/p'
}

#
# fast holder checks (one "ip addr" per node, no per-IP loop)
#

# bench_holders: "IP nodeI" for every pool address on an up link.
bench_holders() {
	local i
	for ((i = 1; i <= LAB_N; i++)); do
		ip -n "$(lab_ns "$i")" -o -4 addr show dev "$(lab_if "$i")" up \
		    2>/dev/null | awk -v node="node$i" -v m="$LAB_POOL_MATCH" '
			{ split($4, a, "/")
			  if (index(a[1], m) == 1) print a[1], node }'
	done
}

# bench_settled NODE...: every pool IP held exactly once, only by the named
# nodes, counts within 1 of each other.
bench_settled() {
	bench_holders | awk -v pool="$LAB_DIR/pool" -v nodes="$*" '
	    BEGIN { while ((getline l < pool) > 0) { want[l] = 1; n++ }
		    k = split(nodes, nn, " ")
		    for (i = 1; i <= k; i++) { ok[nn[i]] = 1; c[nn[i]] = 0 } }
	    { if (!($1 in want) || !($2 in ok)) bad = 1
	      if (seen[$1]++) bad = 1
	      c[$2]++; held++ }
	    END { if (bad || held != n) exit 1
		  min = 1e9; max = 0
		  for (x in c) { if (c[x] < min) min = c[x]; if (c[x] > max) max = c[x] }
		  exit (max - min > 1) }'
}

# bench_all_held: every pool IP held exactly once (by anyone).
bench_all_held() {
	bench_holders | awk -v pool="$LAB_DIR/pool" '
	    BEGIN { while ((getline l < pool) > 0) { want[l] = 1; n++ } }
	    ($1 in want) && !seen[$1]++ { held++ }
	    ($1 in want) && seen[$1] > 1 { bad = 1 }
	    END { exit (bad || held != n) }'
}

# bench_none_held: no pool address on any node.
bench_none_held() { [ -z "$(bench_holders)" ]; }

# bench_wait_ms BOUND_S CMD...: poll CMD every BENCH_POLL seconds (0.01)
# until true; print the milliseconds it took, or return 1 after BOUND_S.
# Each poll of a big pool runs one "ip" per node: poll those less often,
# the polling itself loads the machine.
bench_wait_ms() {
	local bound=$1 t0 end
	shift
	t0=$(now_ms)
	end=$((t0 + bound * 1000))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep "${BENCH_POLL:-0.01}"
	done
	echo $(($(now_ms) - t0))
}

#
# the pool, in bulk
#

# bench_ip K: the K-th (0-based) address of a /16 pool (LAB_POOL_MATCH is
# "a.b."): a.b.(K / 250).(K % 250 + 1).
bench_ip() { echo "$LAB_POOL_MATCH$(($1 / 250)).$(($1 % 250 + 1))"; }

# bench_pool_add_bulk FROM TO: pool keys for bench_ip FROM .. TO-1, in
# transactions of 100 puts (etcd's default limit is 128 operations).
bench_pool_add_bulk() {
	local k ip batch=""
	for ((k = $1; k < $2; k++)); do
		ip=$(bench_ip "$k")
		batch+="put ${LAB_PREFIX}ips/$ip \"\""$'\n'
		echo "$ip" >>"$LAB_DIR/pool"
		if [ $(((k - $1 + 1) % 100)) -eq 0 ] || [ $((k + 1)) -eq "$2" ]; then
			printf '\n%s\n\n' "$batch" | etcdctl_ txn >/dev/null ||
			    lab_fail "bench_pool_add_bulk: txn failed"
			batch=""
		fi
	done
}

#
# keepalived
#

# ka_conf I: node I's keepalived.conf.  VIP number k (1-based) is an
# instance with VRID 10+k; its master is node ((k-1) mod N)+1 with
# priority 150, the next node 100, the next 50, and so on (rotated).
ka_conf() {
	local i=$1 k=0 vip rank prio
	cat <<EOF
global_defs {
	router_id node$i
	vrrp_version 3
	script_user root
	enable_script_security
}
vrrp_script chk {
	script "/usr/bin/curl -sf -o /dev/null -m 0.5 http://127.0.0.1:$LAB_HEALTH_PORT/health"
	interval $KA_CHECK_INTERVAL
	timeout 1
	fall $KA_FALL
	rise $KA_RISE
}
EOF
	for vip in $KA_VIPS; do
		k=$((k + 1))
		rank=$(((i - 1 - (k - 1) % LAB_N + LAB_N) % LAB_N))
		prio=$((150 - 50 * rank))
		[ "$prio" -ge 1 ] || prio=1
		cat <<EOF
vrrp_instance v$k {
	state BACKUP
	interface $(lab_if "$i")
	virtual_router_id $((10 + k))
	priority $prio
	advert_int $KA_ADV
	virtual_ipaddress {
		$vip/32 dev $(lab_if "$i")
	}
	track_script {
		chk
	}
}
EOF
	done
}

# ka_master_of K: the node that should be master of VIP number K.
ka_master_of() { echo "node$((($1 - 1) % LAB_N + 1))"; }

# ka_start I: keepalived in node I's namespace, foreground, own files.
ka_start() {
	local i=$1 d=$LAB_DIR/ka$1
	[ -z "${KA_PIDS[i]:-}" ] || lab_fail "keepalived on node$i already runs"
	mkdir -p "$d"
	# None of ours runs here: pid files left by a SIGKILL (their PIDs may
	# still be unreaped zombies) would make it say "already running".
	rm -f "$d"/*.pid
	ka_conf "$i" >"$d/keepalived.conf"
	echo "---- start $(date +%T.%3N)" >>"$LAB_DIR/ka$i.log"
	ip netns exec "$(lab_ns "$i")" keepalived -n -l -D \
	    -f "$d/keepalived.conf" -p "$d/keepalived.pid" \
	    -r "$d/vrrp.pid" -c "$d/checkers.pid" -b "$d/bfd.pid" \
	    >>"$LAB_DIR/ka$i.log" 2>&1 &
	KA_PIDS[i]=$!
	track_pid $!
}

# ka_pids I: keepalived's parent and children on node I.
ka_pids() {
	local p=${KA_PIDS[$1]:-}
	[ -n "$p" ] || return 0
	echo "$p $(child_pids "$p")"
}

# ka_stop I: SIGTERM (keepalived sends priority 0 and drops its VIPs).
ka_stop() {
	local i=$1 p=${KA_PIDS[$1]:-}
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null
	wait_until 15 _lab_gone "$p" || kill -KILL $(ka_pids "$i") 2>/dev/null
	wait "$p" 2>/dev/null
	KA_PIDS[i]=
}

# ka_kill I: a crash: link down, then SIGKILL of keepalived and children.
ka_kill() {
	local i=$1 pids
	pids=$(ka_pids "$i")
	lab_link "$i" down
	[ -n "$pids" ] || return 0
	kill -KILL $pids 2>/dev/null
	wait "${KA_PIDS[i]}" 2>/dev/null
	KA_PIDS[i]=
}

# ka_vips_home: every VIP is on its intended master, and only there.
ka_vips_home() {
	local h k=0 vip want
	h=$(bench_holders)
	for vip in $KA_VIPS; do
		k=$((k + 1))
		want=$(ka_master_of "$k")
		[ "$(awk -v ip="$vip" '$1 == ip { print $2 }' <<<"$h")" = "$want" ] ||
		    return 1
	done
}

#
# footprint
#

# proc_rss_kb PID: resident set size in kB.
proc_rss_kb() { proc_status "$1" VmRSS; }

# proc_cpu_ticks PID [children]: utime+stime (plus cutime+cstime with
# "children": reaped children such as keepalived's check scripts).
proc_cpu_ticks() {
	awk -v c="${2:-}" '{ sub(/^.*\) /, "")
	    t = $12 + $13; if (c == "children") t += $14 + $15; print t }' \
	    "/proc/$1/stat"
}
