#!/usr/bin/env bash
# The etcd v2 keys client (dcs/etcd2.c, through etcd2-driver) against a
# real etcd with --enable-v2 (DESIGN.md 15): the spec's curl commands,
# verbatim but for the host, add and delete a pool directory; claims
# with prevExist=false race to exactly one winner; refresh=true keeps a
# mark alive without a watch event and never refreshes someone else's;
# a watch further behind than etcd's 1000 events gets EventIndexCleared;
# yaimd.8's one-command migration copies a v2 pool to v3; basic auth;
# and yaimd refuses dcs-type etcd2 until the engine drives the client.
. "$(dirname "$0")/../lib.sh" || exit 1
need_cmd curl
D=$TOOLS/etcd2-driver
[ -x "$D" ] || skip "$D not built"
ETCD_ARGS=--enable-v2 start_etcd v2
E=$ETCD_ENDPOINT
H=${E#http://}
P=/service/yaim/
drv() { timeout 30 "$D" -e "$E" "$@"; }

log "an empty prefix is an empty pool"
out=$(drv list $P)
[ "$out" = "list ok index=$(drv get / | sed -n 's/.*index=\([0-9]*\).*/\1/p') n=0" ] ||
    fail "empty pool: $out"

log "the spec's curl adds a pool directory"
curl -s http://$H/v2/keys/service/yaim/ips/123.0.0.1 -XPUT -d dir=true >"$T/add.json"
grep -q '"dir":true' "$T/add.json" || fail "curl add: $(cat "$T/add.json")"
drv list $P | grep -qx 'ip 123.0.0.1 dir=1 mod=[0-9]* mark=- ttl=0' ||
    fail "pool: $(drv list $P)"

log "claims race to one winner"
for i in $(seq 1 8); do
	curl -s http://$H/v2/keys/service/yaim/ips/198.18.0.$i -XPUT -d dir=true >/dev/null
done
racers=()
for n in 1 2 3 4; do
	args=()
	for i in $(seq 1 8); do
		args+=(create "${P}ips/198.18.0.$i/marked" "node$n" 30 --)
	done
	drv "${args[@]}" sleep 1 >"$T/race.$n" 2>&1 &
	racers+=($!)
	track_pid $!
done
wait "${racers[@]}"
ok=$(cat "$T"/race.* | grep -c '^create ok')
lost=$(cat "$T"/race.* | grep -c '^create refused code=105:')
[ "$ok" -eq 8 ] && [ "$lost" -eq 24 ] ||
    fail "race: $ok won, $lost lost (want 8, 24): $(cat "$T"/race.*)"
holders=$(drv list $P | grep -c ' mark=node[1-4] ttl=')
[ "$holders" -eq 8 ] || fail "marks after the race: $(drv list $P)"

log "refresh: no watch event, not someone else's mark"
k=${P}ips/123.0.0.1/marked
idx=$(drv create "$k" node1 2 | sed -n 's/^create ok mod=\([0-9]*\).*/\1/p')
[ -n "$idx" ] || fail "create of $k"
r=$(drv refresh "$k" node2 30)
case $r in "refresh refused code=101:"*) ;; *) fail "foreign refresh: $r" ;; esac
r=$(drv delete "$k" node2)
case $r in "delete refused code=101:"*) ;; *) fail "foreign delete: $r" ;; esac
drv watch-bg "$P" $((idx + 1)) -- sleep 1000 -- refresh "$k" node1 2 -- \
    sleep 1000 -- refresh "$k" node1 2 -- sleep 1500 >"$T/refresh.out" 2>&1
grep -c '^refresh ok' "$T/refresh.out" | grep -qx 2 ||
    fail "refresh: $(cat "$T/refresh.out")"
# 3.5 s after a create with ttl 2 the mark lives only by the refreshes.
! grep -q '^event' "$T/refresh.out" ||
    fail "a refresh made a watch event: $(cat "$T/refresh.out")"
drv get "$k" | grep -q "^node $k value=node1 dir=0 ttl=" ||
    fail "refreshed mark gone: $(drv get "$k")"
drv watch "$P" $((idx + 1)) 4000 >"$T/expire.out"
grep -qx "watch ok action=expire key=$k mod=[0-9]*" "$T/expire.out" ||
    fail "no expiry: $(cat "$T/expire.out")"

log "EventIndexCleared past 1000 events"
idx=$(drv create "$k" node1 30 | sed -n 's/^create ok mod=\([0-9]*\).*/\1/p')
drv delete "$k" node1 | grep -q '^delete ok' || fail "delete of our mark"
i=0
while [ $i -lt 1100 ]; do
	curl -s -o /dev/null http://$H/v2/keys/other/k -XPUT -d value=$i
	i=$((i + 1))
