/*
 * The addresses this node deals with (held), the messages to the parent
 * that put them up and down, and the marks: claims and deletes by txn,
 * with a window of them in flight.
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

/* ---- held entries ---- */

struct held *
held_get(const struct yaim_addr *a)
{
	size_t	 i;

	for (i = 0; i < E.nheld; i++)
		if (yaim_addr_cmp(&E.held[i]->addr, a) == 0)
			return E.held[i];
	return NULL;
}

struct held *
held_new(const struct yaim_addr *a)
{
	struct held	*h;

	if ((h = held_get(a)) != NULL)
		return h;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		fatal("%s", __func__);
	h->addr = *a;
	E.held = grow(E.held, &E.held_cap, E.nheld + 1, sizeof(*E.held));
	E.held[E.nheld++] = h;
	return h;
}

/* Cancel the claim or delete of h, if any. */
void
held_cancel(struct held *h)
{
	if (h->req == NULL)
		return;
	E.be->req_cancel(h->req);
	h->req = NULL;
	E.inflight--;
}

/* Free entries with nothing left to do. */
void
held_gc(void)
{
	size_t	 i, j;

	for (i = j = 0; i < E.nheld; i++) {
		struct held	*h = E.held[i];

		if (h->mark == M_NONE && h->par == P_NONE && h->req == NULL) {
			free(h);
			continue;
		}
		E.held[j++] = h;
	}
	E.nheld = j;
}

/* ---- talking to the parent ---- */

/* Ask the parent to put h up (IMSG_ADDR_ADD) or down; wait in state. */
static void
parent_req(struct held *h, uint32_t type, enum par_state state)
{
	struct imsg_addr_req	 req;

	memset(&req, 0, sizeof(req));
	snprintf(req.ifname, sizeof(req.ifname), "%s", E.conf->interface);
	req.addr = h->addr;
	h->par = state;
	E.ops.addr_req(type, &req, E.ops.arg);
}

void
parent_add(struct held *h)
{
	if (h->par == P_REMOVING) {
		h->readd = 1;
		return;
	}
	if (h->par == P_NONE)
		parent_req(h, IMSG_ADDR_ADD, P_ADDING);
}

void
parent_del(struct held *h)
{
	h->readd = 0;
	if (h->par == P_ADDING || h->par == P_UP)
		parent_req(h, IMSG_ADDR_DEL, P_REMOVING);
}

