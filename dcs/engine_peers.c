/*
 * The peer rule (DESIGN.md section 10, dcs/peers_rule.h) wired to the
 * engine and to the peer channel (section 10a): heartbeats, the hold
 * deadline the parent enforces, revoking the lease of a silent peer, and
 * the gates on joining and on claiming.
 *
 * Peers are on when the config says so and the parent gave us the peer
 * socket; dcs-driver, and a node whose config says `peers: no`, run
 * without them, as before.  The choice is made once, before the first
 * lease, because the hold rule and the keepalive interval differ.
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
#include "dcs/peer_key.h"
#include "dcs/peer_net.h"
#include "dcs/peers_rule.h"

#define HB_TYPE		1	/* the one message type: a heartbeat */
#define HB_LEN		30	/* its payload: struct prule_msg */
#define KEY_RETRY_MS	1000
#define REVOKES_MAX	8	/* revokes of silent peers in flight */
#define FENCE_LEAD_MS	20	/* as in engine_lease.c */
#define TICK_MAX_MS	1000

struct peer_revoke {
	char		 name[CFG_NAME_MAX];
	int64_t		 lease;
	uint64_t	 sent;		/* mono_ms() at the request */
	struct etcd_req	*req;
};

/* The peer rule's state in the engine: one per dcs process. */
static struct engine_peers_state {
	int			 decided, on;
	struct prule		 pr;
	struct event		*hb_ev, *tick_ev, *key_ev;
	uint64_t		 hold_sent;	/* to the parent */
	uint64_t		 hold_rule;	/* the rule's, fence_ev's */
	size_t			 nheld_told;
	int64_t			 lease_told;
	int			 could_claim, was_ready;
	int			 was_connected;
	struct peer_key_req	*key_req;
	struct etcd_req		*reg_req;
	int64_t			 reg_lease;	/* member and peer keys */
	int64_t			 reg_sending;
	struct peer_revoke	 revokes[REVOKES_MAX];
} P;

static void	peers_send_all(int);
static void	peers_send_one(const char *name, int);

/* ---- the heartbeat's payload: struct prule_msg, big-endian ---- */

static void
put_be(uint8_t *p, uint64_t v, int bytes)
{
	while (bytes-- > 0) {
		p[bytes] = v & 0xff;
		v >>= 8;
	}
}

static uint64_t
get_be(const uint8_t *p, int bytes)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

static void
hb_encode(const struct prule_msg *m, uint8_t *b)
{
	put_be(b, m->lease, 8);
	put_be(b + 8, m->sent, 8);
	put_be(b + 16, m->echo, 8);
	put_be(b + 24, m->promise_ms, 4);
	b[28] = m->want_promise;
	b[29] = m->connected | m->want_echo << 1;
}

/* -1 if the payload is not a heartbeat's. */
static int
hb_decode(const uint8_t *b, size_t len, struct prule_msg *m)
{
	if (len != HB_LEN || b[28] > 1 || b[29] > 3)
		return -1;
	memset(m, 0, sizeof(*m));
	m->lease = get_be(b, 8);
	m->sent = get_be(b + 8, 8);
	m->echo = get_be(b + 16, 8);
	m->promise_ms = (uint32_t)get_be(b + 24, 4);
	m->want_promise = b[28];
	m->connected = b[29] & 1;
	m->want_echo = b[29] >> 1;
	return 0;
}

/* ---- the cluster key ---- */

static void	key_fetch(void);

static void
key_done(int ok, const uint8_t *key, size_t keylen, int created,
    const char *err, void *arg)
{
	(void)arg;
	P.key_req = NULL;
	if (!ok) {
		log_warnx("peers: the cluster key: %s; trying again", err);
		arm(P.key_ev, KEY_RETRY_MS);
		return;
	}
	if (!peer_net_has_key())
		peer_net_set_key(key, keylen);
	log_info("peers: %s the cluster key %speer-key", created ?
	    "stored" : "read", E.conf->prefix);
}

static void
key_fetch(void)
{
	if (P.key_req != NULL || peer_net_has_key() || E.client == NULL)
		return;
	P.key_req = peer_key_ensure(E.client, E.conf->prefix, key_done, NULL);
	if (P.key_req == NULL) {
		log_warn("%s", __func__);
		arm(P.key_ev, KEY_RETRY_MS);
	}
}

static void
key_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	key_fetch();
}

/* ---- receiving and sending ---- */

