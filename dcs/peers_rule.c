/*
 * The peer rule: hold, promise, revoke, claim.  Pure: see peers_rule.h
 * for the API and DESIGN.md section 10 for the argument.
 */
#include <errno.h>
#include <string.h>

#include "peers_rule.h"

#define PPM	1000000ULL

static uint64_t
add_sat(uint64_t a, uint64_t b)
{
	return a > PRULE_NEVER - b ? PRULE_NEVER : a + b;
}

static uint64_t
sub_floor(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t
max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/*
 * A span measured on another node's clock, as a lower bound on ours:
 * d (1 - rho) / (1 + rho), rounded down.
 */
static uint64_t
scale_down(const struct prule *p, uint64_t d)
{
	uint64_t r = p->conf.rho_ppm;

	if (p->conf.broken & PRULE_BROKEN_NO_SCALE)
		return d;
	return d * (PPM - r) / (PPM + r);
}

/* A span on another clock as an upper bound on ours, rounded up. */
static uint64_t
scale_up(const struct prule *p, uint64_t d)
{
	uint64_t r = p->conf.rho_ppm;

	if (p->conf.broken & PRULE_BROKEN_NO_SCALE)
		return d;
	return (d * (PPM + r) + (PPM - r) - 1) / (PPM - r);
}

void
prule_defaults(struct prule_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->hold_ms = 250;
	c->promise_ms = 1500;
	c->peer_timeout_ms = 200;
	c->failsafe_max_ms = 900000;
	c->rho_ppm = 10000;
	c->margin_ms = 20;
	c->failsafe = 1;
	c->wait_ms = prule_min_wait(c);
}

/* W >= K (1 + rho) / (1 - rho) + margin (DESIGN.md section 10). */
uint32_t
prule_min_wait(const struct prule_conf *c)
{
	uint64_t r = c->rho_ppm;

	return (uint32_t)(((uint64_t)c->hold_ms * (PPM + r) + (PPM - r) - 1) /
	    (PPM - r) + c->margin_ms);
}

static struct prule_peer *
peer_find(const struct prule *cp, const char *name)
{
	struct prule	*p = (struct prule *)cp;
	size_t		 i;

	for (i = 0; i < p->npeers; i++)
		if (p->peers[i].name[0] == name[0] &&
		    strcmp(p->peers[i].name, name) == 0)
			return &p->peers[i];
	return NULL;
}

static struct prule_peer *
peer_get(struct prule *p, uint64_t now, const char *name)
{
	struct prule_peer	*pp;
	size_t			 len;

	if (name == NULL || (len = strlen(name)) == 0 ||
	    len >= PRULE_NAME_MAX || strcmp(name, p->self) == 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((pp = peer_find(p, name)) != NULL)
		return pp;
	if (p->npeers == PRULE_PEERS_MAX) {
		errno = ENOSPC;
		return NULL;
	}
	pp = &p->peers[p->npeers++];
	memset(pp, 0, sizeof(*pp));
	memcpy(pp->name, name, len + 1);
	/* Unknown past: as if its lease had just changed (join rule). */
	pp->changed = pp->freed_at = now;
	return pp;
}

/*
 * Whose promise a hold past E needs: every node with a live lease in
 * the view, and every node heard with a lease not seen ending (a node
 * that joined while we cannot see etcd: once we echo it, it may claim).
 */
static int
peer_needed(const struct prule *p, const struct prule_peer *pp)
{
	if (pp->lease != 0)
		return 1;
	if (p->conf.broken & PRULE_BROKEN_NO_CUTBACK)
		return 0;
	return pp->msg_lease != 0 && pp->msg_lease != pp->ended_lease;
}

static uint64_t
hold_compute(const struct prule *p)
{
	uint64_t	 hold;
	size_t		 i;

	if (p->nheld == 0 || !p->conf.failsafe || p->lapsed)
		return p->etcd_until;
	hold = add_sat(p->etcd_until, p->conf.failsafe_max_ms);
	for (i = 0; i < p->npeers; i++)
		if (peer_needed(p, &p->peers[i]))
			hold = min64(hold, p->peers[i].promise_valid);
	return max64(p->etcd_until, hold);
}

/*
 * Every event starts here: a hold that has passed stays passed (the
 * parent has dropped the addresses), so promises cannot revive it; only
 * a new keepalive on the holding lease, or holding nothing, ends that.
 */
static void
advance(struct prule *p, uint64_t now)
{
	if (p->nheld > 0 && now >= p->hold_until)
		p->lapsed = 1;
}

static void
settle(struct prule *p, uint64_t now)
{
	if (p->nheld == 0 || p->etcd_until > now)
		p->lapsed = 0;
	p->hold_until = hold_compute(p);
}

/*
 * A restarted process has forgotten the promises it gave before: they
 * all end within P of our start on this same clock, so claim and revoke
 * nothing until then (a reboot takes longer than P).
 */
static uint64_t
restart_wait_end(const struct prule *p)
{
	if (!p->conf.failsafe || (p->conf.broken & PRULE_BROKEN_RESTART))
		return p->started;
	return p->started + p->conf.promise_ms + p->conf.margin_ms;
}

void
prule_init(struct prule *p, const struct prule_conf *c, const char *self,
    uint64_t now)
{
	memset(p, 0, sizeof(*p));
	p->conf = *c;
	if (self != NULL && strlen(self) < PRULE_NAME_MAX)
		strcpy(p->self, self);
	p->started = now;
	p->gate = restart_wait_end(p);
}

int
prule_connected(const struct prule *p, uint64_t now)
{
	return p->cur_lease != 0 && now < p->cur_ok + p->conf.hold_ms / 2;
}

/*
 * A keepalive answer.  Only for the current lease or the one we hold on:
 * lease ids have no order, so a late answer for an older lease must not
 * make it current again (prule_lease_granted does that).
 */
void
prule_etcd_ok(struct prule *p, uint64_t now, uint64_t lease, uint64_t sent)
{
	advance(p, now);
	if (lease != 0 && sent <= now) {
		if (lease == p->cur_lease)
			p->cur_ok = max64(p->cur_ok, sent);
		if (lease == p->hold_lease)
			p->etcd_until = max64(p->etcd_until,
			    sent + p->conf.hold_ms);
	}
	settle(p, now);
}

void
prule_lease_granted(struct prule *p, uint64_t now, uint64_t lease,
    uint64_t sent)
{
	size_t i;

	advance(p, now);
	if (lease == 0 || sent > now || lease == p->cur_lease)
		goto out;
	p->cur_lease = lease;
	p->cur_since = now;
	p->cur_ok = sent;
	for (i = 0; i < p->npeers; i++)
		p->peers[i].acked = 0;
	if (p->nheld == 0)
		p->hold_lease = lease;
	if (lease == p->hold_lease)
		p->etcd_until = max64(p->etcd_until, sent + p->conf.hold_ms);
out:
	settle(p, now);
}

void
prule_lease_lost(struct prule *p, uint64_t now)
{
	size_t i;

	advance(p, now);
	p->cur_lease = 0;
	for (i = 0; i < p->npeers; i++)
		p->peers[i].acked = 0;
	settle(p, now);
}

void
prule_marked(struct prule *p, uint64_t now, uint64_t lease, size_t nheld)
{
	advance(p, now);
	p->hold_lease = lease;
	p->nheld = nheld;
	if (lease != 0 && lease == p->cur_lease)
		p->etcd_until = max64(p->etcd_until,
		    p->cur_ok + p->conf.hold_ms);
	settle(p, now);
}

static void
gate_wait(struct prule *p, uint64_t now)
{
	if (p->conf.broken & PRULE_BROKEN_NO_WAIT)
		return;
	p->gate = max64(p->gate, now + p->conf.wait_ms);
}

void
prule_full_read(struct prule *p, uint64_t now)
{
	size_t i;

	advance(p, now);
	p->viewed = 1;
	gate_wait(p, now);
	/* Lease changes may have been missed: the join rule starts over. */
	for (i = 0; i < p->npeers; i++)
		p->peers[i].changed = p->peers[i].freed_at = now;
	settle(p, now);
}

static int
heard_recently(const struct prule *p, const struct prule_peer *pp,
    uint64_t now)
{
	return pp->heard != 0 && now < pp->heard + p->conf.peer_timeout_ms;
}

int
prule_view_node(struct prule *p, uint64_t now, const char *name, int member,
    uint64_t lease, size_t freed)
{
	struct prule_peer	*pp;
	size_t			 i;

	advance(p, now);
	if (name != NULL && strcmp(name, p->self) == 0) {
		if (p->registered && !member) {
			/* Our member key went: we join again. */
			for (i = 0; i < p->npeers; i++)
				p->peers[i].changed =
				    p->peers[i].freed_at = now;
		}
		p->registered = member;
		settle(p, now);
		return 0;
	}
	if ((pp = peer_get(p, now, name)) == NULL)
		return -1;
	pp->member = member;
	if (lease != pp->lease) {
		if (pp->lease != 0) {
			/* it runs and reaches etcd if a new lease comes */
			if (!heard_recently(p, pp, now))
				pp->spent = 1;
			pp->ended_lease = pp->lease;
			if (pp->msg_lease == pp->lease)
				pp->msg_lease = 0;
			/*
			 * Only an end that took marks can leave that node
			 * holding an unmarked address on promises: J
			 * restarts there, not at a new lease nor at the end
			 * of an empty one (a node cut from its peers that
			 * the others revoke must not make a node that has
			 * joined since wait J again; DESIGN.md 10.2 item 5).
			 */
			if (freed > 0) {
				gate_wait(p, now);
				pp->freed_at = now;
			}
		}
		pp->lease = lease;
		pp->changed = now;
	}
	settle(p, now);
	return 0;
}

static int
want_promises(const struct prule *p, uint64_t now)
{
	if (!p->conf.failsafe || p->nheld == 0 || p->lapsed)
		return 0;
	return !prule_connected(p, now) || p->hold_lease != p->cur_lease ||
	    now + p->conf.hold_ms / 2 >= p->etcd_until;
}

/*
 * Whether pp is cut from etcd alone: it has said so in every message for
 * P, and etcd answered a keepalive of ours sent after that.  Then a
 * promise would only keep a cut node's addresses up (and keep us from
 * claiming) whenever one of our keepalives is late, so we give it none
 * until it says it reaches etcd again.  In an outage for everyone no
 * keepalive we send after etcd went away succeeds, so this refuses only
 * a node that had said "not connected" for P before then (DESIGN.md
 * 10.2 item 3).  Refusing is always safe.
 */
static int
cut_alone(const struct prule *p, const struct prule_peer *pp)
{
	return pp->cut_since != 0 && p->cur_lease != 0 &&
	    p->cur_ok >= pp->cut_since + p->conf.promise_ms;
}

static void
recv_request(struct prule *p, uint64_t now, struct prule_peer *pp,
    const struct prule_msg *m)
{
	int grant;

	if (m->sent <= pp->req_sent)
		return;		/* older than one answered: reordered */
	if (m->connected)
		pp->cut_since = 0;
	else if (pp->cut_since == 0)
		pp->cut_since = now;
	grant = m->want_promise && p->conf.failsafe &&
	    ((!prule_connected(p, now) && !cut_alone(p, pp)) ||
	    (p->conf.broken & PRULE_BROKEN_PROMISE_CONNECTED));
	pp->req_sent = m->sent;
	pp->req_granted = grant ? p->conf.promise_ms : 0;
	if (grant)
		pp->promised_until = max64(pp->promised_until,
		    now + p->conf.promise_ms);
}

static void
recv_reply(struct prule *p, uint64_t now, struct prule_peer *pp,
    const struct prule_msg *m)
{
	uint64_t from, valid;

	/* An echo must be of a message of this incarnation, not future. */
	if (m->echo == 0 || m->echo > now || m->echo < p->started)
		return;
	pp->echoed = max64(pp->echoed, m->echo);
	if (m->promise_ms > 0) {
		from = (p->conf.broken & PRULE_BROKEN_RECV_TIME) ? now :
		    m->echo;
		valid = sub_floor(from + scale_down(p, m->promise_ms),
		    p->conf.margin_ms);
		pp->promise_valid = max64(pp->promise_valid, valid);
	}
	if (p->cur_lease != 0 && m->echo >= p->cur_since)
		pp->acked = 1;
}

int
prule_recv(struct prule *p, uint64_t now, const char *from,
    const struct prule_msg *m)
{
	struct prule_peer *pp;

	advance(p, now);
	if ((pp = peer_get(p, now, from)) == NULL) {
		settle(p, now);
		return -1;
	}
	pp->heard = now;
	pp->spent = 0;
	if (m->lease != 0 && m->lease != pp->ended_lease)
		pp->msg_lease = m->lease;
	recv_request(p, now, pp, m);
	recv_reply(p, now, pp, m);
	settle(p, now);
	return 0;
}

void
prule_revoked(struct prule *p, uint64_t now, const char *name)
{
	struct prule_peer *pp;

	advance(p, now);
	if (name != NULL && (pp = peer_find(p, name)) != NULL &&
	    !heard_recently(p, pp, now))
		pp->spent = 1;
	gate_wait(p, now);
	settle(p, now);
}

void
prule_tick(struct prule *p, uint64_t now)
{
	advance(p, now);
	settle(p, now);
}

void
prule_send(struct prule *p, uint64_t now, const char *to, struct prule_msg *m)
{
	const struct prule_peer *pp = peer_find(p, to);

	memset(m, 0, sizeof(*m));
	m->lease = p->cur_lease;
	m->sent = now;
	if (pp != NULL) {
		m->echo = pp->req_sent;
		m->promise_ms = pp->req_granted;
	}
	m->want_promise = want_promises(p, now);
	m->connected = prule_connected(p, now);
}

uint64_t
prule_hold_until(const struct prule *p)
{
	return p->hold_until;
}

/*
 * The join rule: every member echoed us, or cannot hold on promises.
 * Not before the restart wait either (prule_init): the node key makes
 * the others release IPs to us, and a joiner that may not claim them yet
 * would leave them dark until the wait ends (1.5 s at the defaults).
 */
static uint64_t
ready_at(const struct prule *p)
{
	uint64_t	 at, span;
	size_t		 i;

	if (p->conf.broken & PRULE_BROKEN_JOINER)
		return 0;
	at = restart_wait_end(p);
	span = p->conf.hold_ms + (p->conf.failsafe ?
	    p->conf.failsafe_max_ms : 0);
	span = scale_up(p, span) + p->conf.margin_ms;
	for (i = 0; i < p->npeers; i++) {
		const struct prule_peer *pp = &p->peers[i];

		if ((pp->member || pp->lease != 0) && !pp->acked)
			at = max64(at, add_sat(pp->freed_at, span));
	}
	return at;
}

int
prule_ready(const struct prule *p, uint64_t now)
{
	return p->viewed && p->registered && now >= ready_at(p);
}

static uint64_t
promised_out_until(const struct prule *p)
{
	uint64_t	 until = 0;
	size_t		 i;

	for (i = 0; i < p->npeers; i++)
		until = max64(until, p->peers[i].promised_until);
	return until;
}

int
prule_may_claim(const struct prule *p, uint64_t now)
{
	if (!prule_connected(p, now) || !prule_ready(p, now))
		return 0;
	if (p->nheld > 0 && p->hold_lease != p->cur_lease)
		return 0;	/* re-marking first */
	if (now < p->gate)
		return 0;
	if (!(p->conf.broken & PRULE_BROKEN_CLAIM_PROMISED) &&
	    now < promised_out_until(p))
		return 0;
	return 1;
}

static uint64_t
silent_since(const struct prule *p, const struct prule_peer *pp)
{
	return max64(max64(pp->heard, pp->changed), p->started);
}

/*
 * Whether we hear a strict majority of the nodes with a live lease in
 * our view, ourselves included; exactly half will do on the side of the
 * lowest name among them (of two nodes, the lower name).  A node cut
 * from its peers alone hears nobody and so revokes nobody, while the
 * others, a majority, revoke it: one firewall mistake costs that node's
 * addresses only, not every lease in the pool (DESIGN.md 10.2 item 4).
 * A peer counts as heard only if its message arrived after the target
 * had been silent for peer-timeout, and echoed one of ours sent after
 * the target's last sign of life.  The first: when a node is cut, its
 * peers' last messages arrive within about one heartbeat of each other,
 * so "heard within peer-timeout" still counted the others when the
 * first one turned silent (the cut node revoked it, and with it gone,
 * the second on the tie-break: cluster scenario 20).  The second: a
 * datagram delayed past the cut must not count (the simulator's
 * stalls); its echo is older than the cut.
 */
static int
quorum(const struct prule *p, uint64_t now, const struct prule_peer *k)
{
	const char	*low = p->self;
	uint64_t	 last = silent_since(p, k);
	uint64_t	 since = last + p->conf.peer_timeout_ms;
	size_t		 i, all = 1, heard = 1;
	int		 h, low_heard = 1;

	if (p->conf.broken & PRULE_BROKEN_NO_QUORUM)
		return 1;
	for (i = 0; i < p->npeers; i++) {
		const struct prule_peer *pp = &p->peers[i];

		if (pp->lease == 0)
			continue;
		all++;
		h = pp != k && heard_recently(p, pp, now) &&
		    pp->heard >= since && pp->echoed >= last;
		heard += (size_t)h;
		if (strcmp(pp->name, low) < 0) {
			low = pp->name;
			low_heard = h;
		}
	}
	return 2 * heard > all || (2 * heard == all && low_heard);
}

int
prule_may_revoke(const struct prule *p, uint64_t now, const char *name)
{
	const struct prule_peer *pp;

	if (name == NULL || (pp = peer_find(p, name)) == NULL)
		return 0;
	if (!prule_connected(p, now) || pp->lease == 0)
		return 0;
	/*
	 * A lease of it ended while we could not hear it, and it got a new
	 * one: it runs and reaches etcd, it is cut from us.  Revoking again
	 * would only end each new lease of it (and gate our claims each
	 * time); it rejoins, or is revoked again, once we hear it.
	 */
	if (pp->spent)
		return 0;
	if (now < pp->promised_until)
		return 0;
	if (now < restart_wait_end(p))
		return 0;	/* promises of an earlier life */
	return now >= silent_since(p, pp) + p->conf.peer_timeout_ms &&
	    quorum(p, now, pp);
}

static void
next_after(uint64_t *next, uint64_t now, uint64_t t)
{
	if (t > now && t < *next)
		*next = t;
}

uint64_t
prule_next_change(const struct prule *p, uint64_t now)
{
	uint64_t	 next = PRULE_NEVER;
	size_t		 i;

	if (p->nheld > 0)
		next_after(&next, now, p->hold_until);
	next_after(&next, now, p->gate);
	next_after(&next, now, ready_at(p));
	if (p->cur_lease != 0)
		next_after(&next, now, p->cur_ok + p->conf.hold_ms / 2);
	next_after(&next, now, sub_floor(p->etcd_until, p->conf.hold_ms / 2));
	for (i = 0; i < p->npeers; i++) {
		const struct prule_peer *pp = &p->peers[i];

		next_after(&next, now, pp->promised_until);
		next_after(&next, now, silent_since(p, pp) +
		    p->conf.peer_timeout_ms);
	}
	return next;
}
