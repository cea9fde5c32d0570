/*
 * A hash set of keys and their mod_revisions (see keyset.h).
 */
#include <stdlib.h>
#include <string.h>

#include "dcs/keyset.h"

/* FNV-1a, then a final mix: the keys are not chosen by an attacker
   who could gain from a collision more than one full read. */
uint64_t
keyset_hash(const char *key, size_t len)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	size_t		 i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static size_t
find(const struct keyset *ks, uint64_t hash)
{
	size_t	 i = (size_t)hash & (ks->cap - 1);

	while (ks->slot[i].rev != 0 && ks->slot[i].hash != hash)
		i = (i + 1) & (ks->cap - 1);
	return i;
}

static int
resize(struct keyset *ks, size_t cap)
{
	struct keyset_slot	*old = ks->slot;
	size_t			 i, ocap = ks->cap;

	if ((ks->slot = calloc(cap, sizeof(*ks->slot))) == NULL) {
		ks->slot = old;
		return -1;
	}
	ks->cap = cap;
	for (i = 0; i < ocap; i++)
		if (old[i].rev != 0)
			ks->slot[find(ks, old[i].hash)] = old[i];
	free(old);
	return 0;
}

int
keyset_put(struct keyset *ks, uint64_t hash, int64_t rev)
{
	size_t	 i;

	/* at most half full: short probes */
	if ((ks->n + 1) * 2 > ks->cap &&
	    resize(ks, ks->cap ? ks->cap * 2 : 64) == -1)
		return -1;
	i = find(ks, hash);
	if (ks->slot[i].rev == 0)
		ks->n++;
	ks->slot[i].hash = hash;
	ks->slot[i].rev = rev > 0 ? rev : 1;
	return 0;
}

void
keyset_del(struct keyset *ks, uint64_t hash)
{
	size_t	 i, j, home;

	if (ks->cap == 0)
		return;
	i = find(ks, hash);
	if (ks->slot[i].rev == 0)
		return;
	ks->n--;
	/* Backward shift: move later entries of the run into the hole. */
	for (j = (i + 1) & (ks->cap - 1); ks->slot[j].rev != 0;
	    j = (j + 1) & (ks->cap - 1)) {
		home = (size_t)ks->slot[j].hash & (ks->cap - 1);
		/* j may move to i if home is not cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			ks->slot[i] = ks->slot[j];
			i = j;
		}
	}
	ks->slot[i].rev = 0;
	ks->slot[i].hash = 0;
}

int64_t
keyset_rev(const struct keyset *ks, uint64_t hash)
{
	if (ks->cap == 0)
		return 0;
	return ks->slot[find(ks, hash)].rev;
}

size_t
keyset_count_above(const struct keyset *ks, int64_t rev)
{
	size_t	 i, n = 0;

	for (i = 0; i < ks->cap; i++)
		if (ks->slot[i].rev > rev)
			n++;
	return n;
}

void
keyset_clear(struct keyset *ks)
{
	if (ks->cap > 0)
		memset(ks->slot, 0, ks->cap * sizeof(*ks->slot));
	ks->n = 0;
}

void
keyset_free(struct keyset *ks)
{
	free(ks->slot);
	memset(ks, 0, sizeof(*ks));
}
