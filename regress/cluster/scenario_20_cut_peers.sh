#!/usr/bin/env bash
# Scenario 20: one node cut from its peers only (issue 12): nftables in
# its namespace drops the peer channel's UDP (port 7405, the default),
# etcd and the client still reach it.
#   - both ways: it hears nobody and nobody hears it;
#   - one way: only what arrives at it is dropped (the others hear it,
#     it hears nobody): an asymmetric partition.
# Only the cut node may lose its addresses (DESIGN.md 10.2 item 4: a node
# revokes a silent peer only while it hears a majority, so the cut node
# revokes nobody): after each cut every IP the other nodes held is still
# theirs, and one way (it hears nobody, they hear it) nothing moves at
# all.  Never two holders: 0 overlaps (vipmon), and every pool IP has
# exactly one holder within HELD_MS of each cut, and again within HELD_MS
# of each heal, balanced.
# Figures: outage_ms of each cut.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/lib.sh"
. "$TOP/regress/cluster/lab.sh"
. "$TOP/regress/cluster/scen.sh"

HELD_MS=${HELD_MS:-$((LAB_TTL + 5000))}
need_cmd nft

scen_up 3 7
for way in both in; do
	v=$(scen_fullest)
	victim=node$v
	log "cutting $victim from its peers ($way); it holds $(scen_held_by "$victim" | tr '\n' ' ')"
	before=$(lab_holders)
	lab_mark "cut-$way"
	lab_cut_peers "$v" "$way"
	# let the revokes happen, then every IP must have one holder
	sleep 2
	scen_liveness "$HELD_MS" "$victim cut from its peers ($way)"
	for i in 1 2 3; do
		lab_node_alive "$i" || lab_fail "node$i's yaimd died"
	done
	sleep 2
	scen_all_held || lab_fail "not every IP held 4 s after the cut ($way): $(lab_holders | tr '\n' ' ')"
	after=$(lab_holders)
	while read -r ip holder; do
		[ "$holder" != "$victim" ] || [ "$way" = in ] || continue
		grep -qxF "$ip $holder" <<<"$after" ||
		    lab_fail "$ip moved away from $holder after $victim was cut from its peers ($way): $(tr '\n' ' ' <<<"$after")"
	done <<<"$before"
	log "cut ($way): $(scen_counts); nftables dropped $(lab_peer_drops "$v") peer datagrams on $victim"
	[ "$(lab_peer_drops "$v")" -gt 0 ] || [ -n "${LAB_EXTRA_CONFIG:-}" ] ||
	    lab_fail "nftables on $victim dropped no peer datagram: no cut"
	scen_close "cut-$way"
	lab_mark "heal-$way"
	lab_heal_peers "$v"
	scen_steady "after healing the cut ($way)"
	scen_close "heal-$way" gap_ms
done
scen_end
