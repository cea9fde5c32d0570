/*
 * The set of keys under the prefix as the watch has delivered them: for
 * each key (by a 64-bit hash of its bytes) its mod_revision.  The cheap
 * check of the watch (DESIGN.md 4.3) compares it with etcd.  Pure: no
 * I/O, no clock; open addressing, linear probing, backward-shift delete.
 */
#ifndef YAIM_DCS_KEYSET_H
#define YAIM_DCS_KEYSET_H

#include <stddef.h>
#include <stdint.h>

struct keyset_slot {
	uint64_t	 hash;
	int64_t		 rev;		/* 0: empty slot */
};

struct keyset {
	struct keyset_slot	*slot;
	size_t			 cap;	/* a power of two, or 0 */
	size_t			 n;
};

uint64_t	keyset_hash(const char *key, size_t len);
/* Insert or update; rev > 0.  -1 when out of memory. */
int	keyset_put(struct keyset *, uint64_t hash, int64_t rev);
void	keyset_del(struct keyset *, uint64_t hash);
/* Its mod_revision, or 0 if absent. */
int64_t	keyset_rev(const struct keyset *, uint64_t hash);
/* Keys with a mod_revision above rev. */
size_t	keyset_count_above(const struct keyset *, int64_t rev);
void	keyset_clear(struct keyset *);
void	keyset_free(struct keyset *);

#endif
