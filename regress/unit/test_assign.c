/*
 * Balancing (dcs/assign.c): every property of DESIGN.md section 4, checked
 * by a round simulator in which each node computes from the same view and
 * claims race with compare-and-set semantics, as etcd's txn does.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "dcs/assign.h"

#include "regress/unit/check.h"

#define MAXN		16	/* name universe: healthy and dead nodes */
#define MAXM		64
#define NONE		(-1)
#define MAX_ROUNDS	2	/* rounds with work before the fixpoint */
/*
 * With refusals an IP may first land on a node over its target and move
 * on later (assign.h: balance is best effort there): a looser bound.
 */
#define MAX_ROUNDS_REFUSED 5

static const char *universe[MAXN] = {
	"alpha", "bravo", "charlie-node.example", "d", "echo", "foxtrot",
	"golf", "hotel", "india", "juliet", "kilo", "lima",
	"dead-mike", "dead-november", "dead-oscar", "dead-papa",
};
#define DEAD0	12	/* universe[DEAD0..] are never healthy in sims */

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
shuffle(int *a, size_t n, uint64_t *s)
{
	size_t	 i, j;
	int	 t;

	for (i = n; i > 1; i--) {
		j = rnd(s) % i;
		t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

/*
 * The shared view.  holder[] is an index into universe[] or NONE.
 * knowall: every node passes every node's refusals; else only its own.
 */
struct world {
	int		 healthy[MAXN];
	size_t		 nh;
	struct yaim_addr ip[MAXM];
	size_t		 m;
	int		 holder[MAXM];
	uint8_t		 refuse[MAXN][MAXM];
	int		 knowall;
	uint64_t	 rng;
	int		 stats_rounds_max;
	int		 bound;		/* rounds allowed to the fixpoint */
};

/* One node's answer, in ip ids (indices into world.ip). */
struct answer {
	int		 claim[MAXM];
	size_t		 nclaim;
	int		 release[MAXM];
	size_t		 nrelease;
	int		 desired[MAXM];	/* universe index or NONE */
	size_t		 target;
};

static void
make_ip(struct yaim_addr *a, size_t i)
{
	memset(a, 0, sizeof(*a));
	if (i % 3 == 2) {
		a->af = AF_INET6;
		a->prefixlen = 128;
		a->addr[0] = 0x20;
		a->addr[1] = 0x01;
		a->addr[2] = 0x0d;
		a->addr[3] = 0xb8;
		a->addr[15] = (uint8_t)i;
	} else {
		a->af = AF_INET;
		a->prefixlen = 32;
		a->addr[0] = 198;
		a->addr[1] = 18;
		a->addr[2] = (uint8_t)(i / 200);
		a->addr[3] = (uint8_t)(i % 200 + 1);
	}
}

static void
world_init(struct world *w, size_t n, size_t m, uint64_t seed)
{
	size_t	 i;

	memset(w, 0, sizeof(*w));
	w->nh = n;
	for (i = 0; i < n; i++)
		w->healthy[i] = (int)i;
	w->m = m;
	for (i = 0; i < m; i++) {
		make_ip(&w->ip[i], i);
		w->holder[i] = NONE;
	}
	w->rng = seed;
	w->bound = MAX_ROUNDS;
}

static int
is_healthy(const struct world *w, int u)
{
	size_t	 i;

	for (i = 0; i < w->nh; i++)
		if (w->healthy[i] == u)
			return 1;
	return 0;
}

static int
name_index(const char *name)
{
	int	 u;

	for (u = 0; u < MAXN; u++)
		if (name != NULL && strcmp(universe[u], name) == 0)
			return u;
	return NONE;
}

static int
addr_sorted(const struct assign_ip *pool, const size_t *idx, size_t n)
{
	size_t	 i;

	for (i = 1; i < n; i++)
		if (yaim_addr_cmp(&pool[idx[i - 1]].addr,
		    &pool[idx[i]].addr) >= 0)
			return 0;
	return 1;
}

/*
 * Compute self's answer from a view in a fresh random input order, with
 * some duplicate nodes and pool entries thrown in, and check safety.
 */
static void
compute(struct world *w, int self, struct answer *ans)
{
	const char		*nodes[2 * MAXN + 1];
	struct assign_ip	 pool[2 * MAXM];
	struct assign_refusal	 refs[MAXN * MAXM];
	int			 perm[2 * MAXM], nperm[MAXN];
	size_t			 claim[2 * MAXM], release[2 * MAXM];
	const char		*desired[2 * MAXM];
	size_t			 targets[2 * MAXN + 1];
	struct assign_view	 v;
	struct assign_result	 r;
	size_t			 i, nn = 0, np = 0, nr = 0, k;
	int			 id, u, seen[MAXM];

	for (i = 0; i < w->nh; i++)
		nperm[i] = w->healthy[i];
	shuffle(nperm, w->nh, &w->rng);
	for (i = 0; i < w->nh; i++) {
		nodes[nn++] = universe[nperm[i]];
		if (rnd(&w->rng) % 8 == 0)
			nodes[nn++] = universe[nperm[i]];
	}
	if (rnd(&w->rng) % 8 == 0)
		nodes[nn++] = NULL;
	for (i = 0; i < w->m; i++) {
		perm[np++] = (int)i;
		if (rnd(&w->rng) % 16 == 0)
			perm[np++] = (int)i;
	}
	shuffle(perm, np, &w->rng);
	for (i = 0; i < np; i++) {
		pool[i].addr = w->ip[perm[i]];
		id = w->holder[perm[i]];
		pool[i].holder = id == NONE ? NULL : universe[id];
	}
	for (u = 0; u < MAXN; u++) {
		if (!w->knowall && u != self)
			continue;
		for (i = 0; i < w->m; i++) {
			if (!w->refuse[u][i])
				continue;
			refs[nr].node = universe[u];
			refs[nr].addr = w->ip[i];
			nr++;
		}
	}
	memset(&v, 0, sizeof(v));
	v.self = universe[self];
	v.nodes = nodes;
	v.nnodes = nn;
	v.pool = pool;
	v.npool = np;
	v.refusals = refs;
	v.nrefusals = nr;
	memset(&r, 0, sizeof(r));
	r.claim = claim;
	r.release = release;
	r.desired = desired;
	r.targets = targets;
	CHECK(assign_compute(&v, &r) == 0, "assign_compute failed");

	memset(ans, 0, sizeof(*ans));
	memset(seen, 0, sizeof(seen));
	CHECK(addr_sorted(pool, claim, r.nclaim), "claims not sorted");
	CHECK(addr_sorted(pool, release, r.nrelease), "releases not sorted");
	for (i = 0; i < r.nclaim; i++) {
		id = perm[claim[i]];
		CHECK(w->holder[id] == NONE,
		    "%s claims ip %d held by %d", universe[self], id,
		    w->holder[id]);
		CHECK(!w->refuse[self][id], "%s claims refused ip %d",
		    universe[self], id);
		CHECK(!seen[id]++, "ip %d twice in output", id);
		ans->claim[ans->nclaim++] = id;
	}
	for (i = 0; i < r.nrelease; i++) {
		id = perm[release[i]];
		CHECK(w->holder[id] == self, "%s releases ip %d held by %d",
		    universe[self], id, w->holder[id]);
		CHECK(!seen[id]++, "ip %d twice in output", id);
		ans->release[ans->nrelease++] = id;
	}
	for (i = 0; i < w->m; i++)
		ans->desired[i] = NONE;
	for (i = 0; i < np; i++) {
		u = name_index(desired[i]);
		CHECK(desired[i] == NULL || u != NONE, "bad desired name");
		/* Duplicated entries must agree. */
		if (ans->desired[perm[i]] != NONE)
			CHECK(ans->desired[perm[i]] == u, "dup disagrees");
		ans->desired[perm[i]] = u;
		if (u != NONE)
			CHECK(w->holder[perm[i]] == NONE ||
			    is_healthy(w, w->holder[perm[i]]),
			    "occupied ip %d assigned", perm[i]);
	}
	ans->target = 0;
	for (k = 0; k < nn; k++)
		if (nodes[k] == universe[self])
			ans->target = targets[k];
}

static int	any_refusal(const struct world *);

/*
 * One round: everybody computes from the same view, then all releases
 * are applied, then all claims race in a random order (compare-and-set).
 * Returns the number of non-empty answers.
 */
static int
round_run(struct world *w)
{
	static struct answer	 ans[MAXN];
	int			 order[MAXN * MAXM][2];
	int			 idx[MAXN * MAXM];
	size_t			 i, j, n = 0;
	int			 busy = 0, self, id;

	for (i = 0; i < w->nh; i++) {
		compute(w, w->healthy[i], &ans[i]);
		busy += ans[i].nclaim + ans[i].nrelease > 0;
		if ((w->knowall || !any_refusal(w)) && i > 0)
			CHECK(memcmp(ans[0].desired, ans[i].desired,
			    w->m * sizeof(int)) == 0,
			    "nodes disagree on the assignment");
	}
	for (i = 0; i < w->nh; i++)
		for (j = 0; j < ans[i].nrelease; j++)
			w->holder[ans[i].release[j]] = NONE;
	for (i = 0; i < w->nh; i++)
		for (j = 0; j < ans[i].nclaim; j++) {
			order[n][0] = w->healthy[i];
			order[n][1] = ans[i].claim[j];
			idx[n] = (int)n;
			n++;
		}
	shuffle(idx, n, &w->rng);
	for (i = 0; i < n; i++) {
		self = order[idx[i]][0];
		id = order[idx[i]][1];
		if (w->holder[id] == NONE)
			w->holder[id] = self;
	}
	return busy;
}

/* Run rounds until one is a no-op; returns the rounds that did work. */
static int
fixpoint(struct world *w)
{
	int	 rounds = 0;

	while (round_run(w) > 0) {
		if (++rounds > w->bound + 5)
			break;
	}
	CHECK(rounds <= w->bound, "took %d rounds", rounds);
	if (rounds > w->stats_rounds_max)
		w->stats_rounds_max = rounds;
	return rounds;
}

static int
refused_by_all(const struct world *w, size_t id)
{
	size_t	 i;

	for (i = 0; i < w->nh; i++)
		if (!w->refuse[w->healthy[i]][id])
			return 0;
	return 1;
}

static int
any_refusal(const struct world *w)
{
	size_t	 u, i;

	for (u = 0; u < MAXN; u++)
		for (i = 0; i < w->m; i++)
			if (w->refuse[u][i])
				return 1;
	return 0;
}

/* 1 if x does not refuse some IP that y holds: x could take it from y. */
static int
could_take(const struct world *w, int x, int y)
{
	size_t	 i;

	for (i = 0; i < w->m; i++)
		if (w->holder[i] == y && !w->refuse[x][i])
			return 1;
	return 0;
}

/*
 * With refusals known to all, floor/ceil may be out of reach, but no node
 * below floor may reach a node above ceil through a chain of nodes each
 * able to take an IP of the next: shifting along it would make the spread
 * better (assign.c's augment).  Breadth first from every node below.
 */
static void
check_no_handover(const struct world *w, const size_t *count, size_t lo,
    size_t hi)
{
	int	 queue[MAXN], seen[MAXN], x, y;
	size_t	 a, b, head, tail;

	for (a = 0; a < w->nh; a++) {
		if (count[w->healthy[a]] >= lo)
			continue;
		memset(seen, 0, sizeof(seen));
		head = tail = 0;
		queue[tail++] = w->healthy[a];
		seen[w->healthy[a]] = 1;
		while (head < tail) {
			x = queue[head++];
			for (b = 0; b < w->nh; b++) {
				y = w->healthy[b];
				if (seen[y] || !could_take(w, x, y))
					continue;
				CHECK(count[y] <= hi, "%s holds %zu (under "
				    "%zu) and could shift an IP along a chain "
				    "to %s, which holds %zu (over %zu)",
				    universe[w->healthy[a]],
				    count[w->healthy[a]], lo, universe[y],
				    count[y], hi);
				seen[y] = 1;
				queue[tail++] = y;
			}
		}
	}
}

/* At a fixpoint: liveness, balance, nobody holds what it refuses. */
static void
check_fixpoint(const struct world *w)
{
	size_t	 count[MAXN] = { 0 }, i, m = 0, lo, hi;
	int	 h;

	for (i = 0; i < w->m; i++) {
		h = w->holder[i];
		if (h != NONE && !is_healthy(w, h))
			continue;	/* occupied by a dead node's mark */
		/* nobody may hold it: no node's share (assign.h, step 2) */
		m += w->nh == 0 || !refused_by_all(w, i);
		if (h == NONE) {
			CHECK(w->nh == 0 || refused_by_all(w, i),
			    "ip %zu has no holder", i);
			continue;
		}
		CHECK(!w->refuse[h][i], "%s holds refused ip %zu",
		    universe[h], i);
		count[h]++;
	}
	if (w->nh == 0)
		return;
	lo = m / w->nh;
	hi = lo + (m % w->nh != 0);
	if (any_refusal(w)) {
		if (w->knowall)
			check_no_handover(w, count, lo, hi);
		return;
	}
	for (i = 0; i < w->nh; i++) {
		h = w->healthy[i];
		CHECK(count[h] >= lo && count[h] <= hi,
		    "%s holds %zu, want %zu..%zu", universe[h], count[h],
		    lo, hi);
	}
}

/*
 * Refused by every healthy node as the nodes see it: with refusals known
 * to all, refused_by_all; with only their own, that needs a single node.
 */
static int
refused_in_view(const struct world *w, size_t i)
{
	if (w->knowall)
		return refused_by_all(w, i);
	return w->nh == 1 && w->refuse[w->healthy[0]][i];
}

/* Targets as reported: floor or ceil, summing to M. */
static void
check_targets(struct world *w)
{
	struct answer	 a;
	size_t		 i, sum = 0, m = 0, lo;

	if (w->nh == 0)
		return;
	for (i = 0; i < w->m; i++)
		if ((w->holder[i] == NONE || is_healthy(w, w->holder[i])) &&
		    !refused_in_view(w, i))
			m++;
	lo = m / w->nh;
	for (i = 0; i < w->nh; i++) {
		compute(w, w->healthy[i], &a);
		CHECK(a.target == lo || a.target == lo + 1,
		    "target %zu of %zu/%zu", a.target, m, w->nh);
		sum += a.target;
	}
	CHECK(sum == m, "targets sum to %zu, not %zu", sum, m);
}

enum start { S_EMPTY, S_ONE, S_LAST, S_RANDOM, S_DEAD, S_ROBIN, S_MAX };

static void
set_start(struct world *w, enum start s)
{
	size_t	 i;

	for (i = 0; i < w->m; i++) {
		switch (s) {
		case S_EMPTY:
			w->holder[i] = NONE;
			break;
		case S_ONE:
			w->holder[i] = 0;
			break;
		case S_LAST:
			w->holder[i] = (int)w->nh - 1;
			break;
		case S_RANDOM:
			w->holder[i] = (int)(rnd(&w->rng) % (w->nh + 1)) - 1;
			break;
		case S_DEAD:
			w->holder[i] = (int)(rnd(&w->rng) % (w->nh + 3)) - 1;
			if (w->holder[i] >= (int)w->nh)
				w->holder[i] = DEAD0 + w->holder[i] -
				    (int)w->nh;
			break;
		case S_ROBIN:
		default:
			w->holder[i] = (int)(i % (w->nh + 1)) - 1;
			break;
		}
	}
}

/* Dead nodes' leases expire: their marks vanish. */
static void
expire_dead(struct world *w)
{
	size_t	 i;

	for (i = 0; i < w->m; i++)
		if (w->holder[i] != NONE && !is_healthy(w, w->holder[i]))
			w->holder[i] = NONE;
}

/* N = 1..8, M = 0..40, from several previous-holder states. */
static void
test_exhaustive(void)
{
	struct world	 w;
	size_t		 n, m;
	int		 s, seed, worst = 0;

	for (n = 1; n <= 8; n++)
		for (m = 0; m <= 40; m++)
			for (s = 0; s < S_MAX; s++)
				for (seed = 0; seed < 4; seed++) {
					CHECK_CONTEXT(
					    "N=%zu M=%zu start=%d seed=%d",
					    n, m, s, seed);
					world_init(&w, n, m,
					    (uint64_t)(n * 1000 + m * 10 +
					    (size_t)s) * 7919 + (uint64_t)seed);
					set_start(&w, (enum start)s);
					check_targets(&w);
					fixpoint(&w);
					check_fixpoint(&w);
					expire_dead(&w);
					fixpoint(&w);
					check_fixpoint(&w);
					check_targets(&w);
					if (w.stats_rounds_max > worst)
						worst = w.stats_rounds_max;
				}
	printf("exhaustive N<=8 M<=40: worst %d rounds to the fixpoint\n",
	    worst);
}

/* Empty start: one round, no race, since every node agrees. */
static void
test_one_round(void)
{
	struct world	 w;
	size_t		 n, m;

	for (n = 1; n <= 8; n++)
		for (m = 0; m <= 40; m++) {
			CHECK_CONTEXT("N=%zu M=%zu", n, m);
			world_init(&w, n, m, n * 100 + m);
			CHECK(fixpoint(&w) <= 1, "empty start needs > 1 round");
			check_fixpoint(&w);
		}
}

static size_t
moved(const int *before, const struct world *w, int *only_to,
    int *only_from)
{
	size_t	 i, n = 0;

	for (i = 0; i < w->m; i++) {
		if (before[i] == w->holder[i])
			continue;
		n++;
		if (*only_to != NONE && w->holder[i] != *only_to)
			*only_to = -2;
		if (*only_from != NONE && before[i] != *only_from)
			*only_from = -2;
	}
	return n;
}

/* A node joins: only IPs moving to it move, exactly floor(M/(N+1)). */
static void
test_join(void)
{
	struct world	 w;
	int		 before[MAXM], to, from, seed;
	size_t		 n, m, k;

	for (n = 1; n <= 7; n++)
		for (m = 0; m <= 40; m++)
			for (seed = 0; seed < 3; seed++) {
				CHECK_CONTEXT(
				    "join N=%zu+1 M=%zu seed %d", n, m, seed);
				world_init(&w, n, m, n * 31 + m * 7 +
				    (size_t)seed);
				set_start(&w, seed == 0 ? S_EMPTY : S_RANDOM);
				fixpoint(&w);
				memcpy(before, w.holder, sizeof(before));
				w.healthy[w.nh++] = (int)n;
				fixpoint(&w);
				check_fixpoint(&w);
				to = (int)n;
				from = NONE;
				k = moved(before, &w, &to, &from);
				CHECK(to == (int)n, "an IP moved elsewhere");
				CHECK(k == m / (n + 1), "%zu moved, want %zu",
				    k, m / (n + 1));
			}
}

static void
leave_node(struct world *w, size_t which)
{
	w->healthy[which] = w->healthy[--w->nh];
}

/* A node leaves, gracefully or by crash: only its IPs move. */
static void
test_leave(void)
{
	struct world	 w;
	int		 before[MAXM], to, from, gone, seed;
	size_t		 n, m, i, which, k;

	for (n = 2; n <= 8; n++)
		for (m = 0; m <= 40; m++)
			for (seed = 0; seed < 4; seed++) {
				CHECK_CONTEXT(
				    "leave N=%zu M=%zu seed %d", n, m, seed);
				world_init(&w, n, m, n * 17 + m * 3 +
				    (size_t)seed);
				set_start(&w, S_RANDOM);
				fixpoint(&w);
				memcpy(before, w.holder, sizeof(before));
				which = (size_t)seed % n;
				gone = w.healthy[which];
				leave_node(&w, which);
				if (seed % 2 == 0) {
					/* graceful: lease revoked */
					for (i = 0; i < m; i++)
						if (w.holder[i] == gone)
							w.holder[i] = NONE;
				} else {
					/* crash: marks stay until expiry */
					fixpoint(&w);
					check_fixpoint(&w);
					to = from = NONE;
					CHECK(moved(before, &w, &to,
					    &from) == 0,
					    "IPs moved while marks remain");
					expire_dead(&w);
				}
				fixpoint(&w);
				check_fixpoint(&w);
				to = NONE;
				from = gone;
				k = moved(before, &w, &to, &from);
				CHECK(from == gone, "an IP not of %s moved",
				    universe[gone]);
				(void)k;
			}
}

/*
 * The operator adds IPs: only the new ones get a holder, nothing else
 * moves.  Removes one: at most one other IP moves (to keep the balance).
 */
static void
test_pool_change(void)
{
	struct world	 w;
	int		 before[MAXM], to, from;
	size_t		 n, m, k, i, r;

	for (n = 1; n <= 8; n++)
		for (m = 0; m + 3 <= 40; m++)
			for (k = 1; k <= 3; k++) {
				CHECK_CONTEXT("pool N=%zu M=%zu+%zu", n, m, k);
				world_init(&w, n, m + k, n * 5 + m + k);
				w.m = m;
				set_start(&w, S_RANDOM);
				fixpoint(&w);
				memcpy(before, w.holder, sizeof(before));
				w.m = m + k;
				for (i = m; i < m + k; i++)
					w.holder[i] = before[i] = NONE;
				fixpoint(&w);
				check_fixpoint(&w);
				for (i = 0; i < m; i++)
					CHECK(before[i] == w.holder[i],
					    "old ip %zu moved", i);
				if (m == 0)
					continue;
				/* Remove one: the last takes its place. */
				r = (m + k) / 2;
				w.m--;
				w.ip[r] = w.ip[w.m];
				w.holder[r] = w.holder[w.m];
				memcpy(before, w.holder, sizeof(before));
				fixpoint(&w);
				check_fixpoint(&w);
				to = from = NONE;
				CHECK(moved(before, &w, &to, &from) <= 1,
				    "removing one IP moved several");
			}
}

/* Every holder state for N <= 3, M <= 5 (holders: none, nodes, dead). */
static void
test_all_states(void)
{
	struct world	 w;
	size_t		 n, m, i, states, st, alpha, x;

	for (n = 1; n <= 3; n++)
		for (m = 0; m <= 5; m++) {
			alpha = n + 2;
			for (states = 1, i = 0; i < m; i++)
				states *= alpha;
			for (st = 0; st < states; st++) {
				CHECK_CONTEXT(
				    "all N=%zu M=%zu state %zu", n, m, st);
				world_init(&w, n, m, st * 13 + n);
				for (i = 0, x = st; i < m; i++, x /= alpha) {
					int	 h = (int)(x % alpha) - 1;

					if (h == (int)n)
						h = DEAD0;
					w.holder[i] = h;
				}
				check_targets(&w);
				fixpoint(&w);
				check_fixpoint(&w);
				expire_dead(&w);
				fixpoint(&w);
				check_fixpoint(&w);
			}
		}
}

/*
 * Determinism: for every permutation of nodes and pool (N <= 3, M <= 4)
 * the answer is the same set of IPs.  Heap's algorithm, iteratively.
 */
static int
next_perm(int *a, size_t n, size_t *c, size_t *i)
{
	int	 t;

	while (*i < n) {
		if (c[*i] < *i) {
			size_t j = *i % 2 == 0 ? 0 : c[*i];

			t = a[j];
			a[j] = a[*i];
			a[*i] = t;
			c[*i]++;
			*i = 1;
			return 1;
		}
		c[*i] = 0;
		(*i)++;
	}
	return 0;
}

static void
answer_sets(const char *self, const char **nodes, size_t nn,
    const struct assign_ip *pool, size_t np, uint8_t *claimed,
    uint8_t *released)
{
	struct assign_view	 v;
	struct assign_result	 r;
	size_t			 claim[8], release[8], k;

	memset(&v, 0, sizeof(v));
	v.self = self;
	v.nodes = nodes;
	v.nnodes = nn;
	v.pool = pool;
	v.npool = np;
	memset(&r, 0, sizeof(r));
	r.claim = claim;
	r.release = release;
	CHECK(assign_compute(&v, &r) == 0, "compute");
	memset(claimed, 0, 256);
	memset(released, 0, 256);
	for (k = 0; k < r.nclaim; k++)
		claimed[pool[claim[k]].addr.addr[3]] = 1;
	for (k = 0; k < r.nrelease; k++)
		released[pool[release[k]].addr.addr[3]] = 1;
}

/* Every order of nodes and pool gives self the answer of the first. */
static uint64_t
perm_case(size_t n, size_t m, size_t st, size_t s)
{
	const char	*names[3], *pnames[3];
	struct assign_ip pool[4], ppool[4];
	uint8_t		 c0[256], r0[256], c1[256], r1[256];
	int		 np[3], pp[4];
	size_t		 i, x, cn[3], ci[4], ni, pi;
	uint64_t	 checks = 0;
	int		 h;

	for (i = 0; i < n; i++) {
		names[i] = universe[i];
		np[i] = (int)i;
	}
	for (i = 0, x = st; i < m; i++, x /= n + 2) {
		h = (int)(x % (n + 2)) - 1;
		make_ip(&pool[i].addr, i * 3);
		pool[i].holder = h < 0 ? NULL :
		    h == (int)n ? universe[DEAD0] : universe[h];
	}
	answer_sets(universe[s], names, n, pool, m, c0, r0);
	memset(cn, 0, sizeof(cn));
	ni = 1;
	do {
		for (i = 0; i < m; i++)
			pp[i] = (int)i;
		memset(ci, 0, sizeof(ci));
		pi = 1;
		do {
			for (i = 0; i < n; i++)
				pnames[i] = names[np[i]];
			for (i = 0; i < m; i++)
				ppool[i] = pool[pp[i]];
			answer_sets(universe[s], pnames, n, ppool, m, c1, r1);
			CHECK(!memcmp(c0, c1, 256) && !memcmp(r0, r1, 256),
			    "order changes the answer");
			checks++;
		} while (next_perm(pp, m, ci, &pi));
	} while (next_perm(np, n, cn, &ni));
	return checks;
}

/* All holder states and all orders for N <= 3, M <= 4. */
static void
test_permutations(void)
{
	size_t		 n, m, st, states, i, s;
	uint64_t	 checks = 0;

	for (n = 1; n <= 3; n++)
		for (m = 0; m <= 4; m++) {
			for (states = 1, i = 0; i < m; i++)
				states *= n + 2;
			for (st = 0; st < states; st++)
				for (s = 0; s < n; s++) {
					CHECK_CONTEXT(
					    "perm N=%zu M=%zu st %zu self %zu",
					    n, m, st, s);
					checks += perm_case(n, m, st, s);
				}
		}
	printf("permutations: %llu orders checked\n",
	    (unsigned long long)checks);
}

/* The prototype's trap: ceil for everyone settled at 2/2/0. */
static void
test_trap_220(void)
{
	struct world	 w;
	struct answer	 a;
	size_t		 i, count[3] = { 0 }, nrel = 0, nclaim = 0;

	snprintf(check_context, sizeof(check_context), "2/2/0");
	world_init(&w, 3, 4, 42);
	w.holder[0] = w.holder[1] = 0;
	w.holder[2] = w.holder[3] = 1;
	for (i = 0; i < 3; i++) {
		compute(&w, (int)i, &a);
		nrel += a.nrelease;
		nclaim += a.nclaim;
		if (i == 2)
			CHECK(a.nclaim == 0, "charlie claims a held IP");
	}
	CHECK(nrel == 1 && nclaim == 0, "%zu releases, %zu claims", nrel,
	    nclaim);
	fixpoint(&w);
	check_fixpoint(&w);
	for (i = 0; i < 4; i++)
		count[w.holder[i]]++;
	CHECK(count[2] == 1, "charlie holds %zu", count[2]);
	CHECK(count[0] + count[1] == 3 && count[0] >= 1 && count[1] >= 1,
	    "counts %zu/%zu/%zu", count[0], count[1], count[2]);
}

/* Refusals known to every node: consistent, live, no one holds refused. */
static void
test_refusals_global(void)
{
	struct world	 w;
	size_t		 n, m, i, u;
	int		 seed, rate, worst = 0;

	for (n = 1; n <= 6; n++)
		for (m = 0; m <= 24; m++)
			for (seed = 0; seed < 6; seed++) {
				rate = seed % 3 + 1;
				CHECK_CONTEXT(
				    "refuse-all N=%zu M=%zu seed %d", n, m,
				    seed);
				world_init(&w, n, m, n * 7 + m * 131 +
				    (size_t)seed);
				w.knowall = 1;
				w.bound = MAX_ROUNDS_REFUSED;
				for (u = 0; u < n; u++)
					for (i = 0; i < m; i++)
						w.refuse[u][i] = rnd(&w.rng) %
						    8 < (size_t)rate;
				set_start(&w, seed < 3 ? S_EMPTY : S_DEAD);
				check_targets(&w);
				fixpoint(&w);
				check_fixpoint(&w);
				expire_dead(&w);
				fixpoint(&w);
				check_fixpoint(&w);
				if (w.stats_rounds_max > worst)
					worst = w.stats_rounds_max;
			}
	printf("refusals known to all: worst %d rounds\n", worst);
}

/*
 * Refusals known only to the refusing node: safety, no flapping (a no-op
 * round within the bound), nobody holds what it refuses, and every IP
 * that no node refuses is held.
 */
static void
test_refusals_local(void)
{
	struct world	 w;
	size_t		 n, m, i, u, unheld = 0, total = 0;
	int		 seed, worst = 0;

	for (n = 1; n <= 6; n++)
		for (m = 0; m <= 24; m++)
			for (seed = 0; seed < 12; seed++) {
				CHECK_CONTEXT(
				    "refuse-own N=%zu M=%zu seed %d", n, m,
				    seed);
				world_init(&w, n, m, n * 11 + m * 37 +
				    (size_t)seed);
				w.bound = MAX_ROUNDS_REFUSED;
				/* Odd seeds: the first node refuses 90%. */
				for (u = 0; u < n; u++)
					for (i = 0; i < m; i++)
						w.refuse[u][i] = rnd(&w.rng) %
						    10 < (u == 0 && seed % 2 ?
						    9 : 1);
				set_start(&w, seed < 3 ? S_EMPTY : S_RANDOM);
				check_targets(&w);
				fixpoint(&w);
				if (w.stats_rounds_max > worst)
					worst = w.stats_rounds_max;
				for (i = 0; i < m; i++) {
					int h = w.holder[i];
					int anyref = 0;

					for (u = 0; u < n; u++)
						anyref |= w.refuse[u][i];
					CHECK(h == NONE || !w.refuse[h][i],
					    "holds refused");
					CHECK(h != NONE || anyref,
					    "ip %zu refused by none unheld", i);
					total += anyref;
					unheld += anyref && h == NONE &&
					    !refused_by_all(&w, i);
				}
			}
	printf("own refusals only: worst %d rounds; %zu of %zu IPs refused"
	    " by some node but not all stayed unheld\n", worst, unheld,
	    total);
}

static void
test_edges(void)
{
	struct assign_ip	 pool[4];
	struct assign_view	 v;
	struct assign_result	 r;
	size_t			 claim[4], release[4], targets[3];
	const char		*nodes[3] = { "b", NULL, "a" };
	const char		*desired[4];

	snprintf(check_context, sizeof(check_context), "edges");
	memset(&v, 0, sizeof(v));
	memset(&r, 0, sizeof(r));
	r.claim = claim;
	r.release = release;
	errno = 0;
	CHECK(assign_compute(&v, &r) == -1 && errno == EINVAL, "NULL self");
	CHECK(assign_compute(NULL, &r) == -1 && errno == EINVAL, "NULL");
	v.self = "a";
	v.npool = 1;
	CHECK(assign_compute(&v, &r) == -1 && errno == EINVAL,
	    "NULL pool with count");

	/* Invalid entries are ignored; duplicates merge, smallest holder. */
	memset(pool, 0, sizeof(pool));
	make_ip(&pool[0].addr, 0);
	make_ip(&pool[1].addr, 0);
	pool[1].holder = "b";
	pool[2].addr.af = 99;		/* invalid */
	make_ip(&pool[3].addr, 1);
	pool[3].addr.pad[0] = 1;	/* invalid */
	v.nodes = nodes;
	v.nnodes = 3;
	v.pool = pool;
	v.npool = 4;
	r.desired = desired;
	r.targets = targets;
	CHECK(assign_compute(&v, &r) == 0, "compute");
	CHECK(r.nclaim == 0 && r.nrelease == 0, "a: %zu claims %zu releases",
	    r.nclaim, r.nrelease);
	CHECK(desired[0] == desired[1] && desired[1] != NULL &&
	    strcmp(desired[1], "b") == 0, "dup not held by b");
	CHECK(desired[2] == NULL && desired[3] == NULL, "invalid assigned");
	CHECK(targets[1] == 0 && targets[0] + targets[2] == 1, "targets");

	/* Self not healthy: release everything held, claim nothing. */
	v.self = "c";
	pool[0].holder = "c";
	pool[1].holder = NULL;
	CHECK(assign_compute(&v, &r) == 0, "compute");
	CHECK(r.nclaim == 0 && r.nrelease == 1 && r.release[0] == 0,
	    "unhealthy self: %zu claims %zu releases", r.nclaim, r.nrelease);

	/* No healthy node at all. */
	v.nnodes = 0;
	v.nodes = NULL;
	CHECK(assign_compute(&v, &r) == 0 && r.nclaim == 0 &&
	    r.nrelease == 1 && desired[0] == NULL, "no nodes");
}

/* The hash is part of the protocol: pin it. */
static void
test_hash(void)
{
	struct yaim_addr a;

	snprintf(check_context, sizeof(check_context), "hash");
	CHECK(assign_node_hash("node1") == 0x831d1f0da406fb96ULL, "node1");
	CHECK(assign_node_hash("") == 0xf52a15e9a9b5e89bULL, "empty");
	CHECK(yaim_addr_parse("10.0.0.1", &a, 1) == 0, "parse");
	CHECK(assign_hash("node1", &a) == 0x21d08119acfce28aULL, "v4");
	CHECK(yaim_addr_parse("2001:db8::1", &a, 1) == 0, "parse");
	CHECK(assign_hash("node1", &a) == 0x4d5fb56a14eb4c52ULL, "v6");
	CHECK(yaim_addr_parse("198.18.0.7", &a, 1) == 0, "parse");
	a.prefixlen = 24;	/* prefix length is not part of the identity */
	CHECK(assign_hash("alpha", &a) == 0x2bd886ae538363ddULL, "alpha");
}

/* Speed with M=5000, N=10 is printed, not asserted (that is a bench). */
static void
test_speed(void)
{
	enum { M = 5000, N = 10 };
	static struct assign_ip	 pool[M];
	static size_t		 claim[M], release[M];
	char			 names[N][16];
	const char		*nodes[N];
	struct assign_view	 v;
	struct assign_result	 r;
	struct timespec		 t0, t1;
	size_t			 i, total = 0;
	int			 pass;

	snprintf(check_context, sizeof(check_context), "speed");
	for (i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "node%zu", i);
		nodes[i] = names[i];
	}
	for (i = 0; i < M; i++) {
		memset(&pool[i], 0, sizeof(pool[i]));
		pool[i].addr.af = AF_INET6;
		pool[i].addr.prefixlen = 128;
		pool[i].addr.addr[0] = 0x20;
		pool[i].addr.addr[1] = 0x01;
		pool[i].addr.addr[14] = (uint8_t)(i >> 8);
		pool[i].addr.addr[15] = (uint8_t)i;
	}
	memset(&v, 0, sizeof(v));
	v.nodes = nodes;
	v.nnodes = N;
	v.pool = pool;
	v.npool = M;
	memset(&r, 0, sizeof(r));
	r.claim = claim;
	r.release = release;
	for (pass = 0; pass < 2; pass++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (i = 0; i < N; i++) {
			v.self = nodes[i];
			CHECK(assign_compute(&v, &r) == 0, "compute");
			total += r.nclaim;
			/* Second pass: the steady state. */
			if (pass == 0) {
				size_t k;

				for (k = 0; k < r.nclaim; k++)
					pool[r.claim[k]].holder = nodes[i];
			} else
				CHECK(r.nclaim == 0 && r.nrelease == 0,
				    "steady state moves");
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("speed: M=%d N=%d %s: %.2f ms per call\n", M, N,
		    pass == 0 ? "empty" : "steady",
		    ((t1.tv_sec - t0.tv_sec) * 1e3 +
		    (t1.tv_nsec - t0.tv_nsec) / 1e6) / N);
	}
	CHECK(total == M, "%zu claimed of %d", total, M);
}

#define RUN(t) do {							\
	int before = check_failures;					\
									\
	t();								\
	if (check_failures != before)					\
		printf("%s: %d failures\n", #t,			\
		    check_failures - before);				\
} while (0)

int
main(void)
{
	RUN(test_hash);
	RUN(test_edges);
	RUN(test_trap_220);
	RUN(test_one_round);
	RUN(test_exhaustive);
	RUN(test_join);
	RUN(test_leave);
	RUN(test_pool_change);
	RUN(test_all_states);
	RUN(test_permutations);
	RUN(test_refusals_global);
	RUN(test_refusals_local);
	RUN(test_speed);
	if (check_failures) {
		printf("test_assign: %d failures\n", check_failures);
		return 1;
	}
	printf("test_assign: ok\n");
	return 0;
}
