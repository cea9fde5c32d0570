/*
 * libFuzzer harness: the etcd v2 reply decoder, the pool listing and the
 * X-Etcd-Index header (dcs/etcd2_json.c), and a decoded reply as v3 kvs
 * and events (dcs/etcd2_view.c).  The first byte picks what the
 * rest is: 0 a reply body (then its pool as a listing of "/p/ips" and of
 * the reply's own top key), 1 a header line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcs/etcd2_json.h"
#include "dcs/etcd2_view.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_node(const struct etcd2_node *n)
{
	if (n->key == NULL || n->key[n->key_len] != '\0' ||
	    strlen(n->key) != n->key_len || n->expiration == NULL)
		__builtin_trap();
	if (n->key_len > 0 && n->key[0] != '/')
		__builtin_trap();
	if (n->value != NULL && n->value[n->value_len] != '\0')
		__builtin_trap();
	if (n->modified_index < 0 || n->created_index < 0 ||
	    n->depth > ETCD2_MAX_DEPTH)
		__builtin_trap();
}

static void
check_pool(const struct etcd2_reply *r, const char *key)
{
	struct etcd2_ip	*ips;
	size_t		 n, i, kl = strlen(key);
	char		 err[256];

	if (kl > 0 && key[kl - 1] == '/')
		kl--;		/* the root's children are "/<name>" */
	if (etcd2_pool(r, key, &ips, &n, err, sizeof(err)) == -1) {
		if (err[0] == '\0' || ips != NULL)
			__builtin_trap();
		return;
	}
	for (i = 0; i < n; i++) {
		/* a name is one path component, never empty */
		if (ips[i].name_len == 0 ||
		    memchr(ips[i].name, '/', ips[i].name_len) != NULL)
			__builtin_trap();
		if (ips[i].mark != NULL && (ips[i].mark->dir ||
		    ips[i].mark->key_len != kl + 1 +
		    ips[i].name_len + 7))
			__builtin_trap();
	}
	free(ips);
}

static int64_t
created_none(const char *node, void *arg)
{
	(void)node;
	(void)arg;
	return 0;
}

/* As a full read of /p/ (and of its own top key) and as a watch event. */
static void
check_view(const struct etcd2_reply *r, const char *top)
{
	struct etcd_kv		*kv;
	struct etcd_event	 ev[2];
	char			 pfx[ETCD2_MAX_KEY + 2], mk[ETCD2_MAX_KEY + 16];
	size_t			 n, i;
	int			 k;

	snprintf(pfx, sizeof(pfx), "%s/", top);
	if (etcd2_read_kvs("/p/", r, &kv, &n, mk, sizeof(mk)) == 0)
		free(kv);
	if (etcd2_read_kvs(pfx, r, &kv, &n, mk, sizeof(mk)) == 0) {
		if (n >= r->n_nodes && n != 0)
			__builtin_trap();	/* the top is no kv */
		for (i = 0; i < n; i++)
			if (kv[i].key == NULL || kv[i].value == NULL)
				__builtin_trap();
		free(kv);
	}
	k = etcd2_event_kvs("/p/", r->action, &r->nodes[0], created_none,
	    NULL, mk, sizeof(mk), ev);
	if (k < -1 || k > 2 || (k == 2 && ev[1].kv.key != mk))
		__builtin_trap();
}

static void
fuzz_reply(const char *body, size_t len)
{
	struct etcd2_reply	r;
	char			err[256], top[ETCD2_MAX_KEY + 1];
	size_t			i;
	int			rc;

	rc = etcd2_decode_reply(body, len, &r, err, sizeof(err));
	if (rc == -1 && err[0] == '\0')
		__builtin_trap();	/* every failure says why */
	if (rc == 0 && r.is_error && (r.message[0] == '\0' ||
	    r.error_code <= 0 || r.n_nodes != 0))
		__builtin_trap();
	if (rc == 0 && !r.is_error) {
		if (r.n_nodes == 0 || r.action[0] == '\0')
			__builtin_trap();
		for (i = 0; i < r.n_nodes; i++) {
			check_node(&r.nodes[i]);
			if (i > 0 && (r.nodes[i].parent >= i ||
			    r.nodes[r.nodes[i].parent].depth + 1 !=
			    r.nodes[i].depth))
				__builtin_trap();
		}
		if (r.has_prev)
			check_node(&r.prev);
		check_pool(&r, "/p/ips");
		memcpy(top, r.nodes[0].key, r.nodes[0].key_len + 1);
		check_pool(&r, top);
		check_view(&r, top);
	}
	etcd2_reply_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t	 v = -1;
	int	 rc;

	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		fuzz_reply((const char *)data + 1, size - 1);
		return 0;
	}
	rc = etcd2_index_header((const char *)data + 1, size - 1, &v);
	if (rc == 1 && (v < 0 || v > ETCD2_MAX_NUMBER))
		__builtin_trap();
	return 0;
}
