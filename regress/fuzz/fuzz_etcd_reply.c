/*
 * libFuzzer harness: the etcd reply decoders (dcs/etcd_json.c).  The
 * first byte picks the reply kind (low 3 bits), the rest is the body.
 *
 * With bit 7 of the first byte set, the body is expanded first, so that
 * small inputs reach the bounds a hostile etcd aims at (a reply of more
 * than ETCD_MAX_JSON_VALUES values, DESIGN.md section 11): the next three
 * bytes are a repeat count (big-endian, up to 2^24 - 1), and the rest is
 * head, unit and tail separated by two 0x01 bytes; the body is head, the
 * unit repeated, then tail, at most EXPAND_MAX bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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

#define EXPAND_MAX	(3u * 1024 * 1024)	/* reaches 2^20 values */

/* The expanded body into *out (malloc'd); its length, or 0 if unusable. */
static size_t
expand(const uint8_t *p, size_t len, char **out)
{
	const uint8_t	*a, *b;
	size_t		 rep, hl, ul, tl, n, i;

	if (len < 3)
		return 0;
	rep = (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
	p += 3;
	len -= 3;
	if ((a = memchr(p, 1, len)) == NULL ||
	    (b = memchr(a + 1, 1, len - (size_t)(a + 1 - p))) == NULL)
		return 0;
	hl = (size_t)(a - p);
	ul = (size_t)(b - a - 1);
	tl = len - (size_t)(b + 1 - p);
	if (ul == 0 || rep > (EXPAND_MAX - hl - tl) / ul ||
	    hl + tl > EXPAND_MAX)
		return 0;
	n = hl + rep * ul + tl;
	if (n == 0)
		return 0;	/* "unusable": nothing to free then */
	if ((*out = malloc(n + 1)) == NULL)
		return 0;
	memcpy(*out, p, hl);
	for (i = 0; i < rep; i++)
		memcpy(*out + hl + i * ul, a + 1, ul);
	memcpy(*out + hl + rep * ul, b + 1, tl);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct etcd_reply	r;
	char			err[256], *big = NULL;
	const char		*body;
	size_t			i, len;
	int			rc;

	if (size < 1)
		return 0;
	body = (const char *)data + 1;
	len = size - 1;
	if (data[0] & 0x80) {
		if ((len = expand(data + 1, size - 1, &big)) == 0)
			return 0;
		body = big;
	}
	rc = etcd_decode_reply((enum etcd_reply_kind)(data[0] % 8), body,
	    len, &r, err, sizeof(err));
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
	free(big);
	return 0;
}
