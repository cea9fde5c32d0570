/*
 * The dcs engine (DESIGN.md sections 3-5): its state machine and its API
 * (engine.h).  dcs/engine_int.h describes the engine as a whole and says
 * which file holds what.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "dcs/engine_int.h"

struct engine_state	 E;

/* ---- small helpers ---- */

void
arm(struct event *ev, uint64_t ms)
{
	struct timeval	 tv = ms_to_tv(ms);

	evtimer_add(ev, &tv);
}

void *
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

/* <prefix>nodes/<our name>. */
void
node_key(char *buf, size_t len)
{
	snprintf(buf, len, "%snodes/%s", E.conf->prefix, E.conf->nodename);
}

/* <prefix>ips/<ip>/marked; returns the length as snprintf does. */
int
mark_key(char *buf, size_t len, const struct yaim_addr *a)
{
	return snprintf(buf, len, "%sips/%s%s", E.conf->prefix, ntop(a),
	    KEYS_MARK_SUFFIX);
}

/*
 * Every txn of the engine compares one key: if its target equals number,
 * the ok ops run, else the fail ops.
 */
struct etcd_req *
txn_if(const char *key, enum etcd_cmp_target target, int64_t number,
    const struct etcd_op *ok, size_t nok, const struct etcd_op *fail,
    size_t nfail, etcd_cb cb, void *arg)
{
	struct etcd_compare	 cmp;
	struct etcd_txn		 txn;

	memset(&cmp, 0, sizeof(cmp));
	cmp.key = key;
	cmp.target = target;
	cmp.op = ETCD_CMP_EQUAL;
	cmp.number = number;
	memset(&txn, 0, sizeof(txn));
	txn.compare = &cmp;
	txn.n_compare = 1;
	txn.success = ok;
	txn.n_success = nok;
	txn.failure = fail;
	txn.n_failure = nfail;
	/* The txn is encoded at once (etcd.h): nothing keeps &txn. */
	/* cppcheck-suppress returnDanglingLifetime */
	return E.be->txn(E.client, &txn, cb, arg);
}

static int
member_wanted(void)
{
	return E.healthy && E.link_up && !E.shutdown && !E.drained;
}

/*
 * 1 if (key, topic) was not warned about in the last WARN_EVERY_MS, and
 * note it now; bounded memory: the slot of the oldest warning is reused.
 */
int
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
void
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
	E.be->watch_stop(E.watch);
	E.watch = NULL;
	if (E.range_req != NULL)
		E.be->req_cancel(E.range_req);
	E.range_req = NULL;
	if (E.check_req != NULL)
		E.be->req_cancel(E.check_req);
	E.check_req = NULL;
	log_info("released: left the cluster");
	E.ops.released(E.ops.arg);
}