static void
recv_cb(const struct peer_msg *pm, void *arg)
{
	struct prule_msg	 m, before, after;
	struct vnode		*n;
	int			 lost;

	(void)arg;
	if (!P.on)
		return;
	if (pm->type != HB_TYPE || hb_decode(pm->payload, pm->payload_len,
	    &m) == -1) {
		if (warn_due(pm->sender, strlen(pm->sender), 1))
			log_warnx("peers: a message of type %u with %zu "
			    "bytes from %s is not a heartbeat; ignored",
			    pm->type, pm->payload_len, pm->sender);
		return;
	}
	prule_send(&P.pr, mono_ms(), pm->sender, &before);
	if (prule_recv(&P.pr, mono_ms(), pm->sender, &m) == -1) {
		if (warn_due(pm->sender, strlen(pm->sender), 2))
			log_warn("peers: a heartbeat from %s", pm->sender);
		return;
	}
	peers_update();
	/*
	 * A promise granted now, not on the message before: answer at once
	 * rather than at the next heartbeat.  With K = 250 ms and etcd lost
	 * by everyone within one keepalive period, a promise that waits up to
	 * two heartbeat intervals comes after the asker has fenced.  Only a
	 * new grant is answered, so two askers do not ping-pong.
	 */
	prule_send(&P.pr, mono_ms(), pm->sender, &after);
	/* The sender just lost etcd too: it can promise now, so ask. */
	n = vnode_get(pm->sender);
	lost = n != NULL && n->hb_connected && !m.connected;
	if (n != NULL)
		n->hb_connected = m.connected;
	/*
	 * A witness asked for (prule_witness_due at the sender): our
	 * answer echoes that message, so the sender may revoke a silent
	 * peer now rather than at our next heartbeat.  The answer never
	 * asks for one.
	 */
	if ((after.promise_ms > 0 && before.promise_ms == 0) ||
	    (lost && after.want_promise) || m.want_echo)
		peers_send_one(pm->sender, 0);
}

static void
peers_send_one(const char *name, int want_echo)
{
	struct prule_msg	 m;
	uint8_t			 b[HB_LEN];

	if (!peer_net_has_key())
		return;
	prule_send(&P.pr, mono_ms(), name, &m);
	m.want_echo = want_echo != 0;
	hb_encode(&m, b);
	(void)peer_net_send(name, HB_TYPE, b, sizeof(b));
}

static void
peers_send_all(int want_echo)
{
	size_t			 i;

	for (i = 0; i < E.nnodes; i++) {
		const struct vnode *n = &E.nodes[i];

		if (!n->peer || strcmp(n->name, E.conf->nodename) == 0)
			continue;
		peers_send_one(n->name, want_echo);
	}
}

static void
hb_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	arm(P.hb_ev, E.conf->peer_interval_ms);
	peers_update();
	peers_send_all(0);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	peers_update();
}

/* ---- revoking a silent peer's lease ---- */

static void
revoke_peer_done(const struct etcd_result *res, void *arg)
{
	struct peer_revoke	*r = arg;

	r->req = NULL;
	if (res->status == ETCD_OK || res->status == ETCD_NOT_FOUND) {
		log_warnx("peers: revoked lease %" PRIx64 " of %s, silent for "
		    "%u ms (etcd answered in %" PRIu64 " ms); its addresses "
		    "move once it must have fenced", (uint64_t)r->lease,
		    r->name, P.pr.conf.peer_timeout_ms, mono_ms() - r->sent);
		prule_revoked(&P.pr, mono_ms(), r->name);
	} else
		log_warnx("peers: revoking lease %" PRIx64 " of %s: %s",
		    (uint64_t)r->lease, r->name, res->error);
	r->name[0] = '\0';
	kick();
}

static void
revoke_peer(const char *name, int64_t lease)
{
	struct peer_revoke	*r = NULL;
	size_t			 i;

	for (i = 0; i < REVOKES_MAX; i++) {
		if (P.revokes[i].name[0] != '\0' &&
		    P.revokes[i].lease == lease)
			return;		/* in flight already */
		if (P.revokes[i].name[0] == '\0' && r == NULL)
			r = &P.revokes[i];
	}
	if (r == NULL || E.client == NULL)
		return;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->lease = lease;
	r->sent = mono_ms();
	log_debug("peers: revoking lease %" PRIx64 " of %s", (uint64_t)lease,
	    name);
	r->req = E.be->lease_revoke(E.client, lease, revoke_peer_done, r);
	if (r->req == NULL) {
		log_warn("%s: %s", __func__, name);
		r->name[0] = '\0';
	}
}

/* ---- joining: members/<me> and peers/<me> before the node key ---- */

