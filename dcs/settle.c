/*
 * Cold start: when a node that joined may claim, and in which order.
 * Pure: see settle.h.
 */
#include <stdlib.h>
#include <string.h>

#include "dcs/settle.h"

uint64_t
settle_wait(uint64_t now, uint64_t joined, uint64_t changed,
    uint64_t settle, uint64_t max)
{
	uint64_t	 a, b;

	if (changed < joined)
		changed = joined;
	if (joined > now)
		joined = now;
	if (changed > now)
		changed = now;
	if (now - joined >= max || now - changed >= settle)
		return 0;
	a = settle - (now - changed);
	b = max - (now - joined);
	return a < b ? a : b;
}

uint64_t
settle_window(uint64_t cost)
{
	if (cost > SETTLE_MAX_MS / 2)
		return SETTLE_MAX_MS;
	return 2 * cost < SETTLE_MS ? SETTLE_MS : 2 * cost;
}

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* Whether names[i] already appeared before i (a duplicate). */
static int
seen_before(const char *const *names, size_t i)
{
	size_t	 j;

	for (j = 0; j < i; j++)
		if (names[j] != NULL && strcmp(names[j], names[i]) == 0)
			return 1;
	return 0;
}

uint64_t
settle_fingerprint(const char *const *names, size_t n)
{
	uint64_t	 sum = 0, count = 0;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (names[i] == NULL || seen_before(names, i))
			continue;
		sum += assign_node_hash(names[i]);
		count++;
	}
	return mix(sum ^ mix(count));
}

/* qsort has no context argument: the sort keys go with the indices. */
struct keyed {
	uint64_t		 w;
	const struct yaim_addr	*a;
	size_t			 idx;
};

static int
keyed_cmp(const void *x, const void *y)
{
	const struct keyed	*p = x, *q = y;

	if (p->w != q->w)
		return p->w > q->w ? -1 : 1;
	return yaim_addr_cmp(p->a, q->a);
}

void
settle_order(const char *self, const struct assign_ip *pool, size_t *idx,
    size_t n)
{
	struct keyed	*k;
	size_t		 i;

	if (n < 2)
		return;
	if ((k = calloc(n, sizeof(*k))) == NULL)
		return;		/* address order is still a valid order */
	for (i = 0; i < n; i++) {
		k[i].w = assign_hash(self, &pool[idx[i]].addr);
		k[i].a = &pool[idx[i]].addr;
		k[i].idx = idx[i];
	}
	qsort(k, n, sizeof(*k), keyed_cmp);
	for (i = 0; i < n; i++)
		idx[i] = k[i].idx;
	free(k);
}
