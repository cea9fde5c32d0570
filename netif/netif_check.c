/*
 * Validation of address requests from the (untrusted) dcs child.  Pure.
 */
#include <sys/socket.h>

#include <string.h>

#include "netif/netif_pure.h"

static const uint8_t	v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static int
prefix_match(const struct yaim_addr *a, uint8_t af, const uint8_t *bytes,
    uint8_t plen)
{
	struct yaim_addr	p;

	memset(&p, 0, sizeof(p));
	p.af = af;
	p.prefixlen = plen;
	memcpy(p.addr, bytes, af == AF_INET ? 4 : 16);
	return yaim_addr_in_prefix(a, &p);
}

static int
is_zero(const uint8_t *b, size_t n)
{
	while (n-- > 0)
		if (*b++ != 0)
			return 0;
	return 1;
}

/* The interface name must be NUL-terminated, zero-padded and ours. */
static int
ifname_ok(const char name[16], const char *want)
{
	const char	*nul = memchr(name, '\0', 16);

	if (nul == NULL || want == NULL)
		return 0;
	if (!is_zero((const uint8_t *)nul, (size_t)(name + 16 - nul)))
		return 0;
	return strcmp(name, want) == 0;
}

static enum addr_refusal
class_v4(const struct yaim_addr *a)
{
	static const uint8_t	zero[4], lo[4] = { 127 }, mc[4] = { 224 },
				ll[4] = { 169, 254 },
				bc[4] = { 255, 255, 255, 255 };

	if (prefix_match(a, AF_INET, zero, 8))
		return AR_UNSPECIFIED;
	if (prefix_match(a, AF_INET, lo, 8))
		return AR_LOOPBACK;
	if (prefix_match(a, AF_INET, bc, 32))
		return AR_BROADCAST;
	if (prefix_match(a, AF_INET, mc, 4))
		return AR_MULTICAST;
	if (prefix_match(a, AF_INET, ll, 16))
		return AR_LINKLOCAL;
	return AR_NONE;
}

static enum addr_refusal
class_v6(const struct yaim_addr *a)
{
	static const uint8_t	zero[16], mc[16] = { 0xff },
				ll[16] = { 0xfe, 0x80 },
				lo[16] = { [15] = 1 };

	if (memcmp(a->addr, v4mapped, sizeof(v4mapped)) == 0)
		return AR_BAD_FAMILY;	/* IPv4 in IPv6 clothing */
	if (prefix_match(a, AF_INET6, zero, 128))
		return AR_UNSPECIFIED;
	if (prefix_match(a, AF_INET6, lo, 128))
		return AR_LOOPBACK;
	if (prefix_match(a, AF_INET6, mc, 8))
		return AR_MULTICAST;
	if (prefix_match(a, AF_INET6, ll, 10))
		return AR_LINKLOCAL;
	return AR_NONE;
}

/* The directed broadcast of an IPv4 interface prefix (/30 and shorter). */
static int
is_directed_broadcast(const struct yaim_addr *a, const struct yaim_addr *ifa)
{
	unsigned int	 i, bit;

	if (a->af != AF_INET || ifa->af != AF_INET || ifa->prefixlen > 30 ||
	    !yaim_addr_in_prefix(a, ifa))
		return 0;
	for (i = ifa->prefixlen; i < 32; i++) {
		bit = a->addr[i / 8] & (0x80 >> (i % 8));
		if (bit == 0)
			return 0;
	}
	return 1;
}

void
netif_prefix_mask(struct yaim_addr *p)
{
	unsigned int	 i, max = p->af == AF_INET ? 32 : 128;

	for (i = p->prefixlen; i < max && i < 128; i++)
		p->addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

enum addr_refusal
netif_validate_addr(const struct yaim_addr *a, const struct netif_policy *pol)
{
	enum addr_refusal	 r;
	size_t			 i;

	if (!yaim_addr_valid(a))
		return AR_BAD_FAMILY;
	r = a->af == AF_INET ? class_v4(a) : class_v6(a);
	if (r != AR_NONE)
		return r;
	for (i = 0; i < pol->n_ifaddrs; i++)
		if (is_directed_broadcast(a, &pol->ifaddrs[i]))
			return AR_BROADCAST;
	/* an address the administrator configured is not ours to manage */
	for (i = 0; i < pol->n_ifaddrs; i++)
		if (yaim_addr_cmp(a, &pol->ifaddrs[i]) == 0)
			return AR_NOT_ALLOWED;
	for (i = 0; i < pol->n_allowed; i++)
		if (yaim_addr_in_prefix(a, &pol->allowed[i]))
			return AR_NONE;
	return AR_NOT_ALLOWED;
}

enum addr_refusal
netif_validate_req(const struct imsg_addr_req *req,
    const struct netif_policy *pol)
{
	if (!ifname_ok(req->ifname, pol->ifname))
		return AR_BAD_IFACE;
	return netif_validate_addr(&req->addr, pol);
}

const char *
netif_refusal_token(uint32_t r)
{
	static const char *tokens[AR_MAX] = {
		[AR_NONE] = "none",
		[AR_BAD_FAMILY] = "bad-family",
		[AR_BAD_IFACE] = "bad-iface",
		[AR_LOOPBACK] = "loopback",
		[AR_MULTICAST] = "multicast",
		[AR_BROADCAST] = "broadcast",
		[AR_UNSPECIFIED] = "unspecified",
		[AR_LINKLOCAL] = "link-local",
		[AR_NOT_ALLOWED] = "not-allowed",
		[AR_NETLINK] = "netlink",
		[AR_TOO_MANY] = "too-many",
	};

	return r < AR_MAX ? tokens[r] : "invalid";
}
