/*
 * The lease and its keepalives, fencing when they fail, leaving the
 * cluster (addresses down first, then the revoke), and the node key.
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

/*
 * We fence this long before the deadline we give the parent, so that the
 * parent's own fencing (and its warning) marks a dcs that did not act.
 */
#define FENCE_LEAD_MS	20

/* ---- the lease ---- */

uint64_t
fence_margin(void)
{
	uint64_t	 ttl_ms = (uint64_t)E.ttl * 1000;

	if (E.conf->fence_margin_ms < ttl_ms / 2)
		return E.conf->fence_margin_ms;
	return ttl_ms / 2;
}

void
fence_arm(void)
{
	uint64_t	 deadline, now = mono_ms();

	if (peers_on()) {
		peers_update();		/* the peer rule's deadline */
		return;
	}
	deadline = E.t_sent + (uint64_t)E.ttl * 1000 - fence_margin();
	arm(E.fence_ev, deadline > now + FENCE_LEAD_MS ?
	    deadline - FENCE_LEAD_MS - now : 0);
	parent_hold_until(deadline);
}

void
fence_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (E.lstate != L_ACTIVE && E.lstate != L_LEAVING)
		return;
	if (peers_on()) {
		peers_fence();
		return;
	}
	log_warnx("FENCING: no keepalive of lease %" PRIx64 " succeeded "
	    "for %" PRIu64 " ms (TTL %" PRId64 " s, margin %" PRIu64
	    " ms); dropping every address and taking the lease as "
	    "lost", (uint64_t)E.lease, mono_ms() - E.t_sent, E.ttl,
	    fence_margin());
	E.cnt.fences++;
	parent_drop_all();
	E.stale_lease = E.lease;
	lease_gone();
	kick();
}

static void
keepalive_done(const struct etcd_result *res, void *arg)
{
	(void)arg;
	E.ka_req = NULL;
	if (E.lstate != L_ACTIVE && E.lstate != L_LEAVING)
		return;
	window_adapt(res->sent_ms);
	if (res->status == ETCD_OK) {
		if (res->sent_ms > E.t_sent)
			E.t_sent = res->sent_ms;
		log_debug("keepalive of lease %" PRIx64 " ok, sent_ms=%" PRIu64
		    " ttl=%" PRId64, (uint64_t)E.lease, res->sent_ms,
		    res->ttl);
		peers_etcd_ok(E.lease, res->sent_ms, 0);
		fence_arm();
		arm(E.ka_ev, peers_keepalive_ms());
		return;
	}
	if (res->status == ETCD_NOT_FOUND) {
		log_warnx("%s: lease %" PRIx64 " is gone (%s); dropping every "
		    "address", __func__, (uint64_t)E.lease, res->error);
		parent_drop_all();
		lease_gone();
		kick();
		return;
	}
	/*
	 * Keep one in flight until the deadline: etcd answers a keepalive
	 * that waits for a new leader as soon as it has one.
	 */
	log_warnx("%s: keepalive of lease %" PRIx64 ": %s", __func__,
	    (uint64_t)E.lease, res->error);
	arm(E.ka_ev, KA_RETRY_MS);
}

void
keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if ((E.lstate != L_ACTIVE && E.lstate != L_LEAVING) ||
	    E.ka_req != NULL)
		return;
	E.ka_req = E.be->lease_keepalive(E.client, E.lease, keepalive_done,
	    NULL);
	if (E.ka_req == NULL) {
		log_warn("%s", __func__);
		arm(E.ka_ev, KA_RETRY_MS);
	}
}

