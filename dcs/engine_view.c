/*
 * The engine's view of etcd: node keys, pool keys, marks and refusal
 * keys, kept by a full read (at start, after a broken watch, an endpoint
 * change or a failed check, and every FULL_READ_MS) and a watch from the
 * revision of that read, checked every interval (DESIGN.md 4.3).
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
#include "dcs/peer_net.h"

/* ---- the view ---- */

static int
vip_cmp(const void *a, const void *b)
{
	return yaim_addr_cmp(&((const struct vip *)a)->addr,
	    &((const struct vip *)b)->addr);
}

/*
 * Binary search of a sorted array: the index of the element equal to key
 * (cmp(key, element) == 0), or -1 with *at = where it would go.
 */
static ssize_t
sorted_find(const void *base, size_t n, size_t size, const void *key,
    int (*cmp)(const void *, const void *), size_t *at)
{
	size_t	 lo = 0, hi = n, mid;
	int	 c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		c = cmp(key, (const char *)base + mid * size);
		if (c == 0)
			return (ssize_t)mid;
		if (c > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (at != NULL)
		*at = lo;
	return -1;
}

static int
addr_vip_cmp(const void *key, const void *elem)
{
	return yaim_addr_cmp(key, &((const struct vip *)elem)->addr);
}

/* Index of addr in E.vips, or -1 with *at = where it would go. */
static ssize_t
vip_find(const struct yaim_addr *addr, size_t *at)
{
	return sorted_find(E.vips, E.nvips, sizeof(*E.vips), addr,
	    addr_vip_cmp, at);
}

struct vip *
vip_get(const struct yaim_addr *addr)
{
	ssize_t	 i = vip_find(addr, NULL);

	return i < 0 ? NULL : &E.vips[i];
}

struct vip *
vip_upsert(const struct yaim_addr *addr)
{
	size_t	 at;
	ssize_t	 i;

	if ((i = vip_find(addr, &at)) >= 0)
		return &E.vips[i];
	E.vips = grow(E.vips, &E.vips_cap, E.nvips + 1, sizeof(*E.vips));
	memmove(&E.vips[at + 1], &E.vips[at],
	    (E.nvips - at) * sizeof(*E.vips));
	E.nvips++;
	memset(&E.vips[at], 0, sizeof(E.vips[at]));
	E.vips[at].addr = *addr;
	return &E.vips[at];
}

struct vnode *
vnode_get(const char *name)
{
	size_t	 i;

	for (i = 0; i < E.nnodes; i++)
		if (strcmp(E.nodes[i].name, name) == 0)
			return &E.nodes[i];
	return NULL;
}

struct vnode *
vnode_upsert(const char *name)
{
	struct vnode	*n;

	if ((n = vnode_get(name)) != NULL)
		return n;
	E.nodes = grow(E.nodes, &E.nodes_cap, E.nnodes + 1,
	    sizeof(*E.nodes));
	n = &E.nodes[E.nnodes++];
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	return n;
}

/* By node name, then address: the order of E.refs. */
static int
vref_cmp(const void *a, const void *b)
{
	const struct vref	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->node, y->node)) != 0)
		return c;
	return yaim_addr_cmp(&x->addr, &y->addr);
}

/* Index of (node, addr) in E.refs, or -1 with *at = where it would go. */
static ssize_t
vref_find(const char *node, const struct yaim_addr *addr, size_t *at)
{
	struct vref	 key;

	snprintf(key.node, sizeof(key.node), "%s", node);
	key.addr = *addr;
	return sorted_find(E.refs, E.nrefs, sizeof(*E.refs), &key, vref_cmp,
	    at);
}

struct vref *
vref_get(const char *node, const struct yaim_addr *addr)
{
	ssize_t	 i = vref_find(node, addr, NULL);

	return i < 0 ? NULL : &E.refs[i];
}

struct vref *
vref_upsert(const char *node, const struct yaim_addr *addr)
{
	size_t	 at;
	ssize_t	 i;

	if ((i = vref_find(node, addr, &at)) >= 0)
		return &E.refs[i];
	E.refs = grow(E.refs, &E.refs_cap, E.nrefs + 1, sizeof(*E.refs));
	memmove(&E.refs[at + 1], &E.refs[at],
	    (E.nrefs - at) * sizeof(*E.refs));
	E.nrefs++;
	memset(&E.refs[at], 0, sizeof(E.refs[at]));
	snprintf(E.refs[at].node, sizeof(E.refs[at].node), "%s", node);
	E.refs[at].addr = *addr;
	return &E.refs[at];
}

