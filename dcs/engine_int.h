/*
 * The dcs engine's private header: its state, shared by the files that
 * make it up (the way bgpd's rde.h serves rde*.c), and never included
 * outside dcs/engine*.c.
 *
 *   engine.c		the state machine (step) and the API (engine.h)
 *   engine_view.c	the view of etcd: the read, the watch, view_apply
 *   engine_lease.c	the lease, keepalives and fencing, leaving, the node key
 *   engine_marks.c	held addresses, the parent's messages, claims and deletes
 *   engine_refusals.c	what this node refuses, and the refused/ keys
 *   engine_round.c	the round: reconcile, then balance with assign
 *   engine_peers.c	the peer rule (DESIGN.md section 10) and the channel
 *
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
#ifndef YAIM_DCS_ENGINE_INT_H
#define YAIM_DCS_ENGINE_INT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "proto.h"
#include "dcs/assign.h"
#include "dcs/backend.h"
#include "dcs/engine.h"
#include "dcs/etcd.h"
#include "dcs/keys.h"
#include "dcs/keyset.h"

#define LEAVE_WAIT_MS		1000	/* parent's ADDR_DOWN answers */
#define RETRY_MS		1000	/* after a failed grant/read */
#define WATCH_RETRY_MS		200	/* after a failed or broken watch */
/*
 * A full read this often (jittered 75..125 %) even when every check of
 * the watch agreed (DESIGN.md 4.3): the checks prove the watch complete,
 * this bounds the damage of a bug in them.
 */
#define FULL_READ_MS		(10u * 60 * 1000)
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
#define REF_KEY_MAX	(sizeof(((struct yaim_config *)0)->prefix) + \
			    sizeof(KEYS_REFUSED_DIR) + CFG_NAME_MAX + \
			    YAIM_ADDRSTRLEN + 2)

enum lease_state { L_NONE, L_GRANTING, L_ACTIVE, L_LEAVING, L_REVOKING };
enum node_state { N_OUT, N_PUTTING, N_IN, N_DUPLICATE, N_WITHDRAWING };
enum mark_state { M_NONE, M_CLAIMING, M_OURS, M_DELETING };
enum par_state { P_NONE, P_ADDING, P_UP, P_REMOVING };

/* A node key as seen in etcd. */
struct vnode {
	char		 name[CFG_NAME_MAX];
	int64_t		 lease;
	int64_t		 rev;		/* last change applied */
	int		 present;
	int		 healthy;	/* value is "healthy" */
	/* members/<name> and peers/<name> (DESIGN.md section 10) */
	int		 member;
	int64_t		 member_rev;
	int		 peer;
	int64_t		 peer_lease;
	int64_t		 peer_rev;
	size_t		 freed;		/* marks gone with its lease, not
					   yet told to the peer rule */
	int		 hb_connected;	/* its last heartbeat: reaches etcd */
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
	int64_t		 mark_create;	/* its create_revision: one mark */
	uint64_t	 mark_seen_ms;	/* mono_ms we first saw it */
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

struct engine_state {
	struct event_base	*base;
	struct engine_ops	 ops;
	struct yaim_config	*conf;
	const struct yaim_blobs	*blobs;
	const struct dcs_backend *be;		/* the store (backend.h) */
	struct etcd_client	*client;

	int			 healthy;
	int			 link_up;
	int			 shutdown;
	int			 released;
	int			 drained;	/* yaimctl drain */
	struct imsg_health	 health;	/* the last report */

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
	/* the check of the watch (DESIGN.md 4.3) */
	struct keyset		 ks;		/* keys as the watch has them */
	int64_t			 ks_rev;	/* ks is etcd at this revision */
	int64_t			 checked_rev;	/* ks agreed with etcd here */
	int64_t			 check_at;	/* the last check that agreed */
	int			 check_bad;	/* disagreements in a row */
	struct etcd_req		*check_req;
	uint64_t		 full_due_ms;	/* next full read, mono_ms */

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
	/* the cold start (DESIGN.md 4.4, dcs/settle.h) */
	struct event		*settle_ev;
	uint64_t		 grant_sent_ms, grant_rtt_ms, put_sent_ms;
	uint64_t		 join_cost_ms;	/* grant + node key RTTs */
	uint64_t		 join_ms;	/* our node key, mono_ms */
	int64_t			 join_rev;	/* its revision */
	uint64_t		 nodes_fp;	/* settle_fingerprint */
	uint64_t		 nodes_changed_ms;
	int			 settled;	/* may claim since join_ms */
	/* the window: answers to requests sent before its last cut */
	uint64_t		 window_cut_ms;