/* The lease is revoked, expired or fenced: forget everything on it. */
void
lease_gone(void)
{
	size_t		 i;
	struct vnode	*n;

	for (i = 0; i < E.nheld; i++) {
		struct held	*h = E.held[i];

		held_cancel(h);
		h->mark = M_NONE;
		h->release = 0;
		h->del_wait = 0;
	}
	for (i = 0; i < E.nvips; i++)
		if (mark_is_ours(&E.vips[i]))
			E.vips[i].marked = 0;
	for (i = 0; i < E.nrefs; i++)
		if (E.refs[i].lease == E.lease)
			E.refs[i].present = 0;
	if ((n = vnode_get(E.conf->nodename)) != NULL && n->lease == E.lease)
		n->present = 0;
	if (E.ka_req != NULL)
		E.be->req_cancel(E.ka_req);
	if (E.node_req != NULL)
		E.be->req_cancel(E.node_req);
	if (E.ref_req != NULL)
		E.be->req_cancel(E.ref_req);
	E.ka_req = E.node_req = E.ref_req = NULL;
	E.nref_ops = 0;
	evtimer_del(E.ka_ev);
	evtimer_del(E.fence_ev);
	evtimer_del(E.leave_ev);
	E.lease = 0;
	E.lstate = L_NONE;
	parent_hold_until(0);
	peers_lease_lost();
	if (E.nstate != N_DUPLICATE)
		E.nstate = N_OUT;
	held_gc();
}

static void
grant_done(const struct etcd_result *res, void *arg)
{
	int64_t	 want = (E.conf->ttl_ms + 999) / 1000;

	(void)arg;
	E.grant_req = NULL;
	if (res->status != ETCD_OK) {
		log_warnx("%s: lease grant: %s", __func__, res->error);
		E.lstate = L_NONE;
		arm(E.retry_ev, RETRY_MS);
		return;
	}
	E.grant_rtt_ms = mono_ms() - E.grant_sent_ms;
	E.lease = res->lease_id;
	E.ttl = res->ttl;
	E.t_sent = res->sent_ms;
	E.lstate = L_ACTIVE;
	E.cnt.leases++;
	if (res->ttl != want)
		log_info("etcd granted lease %" PRIx64 " with TTL %" PRId64
		    " s instead of the %" PRId64 " s asked for", (uint64_t)
		    E.lease, res->ttl, want);
	/* The parent allows no longer than asked for: fence as if so. */
	if (E.ttl > want)
		E.ttl = want;
	else
		log_info("lease %" PRIx64 " granted, TTL %" PRId64 " s",
		    (uint64_t)E.lease, E.ttl);
	if (E.ttl <= 0) {
		log_warnx("%s: etcd granted a TTL of %" PRId64 "; giving the "
		    "lease up", __func__, E.ttl);
		E.stale_lease = E.lease;
		lease_gone();
		arm(E.retry_ev, RETRY_MS);
		return;
	}
	peers_etcd_ok(E.lease, res->sent_ms, 1);
	fence_arm();
	arm(E.ka_ev, peers_keepalive_ms());
	kick();
}

static void
stale_done(const struct etcd_result *res, void *arg)
{
	(void)arg;
	E.stale_req = NULL;
	if (res->status == ETCD_OK || res->status == ETCD_NOT_FOUND) {
		log_info("earlier lease %" PRIx64 " revoked", (uint64_t)
		    E.stale_lease);
		E.stale_lease = 0;
		kick();
		return;
	}
	log_warnx("%s: revoking earlier lease %" PRIx64 ": %s", __func__,
	    (uint64_t)E.stale_lease, res->error);
	if (res->grpc_code != 0) {
		/* etcd answered and said no: let it expire instead. */
		E.stale_lease = 0;
		kick();
		return;
	}
	arm(E.retry_ev, RETRY_MS);
}

void
lease_get(void)
{
	int64_t	 ttl = (E.conf->ttl_ms + 999) / 1000;

	peers_decide();
	if (E.stale_lease != 0) {
		/* Our own earlier lease (fenced): its marks are in the way. */
		if (E.stale_req == NULL)
			E.stale_req = E.be->lease_revoke(E.client,
			    E.stale_lease, stale_done, NULL);
		return;
	}
	E.grant_sent_ms = mono_ms();
	E.grant_req = E.be->lease_grant(E.client, ttl, grant_done, NULL);
	if (E.grant_req == NULL) {
		log_warn("%s", __func__);
		arm(E.retry_ev, RETRY_MS);
		return;
	}
	E.lstate = L_GRANTING;
}

static void
revoke_done(const struct etcd_result *res, void *arg)
{
	(void)arg;
	E.revoke_req = NULL;
	if (res->status == ETCD_OK || res->status == ETCD_NOT_FOUND)
		log_info("lease %" PRIx64 " revoked; left the cluster",
		    (uint64_t)E.lease);
	else {
		log_warnx("%s: revoking lease %" PRIx64 ": %s; it expires "
		    "within %" PRId64 " s", __func__, (uint64_t)E.lease,
		    res->error, E.ttl);
		E.stale_lease = E.lease;
	}
	lease_gone();
	kick();
}

