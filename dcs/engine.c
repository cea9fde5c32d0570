/*
 * The dcs engine (DESIGN.md sections 3-5): one lease per node, the node
 * key, the view of the pool and marks kept by a read plus a watch,
 * balancing through assign_compute(), claims and releases by
 * transaction, and fencing.
 *
 * Ordering with the parent.  Messages to the parent and its answers
 * (IMSG_ADDR_STATE) travel in order on one socket.  An address goes up
 * only after its claim succeeded; a mark is deleted only after the parent
 * answered ADDR_DOWN for it.  When the node leaves (unhealthy, link down,
 * shutdown) we send IMSG_ADDR_SYNC with the empty set and revoke the
 * lease only once the parent has answered ADDR_DOWN for every address it
 * may hold: the revoke goes to etcd on another channel, and other nodes
 * claim on the DELETE it causes, so revoking before the parent has acted
 * could put one address on two hosts for a moment.  The wait is bounded
 * (LEAVE_WAIT_MS); a parent that does not answer is a parent in trouble,
 * and keeping the lease alive for an unhealthy node would be worse.
 * Fencing does not wait: etcd is unreachable then, so nobody else can
 * claim before our lease expires anyway.
 *
 * Single changes go to the parent as IMSG_ADDR_ADD / IMSG_ADDR_DEL; the
 * complete set (IMSG_ADDR_SYNC) goes after every full read (start-up,
 * every interval, after a broken watch or an endpoint change), so the
 * parent and we cannot drift for longer than one interval, and the empty
 * set goes whenever we leave or fence.  A sync per single change would
 * make the parent answer for every held address each time.
 *
 * Marks are ours only when they hang on our current lease: a mark with
 * our name on another lease is from an earlier incarnation (a crash, or
 * a fenced lease) and is treated as occupied until it expires.
 *
 * Refusals.  Every node must compute the same assignment, so an IP this
 * node will not hold (outside allowed-networks, or refused by our parent)
 * is published as <prefix>refused/<nodename>/<ip> on our lease, and the
 * refusals of every node go into assign_compute().  Otherwise the others
 * would leave such an IP to us and nobody would hold it.  The refusals
 * known at join go in the same txn as the node key, so no node ever sees
 * us without them (up to REF_TXN_OPS of them); a refusal found while we
 * hold the IP goes in the txn that deletes its mark.
 */
#include <sys/socket.h>

#include <sys/time.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "dcs/assign.h"
#include "dcs/engine.h"
#include "dcs/etcd.h"
#include "dcs/keys.h"

#define LEAVE_WAIT_MS		1000	/* parent's ADDR_DOWN answers */
#define RETRY_MS		1000	/* after a failed grant/read */
#define WATCH_RETRY_MS		200	/* after a failed or broken watch */
#define RACE_JITTER_MS		50	/* lost claim: re-read within */
#define KA_RETRY_MS		100	/* after a failed keepalive */
/*
 * Claims and mark deletes in flight at once.  Every request is one HTTP
 * connection; thousands at once overrun etcd's accept queue and starve
 * the keepalive.  A round claims up to the window, each answer starts
 * more.  The window shrinks when etcd answers slowly (see window_adapt).
 */
#define MARK_INFLIGHT_MAX	32
/* Refusal keys per txn; etcd's default --max-txn-ops is 128. */
#define REF_TXN_OPS		100
#define GRPC_INVALID_ARGUMENT	3	/* e.g. too many operations in a txn */
#define WARN_EVERY_MS		(10 * 60 * 1000)
#define WARN_SLOTS		256	/* distinct keys warned about */
#define STALE_HOLDER		"<earlier lease>"

enum lease_state { L_NONE, L_GRANTING, L_ACTIVE, L_LEAVING, L_REVOKING };
enum node_state { N_OUT, N_PUTTING, N_IN, N_DUPLICATE };
enum mark_state { M_NONE, M_CLAIMING, M_OURS, M_DELETING };
enum par_state { P_NONE, P_ADDING, P_UP, P_REMOVING };

/* A node key as seen in etcd. */
struct vnode {
	char		 name[CFG_NAME_MAX];
	int64_t		 lease;
	int64_t		 rev;		/* last change applied */
	int		 present;
	int		 healthy;	/* value is "healthy" */
};

/* A pool key and/or a mark, as seen in etcd. */
struct vip {
	struct yaim_addr addr;
	int		 in_pool;
	int64_t		 pool_rev;
	int		 marked;
	int		 holder_ok;	/* holder is a valid node name */
	char		 holder[CFG_NAME_MAX];
	int64_t		 mark_lease;
	int64_t		 mark_rev;
};

/* A refusal key as seen in etcd. */
struct vref {
	char		 node[CFG_NAME_MAX];
	struct yaim_addr addr;
	int64_t		 lease;
	int64_t		 rev;
	int		 present;
};

/* An IP our parent refused, and why (the value we publish). */
struct own_refusal {
	struct yaim_addr addr;
	char		 why[48];
};

/* A refusal key write in flight. */
struct ref_op {
	struct yaim_addr addr;
	int		 put;		/* else delete */
};

