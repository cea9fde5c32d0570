/*
 * libFuzzer harness: the etcd reply decoders (dcs/etcd_json.c).  The
 * first byte picks the reply kind, the rest is the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dcs/etcd_json.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_kv(const struct etcd_kv *kv)
{
	/* decoded strings are NUL-terminated at their length */
	if (kv->key == NULL || kv->value == NULL ||
	    kv->key[kv->key_len] != '\0' || kv->value[kv->value_len] != '\0')
		__builtin_trap();
	if (kv->key_len == 0)
		__builtin_trap();
}

static void
check_range(const struct etcd_range_result *rr)
{
	size_t	i;

	for (i = 0; i < rr->n_kvs; i++)
		check_kv(&rr->kvs[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct etcd_reply	r;
	char			err[256];
	size_t			i;
	int			rc;

	if (size < 1)
		return 0;
	rc = etcd_decode_reply((enum etcd_reply_kind)(data[0] % 8), (const
	    char *)data + 1, size - 1, &r, err, sizeof(err));
	if (rc == -1 && err[0] == '\0')
		__builtin_trap();	/* every failure says why */
	if (rc == 0 && !r.is_error) {
		check_range(&r.range);
		for (i = 0; i < r.n_responses; i++)
			check_range(&r.responses[i].range);
		for (i = 0; i < r.n_events; i++) {
			check_kv(&r.events[i].kv);
			if (r.events[i].has_prev_kv)
				check_kv(&r.events[i].prev_kv);
		}
		if (r.ttl < 0 || r.revision < 0)
			__builtin_trap();
	}
	if (rc == 0 && r.is_error && strlen(r.message) == 0)
		__builtin_trap();
	etcd_reply_free(&r);
	return 0;
}