done
r=$(drv watch "$P" $((idx + 1)) 2000)
case $r in "watch cleared index="*) ;; *) fail "behind the window: $r" ;; esac
now=${r#watch cleared index=}
[ "$now" -gt $((idx + 1000)) ] || fail "cleared index $now, created at $idx"
# Read again, watch from the read's index + 1: the next change comes.
ridx=$(drv list $P | sed -n 's/^list ok index=\([0-9]*\).*/\1/p')
(sleep 0.5; curl -s -o /dev/null http://$H/v2/keys/service/yaim/ips/198.18.0.9 -XPUT -d dir=true) &
track_pid $!
r=$(drv watch "$P" $((ridx + 1)) 4000)
case $r in "watch ok action=set key=${P}ips/198.18.0.9 "*) ;; *) fail "after re-read: $r" ;; esac

log "yaimd.8's migration to v3 copies the pool"
ETCDCTL_API=2 etcdctl --endpoints "$E" ls /service/yaim/ips |
    xargs -r -I{} etcdctl --endpoints "$E" put {} '' >/dev/null ||
    fail "migration command"
etcdctl --endpoints "$E" get --prefix --keys-only /service/yaim/ips/ |
    grep -v '^$' | sort >"$T/v3.keys"
printf '%s\n' /service/yaim/ips/123.0.0.1 /service/yaim/ips/198.18.0.{1..9} |
    sort >"$T/want.keys"
diff -u "$T/want.keys" "$T/v3.keys" || fail "v3 pool after migration"

log "the spec's curl deletes the directory and its mark"
drv create "$k" node1 30 | grep -q '^create ok' || fail "mark for delete"
curl -s 'http://'$H'/v2/keys/service/yaim/ips/123.0.0.1?recursive=true' -XDELETE >"$T/del.json"
grep -q '"action":"delete"' "$T/del.json" || fail "curl delete: $(cat "$T/del.json")"
! drv list $P | grep -q '^ip 123.0.0.1 ' || fail "deleted IP still listed"
r=$(drv refresh "$k" node1 30)
case $r in "refresh refused code=100:"*) ;; *) fail "mark outlived its IP: $r" ;; esac
# v2 makes missing parent directories: a claim that loses the race with
# the operator's delete puts the pool directory back, with the mark's
# createdIndex (what DESIGN.md 15 tells such a directory by).
m=$(drv create "$k" node1 30 | sed -n 's/^create ok mod=\([0-9]*\).*/\1/p')
[ -n "$m" ] || fail "claim after the delete"
drv list $P | grep -qx "ip 123.0.0.1 dir=1 mod=$m mark=node1 ttl=[0-9]*" ||
    fail "implicit pool directory: $(drv list $P)"
curl -s "http://$H/v2/keys/service/yaim/ips?recursive=true" |
    grep -q "\"key\":\"/service/yaim/ips/123.0.0.1\",\"dir\":true,\"nodes\":\[[^]]*\],\"modifiedIndex\":$m,\"createdIndex\":$m}" ||
    fail "implicit directory's createdIndex is not its mark's ($m)"
drv delete "$k" node1 | grep -q '^delete ok' || fail "delete of the mark"
log "basic auth: v2 auth on, the guest role emptied"
curl -s -XPUT http://$H/v2/auth/users/root -H 'Content-Type: application/json' \
    -d '{"user":"root","password":"s3cret"}' | grep -q '"user":"root"' ||
    fail "v2 user root"
curl -s -o /dev/null -XPUT http://$H/v2/auth/enable
curl -s -u root:s3cret -XPUT http://$H/v2/auth/roles/guest \
    -H 'Content-Type: application/json' \
    -d '{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}' |
    grep -q '"read":\[\]' || fail "guest role not emptied"
r=$(drv list $P)
case $r in "list auth-failed code=0: "*"HTTP 401"*) ;; *) fail "no auth: $r" ;; esac
r=$(drv -u root -p wrong list $P)
case $r in "list auth-failed code=0: "*) ;; *) fail "bad password: $r" ;; esac
drv -u root -p s3cret create "$k" node1 30 -- refresh "$k" node1 30 -- \
    delete "$k" node1 >"$T/auth.out"
[ "$(grep -c ' ok ' "$T/auth.out")" -eq 3 ] || fail "with auth: $(cat "$T/auth.out")"

log "yaimd itself refuses dcs-type etcd2 for now (yaim.yml.5)"
cat >"$T/v2.yml" <<EOC
dcs-type: etcd2
dcs-clustername: yaim
dcs-endpoints: $E
interface: lo
nodename: node1
checker-type: exec
exec-command: /bin/true
EOC
if [ "$(id -u)" -eq 0 ]; then
	timeout 10 "$YAIMD" -d -f "$T/v2.yml" >"$T/v2.out" 2>&1
	rc=$?
	[ $rc -eq 1 ] || fail "yaimd with etcd2 exited $rc, not 1"
	grep -q "dcs-type: etcd2 is not run by this yaimd yet" "$T/v2.out" ||
	    fail "refusal: $(cat "$T/v2.out")"
fi
log "ok"