/* An IP this node is doing something with. */
struct held {
	struct yaim_addr addr;
	enum mark_state	 mark;
	int64_t		 mark_rev;	/* revision of our claim */
	enum par_state	 par;
	int		 release;	/* delete the mark once down */
	int		 readd;		/* add again once down */
	int		 del_wait;	/* delete waits for a free slot */
	int		 ref_put;	/* the delete publishes a refusal too */
	struct etcd_req	*req;		/* claim or delete in flight */
};

struct warn_slot {
	uint64_t	 hash;
	uint64_t	 when;
};

struct engine {
	struct event_base	*base;
	struct engine_ops	 ops;
	struct yaim_config	*conf;
	const struct yaim_blobs	*blobs;
	struct etcd_client	*client;

	int			 healthy;
	int			 link_up;
	int			 shutdown;
	int			 released;

	enum lease_state	 lstate;
	int64_t			 lease;
	int64_t			 ttl;		/* seconds, granted */
	int64_t			 stale_lease;	/* revoke before a new grant */
	uint64_t		 t_sent;	/* last good keepalive sent */
	enum node_state		 nstate;
	struct etcd_req		*grant_req, *ka_req, *revoke_req, *node_req;
	struct etcd_req		*stale_req;

	/* the view */
	struct vnode		*nodes;
	size_t			 nnodes, nodes_cap;
	struct vip		*vips;		/* sorted by address */
	size_t			 nvips, vips_cap;
	struct vref		*refs;		/* sorted by node, address */
	size_t			 nrefs, refs_cap;
	int64_t			 view_rev;
	int			 have_view;

	struct etcd_req		*range_req;
	int			 reread;	/* read again after this one */
	struct etcd_watch	*watch;

	struct held		**held;
	size_t			 nheld, held_cap;
	size_t			 inflight;	/* claims and deletes */
	size_t			 window;	/* how many may be in flight */
	int			 warned_max;
	struct imsg_networks	 pnets;		/* allowed by the parent */
	int			 have_pnets;
	struct own_refusal	*refused;	/* by our parent */
	size_t			 nrefused;
	struct etcd_req		*ref_req;	/* refusal keys */
	struct ref_op		 ref_ops[REF_TXN_OPS];	/* in ref/node_req */
	size_t			 nref_ops;
	size_t			 ref_txn_max;	/* lowered if etcd says so */

	struct event		*kick_ev, *ka_ev, *fence_ev, *leave_ev;
	struct event		*interval_ev, *read_ev, *retry_ev;

	struct warn_slot	 warned[WARN_SLOTS];
};

static struct engine	 E;
/* Reports that arrive before engine_start (kept across its memset). */
static int		 early_healthy, early_link_up = 1, early_have_pnets;
static struct imsg_networks early_pnets;

static void	kick(void);
static void	read_later(uint64_t);
static void	release_ip(struct held *);
static void	lease_gone(void);
static uint64_t	fence_margin(void);

/* ---- small helpers ---- */

static void
arm(struct event *ev, uint64_t ms)
{
	struct timeval	 tv = ms_to_tv(ms);

	evtimer_add(ev, &tv);
}

static const char *
ntop(const struct yaim_addr *a)
{
	static char	 buf[4][YAIM_ADDRSTRLEN];
	static int	 i;

	i = (i + 1) % 4;
	return yaim_addr_ntop(a, buf[i], sizeof(buf[i]));
}

static void *
grow(void *v, size_t *cap, size_t need, size_t size)
{
	size_t	 ncap;
	void	*nv;

	if (need <= *cap)
		return v;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	if ((nv = reallocarray(v, ncap, size)) == NULL)
		fatal("%s", __func__);
	*cap = ncap;
	return nv;
}

static int
member_wanted(void)
{
	return E.healthy && E.link_up && !E.shutdown;
}

/*
 * 1 if (key, topic) was not warned about in the last WARN_EVERY_MS, and
 * note it now; bounded memory: the slot of the oldest warning is reused.
 */
static int
warn_due(const char *key, size_t len, unsigned char topic)
{
	uint64_t	 h = 0xcbf29ce484222325ULL, now = mono_ms();
	size_t		 i, oldest = 0;

	h = (h ^ topic) * 0x100000001b3ULL;
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 0x100000001b3ULL;
	for (i = 0; i < WARN_SLOTS; i++) {
		if (E.warned[i].hash == h && E.warned[i].when != 0) {
			if (now - E.warned[i].when < WARN_EVERY_MS)
				return 0;
			oldest = i;
			break;
		}
		if (E.warned[i].when < E.warned[oldest].when)
			oldest = i;
	}
	E.warned[oldest].hash = h;
	E.warned[oldest].when = now ? now : 1;
	return 1;
}

