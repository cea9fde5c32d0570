/*
 * Unit tests for announcement packets (netif/netif_pkt.c): gratuitous
 * ARP in both forms and the unsolicited neighbour advertisement, byte by
 * byte against RFC 826, RFC 5227 and RFC 4861.
 */
#include <stdio.h>
#include <string.h>

#include "netif/netif_pure.h"

#include "regress/unit/check.h"

static const uint8_t	 mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t	 ip4[4] = { 198, 18, 0, 100 };
static const uint8_t	 ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x64 };

static void
dump_diff(const char *what, const uint8_t *got, const uint8_t *want,
    size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (got[i] != want[i])
			printf("  %s byte %zu: got 0x%02x want 0x%02x\n", what,
			    i, got[i], want[i]);
}

static void
test_garp(void)
{
	static const uint8_t	 request[NETIF_ARP_LEN] = {
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
		0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 198, 18, 0, 100,
		0, 0, 0, 0, 0, 0, 198, 18, 0, 100,
	};
	static const uint8_t	 reply[NETIF_ARP_LEN] = {
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02,
		0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 198, 18, 0, 100,
		0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 198, 18, 0, 100,
	};
	uint8_t			 buf[64];
	int			 op;

	memset(buf, 0xaa, sizeof(buf));
	CHECK(netif_build_garp(buf, sizeof(buf), 1, mac, ip4) ==
	    NETIF_ARP_LEN, "request length");
	CHECK(memcmp(buf, request, NETIF_ARP_LEN) == 0, "request bytes");
	if (memcmp(buf, request, NETIF_ARP_LEN) != 0)
		dump_diff("request", buf, request, NETIF_ARP_LEN);
	CHECK(buf[NETIF_ARP_LEN] == 0xaa, "request wrote past its end");

	memset(buf, 0xaa, sizeof(buf));
	CHECK(netif_build_garp(buf, sizeof(buf), 2, mac, ip4) ==
	    NETIF_ARP_LEN, "reply length");
	CHECK(memcmp(buf, reply, NETIF_ARP_LEN) == 0, "reply bytes");
	if (memcmp(buf, reply, NETIF_ARP_LEN) != 0)
		dump_diff("reply", buf, reply, NETIF_ARP_LEN);

	CHECK(netif_build_garp(buf, NETIF_ARP_LEN - 1, 1, mac, ip4) == 0,
	    "short buffer");
	CHECK(netif_build_garp(buf, NETIF_ARP_LEN, 1, mac, ip4) ==
	    NETIF_ARP_LEN, "exact buffer");
	for (op = -1; op < 10; op++)
		if (op != 1 && op != 2)
			CHECK(netif_build_garp(buf, sizeof(buf), op, mac,
			    ip4) == 0, "op %d accepted", op);
}

static void
test_una(void)
{
	static const uint8_t	 want[NETIF_NA_LEN] = {
		136, 0, 0, 0,			/* type, code, checksum */
		0x20, 0, 0, 0,			/* R=0 S=0 O=1, reserved */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0x64,	/* target */
		2, 1,				/* target lladdr option */
		0x02, 0x11, 0x22, 0x33, 0x44, 0x55,
	};
	uint8_t			 buf[64];

	memset(buf, 0xaa, sizeof(buf));
	CHECK(netif_build_una(buf, sizeof(buf), mac, ip6) == NETIF_NA_LEN,
	    "NA length");
	CHECK(memcmp(buf, want, NETIF_NA_LEN) == 0, "NA bytes");
	if (memcmp(buf, want, NETIF_NA_LEN) != 0)
		dump_diff("NA", buf, want, NETIF_NA_LEN);
	CHECK(buf[NETIF_NA_LEN] == 0xaa, "NA wrote past its end");
	/* solicited must be clear for a multicast destination (RFC 4861
	 * 7.1.2), override set so that caches take the new address */
	CHECK((buf[4] & 0x40) == 0 && (buf[4] & 0x20) != 0 &&
	    (buf[4] & 0x80) == 0, "NA flags 0x%02x", buf[4]);
	CHECK(netif_build_una(buf, NETIF_NA_LEN - 1, mac, ip6) == 0,
	    "short buffer");
}

int
main(void)
{
	test_garp();
	test_una();
	printf("%d checks, %d failures\n", check_count, check_failures);
	return check_failures ? 1 : 0;
}
