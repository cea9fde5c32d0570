#!/usr/bin/env bash
# The peer channel's cluster key in etcd (dcs/peer_key.c) against a real
# etcd: of nodes racing to create it exactly one does and all get the
# same 32 random bytes; later nodes read it; a value that is no key is
# reported and left alone; a deleted key is made anew, different.
. "$(dirname "$0")/../lib.sh" || exit 1
need_root
need_cmd python3
DRV=$TOOLS/etcd-driver
[ -x "$DRV" ] || fail "missing $DRV"
start_etcd pk
E=$ETCD_ENDPOINT
P=/service/pk/

log "four nodes race to create the key"
for i in 1 2 3 4; do
	"$DRV" -e "$E" peerkey "$P" >"$T/race.$i" 2>&1 &
	track_pid $!
done
wait_until 10 sh -c "cat $T/race.* | grep -c '^peerkey ok' | grep -qx 4" ||
    { cat "$T"/race.*; fail "not every node got the key"; }
[ "$(cat "$T"/race.* | grep -c 'created=1')" -eq 1 ] ||
    { cat "$T"/race.*; fail "not exactly one node created the key"; }
[ "$(cat "$T"/race.* | sed -n 's/.* key=//p' | sort -u | wc -l)" -eq 1 ] ||
    { cat "$T"/race.*; fail "the nodes got different keys"; }
key=$(sed -n 's/.* key=//p' "$T/race.1")
[ "$(etcdctl_ get --print-value-only "${P}peer-key")" = "$key" ] ||
    fail "etcd holds another key than the nodes got"
[ "$(echo "$key" | python3 -c 'import base64,sys; print(len(base64.b64decode(sys.stdin.read().strip(), validate=True)))')" -eq 32 ] ||
    fail "the key is not 32 bytes"
[ "$(etcdctl_ get -w json "${P}peer-key" | python3 -c '
import json, sys; print(json.load(sys.stdin)["kvs"][0].get("lease", 0))')" = 0 ] ||
    fail "the key hangs on a lease"

log "a later node reads it"
out=$("$DRV" -e "$E" peerkey "$P")
[ "$out" = "peerkey ok created=0 key=$key" ] || fail "later node: $out"

log "a value that is no key: reported, left alone"
etcdctl_ put "${P}peer-key" "AAECAw==" >/dev/null
out=$("$DRV" -e "$E" peerkey "$P")
echo "$out" | grep -q "^peerkey error: ${P}peer-key: the key has 4 bytes, not 32..64; fix or delete it$" ||
    fail "bad key: $out"
[ "$(etcdctl_ get --print-value-only "${P}peer-key")" = "AAECAw==" ] ||
    fail "the bad key was overwritten"

log "deleted: made anew"
etcdctl_ del "${P}peer-key" >/dev/null
out=$("$DRV" -e "$E" peerkey "$P")
echo "$out" | grep -q "^peerkey ok created=1 key=" || fail "after delete: $out"
[ "${out#*key=}" != "$key" ] || fail "the new key is the old one"

log "etcd unreachable: an error, no key"
out=$("$DRV" -e "http://127.0.0.1:$(free_port)" --retries 0 peerkey "$P" 2>&1)
echo "$out" | grep -q "^peerkey error: ${P}peer-key: etcd http://127.0.0.1:" ||
    fail "unreachable: $out"
echo "PASS"
