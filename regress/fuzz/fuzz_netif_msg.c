/*
 * libFuzzer harness for netif's netlink reply parsers: the input is one
 * netlink datagram, walked the way netif.c walks what it receives.
 */
#include <linux/netlink.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netif/netif_pure.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nlmsghdr	*nlh;
	struct netif_ifaddr	 ia;
	struct netif_link	 lk;
	uint8_t			*buf;
	char			 msg[128];
	size_t			 off = 0, len;
	int			 err;

	if (size > 65536)
		return 0;
	/* an exact-size copy, so that ASan sees any read past the end */
	if ((buf = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	/* the parsers on their own, facing any header */
	(void)netif_parse_addr(buf, size, &ia);
	(void)netif_parse_link(buf, size, &lk);
	(void)netif_parse_error(buf, size, &err, msg, sizeof(msg));
	while ((nlh = netif_nlmsg_walk(buf, size, &off, &len)) != NULL) {
		if (len > size || off > size)
			abort();
		if (netif_nlmsg_dump_intr(nlh, len) &&
		    !(nlh->nlmsg_flags & NLM_F_DUMP_INTR))
			abort();
		if (netif_parse_addr(nlh, len, &ia) == 0 &&
		    ia.addr.prefixlen > (ia.addr.af == 2 ? 32 : 128))
			abort();
		if (netif_parse_link(nlh, len, &lk) == 0 &&
		    lk.name[15] != '\0')
			abort();
		if (netif_parse_error(nlh, len, &err, msg,
		    sizeof(msg)) == 0 && (err < 0 || err > 4095 ||
		    strnlen(msg, sizeof(msg)) == sizeof(msg)))
			abort();
	}
	free(buf);
	return 0;
}
