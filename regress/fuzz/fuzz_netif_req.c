/*
 * libFuzzer harness for the validation of address requests from the
 * (untrusted) dcs child: any bytes as struct imsg_addr_req, or as the
 * entries of an IMSG_ADDR_SYNC.  Whatever is accepted must be a
 * well-formed unicast address inside the allowed networks.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netif/netif_pure.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct yaim_addr	 ifaddrs_copy[2];

static void
check_accepted(const struct yaim_addr *a, const struct netif_policy *pol)
{
	size_t	 i;
	int	 inside = 0;

	if (!yaim_addr_valid(a))
		abort();
	/* 240/4 is reserved, not refused: allowed-networks decide */
	if (a->af == AF_INET && (a->addr[0] == 0 || a->addr[0] == 127 ||
	    (a->addr[0] >= 224 && a->addr[0] <= 239) ||
	    (a->addr[0] == 169 && a->addr[1] == 254) ||
	    memcmp(a->addr, "\xff\xff\xff\xff", 4) == 0))
		abort();
	if (a->af == AF_INET6 && (memcmp(a->addr, "\0\0\0\0\0\0\0\0\0\0"
	    "\xff\xff", 12) == 0))
		abort();
	/* the interface's own addresses are never ours to add */
	if (yaim_addr_cmp(a, &ifaddrs_copy[0]) == 0 ||
	    yaim_addr_cmp(a, &ifaddrs_copy[1]) == 0)
		abort();
	if (a->af == AF_INET6 && (a->addr[0] == 0xff ||
	    (a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80)))
		abort();
	for (i = 0; i < pol->n_allowed; i++)
		inside |= yaim_addr_in_prefix(a, &pol->allowed[i]);
	if (!inside)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct yaim_addr	 allowed[3], ifaddrs[2];
	static int		 ready;
	struct netif_policy	 pol = { "eth0", allowed, 3, ifaddrs, 2 };
	struct imsg_addr_req	 req;
	struct yaim_addr	 a;
	size_t			 off;

	if (!ready) {
		yaim_prefix_parse("198.18.0.0/15", &allowed[0]);
		yaim_prefix_parse("2001:db8::/32", &allowed[1]);
		yaim_prefix_parse("0.0.0.0/0", &allowed[2]);
		yaim_prefix_parse("198.18.0.1/24", &ifaddrs[0]);
		yaim_prefix_parse("2001:db8::1/64", &ifaddrs[1]);
		memcpy(ifaddrs_copy, ifaddrs, sizeof(ifaddrs));
		ready = 1;
	}
	if (size == sizeof(req)) {
		memcpy(&req, data, sizeof(req));
		if (netif_validate_req(&req, &pol) == AR_NONE) {
			if (memchr(req.ifname, '\0', sizeof(req.ifname)) ==
			    NULL || strcmp(req.ifname, "eth0") != 0)
				abort();
			check_accepted(&req.addr, &pol);
		}
	}
	for (off = 0; off + sizeof(a) <= size; off += sizeof(a)) {
		memcpy(&a, data + off, sizeof(a));
		if (netif_validate_addr(&a, &pol) == AR_NONE)
			check_accepted(&a, &pol);
	}
	return 0;
}
