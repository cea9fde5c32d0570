/*
 * libFuzzer harness for the etcd key parser: any bytes as a key, under a
 * fixed prefix and under a prefix taken from the input; and the same
 * bytes as the value of a peer key.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcs/keys.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const char *prefix, const char *key, size_t len)
{
	struct key_info		 ki;
	struct yaim_addr	 a;
	enum key_kind		 k;

	k = keys_parse(prefix, key, len, &ki);
	if (k != ki.kind)
		abort();
	if ((k == KEY_NODE || k == KEY_PEER || k == KEY_MEMBER) &&
	    (strlen(ki.node) == 0 ||
	    !keys_valid_nodename(ki.node, strlen(ki.node))))
		abort();
	if ((k == KEY_POOL || k == KEY_MARK || k == KEY_REFUSED) &&
	    !yaim_addr_valid(&ki.addr))
		abort();
	if (k == KEY_REFUSED && !keys_valid_nodename(ki.node,
	    strlen(ki.node)))
		abort();
	if (k == KEY_BAD && ki.canonical[0] != '\0' &&
	    yaim_addr_parse(ki.canonical, &a, 1) != 0)
		abort();
	if (k == KEY_BAD && ki.why[0] == '\0')
		abort();
}

/* What parses as a peer value prints back to the same text. */
static void
check_peer_value(const char *v, size_t len)
{
	struct yaim_addr	 a;
	uint16_t		 port;
	const char		*why;
	char			 addr[YAIM_ADDRSTRLEN], again[YAIM_ADDRSTRLEN + 16];

	if (keys_parse_peer_value(v, len, &a, &port, &why) == -1) {
		if (why == NULL || why[0] == '\0')
			abort();
		return;
	}
	if (!yaim_addr_valid(&a) || port == 0)
		abort();
	yaim_addr_ntop(&a, addr, sizeof(addr));
	snprintf(again, sizeof(again), a.af == AF_INET6 ? "[%s]:%u" :
	    "%s:%u", addr, port);
	if (strlen(again) != len || memcmp(again, v, len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*key, prefix[32];
	size_t	 plen;

	if ((key = malloc(size + 1)) == NULL)
		return 0;
	memcpy(key, data, size);
	key[size] = '\0';
	check("/service/yaim/", key, size);
	plen = size < sizeof(prefix) - 1 ? size : sizeof(prefix) - 1;
	plen = strnlen(key, plen);
	memcpy(prefix, key, plen);
	prefix[plen] = '\0';
	check(prefix, key, size);
	check_peer_value(key, size);
	free(key);
	return 0;
}