/* Tell the parent the complete set it should hold now. */
void
parent_sync(void)
{
	struct yaim_addr	*set;
	size_t			 i, n = 0;

	if ((set = calloc(E.nheld + 1, sizeof(*set))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < E.nheld; i++)
		if (E.held[i]->par == P_ADDING || E.held[i]->par == P_UP)
			set[n++] = E.held[i]->addr;
	E.ops.addr_sync(set, n, E.ops.arg);
	free(set);
}

/*
 * The parent drops every address itself once until_ms passes without a
 * newer deadline (DESIGN.md 5, "The parent enforces the deadline").
 */
void
parent_hold_until(uint64_t until_ms)
{
	E.ops.hold_until(until_ms, E.ops.arg);
}

/* Every address down, at once.  Returns how many answers to wait for. */
size_t
parent_drop_all(void)
{
	size_t	 i, n = 0;

	for (i = 0; i < E.nheld; i++) {
		struct held	*h = E.held[i];

		h->readd = 0;
		if (h->par == P_ADDING || h->par == P_UP) {
			log_info("dropping %s", ntop(&h->addr));
			h->par = P_REMOVING;
		}
		if (h->par == P_REMOVING)
			n++;
	}
	E.ops.addr_sync(NULL, 0, E.ops.arg);
	return n;
}

size_t
removals_pending(void)
{
	size_t	 i, n = 0;

	for (i = 0; i < E.nheld; i++)
		if (E.held[i]->par == P_REMOVING)
			n++;
	return n;
}

/* ---- marks: claim and delete ---- */

/* The claim or delete of h is answered: its slot is free. */
static void
mark_answered(struct held *h, const struct etcd_result *res)
{
	h->req = NULL;
	E.inflight--;
	window_adapt(res->sent_ms);
}

/*
 * Back-pressure.  etcd answers a lease keepalive only once it has applied
 * what it committed before, so a backlog of our claims (and every other
 * node's) delays the keepalive, and a keepalive later than the fencing
 * deadline drops every address.  So halve the window when an answer takes
 * more than an eighth of what fencing allows (TTL - margin), and widen it
 * by one when answers are fast again.
 */
void
window_adapt(uint64_t sent_ms)
{
	uint64_t	 rtt = mono_ms() - sent_ms, budget;

	if (E.ttl <= 0)
		return;
	budget = (uint64_t)E.ttl * 1000 - fence_margin();
	if (rtt > budget / 8 && E.window > 1) {
		/* Once a round trip: the answers to what was in flight
		 * at the cut tell nothing new, and cutting on each of them
		 * took 32 to 1 in a burst and made a cold start crawl. */
		if (sent_ms < E.window_cut_ms)
			return;
		E.window_cut_ms = mono_ms();
		E.window /= 2;
		log_debug("etcd answered in %" PRIu64 " ms; %zu claims or "
		    "deletes in flight at most", rtt, E.window);
	} else if (rtt < budget / 32 && E.window < MARK_INFLIGHT_MAX)
		E.window++;
}

/*
 * Someone marked it first, at or before revision rev, and the watch will
 * tell us who.  Until then it counts as taken by an unknown holder, so
 * that the next round does not claim it again.  This used to re-read the
 * whole prefix instead: with 20 nodes and 10,000 IPs every lost race of a
 * cold start cost etcd a read of 10,000 keys, and the cold start never
 * ended.  The mark's own revision stays as it was: the winner's put (and
 * any later delete) is newer, so its event still applies.  A view already
 * at rev or later knows better and is left alone.
 */
static void
lost_race(const struct yaim_addr *a, int64_t rev)
{
	struct vip	*v = vip_upsert(a);

	if (v->marked || v->mark_rev >= rev)
		return;
	v->marked = 1;
	v->holder_ok = 0;
	v->holder[0] = '\0';
	v->mark_lease = 0;
	v->mark_create = 0;
	v->mark_seen_ms = 0;
}

static void
claim_done(const struct etcd_result *res, void *arg)
{
	struct held	*h = arg;
	struct vip	*v;

	mark_answered(h, res);
	if (res->status != ETCD_OK) {
		/* It may have been applied: the re-read will tell. */
		log_warnx("%s: claim of %s: %s", __func__, ntop(&h->addr),
		    res->error);
		E.cnt.claims_failed++;
		h->mark = M_NONE;
		read_later(RETRY_MS);
	} else if (!res->succeeded) {
		log_debug("%s: lost the race for %s", __func__,
		    ntop(&h->addr));
		E.cnt.claims_lost++;
		h->mark = M_NONE;
		lost_race(&h->addr, res->revision);
	} else {
		h->mark = M_OURS;
		h->mark_rev = res->revision;
		E.cnt.claims++;
		v = vip_upsert(&h->addr);
		if (res->revision > v->mark_rev) {
			v->marked = 1;
			v->mark_rev = res->revision;
			v->mark_lease = E.lease;
			v->mark_create = res->revision;
			v->mark_seen_ms = mono_ms();
			v->holder_ok = 1;
			snprintf(v->holder, sizeof(v->holder), "%s",
			    E.conf->nodename);
		}
		log_info("claimed %s", ntop(&h->addr));
		/* With peers, the round adds it once the view caught up. */
		if (E.lstate == L_ACTIVE && peers_may_add(h))
			parent_add(h);
	}
	held_gc();
	kick();
}

void
claim(struct held *h)
{
	char			 key[ETCD_MAX_KEY];
	struct etcd_op		 put;

	if (E.inflight >= E.window)
		return;		/* an answer starts the next round */
	mark_key(key, sizeof(key), &h->addr);
	memset(&put, 0, sizeof(put));
	put.kind = ETCD_OP_PUT;
	put.key = key;
	put.value = E.conf->nodename;
	put.lease = E.lease;
	h->req = txn_if(key, ETCD_CMP_CREATE, 0, &put, 1, NULL, 0, claim_done,
	    h);
	if (h->req == NULL) {
		log_warn("%s: %s", __func__, ntop(&h->addr));
		return;
	}
	E.inflight++;
	log_debug("claiming %s", ntop(&h->addr));
	h->mark = M_CLAIMING;
	h->release = 0;
}

static void
delete_done(const struct etcd_result *res, void *arg)
{
	struct held	*h = arg;
	struct vip	*v;

	mark_answered(h, res);
	if (res->status != ETCD_OK) {
		/*
		 * Maybe applied, maybe not, maybe later still: holding the
		 * address again on this lease could be undone by it while
		 * another node claims the IP.  So the release goes on, the
		 * address down, until etcd answers one (DESIGN.md 3).
		 */
		log_warnx("%s: releasing the mark of %s: %s; the address stays "
		    "down and the release is tried again", __func__,
		    ntop(&h->addr), res->error);
		h->mark = M_OURS;
		h->release = 1;
		h->del_wait = 1;
		h->ref_put = 0;
		read_later(RETRY_MS);
		return;
	}
	if (res->succeeded) {
		E.cnt.releases++;
		log_info("released %s%s", ntop(&h->addr), h->ref_put ?
		    ", publishing that this node refuses it" : "");
		if ((v = vip_get(&h->addr)) != NULL &&
		    res->revision > v->mark_rev) {
			v->marked = 0;
			v->mark_rev = res->revision;
		}
		if (h->ref_put)
			ref_applied(&h->addr, 1, res->revision);
	} else
		log_debug("%s: the mark of %s was not on our lease any more",
		    __func__, ntop(&h->addr));
	h->mark = M_NONE;
	h->release = 0;
	h->ref_put = 0;
	held_gc();
	kick();
}

/*
 * The txn that deletes the mark of h: if it is on our lease and, when we
 * know it, still the very mark we claimed or adopted (its create
 * revision).  A delete that timed out may be applied later still; with
 * the lease alone it would remove a mark we claimed again since, under
 * an address we hold, and another node could claim the IP (DESIGN.md 3).
 */
static struct etcd_req *
delete_txn(const char *key, struct held *h, const struct etcd_op *ops,
    size_t nops)
{
	struct etcd_compare	 cmp[2];
	struct etcd_txn		 txn;

	memset(cmp, 0, sizeof(cmp));
	cmp[0].key = cmp[1].key = key;
	cmp[0].op = cmp[1].op = ETCD_CMP_EQUAL;
	cmp[0].target = ETCD_CMP_LEASE;
	cmp[0].number = E.lease;
	cmp[1].target = ETCD_CMP_CREATE;
	cmp[1].number = h->mark_rev;
	memset(&txn, 0, sizeof(txn));
	txn.compare = cmp;
	txn.n_compare = h->mark_rev > 0 ? 2 : 1;
	txn.success = ops;
	txn.n_success = nops;
	/* The txn is encoded at once (etcd.h): nothing keeps &txn. */
	/* cppcheck-suppress returnDanglingLifetime */
	return E.be->txn(E.client, &txn, delete_done, h);
}

/*
 * Delete our mark.  If we refuse the IP (our parent said no), the same
 * txn publishes the refusal: the others must not see the IP free before
 * they know we will not take it, or they would leave it to us.
 */
void
delete_mark(struct held *h)
{
	char			 key[ETCD_MAX_KEY], rkey[REF_KEY_MAX];
	struct etcd_op		 ops[2];
	struct ref_op		 ro;

	if (h->mark != M_OURS || h->req != NULL || E.lstate != L_ACTIVE)
		return;
	if (E.inflight >= E.window) {
		h->del_wait = 1;
		return;
	}
	h->del_wait = 0;
	mark_key(key, sizeof(key), &h->addr);
	memset(ops, 0, sizeof(ops));
	ops[0].kind = ETCD_OP_DELETE;
	ops[0].key = key;
	ro.addr = h->addr;
	ro.put = 1;
	h->ref_put = self_refuses(&h->addr) != NULL &&
	    !ref_published(&h->addr);
	if (h->ref_put)
		ref_etcd_op(&ro, rkey, &ops[1]);
	h->req = delete_txn(key, h, ops, h->ref_put ? 2 : 1);
	if (h->req == NULL) {
		log_warn("%s: %s", __func__, ntop(&h->addr));
		return;
	}
	E.inflight++;
	h->mark = M_DELETING;
}

/* Address down first, then the mark. */
void
release_ip(struct held *h)
{
	if (h->mark != M_OURS)
		return;
	h->release = 1;
	h->readd = 0;
	if (h->par == P_ADDING || h->par == P_UP)
		parent_del(h);
	else if (h->par == P_NONE)
		delete_mark(h);
}
