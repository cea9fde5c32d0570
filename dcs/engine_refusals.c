/*
 * Refusals: the IPs this node will not hold (outside the networks the
 * parent allows, or refused by the parent), published as
 * <prefix>refused/<nodename>/<ip> on our lease so that every node
 * computes the same assignment.
 */
#include <sys/types.h>
#include <sys/time.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "dcs/engine_int.h"

/* Our published refusal of a, on our current lease. */
int
ref_published(const struct yaim_addr *a)
{
	const struct vref	*r = vref_get(E.conf->nodename, a);

	return r != NULL && r->present && E.lease != 0 && r->lease == E.lease;
}

static const struct own_refusal *
parent_refused(const struct yaim_addr *a)
{
	size_t	 i;

	for (i = 0; i < E.nrefused; i++)
		if (yaim_addr_cmp(&E.refused[i].addr, a) == 0)
			return &E.refused[i];
	return NULL;
}

/* Why this node will not hold a, or NULL if it would. */
const char *
self_refuses(const struct yaim_addr *a)
{
	const struct own_refusal	*r;

	if (!in_networks(a))
		return E.conf->n_networks > 0 ? "outside allowed-networks" :
		    "outside the interface's networks";
	if ((r = parent_refused(a)) != NULL)
		return r->why;
	return NULL;
}

static void
ref_key(char *buf, size_t len, const struct yaim_addr *a)
{
	snprintf(buf, len, "%s%s%s/%s", E.conf->prefix, KEYS_REFUSED_DIR,
	    E.conf->nodename, ntop(a));
}

/* Fill the etcd op for a refusal write; key holds REF_KEY_MAX bytes. */
void
ref_etcd_op(const struct ref_op *ro, char *key, struct etcd_op *op)
{
	const char	*why = self_refuses(&ro->addr);

	ref_key(key, REF_KEY_MAX, &ro->addr);
	memset(op, 0, sizeof(*op));
	op->key = key;
	if (ro->put) {
		op->kind = ETCD_OP_PUT;
		op->value = why != NULL ? why : "refused";
		op->lease = E.lease;
	} else
		op->kind = ETCD_OP_DELETE;
}

/* What a txn at rev did to our refusal keys, in the view. */
void
ref_applied(const struct yaim_addr *a, int put, int64_t rev)
{
	struct vref	*r = vref_upsert(E.conf->nodename, a);

	if (rev <= r->rev)
		return;
	r->rev = rev;
	r->present = put;
	r->lease = put ? E.lease : 0;
}

/* The delete of our mark of a is in flight and publishes the refusal. */
static int
ref_in_delete(const struct yaim_addr *a)
{
	const struct held	*h = held_get(a);

	return h != NULL && h->mark == M_DELETING && h->ref_put;
}

/*
 * The writes that bring our published refusals in line with what we
 * refuse now: stale ones deleted first, then the missing ones, at most
 * max.  Only IPs in the pool are published.
 */
size_t
refusal_plan(struct ref_op *ops, size_t max)
{
	const struct vref	*r;
	const struct vip	*v;
	size_t			 i, n = 0;

	for (i = 0; i < E.nrefs && n < max; i++) {
		r = &E.refs[i];
		if (!r->present || r->lease != E.lease || E.lease == 0 ||
		    strcmp(r->node, E.conf->nodename) != 0)
			continue;
		v = vip_get(&r->addr);
		if (v != NULL && v->in_pool && self_refuses(&r->addr))
			continue;
		ops[n].addr = r->addr;
		ops[n++].put = 0;
	}
	for (i = 0; i < E.nvips && n < max; i++) {
		v = &E.vips[i];
		if (!v->in_pool || self_refuses(&v->addr) == NULL ||
		    ref_published(&v->addr) || ref_in_delete(&v->addr))
			continue;
		ops[n].addr = v->addr;
		ops[n++].put = 1;
	}
	return n;
}

/*
 * An etcd run with a --max-txn-ops below our batch rejects the txn as an
 * invalid argument: write fewer refusals per txn from then on.
 */
void
ref_txn_shrink(const struct etcd_result *res)
{
	if (res->grpc_code != GRPC_INVALID_ARGUMENT || E.nref_ops == 0 ||
	    E.ref_txn_max <= 1)
		return;
	E.ref_txn_max = E.nref_ops / 2 > 0 ? E.nref_ops / 2 : 1;
	log_warnx("etcd refused a txn with %zu refusal keys (%s); writing at "
	    "most %zu per txn", E.nref_ops, res->error, E.ref_txn_max);
}

