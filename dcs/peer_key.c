/*
 * The cluster key in etcd.  See peer_key.h.  v3 only, so it calls the v3
 * client directly rather than through the backend (backend.h): the
 * configuration refuses peers with dcs-type etcd2 (DESIGN.md 15).
 */
#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcs/etcd.h"
#include "dcs/etcd_json.h"
#include "dcs/keys.h"
#include "dcs/peer_key.h"

#define NEW_KEY_BYTES	32

struct peer_key_req {
	struct etcd_req	*req;
	peer_key_cb	 cb;
	void		*arg;
	uint8_t		 mine[NEW_KEY_BYTES];
	char		 name[ETCD_MAX_KEY];
};

static void
req_free(struct peer_key_req *pk)
{
	explicit_bzero(pk, sizeof(*pk));
	free(pk);
}

static void
ensure_done(const struct etcd_result *r, void *arg)
{
	struct peer_key_req		*pk = arg;
	const struct etcd_op_result	*op;
	uint8_t				 key[PEER_KEY_MAX];
	char				 err[ETCD_MAX_KEY + 128], why[96];
	int				 n;

	pk->req = NULL;
	if (r->status != ETCD_OK) {
		snprintf(err, sizeof(err), "%s: %s", pk->name, r->error);
		pk->cb(0, NULL, 0, 0, err, pk->arg);
	} else if (r->succeeded)
		pk->cb(1, pk->mine, sizeof(pk->mine), 1, "", pk->arg);
	else {
		op = r->n_responses == 1 ? &r->responses[0] : NULL;
		if (op == NULL || op->kind != ETCD_OP_RANGE ||
		    op->range.n_kvs != 1) {
			/* deleted between compare and range: try again */
			snprintf(err, sizeof(err), "%s: vanished while read",
			    pk->name);
			pk->cb(0, NULL, 0, 0, err, pk->arg);
		} else if ((n = peer_key_parse(op->range.kvs[0].value,
		    op->range.kvs[0].value_len, key, why,
		    sizeof(why))) == -1) {
			snprintf(err, sizeof(err), "%s: %s; fix or delete it",
			    pk->name, why);
			pk->cb(0, NULL, 0, 0, err, pk->arg);
		} else
			pk->cb(1, key, (size_t)n, 0, "", pk->arg);
		explicit_bzero(key, sizeof(key));
	}
	req_free(pk);
}

struct peer_key_req *
peer_key_ensure(struct etcd_client *client, const char *prefix,
    peer_key_cb cb, void *arg)
{
	struct peer_key_req	*pk;
	struct etcd_compare	 cmp;
	struct etcd_op		 put, get;
	struct etcd_txn		 txn;
	char			 b64[(NEW_KEY_BYTES + 2) / 3 * 4 + 1];
	int			 n;

	if ((pk = calloc(1, sizeof(*pk))) == NULL)
		return NULL;
	n = snprintf(pk->name, sizeof(pk->name), "%s%s", prefix,
	    KEYS_PEER_KEY);
	/* The chroot has no /dev: getrandom(2) needs none.  Never block
	 * the event loop for entropy; the caller tries again. */
	if (n < 0 || (size_t)n >= sizeof(pk->name) ||
	    getrandom(pk->mine, sizeof(pk->mine), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(pk->mine)) {
		if (n >= 0 && (size_t)n >= sizeof(pk->name))
			errno = ENAMETOOLONG;
		req_free(pk);
		return NULL;
	}
	etcd_base64_encode(pk->mine, sizeof(pk->mine), b64);
	pk->cb = cb;
	pk->arg = arg;
	memset(&cmp, 0, sizeof(cmp));
	cmp.key = pk->name;
	cmp.target = ETCD_CMP_CREATE;
	cmp.op = ETCD_CMP_EQUAL;
	cmp.number = 0;
	memset(&put, 0, sizeof(put));
	put.kind = ETCD_OP_PUT;
	put.key = pk->name;
	put.value = b64;		/* no lease: it outlives every node */
	memset(&get, 0, sizeof(get));
	get.kind = ETCD_OP_RANGE;
	get.key = pk->name;
	txn = (struct etcd_txn){ &cmp, 1, &put, 1, &get, 1 };
	pk->req = etcd_txn(client, &txn, ensure_done, pk);
	explicit_bzero(b64, sizeof(b64));
	if (pk->req == NULL) {
		req_free(pk);
		return NULL;
	}
	return pk;
}

void
peer_key_cancel(struct peer_key_req *pk)
{
	if (pk == NULL)
		return;
	if (pk->req != NULL)
		etcd_req_cancel(pk->req);
	req_free(pk);
}
