/*
 * Balancing: which pool IPs this node should claim and release now.
 *
 * Pure: no I/O, no clock, no randomness, no state between calls.  Every
 * node computes the same desired assignment from the same view, whatever
 * the order of the input arrays, so claims rarely race and never flap.
 *
 * The view
 *   - self: this node's name.  If self is not among the healthy nodes the
 *     answer is "claim nothing, release everything self holds" (the engine
 *     should rather revoke its lease, DESIGN.md section 3).
 *   - nodes: the healthy node names, in any order; duplicates and NULL
 *     entries are ignored.  Names are compared with strcmp.
 *   - pool: every pool IP with the node name in its mark (holder), NULL
 *     when unmarked.  Any order.  Entries with the same address (af and
 *     address bytes; prefixlen is ignored) are one IP; if their holders
 *     differ, the strcmp-smallest non-NULL holder counts.  Entries that
 *     fail yaim_addr_valid() are ignored (never claimed or released).
 *     Marks of IPs that are no longer in the pool are not seen here: the
 *     engine releases those itself.
 *   - refusals: (node, ip) pairs that a node's parent refused; that node
 *     is never assigned that IP.  Pairs naming a non-healthy node or an IP
 *     outside the pool are ignored.
 *
 * The algorithm
 *   1. Occupied IPs: held by a node outside the healthy set.  They are
 *      assigned to nobody and do not count towards the targets (their mark
 *      will expire with that node's lease; then they are redistributed).
 *   2. Targets: M = pool IPs neither occupied nor refused by every healthy
 *      node, N = healthy nodes.  Every node gets floor(M/N); the M%N
 *      extra ones go to the nodes ranked first by (min(currently held,
 *      floor+1) descending, assign_node_hash() descending, name
 *      ascending), so a balanced state stays as it is.
 *   3. Keep: a healthy holder keeps its IPs up to its target, those with
 *      the highest assign_hash(holder, ip) first; an IP it refuses is not
 *      kept.
 *   4. Fill: the remaining free IPs go to nodes with room, most
 *      constrained IP first (fewest non-refusing nodes with room), then by
 *      highest rendezvous weight assign_hash(node, ip) over all
 *      (ip, node) pairs.  An IP that no node with room may take goes to
 *      its current holder if that one may keep it, else to the highest
 *      weight node that does not refuse it (over its target).  An IP that
 *      every healthy node refuses is assigned to nobody.
 *   5. Shift (only with refusals): while a node under its target can take
 *      an IP assigned to a node over its target, directly or through a
 *      chain of nodes each taking one IP from the next, the shortest such
 *      chain shifts (breadth first, nodes in name order; each taker gets
 *      an IP its assignee does not hold yet if there is one, else the
 *      lowest address).
 *   Ties in a 64-bit weight are broken by name, then address: a total
 *   order, so the result does not depend on input order.
 *
 * Output for self
 *   - claim: IPs assigned to self that are unmarked now.  Never an IP that
 *     has a holder: an IP moving to self from another node is claimed on a
 *     later call, after its holder released it (on its DELETE event).
 *   - release: IPs marked by self that are assigned elsewhere (over
 *     target, or refused).  Never an IP self does not hold.
 *   Both are indices into view->pool, sorted by address ascending; for
 *   duplicate addresses the lowest index is given.
 *
 * Properties (regress/unit/test_assign.c checks them exhaustively)
 *   - Balance: at the fixpoint every node holds floor or ceil of M/N.
 *   - Stability: a balanced state is a fixpoint.  A joining node takes
 *     exactly floor(M/(N+1)) IPs, all from nodes over their new target; a
 *     leaving node's IPs are the only ones that move (after a crash, not
 *     even those until its marks expire).
 *   - Liveness: at the fixpoint every IP that is not occupied and not
 *     refused by every healthy node has a holder.  Without refusals, one
 *     round of claims reaches it from an empty state, and at most two
 *     rounds that change something (releases, then the new holders'
 *     claims) from any state.
 *
 * Refusals and consistency
 *   Targets ignore refusals (but for IPs that every node refuses), so
 *   every view with the same refusals agrees on them.  The assignment
 *   honours exactly the refusals it is given: a node's slot that only
 *   refused IPs could fill stays empty, and such an IP lands over target on
 *   its holder or on the heaviest node that accepts it; step 5 then gives
 *   the under-target nodes what they can take.  So with refusals floor/ceil
 *   may be out of reach, but at the fixpoint no chain leads from a node
 *   below floor to a node above ceil; the fixpoint can take a few more rounds
 *   (4 in the tests), and nothing flaps.
 *   Passing the refusals of every node (the engine does: each node
 *   publishes them on its own lease) keeps the global assignment
 *   consistent and gives the liveness above.  A caller that passed only
 *   its own refusals would see a refused IP that the other nodes assign
 *   to self stay unmarked: self does not claim it and the others wait for
 *   self.  Nothing else
 *   degrades: safety holds, nothing flaps, because self's view differs
 *   only in which unmarked IPs it claims, up to the same target every node
 *   computes for it, and (in the tests) every IP that no node refuses
 *   gets a holder.
 *
 * Hashes (fixed on every platform)
 *   assign_node_hash(n) = mix64(fnv1a64(name bytes))
 *   assign_hash(n, ip)  = mix64(fnv1a64(name bytes, 0x00, af byte,
 *                         address bytes: 4 for AF_INET, 16 for AF_INET6))
 *   fnv1a64: offset basis 0xcbf29ce484222325, prime 0x100000001b3, over
 *   bytes in the order given.  mix64: the splitmix64 finaliser
 *   (x ^= x >> 30; x *= 0xbf58476d1ce4e5b9; x ^= x >> 27;
 *    x *= 0x94d049bb133111eb; x ^= x >> 31).  af is the Linux value
 *   (AF_INET 2, AF_INET6 10).
 *
 * Using it from the engine
 *   Call it after every change of the view (watch event, refusal, health)
 *   and at every reconcile.  Send every claim at once (one txn each, see
 *   DESIGN.md section 3); the answer is the same until the view changes,
 *   so skip claims and releases already in flight.  A lost claim race is
 *   harmless: count the IP as taken until the view shows its holder.  Release =
 *   parent removes the address, then the txn deletes the mark.
 *
 * Cost: O(M*N log(M*N)) time and O(M*N) memory at worst (every IP free);
 * with refusals, O(N*M) more per shift, at most M shifts.
 */
