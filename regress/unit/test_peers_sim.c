/*
 * The peer rule (dcs/peers_rule.c) in a randomized discrete-event
 * simulation: 2 to 7 nodes, each with its own clock (rate within +-rho),
 * an etcd model (leases on etcd's own clock, keepalive, revoke, create-if-
 * absent marks, member keys, watch delivery with delay; outages: frozen
 * with a single-member resume that expires overdue leases at once, a
 * leader change that extends every lease, all members down), a network
 * (loss, delay with a long tail, duplication, hence reordering, and
 * partitions of every shape, one way included), crashes, restarts,
 * graceful leaves and joins.  Each node runs a small engine that calls
 * the rule as dcs would, and a parent that drops every address when the
 * rule's hold deadline passes on its clock.
 *
 * Checked:
 *   safety, at every address add: no other node physically holds it;
 *   liveness, during calm (etcd up, every link up, every node alive, for
 *   SETTLE): every IP held by exactly one node; with one node cut from
 *   etcd only: every IP held by a node other than that one; and from
 *   SETTLE after one node of a settled pool is cut from its peers only
 *   (both ways, deaf or mute; etcd up for all): every IP held by exactly
 *   one node, which may be the cut one.
 *
 * Environment: YAIM_SIM_SECONDS (total simulated seconds, default
 * 1000000), YAIM_SIM_SEED, YAIM_SIM_VARIANTS=0 to skip the self-test
 * that every deliberately broken rule (PRULE_BROKEN_*) is caught,
 * YAIM_SIM_VARIANT_SEED (the self-test's own fixed seed, default 7),
 * YAIM_SIM_STATE=0x... to replay the one run that started in that state
 * (printed with the first failure; SIMTRACE's run is then 0).  The runs
 * in `regressions` (runs that once failed) always run first.
 * Prints the seed, then one summary line.  Exit 0 pass, 1 fail.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dcs/peers_rule.h"

#define MAXN		7
#define MAXIP		6
#define MAXLEASES	64
#define FROZEN_MAX	512
#define NONE		(-1)
#define US		1000LL		/* real time is in microseconds */
/* a broken engine: the claim txn does not check the view is current */
#define BROKEN_STALE_CLAIM	0x10000
/* the self-test's seed (YAIM_SIM_VARIANT_SEED): every variant caught */
#define VARIANT_SEED		7ULL

typedef int64_t rt_t;

/* ---------------------------------------------------------------- rng */

static uint64_t rng;

static uint64_t
rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int64_t
rrange(int64_t lo, int64_t hi)	/* [lo, hi] */
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static int
chance(double p)
{
	return (double)(rnd() >> 11) / 9007199254740992.0 < p;
}

/* ---------------------------------------------------------- the world */

struct snap {
	uint64_t	 rev;
	uint8_t		 member;		/* bit per node */
	uint8_t		 healthy;
	uint64_t	 lease[MAXN];		/* node key's lease, 0 none */
	uint64_t	 mark_lease[MAXIP];	/* 0 unmarked */
	int8_t		 mark_node[MAXIP];
	uint64_t	 mark_rev[MAXIP];	/* create revision */
	/*
	 * Bumped by every claim, release and lease end of the IP's mark:
	 * the claim txn compares it with the claimant's view (DESIGN.md
	 * 10.2: persistent marks, mod_revision compare).
	 */
	uint64_t	 mark_seq[MAXIP];
};

enum req_kind {
	R_GRANT, R_KA, R_CLAIM, R_REMARK, R_RELEASE, R_REVOKE, R_REGISTER,
	R_HEALTHY, R_READ, R_LEAVE, R_UNHEALTHY
};

enum ev_kind {
	EV_MSG, EV_ETCD_REQ, EV_ETCD_RESP, EV_WATCH, EV_HB, EV_KA, EV_STEP,
	EV_WATCHDOG, EV_FAULT, EV_LIVE, EV_ETCD_TICK, EV_START
};

struct req {
	uint8_t		 kind;
	uint8_t		 ok;
	int8_t		 ip;
	int8_t		 target;	/* R_REVOKE: whose lease */
	uint64_t	 lease;
	uint64_t	 sent;		/* requester's clock, ms */
	uint64_t	 result;	/* R_GRANT: new lease */
};

struct ev {
	rt_t		 t;
	uint64_t	 seq;
	uint8_t		 kind;
	int8_t		 node;
	int8_t		 from;
	uint32_t	 inc;		/* node incarnation it belongs to */
	union {
		struct prule_msg msg;
		struct req	 r;
		uint64_t	 rev;	/* EV_WATCH: the revision, in hist */
		uint32_t	 gen;
	} u;
};

/* Recent revisions, for watch deliveries (events stay small). */
#define HIST		4096
static struct snap	 hist[HIST];

struct node {
	int		 alive;
	uint32_t	 inc;
	int64_t		 off_us;
	int32_t		 drift_ppm;
	struct prule	 pr;
	uint64_t	 lease;
	uint64_t	 abandon;	/* old lease to revoke */
	int		 grant_busy, ka_busy, read_busy, reg_busy, healthy_busy;
	int		 revoke_busy[MAXN];
	uint64_t	 healthy_on;
	uint64_t	 withdrawn;	/* lease whose node key we withdrew */
	int		 watch_ok;
	int		 viewed;
	struct snap	 view;
	uint8_t		 held[MAXIP];	/* the parent's addresses */
	uint8_t		 claim_busy[MAXIP];
	uint8_t		 release_busy[MAXIP];
	uint64_t	 mine_rev[MAXIP];	/* our mark's revision */
	uint8_t		 remark[MAXIP];	/* 0 to do, 1 busy, 2 done */
	uint64_t	 deadline;	/* the parent's, local ms */
	uint32_t	 wd_gen;
	rt_t		 wd_at;		/* when the watchdog fires */
	int		 leaving;
	uint64_t	 step_at;	/* local ms of the pending step */
	uint64_t	 claim_sent[MAXIP], remark_sent[MAXIP];
	uint64_t	 release_sent[MAXIP];
	uint64_t	 grant_sent, ka_sent;
	struct snap	 read_snap;	/* the answer to R_READ */
	rt_t		 last_watch;
};

struct lease {
	uint64_t	 id;
	int		 owner;
	rt_t		 expiry;
};

enum { E_UP, E_FROZEN, E_DOWN };

struct etcd {
	int		 mode;
	int		 resume_expires;	/* single-member resume */
	int32_t		 drift_ppm;
	struct lease	 leases[MAXLEASES];
	int		 nleases;
	uint64_t	 next_id;
	struct snap	 st;
	uint8_t		 link[MAXN];		/* node <-> etcd up */
	struct ev	 frozen[FROZEN_MAX];
	int		 nfrozen;
};

struct params {
	int		 n, nip;
	int		 scale;		/* all timings multiplied */
	struct prule_conf pc;
	uint32_t	 hb_ms, ka_ms, ttl_ms, req_timeout_ms;
	double		 loss, dup, tail, stall;
	rt_t		 settle;
};

struct stats {
	uint64_t	 events, adds, violations, live_fail, runs;
	uint64_t	 failsafe_holds, promised_claims, peer_cuts;
	double		 seconds;
	char		 first[256];
};

static struct params	 P;
static uint64_t		 run_state;	/* rng when the run began */
static struct node	 N[MAXN];
static struct etcd	 E;
static struct stats	 S;
static rt_t		 now_rt;
static uint8_t		 plink[MAXN][MAXN];	/* i -> j up */
static int		 calm;			/* every fault off */
static int		 etcd_cut_only = NONE;	/* calm but this cut */
static rt_t		 calm_since;
static rt_t		 bad_since[MAXIP];
static int		 resume_cut_next;	/* the two-step scenario */
static int		 peer_cut_next;		/* calm, then one node cut */
static int		 peer_cut_only = NONE;	/* calm but its peer links */
/* off: runs as before the scenario existed (old regression states) */
static int		 peer_cuts_on = 1;
static const char	*names[MAXN] = { "n0", "n1", "n2", "n3", "n4", "n5",
			    "n6" };