/* One warning per key per WARN_EVERY_MS about a key we ignore. */
static void
warn_key(const char *key, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
warn_key(const char *key, size_t len, const char *fmt, ...)
{
	char		 msg[256];
	va_list		 ap;

	if (!warn_due(key, len, 0))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("ignoring etcd key \"%.*s\"%s: %s", len > 200 ? 200 :
	    (int)len, key, len > 200 ? "..." : "", msg);
}

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

static struct vip *
vip_get(const struct yaim_addr *addr)
{
	ssize_t	 i = vip_find(addr, NULL);

	return i < 0 ? NULL : &E.vips[i];
}

static struct vip *
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

static struct vnode *
vnode_get(const char *name)
{
	size_t	 i;

	for (i = 0; i < E.nnodes; i++)
		if (strcmp(E.nodes[i].name, name) == 0)
			return &E.nodes[i];
	return NULL;
}

static struct vnode *
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

static struct vref *
vref_get(const char *node, const struct yaim_addr *addr)
{
	ssize_t	 i = vref_find(node, addr, NULL);

	return i < 0 ? NULL : &E.refs[i];
}

static struct vref *
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

/* Our published refusal of a, on our current lease. */
static int
ref_published(const struct yaim_addr *a)
{
	const struct vref	*r = vref_get(E.conf->nodename, a);

	return r != NULL && r->present && E.lease != 0 && r->lease == E.lease;
}

/*
 * Inside the networks our parent allows: allowed-networks, and (as the
 * parent told us) the interface's prefixes when that key is not set.
 * Without a complete list from the parent, the parent's refusals say.
 */
static int
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
		n->present = put;
		n->lease = put ? kv->lease : 0;
		n->healthy = put && kv->value_len == strlen("healthy") &&
		    memcmp(kv->value, "healthy", kv->value_len) == 0;
		return 1;
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

static int
mark_is_ours(const struct vip *v)
{
	return v != NULL && v->marked && E.lease != 0 &&
	    v->mark_lease == E.lease;
}

/* ---- held entries ---- */

static struct held *
held_get(const struct yaim_addr *a)
{
	size_t	 i;

	for (i = 0; i < E.nheld; i++)
		if (yaim_addr_cmp(&E.held[i]->addr, a) == 0)
			return E.held[i];
	return NULL;
}

static struct held *
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
static void
held_cancel(struct held *h)
{
	if (h->req == NULL)
		return;
	etcd_req_cancel(h->req);
	h->req = NULL;
	E.inflight--;
}

/* Free entries with nothing left to do. */
static void
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
static const char *
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

/* ---- talking to the parent ---- */

static void
parent_add(struct held *h)
{
	struct imsg_addr_req	 req;

	if (h->par == P_REMOVING) {
		h->readd = 1;
		return;
	}
	if (h->par != P_NONE)
		return;
	memset(&req, 0, sizeof(req));
	snprintf(req.ifname, sizeof(req.ifname), "%s", E.conf->interface);
	req.addr = h->addr;
	h->par = P_ADDING;
	E.ops.addr_req(IMSG_ADDR_ADD, &req, E.ops.arg);
}

static void
parent_del(struct held *h)
{
	struct imsg_addr_req	 req;

	h->readd = 0;
	if (h->par != P_ADDING && h->par != P_UP)
		return;
	memset(&req, 0, sizeof(req));
	snprintf(req.ifname, sizeof(req.ifname), "%s", E.conf->interface);
	req.addr = h->addr;
	h->par = P_REMOVING;
	E.ops.addr_req(IMSG_ADDR_DEL, &req, E.ops.arg);
}

/* Tell the parent the complete set it should hold now. */
static void
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

/* Every address down, at once.  Returns how many answers to wait for. */
static size_t
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

static size_t
removals_pending(void)
{
	size_t	 i, n = 0;

	for (i = 0; i < E.nheld; i++)
		if (E.held[i]->par == P_REMOVING)
			n++;
	return n;
}

/* ---- refusal keys ---- */

#define REF_KEY_MAX	(sizeof(((struct yaim_config *)0)->prefix) + \
			    sizeof(KEYS_REFUSED_DIR) + CFG_NAME_MAX + \
			    YAIM_ADDRSTRLEN + 2)

static void
ref_key(char *buf, size_t len, const struct yaim_addr *a)
{
	snprintf(buf, len, "%s%s%s/%s", E.conf->prefix, KEYS_REFUSED_DIR,
	    E.conf->nodename, ntop(a));
}

/* Fill the etcd op for a refusal write; key holds REF_KEY_MAX bytes. */
static void
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
static void
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
static size_t
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
static void
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
static void
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

/* ---- marks: claim and delete ---- */

/*
 * Back-pressure.  etcd answers a lease keepalive only once it has applied
 * what it committed before, so a backlog of our claims (and every other
 * node's) delays the keepalive, and a keepalive later than the fencing
 * deadline drops every address.  So halve the window when an answer takes
 * more than an eighth of what fencing allows (TTL - margin), and widen it
 * by one when answers are fast again.
 */
static void
window_adapt(uint64_t sent_ms)
{
	uint64_t	 rtt = mono_ms() - sent_ms, budget;

	if (E.ttl <= 0)
		return;
	budget = (uint64_t)E.ttl * 1000 - fence_margin();
	if (rtt > budget / 8 && E.window > 1) {
		E.window /= 2;
		log_debug("etcd answered in %" PRIu64 " ms; %zu claims or "
		    "deletes in flight at most", rtt, E.window);
	} else if (rtt < budget / 32 && E.window < MARK_INFLIGHT_MAX)
		E.window++;
}

