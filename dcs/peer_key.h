/*
 * The cluster key of the peer channel, zero-config (DESIGN.md section
 * 10a): the first node makes 32 random bytes and stores them, base64, at
 * <prefix>peer-key with a create-only transaction; every node, that one
 * included, uses whatever that key holds.  peer-key-file, when set,
 * overrides it (dcs/dcs.c), and then etcd is not asked.
 */
#ifndef YAIM_DCS_PEER_KEY_H
#define YAIM_DCS_PEER_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "dcs/peer_wire.h"

struct etcd_client;
struct peer_key_req;

/*
 * ok: key[0 .. keylen-1] is the cluster key (valid during the call),
 * created: this node stored it.  !ok: err says why (etcd unreachable, no
 * randomness yet, or a key in etcd that is not a usable key: then it is
 * left alone for the operator); try again later.
 */
typedef void	(*peer_key_cb)(int ok, const uint8_t *key, size_t keylen,
		    int created, const char *err, void *arg);

/*
 * Read or create <prefix>peer-key (one txn: if create_revision == 0 then
 * put our random key, else range it).  The callback is called once,
 * never from inside this function.  NULL (errno set) if the request
 * could not be started; the callback is then never called.
 */
struct peer_key_req *peer_key_ensure(struct etcd_client *, const char *prefix,
		    peer_key_cb, void *arg);
/* Cancel a pending request: its callback will not be called. */
void		 peer_key_cancel(struct peer_key_req *);

#endif
