/*
 * libFuzzer harness for dcs/assign.c: decode the bytes into a view (names,
 * pool with holders and duplicates, refusals), compute for every node and
 * abort on any violation of safety, determinism or the target rule.
 *
 * Input layout (every field one byte, missing bytes read as 0):
 *   nnames (%9), then per name: len (%9) and len bytes (NUL-free)
 *   nhealthy (%9): the first nhealthy names are healthy, the rest are
 *   nodes whose marks are still there
 *   npool (%49), then per entry: address byte, holder byte
 *     address: bits 0-5 pick the address, 6-7 the kind: 0 IPv4, 1 IPv6,
 *     2 IPv4 with prefixlen 24 (same identity), 3 invalid
 *     holder: 0 none, else name (holder - 1) % nnames
 *   nref (%33), then per refusal: name byte, address byte
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "dcs/assign.h"

#define MAXNAMES	8
#define MAXPOOL		48
#define MAXREF		32

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct input {
	const uint8_t	*p;
	size_t		 left;
};

static uint8_t
next(struct input *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

#define ASSERT(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "fuzz_assign: %s:%d: %s\n", __func__,	\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

struct view {
	char			 names[MAXNAMES][9];
	size_t			 nnames, nhealthy;
	const char		*healthy[MAXNAMES];
	struct assign_ip	 pool[MAXPOOL];
	size_t			 npool;
	struct assign_refusal	 refs[MAXREF];
	size_t			 nref;
};

static void
decode_addr(uint8_t b, struct yaim_addr *a)
{
	memset(a, 0, sizeof(*a));
	switch (b >> 6) {
	case 1:
		a->af = AF_INET6;
		a->prefixlen = 128;
		a->addr[0] = 0x20;
		a->addr[1] = 0x01;
		a->addr[15] = b & 0x3f;
		break;
	case 3:
		a->af = (b & 1) ? 0 : AF_INET;
		a->pad[0] = 1;
		break;
	default:
		a->af = AF_INET;
		a->prefixlen = (b >> 6) == 2 ? 24 : 32;
		a->addr[0] = 198;
		a->addr[1] = 18;
		a->addr[3] = b & 0x3f;
		break;
	}
}

static void
decode(struct input *in, struct view *v)
{
	size_t	 i, j, len;
	uint8_t	 h;

	memset(v, 0, sizeof(*v));
	v->nnames = next(in) % (MAXNAMES + 1);
	for (i = 0; i < v->nnames; i++) {
		len = next(in) % 9;
		for (j = 0; j < len; j++)
			v->names[i][j] = (char)(next(in) | 1);
	}
	v->nhealthy = next(in) % (MAXNAMES + 1);
	if (v->nhealthy > v->nnames)
		v->nhealthy = v->nnames;
	for (i = 0; i < v->nhealthy; i++)
		v->healthy[i] = v->names[i];
	v->npool = next(in) % (MAXPOOL + 1);
	for (i = 0; i < v->npool; i++) {
		decode_addr(next(in), &v->pool[i].addr);
		h = next(in);
		v->pool[i].holder = h == 0 || v->nnames == 0 ? NULL :
		    v->names[(h - 1) % v->nnames];
	}
	v->nref = next(in) % (MAXREF + 1);
	if (v->nnames == 0)
		v->nref = 0;
	for (i = 0; i < v->nref; i++) {
		v->refs[i].node = v->names[next(in) % v->nnames];
		decode_addr(next(in), &v->refs[i].addr);
	}
}

static int
same_ip(const struct yaim_addr *a, const struct yaim_addr *b)
{
	size_t	 len = a->af == AF_INET ? 4 : 16;

	return a->af == b->af && memcmp(a->addr, b->addr, len) == 0;
}

/* The holder the contract says counts: the smallest among duplicates. */
static const char *
merged_holder(const struct view *v, const struct yaim_addr *a)
{
	const char	*best = NULL;
	size_t		 i;

	for (i = 0; i < v->npool; i++) {
		if (!yaim_addr_valid(&v->pool[i].addr) ||
		    !same_ip(&v->pool[i].addr, a) || v->pool[i].holder == NULL)
			continue;
		if (best == NULL || strcmp(v->pool[i].holder, best) < 0)
			best = v->pool[i].holder;
	}
	return best;
}

static int
refuses(const struct view *v, const char *node, const struct yaim_addr *a)
{
	size_t	 i;

	for (i = 0; i < v->nref; i++)
		if (strcmp(v->refs[i].node, node) == 0 &&
		    yaim_addr_valid(&v->refs[i].addr) &&
		    same_ip(&v->refs[i].addr, a))
			return 1;
	return 0;
}

static int
is_healthy(const struct view *v, const char *name)
{
	size_t	 i;

	for (i = 0; i < v->nhealthy; i++)
		if (strcmp(v->healthy[i], name) == 0)
			return 1;
	return 0;
}

static int
refused_by_all(const struct view *v, const struct yaim_addr *a)
{
	size_t	 i;

	for (i = 0; i < v->nhealthy; i++)
		if (!refuses(v, v->healthy[i], a))
			return 0;
	return 1;
}

struct out {
	size_t		 claim[MAXPOOL], release[MAXPOOL];
	const char	*desired[MAXPOOL];
	size_t		 targets[MAXNAMES];
	struct assign_result r;
};

static void
run(const struct view *v, const char *self, const char *const *nodes,
    const struct assign_ip *pool, struct out *o)
{
	struct assign_view	 av;

	memset(&av, 0, sizeof(av));
	av.self = self;
	av.nodes = nodes;
	av.nnodes = v->nhealthy;
	av.pool = pool;
	av.npool = v->npool;
	av.refusals = v->refs;
	av.nrefusals = v->nref;
	memset(o, 0, sizeof(*o));
	o->r.claim = o->claim;
	o->r.release = o->release;
	o->r.desired = o->desired;
	o->r.targets = o->targets;
	ASSERT(assign_compute(&av, &o->r) == 0);
}

