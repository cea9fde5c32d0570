/*
 * The pure parts of netif: request validation, netlink message building
 * and parsing, ARP and neighbour-advertisement packet building.  No I/O,
 * no clock; unit-tested and fuzzed.  Internal to netif/ and regress/.
 */
#ifndef YAIM_NETIF_PURE_H
#define YAIM_NETIF_PURE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "proto.h"

/* ---- validation (netif_check.c) ---- */

struct netif_policy {
	const char		*ifname;	/* configured interface */
	const struct yaim_addr	*allowed;	/* allowed networks */
	size_t			 n_allowed;
	/* addresses configured on the interface (not ours), with their
	 * prefix length: for directed broadcasts and own-address checks */
	const struct yaim_addr	*ifaddrs;
	size_t			 n_ifaddrs;
};

/* AR_NONE if a request may be honoured, else why not. */
enum addr_refusal netif_validate_req(const struct imsg_addr_req *,
		    const struct netif_policy *);
/* The same for a bare address (IMSG_ADDR_SYNC entries). */
enum addr_refusal netif_validate_addr(const struct yaim_addr *,
		    const struct netif_policy *);
/* Short token for logs and the test driver: "not-allowed", ... */
const char	*netif_refusal_token(uint32_t);
/* p with the host bits cleared. */
void		 netif_prefix_mask(struct yaim_addr *p);

/* ---- netlink messages (netif_msg.c) ---- */

#define NETIF_NLBUF	8192	/* enough for any message we build */

/* RTM_NEWADDR (add) or RTM_DELADDR for a on ifindex with prefix length
 * plen; label may be NULL or "" (IPv4 only); proto 0 = no IFA_PROTO.
 * Returns the message length, 0 if it does not fit or a is invalid. */
size_t	netif_msg_addr(void *buf, size_t len, uint16_t type, uint32_t seq,
	    uint32_t ifindex, const struct yaim_addr *a, uint8_t plen,
	    const char *label, uint8_t proto);
/* RTM_GETADDR dump for one family (AF_UNSPEC = both). */
size_t	netif_msg_getaddr(void *buf, size_t len, uint32_t seq,
	    uint8_t af);
/* RTM_GETLINK for one interface by name. */
size_t	netif_msg_getlink(void *buf, size_t len, uint32_t seq,
	    const char *ifname);

struct netif_ifaddr {
	uint32_t		ifindex;
	struct yaim_addr	addr;		/* with ifa_prefixlen */
	uint32_t		flags;		/* IFA_FLAGS, ifa_flags */
	uint8_t			scope;
	uint8_t			proto;		/* 0 if absent */
	char			label[16];	/* "" if absent */
};

struct netif_link {
	uint32_t	ifindex;
	uint32_t	flags;		/* IFF_* */
	uint8_t		mac[6];
	int		has_mac;	/* 6-byte IFLA_ADDRESS present */
	char		name[16];
};

/*
 * Walk the messages of one datagram of len bytes: the message at *off, or
 * NULL at the end or on a malformed header; *avail gets the bytes from the
 * message's start to the end of the datagram, and *off moves past it.
 * (libmnl's mnl_nlmsg_ok casts nlmsg_len to int and trusts it.)
 */
const void	*netif_nlmsg_walk(const void *buf, size_t len, size_t *off,
		    size_t *avail);
/*
 * 1 if a message from netif_nlmsg_walk (len bytes available) is a dump
 * reply marked NLM_F_DUMP_INTR: the set changed while the kernel was
 * dumping it, so the dump may have skipped or repeated entries.  The
 * kernel may mark any reply, NLMSG_DONE included.
 */
int		 netif_nlmsg_dump_intr(const void *nlh, size_t len);
/*
 * The parsers take a message and the bytes available from its start (at
 * least its aligned length, as in any kernel datagram).
 */
/* Parse RTM_NEWADDR/RTM_DELADDR.  0 ok, -1 malformed or not IPv4/IPv6. */
int	netif_parse_addr(const void *nlh, size_t len, struct netif_ifaddr *);
/* Parse RTM_NEWLINK/RTM_DELLINK.  0 ok, -1 malformed. */
int	netif_parse_link(const void *nlh, size_t len, struct netif_link *);
/* Parse NLMSG_ERROR: *err = positive errno or 0 (ack); the kernel's
 * extended-ack text, if any, into msg.  0 ok, -1 malformed. */
int	netif_parse_error(const void *nlh, size_t len, int *err, char *msg,
	    size_t msglen);
/* 1 if the link is usable: administratively up and running. */
int	netif_link_usable(uint32_t flags);

/* ---- announcements (netif_pkt.c) ---- */

#define NETIF_ARP_LEN	28	/* Ethernet/IPv4 ARP payload */
#define NETIF_NA_LEN	32	/* NA + target lladdr option */

/* Gratuitous ARP payload: op 1 (request, tha zero) or 2 (reply, tha =
 * sha, as Linux requires to treat a reply as gratuitous); spa = tpa = ip.
 * Returns NETIF_ARP_LEN, or 0 if len is short or op is not 1 or 2. */
size_t	netif_build_garp(uint8_t *buf, size_t len, int op,
	    const uint8_t mac[6], const uint8_t ip[4]);
/* Unsolicited neighbour advertisement (ICMPv6 type 136), override flag
 * set, solicited clear, with the target link-layer address option.  The
 * checksum is left zero: the kernel fills it on ICMPv6 raw sockets.
 * Returns NETIF_NA_LEN or 0. */
size_t	netif_build_una(uint8_t *buf, size_t len, const uint8_t mac[6],
	    const uint8_t ip6[16]);

#endif
