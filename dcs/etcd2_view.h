/*
 * The v2 layout as the engine sees etcd v3 (DESIGN.md section 15).  Pure:
 * no I/O, no clock, no randomness.
 *
 * v2 has no leases, but the engine decides whose a mark is by leases: a
 * mark counts for its holder only while it hangs on the lease of the
 * holder's node key (effective_holder, mark_is_ours).  The stand-in:
 *   - a node key's lease is its createdIndex, so a node that left and
 *     came back (a new node key) has a new "lease";
 *   - a mark's (and a refusal's) lease is the createdIndex of its node's
 *     key when the mark was created after that key, and otherwise
 *     -createdIndex of the mark: a mark of an earlier incarnation, or of
 *     a node without a node key, matches no node and is occupied until
 *     it expires, as a v3 mark on an earlier lease is;
 *   - other keys have lease 0.
 * A recursive delete of a pool directory removes its mark without an
 * event of its own: etcd2_event_kvs reports both deletes.
 */
#ifndef YAIM_DCS_ETCD2_VIEW_H
#define YAIM_DCS_ETCD2_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "dcs/etcd.h"
#include "dcs/etcd2_json.h"

/* createdIndex of node's key, 0 when it has none. */
typedef int64_t	(*etcd2_node_created_fn)(const char *node, void *arg);

/*
 * The lease stand-in of key (a C string) with value (NULL: none) and
 * createdIndex created, under prefix ("/ns/cluster/").
 */
int64_t	etcd2_lease_of(const char *prefix, const char *key, const char *value,
	    int64_t created, etcd2_node_created_fn, void *arg);

/*
 * A full read (GET <prefix> recursive, prefix without its trailing '/'
 * as the key) as the kvs of a v3 range of the prefix: every key that is
 * not a directory, and every directory <prefix>ips/<ip> (a pool key,
 * value "") but one with the createdIndex of its own mark (made by a
 * claim, not by an operator: not in the pool).  Strings point into r.  *out is malloc'd (free it).  0, or
 * -1 with err (the reply is not of prefix, out of memory).
 */
int	etcd2_read_kvs(const char *prefix, const struct etcd2_reply *r,
	    struct etcd_kv **out, size_t *n, char *err, size_t errlen);

/*
 * One watch event (action, node as etcd2_watch delivers them) as v3
 * events into ev[2]: returns how many (0: nothing the engine keeps, such
 * as a directory made), or -1 when the event cannot be told as key
 * events and the view must be read again (a directory other than a pool
 * directory deleted or expired: everything below it went silently).
 * set, create, update, compareAndSwap: a PUT; delete, compareAndDelete,
 * expire: a DELETE, and for a pool directory the DELETE of its mark too,
 * which a recursive delete removes without an event of its own
 * (mark_key, of mark_key_len bytes, holds that key's name).  Leases as
 * etcd2_lease_of; the revision of each is the node's modifiedIndex.
 */
int	etcd2_event_kvs(const char *prefix, const char *action,
	    const struct etcd2_node *node, etcd2_node_created_fn, void *arg,
	    char *mark_key, size_t mark_key_len, struct etcd_event ev[2]);

/*
 * Fencing from the last refresh of every held key: each key refreshed
 * (or created) with ttl_ms by a request sent at sent_ms[i] lives at
 * least until sent_ms[i] + ttl_ms.  The deadline is the earliest of those
 * minus margin_ms; 0 when n is 0 (nothing held, nothing to fence).
 */
uint64_t	etcd2_fence_deadline(const uint64_t *sent_ms, size_t n,
		    uint64_t ttl_ms, uint64_t margin_ms);

/*
 * Which held keys to refresh now: those last refreshed (sent) at least
 * ttl_ms / 3 ago, oldest first, at most max of them (the claim window:
 * DESIGN.md 15 bounds the requests in flight).  Indices into out[];
 * returns how many.
 */
size_t	etcd2_refresh_plan(const uint64_t *sent_ms, size_t n, uint64_t now_ms,
	    uint64_t ttl_ms, size_t *out, size_t max);

#endif