/*
 * Inside the networks our parent allows: allowed-networks, and (as the
 * parent told us) the interface's prefixes when that key is not set.
 * Without a complete list from the parent, the parent's refusals say.
 */
int
in_networks(const struct yaim_addr *a)
{
	uint32_t	 i;
	int		 in = E.conf->n_networks == 0;

	for (i = 0; i < E.conf->n_networks && !in; i++)
		in = yaim_addr_in_prefix(a, &E.conf->networks[i]);
	if (!in || !E.have_pnets || !E.pnets.complete)
		return in;
	for (i = 0; i < E.pnets.n; i++)
		if (yaim_addr_in_prefix(a, &E.pnets.net[i]))
			return 1;
	return 0;
}

static const char *
networks_name(void)
{
	return E.conf->n_networks > 0 ? "the allowed networks" :
	    "the interface's networks";
}

/* Since when a mark is there, for yaimctl status: one create, one mark. */
static void
mark_seen(struct vip *v, int64_t create)
{
	if (create != 0 && create == v->mark_create)
		return;
	v->mark_create = create;
	v->mark_seen_ms = create != 0 ? mono_ms() : 0;
}

/* A full read made the view afresh: the marks it found again are old. */
static void
marks_seen_before(const struct vip *ov, size_t nov)
{
	struct vip	*v;
	size_t		 i;

	for (i = 0; i < nov; i++) {
		if (ov[i].mark_create == 0 ||
		    (v = vip_get(&ov[i].addr)) == NULL ||
		    v->mark_create != ov[i].mark_create)
			continue;
		v->mark_seen_ms = ov[i].mark_seen_ms;
	}
}

/*
 * Apply one key (put: kv with value; delete: put == 0) at revision rev.
 * Returns 1 if the view changed.  full: part of a full read (no revision
 * checks, and warnings for bad keys).
 */
static int
view_apply(const struct etcd_kv *kv, int put, int64_t rev, int full)
{
	struct key_info	 ki;
	struct vnode	*n;
	struct vip	*v;
	struct vref	*r;

	switch (keys_parse(E.conf->prefix, kv->key, kv->key_len, &ki)) {
	case KEY_NODE:
		n = vnode_upsert(ki.node);
		if (!full && rev <= n->rev)
			return 0;
		n->rev = rev;
		/* Conservative: a lease end may take marks with it. */
		if (!put && n->present && n->lease != 0)
			n->freed++;
		n->present = put;
		n->lease = put ? kv->lease : 0;
		n->healthy = put && kv->value_len == strlen("healthy") &&
		    memcmp(kv->value, "healthy", kv->value_len) == 0;
		return 1;
	case KEY_MEMBER:
		n = vnode_upsert(ki.node);
		if (!full && rev <= n->member_rev)
			return 0;
		n->member_rev = rev;
		n->member = put;
		return 1;
	case KEY_PEER:
		n = vnode_upsert(ki.node);
		if (!full && rev <= n->peer_rev)
			return 0;
		n->peer_rev = rev;
		/*
		 * Conservative as for the node key: marks on this lease
		 * may be going with it (a node re-marking on a new lease
		 * before its node key is back), and the join rule's J
		 * restarts only at such ends (DESIGN.md 10.2 item 5).
		 */
		if (!put && n->peer && n->peer_lease != 0 && !n->present)
			n->freed++;
		n->peer = put;
		n->peer_lease = put ? kv->lease : 0;
		/* Without a peer socket (peers: no) there is no channel. */
		if (peer_net_running())
			(void)peer_net_etcd_key(&ki, kv, put);
		return 1;
	case KEY_PEER_KEY:
		if (peer_net_running())
			(void)peer_net_etcd_key(&ki, kv, put);
		return 0;
	case KEY_POOL:
		/* Still in the view: the pool must be the same for all. */
		if (put && !in_networks(&ki.addr))
			warn_key(kv->key, kv->key_len, "%s is outside %s; "
			    "publishing that this node refuses it",
			    ntop(&ki.addr), networks_name());
		v = vip_upsert(&ki.addr);
		if (!full && rev <= v->pool_rev)
			return 0;
		v->pool_rev = rev;
		v->in_pool = put;
		return 1;
	case KEY_MARK:
		v = vip_upsert(&ki.addr);
		if (!full && rev <= v->mark_rev)
			return 0;
		mark_seen(v, put ? kv->create_revision : 0);
		v->mark_rev = rev;
		v->marked = put;
		v->mark_lease = put ? kv->lease : 0;
		v->holder_ok = put && keys_valid_nodename(kv->value,
		    kv->value_len);
		if (v->holder_ok) {
			memcpy(v->holder, kv->value, kv->value_len);
			v->holder[kv->value_len] = '\0';
		} else
			v->holder[0] = '\0';
		return 1;
	case KEY_REFUSED:
		r = vref_upsert(ki.node, &ki.addr);
		if (!full && rev <= r->rev)
			return 0;
		r->rev = rev;
		r->present = put;
		r->lease = put ? kv->lease : 0;
		if (put && kv->lease == 0)
			warn_key(kv->key, kv->key_len, "a refusal counts only "
			    "on the lease of its node's key, and this one has "
			    "no lease");
		return 1;
	case KEY_BAD:
		if (put)
			warn_key(kv->key, kv->key_len, "%s%s%s", ki.why,
			    ki.canonical[0] ? "; the canonical spelling is " :
			    "", ki.canonical);
		return 0;
	default:
		return 0;
	}
}