static void
claim_done(const struct etcd_result *res, void *arg)
{
	struct held	*h = arg;
	struct vip	*v;

	h->req = NULL;
	E.inflight--;
	window_adapt(res->sent_ms);
	if (res->status != ETCD_OK) {
		/* It may have been applied: the re-read will tell. */
		log_warnx("%s: claim of %s: %s", __func__, ntop(&h->addr),
		    res->error);
		h->mark = M_NONE;
		read_later(RETRY_MS);
	} else if (!res->succeeded) {
		log_debug("%s: lost the race for %s", __func__,
		    ntop(&h->addr));
		h->mark = M_NONE;
		read_later(1 + arc4random_uniform(RACE_JITTER_MS));
	} else {
		h->mark = M_OURS;
		h->mark_rev = res->revision;
		v = vip_upsert(&h->addr);
		if (res->revision > v->mark_rev) {
			v->marked = 1;
			v->mark_rev = res->revision;
			v->mark_lease = E.lease;
			v->holder_ok = 1;
			snprintf(v->holder, sizeof(v->holder), "%s",
			    E.conf->nodename);
		}
		log_info("claimed %s", ntop(&h->addr));
		if (E.lstate == L_ACTIVE)
			parent_add(h);
	}
	held_gc();
	kick();
}

static void
claim(struct held *h)
{
	char			 key[ETCD_MAX_KEY];
	struct etcd_compare	 cmp;
	struct etcd_op		 put;
	struct etcd_txn		 txn;

	if (E.inflight >= E.window)
		return;		/* an answer starts the next round */
	snprintf(key, sizeof(key), "%sips/%s%s", E.conf->prefix,
	    ntop(&h->addr), KEYS_MARK_SUFFIX);
	memset(&cmp, 0, sizeof(cmp));
	cmp.key = key;
	cmp.target = ETCD_CMP_CREATE;
	cmp.op = ETCD_CMP_EQUAL;
	cmp.number = 0;
	memset(&put, 0, sizeof(put));
	put.kind = ETCD_OP_PUT;
	put.key = key;
	put.value = E.conf->nodename;
	put.lease = E.lease;
	memset(&txn, 0, sizeof(txn));
	txn.compare = &cmp;
	txn.n_compare = 1;
	txn.success = &put;
	txn.n_success = 1;
	if ((h->req = etcd_txn(E.client, &txn, claim_done, h)) == NULL) {
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

	h->req = NULL;
	E.inflight--;
	window_adapt(res->sent_ms);
	if (res->status != ETCD_OK) {
		log_warnx("%s: releasing the mark of %s: %s", __func__,
		    ntop(&h->addr), res->error);
		/* Still ours as far as we know: the next round decides
		 * again (release, or keep and put the address back). */
		h->mark = M_OURS;
		h->release = 0;
		h->ref_put = 0;
		read_later(RETRY_MS);
		return;
	}
	if (res->succeeded) {
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
 * Delete our mark.  If we refuse the IP (our parent said no), the same
 * txn publishes the refusal: the others must not see the IP free before
 * they know we will not take it, or they would leave it to us.
 */
static void
delete_mark(struct held *h)
{
	char			 key[ETCD_MAX_KEY], rkey[REF_KEY_MAX];
	struct etcd_compare	 cmp;
	struct etcd_op		 ops[2];
	struct ref_op		 ro;
	struct etcd_txn		 txn;

	if (h->mark != M_OURS || h->req != NULL || E.lstate != L_ACTIVE)
		return;
	if (E.inflight >= E.window) {
		h->del_wait = 1;
		return;
	}
	h->del_wait = 0;
	snprintf(key, sizeof(key), "%sips/%s%s", E.conf->prefix,
	    ntop(&h->addr), KEYS_MARK_SUFFIX);
	memset(&cmp, 0, sizeof(cmp));
	cmp.key = key;
	cmp.target = ETCD_CMP_LEASE;
	cmp.op = ETCD_CMP_EQUAL;
	cmp.number = E.lease;
	memset(ops, 0, sizeof(ops));
	ops[0].kind = ETCD_OP_DELETE;
	ops[0].key = key;
	ro.addr = h->addr;
	ro.put = 1;
	h->ref_put = self_refuses(&h->addr) != NULL &&
	    !ref_published(&h->addr);
	if (h->ref_put)
		ref_etcd_op(&ro, rkey, &ops[1]);
	memset(&txn, 0, sizeof(txn));
	txn.compare = &cmp;
	txn.n_compare = 1;
	txn.success = ops;
	txn.n_success = h->ref_put ? 2 : 1;
	if ((h->req = etcd_txn(E.client, &txn, delete_done, h)) == NULL) {
		log_warn("%s: %s", __func__, ntop(&h->addr));
		return;
	}
	E.inflight++;
	h->mark = M_DELETING;
}

/* Address down first, then the mark. */
static void
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
			/* Expected while our revoke is deleting them. */
			if (E.lstate == L_ACTIVE)
				log_warnx("%s: the mark of %s is gone (deleted "
				    "by someone else?); dropping the address",
				    __func__, ntop(&h->addr));
			h->mark = M_NONE;
			h->release = 0;
			parent_del(h);
		} else if (h->mark == M_NONE && mark_is_ours(v) &&
		    E.lstate == L_ACTIVE) {
			log_info("%s: adopting the mark of %s on our lease",
			    __func__, ntop(&h->addr));
			h->mark = M_OURS;
		}
	}
	if (E.lstate != L_ACTIVE)
		return;
	for (i = 0; i < E.nvips; i++)
		if (mark_is_ours(&E.vips[i]) &&
		    held_get(&E.vips[i].addr) == NULL) {
			log_info("%s: adopting the mark of %s on our lease",
			    __func__, ntop(&E.vips[i].addr));
			held_new(&E.vips[i].addr)->mark = M_OURS;
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

/*
 * Every refusal assign must honour: ours as we know them (published or
 * not yet), and the others' published ones on their node key's lease.
 * ref holds E.nvips + E.nrefs entries.  Returns how many.
 */
static size_t
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
static void
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
	for (i = 0; i < res.nclaim; i++) {
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
		if (h->mark == M_OURS && !h->release && h->par == P_NONE)
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

static void
round_run(void)
{
	struct vip	*v;
	size_t		 i;

	if (!E.have_view)
		return;
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
}

/* ---- reading and watching ---- */

static void	watch_start(void);

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
			v->holder_ok = ov[i].holder_ok;
			memcpy(v->holder, ov[i].holder, sizeof(v->holder));
		}
		if (ov[i].pool_rev > rev) {
			v->in_pool = ov[i].in_pool;
			v->pool_rev = ov[i].pool_rev;
		}
	}
	for (i = 0; i < non; i++) {
		if (on[i].rev <= rev)
			continue;
		n = vnode_upsert(on[i].name);
		*n = on[i];
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
	/* ...except what we learned after it was served. */
	view_keep_newer(old_vips, nold_vips, old_nodes, nold_nodes,
	    res->revision);
	refs_keep_newer(old_refs, nold_refs, res->revision);
	free(old_vips);
	free(old_nodes);
	free(old_refs);
	for (i = 0; i < E.nvips; i++) {
		char	 key[ETCD_MAX_KEY];
		int	 len;

		if (!E.vips[i].marked || E.vips[i].in_pool)
			continue;
		len = snprintf(key, sizeof(key), "%sips/%s%s",
		    E.conf->prefix, ntop(&E.vips[i].addr), KEYS_MARK_SUFFIX);
		warn_key(key, (size_t)len, "a mark without its pool key (held "
		    "by %s) does not put %s in the pool",
		    E.vips[i].holder_ok ? E.vips[i].holder : "?",
		    ntop(&E.vips[i].addr));
	}
	E.view_rev = res->revision;
	E.have_view = 1;
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

static void
read_now(void)
{
	if (E.client == NULL || E.released)
		return;
	if (E.range_req != NULL) {
		E.reread = 1;
		return;
	}
	E.range_req = etcd_range(E.client, E.conf->prefix, 1, 0, range_done,
	    NULL);
	if (E.range_req == NULL) {
		log_warn("%s: etcd_range", __func__);
		read_later(RETRY_MS);
	}
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	read_now();
}

/* Read after ms; an earlier pending read wins. */
static void
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

static void
interval_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	read_now();
	arm(E.interval_ev, E.conf->interval_ms);
}

static void
watch_events(const struct etcd_event *ev, size_t n, int64_t revision,
    void *arg)
{
	size_t	 i;
	int	 changed = 0, node_deleted = 0;

	(void)arg;
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
		E.watch = NULL;
		read_later(0);
		return;
	default:
		log_warnx("%s: watch %s: %s", __func__,
		    etcd_status_name(res->status), res->error);
		E.watch = NULL;
		read_later(WATCH_RETRY_MS);
		return;
	}
}

