/*
 * dcs/settle.c: the cold start's settle window against a model, the
 * fingerprint of the healthy set, the claim order; and a simulated cold
 * start with assign_compute: nodes that join within SETTLE_MS of each
 * other claim nothing until the last has joined, then claim each exactly
 * its share, so the cluster makes one claim per IP.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dcs/assign.h"
#include "dcs/settle.h"

/* The model: the first w >= 0 at which the node may claim. */
static uint64_t
model_wait(uint64_t now, uint64_t joined, uint64_t changed, uint64_t settle,
    uint64_t max)
{
	uint64_t	 w, j, c;

	j = joined < now ? joined : now;
	c = changed < joined ? joined : changed;
	c = c < now ? c : now;
	for (w = 0;; w++)
		if (now + w - j >= max || now + w - c >= settle)
			return w;
}

static void
test_wait(void)
{
	uint64_t	 now, j, c, s, m, got, want;

	for (now = 0; now < 24; now++)
		for (j = 0; j < 26; j++)
			for (c = 0; c < 26; c++)
				for (s = 0; s < 9; s++)
					for (m = 0; m < 13; m++) {
		got = settle_wait(now, j, c, s, m);
		want = model_wait(now, j, c, s, m);
		CHECK(got == want, "now %ju joined %ju changed %ju settle %ju "
		    "max %ju: %ju, want %ju", (uintmax_t)now, (uintmax_t)j,
		    (uintmax_t)c, (uintmax_t)s, (uintmax_t)m, (uintmax_t)got,
		    (uintmax_t)want);
		CHECK(got <= s && got <= m);
	}
	/* The defaults: a lone node claims SETTLE_MS after its join. */
	CHECK(settle_wait(1000, 1000, 1000, SETTLE_MS, SETTLE_MAX_MS) ==
	    SETTLE_MS);
	CHECK(settle_wait(1000 + SETTLE_MS, 1000, 1000, SETTLE_MS,
	    SETTLE_MAX_MS) == 0);
	/* Changes every 100 ms never keep it past SETTLE_MAX_MS. */
	CHECK(settle_wait(1000 + SETTLE_MAX_MS, 1000, 1000 + SETTLE_MAX_MS,
	    SETTLE_MS, SETTLE_MAX_MS) == 0);
	/* Large clocks: no overflow. */
	CHECK(settle_wait(UINT64_MAX, UINT64_MAX - 10, UINT64_MAX - 5, 400,
	    3000) == 395);
}

static void
test_window(void)
{
	uint64_t	 c, w, prev = 0;

	CHECK(settle_window(0) == SETTLE_MS);
	CHECK(settle_window(SETTLE_MS / 2) == SETTLE_MS);
	CHECK(settle_window(300) == 600);
	CHECK(settle_window(SETTLE_MAX_MS / 2) == SETTLE_MAX_MS);
	CHECK(settle_window(UINT64_MAX) == SETTLE_MAX_MS);
	for (c = 0; c < 3 * SETTLE_MAX_MS; c++) {
		w = settle_window(c);
		CHECK(w >= SETTLE_MS && w <= SETTLE_MAX_MS && w >= prev &&
		    (w == SETTLE_MS || w == SETTLE_MAX_MS || w == 2 * c),
		    "cost %ju: %ju", (uintmax_t)c, (uintmax_t)w);
		prev = w;
	}
}

static const char *names8[] = { "a", "b", "node1", "node2", "node10", "x",
	"yy", "zzz" };

static void
test_fingerprint(void)
{
	const char	*v[8], *w[24];
	uint64_t	 fp[256];
	size_t		 s, t, i, n;

	for (s = 0; s < 256; s++) {
		for (n = 0, i = 0; i < 8; i++)
			if (s & (1u << i))
				v[n++] = names8[i];
		fp[s] = settle_fingerprint(v, n);
		/* the same set reversed, each twice, with NULLs between */
		for (i = 0; i < n; i++) {
			w[3 * i] = v[n - 1 - i];
			w[3 * i + 1] = NULL;
			w[3 * i + 2] = v[(n - 1 - i + 1) % n];
		}
		CHECK(settle_fingerprint(w, 3 * n) == fp[s], "set %zx", s);
	}
	for (s = 0; s < 256; s++)
		for (t = s + 1; t < 256; t++)
			CHECK(fp[s] != fp[t], "sets %zx and %zx", s, t);
}

static void
mkpool(struct assign_ip *pool, size_t m)
{
	size_t	 i;

	memset(pool, 0, m * sizeof(*pool));
	for (i = 0; i < m; i++) {
		pool[i].addr.af = AF_INET;
		pool[i].addr.prefixlen = 32;
		pool[i].addr.addr[0] = 198;
		pool[i].addr.addr[1] = 18;
		pool[i].addr.addr[2] = (uint8_t)(i / 256);
		pool[i].addr.addr[3] = (uint8_t)(i % 256);
	}
}

#define POOL	1000
#define TOP	32