int
mark_is_ours(const struct vip *v)
{
	return v != NULL && v->marked && E.lease != 0 &&
	    v->mark_lease == E.lease;
}

/* ---- reading and watching ---- */

static void	watch_start(void);

unsigned	engine_test_drop_events;

/* The key set after a full read: etcd at revision rev. */
static void
ks_reset(const struct etcd_range_result *rr, int64_t rev)
{
	size_t	 i;

	keyset_clear(&E.ks);
	for (i = 0; i < rr->n_kvs; i++)
		if (keyset_put(&E.ks, keyset_hash(rr->kvs[i].key,
		    rr->kvs[i].key_len), rr->kvs[i].mod_revision) == -1)
			fatal("%s", __func__);
	E.ks_rev = E.checked_rev = rev;
	E.check_bad = 0;
	/* 75 to 125 %: nodes started together do not read together */
	E.full_due_ms = mono_ms() + FULL_READ_MS / 4 * 3 +
	    arc4random_uniform(FULL_READ_MS / 2);
}

static void *
dup_array(const void *a, size_t n, size_t size)
{
	void	*copy;

	if (n == 0)
		return NULL;
	if ((copy = calloc(n, size)) == NULL)
		fatal("%s", __func__);
	memcpy(copy, a, n * size);
	return copy;
}

/*
 * A read is served at one revision, but its answer can arrive after our
 * own claims and deletes, or watch events, that are newer.  Those win:
 * a stale read must not bring back a mark we have just deleted, or we
 * would put its address up again while another node takes it over.
 */
static void
view_keep_newer(const struct vip *ov, size_t nov, const struct vnode *on,
    size_t non, int64_t rev)
{
	struct vnode	*n;
	struct vip	*v;
	size_t		 i;

	for (i = 0; i < nov; i++) {
		if (ov[i].mark_rev <= rev && ov[i].pool_rev <= rev)
			continue;
		v = vip_upsert(&ov[i].addr);
		if (ov[i].mark_rev > rev) {
			v->marked = ov[i].marked;
			v->mark_rev = ov[i].mark_rev;
			v->mark_lease = ov[i].mark_lease;
			v->mark_create = ov[i].mark_create;
			v->mark_seen_ms = ov[i].mark_seen_ms;
			v->holder_ok = ov[i].holder_ok;
			memcpy(v->holder, ov[i].holder, sizeof(v->holder));
		}
		if (ov[i].pool_rev > rev) {
			v->in_pool = ov[i].in_pool;
			v->pool_rev = ov[i].pool_rev;
		}
	}
	for (i = 0; i < non; i++) {
		if (on[i].rev <= rev && on[i].member_rev <= rev &&
		    on[i].peer_rev <= rev)
			continue;
		n = vnode_upsert(on[i].name);
		if (on[i].rev > rev) {
			n->rev = on[i].rev;
			n->present = on[i].present;
			n->lease = on[i].lease;
			n->healthy = on[i].healthy;
		}
		if (on[i].member_rev > rev) {
			n->member_rev = on[i].member_rev;
			n->member = on[i].member;
		}
		if (on[i].peer_rev > rev) {
			n->peer_rev = on[i].peer_rev;
			n->peer = on[i].peer;
			n->peer_lease = on[i].peer_lease;
		}
	}
}

