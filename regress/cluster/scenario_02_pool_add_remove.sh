#!/usr/bin/env bash
# Scenario 2: an IP added to and removed from the pool while running.
#   - 3 nodes, 6 IPs (2/2/2); 198.18.1.7 is added: it is held within a
#     bound, by one node, and the counts are 3/2/2; no other IP moves;
#   - an IP of the node holding 3 is removed with the pair of deletes
#     (pool key, then mark): its holder releases it at once (one watch
#     event, not a reconciliation interval later), nobody takes it, the
#     mark is gone, no other IP moves and the counts are 2/2/2.
# Figures: the client's outage of the added IP (time from the put to its
# first answer) and the release time of the removed one.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/regress/cluster/scen.sh"

ADD_BOUND_MS=${ADD_BOUND_MS:-3000}
DEL_BOUND_MS=${DEL_BOUND_MS:-1000}
NEW=198.18.1.7

not_held() { [ -z "$(lab_holder_of "$1")" ]; }

scen_up 3 6
counts=$(lab_counts $SCEN_NODES | awk '{ print $2 }' | tr '\n' ' ')
[ "$counts" = "2 2 2 " ] || lab_fail "want 2/2/2, got $(scen_counts)"

lab_mark add
lab_pool_add "$NEW"
scen_liveness "$ADD_BOUND_MS" "added $NEW"
wait_until "$SCEN_BOUND" lab_balanced $SCEN_NODES ||
    lab_fail "not balanced after the add: $(scen_counts)"
log "after the add: $NEW on $(lab_holder_of "$NEW"); $(scen_counts)"
m=$(lab_moves add)
[ "$m" = "$NEW - $(lab_holder_of "$NEW")" ] ||
    lab_fail "the add moved more than $NEW: $(echo "$m" | tr '\n' ';')"
scen_close add
scen_assert_affected 1 "add"
scen_assert_max "$ADD_BOUND_MS" "add"

victim=node$(scen_fullest)
gone=$(scen_held_by "$victim" | head -n 1)
log "removing $gone (held by $victim, which holds 3)"
etcdctl_ get "${LAB_PREFIX}ips/$gone/marked" --print-value-only | grep -qx "$victim" ||
    lab_fail "the mark of $gone does not name $victim"
lab_mark del
t0=$(date +%s%3N)
lab_pool_del "$gone"
wait_until 5 not_held "$gone" ||
    lab_fail "$victim still holds $gone 5 s after its removal"
dt=$(($(date +%s%3N) - t0))
# vipmon's transition is the precise release time
tr_ms=$(awk -v ip="$gone" -v t="$t0" '$1 >= t && $2 == ip && $3 == "-" { print $1 - t; exit }' \
    "$LAB_DIR/transitions.log")
log "removal: $gone released ${tr_ms:-?} ms after the deletes began (seen by polling after $dt ms)"
echo "FIGURE $SCEN release release_ms min=${tr_ms:-$dt} median=${tr_ms:-$dt} max=${tr_ms:-$dt} n=1"
[ "${tr_ms:-$dt}" -le "$DEL_BOUND_MS" ] ||
    lab_fail "release of $gone took ${tr_ms:-$dt} ms (bound $DEL_BOUND_MS ms)"
# nobody takes it back, at least for three reconciliation intervals
sleep "$(awk -v i="$LAB_INTERVAL" 'BEGIN { print 3 * i / 1000 }')"
not_held "$gone" || lab_fail "$gone is held again after its removal: $(lab_holder_of "$gone")"
[ -z "$(etcdctl_ get --prefix "${LAB_PREFIX}ips/$gone" --keys-only | grep -x "${LAB_PREFIX}ips/$gone\(/marked\)\?")" ] ||
    lab_fail "keys of $gone left in etcd"
grep -q "^$gone\$" "$LAB_DIR/pool" && lab_fail "pool file still lists $gone"
m=$(lab_moves del)
[ "$m" = "$gone $victim -" ] ||
    lab_fail "the removal moved more than $gone: $(echo "$m" | tr '\n' ';')"
counts=$(lab_counts $SCEN_NODES | awk '{ print $2 }' | tr '\n' ' ')
[ "$counts" = "2 2 2 " ] || lab_fail "want 2/2/2 after the removal, got $(scen_counts)"
scen_steady "after the removal"
scen_close del
scen_end
