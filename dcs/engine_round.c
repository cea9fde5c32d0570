/*
 * The round: our records against the view (reconcile_held), then the
 * balance (assign_compute) turned into claims and releases.
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

/* ---- the round: compare the view with what we do, then balance ---- */

/* Our marks in the view against our own records. */
static void
reconcile_held(void)
{
	struct held	*h;
	struct vip	*v;
	size_t		 i;

	for (i = 0; i < E.nheld; i++) {
		h = E.held[i];
		v = vip_get(&h->addr);
		if (h->mark == M_OURS && !mark_is_ours(v)) {
			/* Expected while our revoke is deleting them, and
			 * after a delete of ours that timed out. */
			if (h->release)
				log_info("%s: the mark of %s is gone: our "
				    "release of it took effect", __func__,
				    ntop(&h->addr));
			else if (E.lstate == L_ACTIVE)
				log_warnx("%s: the mark of %s is gone (deleted "
				    "by someone else?); dropping the address",
				    __func__, ntop(&h->addr));
			h->mark = M_NONE;
			h->release = 0;
			h->del_wait = 0;
			parent_del(h);
		} else if (h->mark == M_NONE && mark_is_ours(v) &&
		    E.lstate == L_ACTIVE) {
			log_info("%s: adopting the mark of %s on our lease",
			    __func__, ntop(&h->addr));
			h->mark = M_OURS;
			h->mark_rev = v->mark_create;
		}
	}
	if (E.lstate != L_ACTIVE)
		return;
	for (i = 0; i < E.nvips; i++)
		if (mark_is_ours(&E.vips[i]) &&
		    held_get(&E.vips[i].addr) == NULL) {
			log_info("%s: adopting the mark of %s on our lease",
			    __func__, ntop(&E.vips[i].addr));
			h = held_new(&E.vips[i].addr);
			h->mark = M_OURS;
			h->mark_rev = E.vips[i].mark_create;
		}
}

/* The holder assign sees: only a mark on its holder's node lease counts. */
static const char *
effective_holder(const struct vip *v)
{
	const struct vnode	*n;

	if (!v->marked)
		return NULL;
	if (!v->holder_ok)
		return STALE_HOLDER;
	n = vnode_get(v->holder);
	if (n == NULL || !n->present || n->lease != v->mark_lease)
		return STALE_HOLDER;
	return v->holder;
}

static void
run_assign(void)
{
	struct assign_view	 view;
	struct assign_result	 res;
	struct assign_ip	*pool = NULL;
	struct assign_refusal	*ref = NULL;
	const char		**names = NULL, **desired = NULL;
	size_t			*claim_idx = NULL, *rel_idx = NULL;
	size_t			 i, np = 0, nn = 0;
	struct held		*h;

	pool = calloc(E.nvips + 1, sizeof(*pool));
	names = calloc(E.nnodes + 1, sizeof(*names));
	ref = calloc(E.nvips + E.nrefs + 1, sizeof(*ref));
	desired = calloc(E.nvips + 1, sizeof(*desired));
	claim_idx = calloc(E.nvips + 1, sizeof(*claim_idx));
	rel_idx = calloc(E.nvips + 1, sizeof(*rel_idx));
	if (!pool || !names || !ref || !desired || !claim_idx || !rel_idx)
		fatal("%s", __func__);
	for (i = 0; i < E.nvips; i++) {
		if (!E.vips[i].in_pool)
			continue;
		pool[np].addr = E.vips[i].addr;
		pool[np++].holder = effective_holder(&E.vips[i]);
	}
	for (i = 0; i < E.nnodes; i++) {
		const struct vnode *n = &E.nodes[i];

		if (!n->present || !n->healthy)
			continue;
		if (strcmp(n->name, E.conf->nodename) == 0 &&
		    n->lease != E.lease)
			continue;
		names[nn++] = n->name;
	}
	memset(&view, 0, sizeof(view));
	view.self = E.conf->nodename;
	view.nodes = names;
	view.nnodes = nn;
	view.pool = pool;
	view.npool = np;
	view.refusals = ref;
	view.nrefusals = collect_refusals(ref);
	memset(&res, 0, sizeof(res));
	res.claim = claim_idx;
	res.release = rel_idx;
	res.desired = desired;
	if (assign_compute(&view, &res) == -1) {
		log_warn("%s: assign_compute", __func__);
		goto out;
	}
	warn_unholdable(pool, np, desired, nn);
	for (i = 0; i < res.nrelease; i++)
		if ((h = held_get(&pool[rel_idx[i]].addr)) != NULL &&
		    h->mark == M_OURS && !h->release) {
			log_info("releasing %s (balance or refusal)",
			    ntop(&h->addr));
			release_ip(h);
		}
	/* The peer rule may hold claims back (DESIGN.md 10.2, item 5). */
	for (i = 0; i < res.nclaim && peers_may_claim(); i++) {
		if (E.nheld >= IMSG_ADDR_SYNC_MAX &&
		    held_get(&pool[claim_idx[i]].addr) == NULL) {
			/* The parent takes at most this many in one sync. */
			if (!E.warned_max)
				log_warnx("%s: holding %d addresses already, "
				    "the most one node can; not claiming more",
				    __func__, IMSG_ADDR_SYNC_MAX);
			E.warned_max = 1;
			break;
		}
		h = held_new(&pool[claim_idx[i]].addr);
		if (h->mark == M_NONE && h->req == NULL &&
		    self_refuses(&h->addr) == NULL)
			claim(h);
	}
	/* Kept marks whose address is not up (adopted, or re-added). */
	for (i = 0; i < E.nheld; i++) {
		h = E.held[i];
		if (h->mark == M_OURS && !h->release && h->par == P_NONE &&
		    peers_may_add(h))
			parent_add(h);
	}
out:
	free(pool);
	free(names);
	free(ref);
	free(desired);
	free(claim_idx);
	free(rel_idx);
	held_gc();
}

void
round_run(void)
{
	struct vip	*v;
	size_t		 i;

	if (!E.have_view)
		return;
	peers_update();		/* the rule sees the view first */
	reconcile_held();
	if (E.lstate != L_ACTIVE)
		return;
	/* Deletes waiting for a slot go before new claims. */
	for (i = 0; i < E.nheld && E.inflight < E.window; i++)
		if (E.held[i]->del_wait)
			delete_mark(E.held[i]);
	/* Marks of IPs no longer in the pool: release at once. */
	for (i = 0; i < E.nheld; i++) {
		v = vip_get(&E.held[i]->addr);
		if (E.held[i]->mark == M_OURS && !E.held[i]->release &&
		    (v == NULL || !v->in_pool)) {
			log_info("%s left the pool; releasing it",
			    ntop(&E.held[i]->addr));
			release_ip(E.held[i]);
		}
	}
	if (E.nstate == N_IN) {
		run_assign();
		refusals_sync();
	}
	peers_update();
}