/*
 * After a full read: a lease that ended unseen counts as a lease end for
 * the peer rule, and a peer key gone unseen leaves the channel's table.
 */
static void
nodes_gone_unseen(const struct vnode *on, size_t non)
{
	struct vnode	*n;
	size_t		 i;

	for (i = 0; i < non; i++) {
		n = vnode_get(on[i].name);
		if (on[i].present && on[i].lease != 0 && (n == NULL ||
		    !n->present || n->lease != on[i].lease))
			vnode_upsert(on[i].name)->freed++;
		if (on[i].peer && (n == NULL || !n->peer))
			peer_net_peer_del(on[i].name);
	}
}

/* The newer refusal keys of the view before a read. */
static void
refs_keep_newer(const struct vref *or, size_t nor, int64_t rev)
{
	size_t	 i;

	for (i = 0; i < nor; i++)
		if (or[i].rev > rev)
			*vref_upsert(or[i].node, &or[i].addr) = or[i];
}

static void
range_done(const struct etcd_result *res, void *arg)
{
	struct vip	*old_vips;
	struct vnode	*old_nodes;
	struct vref	*old_refs;
	size_t		 i, nold_vips, nold_nodes, nold_refs;

	(void)arg;
	E.range_req = NULL;
	if (res->status != ETCD_OK) {
		log_warnx("%s: reading %s: %s", __func__, E.conf->prefix,
		    res->error);
		read_later(RETRY_MS);
		return;
	}
	/* Tombstones and all: the read replaces the view... */
	old_vips = dup_array(E.vips, E.nvips, sizeof(*E.vips));
	old_nodes = dup_array(E.nodes, E.nnodes, sizeof(*E.nodes));
	old_refs = dup_array(E.refs, E.nrefs, sizeof(*E.refs));
	nold_vips = E.nvips;
	nold_nodes = E.nnodes;
	nold_refs = E.nrefs;
	E.nnodes = 0;
	E.nvips = 0;
	E.nrefs = 0;
	for (i = 0; i < res->range.n_kvs; i++)
		view_apply(&res->range.kvs[i], 1,
		    res->range.kvs[i].mod_revision, 1);
	if (E.nvips > 1)
		qsort(E.vips, E.nvips, sizeof(*E.vips), vip_cmp);
	if (E.nrefs > 1)
		qsort(E.refs, E.nrefs, sizeof(*E.refs), vref_cmp);
	marks_seen_before(old_vips, nold_vips);
	/* ...except what we learned after it was served. */
	view_keep_newer(old_vips, nold_vips, old_nodes, nold_nodes,
	    res->revision);
	nodes_gone_unseen(old_nodes, nold_nodes);
	refs_keep_newer(old_refs, nold_refs, res->revision);
	free(old_vips);
	free(old_nodes);
	free(old_refs);
	for (i = 0; i < E.nvips; i++) {
		char	 key[ETCD_MAX_KEY];
		int	 len;

		if (!E.vips[i].marked || E.vips[i].in_pool)
			continue;
		len = mark_key(key, sizeof(key), &E.vips[i].addr);
		warn_key(key, (size_t)len, "a mark without its pool key (held "
		    "by %s) does not put %s in the pool",
		    E.vips[i].holder_ok ? E.vips[i].holder : "?",
		    ntop(&E.vips[i].addr));
	}
	E.view_rev = res->revision;
	E.have_view = 1;
	ks_reset(&res->range, res->revision);
	/*
	 * Without a watch before this read (the first, or after a broken
	 * one), lease ends may have gone unseen; with one, the diff above
	 * (nodes_gone_unseen) shows them.
	 */
	if (E.watch == NULL)
		peers_full_read();
	log_debug("%s: read %zu keys at revision %" PRId64, __func__,
	    res->range.n_kvs, res->revision);
	if (E.nstate == N_DUPLICATE || E.nstate == N_IN) {
		struct vnode	*n = vnode_get(E.conf->nodename);

		/* Gone: the other one left, or ours was deleted. */
		if (n == NULL || !n->present || (E.nstate == N_IN &&
		    n->lease != E.lease))
			E.nstate = N_OUT;
	}
	watch_start();
	round_run();
	/* Parent and we must not drift: the full set after every read. */
	parent_sync();
	if (E.reread) {
		E.reread = 0;
		read_later(0);
	}
	kick();
}

