/*
 * TLS material (CA bundles, client certificates and keys), read by the
 * parent before any child starts and handed to the children over imsg
 * (IMSG_CFG_BLOB), since the children run in an empty chroot.
 */
#ifndef YAIM_BLOB_H
#define YAIM_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "proto.h"

struct yaim_blob {
	uint32_t	 kind;		/* enum blob_kind */
	uint32_t	 index;		/* check index, 0 for etcd blobs */
	size_t		 len;
	uint8_t		*data;
};

struct yaim_blobs {
	struct yaim_blob	*v;
	size_t			 n;
};

/* Parent: read every file the config names.  -1 and err on failure. */
int	blobs_load(const struct yaim_config *, struct yaim_blobs *,
	    char *err, size_t errlen);
/* Children: add one received blob (copies data). */
int	blobs_add(struct yaim_blobs *, uint32_t kind, uint32_t index,
	    const void *data, size_t len);
const struct yaim_blob *blobs_find(const struct yaim_blobs *, uint32_t kind,
	    uint32_t index);
/* Wipe and free everything. */
void	blobs_free(struct yaim_blobs *);

#endif
