/*
 * libFuzzer harness: the etcd v2 reply decoder, the pool listing and the
 * X-Etcd-Index header (dcs/etcd2_json.c).  The first byte picks what the
 * rest is: 0 a reply body (then its pool as a listing of "/p/ips" and of
 * the reply's own top key), 1 a header line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dcs/etcd2_json.h"

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
	size_t		 n, i;
	char		 err[256];

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
		    ips[i].mark->key_len != strlen(key) + 1 +
		    ips[i].name_len + 7))
			__builtin_trap();
	}
	free(ips);
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