static void
watch_start(void)
{
	struct etcd_watch_opts	 o;

	etcd_watch_stop(E.watch);
	memset(&o, 0, sizeof(o));
	o.key = E.conf->prefix;
	o.prefix = 1;
	o.start_revision = E.view_rev + 1;
	E.watch = etcd_watch_start(E.client, &o, watch_events, watch_status,
	    NULL);
	if (E.watch == NULL) {
		log_warn("%s: etcd_watch_start", __func__);
		read_later(RETRY_MS);
	}
}

static void
endpoint_changed(const char *endpoint, void *arg)
{
	(void)arg;
	log_info("etcd endpoint is now %s; reading again", endpoint);
	read_later(0);
}

/* ---- the lease ---- */

static void	keepalive_cb(evutil_socket_t, short, void *);

static uint64_t
fence_margin(void)
{
	uint64_t	 ttl_ms = (uint64_t)E.ttl * 1000;

	if (E.conf->fence_margin_ms < ttl_ms / 2)
		return E.conf->fence_margin_ms;
	return ttl_ms / 2;
}

static void
fence_arm(void)
{
	uint64_t	 deadline, now = mono_ms();

	deadline = E.t_sent + (uint64_t)E.ttl * 1000 - fence_margin();
	arm(E.fence_ev, deadline > now ? deadline - now : 0);
}

