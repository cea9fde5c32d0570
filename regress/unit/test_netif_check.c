/*
 * Unit tests for netif request validation (netif/netif_check.c).
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netif/netif_pure.h"

#include "regress/unit/check.h"

static struct yaim_addr
P(const char *text)
{
	struct yaim_addr	 a;

	if (yaim_prefix_parse(text, &a) == -1) {
		printf("bad test prefix %s\n", text);
		exit(1);
	}
	return a;
}

static struct yaim_addr	 allowed[2], ifaddrs[4];
static struct netif_policy pol = { "eth0", allowed, 2, ifaddrs, 4 };

static void
setup(void)
{
	allowed[0] = P("198.18.0.0/24");
	allowed[1] = P("2001:db8::/64");
	ifaddrs[0] = P("198.18.0.1/24");
	ifaddrs[1] = P("2001:db8::1/64");
	ifaddrs[2] = P("198.18.4.1/30");
	ifaddrs[3] = P("198.18.9.9/32");
}

static void
test_table(void)
{
	static const struct {
		const char		*addr;
		enum addr_refusal	 want;
	} t[] = {
		{ "198.18.0.10", AR_NONE },
		{ "198.18.0.0", AR_NONE },		/* network address */
		{ "198.18.0.254", AR_NONE },
		{ "198.18.0.255", AR_BROADCAST },	/* directed, /24 */
		{ "198.18.4.3", AR_BROADCAST },		/* directed, /30 */
		{ "198.18.4.2", AR_NOT_ALLOWED },
		{ "198.18.9.9", AR_NOT_ALLOWED },	/* own /32 */
		{ "198.18.0.1", AR_NOT_ALLOWED },	/* own address */
		{ "198.18.1.1", AR_NOT_ALLOWED },
		{ "255.255.255.255", AR_BROADCAST },
		{ "0.0.0.0", AR_UNSPECIFIED },
		{ "0.255.255.255", AR_UNSPECIFIED },
		{ "1.0.0.0", AR_NOT_ALLOWED },
		{ "127.0.0.1", AR_LOOPBACK },
		{ "127.255.255.255", AR_LOOPBACK },
		{ "126.255.255.255", AR_NOT_ALLOWED },
		{ "128.0.0.0", AR_NOT_ALLOWED },
		{ "224.0.0.0", AR_MULTICAST },
		{ "239.255.255.255", AR_MULTICAST },
		{ "223.255.255.255", AR_NOT_ALLOWED },
		{ "240.0.0.1", AR_NOT_ALLOWED },
		{ "169.254.0.0", AR_LINKLOCAL },
		{ "169.254.255.255", AR_LINKLOCAL },
		{ "169.253.255.255", AR_NOT_ALLOWED },
		{ "169.255.0.0", AR_NOT_ALLOWED },
		{ "2001:db8::10", AR_NONE },
		{ "2001:db8::ffff:ffff:ffff:ffff", AR_NONE },
		{ "2001:db8::1", AR_NOT_ALLOWED },	/* own address */
		{ "2001:db8:0:1::1", AR_NOT_ALLOWED },
		{ "::", AR_UNSPECIFIED },
		{ "::1", AR_LOOPBACK },
		{ "::2", AR_NOT_ALLOWED },
		{ "ff02::1", AR_MULTICAST },
		{ "ff00::", AR_MULTICAST },
		{ "feff::1", AR_NOT_ALLOWED },
		{ "fe80::1", AR_LINKLOCAL },
		{ "febf:ffff::1", AR_LINKLOCAL },
		{ "fec0::1", AR_NOT_ALLOWED },
		{ "::ffff:198.18.0.10", AR_BAD_FAMILY },
		{ "::ffff:127.0.0.1", AR_BAD_FAMILY },
	};
	struct imsg_addr_req	 req;
	size_t			 i;
	enum addr_refusal	 r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&req, 0, sizeof(req));
		strcpy(req.ifname, "eth0");
		if (yaim_addr_parse(t[i].addr, &req.addr, 0) == -1) {
			printf("bad test address %s\n", t[i].addr);
			exit(1);
		}
		r = netif_validate_req(&req, &pol);
		CHECK(r == t[i].want, "%s: got %s, want %s", t[i].addr,
		    netif_refusal_token(r), netif_refusal_token(t[i].want));
		/* the request's prefix length does not matter, 0..max */
		req.addr.prefixlen = 0;
		CHECK(netif_validate_req(&req, &pol) == t[i].want,
		    "%s with prefixlen 0", t[i].addr);
		CHECK(netif_validate_addr(&req.addr, &pol) == t[i].want,
		    "%s as a sync entry", t[i].addr);
	}
}

