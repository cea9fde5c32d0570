#!/usr/bin/env bash
# etcd client with auth enabled: good password works for every call,
# a wrong one gives a clear error; a revoked token is renewed.
. "$(dirname "$0")/../lib.sh" || exit 1
need_root
DRV=$TOOLS/etcd-driver
[ -x "$DRV" ] || fail "missing $DRV"
start_etcd auth
E=$ETCD_ENDPOINT

etcdctl_ user add root --new-user-password=s3cret >/dev/null ||
    fail "user add root"

# Credentials configured, auth not yet enabled: go on without a token (as
# etcd's own client does); once auth is enabled, authenticate.
"$DRV" -e "$E" -u root -p s3cret range /a/ prefix -- sleep 1500 -- \
    range /a/ prefix >"$T/late.out" 2>"$T/late.err" &
drv=$!
track_pid $drv
wait_until 10 grep -q '^range ok' "$T/late.out" || fail "range before auth"
etcdctl_ auth enable >/dev/null || fail "auth enable"
wait_until 20 sh -c "! kill -0 $drv" || fail "driver hangs"
cat "$T/late.out" "$T/late.err"
[ "$(grep -c '^range ok' "$T/late.out")" -eq 2 ] ||
    fail "range after auth was enabled"
grep -q 'authentication is not enabled; going on without a token' \
    "$T/late.err" || fail "no token-less start seen"
grep -q 'user name is empty; authenticating again' "$T/late.err" ||
    fail "no authentication once auth was enabled"

out=$("$DRV" -e "$E" -u root -p s3cret grant 10 -- put /a/x 1 @ -- \
    range /a/ prefix -- claim /a/m n1 -- release /a/m -- keepalive -- \
    revoke 2>&1)
log "$out"
echo "$out" | grep -q '^grant ok id=' || fail "grant with auth"
echo "$out" | grep -q '^kv /a/x 1 ' || fail "range with auth"
echo "$out" | grep -q '^claim won' || fail "claim with auth"
echo "$out" | grep -q '^release ok' || fail "release with auth"
echo "$out" | grep -q '^revoke ok' || fail "revoke with auth"

out=$("$DRV" -e "$E" -u root -p wrong range /a/ prefix 2>&1)
log "$out"
echo "$out" | grep -qx "range auth-failed: etcd $E: etcdserver: authentication failed, invalid user ID or password" ||
    fail "wrong password: unclear error"

# no credentials at all against an auth-enabled etcd
out=$("$DRV" -e "$E" range /a/ prefix 2>&1)
log "$out"
echo "$out" | grep -q "^range error: etcd $E: etcdserver: user name is empty" ||
    fail "missing credentials: unclear error"

# watch with auth
out=$("$DRV" -e "$E" -u root -p s3cret watch /a/ 1 1 prefix 2>&1)
log "$out"
echo "$out" | grep -q '^event PUT /a/x 1' || fail "watch with auth"

# A user who may read /a/ only: a watch elsewhere is cancelled by etcd
# (a distinct status), a range elsewhere fails at once, without retries.
etcdctl_ --user root:s3cret role add reader-a >/dev/null &&
    etcdctl_ --user root:s3cret role grant-permission --prefix=true \
	reader-a read /a/ >/dev/null &&
    etcdctl_ --user root:s3cret user add limited \
	--new-user-password=lpw >/dev/null &&
    etcdctl_ --user root:s3cret user grant-role limited reader-a \
	>/dev/null || fail "limited user"
out=$("$DRV" -e "$E" -u limited -p lpw range /a/ prefix -- \
    range /b/ prefix -- watch /b/ 0 1 prefix 2>&1)
log "$out"
echo "$out" | grep -q '^range ok ' || fail "limited user cannot read /a/"
echo "$out" | grep -qx "range error: etcd $E: etcdserver: permission denied" ||
    fail "permission denied: unclear error"
echo "$out" | grep -q 'retry' && fail "permission denied was retried"
echo "$out" | grep -q "^watch canceled compact=0: etcd $E: watch canceled: .*permission denied" ||
    fail "watch without permission not canceled"

# Expired tokens (--auth-token-ttl 1) and an auth store changed under
# the token: the client authenticates again and retries.
kill "$ETCD_PID"
start_etcd_ttl() {
	local cport pport data=$T/etcd-ttl
	cport=$(free_port); pport=$(free_port)
	mkdir -p "$data"
	etcd --name ttl --data-dir "$data" --auth-token-ttl 1 \
	    --listen-client-urls "http://127.0.0.1:$cport" \
	    --advertise-client-urls "http://127.0.0.1:$cport" \
	    --listen-peer-urls "http://127.0.0.1:$pport" \
	    --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
	    --initial-cluster "ttl=http://127.0.0.1:$pport" \
	    --log-level error >"$T/etcd-ttl.log" 2>&1 &
	ETCD_PID=$!
	track_pid "$ETCD_PID"
	ETCD_ENDPOINT="http://127.0.0.1:$cport"
	wait_until 20 etcdctl_ endpoint health ||
	    { cat "$T/etcd-ttl.log"; fail "etcd did not start"; }
}
start_etcd_ttl
E=$ETCD_ENDPOINT
etcdctl_ user add root --new-user-password=s3cret >/dev/null ||
    fail "user add root"
etcdctl_ auth enable >/dev/null || fail "auth enable"
"$DRV" -e "$E" -u root -p s3cret grant 30 -- put /b/x 1 -- sleep 3000 -- \
    put /b/y 2 -- range /b/ prefix -- sleep 1000 -- put /b/z 3 -- \
    sleep 2500 -- watch /b/ 1 3 prefix \
    >"$T/ttl.out" 2>"$T/ttl.err" &
drv=$!
track_pid $drv
wait_until 10 grep -q '^put ok' "$T/ttl.out" || fail "first put"
# bump the auth store revision while the driver holds a token
etcdctl_ --user root:s3cret user add other --new-user-password=x \
    >/dev/null || fail "user add other"
wait_until 20 sh -c "! kill -0 $drv" || fail "driver hangs"
cat "$T/ttl.out" "$T/ttl.err"
[ "$(grep -c '^put ok' "$T/ttl.out")" -eq 3 ] || fail "put after token expiry"
grep -q '^kv /b/y 2 ' "$T/ttl.out" || fail "range after token expiry"
grep -q 'authenticating again' "$T/ttl.err" || fail "no re-authentication seen"
# a watch with an expired token is created and cancelled at once by etcd
grep -q '^event PUT /b/z 3 ' "$T/ttl.out" || fail "watch after token expiry"
grep -q 'watch refused the token; authenticating again' "$T/ttl.err" ||
    fail "watch did not re-authenticate"
exit 0