void
read_now(void)
{
	if (E.client == NULL || E.released)
		return;
	if (E.range_req != NULL) {
		E.reread = 1;
		return;
	}
	E.range_req = E.be->range(E.client, E.conf->prefix, 1, 0, range_done,
	    NULL);
	if (E.range_req == NULL) {
		log_warn("%s: etcd_range", __func__);
		read_later(RETRY_MS);
	}
}

void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	read_now();
}

/* Read after ms; an earlier pending read wins. */
void
read_later(uint64_t ms)
{
	struct timeval	 tv;

	if (evtimer_pending(E.read_ev, &tv)) {
		struct timeval	 now, left;

		event_base_gettimeofday_cached(E.base, &now);
		timersub(&tv, &now, &left);
		if ((uint64_t)left.tv_sec * 1000 + left.tv_usec / 1000 <= ms)
			return;
	}
	arm(E.read_ev, ms);
}

/*
 * Does the key set agree with etcd at revision E.check_at?  etcd counted
 * every key (count) and listed those changed after the last agreement.
 * A missed delete leaves a key too many; a missed put leaves a key
 * missing or with an older mod_revision.
 */
static int
check_agrees(const struct etcd_range_result *rr, char *why, size_t len)
{
	size_t	 i;

	if ((uint64_t)rr->count != E.ks.n) {
		snprintf(why, len, "etcd has %" PRId64 " keys, the watch %zu",
		    rr->count, E.ks.n);
		return 0;
	}
	for (i = 0; i < rr->n_kvs; i++)
		if (keyset_rev(&E.ks, keyset_hash(rr->kvs[i].key,
		    rr->kvs[i].key_len)) != rr->kvs[i].mod_revision) {
			snprintf(why, len, "a key changed at revision %" PRId64
			    " is not as the watch has it",
			    rr->kvs[i].mod_revision);
			return 0;
		}
	if (rr->more || keyset_count_above(&E.ks, E.checked_rev) != rr->n_kvs) {
		snprintf(why, len, "etcd has %zu keys changed after revision %"
		    PRId64 ", the watch %zu", rr->n_kvs, E.checked_rev,
		    keyset_count_above(&E.ks, E.checked_rev));
		return 0;
	}
	return 1;
}

static void
check_done(const struct etcd_result *res, void *arg)
{
	char	 why[160];

	(void)arg;
	E.check_req = NULL;
	if (res->status != ETCD_OK) {
		/* compacted, or etcd in trouble: the read will say */
		log_info("%s: checking the watch: %s; reading again",
		    __func__, res->error);
		read_now();
		return;
	}
	if (E.range_req != NULL)
		return;
	/*
	 * At the latest revision: events may still be on their way, so
	 * only a second disagreement in a row means the watch lost one.
	 */
	if (!check_agrees(&res->range, why, sizeof(why)) &&
	    ++E.check_bad < 2) {
		log_debug("%s: not yet (%s)", __func__, why);
		return;
	}
	if (E.check_bad >= 2) {
		E.check_bad = 0;
		log_warnx("%s: the watch of %s missed a change (%s); reading "
		    "again", __func__, E.conf->prefix, why);
		read_now();
		return;
	}
	log_debug("%s: the watch agrees with etcd at revision %" PRId64,
	    __func__, E.check_at);
	E.check_bad = 0;
	E.checked_rev = res->revision;
	E.check_at = res->revision;
	round_run();
	/* Parent and we must not drift: the full set every interval. */
	parent_sync();
	kick();
}

/* The cheap check: keys only, and only those changed since the last. */
static void
check_now(void)
{
	if (E.check_req != NULL || E.range_req != NULL)
		return;
	E.check_req = E.be->range_check(E.client, E.conf->prefix, 1, 0,
	    E.checked_rev + 1, check_done, NULL);
	if (E.check_req == NULL) {
		log_warn("%s: etcd_range_check", __func__);
		read_now();
	}
}

void
interval_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (E.client != NULL && !E.released) {
		if (!E.have_view || E.watch == NULL ||
		    mono_ms() >= E.full_due_ms)
			read_now();
		else
			check_now();
	}
	arm(E.interval_ev, E.conf->interval_ms);
}