static void
reg_done(const struct etcd_result *res, void *arg)
{
	(void)arg;
	P.reg_req = NULL;
	if (res->status != ETCD_OK) {
		log_warnx("peers: writing %smembers/%s: %s", E.conf->prefix,
		    E.conf->nodename, res->error);
		arm(E.retry_ev, RETRY_MS);
		return;
	}
	P.reg_lease = P.reg_sending;
	log_info("peers: registered as %s; joining once every member has "
	    "answered", E.conf->nodename);
	kick();
}

static void
reg_put(void)
{
	char		 mkey[ETCD_MAX_KEY], pkey[ETCD_MAX_KEY];
	char		 addr[YAIM_ADDRSTRLEN + 16];
	struct etcd_op	 ops[2];
	struct etcd_txn	 txn;
	size_t		 n = 0;

	snprintf(mkey, sizeof(mkey), "%s%s%s", E.conf->prefix,
	    KEYS_MEMBERS_DIR, E.conf->nodename);
	snprintf(pkey, sizeof(pkey), "%s%s%s", E.conf->prefix,
	    KEYS_PEERS_DIR, E.conf->nodename);
	memset(ops, 0, sizeof(ops));
	ops[n].kind = ETCD_OP_PUT;
	ops[n].key = mkey;
	ops[n++].value = "";
	if (peer_net_my_address(addr, sizeof(addr)) == 0) {
		ops[n].kind = ETCD_OP_PUT;
		ops[n].key = pkey;
		ops[n].value = addr;
		ops[n++].lease = E.lease;
	}
	memset(&txn, 0, sizeof(txn));
	txn.success = ops;
	txn.n_success = n;
	P.reg_sending = E.lease;
	P.reg_req = E.be->txn(E.client, &txn, reg_done, NULL);
	if (P.reg_req == NULL) {
		log_warn("%s", __func__);
		arm(E.retry_ev, RETRY_MS);
	}
}

/* ---- the API for the rest of the engine ---- */

void
peers_init(struct event_base *base)
{
	memset(&P, 0, sizeof(P));
	if ((P.hb_ev = evtimer_new(base, hb_cb, NULL)) == NULL ||
	    (P.tick_ev = evtimer_new(base, tick_cb, NULL)) == NULL ||
	    (P.key_ev = evtimer_new(base, key_cb, NULL)) == NULL)
		fatal("%s: event_new", __func__);
}

int
peers_on(void)
{
	return P.on;
}

/* Once, before the first lease. */
void
peers_decide(void)
{
	struct prule_conf	 c;

	if (P.decided)
		return;
	P.decided = 1;
	if (!E.conf->peers)
		return;
	if (!peer_net_running()) {
		log_warnx("peers: no peer socket from the parent; running "
		    "without peers (failover waits for the lease TTL)");
		return;
	}
	prule_defaults(&c);
	c.peer_timeout_ms = E.conf->peer_timeout_ms;
	c.failsafe = E.conf->failsafe != 0;
	c.wait_ms = prule_min_wait(&c);
	prule_init(&P.pr, &c, E.conf->nodename, mono_ms());
	/* A view read before the rule existed is a full read to it. */
	if (E.have_view)
		prule_full_read(&P.pr, mono_ms());
	P.on = 1;
	peer_net_set_recv(recv_cb, NULL);
	key_fetch();
	arm(P.hb_ev, 0);
	log_info("peers: on; hold %u ms past a keepalive, revoke after %u ms "
	    "of silence, claims wait %u ms after a lease ends, failsafe %s",
	    c.hold_ms, c.peer_timeout_ms, c.wait_ms, c.failsafe ? "on" :
	    "off");
}

uint64_t
peers_keepalive_ms(void)
{
	if (P.on)
		return P.pr.conf.hold_ms / 4;
	return (uint64_t)E.ttl * 1000 / 3;
}

/* A grant (granted) or a keepalive of lease, sent at sent_ms, succeeded. */
void
peers_etcd_ok(int64_t lease, uint64_t sent_ms, int granted)
{
	if (!P.on)
		return;
	peer_net_set_lease(lease);
	if (granted)
		prule_lease_granted(&P.pr, mono_ms(), (uint64_t)lease,
		    sent_ms);
	else
		prule_etcd_ok(&P.pr, mono_ms(), (uint64_t)lease, sent_ms);
	peers_update();
}

void
peers_lease_lost(void)
{
	if (!P.on)
		return;
	peer_net_set_lease(0);
	P.reg_lease = 0;
	prule_lease_lost(&P.pr, mono_ms());
	peers_update();
}