	struct warn_slot	 warned[WARN_SLOTS];
	struct engine_counters	 cnt;
};

/* The engine: one per dcs process, from engine_init() on. */
extern struct engine_state	 E;

/* engine.c: helpers, the state machine */
void	arm(struct event *ev, uint64_t ms);
void	*grow(void *v, size_t *cap, size_t need, size_t size);
void	kick(void);
void	node_key(char *buf, size_t len);
int	mark_key(char *buf, size_t len, const struct yaim_addr *a);
struct etcd_req	*txn_if(const char *key, enum etcd_cmp_target target,
		    int64_t number, const struct etcd_op *ok, size_t nok,
		    const struct etcd_op *fail, size_t nfail, etcd_cb cb,
		    void *arg);
void	step(void);
int	warn_due(const char *key, size_t len, unsigned char topic);
void	warn_key(const char *key, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* engine_view.c: the view, the read and the watch */
void	endpoint_changed(const char *endpoint, void *arg);
int	in_networks(const struct yaim_addr *a);
void	interval_cb(evutil_socket_t fd, short what, void *arg);
int	mark_is_ours(const struct vip *v);
void	read_cb(evutil_socket_t fd, short what, void *arg);
void	read_later(uint64_t ms);
void	read_now(void);
struct vip	*vip_get(const struct yaim_addr *addr);
struct vip	*vip_upsert(const struct yaim_addr *addr);
struct vnode	*vnode_get(const char *name);
struct vnode	*vnode_upsert(const char *name);
struct vref	*vref_get(const char *node, const struct yaim_addr *addr);
struct vref	*vref_upsert(const char *node, const struct yaim_addr *addr);

/* engine_refusals.c: refusals */
void	add_refusal(const struct yaim_addr *a, const char *why);
size_t	collect_refusals(struct assign_refusal *ref);
void	ref_applied(const struct yaim_addr *a, int put, int64_t rev);
void	ref_etcd_op(const struct ref_op *ro, char *key, struct etcd_op *op);
int	ref_published(const struct yaim_addr *a);
void	ref_txn_shrink(const struct etcd_result *res);
size_t	refusal_plan(struct ref_op *ops, size_t max);
void	refusals_sync(void);
const char	*self_refuses(const struct yaim_addr *a);
void	warn_unholdable(const struct assign_ip *pool, size_t np,
    const char **desired, size_t nn);

/* engine_marks.c: held addresses, the parent, claims and deletes */
void	claim(struct held *h);
void	delete_mark(struct held *h);
void	held_cancel(struct held *h);
void	held_gc(void);
struct held	*held_get(const struct yaim_addr *a);
struct held	*held_new(const struct yaim_addr *a);
void	parent_add(struct held *h);
void	parent_del(struct held *h);
size_t	parent_drop_all(void);
void	parent_hold_until(uint64_t until_ms);
void	parent_sync(void);
void	release_ip(struct held *h);
size_t	removals_pending(void);
void	window_adapt(uint64_t sent_ms);

/* engine_round.c: the round */
void	round_run(void);

/* engine_peers.c: the peer rule and the peer channel */
void	peers_init(struct event_base *base);
void	peers_start(void);
int	peers_on(void);
void	peers_decide(void);
uint64_t	peers_keepalive_ms(void);
void	peers_etcd_ok(int64_t lease, uint64_t sent_ms, int granted);
void	peers_lease_lost(void);
void	peers_full_read(void);
void	peers_update(void);
int	peers_may_join(void);
int	peers_may_claim(void);
int	peers_join_lost(void);
struct held;
int	peers_may_add(const struct held *h);
void	peers_client_gone(void);
void	peers_reconfigure(void);
void	peers_fence(void);

/* engine_lease.c: the lease, fencing, leaving, the node key */
void	fence_cb(evutil_socket_t fd, short what, void *arg);
void	fence_arm(void);
uint64_t	fence_margin(void);
void	keepalive_cb(evutil_socket_t fd, short what, void *arg);
void	lease_get(void);
void	lease_gone(void);
void	leave(void);
void	leave_timeout(evutil_socket_t fd, short what, void *arg);
void	node_put(void);
void	node_withdraw(void);
void	revoke(void);

#endif