static void
fence_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (E.lstate != L_ACTIVE && E.lstate != L_LEAVING)
		return;
	log_warnx("FENCING: no keepalive of lease %" PRIx64 " succeeded "
	    "for %" PRIu64 " ms (TTL %" PRId64 " s, margin %" PRIu64 " ms); "
	    "dropping every address and taking the lease as lost",
	    (uint64_t)E.lease, mono_ms() - E.t_sent, E.ttl, fence_margin());
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
		fence_arm();
		arm(E.ka_ev, (uint64_t)E.ttl * 1000 / 3);
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

static void
keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if ((E.lstate != L_ACTIVE && E.lstate != L_LEAVING) ||
	    E.ka_req != NULL)
		return;
	E.ka_req = etcd_lease_keepalive(E.client, E.lease, keepalive_done,
	    NULL);
	if (E.ka_req == NULL) {
		log_warn("%s", __func__);
		arm(E.ka_ev, KA_RETRY_MS);
	}
}

/* The lease is revoked, expired or fenced: forget everything on it. */
static void
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
		etcd_req_cancel(E.ka_req);
	if (E.node_req != NULL)
		etcd_req_cancel(E.node_req);
	if (E.ref_req != NULL)
		etcd_req_cancel(E.ref_req);
	E.ka_req = E.node_req = E.ref_req = NULL;
	E.nref_ops = 0;
	evtimer_del(E.ka_ev);
	evtimer_del(E.fence_ev);
	evtimer_del(E.leave_ev);
	E.lease = 0;
	E.lstate = L_NONE;
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
	E.lease = res->lease_id;
	E.ttl = res->ttl;
	E.t_sent = res->sent_ms;
	E.lstate = L_ACTIVE;
	if (res->ttl != want)
		log_info("etcd granted lease %" PRIx64 " with TTL %" PRId64
		    " s instead of the %" PRId64 " s asked for", (uint64_t)
		    E.lease, res->ttl, want);
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
	fence_arm();
	arm(E.ka_ev, (uint64_t)E.ttl * 1000 / 3);
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

