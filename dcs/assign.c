/*
 * Balancing of pool IPs over healthy nodes.  Pure: see assign.h for the
 * contract and the algorithm.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dcs/assign.h"

#define HOLDER_NONE	(-1)	/* unmarked */
#define HOLDER_FOREIGN	(-2)	/* marked by a node outside the healthy set */
#define NOBODY		(-1)

struct node {
	const char	*name;
	uint64_t	 rank;		/* assign_node_hash(name) */
	size_t		 held;		/* pool IPs marked by this node */
	size_t		 capped;	/* min(held, floor + 1): rank key */
	size_t		 target;
	size_t		 assigned;
};

struct ip {
	struct yaim_addr addr;		/* normalised: prefixlen, tail zeroed */
	size_t		 first;		/* lowest index in view->pool */
	const char	*holder;
	long		 holder_node;	/* node index or HOLDER_* */
	long		 desired;	/* node index or NOBODY */
	size_t		 nrefusing;	/* healthy nodes that refuse it */
};

struct pair {
	size_t		 ip;
	size_t		 node;
	uint64_t	 weight;
	size_t		 eligible;	/* of the IP, when filling */
};

/* Whole state of one computation, so helpers take one argument. */
struct ctx {
	const struct assign_view *view;
	struct node	*nodes;
	size_t		 nnodes;
	struct ip	*ips;
	size_t		 nips;
	struct pair	*refused;	/* (ip, node) pairs, sorted */
	size_t		 nrefused;
};

