/*
 * Cold start without over-claiming (DESIGN.md 4.4).  Pure: no I/O, no
 * clock (times are arguments, in ms of one monotonic clock), no
 * randomness.
 *
 * A node that has just joined sees only the nodes that joined before it;
 * computed from that view its share is the whole free pool, and in a cold
 * start the first nodes claimed nearly everything and gave most of it back
 * as the others joined.  So after joining a node claims no IP that was
 * never held until the set of healthy nodes it sees has been still for
 * settle_window() (every join it sees, its own included, starts the wait
 * again), and claims at SETTLE_MAX_MS after its join at the latest.
 * Releases, the marks it keeps and IPs released to it since its join (the
 * engine's released_to_us()) are not held back.  Once it may claim, it
 * stays so until its next join.
 *
 * And the claims it sends go in the order of its own rendezvous weight
 * assign_hash(self, ip), highest first, rather than by address: two nodes
 * whose views differ for a moment claim from the tops of two unrelated
 * orders, so they rarely race for the same IP.
 */
#ifndef YAIM_SETTLE_H
#define YAIM_SETTLE_H

#include <stddef.h>
#include <stdint.h>

#include "dcs/assign.h"

#define SETTLE_MS	400
#define SETTLE_MAX_MS	5000

/*
 * The settle window for a node whose own join took join_cost_ms of etcd
 * (the round trips of its lease grant and of its node key): nodes started together join about as
 * slowly as we did, so twice that, at least SETTLE_MS and at most
 * SETTLE_MAX_MS.
 */
uint64_t	settle_window(uint64_t join_cost_ms);

/*
 * How long a node that joined at joined_ms, and whose set of healthy
 * nodes last changed at changed_ms, must still wait at now_ms before it
 * claims: 0 once the set has been still for settle_ms or max_ms have
 * passed since the join.  A changed_ms before joined_ms counts as
 * joined_ms; times in the future count as now.
 */
uint64_t	settle_wait(uint64_t now_ms, uint64_t joined_ms,
		    uint64_t changed_ms, uint64_t settle_ms, uint64_t max_ms);

/*
 * A fingerprint of a set of node names, whatever their order and with
 * duplicates and NULLs ignored: the engine compares it between rounds to
 * see the set change.  Equal sets give equal values; different sets
 * almost surely differ (a sum of assign_node_hash, mixed, with the count).
 */
uint64_t	settle_fingerprint(const char *const *names, size_t n);

/*
 * Sort idx[0..n-1], indices into pool, by assign_hash(self, pool[i].addr)
 * descending, ties by address ascending: the order to claim in.
 */
void		settle_order(const char *self, const struct assign_ip *pool,
		    size_t *idx, size_t n);

#endif