void
revoke(void)
{
	evtimer_del(E.leave_ev);
	E.lstate = L_REVOKING;
	E.revoke_req = E.be->lease_revoke(E.client, E.lease, revoke_done,
	    NULL);
	if (E.revoke_req == NULL) {
		log_warn("%s", __func__);
		E.stale_lease = E.lease;
		lease_gone();
		kick();
	}
}

void
leave_timeout(evutil_socket_t fd, short what, void *arg)
{
	size_t	 i;

	(void)fd;
	(void)what;
	(void)arg;
	if (E.lstate != L_LEAVING)
		return;
	log_warnx("%s: the parent did not confirm %zu address removals "
	    "within %d ms; revoking the lease anyway", __func__,
	    removals_pending(), LEAVE_WAIT_MS);
	for (i = 0; i < E.nheld; i++)
		if (E.held[i]->par == P_REMOVING)
			E.held[i]->par = P_NONE;
	revoke();
}

/* Addresses down, then revoke: the node key and marks go in one step. */
void
leave(void)
{
	size_t	 i;

	log_info("leaving the cluster (%s)", E.shutdown ? "shutdown" :
	    !E.link_up ? "link down" : E.drained ? "drained" : "unhealthy");
	for (i = 0; i < E.nheld; i++)
		if (E.held[i]->req != NULL) {
			held_cancel(E.held[i]);
			/* A claim may have landed: the revoke removes it. */
			E.held[i]->mark = M_NONE;
		}
	if (E.node_req != NULL) {
		E.be->req_cancel(E.node_req);
		E.node_req = NULL;
	}
	if (E.ref_req != NULL) {
		E.be->req_cancel(E.ref_req);
		E.ref_req = NULL;
	}
	E.nref_ops = 0;
	E.lstate = L_LEAVING;
	if (parent_drop_all() == 0)
		revoke();
	else
		arm(E.leave_ev, LEAVE_WAIT_MS);
}

/* ---- the node key ---- */

static void
node_done(const struct etcd_result *res, void *arg)
{
	const struct etcd_kv	*kv = NULL;
	struct vnode		*n;
	size_t			 i;

	(void)arg;
	E.node_req = NULL;
	if (res->status != ETCD_OK) {
		log_warnx("%s: writing the node key: %s", __func__,
		    res->error);
		ref_txn_shrink(res);
		E.nref_ops = 0;
		E.nstate = N_OUT;
		arm(E.retry_ev, RETRY_MS);
		return;
	}
	if (!res->succeeded && res->n_responses == 1 &&
	    res->responses[0].kind == ETCD_OP_RANGE &&
	    res->responses[0].range.n_kvs == 1)
		kv = &res->responses[0].range.kvs[0];
	if (res->succeeded) {
		for (i = 0; i < E.nref_ops; i++)
			ref_applied(&E.ref_ops[i].addr, 1, res->revision);
		if (E.nref_ops > 0)
			log_info("published %zu refusal(s) with the node key",
			    E.nref_ops);
	}
	E.nref_ops = 0;
	if (res->succeeded || (kv != NULL && kv->lease == E.lease)) {
		n = vnode_upsert(E.conf->nodename);
		if (res->revision > n->rev) {
			n->rev = res->revision;
			n->present = 1;
			n->healthy = 1;
			n->lease = E.lease;
		}
		E.nstate = N_IN;
		/* Claims wait for the view to settle (DESIGN.md 4.4). */
		E.join_ms = E.nodes_changed_ms = mono_ms();
		E.join_cost_ms = E.grant_rtt_ms + (E.join_ms - E.put_sent_ms);
		E.join_rev = res->revision;
		E.settled = 0;
		log_info("joined as %s with lease %" PRIx64,
		    E.conf->nodename, (uint64_t)E.lease);
		kick();
		return;
	}
	if (kv == NULL) {
		/* Deleted between compare and range: try again. */
		E.nstate = N_OUT;
		kick();
		return;
	}
	log_warnx("DUPLICATE NODE NAME: %snodes/%s already exists on lease "
	    "%" PRIx64 " (ours is %" PRIx64 "): another yaimd named %s is "
	    "alive, or an earlier run of this one has not expired yet; "
	    "claiming nothing until that key is gone", E.conf->prefix,
	    E.conf->nodename, (uint64_t)kv->lease, (uint64_t)E.lease,
	    E.conf->nodename);
	E.nstate = N_DUPLICATE;
	n = vnode_upsert(E.conf->nodename);
	if (res->revision >= n->rev) {
		n->rev = kv->mod_revision;
		n->present = 1;
		n->lease = kv->lease;
		n->healthy = 0;
	}
}