/* Every first octet of x.1.2.3 lands in the one class it belongs to. */
static void
test_v4_first_octets(void)
{
	struct yaim_addr	 a;
	enum addr_refusal	 r, want;
	unsigned int		 x;

	for (x = 0; x < 256; x++) {
		memset(&a, 0, sizeof(a));
		a.af = AF_INET;
		a.prefixlen = 32;
		a.addr[0] = (uint8_t)x;
		a.addr[1] = 1; a.addr[2] = 2; a.addr[3] = 3;
		if (x == 0)
			want = AR_UNSPECIFIED;
		else if (x == 127)
			want = AR_LOOPBACK;
		else if (x >= 224 && x <= 239)
			want = AR_MULTICAST;
		else
			want = AR_NOT_ALLOWED;
		r = netif_validate_addr(&a, &pol);
		CHECK(r == want, "%u.1.2.3: got %s", x, netif_refusal_token(r));
	}
}

/* Every first byte of XX00::5 too. */
static void
test_v6_first_bytes(void)
{
	struct yaim_addr	 a;
	enum addr_refusal	 r, want;
	unsigned int		 x, y;

	for (x = 0; x < 256; x++)
		for (y = 0; y < 256; y += 0x40) {
			memset(&a, 0, sizeof(a));
			a.af = AF_INET6;
			a.prefixlen = 128;
			a.addr[0] = (uint8_t)x;
			a.addr[1] = (uint8_t)y;
			a.addr[15] = 5;
			if (x == 0xff)
				want = AR_MULTICAST;
			else if (x == 0xfe && y == 0x80)
				want = AR_LINKLOCAL;
			else
				want = AR_NOT_ALLOWED;
			r = netif_validate_addr(&a, &pol);
			CHECK(r == want, "%02x%02x::5: got %s", x, y,
			    netif_refusal_token(r));
		}
}