/* Debugging: SIMTRACE=run:from_s:to_s prints what nodes do. */
static int	 trace_run = -1;
static double	 trace_from, trace_to;

static void
trace(int n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
trace(int n, const char *fmt, ...)
{
	va_list	 ap;
	double	 t = (double)now_rt / 1e6;

	if ((int64_t)S.runs != trace_run || t < trace_from || t > trace_to)
		return;
	printf("%10.4f n%d ", t, n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* -------------------------------------------------------- event heap */

static struct ev	*heap;
static size_t		 nheap, capheap;
static uint64_t		 evseq;

static int
ev_less(const struct ev *a, const struct ev *b)
{
	return a->t != b->t ? a->t < b->t : a->seq < b->seq;
}

static void
push(struct ev *e)
{
	size_t i;

	if (nheap == capheap) {
		capheap = capheap ? capheap * 2 : 4096;
		if ((heap = realloc(heap, capheap * sizeof(*heap))) == NULL)
			abort();
	}
	e->seq = evseq++;
	i = nheap++;
	while (i > 0 && ev_less(e, &heap[(i - 1) / 2])) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = *e;
}

static void
pop(struct ev *out)
{
	struct ev	 last;
	size_t		 i = 0, c;

	*out = heap[0];
	last = heap[--nheap];
	for (;;) {
		c = 2 * i + 1;
		if (c >= nheap)
			break;
		if (c + 1 < nheap && ev_less(&heap[c + 1], &heap[c]))
			c++;
		if (!ev_less(&heap[c], &last))
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = last;
}

static void
sched(rt_t t, int kind, int node, struct ev *proto)
{
	struct ev e;

	if (proto != NULL)
		e = *proto;
	else
		memset(&e, 0, sizeof(e));
	e.t = t;
	e.kind = kind;
	e.node = node;
	e.inc = node >= 0 ? N[node].inc : 0;
	push(&e);
}

/* ------------------------------------------------------------ clocks */

static uint64_t
local_ms(int n, rt_t t)
{
	int64_t us = N[n].off_us + t + t / 1000000 * N[n].drift_ppm +
	    (t % 1000000) * N[n].drift_ppm / 1000000;

	return (uint64_t)us / 1000;
}

/* The first real time at which node n's clock reads ms. */
static rt_t
real_at(int n, uint64_t ms)
{
	__int128	 num = ((__int128)ms * 1000 - N[n].off_us) * 1000000;
	rt_t		 t = (rt_t)(num / (1000000 + N[n].drift_ppm));

	if (t < 0)
		t = 0;
	while (t > 0 && local_ms(n, t - 1) >= ms)
		t--;
	while (local_ms(n, t) < ms)
		t++;
	return t;
}

static rt_t
etcd_span(uint64_t ms)	/* ms on etcd's clock, in real us */
{
	return (rt_t)ms * 1000 * 1000000 / (1000000 + E.drift_ppm);
}

static rt_t
ms(uint64_t m)
{
	return (rt_t)m * US;
}

/* ------------------------------------------------------------- checks */

static void
violation(const char *what, int ip, int a, int b)
{
	S.violations++;
	if (S.first[0] == '\0')
		snprintf(S.first, sizeof(S.first),
		    "%s: ip %d nodes %d %d at %.3f s (run %" PRIu64
		    ", YAIM_SIM_STATE=0x%016" PRIx64 ")", what, ip, a, b,
		    (double)now_rt / 1e6, S.runs, run_state);
}

static void	wd_arm(int);

static int
holds(int m, int ip, rt_t t)
{
	return N[m].alive && N[m].held[ip] && local_ms(m, t) < N[m].deadline;
}

static void
add_address(int n, int ip)
{
	int m;

	S.adds++;
	trace(n, "ADD ip%d hold_until %" PRIu64 " local %" PRIu64, ip,
	    prule_hold_until(&N[n].pr), local_ms(n, now_rt));
	for (m = 0; m < P.n; m++)
		if (m != n && holds(m, ip, now_rt))
			violation("two holders", ip, m, n);
	N[n].held[ip] = 1;
	wd_arm(n);
}

static int	assigned(const struct snap *, int);

static void
dump_nodes(int ip)
{
	int		 m;
	uint64_t	 t;

	if ((int64_t)S.runs != trace_run)
		return;
	for (m = 0; m < P.n; m++) {
		struct node *nd = &N[m];

		t = local_ms(m, now_rt);
		printf("  n%d alive %d lease %" PRIu64 " healthy_on %" PRIu64
		    " view.rev %" PRIu64 " watch %d owner %d held %d cb %d rb %d"
		    " claim %d ready %d conn %d gate+%" PRId64 " mark %" PRIu64
		    "\n", m, nd->alive, nd->lease, nd->healthy_on,
		    nd->view.rev, nd->watch_ok, assigned(&nd->view, ip),
		    nd->held[ip], nd->claim_busy[ip], nd->release_busy[ip],
		    prule_may_claim(&nd->pr, t), prule_ready(&nd->pr, t),
		    prule_connected(&nd->pr, t), (int64_t)(nd->pr.gate - t),
		    nd->view.mark_lease[ip]);
	}
}

/*
 * During calm, an IP may be without its one holder (or held by the node
 * cut from etcd) for at most SETTLE at a stretch: a false revoke from
 * lost heartbeats moves an IP, which is a short outage, not a failure.
 */
static void
check_live(void)
{
	int ip, m, c, cut;

	if (!calm)
		return;
	for (ip = 0; ip < P.nip; ip++) {
		c = cut = 0;
		for (m = 0; m < P.n; m++)
			if (holds(m, ip, now_rt)) {
				c++;
				if (m == etcd_cut_only)
					cut = 1;
			}
		if (c == 1 && !cut) {
			bad_since[ip] = 0;
			continue;
		}
		if (bad_since[ip] == 0)
			bad_since[ip] = now_rt;
		if (now_rt - bad_since[ip] <= P.settle)
			continue;
		S.live_fail++;
		if (S.first[0] == '\0')
			snprintf(S.first, sizeof(S.first),
			    "liveness: ip %d has %d holders%s at %.3f s, "
			    "calm for %.3f s (run %" PRIu64
			    ", YAIM_SIM_STATE=0x%016" PRIx64 ")", ip, c,
			    cut ? " (one cut from etcd)" : "",
			    (double)now_rt / 1e6,
			    (double)(now_rt - calm_since) / 1e6, S.runs,
			    run_state);
		bad_since[ip] = now_rt;		/* one report per stretch */
		dump_nodes(ip);
	}
}

/* -------------------------------------------------------------- etcd */

static struct lease *
lease_find(uint64_t id)
{
	int i;

	for (i = 0; i < E.nleases; i++)
		if (E.leases[i].id == id)
			return &E.leases[i];
	return NULL;
}

static void
watch_fire(void)
{
	struct ev	 e;
	int		 n;

	memset(&e, 0, sizeof(e));
	E.st.rev++;
	hist[E.st.rev % HIST] = E.st;
	trace(-1, "etcd rev %" PRIu64 " member %x healthy %x leases %"
	    PRIu64 " %" PRIu64 " %" PRIu64 " marks %" PRIu64 " %" PRIu64
	    " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64, E.st.rev,
	    E.st.member, E.st.healthy, E.st.lease[0], E.st.lease[1],
	    E.st.lease[2], E.st.mark_lease[0], E.st.mark_lease[1],
	    E.st.mark_lease[2], E.st.mark_lease[3], E.st.mark_lease[4],
	    E.st.mark_lease[5]);
	e.u.rev = E.st.rev;
	for (n = 0; n < P.n; n++) {
		rt_t t;

		if (!N[n].alive || !(N[n].watch_ok || N[n].read_busy) ||
		    !E.link[n])
			continue;
		t = now_rt + ms(rrange(1, 8)) +
		    (chance(P.tail) ? ms(rrange(10, 150) * P.scale) : 0);
		if (t <= N[n].last_watch)
			t = N[n].last_watch + 1;
		N[n].last_watch = t;
		sched(t, EV_WATCH, n, &e);
	}
}

/* Delete a lease and everything on it, in one revision. */
static void
lease_end(struct lease *l)
{
	int i, owner = l->owner;

	if (E.st.lease[owner] == l->id) {
		E.st.lease[owner] = 0;
		E.st.healthy &= ~(1u << owner);
	}
	for (i = 0; i < P.nip; i++)
		if (E.st.mark_lease[i] == l->id) {
			E.st.mark_lease[i] = 0;
			E.st.mark_node[i] = NONE;
			E.st.mark_seq[i]++;
		}
	*l = E.leases[--E.nleases];
	watch_fire();
}

static rt_t	 tick_at;	/* the pending EV_ETCD_TICK, 0 none */

static void
etcd_expire(void)
{
	int	 i;
	rt_t	 next = 0;

	if (E.mode != E_UP)
		return;
	for (i = 0; i < E.nleases; i++)
		if (E.leases[i].expiry <= now_rt) {
			lease_end(&E.leases[i]);
			i = -1;
		}
	for (i = 0; i < E.nleases; i++)
		if (next == 0 || E.leases[i].expiry < next)
			next = E.leases[i].expiry;
	/* keepalives only move expiries later: an early tick re-arms */
	if (next != 0 && (tick_at <= now_rt || next < tick_at)) {
		tick_at = next;
		sched(next, EV_ETCD_TICK, NONE, NULL);
	}
}

static void
etcd_answer(struct ev *e)
{
	int n = e->node;

	if (!E.link[n] || (e->inc != N[n].inc))
		return;		/* lost: the requester times out */
	sched(now_rt + ms(rrange(0, 3)) +
	    (chance(P.tail) ? ms(rrange(5, 100) * P.scale) : 0),
	    EV_ETCD_RESP, n, e);
}

static void
etcd_process(struct ev *e)
{
	struct req	*r = &e->u.r;
	struct lease	*l;
	int		 n = e->node, ip = r->ip;

	etcd_expire();
	r->ok = 0;
	switch (r->kind) {
	case R_GRANT:
		if (E.nleases == MAXLEASES)
			break;
		l = &E.leases[E.nleases++];
		l->id = ++E.next_id;
		l->owner = n;
		l->expiry = now_rt + etcd_span(P.ttl_ms);
		r->result = l->id;
		E.st.lease[n] = l->id;		/* its node key */
		E.st.healthy &= ~(1u << n);
		r->ok = 1;
		watch_fire();
		break;
	case R_KA:
		if ((l = lease_find(r->lease)) != NULL) {
			l->expiry = now_rt + etcd_span(P.ttl_ms);
			r->ok = 1;
		}
		break;
	case R_CLAIM:
	case R_REMARK:
		/* if mark absent and our member key: put(mark, lease) */
		if (lease_find(r->lease) == NULL ||
		    !(E.st.member & (1u << n)))
			break;
		/*
		 * Only a re-mark succeeds on a mark already ours: the claim
		 * txn compares create_revision 0 (engine_marks.c claim()),
		 * which fails on any mark.
		 */
		if (r->kind == R_REMARK && E.st.mark_lease[ip] == r->lease) {
			r->ok = 1;
			r->result = E.st.mark_rev[ip];
			break;
		}
		if (E.st.mark_lease[ip] != 0)
			break;
		if (r->kind == R_CLAIM && r->result != E.st.mark_seq[ip] &&
		    !(P.pc.broken & BROKEN_STALE_CLAIM))
			break;		/* our view of the IP is stale */
		E.st.mark_seq[ip]++;
		E.st.mark_lease[ip] = r->lease;
		E.st.mark_node[ip] = n;
		E.st.mark_rev[ip] = E.st.rev + 1;
		r->ok = 1;
		r->result = E.st.mark_rev[ip];
		watch_fire();
		break;
	case R_RELEASE:
		/* if the mark is the one we made: a late one cannot hit a
		   newer mark of ours */
		if (E.st.mark_lease[ip] == r->lease && r->lease != 0 &&
		    E.st.mark_rev[ip] == r->result) {
			E.st.mark_lease[ip] = 0;
			E.st.mark_node[ip] = NONE;
			E.st.mark_seq[ip]++;
			watch_fire();
		}
		r->ok = 1;
		break;
	case R_REVOKE:
		if ((l = lease_find(r->lease)) != NULL)
			lease_end(l);
		r->ok = 1;
		break;
	case R_REGISTER:
		if (!(E.st.member & (1u << n))) {
			E.st.member |= 1u << n;
			watch_fire();
		}
		r->ok = 1;
		break;
	case R_HEALTHY:
		if (lease_find(r->lease) != NULL &&
		    E.st.lease[n] == r->lease) {
			E.st.healthy |= 1u << n;
			watch_fire();
			r->ok = 1;
		}
		break;
	case R_UNHEALTHY:
		/* a delete that compares the lease (node_withdraw) */
		if (E.st.lease[n] == r->lease && (E.st.healthy & (1u << n))) {
			E.st.healthy &= ~(1u << n);
			watch_fire();
		}
		r->ok = 1;
		break;
	case R_READ:
		N[n].read_snap = E.st;
		r->result = E.st.rev;
		r->ok = 1;
		break;
	case R_LEAVE:
		/* marks and member key first (lease alive), then revoke */
		for (ip = 0; ip < P.nip; ip++)
			if (E.st.mark_lease[ip] == r->lease && r->lease) {
				E.st.mark_lease[ip] = 0;
				E.st.mark_node[ip] = NONE;
				E.st.mark_seq[ip]++;
			}
		E.st.member &= ~(1u << n);
		watch_fire();
		if ((l = lease_find(r->lease)) != NULL)
			lease_end(l);
		r->ok = 1;
		break;
	}
	etcd_expire();		/* arms the tick for a new lease */
	etcd_answer(e);
}

static void
etcd_arrive(struct ev *e)
{
	if (!E.link[e->node] || E.mode == E_DOWN)
		return;
	if (E.mode == E_FROZEN) {
		if (E.nfrozen < FROZEN_MAX)
			E.frozen[E.nfrozen++] = *e;
		return;
	}
	etcd_process(e);
}

static void
etcd_resume(void)
{
	int i;

	if (E.mode == E_UP)
		return;
	if (E.mode == E_DOWN || !E.resume_expires) {
		/* a new leader (or a restart) extends every lease */
		for (i = 0; i < E.nleases; i++)
			if (E.leases[i].expiry < now_rt + etcd_span(P.ttl_ms))
				E.leases[i].expiry = now_rt +
				    etcd_span(P.ttl_ms);
	}
	if (E.mode == E_DOWN)
		E.nfrozen = 0;
	E.mode = E_UP;
	etcd_expire();		/* overdue leases go at once */
	for (i = 0; i < E.nfrozen; i++)
		etcd_process(&E.frozen[i]);
	E.nfrozen = 0;
}

/* --------------------------------------------------------- the engine */

static void	step(int);

static uint64_t
lnow(int n)
{
	return local_ms(n, now_rt);
}

static uint64_t	send_req(int, int, int, uint64_t, int, uint64_t);

static uint64_t
send_req(int n, int kind, int ip, uint64_t lease, int target, uint64_t arg)
{
	struct ev e;

	memset(&e, 0, sizeof(e));
	e.u.r.kind = kind;
	e.u.r.ip = ip;
	e.u.r.lease = lease;
	e.u.r.target = target;
	e.u.r.result = arg;
	e.u.r.sent = lnow(n);
	trace(n, "req %d ip%d lease %" PRIu64 " target %d link %d", kind, ip,
	    lease, target, E.link[n]);
	/* the answer or, if none comes, the failure at the timeout */
	if (E.link[n])
		sched(now_rt + ms(rrange(0, 3)) +
		    (chance(P.tail) ? ms(rrange(5, 100) * P.scale) : 0) +
		    /* a full read is heavier: the view stays stale longer */
		    (kind == R_READ ? ms(rrange(5, 60) * P.scale) : 0),
		    EV_ETCD_REQ, n, &e);
	e.u.r.ok = 2;		/* 2: timed out */
	if (kind != R_KA)	/* keepalives need no timeout */
		sched(real_at(n, lnow(n) + P.req_timeout_ms), EV_ETCD_RESP,
		    n, &e);
	return e.u.r.sent;
}

/* The parent's watchdog: drop everything at the deadline. */
static int nheld(int);

/*
 * The watchdog fires at the deadline; a later deadline re-arms it when
 * the earlier one fires (fewer stale events in the heap).
 */
static void
wd_arm(int n)
{
	struct ev	 e;
	rt_t		 at = real_at(n, N[n].deadline);

	if (at <= now_rt || (N[n].wd_at > now_rt && N[n].wd_at <= at))
		return;		/* passed (step fences), or armed earlier */
	N[n].wd_at = at;
	memset(&e, 0, sizeof(e));
	e.u.gen = ++N[n].wd_gen;
	sched(at, EV_WATCHDOG, n, &e);
}

static void
deadline_set(int n)
{
	uint64_t nd_new = prule_hold_until(&N[n].pr), t = lnow(n);

	if (nheld(n) > 0 && N[n].deadline <= t && nd_new > t)
		violation("hold revived", -1, n, n);
	trace(n, "deadline %" PRIu64 " (local %" PRIu64 ") E %" PRIu64
	    " lapsed %d nheld %zu", nd_new, t, N[n].pr.etcd_until,
	    N[n].pr.lapsed, N[n].pr.nheld);
	if (nheld(n) > 0 && nd_new > N[n].pr.etcd_until && N[n].deadline <=
	    N[n].pr.etcd_until)
		S.failsafe_holds++;
	N[n].deadline = nd_new;
	wd_arm(n);
}

static int
nheld(int n)
{
	int ip, c = 0;

	for (ip = 0; ip < P.nip; ip++)
		c += N[n].held[ip];
	return c;
}

static void
fence(int n)
{
	struct node *nd = &N[n];

	trace(n, "FENCE local %" PRIu64 " deadline %" PRIu64, lnow(n),
	    nd->deadline);
	memset(nd->held, 0, sizeof(nd->held));
	prule_marked(&nd->pr, lnow(n), nd->lease, 0);
	if (nd->lease != 0) {
		nd->abandon = nd->lease;
		nd->lease = 0;
		nd->healthy_on = 0;
		prule_lease_lost(&nd->pr, lnow(n));
	}
}

static uint64_t	 weights[MAXIP][MAXN];

static uint64_t
weight_compute(int ip, int node)
{
	uint64_t z = (uint64_t)(ip * 131 + node * 7919 + 17) *
	    0x9e3779b97f4a7c15ULL;

	z ^= z >> 29;
	z *= 0xbf58476d1ce4e5b9ULL;
	return z ^ (z >> 32);
}

/* Rendezvous over the healthy nodes of the view. */
static int
assigned(const struct snap *v, int ip)
{
	int	 m, best = NONE;
	uint64_t w, bw = 0;

	for (m = 0; m < P.n; m++) {
		if (!(v->healthy & (1u << m)) || v->lease[m] == 0)
			continue;
		w = weights[ip][m];
		if (best == NONE || w > bw) {
			best = m;
			bw = w;
		}
	}
	return best;
}

static void
release(int n, int ip, uint64_t rev)
{
	N[n].release_busy[ip] = 1;
	N[n].release_sent[ip] = send_req(n, R_RELEASE, ip, N[n].lease, 0, rev);
}

static void
engine_etcd(int n)
{
	struct node	*nd = &N[n];
	uint64_t	 t = lnow(n);
	int		 ip, m;

	if (nd->leaving)
		return;
	if (!nd->watch_ok && !nd->read_busy) {
		nd->read_busy = 1;
		send_req(n, R_READ, 0, 0, 0, 0);
	}
	if (nd->lease == 0 && !nd->grant_busy) {
		if (nd->abandon != 0)
			send_req(n, R_REVOKE, 0, nd->abandon, n, 0);
		nd->abandon = 0;
		nd->grant_busy = 1;
		nd->grant_sent = send_req(n, R_GRANT, 0, 0, 0, 0);
	}
	if (!nd->viewed || nd->lease == 0)
		return;
	if (!(nd->view.member & (1u << n)) && !nd->reg_busy &&
	    prule_connected(&nd->pr, t)) {
		nd->reg_busy = 1;
		send_req(n, R_REGISTER, 0, 0, 0, 0);
	}
	/* joined, then lost the join rule: withdraw the key (engine.c) */
	if (nd->healthy_on == nd->lease && !nd->healthy_busy &&
	    !prule_ready(&nd->pr, t)) {
		nd->healthy_busy = 1;
		send_req(n, R_UNHEALTHY, 0, nd->lease, 0, 0);
	}
	if (nd->healthy_on != nd->lease && !nd->healthy_busy &&
	    prule_ready(&nd->pr, t)) {
		nd->healthy_busy = 1;
		send_req(n, R_HEALTHY, 0, nd->lease, 0, 0);
	}
	/* re-mark what we hold on our new lease, first */
	if (nheld(n) > 0 && nd->pr.hold_lease != nd->lease &&
	    prule_connected(&nd->pr, t)) {
		for (ip = 0; ip < P.nip; ip++)
			if (nd->held[ip] && nd->remark[ip] == 0) {
				nd->remark[ip] = 1;
				nd->remark_sent[ip] = send_req(n, R_REMARK,
				    ip, nd->lease, 0, 0);
			}
		return;
	}
	for (m = 0; m < P.n && prule_connected(&nd->pr, t); m++)
		if (m != n && nd->view.lease[m] != 0 && !nd->revoke_busy[m] &&
		    prule_may_revoke(&nd->pr, t, names[m])) {
			nd->revoke_busy[m] = 1;
			send_req(n, R_REVOKE, 0, nd->view.lease[m], m, 0);
		}
	if (!prule_connected(&nd->pr, t))
		return;		/* frozen assignment */
	for (ip = 0; ip < P.nip; ip++) {
		int owner = assigned(&nd->view, ip);

		if (nd->held[ip] && owner != n && nd->withdrawn != nd->lease) {
			nd->held[ip] = 0;	/* the parent first */
			prule_marked(&nd->pr, t, nd->lease, nheld(n));
			release(n, ip, nd->mine_rev[ip]);
		} else if (owner == n && !nd->held[ip] &&
		    nd->view.mark_lease[ip] == 0 && !nd->claim_busy[ip] &&
		    !nd->release_busy[ip] && !prule_may_claim(&nd->pr, t)) {
			trace(n, "no claim ip%d: conn %d ready %d gate %" PRIu64
			    " t %" PRIu64 " hold_lease %" PRIu64 " lease %"
			    PRIu64 " nheld %zu", ip,
			    prule_connected(&nd->pr, t),
			    prule_ready(&nd->pr, t), nd->pr.gate, t,
			    nd->pr.hold_lease, nd->pr.cur_lease,
			    nd->pr.nheld);
		} else if (owner == n && !nd->held[ip] &&
		    nd->view.mark_lease[ip] == 0 && !nd->claim_busy[ip] &&
		    !nd->release_busy[ip] && prule_may_claim(&nd->pr, t)) {
			nd->claim_busy[ip] = 1;
			nd->claim_sent[ip] = send_req(n, R_CLAIM, ip,
			    nd->lease, 0, nd->view.mark_seq[ip]);
		} else if (nd->view.mark_lease[ip] == nd->lease &&
		    !nd->held[ip] && !nd->claim_busy[ip] &&
		    !nd->release_busy[ip])
			release(n, ip, nd->view.mark_rev[ip]);
	}
}

static void
step(int n)
{
	struct node	*nd = &N[n];
	uint64_t	 t, next;

	if (!nd->alive)
		return;
	t = lnow(n);
	prule_tick(&nd->pr, t);
	if (nheld(n) > 0 && t >= prule_hold_until(&nd->pr))
		fence(n);
	engine_etcd(n);
	if (prule_hold_until(&nd->pr) != nd->deadline)
		deadline_set(n);
	next = prule_next_change(&nd->pr, t);
	if (next != PRULE_NEVER && (nd->step_at <= t || next < nd->step_at)) {
		nd->step_at = next;
		sched(real_at(n, next), EV_STEP, n, NULL);
	}
}

static void
view_apply(int n, const struct snap *v, int full)
{
	struct node	*nd = &N[n];
	uint64_t	 t = lnow(n);
	int		 m, ip, lost;
	size_t		 freed;

	if (nd->viewed && v->rev <= nd->view.rev && !full)
		return;
	if (full)
		prule_full_read(&nd->pr, t);
	for (m = 0; m < P.n; m++) {
		freed = 0;
		if (!full && nd->viewed && nd->view.lease[m] != 0 &&
		    v->lease[m] != nd->view.lease[m])
			for (ip = 0; ip < P.nip; ip++)
				if (nd->view.mark_lease[ip] ==
				    nd->view.lease[m] &&
				    v->mark_lease[ip] != nd->view.lease[m])
					freed++;
		prule_view_node(&nd->pr, t, names[m],
		    (v->member >> m) & 1, v->lease[m], freed);
	}
	lost = nd->lease != 0 && nd->view.lease[n] == nd->lease &&
	    v->lease[n] != nd->lease;
	nd->view = *v;
	nd->viewed = 1;
	/* our node key gone: the lease is gone */
	if (lost) {
		nd->lease = 0;
		nd->healthy_on = 0;
		memset(nd->remark, 0, sizeof(nd->remark));
		prule_lease_lost(&nd->pr, t);
	}
}

static void
resp(int n, struct ev *e)
{
	struct node	*nd = &N[n];
	struct req	*r = &e->u.r;
	uint64_t	 t = lnow(n);
	int		 ip = r->ip;

	trace(n, "resp %d ip%d ok %d lease %" PRIu64 " result %" PRIu64,
	    r->kind, ip, r->ok, r->lease, r->result);
	switch (r->kind) {
	case R_GRANT:
		if (!nd->grant_busy || r->sent != nd->grant_sent)
			break;		/* the answer after the timeout */
		nd->grant_busy = 0;
		if (r->ok == 1) {
			nd->lease = r->result;
			memset(nd->remark, 0, sizeof(nd->remark));
			prule_lease_granted(&nd->pr, t, r->result, r->sent);
			if (nheld(n) == 0)
				prule_marked(&nd->pr, t, nd->lease, 0);
		}
		break;
	case R_KA:
		if (r->sent == nd->ka_sent)
			nd->ka_busy = 0;
		if (r->ok == 2)
			break;
		if (r->ok == 1)
			prule_etcd_ok(&nd->pr, t, r->lease, r->sent);
		else if (r->lease == nd->lease) {
			nd->lease = 0;
			nd->healthy_on = 0;
			memset(nd->remark, 0, sizeof(nd->remark));
			prule_lease_lost(&nd->pr, t);
		}
		break;
	case R_CLAIM:
		if (!nd->claim_busy[ip] || r->sent != nd->claim_sent[ip])
			break;
		nd->claim_busy[ip] = 0;
		if (r->ok != 1 || r->lease != nd->lease)
			break;
		nd->mine_rev[ip] = r->result;
		{
			int q, out = 0;

			for (q = 0; q < (int)nd->pr.npeers; q++)
				if (nd->pr.peers[q].promised_until > t) {
					int a = nd->pr.peers[q].name[1] - '0';

					out = 1;
					if (getenv("SIMSTATS"))
						printf("run %" PRIu64 " %.3f n%d "
						    "claims ip%d, promised n%d "
						    "(+%" PRId64 " ms) which "
						    "holds %d%d%d%d%d%d link %d "
						    "dl+%" PRId64 "\n", S.runs,
						    now_rt / 1e6, n, ip, a,
						    (int64_t)(nd->pr.peers[q].
						    promised_until - t),
						    holds(a, 0, now_rt),
						    holds(a, 1, now_rt),
						    holds(a, 2, now_rt),
						    holds(a, 3, now_rt),
						    holds(a, 4, now_rt),
						    holds(a, 5, now_rt),
						    E.link[a],
						    (int64_t)(N[a].deadline -
						    local_ms(a, now_rt)));
				}
			S.promised_claims += out;
		}
		if (t < prule_hold_until(&nd->pr) &&
		    nd->pr.hold_lease == nd->lease) {
			add_address(n, ip);
			prule_marked(&nd->pr, t, nd->lease, nheld(n));
		} else
			release(n, ip, r->result);
		break;
	case R_REMARK:
		if (nd->remark[ip] != 1 || r->lease != nd->lease ||
		    r->sent != nd->remark_sent[ip])
			break;
		if (r->ok == 1) {
			nd->remark[ip] = 2;
			nd->mine_rev[ip] = r->result;
		}
		else if (r->ok == 0) {
			nd->held[ip] = 0;	/* someone else's mark */
			nd->remark[ip] = 0;
		} else
			nd->remark[ip] = 0;	/* timed out: again */
		for (ip = 0; ip < P.nip; ip++)
			if (nd->held[ip] && nd->remark[ip] != 2)
				return;
		prule_marked(&nd->pr, t, nd->lease, nheld(n));
		break;
	case R_REVOKE:
		if (r->target != n && r->target >= 0)
			nd->revoke_busy[(int)r->target] = 0;
		if (r->ok == 1 && r->target != n)
			prule_revoked(&nd->pr, t, names[(int)r->target]);
		break;
	case R_REGISTER:
		nd->reg_busy = 0;
		break;
	case R_HEALTHY:
		nd->healthy_busy = 0;
		if (r->ok == 1) {
			nd->healthy_on = r->lease;
			nd->withdrawn = 0;
		}
		break;
	case R_UNHEALTHY:
		nd->healthy_busy = 0;
		if (r->ok == 1 && nd->healthy_on == r->lease) {
			nd->healthy_on = 0;
			nd->withdrawn = r->lease;
		}
		break;
	case R_READ:
		if (!nd->read_busy)
			break;
		nd->read_busy = 0;
		if (r->ok == 1 && !nd->watch_ok && E.link[n] &&
		    nd->read_snap.rev == r->result) {
			struct ev c;

			nd->watch_ok = 1;
			view_apply(n, &nd->read_snap, 1);
			/* the watch from the read's revision catches up */
			if (E.st.rev != r->result) {
				memset(&c, 0, sizeof(c));
				c.u.rev = E.st.rev;
				sched(now_rt + ms(1), EV_WATCH, n, &c);
			}
		}
		break;
	case R_RELEASE:
		/*
		 * Only the answer (or timeout) of the release in flight: a
		 * late one of an earlier release must not let a claim go
		 * out while this one may still delete the mark.  dcs ties
		 * each answer to its own request (held.req, one per IP).
		 */
		if (r->sent == nd->release_sent[ip])
			nd->release_busy[ip] = 0;
		break;
	case R_LEAVE:
		break;
	}
}

/* ---------------------------------------------------- nodes and faults */

static void
node_start(int n)
{
	struct node	*nd = &N[n];
	uint32_t	 inc = nd->inc + 1;
	int64_t		 off = nd->off_us;
	int32_t		 drift = nd->drift_ppm;

	memset(nd, 0, sizeof(*nd));
	nd->inc = inc;
	nd->off_us = off;
	nd->drift_ppm = drift;
	nd->alive = 1;
	prule_init(&nd->pr, &P.pc, names[n], lnow(n));
	sched(now_rt + ms(rrange(0, P.hb_ms)), EV_HB, n, NULL);
	sched(now_rt, EV_KA, n, NULL);
	step(n);
}

static void
node_stop(int n, int graceful)
{
	struct node *nd = &N[n];

	if (!nd->alive)
		return;
	memset(nd->held, 0, sizeof(nd->held));
	if (graceful && nd->lease != 0)
		send_req(n, R_LEAVE, 0, nd->lease, 0, 0);
	nd->alive = 0;
	nd->inc++;	/* its pending events die, the leave goes out */
}

static void
net_send(int from, int to, const struct prule_msg *m)
{
	struct ev	 e;
	int		 copies = 1, i;

	if (!plink[from][to] || chance(P.loss))
		return;
	if (chance(P.dup))
		copies = 2;
	memset(&e, 0, sizeof(e));
	e.u.msg = *m;
	e.from = from;
	for (i = 0; i < copies; i++) {
		rt_t d = rrange(100, 2000);

		if (chance(P.tail))
			d += ms(rrange(5, 150) * P.scale);
		if (chance(P.stall))	/* a stalled queue, a late copy */
			d += ms(rrange(100, P.pc.promise_ms));
		sched(now_rt + d, EV_MSG, to, &e);
	}
}

static void
heartbeat(int n)
{
	struct prule_msg	 m;
	int			 to;

	for (to = 0; to < P.n; to++) {
		if (to == n)
			continue;
		prule_send(&N[n].pr, lnow(n), names[to], &m);
		net_send(n, to, &m);
	}
	sched(real_at(n, lnow(n) + P.hb_ms), EV_HB, n, NULL);
}

static int	nheld(int);

static void
set_calm(void)
{
	int i, j;

	for (i = 0; i < P.n; i++) {
		E.link[i] = 1;
		for (j = 0; j < P.n; j++)
			plink[i][j] = 1;
	}
	calm = 1;
	etcd_cut_only = NONE;
	peer_cut_only = NONE;
	calm_since = now_rt;
	for (i = 0; i < MAXIP; i++)
		bad_since[i] = now_rt;
}

static void
link_etcd(int n, int up)
{
	E.link[n] = up;
	if (!up)
		N[n].watch_ok = 0;
}

/*
 * The second step of a calm spell: one node of the settled pool is cut
 * from its peers only, both ways, deaf or mute; etcd still reaches
 * everyone.  Calm goes on: every IP must have exactly one holder again
 * within SETTLE of the cut (DESIGN.md 10.2 item 4: the majority revokes
 * the cut node, the cut node revokes nobody).
 */
static void
peer_cut(void)
{
	int	 a = (int)rrange(0, P.n - 1), way = (int)rrange(0, 2), i;

	for (i = 0; i < P.n; i++) {
		if (i == a)
			continue;
		if (way != 2)
			plink[i][a] = 0;	/* it hears nobody */
		if (way != 1)
			plink[a][i] = 0;	/* nobody hears it */
	}
	peer_cut_only = a;
	calm_since = now_rt;
	for (i = 0; i < MAXIP; i++)
		bad_since[i] = now_rt;
	S.peer_cuts++;
	trace(a, "cut from its peers (%s)", way == 0 ? "both" : way == 1 ?
	    "deaf" : "mute");
}

/* Calm, or one to three faults at once; the next step after dur. */
static void
fault(void)
{
	int	 i, j, k, a, nf;
	rt_t	 dur = ms(rrange(300, 8000) * P.scale);
	int	 dead = 0;

	if (peer_cut_next) {
		peer_cut_next = 0;
		peer_cut();
		sched(now_rt + P.settle + ms(rrange(1000, 10000) * P.scale),
		    EV_FAULT, NONE, NULL);
		return;
	}
	calm = 0;
	if (resume_cut_next) {
		/*
		 * etcd resumes after a freeze that outlived the leases and
		 * expires them all, while a holder cannot reach it: its
		 * addresses are unmarked, it holds them on promises, and
		 * everybody else may claim as soon as the rule lets them.
		 */
		resume_cut_next = 0;
		for (i = 0; i < P.n; i++)
			if (N[i].alive && nheld(i) > 0)
				break;
		if (i < P.n)
			link_etcd(i, 0);
		/* and maybe a quick restart of another node */
		j = (int)rrange(0, P.n - 1);
		if (j != i && chance(0.5)) {
			node_stop(j, 0);
			sched(now_rt + ms(rrange(20, 300) * P.scale), EV_START,
			    j, NULL);
		}
		E.resume_expires = 1;
		etcd_resume();
		sched(now_rt + dur, EV_FAULT, NONE, NULL);
		return;
	}
	if (chance(0.08)) {
		/* first step: everybody up and meshed, etcd frozen */
		for (i = 0; i < P.n; i++) {
			link_etcd(i, 1);
			for (j = 0; j < P.n; j++)
				plink[i][j] = 1;
		}
		if (E.mode == E_UP)
			E.mode = E_FROZEN;
		resume_cut_next = 1;
		dur = ms(P.ttl_ms) + ms(rrange(100, 3000) * P.scale);
		sched(now_rt + dur, EV_FAULT, NONE, NULL);
		return;
	}
	k = chance(0.25) ? 0 : (int)rrange(4, 15);
	for (nf = k ? (int)rrange(1, 3) : 1; nf > 0;
	    nf--, k = (int)rrange(4, 15)) {
	dead = 0;
	for (i = 0; i < P.n; i++)
		dead += !N[i].alive;
	switch (k) {
	case 0: case 1: case 2: case 3:
		/* calm: heal everything, restart the dead */
		for (i = 0; i < P.n; i++)
			link_etcd(i, 1);
		E.resume_expires = chance(0.5);
		etcd_resume();
		for (i = 0; i < P.n; i++)
			if (!N[i].alive)
				node_start(i);
		set_calm();
		if (chance(0.2)) {
			etcd_cut_only = (int)rrange(0, P.n - 1);
			link_etcd(etcd_cut_only, 0);
		} else if (peer_cuts_on && chance(0.25))
			peer_cut_next = 1;
		dur = P.settle + ms(rrange(1000, 10000) * P.scale);
		break;
	case 4:		/* etcd frozen; resume by expiry or extension */
		if (E.mode == E_UP)
			E.mode = E_FROZEN;
		E.resume_expires = chance(0.5);
		if (chance(0.3))
			dur = ms(rrange(100, 2000) * P.scale);
		else if (chance(0.2))
			dur = ms(P.pc.failsafe_max_ms) + ms(rrange(0, 5000));
		break;
	case 5:		/* every etcd member down */
		E.mode = E_DOWN;
		E.nfrozen = 0;
		for (i = 0; i < P.n; i++)
			N[i].watch_ok = 0;
		break;
	case 6:		/* etcd back, maybe not for one node */
		if (chance(0.5))
			link_etcd((int)rrange(0, P.n - 1), 0);
		E.resume_expires = chance(0.5);
		etcd_resume();
		break;
	case 7:		/* some nodes cut from etcd */
		for (i = 0; i < P.n; i++)
			link_etcd(i, !chance(0.4));
		break;
	case 8:		/* random directed peer links */
		for (i = 0; i < P.n; i++)
			for (j = 0; j < P.n; j++)
				plink[i][j] = !chance(0.3);
		break;
	case 9:		/* a clean split in two */
		a = (int)rrange(1, (1 << P.n) - 2);
		for (i = 0; i < P.n; i++)
			for (j = 0; j < P.n; j++)
				plink[i][j] = ((a >> i) & 1) == ((a >> j) & 1);
		if (chance(0.5))
			for (i = 0; i < P.n; i++)
				link_etcd(i, (a >> i) & 1);
		break;
	case 10:	/* one node deaf, or mute */
		a = (int)rrange(0, P.n - 1);
		j = chance(0.5);
		for (i = 0; i < P.n; i++)
			if (i != a) {
				if (j)
					plink[i][a] = 0;
				else
					plink[a][i] = 0;
			}
		break;
	case 11:	/* crash */
	case 12:
		if (dead < P.n - 1)
			node_stop((int)rrange(0, P.n - 1), 0);
		break;
	case 13:	/* graceful leave; it comes back as a joiner */
		if (dead < P.n - 1)
			node_stop((int)rrange(0, P.n - 1), 1);
		break;
	case 14:	/* a dead node starts (a join, or a restart) */
		for (i = 0; i < P.n; i++)
			if (!N[i].alive && chance(0.5))
				node_start(i);
		break;
	case 15:	/* heal the peer links only */
		for (i = 0; i < P.n; i++)
			for (j = 0; j < P.n; j++)
				plink[i][j] = 1;
		break;
	}
	}
	sched(now_rt + dur, EV_FAULT, NONE, NULL);
}

/* ------------------------------------------------------------- a run */

static void
dispatch(struct ev *e)
{
	int		 n = e->node;
	struct node	*nd = n >= 0 ? &N[n] : NULL;

	switch (e->kind) {
	case EV_FAULT:
		fault();
		trace(-1, "fault: etcd mode %d expires %d links %d%d%d%d%d%d%d",
		    E.mode, E.resume_expires, E.link[0], E.link[1], E.link[2],
		    E.link[3], E.link[4], E.link[5], E.link[6]);
		return;
	case EV_LIVE:
		check_live();
		sched(now_rt + ms(100 * P.scale), EV_LIVE, NONE, NULL);
		return;
	case EV_ETCD_TICK:
		if (e->t == tick_at)
			tick_at = 0;
		etcd_expire();
		return;
	case EV_ETCD_REQ:
		if (e->inc == nd->inc || e->u.r.kind == R_LEAVE)
			etcd_arrive(e);
		return;
	case EV_START:
		if (!nd->alive)
			node_start(n);
		return;
	default:
		break;
	}
	if (!nd->alive || e->inc != nd->inc)
		return;
	switch (e->kind) {
	case EV_MSG:
		trace(n, "recv from n%d sent %" PRIu64, e->from, e->u.msg.sent);
		prule_recv(&nd->pr, lnow(n), names[(int)e->from], &e->u.msg);
		break;
	case EV_ETCD_RESP:
		resp(n, e);
		break;
	case EV_WATCH:
		if (!nd->watch_ok || !E.link[n])
			break;
		if (hist[e->u.rev % HIST].rev != e->u.rev)
			nd->watch_ok = 0;	/* compacted: read again */
		else
			view_apply(n, &hist[e->u.rev % HIST], 0);
		break;
	case EV_HB:
		heartbeat(n);
		break;
	case EV_KA:
		/* one every ka_ms, not waiting for answers (several may be
		   in flight): one slow answer must not stall the next */
		if (nd->lease != 0) {
			nd->ka_busy = 1;
			nd->ka_sent = send_req(n, R_KA, 0, nd->lease, 0, 0);
		}
		sched(real_at(n, lnow(n) + P.ka_ms), EV_KA, n, NULL);
		break;
	case EV_WATCHDOG:
		if (e->u.gen != nd->wd_gen)
			return;
		nd->wd_at = 0;
		if (nheld(n) > 0 && lnow(n) >= nd->deadline)
			fence(n);
		else
			wd_arm(n);
		break;
	case EV_STEP:
		break;
	}
	step(n);
}

static void
params_pick(unsigned broken)
{
	memset(&P, 0, sizeof(P));
	P.n = (int)rrange(2, MAXN);
	P.nip = (int)rrange(1, MAXIP);
	P.scale = (int)rrange(1, 4);
	prule_defaults(&P.pc);
	P.pc.hold_ms *= P.scale;
	P.pc.promise_ms *= P.scale;
	P.pc.peer_timeout_ms *= P.scale;
	P.pc.failsafe_max_ms = (uint32_t)rrange(5000, 30000) * P.scale;
	P.pc.broken = broken;
	/* a margin of 2 ms leaves only the bounds themselves */
	if (broken || chance(0.5))
		P.pc.margin_ms = 2;
	P.pc.wait_ms = prule_min_wait(&P.pc);
	P.hb_ms = 50 * P.scale;
	P.ka_ms = P.pc.hold_ms / 4;
	P.ttl_ms = 2000 * P.scale;
	P.req_timeout_ms = 500 * P.scale;
	P.loss = chance(0.5) ? 0.01 : 0.1;
	P.dup = 0.02;
	P.tail = chance(0.5) ? 0.01 : chance(0.5) ? 0.05 : 0.2;
	P.stall = chance(0.5) ? 0.001 : 0.01;
	P.settle = ms(P.ttl_ms + P.pc.promise_ms + 3 * P.pc.wait_ms +
	    P.req_timeout_ms * 2 + 2000 * P.scale);
}

static void
run(double seconds, unsigned broken)
{
	struct ev	 e;
	rt_t		 end;
	int		 i, j;

	run_state = rng;
	params_pick(broken);
	for (i = 0; i < MAXIP; i++)
		for (j = 0; j < MAXN; j++)
			weights[i][j] = weight_compute(i, j);
	memset(N, 0, sizeof(N));
	memset(&E, 0, sizeof(E));
	nheap = 0;
	resume_cut_next = 0;
	peer_cut_next = 0;
	now_rt = 0;
	E.drift_ppm = (int32_t)rrange(-(int)P.pc.rho_ppm, P.pc.rho_ppm);
	for (i = 0; i < P.nip; i++)
		E.st.mark_node[i] = NONE;
	for (i = 0; i < P.n; i++) {
		/* rates at the bound most of the time */
		N[i].drift_ppm = chance(0.7) ? (chance(0.5) ? 1 : -1) *
		    (int32_t)P.pc.rho_ppm : (int32_t)rrange(-(int)P.pc.rho_ppm,
		    P.pc.rho_ppm);
		N[i].off_us = rrange(1000000, 1000000000);
		for (j = 0; j < P.n; j++)
			plink[i][j] = 1;
		E.link[i] = 1;
	}
	set_calm();
	for (i = 0; i < P.n; i++)
		sched(ms(rrange(0, 300)), EV_START, i, NULL);
	sched(P.settle + ms(2000), EV_FAULT, NONE, NULL);
	sched(ms(100), EV_LIVE, NONE, NULL);
	tick_at = 0;
	end = (rt_t)(seconds * 1e6);
	while (nheap > 0) {
		pop(&e);
		if (e.t > end)
			break;
		if (e.t > now_rt)
			now_rt = e.t;
		S.events++;
		dispatch(&e);
	}
	S.seconds += seconds;
	S.runs++;
}

static void
simulate(double total, double per_run, unsigned broken, int stop_at_first)
{
	double done = 0;

	while (done < total) {
		run(per_run, broken);
		done += per_run;
		if (stop_at_first && (S.violations || S.live_fail))
			break;
	}
}

/*
 * Each must be caught within its budget of simulated seconds (the run
 * stops at the first catch).  A stale claim needs a lagging view, a claim
 * and a revoke of the holder in the same few milliseconds: rare, hence
 * the larger budget, and the run state that caught it when the sim last
 * changed (seed 11, run 39), replayed first.
 */
static const struct {
	unsigned	 bit;
	const char	*name;
	double		 budget;
	uint64_t	 caught;	/* a run state that catches it, or 0 */
} variants[] = {
	{ PRULE_BROKEN_RECV_TIME, "recv-time", 50000, 0 },
	{ PRULE_BROKEN_PROMISE_CONNECTED, "promise-connected", 50000, 0 },
	{ PRULE_BROKEN_NO_WAIT, "no-wait", 50000, 0 },
	{ PRULE_BROKEN_JOINER, "joiner", 50000, 0 },
	{ PRULE_BROKEN_CLAIM_PROMISED, "claim-promised", 50000, 0 },
	{ PRULE_BROKEN_NO_CUTBACK, "no-cutback", 50000, 0 },
	{ PRULE_BROKEN_NO_SCALE, "no-scale", 50000, 0 },
	{ PRULE_BROKEN_RESTART, "restart", 50000, 0 },
	{ PRULE_BROKEN_NO_QUORUM, "no-quorum", 50000, 0 },
	{ BROKEN_STALE_CLAIM, "stale-claim", 400000, 0x462184f27f75a747ULL },
};

/*
 * Runs that once failed, by the rng state they started in (replayed
 * alone, a run is the same as in its seed's sequence up to the bug):
 * about 0.1 s of CPU each.
 */
static const struct {
	uint64_t	 state;
	int		 cuts;		/* found with peer cuts in calm */
	const char	*what;
} regressions[] = {
	/* seed 1796658729 run 10: a late answer of an older release let a
	   claim go out while a release was in flight: two holders */
	{ 0x82ce19383b253a7aULL, 0, "release-answer" },
	/* seed 1796658261 run 348: a promiser whose keepalives were now
	   and then late kept a node cut from etcd alone holding, and could
	   not claim: IPs without a holder in calm */
	{ 0x7b74c569b33458fbULL, 0, "cut-alone" },
	/* seed 1796683527 run 197 (CI of 70bc169): IP 0 without a holder
	   for 8 s in calm, 12 stretches of a node in but not ready, before
	   node_withdraw() */
	{ 0xcb97c2bee69d9dadULL, 1, "join-lost" },
};

static int
run_regressions(char *res, size_t len)
{
	size_t	 i;
	int	 fail = 0;

	for (i = 0; i < sizeof(regressions) / sizeof(regressions[0]); i++) {
		memset(&S, 0, sizeof(S));
		rng = regressions[i].state;
		peer_cuts_on = regressions[i].cuts;
		run(2000, 0);
		if (S.violations || S.live_fail) {
			fail = 1;
			snprintf(res, len, " regression %s FAIL: %s",
			    regressions[i].what, S.first);
			break;
		}
	}
	if (!fail)
		snprintf(res, len, " %zu regression runs ok;", i);
	peer_cuts_on = 1;
	memset(&S, 0, sizeof(S));
	return fail;
}

int
main(void)
{
	const char	*s;
	double		 total = 1e6, budget;
	uint64_t	 seed = (uint64_t)time(NULL);
	struct stats	 good;
	clock_t		 c0 = clock();
	size_t		 v;
	uint64_t	 variant_seed = VARIANT_SEED;
	int		 fail = 0, do_variants = 1;
	char		 vres[512] = "", rres[400] = "";

	if ((s = getenv("YAIM_SIM_SECONDS")) != NULL)
		total = strtod(s, NULL);
	if ((s = getenv("YAIM_SIM_SEED")) != NULL)
		seed = strtoull(s, NULL, 0);
	if ((s = getenv("YAIM_SIM_VARIANTS")) != NULL)
		do_variants = atoi(s);
	if ((s = getenv("YAIM_SIM_VARIANT_SEED")) != NULL)
		variant_seed = strtoull(s, NULL, 0);
	if ((s = getenv("SIMTRACE")) != NULL)
		sscanf(s, "%d:%lf:%lf", &trace_run, &trace_from, &trace_to);
	if ((s = getenv("YAIM_SIM_STATE")) != NULL) {
		/* one run, from a state a failure printed */
		rng = strtoull(s, NULL, 0);
		run(2000, 0);
		printf("peers_sim: state %s, %" PRIu64 " events, %" PRIu64
		    " adds, %" PRIu64 " violations, %" PRIu64 " liveness "
		    "failures\n%s\n", s, S.events, S.adds, S.violations,
		    S.live_fail, S.first);
		return S.violations || S.live_fail;
	}
	printf("peers_sim: seed %" PRIu64 " (YAIM_SIM_SEED=%" PRIu64
	    " repeats this test)\n", seed, seed);
	fflush(stdout);
	fail = run_regressions(rres, sizeof(rres));
	rng = seed;
	if ((s = getenv("YAIM_SIM_BROKEN")) != NULL) {
		/* one broken variant, for debugging the self-test */
		simulate(total, 2000, (unsigned)strtoul(s, NULL, 0), 0);
		printf("broken %s: %.0f s, %" PRIu64 " violations, %" PRIu64
		    " liveness failures, failsafe holds %" PRIu64
		    ", claims with promises out %" PRIu64 "\n%s\n", s,
		    S.seconds, S.violations, S.live_fail, S.failsafe_holds,
		    S.promised_claims, S.first);
		return 0;
	}
	simulate(total, 2000, 0, 0);
	good = S;
	if (good.violations || good.live_fail)
		fail = 1;
	/*
	 * The self-test runs from a seed of its own, fixed: whether a broken
	 * variant is caught within its budget must not depend on the random
	 * seed of the main run (one CI run let stale-claim survive 400000 s).
	 */
	rng = variant_seed;
	for (v = 0; do_variants && v < sizeof(variants) / sizeof(variants[0]);
	    v++) {
		char buf[64];

		memset(&S, 0, sizeof(S));
		budget = variants[v].budget;
		if (variants[v].caught != 0) {
			uint64_t	 saved = rng;

			/*
			 * The run that caught it when it was recorded, first:
			 * any change to the sim shifts every later draw, and
			 * a rare catch can then take longer than the budget.
			 */
			rng = variants[v].caught;
			run(2000, variants[v].bit);
			rng = saved;
		}
		if (!S.violations && !S.live_fail)
			simulate(budget, 2000, variants[v].bit, 1);
		snprintf(buf, sizeof(buf), " %s=%s@%.0fs", variants[v].name,
		    S.violations ? "unsafe" : S.live_fail ? "stuck" :
		    "SURVIVED", S.seconds);
		strncat(vres, buf, sizeof(vres) - strlen(vres) - 1);
		if (getenv("SIMSTATS"))
			printf("%s: %s\n", variants[v].name, S.first);
		if (!S.violations && !S.live_fail)
			fail = 1;
	}
	if (getenv("SIMSTATS"))
		printf("failsafe holds %" PRIu64 " claims with promises out %"
		    PRIu64 "\n", S.failsafe_holds, S.promised_claims);
	printf("peers_sim: seed %" PRIu64 ",%s %.0f simulated s in %" PRIu64
	    " runs, %" PRIu64 " events, %" PRIu64 " adds, %" PRIu64
	    " cuts from peers, %" PRIu64 " violations, %" PRIu64
	    " liveness failures, %.1f cpu s;%s%s%s\n",
	    seed, rres, good.seconds, good.runs, good.events, good.adds,
	    good.peer_cuts, good.violations, good.live_fail,
	    (double)(clock() - c0) / CLOCKS_PER_SEC,
	    do_variants ? " broken variants:" : "", vres,
	    fail ? " FAIL" : "");
	if (good.first[0] != '\0')
		printf("first: %s\n", good.first);
	return fail;
}