static void
withdraw_done(const struct etcd_result *res, void *arg)
{
	(void)arg;
	E.node_req = NULL;
	if (res->status != ETCD_OK) {
		log_warnx("%s: withdrawing the node key: %s", __func__,
		    res->error);
		E.nstate = N_IN;
		arm(E.retry_ev, RETRY_MS);
		return;
	}
	/* Deleted now, or not on our lease any more: out either way. */
	E.nstate = N_OUT;
	log_info("withdrew the node key of %s until the join rule allows "
	    "again; keeping the %zu address(es) held", E.conf->nodename,
	    E.nheld);
	kick();
}

/*
 * The join rule stopped holding after we joined.  We claim nothing until
 * it holds again (up to J), so the free IPs assigned to us would stay
 * dark that long: withdraw the node key, and the others are assigned
 * them.  What we hold stays held (the marks are on our lease, and the
 * round assigns nothing while we are out); step() writes the key again
 * once the rule allows.  The delete compares the lease, so it never
 * removes a key of another node of the same name.
 */
void
node_withdraw(void)
{
	char		 key[ETCD_MAX_KEY];
	struct etcd_op	 del;

	node_key(key, sizeof(key));
	memset(&del, 0, sizeof(del));
	del.kind = ETCD_OP_DELETE;
	del.key = key;
	E.node_req = txn_if(key, ETCD_CMP_LEASE, E.lease, &del, 1, NULL, 0,
	    withdraw_done, NULL);
	if (E.node_req == NULL) {
		log_warn("%s", __func__);
		arm(E.retry_ev, RETRY_MS);
		return;
	}
	log_warnx("the join rule no longer holds (a peer we cannot hear had "
	    "a lease end with marks); withdrawing the node key of %s",
	    E.conf->nodename);
	E.nstate = N_WITHDRAWING;
}

/*
 * Create the node key, with the refusals we know of (up to REF_TXN_OPS
 * - 1; refusals_sync() writes the rest): the others see both at once.
 */
void
node_put(void)
{
	char			 key[ETCD_MAX_KEY];
	char			(*keys)[REF_KEY_MAX];
	struct etcd_op		 ops[REF_TXN_OPS], get;
	size_t			 i;

	node_key(key, sizeof(key));
	if (E.ref_req != NULL) {
		/* Written for an earlier node key: the plan starts over. */
		E.be->req_cancel(E.ref_req);
		E.ref_req = NULL;
	}
	E.nref_ops = refusal_plan(E.ref_ops, E.ref_txn_max - 1);
	for (i = 0; i < E.nref_ops; i++)
		E.ref_ops[i].put = 1;	/* a new lease has nothing to delete */
	if ((keys = calloc(E.nref_ops + 1, sizeof(*keys))) == NULL)
		fatal("%s", __func__);
	memset(&ops[0], 0, sizeof(ops[0]));
	ops[0].kind = ETCD_OP_PUT;
	ops[0].key = key;
	ops[0].value = "healthy";
	ops[0].lease = E.lease;
	for (i = 0; i < E.nref_ops; i++)
		ref_etcd_op(&E.ref_ops[i], keys[i], &ops[i + 1]);
	memset(&get, 0, sizeof(get));
	get.kind = ETCD_OP_RANGE;
	get.key = key;
	E.node_req = txn_if(key, ETCD_CMP_CREATE, 0, ops, 1 + E.nref_ops, &get,
	    1, node_done, NULL);
	free(keys);
	if (E.node_req == NULL) {
		log_warn("%s", __func__);
		E.nref_ops = 0;
		arm(E.retry_ev, RETRY_MS);
		return;
	}
	E.put_sent_ms = mono_ms();
	E.nstate = N_PUTTING;
}