static void
test_order(void)
{
	static struct assign_ip	 pool[POOL];
	static size_t		 a[POOL], b[POOL];
	static unsigned char	 seen[POOL];
	size_t			 i, k, overlap;

	mkpool(pool, POOL);
	for (i = 0; i < POOL; i++) {
		a[i] = i;
		b[i] = POOL - 1 - i;
	}
	settle_order("node1", pool, a, POOL);
	settle_order("node1", pool, b, POOL);
	for (i = 0; i < POOL; i++) {
		CHECK(a[i] == b[i], "order depends on the input at %zu", i);
		CHECK(a[i] < POOL && !seen[a[i]], "not a permutation");
		if (a[i] < POOL)
			seen[a[i]] = 1;
		if (i > 0)
			CHECK(assign_hash("node1", &pool[a[i - 1]].addr) >=
			    assign_hash("node1", &pool[a[i]].addr));
	}
	/* Two nodes' first windows of claims hardly meet (~1 expected). */
	for (k = 2; k <= 10; k++) {
		char	 name[16];

		snprintf(name, sizeof(name), "node%zu", k);
		for (i = 0; i < POOL; i++)
			b[i] = i;
		settle_order(name, pool, b, POOL);
		overlap = 0;
		for (i = 0; i < TOP * TOP; i++)
			overlap += a[i / TOP] == b[i % TOP];
		CHECK(overlap <= 6, "node1 and %s: %zu of the first %d shared",
		    name, overlap, TOP);
	}
	settle_order("n", pool, a, 0);	/* n = 0 and 1: nothing to do */
	settle_order("n", pool, a, 1);
}

/*
 * A cold start in steps of 1 ms: node k joins at k * gap; every node sees
 * every join at once.  A node claims what assign_compute gives it once
 * settle_wait says so, and the claim succeeds at once (one txn each).
 * Every node must claim exactly its share, after the last join.
 */
#define SIM_M	40

/* One round of node k: claim what assign_compute gives it. */
static size_t
sim_round(const char *const *all, size_t seen, size_t k,
    struct assign_ip *pool)
{
	struct assign_view	 view;
	struct assign_result	 res;
	size_t			 claim[SIM_M], release[SIM_M], i;

	memset(&view, 0, sizeof(view));
	view.self = all[k];
	view.nodes = all;
	view.nnodes = seen;
	view.pool = pool;
	view.npool = SIM_M;
	memset(&res, 0, sizeof(res));
	res.claim = claim;
	res.release = release;
	CHECK(assign_compute(&view, &res) == 0);
	CHECK(res.nrelease == 0, "%s releases", all[k]);
	for (i = 0; i < res.nclaim; i++)
		pool[claim[i]].holder = all[k];
	return res.nclaim;
}

/*
 * A cold start in steps of 1 ms: node k joins at k * gap; every node sees
 * every join and every claim at once (a claim is one txn and succeeds).
 * A node runs its round once settle_wait lets it, and again whenever
 * something changed.  Every IP is claimed once, after the last join.
 */
static void
sim(size_t n, uint64_t gap)
{
	static const char	*all[] = { "n1", "n2", "n3", "n4", "n5", "n6",
		"n7", "n8" };
	struct assign_ip	 pool[SIM_M];
	size_t			 claims = 0, c, k, seen, pass, nmay, was = 0;
	uint64_t		 t, last = (n - 1) * gap, first = UINT64_MAX;

	mkpool(pool, SIM_M);
	CHECK_CONTEXT("n %zu gap %ju", n, (uintmax_t)gap);
	for (t = 0; t <= last + SETTLE_MAX_MS + 1; t++) {
		seen = gap ? t / gap + 1 : n;
		if (seen > n)
			seen = n;
		for (nmay = 0, k = 0; k < seen; k++)
			nmay += settle_wait(t, k * gap, (seen - 1) * gap,
			    SETTLE_MS, SETTLE_MAX_MS) == 0;
		/* the nodes that may claim are the first to settle... */
		if (nmay == 0 || nmay * 16 + seen == was)
			continue;
		was = nmay * 16 + seen;
		for (pass = 0, c = 1; c > 0 && pass < 10; pass++)
			for (c = 0, k = 0; k < seen; k++) {
				if (settle_wait(t, k * gap, (seen - 1) * gap,
				    SETTLE_MS, SETTLE_MAX_MS) > 0)
					continue;
				c += sim_round(all, seen, k, pool);
			}
		claims = 0;
		for (k = 0; k < SIM_M; k++)
			claims += pool[k].holder != NULL;
		if (claims > 0 && t < first)
			first = t;
	}
	CHECK(claims == SIM_M, "%zu IPs held of %d", claims, SIM_M);
	CHECK(first >= last && first <= last + SETTLE_MS,
	    "first claim at %ju, last join at %ju", (uintmax_t)first,
	    (uintmax_t)last);
	check_context[0] = '\0';
}

static void
test_sim(void)
{
	size_t		 n;
	uint64_t	 gap;

	for (n = 1; n <= 8; n++)
		for (gap = 0; gap < SETTLE_MS &&
		    (n - 1) * gap < SETTLE_MAX_MS; gap += 37)
			sim(n, gap);
}

int
main(void)
{
	test_wait();
	test_window();
	test_fingerprint();
	test_order();
	test_sim();
	if (check_failures) {
		printf("test_settle: %d failures\n", check_failures);
		return 1;
	}
	printf("test_settle: ok\n");
	return 0;
}