/* Allowed-network boundaries for every prefix length. */
static void
test_allowed_lengths(void)
{
	struct yaim_addr	 net, inside, outside, none[1];
	struct netif_policy	 p = { "eth0", &net, 1, none, 0 };
	unsigned int		 len, bit;

	for (len = 1; len <= 32; len++) {
		net = P("198.18.128.0/32");
		net.prefixlen = (uint8_t)len;
		netif_prefix_mask(&net);
		inside = net;
		inside.prefixlen = 32;
		inside.addr[3] |= 1;	/* host bit (or the /32 itself) */
		if (len == 32)
			inside = net;
		outside = inside;
		bit = len - 1;		/* flip the last network bit */
		outside.addr[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		if (len == 32)
			inside.prefixlen = 32;
		CHECK(netif_validate_addr(&inside, &p) == AR_NONE ||
		    inside.addr[0] >= 224 || inside.addr[0] == 0 ||
		    inside.addr[0] == 127,
		    "/%u: inside refused", len);
		CHECK(netif_validate_addr(&outside, &p) != AR_NONE,
		    "/%u: outside allowed", len);
	}
	for (len = 1; len <= 128; len++) {
		net = P("2001:db8:8000::/128");
		net.prefixlen = (uint8_t)len;
		netif_prefix_mask(&net);
		inside = net;
		inside.prefixlen = 128;
		if (len < 128)
			inside.addr[15] |= 1;
		outside = inside;
		bit = len - 1;
		outside.addr[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		CHECK(netif_validate_addr(&inside, &p) == AR_NONE ||
		    len < 8, "/%u: inside refused (%s)", len,
		    netif_refusal_token(netif_validate_addr(&inside, &p)));
		CHECK(netif_validate_addr(&outside, &p) != AR_NONE,
		    "/%u: outside allowed", len);
	}
	/* nothing allowed at all */
	p.n_allowed = 0;
	inside = P("198.18.0.10");
	CHECK(netif_validate_addr(&inside, &p) == AR_NOT_ALLOWED,
	    "empty allowed list allowed something");
}

static void
test_malformed(void)
{
	struct imsg_addr_req	 good, req;
	unsigned int		 v, i;

	memset(&good, 0, sizeof(good));
	strcpy(good.ifname, "eth0");
	good.addr = P("198.18.0.10");
	CHECK(netif_validate_req(&good, &pol) == AR_NONE, "good refused");

	for (v = 0; v < 256; v++) {
		req = good;
		req.addr.af = (uint8_t)v;
		if (v == AF_INET)
			continue;
		/* as IPv6 the bytes are 198.18.0.10::, not allowed */
		CHECK(netif_validate_req(&req, &pol) ==
		    (v == AF_INET6 ? AR_NOT_ALLOWED : AR_BAD_FAMILY),
		    "af %u", v);
	}
	for (v = 1; v < 256; v++) {
		req = good;
		req.addr.pad[v & 1] = (uint8_t)v;
		CHECK(netif_validate_req(&req, &pol) == AR_BAD_FAMILY,
		    "pad byte %u", v);
	}
	for (v = 0; v < 256; v++) {
		req = good;
		req.addr.prefixlen = (uint8_t)v;
		CHECK(netif_validate_req(&req, &pol) ==
		    (v <= 32 ? AR_NONE : AR_BAD_FAMILY), "v4 prefixlen %u", v);
		req.addr = P("2001:db8::10");
		req.addr.prefixlen = (uint8_t)v;
		CHECK(netif_validate_req(&req, &pol) ==
		    (v <= 128 ? AR_NONE : AR_BAD_FAMILY), "v6 prefixlen %u", v);
	}
	for (i = 4; i < 16; i++) {
		req = good;
		req.addr.addr[i] = 1;
		CHECK(netif_validate_req(&req, &pol) == AR_BAD_FAMILY,
		    "v4 trailing byte %u", i);
	}
}

static void
test_ifname(void)
{
	struct imsg_addr_req	 req;
	const char		*bad[] = { "", "eth", "eth1", "eth0 ", "ETH0",
				    "eth0:vip", "eth00" };
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&req, 0, sizeof(req));
		strcpy(req.ifname, bad[i]);
		req.addr = P("198.18.0.10");
		CHECK(netif_validate_req(&req, &pol) == AR_BAD_IFACE,
		    "ifname \"%s\" accepted", bad[i]);
	}
	/* not NUL-terminated */
	memset(&req, 'e', sizeof(req.ifname));
	req.addr = P("198.18.0.10");
	CHECK(netif_validate_req(&req, &pol) == AR_BAD_IFACE,
	    "unterminated ifname accepted");
	/* garbage after the NUL, at every position */
	for (i = 5; i < 16; i++) {
		memset(&req, 0, sizeof(req));
		strcpy(req.ifname, "eth0");
		req.ifname[i] = 'x';
		req.addr = P("198.18.0.10");
		CHECK(netif_validate_req(&req, &pol) == AR_BAD_IFACE,
		    "garbage at ifname[%zu] accepted", i);
	}
	/* a 15-character name is fine when it is the configured one */
	{
		struct netif_policy	 p = pol;

		p.ifname = "abcdefghijklmno";
		memset(&req, 0, sizeof(req));
		strcpy(req.ifname, "abcdefghijklmno");
		req.addr = P("198.18.0.10");
		CHECK(netif_validate_req(&req, &p) == AR_NONE,
		    "15-character ifname refused");
		p.ifname = NULL;
		CHECK(netif_validate_req(&req, &p) == AR_BAD_IFACE,
		    "NULL configured ifname accepted");
	}
}

static void
test_tokens(void)
{
	uint32_t	 r;

	for (r = 0; r < AR_MAX; r++)
		CHECK(netif_refusal_token(r) != NULL &&
		    strchr(netif_refusal_token(r), ' ') == NULL,
		    "token %u", r);
	CHECK(strcmp(netif_refusal_token(AR_NOT_ALLOWED), "not-allowed") == 0,
	    "not-allowed token");
	CHECK(strcmp(netif_refusal_token(AR_MAX), "invalid") == 0,
	    "out-of-range token");
	CHECK(strcmp(netif_refusal_token(UINT32_MAX), "invalid") == 0,
	    "huge token");
}

static void
test_mask(void)
{
	struct yaim_addr	 a = P("198.18.255.255/17");
	char			 buf[64];

	netif_prefix_mask(&a);
	yaim_addr_ntop(&a, buf, sizeof(buf));
	CHECK(strcmp(buf, "198.18.128.0") == 0, "mask /17: %s", buf);
	a = P("2001:db8:ffff:ffff::1/33");
	netif_prefix_mask(&a);
	yaim_addr_ntop(&a, buf, sizeof(buf));
	CHECK(strcmp(buf, "2001:db8:8000::") == 0, "mask /33: %s", buf);
	a = P("198.18.1.1/0");
	netif_prefix_mask(&a);
	yaim_addr_ntop(&a, buf, sizeof(buf));
	CHECK(strcmp(buf, "0.0.0.0") == 0, "mask /0: %s", buf);
}

int
main(void)
{
	setup();
	test_table();
	test_v4_first_octets();
	test_v6_first_bytes();
	test_allowed_lengths();
	test_malformed();
	test_ifname();
	test_tokens();
	test_mask();
	printf("%d checks, %d failures\n", check_count, check_failures);
	return check_failures ? 1 : 0;
}