static uint64_t
fnv1a(uint64_t h, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	size_t		 i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

#define FNV_BASIS	0xcbf29ce484222325ULL

static size_t
addr_len(uint8_t af)
{
	return af == AF_INET ? 4 : 16;
}

uint64_t
assign_node_hash(const char *node)
{
	return mix64(fnv1a(FNV_BASIS, node, strlen(node)));
}

uint64_t
assign_hash(const char *node, const struct yaim_addr *a)
{
	uint8_t		 zero = 0, af = a->af;
	uint64_t	 h;

	h = fnv1a(FNV_BASIS, node, strlen(node));
	h = fnv1a(h, &zero, 1);
	h = fnv1a(h, &af, 1);
	h = fnv1a(h, a->addr, addr_len(a->af));
	return mix64(h);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
ip_cmp(const void *a, const void *b)
{
	const struct ip	*x = a, *y = b;
	int		 c;

	if ((c = yaim_addr_cmp(&x->addr, &y->addr)) != 0)
		return c;
	return x->first < y->first ? -1 : x->first > y->first;
}

static int
pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return x->node < y->node ? -1 : x->node > y->node;
}

static struct yaim_addr
addr_normal(const struct yaim_addr *a)
{
	struct yaim_addr n;

	memset(&n, 0, sizeof(n));
	n.af = a->af;
	memcpy(n.addr, a->addr, addr_len(a->af));
	return n;
}

static long
node_find(const struct ctx *c, const char *name)
{
	size_t	 lo = 0, hi = c->nnodes, mid;
	int	 r;

	if (name == NULL)
		return -1;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = strcmp(name, c->nodes[mid].name);
		if (r == 0)
			return (long)mid;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static long
ip_find(const struct ctx *c, const struct yaim_addr *a)
{
	struct yaim_addr key = addr_normal(a);
	size_t		 lo = 0, hi = c->nips, mid;
	int		 r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = yaim_addr_cmp(&key, &c->ips[mid].addr);
		if (r == 0)
			return (long)mid;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static int
is_refused(const struct ctx *c, size_t ip, size_t node)
{
	struct pair	 key = { ip, node, 0, 0 };

	return c->nrefused > 0 && bsearch(&key, c->refused, c->nrefused,
	    sizeof(key), pair_cmp) != NULL;
}

/* Healthy names, sorted and deduplicated. */
static int
build_nodes(struct ctx *c)
{
	const struct assign_view *v = c->view;
	const char	**names;
	size_t		  i, n = 0;

	if ((names = calloc(v->nnodes + 1, sizeof(*names))) == NULL ||
	    (c->nodes = calloc(v->nnodes + 1, sizeof(*c->nodes))) == NULL) {
		free(names);
		return -1;
	}
	for (i = 0; i < v->nnodes; i++)
		if (v->nodes[i] != NULL)
			names[n++] = v->nodes[i];
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		if (c->nnodes > 0 &&
		    strcmp(c->nodes[c->nnodes - 1].name, names[i]) == 0)
			continue;
		c->nodes[c->nnodes].name = names[i];
		c->nodes[c->nnodes].rank = assign_node_hash(names[i]);
		c->nnodes++;
	}
	free(names);
	return 0;
}

/* The smaller holder wins among duplicates, so input order is moot. */
static const char *
holder_merge(const char *a, const char *b)
{
	if (a == NULL)
		return b;
	if (b == NULL)
		return a;
	return strcmp(a, b) <= 0 ? a : b;
}

/* Valid pool IPs, sorted by address and deduplicated. */
static int
build_ips(struct ctx *c)
{
	const struct assign_view *v = c->view;
	struct ip	*all;
	size_t		 i, n = 0;

	if ((all = calloc(v->npool + 1, sizeof(*all))) == NULL)
		return -1;
	for (i = 0; i < v->npool; i++) {
		if (!yaim_addr_valid(&v->pool[i].addr))
			continue;
		all[n].addr = addr_normal(&v->pool[i].addr);
		all[n].first = i;
		all[n].holder = v->pool[i].holder;
		n++;
	}
	qsort(all, n, sizeof(*all), ip_cmp);
	c->ips = all;
	c->nips = 0;
	for (i = 0; i < n; i++) {
		struct ip *last = c->nips > 0 ? &all[c->nips - 1] : NULL;

		if (last != NULL &&
		    yaim_addr_cmp(&last->addr, &all[i].addr) == 0) {
			last->holder = holder_merge(last->holder,
			    all[i].holder);
			continue;
		}
		all[c->nips++] = all[i];
	}
	for (i = 0; i < c->nips; i++) {
		struct ip *p = &c->ips[i];

		p->desired = NOBODY;
		if (p->holder == NULL)
			p->holder_node = HOLDER_NONE;
		else if ((p->holder_node = node_find(c, p->holder)) < 0)
			p->holder_node = HOLDER_FOREIGN;
		else
			c->nodes[p->holder_node].held++;
	}
	return 0;
}

static int
build_refusals(struct ctx *c)
{
	const struct assign_view *v = c->view;
	size_t		 i, n;
	long		 node, ip;

	if ((c->refused = calloc(v->nrefusals + 1,
	    sizeof(*c->refused))) == NULL)
		return -1;
	for (i = 0; i < v->nrefusals; i++) {
		if ((node = node_find(c, v->refusals[i].node)) < 0 ||
		    !yaim_addr_valid(&v->refusals[i].addr) ||
		    (ip = ip_find(c, &v->refusals[i].addr)) < 0)
			continue;
		c->refused[c->nrefused].ip = (size_t)ip;
		c->refused[c->nrefused].node = (size_t)node;
		c->nrefused++;
	}
	qsort(c->refused, c->nrefused, sizeof(*c->refused), pair_cmp);
	for (i = 0, n = 0; i < c->nrefused; i++) {
		if (n > 0 && pair_cmp(&c->refused[n - 1], &c->refused[i]) == 0)
			continue;
		c->refused[n++] = c->refused[i];
	}
	c->nrefused = n;
	for (i = 0; i < n; i++)
		c->ips[c->refused[i].ip].nrefusing++;
	return 0;
}

/* Nodes that already hold more get the extra IPs first: no churn. */
static int
rank_cmp(const void *a, const void *b)
{
	const struct node *x = *(struct node *const *)a;
	const struct node *y = *(struct node *const *)b;

	if (x->capped != y->capped)
		return x->capped > y->capped ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
set_targets(struct ctx *c)
{
	struct node	**order;
	size_t		  i, m = 0, base, extra;

	/* An IP that nobody may hold must not take up a node's slot. */
	for (i = 0; i < c->nips; i++)
		if (c->ips[i].holder_node != HOLDER_FOREIGN &&
		    c->ips[i].nrefusing < c->nnodes)
			m++;
	base = m / c->nnodes;
	extra = m % c->nnodes;
	for (i = 0; i < c->nnodes; i++) {
		c->nodes[i].capped = c->nodes[i].held < base + 1 ?
		    c->nodes[i].held : base + 1;
		c->nodes[i].target = base;
	}
	if (extra > 0) {
		if ((order = calloc(c->nnodes, sizeof(*order))) == NULL)
			return -1;
		for (i = 0; i < c->nnodes; i++)
			order[i] = &c->nodes[i];
		qsort(order, c->nnodes, sizeof(*order), rank_cmp);
		for (i = 0; i < extra; i++)
			order[i]->target++;
		free(order);
	}
	return 0;
}

/* By node, heaviest first, then by address: the keep order. */
static int
keep_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return x->ip < y->ip ? -1 : x->ip > y->ip;
}

static int
keep_held(struct ctx *c)
{
	struct pair	*pairs;
	size_t		 i, n = 0;
	struct node	*node;

	if ((pairs = calloc(c->nips + 1, sizeof(*pairs))) == NULL)
		return -1;
	for (i = 0; i < c->nips; i++) {
		if (c->ips[i].holder_node < 0)
			continue;
		pairs[n].ip = i;
		pairs[n].node = (size_t)c->ips[i].holder_node;
		pairs[n].weight = assign_hash(c->ips[i].holder,
		    &c->ips[i].addr);
		n++;
	}
	qsort(pairs, n, sizeof(*pairs), keep_cmp);
	for (i = 0; i < n; i++) {
		node = &c->nodes[pairs[i].node];
		if (node->assigned >= node->target ||
		    is_refused(c, pairs[i].ip, pairs[i].node))
			continue;
		c->ips[pairs[i].ip].desired = (long)pairs[i].node;
		node->assigned++;
	}
	free(pairs);
	return 0;
}

static int
is_free(const struct ip *p)
{
	return p->holder_node != HOLDER_FOREIGN && p->desired == NOBODY;
}

static int
has_room(const struct node *n)
{
	return n->assigned < n->target;
}

/* Most constrained IP first, then highest weight: rendezvous with caps. */
static int
fill_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->eligible != y->eligible)
		return x->eligible < y->eligible ? -1 : 1;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	return x->ip < y->ip ? -1 : x->ip > y->ip;
}

