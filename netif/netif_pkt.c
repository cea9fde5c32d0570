/*
 * Announcement packets: gratuitous ARP and unsolicited IPv6 neighbour
 * advertisements.  Pure: bytes into a caller buffer.
 */
#include <string.h>

#include "netif/netif_pure.h"

size_t
netif_build_garp(uint8_t *buf, size_t len, int op, const uint8_t mac[6],
    const uint8_t ip[4])
{
	if (len < NETIF_ARP_LEN || (op != 1 && op != 2))
		return 0;
	memset(buf, 0, NETIF_ARP_LEN);
	buf[0] = 0x00; buf[1] = 0x01;		/* hardware: Ethernet */
	buf[2] = 0x08; buf[3] = 0x00;		/* protocol: IPv4 */
	buf[4] = 6;				/* hardware length */
	buf[5] = 4;				/* protocol length */
	buf[6] = 0x00; buf[7] = (uint8_t)op;
	memcpy(buf + 8, mac, 6);		/* sender hardware */
	memcpy(buf + 14, ip, 4);		/* sender protocol */
	if (op == 2)
		memcpy(buf + 18, mac, 6);	/* target hardware */
	memcpy(buf + 24, ip, 4);		/* target protocol */
	return NETIF_ARP_LEN;
}

size_t
netif_build_una(uint8_t *buf, size_t len, const uint8_t mac[6],
    const uint8_t ip6[16])
{
	if (len < NETIF_NA_LEN)
		return 0;
	memset(buf, 0, NETIF_NA_LEN);
	buf[0] = 136;				/* neighbour advert. */
	buf[1] = 0;				/* code */
	/* buf[2..3] checksum: filled by the kernel */
	buf[4] = 0x20;				/* R=0 S=0 O=1 */
	memcpy(buf + 8, ip6, 16);		/* target address */
	buf[24] = 2;				/* target lladdr option */
	buf[25] = 1;				/* length: 8 octets */
	memcpy(buf + 26, mac, 6);
	return NETIF_NA_LEN;
}