/* The watch's events in the key set; ks_rev: all seen up to it. */
static void
ks_events(const struct etcd_event *ev, size_t n, int64_t revision)
{
	size_t	 i;
	uint64_t h;

	for (i = 0; i < n; i++) {
		h = keyset_hash(ev[i].kv.key, ev[i].kv.key_len);
		if (ev[i].type == ETCD_EVENT_PUT) {
			if (keyset_put(&E.ks, h, ev[i].kv.mod_revision) == -1)
				fatal("%s", __func__);
		} else
			keyset_del(&E.ks, h);
		if (ev[i].kv.mod_revision > E.ks_rev)
			E.ks_rev = ev[i].kv.mod_revision;
	}
	/*
	 * A progress notification: every event up to revision is out.  An
	 * event message's header may run ahead of its events when etcd
	 * splits a catch-up, so only the events' revisions count then.
	 */
	if (n == 0 && revision > E.ks_rev)
		E.ks_rev = revision;
}

/*
 * With peers, a claimed address goes up once the view has caught up with
 * the claim's revision (peers_may_add).  The event that gets it there is
 * usually our own put, which changes nothing in the view (claim_done
 * recorded it), so without this the add waited for the next round: up
 * to an interval (330 ms after a crash in cluster scenario 16).
 */
static int
add_due(void)
{
	size_t	 i;

	for (i = 0; i < E.nheld; i++) {
		const struct held *h = E.held[i];

		if (h->mark == M_OURS && !h->release && h->par == P_NONE &&
		    h->mark_rev <= E.view_rev)
			return 1;
	}
	return 0;
}

static void
watch_events(const struct etcd_event *ev, size_t n, int64_t revision,
    void *arg)
{
	size_t	 i;
	int	 changed = 0, node_deleted = 0;

	(void)arg;
	/* Test only: lose events, as a broken watch would. */
	while (n > 0 && engine_test_drop_events > 0) {
		log_info("%s: test: dropping a watch event at revision %"
		    PRId64, __func__, ev[0].kv.mod_revision);
		engine_test_drop_events--;
		ev++;
		n--;
		if (n == 0)
			return;
	}
	ks_events(ev, n, revision);
	for (i = 0; i < n; i++) {
		struct key_info	 ki;

		changed |= view_apply(&ev[i].kv, ev[i].type == ETCD_EVENT_PUT,
		    ev[i].kv.mod_revision, 0);
		if (ev[i].type == ETCD_EVENT_DELETE &&
		    keys_parse(E.conf->prefix, ev[i].kv.key, ev[i].kv.key_len,
		    &ki) == KEY_NODE && strcmp(ki.node,
		    E.conf->nodename) == 0)
			node_deleted = 1;
	}
	if (revision > E.view_rev)
		E.view_rev = revision;
	changed |= add_due();
	if (node_deleted && E.nstate == N_DUPLICATE) {
		log_info("the node key of %s is gone; joining again",
		    E.conf->nodename);
		E.nstate = N_OUT;
	} else if (node_deleted && E.nstate == N_IN && E.lstate == L_ACTIVE) {
		log_warnx("our node key %snodes/%s was deleted by someone "
		    "else; writing it again", E.conf->prefix,
		    E.conf->nodename);
		E.nstate = N_OUT;
	}
	if (changed || node_deleted)
		kick();
}

static void
watch_status(const struct etcd_result *res, void *arg)
{
	(void)arg;
	switch (res->status) {
	case ETCD_OK:
		log_debug("%s: watching %s from revision %" PRId64 " on %s",
		    __func__, E.conf->prefix, E.view_rev + 1, res->endpoint);
		return;
	case ETCD_COMPACTED:
		log_info("%s: watch start revision compacted (at %" PRId64
		    "); reading again", __func__, res->compact_revision);
		E.cnt.watch_restarts++;
		E.watch = NULL;
		read_later(0);
		return;
	default:
		log_warnx("%s: watch %s: %s", __func__,
		    etcd_status_name(res->status), res->error);
		E.cnt.watch_restarts++;
		E.watch = NULL;
		read_later(WATCH_RETRY_MS);
		return;
	}
}

static void
watch_start(void)
{
	struct etcd_watch_opts	 o;

	E.be->watch_stop(E.watch);
	memset(&o, 0, sizeof(o));
	o.key = E.conf->prefix;
	o.prefix = 1;
	o.start_revision = E.view_rev + 1;
	E.watch = E.be->watch_start(E.client, &o, watch_events, watch_status,
	    NULL);
	if (E.watch == NULL) {
		log_warn("%s: etcd_watch_start", __func__);
		read_later(RETRY_MS);
	}
}

void
endpoint_changed(const char *endpoint, void *arg)
{
	(void)arg;
	log_info("etcd endpoint is now %s; reading again", endpoint);
	read_later(0);
}