#ifndef YAIM_ASSIGN_H
#define YAIM_ASSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct assign_ip {
	struct yaim_addr	 addr;
	const char		*holder;	/* name in the mark, or NULL */
};

struct assign_refusal {
	const char		*node;		/* whose parent refused it */
	struct yaim_addr	 addr;
};

struct assign_view {
	const char			 *self;
	const char *const		 *nodes;	/* healthy names */
	size_t				  nnodes;
	const struct assign_ip		 *pool;
	size_t				  npool;
	const struct assign_refusal	 *refusals;	/* may be NULL if 0 */
	size_t				  nrefusals;
};

/*
 * Caller-owned output.  claim and release must each hold npool entries.
 * desired (optional, NULL to skip) holds npool entries: for pool[i] the
 * node it is assigned to, a pointer into view->nodes' strings, or NULL
 * (occupied, refused by all, invalid, or no healthy node).  targets
 * (optional) holds nnodes entries: the target of view->nodes[i] (0 for
 * NULL entries; duplicates get the same value).
 */
struct assign_result {
	size_t		 *claim;
	size_t		  nclaim;
	size_t		 *release;
	size_t		  nrelease;
	const char	**desired;
	size_t		 *targets;
};

/*
 * Compute claims and releases for view->self.  Returns 0, or -1 with
 * errno set: EINVAL (NULL self, or NULL arrays with non-zero counts),
 * ENOMEM.  On error nclaim and nrelease are 0.
 */
int		 assign_compute(const struct assign_view *,
		    struct assign_result *);

/* The rendezvous weight of (node, ip); see above. */
uint64_t	 assign_hash(const char *node, const struct yaim_addr *);
/* The rank of a node for the extra IPs; see above. */
uint64_t	 assign_node_hash(const char *node);

#endif