static void
check_safety(const struct view *v, const char *self, const struct out *o)
{
	const struct yaim_addr	*a;
	const char		*h;
	size_t			 i;

	ASSERT(o->r.nclaim <= v->npool && o->r.nrelease <= v->npool);
	for (i = 0; i < o->r.nclaim; i++) {
		ASSERT(o->claim[i] < v->npool);
		a = &v->pool[o->claim[i]].addr;
		ASSERT(yaim_addr_valid(a));
		ASSERT(merged_holder(v, a) == NULL);
		ASSERT(is_healthy(v, self));
		ASSERT(!refuses(v, self, a));
		if (i > 0)
			ASSERT(yaim_addr_cmp(&v->pool[o->claim[i - 1]].addr,
			    a) < 0);
	}
	for (i = 0; i < o->r.nrelease; i++) {
		ASSERT(o->release[i] < v->npool);
		a = &v->pool[o->release[i]].addr;
		ASSERT(yaim_addr_valid(a));
		h = merged_holder(v, a);
		ASSERT(h != NULL && strcmp(h, self) == 0);
		if (i > 0)
			ASSERT(yaim_addr_cmp(&v->pool[o->release[i - 1]].addr,
			    a) < 0);
	}
}

/* The same set of addresses, whichever index represents them. */
static void
check_same(const struct assign_ip *p1, const size_t *i1, size_t n1,
    const struct assign_ip *p2, const size_t *i2, size_t n2)
{
	size_t	 k;

	ASSERT(n1 == n2);
	for (k = 0; k < n1; k++)
		ASSERT(same_ip(&p1[i1[k]].addr, &p2[i2[k]].addr));
}

/* 1 if healthy[i] is the first healthy entry with its name. */
static int
first_of_name(const struct view *v, size_t i)
{
	size_t	 j;

	for (j = 0; j < i; j++)
		if (strcmp(v->healthy[i], v->healthy[j]) == 0)
			return 0;
	return 1;
}

static void
check_targets(const struct view *v, const struct out *o)
{
	size_t	 i, m = 0, n = 0, sum = 0, lo;
	const char *h;

	/*
	 * Refusals do not change targets, but an IP that every healthy node
	 * refuses takes up no node's share.
	 */
	if (v->nhealthy == 0)
		return;
	/* Distinct valid IPs not occupied by a non-healthy node. */
	for (i = 0; i < v->npool; i++) {
		size_t j;

		if (!yaim_addr_valid(&v->pool[i].addr))
			continue;
		for (j = 0; j < i; j++)
			if (yaim_addr_valid(&v->pool[j].addr) &&
			    same_ip(&v->pool[i].addr, &v->pool[j].addr))
				break;
		if (j < i)
			continue;
		h = merged_holder(v, &v->pool[i].addr);
		if ((h == NULL || is_healthy(v, h)) &&
		    !refused_by_all(v, &v->pool[i].addr))
			m++;
	}
	for (i = 0; i < v->nhealthy; i++)
		n += first_of_name(v, i);
	lo = m / n;
	for (i = 0; i < v->nhealthy; i++) {
		ASSERT(o->targets[i] == lo || o->targets[i] == lo + 1);
		if (first_of_name(v, i))
			sum += o->targets[i];
	}
	ASSERT(sum == m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input		 in = { data, size };
	static struct view	 v;
	static struct out	 o, o2;
	struct assign_ip	 rpool[MAXPOOL];
	const char		*rnodes[MAXNAMES];
	size_t			 s, i, k, claimed[MAXPOOL];
	size_t			 nclaimed = 0;

	decode(&in, &v);
	for (i = 0; i < v.npool; i++)
		rpool[i] = v.pool[v.npool - 1 - i];
	for (i = 0; i < v.nhealthy; i++)
		rnodes[i] = v.healthy[v.nhealthy - 1 - i];
	for (s = 0; s < v.nnames; s++) {
		run(&v, v.names[s], v.healthy, v.pool, &o);
		check_safety(&v, v.names[s], &o);
		check_targets(&v, &o);
		/* Reversed input order: the same answer. */
		run(&v, v.names[s], rnodes, rpool, &o2);
		check_same(v.pool, o.claim, o.r.nclaim, rpool, o2.claim,
		    o2.r.nclaim);
		check_same(v.pool, o.release, o.r.nrelease, rpool,
		    o2.release, o2.r.nrelease);
		for (i = 0; i < v.npool; i++) {
			const char *d1 = o.desired[i];
			const char *d2 = o2.desired[v.npool - 1 - i];

			ASSERT((d1 == NULL) == (d2 == NULL));
			ASSERT(d1 == NULL || strcmp(d1, d2) == 0);
			ASSERT(d1 == NULL || is_healthy(&v, d1));
		}
		/* Duplicate names give the same answer: check each once. */
		for (k = 0; k < s; k++)
			if (strcmp(v.names[k], v.names[s]) == 0)
				break;
		if (k < s)
			continue;
		/* With one shared view no two nodes claim the same IP. */
		for (i = 0; i < o.r.nclaim; i++) {
			for (k = 0; k < nclaimed; k++)
				ASSERT(!same_ip(&v.pool[claimed[k]].addr,
				    &v.pool[o.claim[i]].addr));
			ASSERT(nclaimed < MAXPOOL);
			claimed[nclaimed++] = o.claim[i];
		}
	}
	return 0;
}
