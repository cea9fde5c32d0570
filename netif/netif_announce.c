/*
 * Announcements: gratuitous ARP (IPv4) and unsolicited neighbour
 * advertisements (IPv6) for the addresses we hold, repeated as
 * configured and refreshed.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <libmnl/libmnl.h>


#include "clock.h"
#include "log.h"
#include "netif_int.h"
#include "netif_pure.h"

/* ---- announcements ---- */

static void
send_garp(const struct held *h, int op)
{
	struct sockaddr_ll	 sll;
	uint8_t			 pkt[NETIF_ARP_LEN];
	size_t			 len;

	len = netif_build_garp(pkt, sizeof(pkt), op, nf.mac, h->addr.addr);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ARP);
	sll.sll_ifindex = (int)nf.ifindex;
	sll.sll_halen = ETH_ALEN;
	memset(sll.sll_addr, 0xff, ETH_ALEN);
	if (sendto(nf.arp_fd, pkt, len, 0, (struct sockaddr *)&sll,
	    sizeof(sll)) == -1)
		log_debug("%s: %s on %s: %s", __func__, ntop(&h->addr),
		    nf.ifname, strerror(errno));
}

static void
send_una(const struct held *h)
{
	struct sockaddr_in6	 dst;
	struct in6_pktinfo	*pi;
	struct msghdr		 m;
	struct iovec		 iov;
	uint8_t			 pkt[NETIF_NA_LEN];
	union {
		struct cmsghdr	 hdr;
		uint8_t	 buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cm;

	iov.iov_base = pkt;
	iov.iov_len = netif_build_una(pkt, sizeof(pkt), nf.mac, h->addr.addr);
	memset(&dst, 0, sizeof(dst));
	dst.sin6_family = AF_INET6;
	dst.sin6_scope_id = nf.ifindex;
	inet_pton(AF_INET6, "ff02::1", &dst.sin6_addr);
	memset(&cm, 0, sizeof(cm));
	memset(&m, 0, sizeof(m));
	m.msg_name = &dst;
	m.msg_namelen = sizeof(dst);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cm.buf;
	m.msg_controllen = sizeof(cm.buf);
	/* the VIP itself as source: it is up (nodad) and names the sender */
	cm.hdr.cmsg_level = IPPROTO_IPV6;
	cm.hdr.cmsg_type = IPV6_PKTINFO;
	cm.hdr.cmsg_len = CMSG_LEN(sizeof(*pi));
	pi = (struct in6_pktinfo *)CMSG_DATA(&cm.hdr);
	memcpy(&pi->ipi6_addr, h->addr.addr, 16);
	pi->ipi6_ifindex = nf.ifindex;
	if (sendmsg(nf.icmp6_fd, &m, 0) == -1)
		log_debug("%s: %s on %s: %s", __func__, ntop(&h->addr),
		    nf.ifname, strerror(errno));
}

void
announce(const struct held *h)
{
	if (!nf.has_mac)
		return;
	if (h->addr.af == AF_INET && nf.arp_fd != -1) {
		send_garp(h, 1);
		send_garp(h, 2);
	} else if (h->addr.af == AF_INET6 && nf.icmp6_fd != -1)
		send_una(h);
}

void
announce_cb(int fd, short ev, void *arg)
{
	struct held	*h = arg;
	struct timeval	 tv = ms_to_tv(nf.garp_interval_ms);

	(void)fd;
	(void)ev;
	announce(h);
	if (h->repeats_left > 0 && --h->repeats_left > 0)
		evtimer_add(h->timer, &tv);
}

/* First announcement now, then garp_count repeats. */
void
announce_start(struct held *h)
{
	struct timeval	 tv = ms_to_tv(nf.garp_interval_ms);

	evtimer_del(h->timer);
	announce(h);
	h->repeats_left = nf.garp_count;
	if (h->repeats_left > 0)
		evtimer_add(h->timer, &tv);
}

void
refresh_cb(int fd, short ev, void *arg)
{
	size_t	 i;

	(void)fd;
	(void)ev;
	(void)arg;
	for (i = 0; i < nf.n_held; i++)
		announce(nf.held[i]);
}

void
refresh_arm(void)
{
	struct timeval	 tv = ms_to_tv(nf.garp_refresh_ms);

	if (nf.ev_refresh == NULL)
		return;
	event_del(nf.ev_refresh);
	if (nf.garp_refresh_ms > 0)
		event_add(nf.ev_refresh, &tv);
}

int
open_announcers(void)
{
	struct icmp6_filter	 filt;
	int			 hops = 255, loop = 0, idx = (int)nf.ifindex;

	/* protocol 0: send only, nothing queues up for reading */
	nf.arp_fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (nf.arp_fd == -1) {
		log_warn("%s: AF_PACKET socket", __func__);
		return -1;
	}
	nf.icmp6_fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    IPPROTO_ICMPV6);
	if (nf.icmp6_fd == -1) {
		log_warn("%s: ICMPv6 raw socket", __func__);
		return -1;
	}
	ICMP6_FILTER_SETBLOCKALL(&filt);
	if (setsockopt(nf.icmp6_fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filt,
	    sizeof(filt)) == -1 ||
	    setsockopt(nf.icmp6_fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops,
	    sizeof(hops)) == -1 ||
	    setsockopt(nf.icmp6_fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops,
	    sizeof(hops)) == -1 ||
	    setsockopt(nf.icmp6_fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop,
	    sizeof(loop)) == -1 ||
	    setsockopt(nf.icmp6_fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx,
	    sizeof(idx)) == -1 ||
	    setsockopt(nf.icmp6_fd, SOL_SOCKET, SO_BINDTODEVICE, nf.ifname,
	    (socklen_t)strlen(nf.ifname)) == -1) {
		log_warn("%s: ICMPv6 socket options", __func__);
		return -1;
	}
	return 0;
}