void
peers_full_read(void)
{
	if (!P.on)
		return;
	prule_full_read(&P.pr, mono_ms());
	peers_update();
}

/* Engine client replaced (reload): what was in flight is gone. */
void
peers_client_gone(void)
{
	size_t	 i;

	P.key_req = NULL;
	P.reg_req = NULL;
	for (i = 0; i < REVOKES_MAX; i++) {
		P.revokes[i].req = NULL;
		P.revokes[i].name[0] = '\0';
	}
	if (P.on)
		arm(P.key_ev, 0);
}

/*
 * After a reload: peer-timeout (when a silent peer is revoked) applies at
 * once, peer-interval at the next heartbeat.  failsafe also sets how long
 * a joiner waits for members and a started node waits for promises of its
 * previous run, so it changes only when dcs starts again.
 */
void
peers_reconfigure(void)
{
	if (!P.on)
		return;
	P.pr.conf.peer_timeout_ms = E.conf->peer_timeout_ms;
	if ((E.conf->failsafe != 0) != (P.pr.conf.failsafe != 0))
		log_warnx("peers: failsafe stays %s until yaimd restarts",
		    P.pr.conf.failsafe ? "on" : "off");
	peers_update();
}

/* The view as the rule needs it: every node, member and peer. */
static void
view_sync(uint64_t now)
{
	size_t		 i;
	int64_t		 lease;

	for (i = 0; i < E.nnodes; i++) {
		struct vnode	*n = &E.nodes[i];

		lease = n->present ? n->lease : n->peer ? n->peer_lease : 0;
		if (strcmp(n->name, E.conf->nodename) == 0) {
			(void)prule_view_node(&P.pr, now, n->name, n->member,
			    0, 0);
			continue;
		}
		(void)prule_view_node(&P.pr, now, n->name, n->member,
		    (uint64_t)lease, n->freed);
		n->freed = 0;
	}
	/* Known to the rule, gone from the view (a full read dropped it). */
	for (i = 0; i < P.pr.npeers; i++)
		if (vnode_get(P.pr.peers[i].name) == NULL)
			(void)prule_view_node(&P.pr, now, P.pr.peers[i].name,
			    0, 0, 0);
}

static size_t
held_by_parent(void)
{
	size_t	 i, n = 0;

	for (i = 0; i < E.nheld; i++)
		if (E.held[i]->par != P_NONE)
			n++;
	return n;
}

static void
revoke_silent(uint64_t now)
{
	size_t	 i;
	int64_t	 lease;

	for (i = 0; i < E.nnodes; i++) {
		const struct vnode *n = &E.nodes[i];

		if (strcmp(n->name, E.conf->nodename) == 0)
			continue;
		lease = n->present ? n->lease : n->peer ? n->peer_lease : 0;
		if (lease != 0 && prule_may_revoke(&P.pr, now, n->name))
			revoke_peer(n->name, lease);
	}
	/* silent past peer-timeout, no witness yet: ask for one at once */
	if (prule_witness_due(&P.pr, now)) {
		log_debug("peers: a peer is silent for %u ms; asking the "
		    "others to witness", P.pr.conf.peer_timeout_ms);
		peers_send_all(1);
	}
}

/*
 * Send the parent the rule's hold, but never further ahead than it
 * allows (parent/fence.c: ttl - margin past the moment it reads it).
 * The rule may hold longer (failsafe with no peer left to ask: up to
 * failsafe-max past the last keepalive); asking the parent for that made
 * it clamp with a warning, and fence once the clamped deadline passed, as
 * a changed hold was all that was ever sent again.  So a longer hold goes
 * out capped: again whenever the rule's hold moves (a keepalive that
 * succeeded: a frozen dcs is then fenced no sooner than ttl - margin past
 * the last one, as without failsafe), else before half the cap is used
 * up.  Returns the cap (ms) if it applied, else 0.
 */
static uint64_t
hold_tell(uint64_t hold, uint64_t now, int moved)
{
	uint64_t	 cap, send = hold;

	cap = E.ttl > 0 ? (uint64_t)E.ttl * 1000 - fence_margin() : 0;
	if (hold != 0 && cap != 0 && hold > now + cap)
		send = now + cap;
	else
		cap = 0;
	if (cap != 0 && !moved && P.hold_sent != 0 &&
	    P.hold_sent >= now + cap / 2 && P.hold_sent <= send)
		return cap;	/* what it has still lasts */
	if (send != P.hold_sent) {
		P.hold_sent = send;
		parent_hold_until(send);
	}
	return cap;
}