static int
fill_free(struct ctx *c)
{
	struct pair	*pairs;
	size_t		 i, j, n = 0, nfree = 0, nroom = 0, first, eligible;
	struct node	*node;

	for (i = 0; i < c->nips; i++)
		nfree += is_free(&c->ips[i]);
	for (j = 0; j < c->nnodes; j++)
		nroom += has_room(&c->nodes[j]);
	if (nfree == 0 || nroom == 0)
		return 0;
	if ((pairs = calloc(nfree * nroom, sizeof(*pairs))) == NULL)
		return -1;
	for (i = 0; i < c->nips; i++) {
		if (!is_free(&c->ips[i]))
			continue;
		first = n;
		for (j = 0; j < c->nnodes; j++) {
			if (!has_room(&c->nodes[j]) || is_refused(c, i, j))
				continue;
			pairs[n].ip = i;
			pairs[n].node = j;
			pairs[n].weight = assign_hash(c->nodes[j].name,
			    &c->ips[i].addr);
			n++;
		}
		eligible = n - first;
		for (j = first; j < n; j++)
			pairs[j].eligible = eligible;
	}
	qsort(pairs, n, sizeof(*pairs), fill_cmp);
	for (i = 0; i < n; i++) {
		node = &c->nodes[pairs[i].node];
		if (!has_room(node) || c->ips[pairs[i].ip].desired != NOBODY)
			continue;
		c->ips[pairs[i].ip].desired = (long)pairs[i].node;
		node->assigned++;
	}
	free(pairs);
	return 0;
}

/* The heaviest node that does not refuse IP i (ties: name order). */
static long
heaviest_acceptor(const struct ctx *c, size_t i)
{
	uint64_t	 w, best = 0;
	size_t		 j;
	long		 who = NOBODY;

	for (j = 0; j < c->nnodes; j++) {
		if (is_refused(c, i, j))
			continue;
		w = assign_hash(c->nodes[j].name, &c->ips[i].addr);
		if (who == NOBODY || w > best) {
			best = w;
			who = (long)j;
		}
	}
	return who;
}

/*
 * IPs that no node with room may take: the current holder keeps it, else
 * the heaviest node that accepts it takes it over its target.
 */
static void
place_overflow(struct ctx *c)
{
	struct ip	*p;
	size_t		 i;
	long		 who;

	for (i = 0; i < c->nips; i++) {
		p = &c->ips[i];
		if (!is_free(p))
			continue;
		if (p->holder_node >= 0 &&
		    !is_refused(c, i, (size_t)p->holder_node))
			who = p->holder_node;
		else
			who = heaviest_acceptor(c, i);
		p->desired = who;
		if (who != NOBODY)
			c->nodes[who].assigned++;
	}
}

/*
 * Which IP x would take from each node, as the next step of a chain:
 * best[y] for every node y not yet reached, among the IPs assigned to y
 * that x does not refuse; one its holder-to-be does not hold yet first
 * (no outage), then the lowest address.  -1 where there is none.
 */
static void
takeable(const struct ctx *c, size_t x, const long *reached, long *best)
{
	const struct ip	*p;
	size_t		 i, y;

	for (y = 0; y < c->nnodes; y++)
		best[y] = -1;
	for (i = 0; i < c->nips; i++) {
		p = &c->ips[i];
		if (p->desired < 0 || (size_t)p->desired == x ||
		    reached[p->desired] != -1 || is_refused(c, i, x))
			continue;
		y = (size_t)p->desired;
		if (best[y] == -1 ||
		    (c->ips[best[y]].holder_node == p->desired &&
		    p->holder_node != p->desired))
			best[y] = (long)i;
	}
}

/*
 * One shortest chain from node v (under its target) to a node over its
 * target, each node taking one IP from the next; shift along it.  The
 * search is breadth first, nodes in name order.  Returns 1 if it
 * shifted, 0 if there is no chain, -1 on ENOMEM.
 */
