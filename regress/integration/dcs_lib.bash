# Helpers for the dcs engine tests (regress/integration/dcs_*.sh): one
# real etcd, several dcs-driver processes playing whole nodes.  Source
# after lib.sh.
DRV=$TOOLS/dcs-driver
[ -x "$DRV" ] || fail "missing $DRV"
P=/service/yaim/
declare -A DRV_FD DRV_PID

# dcs_conf FILE [EXTRA_YAML_LINES...]: a config for the last etcd.
dcs_conf() {
	local f=$1; shift
	{
		echo "dcs-type: etcd"
		echo "dcs-namespace: /service/"
		echo "dcs-clustername: yaim"
		echo "dcs-endpoints: $ETCD_ENDPOINT"
		echo "interface: dummy0"
		echo "interval: ${DCS_INTERVAL:-5000}"
		echo "ttl: ${DCS_TTL:-3000}"
		echo "retry-num: ${DCS_RETRY_NUM:-1}"
		echo "retry-after: 100"
		echo "etcd-timeout: ${DCS_TIMEOUT:-500}"
		echo "fence-margin: ${DCS_MARGIN:-500}"
		echo "checker-type: tcp"
		echo "tcp-host: 127.0.0.1"
		echo "tcp-port: 1"
		local l; for l; do echo "$l"; done
	} >"$f"
}

# start_driver NAME [ARGS...]: a driver named NAME (node name too, unless
# NODE is set), its stdin a fifo kept open by us, output in $T/NAME.out,
# log in $T/NAME.err.  DRV_WRAP (e.g. "valgrind ...") runs it under a tool.
start_driver() {
	local n=$1; shift
	rm -f "$T/$n.in"
	mkfifo "$T/$n.in"
	${DRV_WRAP:-} "$DRV" -f "${DCS_CONF:-$T/yaim.yml}" -n "${NODE:-$n}" -v "$@" \
	    <"$T/$n.in" \
	    >>"$T/$n.out" 2>>"$T/$n.err" &
	DRV_PID[$n]=$!
	track_pid "${DRV_PID[$n]}"
	local fd
	exec {fd}>"$T/$n.in"
	DRV_FD[$n]=$fd
}

# send NAME COMMAND...: one command line to a driver.
send() { local n=$1; shift; echo "$*" >&"${DRV_FD[$n]}"; }

# stop_driver NAME: shutdown command, wait for exit (bounded).
stop_driver() {
	send "$1" shutdown
	wait_until 10 bash -c "! kill -0 ${DRV_PID[$1]} 2>/dev/null" ||
	    fail "driver $1 did not exit after shutdown"
	wait "${DRV_PID[$1]}" 2>/dev/null
}

# held NAME: the addresses a driver holds now, sorted, one a line.
held() {
	awk '$2 == "held" { h[$3] = 1 } $2 == "dropped" { delete h[$3] }
	    END { for (a in h) print a }' "$T/$1.out" | sort
}
nheld() { held "$1" | wc -l; }

# marks: "IP HOLDER" for every mark in etcd, sorted.
marks() {
	etcdctl_ get --prefix "${P}ips/" | awk -v p="${P}ips/" '
	    NR % 2 == 1 { k = $0; next }
	    k ~ /\/marked$/ { ip = substr(k, length(p) + 1);
		sub(/\/marked$/, "", ip); print ip, $0 }' | sort
}
nmarks() { marks | wc -l; }

# lease_of KEY: the lease (hex) of a key, empty if none.
lease_of() {
	etcdctl_ get -w json "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for kv in d.get("kvs", []):
    if kv.get("lease"): print("%x" % kv["lease"])'
}

# add_ips FIRST LAST [NET]: pool keys NET.FIRST .. NET.LAST.
add_ips() {
	local i net=${3:-198.18.0}
	for i in $(seq "$1" "$2"); do
		etcdctl_ put "${P}ips/$net.$i" "" >/dev/null ||
		    fail "put ${P}ips/$net.$i"
	done
}

# del_ip IP: remove an IP from the pool the right way (two exact
# deletes; never del --prefix, which would also match IP0, IP1...).
del_ip() {
	etcdctl_ del "${P}ips/$1" >/dev/null
	etcdctl_ del "${P}ips/$1/marked" >/dev/null
}

# total_held: sum over the named drivers.
total_held() { local n s=0; for n; do s=$((s + $(nheld "$n"))); done; echo $s; }

# no_overlap NAME...: from the drivers' timestamped lines, no IP was
# ever held by two drivers at the same time.
no_overlap() {
	local n
	for n; do awk -v n="$n" '$2 == "held" || $2 == "dropped" {
	    print $1, n, $2, $3 }' "$T/$n.out"; done | sort -n -k1,1 -s |
	    awk '{ if ($3 == "held") { if (($4 in h) && h[$4] != $2) {
		print "overlap: " $4 " held by " h[$4] " and " $2 " at " $1;
		bad = 1 } h[$4] = $2 }
	    else if (h[$4] == $2) delete h[$4] } END { exit bad }'
}

# dump_logs NAME...: for failures.
dump_logs() {
	local n
	for n; do
		echo "---- $n.out"; tail -n 40 "$T/$n.out"
		echo "---- $n.err"; tail -n 60 "$T/$n.err"
	done
}

# Conditions for wait_until.
held_is() { [ "$(nheld "$1")" -eq "$2" ]; }
marks_is() { [ "$(nmarks)" -eq "$1" ]; }
total_is() { local n=$1; shift; [ "$(total_held "$@")" -eq "$n" ]; }
out_has() { grep -Eq "$2" "$T/$1.out"; }
err_has() { grep -Eq "$2" "$T/$1.err"; }
mark_gone() { [ -z "$(etcdctl_ get "${P}ips/$1/marked")" ]; }