static void
lease_get(void)
{
	int64_t	 ttl = (E.conf->ttl_ms + 999) / 1000;

	if (E.stale_lease != 0) {
		/* Our own earlier lease (fenced): its marks are in the way. */
		if (E.stale_req == NULL)
			E.stale_req = etcd_lease_revoke(E.client,
			    E.stale_lease, stale_done, NULL);
		return;
	}
	E.grant_req = etcd_lease_grant(E.client, ttl, grant_done, NULL);
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

static void
revoke(void)
{
	evtimer_del(E.leave_ev);
	E.lstate = L_REVOKING;
	E.revoke_req = etcd_lease_revoke(E.client, E.lease, revoke_done,
	    NULL);
	if (E.revoke_req == NULL) {
		log_warn("%s", __func__);
		E.stale_lease = E.lease;
		lease_gone();
		kick();
	}
}

static void
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
static void
leave(void)
{
	size_t	 i;

	log_info("leaving the cluster (%s)", E.shutdown ? "shutdown" :
	    !E.link_up ? "link down" : "unhealthy");
	for (i = 0; i < E.nheld; i++)
		if (E.held[i]->req != NULL) {
			held_cancel(E.held[i]);
			/* A claim may have landed: the revoke removes it. */
			E.held[i]->mark = M_NONE;
		}
	if (E.node_req != NULL) {
		etcd_req_cancel(E.node_req);
		E.node_req = NULL;
	}
	if (E.ref_req != NULL) {
		etcd_req_cancel(E.ref_req);
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

/*
 * Create the node key, with the refusals we know of (up to REF_TXN_OPS
 * - 1; refusals_sync() writes the rest): the others see both at once.
 */
static void
node_put(void)
{
	char			 key[ETCD_MAX_KEY];
	char			(*keys)[REF_KEY_MAX];
	struct etcd_compare	 cmp;
	struct etcd_op		 ops[REF_TXN_OPS], get;
	struct etcd_txn		 txn;
	size_t			 i;

	snprintf(key, sizeof(key), "%snodes/%s", E.conf->prefix,
	    E.conf->nodename);
	memset(&cmp, 0, sizeof(cmp));
	cmp.key = key;
	cmp.target = ETCD_CMP_CREATE;
	cmp.op = ETCD_CMP_EQUAL;
	if (E.ref_req != NULL) {
		/* Written for an earlier node key: the plan starts over. */
		etcd_req_cancel(E.ref_req);
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
	memset(&txn, 0, sizeof(txn));
	txn.compare = &cmp;
	txn.n_compare = 1;
	txn.success = ops;
	txn.n_success = 1 + E.nref_ops;
	txn.failure = &get;
	txn.n_failure = 1;
	E.node_req = etcd_txn(E.client, &txn, node_done, NULL);
	free(keys);
	if (E.node_req == NULL) {
		log_warn("%s", __func__);
		E.nref_ops = 0;
		arm(E.retry_ev, RETRY_MS);
		return;
	}
	E.nstate = N_PUTTING;
}

/* ---- the state machine ---- */

static void
released_now(void)
{
	if (E.released)
		return;
	E.released = 1;
	evtimer_del(E.interval_ev);
	evtimer_del(E.read_ev);
	evtimer_del(E.retry_ev);
	etcd_watch_stop(E.watch);
	E.watch = NULL;
	if (E.range_req != NULL)
		etcd_req_cancel(E.range_req);
	E.range_req = NULL;
	log_info("released: left the cluster");
	E.ops.released(E.ops.arg);
}

static void
step(void)
{
	if (E.client == NULL || E.released)
		return;
	if (!member_wanted()) {
		switch (E.lstate) {
		case L_GRANTING:
			/* A lease granted meanwhile expires on its own. */
			etcd_req_cancel(E.grant_req);
			E.grant_req = NULL;
			E.lstate = L_NONE;
			break;
		case L_ACTIVE:
			leave();
			break;
		default:
			break;
		}
		if (E.lstate == L_NONE) {
			if (E.stale_req != NULL) {
				etcd_req_cancel(E.stale_req);
				E.stale_req = NULL;
			}
			if (E.shutdown)
				released_now();
		}
		round_run();
		return;
	}
	if (E.lstate == L_NONE && !evtimer_pending(E.retry_ev, NULL))
		lease_get();
	if (E.lstate == L_ACTIVE && E.nstate == N_OUT && E.have_view &&
	    E.have_pnets)
		node_put();
	round_run();
}

static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	step();
}

static void
kick(void)
{
	event_active(E.kick_ev, EV_TIMEOUT, 1);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	kick();
}

/* ---- the API ---- */

static int
client_make(void)
{
	char	 err[256];

	E.client = etcd_client_new(E.base, E.conf, E.blobs, arc4random(),
	    err, sizeof(err));
	if (E.client == NULL) {
		log_warnx("%s: %s", __func__, err);
		return -1;
	}
	etcd_client_on_endpoint_change(E.client, endpoint_changed, NULL);
	return 0;
}

int
engine_start(struct event_base *base, const struct yaim_config *conf,
    const struct yaim_blobs *blobs, const struct engine_ops *ops)
{
	memset(&E, 0, sizeof(E));
	E.base = base;
	E.ops = *ops;
	E.blobs = blobs;
	E.healthy = early_healthy;
	E.link_up = early_link_up;
	E.pnets = early_pnets;
	E.have_pnets = early_have_pnets;
	E.ref_txn_max = REF_TXN_OPS;
	E.window = MARK_INFLIGHT_MAX;
	if ((E.conf = malloc(sizeof(*E.conf))) == NULL)
		fatal("%s", __func__);
	memcpy(E.conf, conf, sizeof(*E.conf));
	if ((E.kick_ev = event_new(base, -1, 0, kick_cb, NULL)) == NULL ||
	    (E.ka_ev = evtimer_new(base, keepalive_cb, NULL)) == NULL ||
	    (E.fence_ev = evtimer_new(base, fence_cb, NULL)) == NULL ||
	    (E.leave_ev = evtimer_new(base, leave_timeout, NULL)) == NULL ||
	    (E.interval_ev = evtimer_new(base, interval_cb, NULL)) == NULL ||
	    (E.read_ev = evtimer_new(base, read_cb, NULL)) == NULL ||
	    (E.retry_ev = evtimer_new(base, retry_cb, NULL)) == NULL)
		fatal("%s: event_new", __func__);
	if (client_make() == -1)
		return -1;
	log_info("dcs engine: node %s, prefix %s, %u endpoint(s), TTL %u ms, "
	    "interval %u ms, fence margin %u ms; unhealthy until the first "
	    "healthy report", conf->nodename, conf->prefix,
	    conf->n_endpoints, conf->ttl_ms, conf->interval_ms,
	    conf->fence_margin_ms);
	read_now();
	arm(E.interval_ev, E.conf->interval_ms);
	return 0;
}

void
engine_reconfigure(const struct yaim_config *conf,
    const struct yaim_blobs *blobs)
{
	struct yaim_config	*old = E.conf;
	size_t			 i;

	if (E.client == NULL || E.released)
		return;
	if ((E.conf = malloc(sizeof(*E.conf))) == NULL)
		fatal("%s", __func__);
	memcpy(E.conf, conf, sizeof(*E.conf));
	E.blobs = blobs;
	/* Everything in flight is forgotten; the re-read says the truth. */
	etcd_watch_stop(E.watch);
	E.watch = NULL;
	etcd_client_free(E.client);
	E.client = NULL;
	E.range_req = E.ka_req = E.node_req = E.stale_req = E.ref_req = NULL;
	E.nref_ops = 0;
	/* The parent may accept them now (say, a new allowed-networks). */
	if (E.nrefused > 0)
		log_info("forgetting %zu refusal(s) of the parent; it will "
		    "say again what it refuses", E.nrefused);
	free(E.refused);
	E.refused = NULL;
	E.nrefused = 0;
	for (i = 0; i < E.nheld; i++) {
		struct held	*h = E.held[i];

		if (h->req == NULL)
			continue;
		h->req = NULL;
		E.inflight--;
		h->mark = h->mark == M_DELETING ? M_OURS : M_NONE;
	}
	if (E.grant_req != NULL) {
		E.grant_req = NULL;
		E.lstate = L_NONE;
	}
	if (E.revoke_req != NULL) {
		E.revoke_req = NULL;
		E.stale_lease = E.lease;
		lease_gone();
	}
	if (E.nstate == N_PUTTING)
		E.nstate = N_OUT;
	explicit_bzero(old, sizeof(*old));
	free(old);
	if (client_make() == -1)
		fatalx("%s: cannot make an etcd client for the new config",
		    __func__);
	log_info("dcs engine reconfigured: TTL %u ms (from the next lease), "
	    "interval %u ms", E.conf->ttl_ms, E.conf->interval_ms);
	if (E.lstate == L_ACTIVE || E.lstate == L_LEAVING)
		arm(E.ka_ev, 0);
	arm(E.interval_ev, E.conf->interval_ms);
	read_later(0);
	held_gc();
	kick();
}

void
engine_health(const struct imsg_health *h)
{
	int	 healthy = h->healthy != 0;

	if (E.base == NULL) {
		early_healthy = healthy;
		return;
	}
	if (healthy == E.healthy)
		return;
	E.healthy = healthy;
	if (healthy)
		log_info("node is healthy");
	else
		log_info("node is unhealthy: %s (%s)", health_reason_name(
		    h->reason), h->text);
	/* Leaving must not wait for the next loop pass. */
	step();
}

void
engine_link_state(const struct imsg_link_state *ls)
{
	int	 up = ls->up != 0;

	if (E.base == NULL) {
		early_link_up = up;
		return;
	}
	if (up == E.link_up)
		return;
	E.link_up = up;
	log_info("link is %s", up ? "up" : "down; leaving the cluster");
	step();
}

void
engine_networks(const struct imsg_networks *nw)
{
	char		 buf[YAIM_ADDRSTRLEN + 4];
	uint32_t	 i;

	if (E.base == NULL) {
		early_pnets = *nw;
		early_have_pnets = 1;
		return;
	}
	if (E.have_pnets && memcmp(&E.pnets, nw, sizeof(*nw)) == 0)
		return;
	E.pnets = *nw;
	E.have_pnets = 1;
	if (!nw->complete)
		log_info("the parent allows more networks than it can tell; "
		    "learning its refusals from its answers");
	else
		log_info("the parent allows %u network(s)", nw->n);
	for (i = 0; i < nw->n; i++)
		log_debug("allowed: %s/%u", yaim_addr_ntop(&nw->net[i], buf,
		    sizeof(buf)), nw->net[i].prefixlen);
	kick();
}

static void
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

void
engine_addr_state(const struct imsg_addr_state *as)
{
	struct held	*h;

	if (E.base == NULL)
		return;		/* nothing asked for yet */
	h = held_get(&as->addr);
	switch (as->state) {
	case ADDR_UP:
		if (h != NULL && h->par == P_ADDING) {
			h->par = P_UP;
			log_debug("%s is up", ntop(&as->addr));
		}
		break;
	case ADDR_REFUSED:
		log_warnx("the parent refused %s: %s (%d); never claiming it "
		    "again, and publishing the refusal", ntop(&as->addr),
		    addr_refusal_name(as->refusal), as->detail);
		add_refusal(&as->addr, addr_refusal_name(as->refusal));
		if (h == NULL)
			break;
		h->par = P_NONE;
		h->readd = 0;
		if (h->mark == M_OURS) {
			h->release = 1;
			delete_mark(h);
		}
		break;
	case ADDR_DOWN:
		if (h == NULL)
			break;
		if (h->par != P_REMOVING)
			log_warnx("%s went down without being asked (%s, %d); "
			    "releasing it", ntop(&as->addr),
			    addr_refusal_name(as->refusal), as->detail);
		else
			log_debug("%s is down", ntop(&as->addr));
		h->par = P_NONE;
		if (h->readd && h->mark == M_OURS && !h->release &&
		    E.lstate == L_ACTIVE) {
			h->readd = 0;
			parent_add(h);
		} else if (h->mark == M_OURS) {
			h->readd = 0;
			h->release = 1;
			delete_mark(h);
		}
		break;
	default:
		log_warnx("%s: unknown state %u for %s", __func__, as->state,
		    ntop(&as->addr));
		return;
	}
	if (E.lstate == L_LEAVING && removals_pending() == 0)
		revoke();
	held_gc();
	kick();
}

void
engine_shutdown(void)
{
	if (E.base == NULL) {
		/* dcs.c answers for an engine that never started. */
		return;
	}
	log_info("shutdown: leaving the cluster");
	E.shutdown = 1;
	kick();
}
