/*
 * libFuzzer harness: the watch stream splitter (dcs/etcd_json.c), fed in
 * chunks whose sizes come from the input, every object then decoded as a
 * watch message.  The same stream fed at once must give the same objects.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dcs/etcd_json.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct tally {
	size_t		n;
	uint64_t	hash;
};

static int
on_object(const char *obj, size_t len, void *arg)
{
	struct tally		*t = arg;
	struct etcd_reply	 r;
	char			 err[256];
	size_t			 i;

	if (len < 2 || obj[0] != '{')
		__builtin_trap();
	t->n++;
	for (i = 0; i < len; i++)
		t->hash = t->hash * 1099511628211u ^ (uint8_t)obj[i];
	etcd_decode_reply(ETCD_REPLY_WATCH, obj, len, &r, err, sizeof(err));
	etcd_reply_free(&r);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct etcd_splitter	 s;
	struct tally		 a = { 0, 0 }, b = { 0, 0 };
	char			 err[128];
	const char		*p;
	size_t			 chunk, off = 0, len;
	int			 rca = 0, rcb;

	if (size < 2)
		return 0;
	chunk = (size_t)data[0] % 64 + 1;
	p = (const char *)data + 1;
	len = size - 1;

	etcd_splitter_init(&s, 4096);
	while (off < len && rca == 0) {
		size_t n = len - off < chunk ? len - off : chunk;

		rca = etcd_splitter_feed(&s, p + off, n, on_object, &a, err,
		    sizeof(err));
		off += n;
	}
	etcd_splitter_free(&s);

	etcd_splitter_init(&s, 4096);
	rcb = etcd_splitter_feed(&s, p, len, on_object, &b, err, sizeof(err));
	etcd_splitter_free(&s);
	if (rca != rcb || a.n != b.n || a.hash != b.hash)
		__builtin_trap();
	return 0;
}
