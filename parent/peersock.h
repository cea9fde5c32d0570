/*
 * The peer channel's UDP socket, opened by the parent before the
 * children start (DESIGN.md section 10a) and handed to dcs.
 */
#ifndef YAIM_PARENT_PEERSOCK_H
#define YAIM_PARENT_PEERSOCK_H

#include <stddef.h>

#include "blob.h"
#include "config.h"
#include "proto.h"

/*
 * Bind the socket: to peer-address when set (it may not exist yet), else
 * to the wildcard address on the interface only.  Fills *info with the
 * address to publish.  Returns the fd, or -1 and why in err.  Only with
 * conf->peers.
 */
int	peersock_open(const struct yaim_config *, struct imsg_peer_socket *,
	    char *err, size_t errlen);
/*
 * The key from peer-key-file, when set, must parse (BLOB_PEER_KEY):
 * 0, or -1 and why in err.
 */
int	peersock_check_key(const struct yaim_config *,
	    const struct yaim_blobs *, char *err, size_t errlen);

#endif