/*
 * After every event: tell the rule what changed, send the parent the
 * hold deadline, revoke who must be, and wake up for the next change.
 */
void
peers_update(void)
{
	uint64_t	 now = mono_ms(), hold, next, tick, capped;
	size_t		 nheld;
	int		 can, ready, connected;

	if (!P.on)
		return;
	prule_tick(&P.pr, now);
	if (E.have_view)
		view_sync(now);
	nheld = held_by_parent();
	if (nheld != P.nheld_told || E.lease != P.lease_told) {
		prule_marked(&P.pr, now, (uint64_t)E.lease, nheld);
		P.nheld_told = nheld;
		P.lease_told = E.lease;
	}
	hold = E.lease != 0 ? prule_hold_until(&P.pr) : 0;
	capped = hold_tell(hold, now, hold != P.hold_rule);
	if (hold != P.hold_rule) {
		P.hold_rule = hold;
		if (hold != 0)
			arm(E.fence_ev, hold > now + FENCE_LEAD_MS ?
			    hold - FENCE_LEAD_MS - now : 0);
		else
			evtimer_del(E.fence_ev);
	}
	/*
	 * Only a node that has joined revokes: its node key waited until
	 * every member answered it, so the channel works both ways.
	 */
	if (E.lstate == L_ACTIVE && E.nstate == N_IN && peer_net_has_key())
		revoke_silent(now);
	next = prule_next_change(&P.pr, now);
	tick = next == PRULE_NEVER || next - now > TICK_MAX_MS ? TICK_MAX_MS :
	    next - now + 1;
	/* a capped deadline is renewed before half of it is used up */
	if (capped != 0 && capped / 4 + 1 < tick)
		tick = capped / 4 + 1;
	arm(P.tick_ev, tick);
	/*
	 * etcd lost (K/2 without a keepalive answer): ask for promises at
	 * once, and tell the peers we can promise, instead of waiting for
	 * the next heartbeat.
	 */
	connected = prule_connected(&P.pr, now);
	if (P.was_connected && !connected)
		peers_send_all(0);
	P.was_connected = connected;
	can = peers_may_claim();
	ready = prule_ready(&P.pr, now);
	if ((can && !P.could_claim) || ready != P.was_ready)
		kick();
	P.could_claim = can;
	P.was_ready = ready;
}

/*
 * Our hold passed: the parent drops the addresses at the same moment
 * (it enforces the deadline itself); we drop them too and release their
 * marks once they are down.  The lease stays: it is still ours in etcd
 * for its TTL, and a keepalive that gets through lets us claim again.
 */
void
peers_fence(void)
{
	size_t	 n = held_by_parent();

	if (n == 0)
		return;
	log_warnx("FENCING: no keepalive of lease %" PRIx64 " succeeded for "
	    "%" PRIu64 " ms and no promise of every peer holds; dropping %zu "
	    "address(es)", (uint64_t)E.lease, mono_ms() - E.t_sent, n);
	parent_drop_all();
	peers_update();
}

/* The node key waits for the join rule (DESIGN.md 10.2, item 5). */
int
peers_may_join(void)
{
	if (!P.on)
		return 1;
	if (P.reg_lease != E.lease) {
		if (P.reg_req == NULL)
			reg_put();
		return 0;
	}
	return prule_ready(&P.pr, mono_ms());
}

/*
 * Joined, and the join rule no longer holds: a member we cannot hear had
 * a lease end with marks (DESIGN.md 10.6).  step() withdraws the node key.
 */
int
peers_join_lost(void)
{
	return P.on && !prule_ready(&P.pr, mono_ms());
}

int
peers_may_claim(void)
{
	if (!P.on)
		return 1;
	return prule_may_claim(&P.pr, mono_ms());
}

/*
 * An address we have a mark for may go up.  With peers, only once our
 * view has caught up with our claim's revision and the claim gate is
 * open: a claim sent from a view that lagged behind a lease end (say, a
 * holder revoked a moment before) succeeds in etcd, but the old holder
 * may hold for K more; the watch then shows that lease end, and the
 * gate makes us wait W after seeing it (DESIGN.md 10.2, item 5).
 */
int
peers_may_add(const struct held *h)
{
	if (!P.on)
		return 1;
	if (E.view_rev < h->mark_rev)
		return 0;
	return prule_may_claim(&P.pr, mono_ms()) &&
	    prule_hold_until(&P.pr) > mono_ms() + FENCE_LEAD_MS;
}