static int
augment(struct ctx *c, size_t v)
{
	long	*taken, *prev, *best;
	size_t	*queue, head = 0, tail = 0, x, y, over = 0;
	int	 rc = 0;

	taken = calloc(c->nnodes, sizeof(*taken));
	prev = calloc(c->nnodes, sizeof(*prev));
	best = calloc(c->nnodes, sizeof(*best));
	queue = calloc(c->nnodes, sizeof(*queue));
	if (!taken || !prev || !best || !queue) {
		rc = -1;
		goto out;
	}
	for (y = 0; y < c->nnodes; y++)
		taken[y] = -1;
	taken[v] = -2;
	queue[tail++] = v;
	while (head < tail && rc == 0) {
		x = queue[head++];
		takeable(c, x, taken, best);
		for (y = 0; y < c->nnodes && rc == 0; y++) {
			if (best[y] == -1)
				continue;
			taken[y] = best[y];
			prev[y] = (long)x;
			if (c->nodes[y].assigned > c->nodes[y].target) {
				over = y;
				rc = 1;
			} else
				queue[tail++] = y;
		}
	}
	if (rc == 1) {
		/* Nodes inside the chain give one and take one. */
		c->nodes[over].assigned--;
		c->nodes[v].assigned++;
		for (y = over; y != v; y = (size_t)prev[y])
			c->ips[taken[y]].desired = prev[y];
	}
 out:
	free(taken);
	free(prev);
	free(best);
	free(queue);
	return rc;
}

/*
 * Refusals can leave a node over its target while another, under its
 * target, could take over, directly or through a chain (see augment).
 * Every shift lowers the excess by one, so this ends after at most M
 * shifts; without refusals nobody is over target and nothing moves.
 */
static int
rebalance(struct ctx *c)
{
	size_t	 v;
	int	 rc;

	if (c->nrefused == 0)
		return 0;
	for (v = 0; v < c->nnodes; v++)
		while (c->nodes[v].assigned < c->nodes[v].target)
			if ((rc = augment(c, v)) <= 0) {
				if (rc == -1)
					return -1;
				break;
			}
	return 0;
}

static void
report(const struct ctx *c, struct assign_result *r)
{
	const struct assign_view *v = c->view;
	const struct ip	*p;
	size_t		 i;
	long		 self, k;

	self = node_find(c, v->self);
	for (i = 0; i < c->nips; i++) {
		p = &c->ips[i];
		if (self >= 0 && p->desired == self &&
		    p->holder_node == HOLDER_NONE)
			r->claim[r->nclaim++] = p->first;
		if (p->holder != NULL && strcmp(p->holder, v->self) == 0 &&
		    (self < 0 || p->desired != self))
			r->release[r->nrelease++] = p->first;
	}
	if (r->desired != NULL) {
		for (i = 0; i < v->npool; i++) {
			r->desired[i] = NULL;
			if (!yaim_addr_valid(&v->pool[i].addr) ||
			    (k = ip_find(c, &v->pool[i].addr)) < 0 ||
			    c->ips[k].desired == NOBODY)
				continue;
			r->desired[i] = c->nodes[c->ips[k].desired].name;
		}
	}
	if (r->targets != NULL) {
		for (i = 0; i < v->nnodes; i++) {
			k = node_find(c, v->nodes[i]);
			r->targets[i] = k < 0 ? 0 : c->nodes[k].target;
		}
	}
}

static int
view_ok(const struct assign_view *v, const struct assign_result *r)
{
	if (v == NULL || r == NULL || v->self == NULL)
		return 0;
	if ((v->nnodes > 0 && v->nodes == NULL) ||
	    (v->npool > 0 && (v->pool == NULL || r->claim == NULL ||
	    r->release == NULL)) ||
	    (v->nrefusals > 0 && v->refusals == NULL))
		return 0;
	return 1;
}

int
assign_compute(const struct assign_view *v, struct assign_result *r)
{
	struct ctx	 c;
	int		 rc = -1;

	if (r != NULL)
		r->nclaim = r->nrelease = 0;
	if (!view_ok(v, r)) {
		errno = EINVAL;
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.view = v;
	if (build_nodes(&c) == -1 || build_ips(&c) == -1 ||
	    build_refusals(&c) == -1)
		goto out;
	if (c.nnodes > 0) {
		if (set_targets(&c) == -1 || keep_held(&c) == -1 ||
		    fill_free(&c) == -1)
			goto out;
		place_overflow(&c);
		if (rebalance(&c) == -1)
			goto out;
	}
	report(&c, r);
	rc = 0;
 out:
	if (rc == -1)
		errno = ENOMEM;
	free(c.nodes);
	free(c.ips);
	free(c.refused);
	return rc;
}