void
step(void)
{
	if (E.client == NULL || E.released)
		return;
	if (!member_wanted()) {
		switch (E.lstate) {
		case L_GRANTING:
			/* A lease granted meanwhile expires on its own. */
			E.be->req_cancel(E.grant_req);
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
				E.be->req_cancel(E.stale_req);
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
	    E.have_pnets && peers_may_join())
		node_put();
	if (E.lstate == L_ACTIVE && E.nstate == N_IN && E.node_req == NULL &&
	    peers_join_lost())
		node_withdraw();
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

void
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

/* The cold start's settle window is over (DESIGN.md 4.4). */
static void
settle_cb(evutil_socket_t fd, short what, void *arg)
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
	const struct dcs_backend	*be;
	char				 err[256];

	if ((be = dcs_backend_of(E.conf)) == NULL) {
		log_warnx("%s: dcs-type %s: no backend yet", __func__,
		    E.conf->dcs_type);
		return -1;
	}
	E.be = be;
	E.client = E.be->client_new(E.base, E.conf, E.blobs, arc4random(),
	    err, sizeof(err));
	if (E.client == NULL) {
		log_warnx("%s: %s", __func__, err);
		return -1;
	}
	E.be->client_on_endpoint_change(E.client, endpoint_changed, NULL);
	return 0;
}

/*
 * The engine exists before the first message from the parent: health,
 * link state and networks may come before the config.
 */
void
engine_init(struct event_base *base, const struct engine_ops *ops)
{
	memset(&E, 0, sizeof(E));
	E.base = base;
	E.ops = *ops;
	/* Until a config picks one; every handle is NULL until then. */
	E.be = &dcs_backend_etcd;
	E.link_up = 1;		/* until the parent says otherwise */
	E.ref_txn_max = REF_TXN_OPS;
	E.window = MARK_INFLIGHT_MAX;
	E.health.reason = HR_STARTUP;
	snprintf(E.health.text, sizeof(E.health.text), "no result yet");
	if ((E.kick_ev = event_new(base, -1, 0, kick_cb, NULL)) == NULL ||
	    (E.ka_ev = evtimer_new(base, keepalive_cb, NULL)) == NULL ||
	    (E.fence_ev = evtimer_new(base, fence_cb, NULL)) == NULL ||
	    (E.leave_ev = evtimer_new(base, leave_timeout, NULL)) == NULL ||
	    (E.interval_ev = evtimer_new(base, interval_cb, NULL)) == NULL ||
	    (E.read_ev = evtimer_new(base, read_cb, NULL)) == NULL ||
	    (E.retry_ev = evtimer_new(base, retry_cb, NULL)) == NULL ||
	    (E.settle_ev = evtimer_new(base, settle_cb, NULL)) == NULL)
		fatal("%s: event_new", __func__);
	peers_init(base);
}

int
engine_start(const struct yaim_config *conf, const struct yaim_blobs *blobs)
{
	if (E.base == NULL || E.conf != NULL)
		fatalx("%s: the engine is not initialised, or started "
		    "already", __func__);
	E.blobs = blobs;
	if ((E.conf = malloc(sizeof(*E.conf))) == NULL)
		fatal("%s", __func__);
	memcpy(E.conf, conf, sizeof(*E.conf));
	if (client_make() == -1)
		return -1;
	log_info("dcs engine: node %s, prefix %s, %u endpoint(s), TTL %u ms, "
	    "interval %u ms, fence margin %u ms; %s", conf->nodename,
	    conf->prefix, conf->n_endpoints, conf->ttl_ms, conf->interval_ms,
	    conf->fence_margin_ms, E.healthy ? "healthy" :
	    "unhealthy until the first healthy report");
	read_now();
	arm(E.interval_ev, E.conf->interval_ms);
	return 0;
}

void
engine_resolved(const struct imsg_resolved *m)
{
	uint32_t	 i;

	if (E.conf == NULL)
		return;
	for (i = 0; i < m->n_etcd_resolve && i < CFG_MAX_ENDPOINTS; i++)
		memcpy(E.conf->etcd_resolve[i], m->etcd_resolve[i],
		    sizeof(E.conf->etcd_resolve[i]));
	if (E.client != NULL && E.be->client_set_resolve(E.client) == -1)
		fatal("%s", __func__);
	log_debug("dcs: etcd endpoints resolved again");
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
	E.be->watch_stop(E.watch);
	E.watch = NULL;
	E.be->client_free(E.client);
	E.client = NULL;
	E.range_req = E.ka_req = E.node_req = E.stale_req = E.ref_req = NULL;
	E.check_req = NULL;
	E.nref_ops = 0;
	peers_client_gone();
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
		/* a delete cut short goes on, as one that timed out */
		if (h->mark == M_DELETING)
			h->del_wait = 1;
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
	if (E.nstate == N_WITHDRAWING)
		E.nstate = N_IN;	/* step() withdraws it again */
	explicit_bzero(old, sizeof(*old));
	free(old);
	if (client_make() == -1)
		fatalx("%s: cannot make an etcd client for the new config",
		    __func__);
	log_info("dcs engine reconfigured: TTL %u ms (from the next lease), "
	    "interval %u ms", E.conf->ttl_ms, E.conf->interval_ms);
	peers_reconfigure();
	if (E.lstate == L_ACTIVE || E.lstate == L_LEAVING)
		arm(E.ka_ev, 0);
	arm(E.interval_ev, E.conf->interval_ms);
	read_later(0);
	held_gc();
	kick();
}

/*
 * The peer keys of a view read before the socket came (it is sent right
 * after the config, so this is rare) went nowhere: read again.
 */
void
engine_peer_socket(void)
{
	if (E.have_view)
		read_later(0);
}

void
engine_health(const struct imsg_health *h)
{
	int	 healthy = h->healthy != 0;

	E.health = *h;
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

	if (up == E.link_up)
		return;
	E.link_up = up;
	log_info("link is %s", up ? "up" : "down; leaving the cluster");
	step();
}

void
engine_networks(const struct imsg_networks *nw)
{
	uint32_t	 i;

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
		log_debug("allowed: %s/%u", ntop(&nw->net[i]),
		    nw->net[i].prefixlen);
	kick();
}

void
engine_addr_state(const struct imsg_addr_state *as)
{
	struct held	*h;

	if (E.conf == NULL)
		return;		/* nothing asked for yet */
	h = held_get(&as->addr);
	switch (as->state) {
	case ADDR_UP:
		if (h != NULL && h->par == P_ADDING) {
			h->par = P_UP;
			log_debug("%s is up", ntop(&as->addr));
		} else if (h == NULL || h->par == P_NONE) {
			/*
			 * The late answer to an add we took back (it went
			 * down meanwhile, and we may have let the mark go):
			 * the parent must not hold what we do not.
			 */
			log_warnx("the parent holds %s, which this node has "
			    "not asked for now; asking it to drop it",
			    ntop(&as->addr));
			h = held_new(&as->addr);
			h->par = P_UP;
			parent_del(h);
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
	if (E.conf == NULL) {
		/* dcs.c answers for an engine that never started. */
		return;
	}
	log_info("shutdown: leaving the cluster");
	E.shutdown = 1;
	kick();
}