static void
refs_done(const struct etcd_result *res, void *arg)
{
	size_t	 i;

	(void)arg;
	E.ref_req = NULL;
	if (res->status != ETCD_OK) {
		ref_txn_shrink(res);
		log_warnx("%s: publishing refusals: %s", __func__,
		    res->error);
		read_later(RETRY_MS);
	} else if (!res->succeeded) {
		log_warnx("%s: our node key is not on our lease any more; "
		    "reading again", __func__);
		read_later(0);
	} else {
		for (i = 0; i < E.nref_ops; i++) {
			log_info("%s the refusal of %s",
			    E.ref_ops[i].put ? "published" : "withdrew",
			    ntop(&E.ref_ops[i].addr));
			ref_applied(&E.ref_ops[i].addr, E.ref_ops[i].put,
			    res->revision);
		}
		kick();
	}
	E.nref_ops = 0;
}

/*
 * Publish what we refuse, one txn at a time, and only while our node key
 * is on our lease: a node with a duplicate name must not write refusals
 * for the one that owns the name.
 */
void
refusals_sync(void)
{
	char			 node_key[ETCD_MAX_KEY];
	char			(*keys)[REF_KEY_MAX];
	struct etcd_op		 ops[REF_TXN_OPS];
	struct etcd_compare	 cmp;
	struct etcd_txn		 txn;
	size_t			 i;

	if (E.lstate != L_ACTIVE || E.nstate != N_IN || E.ref_req != NULL ||
	    E.node_req != NULL || E.client == NULL)
		return;
	if ((E.nref_ops = refusal_plan(E.ref_ops, E.ref_txn_max)) == 0)
		return;
	if ((keys = calloc(E.nref_ops, sizeof(*keys))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < E.nref_ops; i++)
		ref_etcd_op(&E.ref_ops[i], keys[i], &ops[i]);
	snprintf(node_key, sizeof(node_key), "%snodes/%s", E.conf->prefix,
	    E.conf->nodename);
	memset(&cmp, 0, sizeof(cmp));
	cmp.key = node_key;
	cmp.target = ETCD_CMP_LEASE;
	cmp.op = ETCD_CMP_EQUAL;
	cmp.number = E.lease;
	memset(&txn, 0, sizeof(txn));
	txn.compare = &cmp;
	txn.n_compare = 1;
	txn.success = ops;
	txn.n_success = E.nref_ops;
	E.ref_req = etcd_txn(E.client, &txn, refs_done, NULL);
	free(keys);
	if (E.ref_req == NULL) {
		log_warn("%s", __func__);
		E.nref_ops = 0;
		read_later(RETRY_MS);
	}
}

/*
 * Every refusal assign must honour: ours as we know them (published or
 * not yet), and the others' published ones on their node key's lease.
 * ref holds E.nvips + E.nrefs entries.  Returns how many.
 */
size_t
collect_refusals(struct assign_refusal *ref)
{
	const struct vnode	*n;
	const struct vref	*r;
	size_t			 i, nr = 0;

	for (i = 0; i < E.nvips; i++)
		if (E.vips[i].in_pool && self_refuses(&E.vips[i].addr)) {
			ref[nr].node = E.conf->nodename;
			ref[nr++].addr = E.vips[i].addr;
		}
	for (i = 0; i < E.nrefs; i++) {
		r = &E.refs[i];
		if (!r->present || strcmp(r->node, E.conf->nodename) == 0)
			continue;
		n = vnode_get(r->node);
		if (n == NULL || !n->present || n->lease != r->lease)
			continue;
		ref[nr].node = r->node;
		ref[nr++].addr = r->addr;
	}
	return nr;
}

/* An IP nobody may hold should not go unnoticed. */
void
warn_unholdable(const struct assign_ip *pool, size_t np,
    const char **desired, size_t nn)
{
	char	 key[ETCD_MAX_KEY];
	size_t	 i;
	int	 len;

	for (i = 0; i < np && nn > 0; i++) {
		if (desired[i] != NULL || pool[i].holder != NULL)
			continue;
		len = snprintf(key, sizeof(key), "%sips/%s", E.conf->prefix,
		    ntop(&pool[i].addr));
		if (warn_due(key, (size_t)len, 1))
			log_warnx("nobody will hold %s: each of the %zu "
			    "healthy nodes refuses it (see %srefused/)",
			    ntop(&pool[i].addr), nn, E.conf->prefix);
	}
}

void
add_refusal(const struct yaim_addr *a, const char *why)
{
	struct own_refusal	*r;

	if (parent_refused(a) != NULL)
		return;
	E.refused = reallocarray(E.refused, E.nrefused + 1,
	    sizeof(*E.refused));
	if (E.refused == NULL)
		fatal("%s", __func__);
	r = &E.refused[E.nrefused++];
	r->addr = *a;
	snprintf(r->why, sizeof(r->why), "%s", why);
}
