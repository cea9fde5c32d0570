/*
 * Unit tests for netif netlink message building and parsing
 * (netif/netif_msg.c).
 */
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "netif/netif.h"
#include "netif/netif_pure.h"

#include "regress/unit/check.h"

static uint8_t	 buf[NETIF_NLBUF];

static struct yaim_addr
A(const char *text)
{
	struct yaim_addr	 a;

	if (yaim_addr_parse(text, &a, 0) == -1)
		exit(1);
	return a;
}

static const struct nlattr *
find_attr(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr	*attr;

	mnl_attr_for_each(attr, nlh, sizeof(struct ifaddrmsg))
		if (mnl_attr_get_type(attr) == type)
			return attr;
	return NULL;
}

static void
test_build_v4(void)
{
	struct yaim_addr	 a = A("198.18.0.10");
	struct nlmsghdr		*nlh = (struct nlmsghdr *)buf;
	struct ifaddrmsg	*ifa;
	struct netif_ifaddr	 ia;
	const struct nlattr	*at;
	size_t			 len;

	len = netif_msg_addr(buf, sizeof(buf), RTM_NEWADDR, 7, 3, &a, 24,
	    "eth0:vip", NETIF_IFA_PROTO);
	CHECK(len > 0 && len == nlh->nlmsg_len, "v4 add length %zu", len);
	CHECK(nlh->nlmsg_type == RTM_NEWADDR, "type");
	CHECK(nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
	    NLM_F_EXCL), "flags 0x%x", nlh->nlmsg_flags);
	CHECK(nlh->nlmsg_seq == 7, "seq");
	ifa = mnl_nlmsg_get_payload(nlh);
	CHECK(ifa->ifa_family == AF_INET && ifa->ifa_prefixlen == 24 &&
	    ifa->ifa_index == 3 && ifa->ifa_scope == RT_SCOPE_UNIVERSE,
	    "ifaddrmsg");
	at = find_attr(nlh, IFA_LOCAL);
	CHECK(at && mnl_attr_get_payload_len(at) == 4 &&
	    memcmp(mnl_attr_get_payload(at), a.addr, 4) == 0, "IFA_LOCAL");
	at = find_attr(nlh, IFA_ADDRESS);
	CHECK(at && memcmp(mnl_attr_get_payload(at), a.addr, 4) == 0,
	    "IFA_ADDRESS");
	at = find_attr(nlh, IFA_LABEL);
	CHECK(at && strcmp(mnl_attr_get_str(at), "eth0:vip") == 0,
	    "IFA_LABEL");
	at = find_attr(nlh, IFA_PROTO);
	CHECK(at && mnl_attr_get_u8(at) == NETIF_IFA_PROTO, "IFA_PROTO");
	CHECK(find_attr(nlh, IFA_FLAGS) == NULL, "v4 has no IFA_FLAGS");

	/* our message has the kernel's shape: the parser reads it back */
	CHECK(netif_parse_addr(buf, len, &ia) == 0, "parse own v4");
	CHECK(ia.ifindex == 3 && ia.addr.af == AF_INET &&
	    ia.addr.prefixlen == 24 && memcmp(ia.addr.addr, a.addr, 4) == 0 &&
	    ia.proto == NETIF_IFA_PROTO && strcmp(ia.label, "eth0:vip") == 0,
	    "v4 round trip");

	/* no label, no proto */
	len = netif_msg_addr(buf, sizeof(buf), RTM_NEWADDR, 8, 3, &a, 32,
	    "", 0);
	CHECK(len > 0 && find_attr(nlh, IFA_LABEL) == NULL &&
	    find_attr(nlh, IFA_PROTO) == NULL, "no label/proto");
	len = netif_msg_addr(buf, sizeof(buf), RTM_NEWADDR, 8, 3, &a, 32,
	    NULL, 0);
	CHECK(len > 0 && find_attr(nlh, IFA_LABEL) == NULL, "NULL label");

	/* delete: no create flags, no proto */
	len = netif_msg_addr(buf, sizeof(buf), RTM_DELADDR, 9, 3, &a, 32,
	    "eth0:vip", NETIF_IFA_PROTO);
	CHECK(len > 0 && nlh->nlmsg_type == RTM_DELADDR &&
	    nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK), "del flags");
	CHECK(find_attr(nlh, IFA_PROTO) == NULL, "del carries no proto");
	CHECK(find_attr(nlh, IFA_LABEL) != NULL, "del carries the label");
}

static void
test_build_v6(void)
{
	struct yaim_addr	 a = A("2001:db8::10");
	struct nlmsghdr		*nlh = (struct nlmsghdr *)buf;
	struct ifaddrmsg	*ifa;
	struct netif_ifaddr	 ia;
	const struct nlattr	*at;
	size_t			 len;

	len = netif_msg_addr(buf, sizeof(buf), RTM_NEWADDR, 1, 5, &a, 128,
	    "eth0:vip", NETIF_IFA_PROTO);
	CHECK(len > 0, "v6 add");
	ifa = mnl_nlmsg_get_payload(nlh);
	CHECK(ifa->ifa_family == AF_INET6 && ifa->ifa_prefixlen == 128 &&
	    ifa->ifa_flags == IFA_F_NODAD, "v6 ifaddrmsg");
	at = find_attr(nlh, IFA_FLAGS);
	CHECK(at && mnl_attr_get_u32(at) == IFA_F_NODAD, "IFA_FLAGS nodad");
	CHECK(find_attr(nlh, IFA_LABEL) == NULL, "v6 has no label");
	CHECK(find_attr(nlh, IFA_LOCAL) == NULL, "v6 has no IFA_LOCAL");
	at = find_attr(nlh, IFA_ADDRESS);
	CHECK(at && mnl_attr_get_payload_len(at) == 16 &&
	    memcmp(mnl_attr_get_payload(at), a.addr, 16) == 0, "v6 address");
	CHECK(netif_parse_addr(buf, len, &ia) == 0 &&
	    yaim_addr_cmp(&ia.addr, &a) == 0 && ia.proto == NETIF_IFA_PROTO &&
	    (ia.flags & IFA_F_NODAD) && ia.ifindex == 5, "v6 round trip");
	len = netif_msg_addr(buf, sizeof(buf), RTM_DELADDR, 2, 5, &a, 64,
	    NULL, 0);
	ifa = mnl_nlmsg_get_payload(nlh);
	CHECK(len > 0 && ifa->ifa_flags == 0 &&
	    find_attr(nlh, IFA_FLAGS) == NULL && ifa->ifa_prefixlen == 64,
	    "v6 del");
}

static void
test_build_refusals(void)
{
	struct yaim_addr	 a = A("198.18.0.10"), b = a;

	CHECK(netif_msg_addr(buf, NETIF_NLBUF - 1, RTM_NEWADDR, 1, 1, &a, 32,
	    NULL, 0) == 0, "short buffer");
	CHECK(netif_msg_addr(buf, sizeof(buf), RTM_NEWADDR, 1, 1, &a, 33,
	    NULL, 0) == 0, "v4 plen 33");
	CHECK(netif_msg_addr(buf, sizeof(buf), RTM_GETADDR, 1, 1, &a, 32,
	    NULL, 0) == 0, "wrong type");
	CHECK(netif_msg_addr(buf, sizeof(buf), RTM_NEWADDR, 1, 1, &a, 32,
	    "abcdefghijklmnop", 0) == 0, "16-char label");
	CHECK(netif_msg_addr(buf, sizeof(buf), RTM_NEWADDR, 1, 1, &a, 32,
	    "abcdefghijklmno", 0) > 0, "15-char label");
	b.af = 0;
	CHECK(netif_msg_addr(buf, sizeof(buf), RTM_NEWADDR, 1, 1, &b, 32,
	    NULL, 0) == 0, "af 0");
	b = A("2001:db8::1");
	CHECK(netif_msg_addr(buf, sizeof(buf), RTM_NEWADDR, 1, 1, &b, 129,
	    NULL, 0) == 0, "v6 plen 129");
}

static void
test_getters(void)
{
	struct nlmsghdr		*nlh = (struct nlmsghdr *)buf;
	const struct nlattr	*at;

	CHECK(netif_msg_getaddr(buf, sizeof(buf), 4, AF_UNSPEC) > 0 &&
	    nlh->nlmsg_type == RTM_GETADDR &&
	    (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP &&
	    nlh->nlmsg_seq == 4, "getaddr");
	CHECK(netif_msg_getlink(buf, sizeof(buf), 5, "eth0") > 0 &&
	    nlh->nlmsg_type == RTM_GETLINK && (nlh->nlmsg_flags & NLM_F_ACK),
	    "getlink");
	at = NULL;
	{
		const struct nlattr *x;
		mnl_attr_for_each(x, nlh, sizeof(struct ifinfomsg))
			if (mnl_attr_get_type(x) == IFLA_IFNAME)
				at = x;
	}
	CHECK(at && strcmp(mnl_attr_get_str(at), "eth0") == 0, "IFLA_IFNAME");
	CHECK(netif_msg_getlink(buf, sizeof(buf), 5, "") == 0, "empty name");
	CHECK(netif_msg_getlink(buf, sizeof(buf), 5, NULL) == 0, "NULL name");
	CHECK(netif_msg_getlink(buf, sizeof(buf), 5, "abcdefghijklmnop") == 0,
	    "16-char name");
	CHECK(netif_msg_getaddr(buf, 100, 4, AF_INET) == 0, "short buffer");
}

/* Every truncation of a valid message is refused or parsed, never read
 * past its end (valgrind/ASan would see it). */
static void
test_truncations(void)
{
	struct yaim_addr	 a = A("2001:db8::10");
	struct netif_ifaddr	 ia;
	size_t			 len, cut;
	uint8_t			*copy;

	len = netif_msg_addr(buf, sizeof(buf), RTM_NEWADDR, 1, 5, &a, 128,
	    NULL, NETIF_IFA_PROTO);
	for (cut = 0; cut < len; cut++) {
		copy = malloc(cut ? cut : 1);
		memcpy(copy, buf, cut);
		if (cut >= 4)
			((struct nlmsghdr *)copy)->nlmsg_len = (uint32_t)cut;
		/* parsed only with the whole address attribute (header 16,
		 * ifaddrmsg 8, IFA_ADDRESS 20) and an aligned length */
		CHECK((netif_parse_addr(copy, cut, &ia) == 0) ==
		    (cut >= 44 && cut % 4 == 0), "truncated to %zu", cut);
		free(copy);
	}
	/* a length near 4G, which MNL_ALIGN would wrap to 0 */
	((struct nlmsghdr *)buf)->nlmsg_len = 0xfffffffd;
	CHECK(netif_parse_addr(buf, sizeof(buf), &ia) == -1, "4G nlmsg_len");
	((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)len;
	/* claims more than it has */
	CHECK(netif_parse_addr(buf, len - 1, &ia) == -1, "overlong nlmsg_len");
	CHECK(netif_parse_addr(NULL, 0, &ia) == -1, "NULL");
	/* wrong address length */
	{
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct ifaddrmsg *ifa;

		nlh->nlmsg_type = RTM_NEWADDR;
		ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = AF_INET;
		ifa->ifa_prefixlen = 32;
		mnl_attr_put(nlh, IFA_LOCAL, 16, a.addr);
		CHECK(netif_parse_addr(buf, nlh->nlmsg_len, &ia) == -1,
		    "v4 with a 16-byte address");
		ifa->ifa_family = AF_INET6;
		CHECK(netif_parse_addr(buf, nlh->nlmsg_len, &ia) == 0,
		    "v6 with IFA_LOCAL");
		ifa->ifa_prefixlen = 129;
		CHECK(netif_parse_addr(buf, nlh->nlmsg_len, &ia) == -1,
		    "prefixlen 129");
		ifa->ifa_prefixlen = 64;
		ifa->ifa_family = AF_UNIX;
		CHECK(netif_parse_addr(buf, nlh->nlmsg_len, &ia) == -1,
		    "AF_UNIX");
		nlh->nlmsg_type = RTM_NEWLINK;
		CHECK(netif_parse_addr(buf, nlh->nlmsg_len, &ia) == -1,
		    "wrong type");
	}
}

static void
test_link(void)
{
	struct nlmsghdr		*nlh;
	struct ifinfomsg	*ifi;
	struct netif_link	 lk;
	static const uint8_t	 mac[8] = { 2, 0, 0, 0, 0, 1, 7, 7 };

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = 4;
	ifi->ifi_flags = IFF_UP | IFF_RUNNING;
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
	CHECK(netif_parse_link(buf, nlh->nlmsg_len, &lk) == 0, "parse link");
	CHECK(lk.ifindex == 4 && lk.has_mac && memcmp(lk.mac, mac, 6) == 0 &&
	    strcmp(lk.name, "eth0") == 0 && netif_link_usable(lk.flags),
	    "link fields");
	ifi->ifi_flags = IFF_UP;
	CHECK(netif_parse_link(buf, nlh->nlmsg_len, &lk) == 0 &&
	    !netif_link_usable(lk.flags), "no carrier is not usable");
	CHECK(!netif_link_usable(IFF_RUNNING), "admin down is not usable");

	/* an 8-byte hardware address (not Ethernet): no MAC */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	mnl_attr_put(nlh, IFLA_ADDRESS, 8, mac);
	/* unterminated over-long name: cut at 15 */
	mnl_attr_put(nlh, IFLA_IFNAME, 20, "abcdefghijklmnopqrst");
	CHECK(netif_parse_link(buf, nlh->nlmsg_len, &lk) == 0 &&
	    !lk.has_mac && strcmp(lk.name, "abcdefghijklmno") == 0,
	    "odd link");
	nlh->nlmsg_type = RTM_NEWADDR;
	CHECK(netif_parse_link(buf, nlh->nlmsg_len, &lk) == -1,
	    "link parser took an address message");
	CHECK(netif_parse_link(buf, 10, &lk) == -1, "short link message");
}

static void
test_error(void)
{
	struct nlmsghdr		*nlh;
	struct nlmsgerr		*e;
	char			 msg[64];
	int			 err = -1;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = 0;
	e->msg.nlmsg_len = sizeof(e->msg);
	CHECK(netif_parse_error(buf, nlh->nlmsg_len, &err, msg,
	    sizeof(msg)) == 0 && err == 0 && msg[0] == '\0', "ack");
	e->error = -17;
	CHECK(netif_parse_error(buf, nlh->nlmsg_len, &err, msg,
	    sizeof(msg)) == 0 && err == 17, "EEXIST");
	/* extended ack text, request not echoed (NETLINK_CAP_ACK) */
	nlh->nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
	mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "prefix length is wrong");
	CHECK(netif_parse_error(buf, nlh->nlmsg_len, &err, msg,
	    sizeof(msg)) == 0 && err == 17 &&
	    strcmp(msg, "prefix length is wrong") == 0, "ext ack: \"%s\"", msg);
	CHECK(netif_parse_error(buf, nlh->nlmsg_len, &err, msg, 6) == 0 &&
	    strcmp(msg, "prefi") == 0, "ext ack cut: \"%s\"", msg);
	/* claims an echoed request longer than the message */
	nlh->nlmsg_flags = NLM_F_ACK_TLVS;
	e->msg.nlmsg_len = 100000;
	CHECK(netif_parse_error(buf, nlh->nlmsg_len, &err, msg,
	    sizeof(msg)) == 0 && msg[0] == '\0', "bogus echo length");
	e->error = 5;
	CHECK(netif_parse_error(buf, nlh->nlmsg_len, &err, msg,
	    sizeof(msg)) == -1, "positive error");
	nlh->nlmsg_type = NLMSG_DONE;
	CHECK(netif_parse_error(buf, nlh->nlmsg_len, &err, msg,
	    sizeof(msg)) == -1, "not an error message");
	CHECK(netif_parse_error(buf, 16, &err, msg, sizeof(msg)) == -1,
	    "short error");
}

static void
test_walk(void)
{
	uint8_t			 dg[256];
	struct nlmsghdr		*h;
	const void		*m;
	size_t			 off = 0, avail = 0, n = 0;

	/* three messages: 20 bytes (padded to 20), 17 (padded to 20), 16 */
	memset(dg, 0, sizeof(dg));
	h = (struct nlmsghdr *)dg;
	h->nlmsg_len = 20;
	h = (struct nlmsghdr *)(dg + 20);
	h->nlmsg_len = 17;
	h = (struct nlmsghdr *)(dg + 40);
	h->nlmsg_len = 16;
	while ((m = netif_nlmsg_walk(dg, 56, &off, &avail)) != NULL) {
		CHECK(m == dg + (n == 0 ? 0 : n == 1 ? 20 : 40), "msg %zu at", n);
		CHECK(avail == 56 - (n == 0 ? 0 : n == 1 ? 20 : 40),
		    "msg %zu avail %zu", n, avail);
		n++;
	}
	CHECK(n == 3 && off == 56, "walked %zu, off %zu", n, off);
	/* a length past the datagram, a length below the header, 4G */
	off = 0;
	CHECK(netif_nlmsg_walk(dg, 36, &off, &avail) != NULL &&
	    netif_nlmsg_walk(dg, 36, &off, &avail) == NULL, "overlong");
	h->nlmsg_len = 15;
	off = 40;
	CHECK(netif_nlmsg_walk(dg, 56, &off, &avail) == NULL, "below header");
	h->nlmsg_len = 0xfffffffd;
	off = 40;
	CHECK(netif_nlmsg_walk(dg, 56, &off, &avail) == NULL, "4G");
	off = 0;
	CHECK(netif_nlmsg_walk(dg, 15, &off, &avail) == NULL, "short");
	CHECK(netif_nlmsg_walk(NULL, 100, &off, &avail) == NULL, "NULL");
	/* the last message's padding may be missing: off stops at the end */
	h = (struct nlmsghdr *)dg;
	h->nlmsg_len = 17;
	off = 0;
	CHECK(netif_nlmsg_walk(dg, 17, &off, &avail) != NULL && off == 17 &&
	    avail == 17, "unpadded last: off %zu", off);
}

/*
 * A dump datagram as the kernel sends it: two RTM_NEWADDR and NLMSG_DONE,
 * all NLM_F_MULTI; mark = which of them also carries NLM_F_DUMP_INTR
 * (-1: none).  Returns how many messages the walk reported interrupted.
 */
static size_t
intr_in_dump(int mark)
{
	static uint8_t		 dg[3 * NETIF_NLBUF];
	struct yaim_addr	 a = A("198.18.0.9");
	struct nlmsghdr		*h;
	const void		*m;
	size_t			 at[3], off = 0, avail, len, n = 0, intr = 0;
	int			 i;

	memset(dg, 0, sizeof(dg));
	for (i = 0; i < 2; i++) {
		at[i] = off;
		len = netif_msg_addr(dg + off, NETIF_NLBUF, RTM_NEWADDR, 9, 2,
		    &a, 24, NULL, 0);
		off += MNL_ALIGN(len);
	}
	at[2] = off;
	h = (struct nlmsghdr *)(dg + off);
	h->nlmsg_len = NLMSG_LENGTH(sizeof(int));
	h->nlmsg_type = NLMSG_DONE;
	h->nlmsg_seq = 9;
	len = off + h->nlmsg_len;
	for (i = 0; i < 3; i++) {
		h = (struct nlmsghdr *)(dg + at[i]);
		h->nlmsg_flags = NLM_F_MULTI;
		if (i == mark)
			h->nlmsg_flags |= NLM_F_DUMP_INTR;
	}
	off = 0;
	while ((m = netif_nlmsg_walk(dg, len, &off, &avail)) != NULL) {
		intr += (size_t)netif_nlmsg_dump_intr(m, avail);
		n++;
	}
	CHECK(n == 3, "dump of %zu messages", n);
	return intr;
}

static void
test_dump_intr(void)
{
	struct nlmsghdr	 h;

	CHECK(intr_in_dump(-1) == 0, "clean dump reported interrupted");
	CHECK(intr_in_dump(0) == 1, "first reply's NLM_F_DUMP_INTR missed");
	CHECK(intr_in_dump(1) == 1, "second reply's NLM_F_DUMP_INTR missed");
	/* the kernel may mark only NLMSG_DONE */
	CHECK(intr_in_dump(2) == 1, "NLMSG_DONE's NLM_F_DUMP_INTR missed");
	memset(&h, 0, sizeof(h));
	h.nlmsg_len = sizeof(h);
	h.nlmsg_flags = (uint16_t)~NLM_F_DUMP_INTR;
	CHECK(!netif_nlmsg_dump_intr(&h, sizeof(h)), "other flags count");
	h.nlmsg_flags = NLM_F_DUMP_INTR;
	CHECK(netif_nlmsg_dump_intr(&h, sizeof(h)), "bare flag missed");
	CHECK(!netif_nlmsg_dump_intr(&h, sizeof(h) - 1), "short header");
	CHECK(!netif_nlmsg_dump_intr(NULL, 100), "NULL");
}

int
main(void)
{
	test_walk();
	test_dump_intr();
	test_build_v4();
	test_build_v6();
	test_build_refusals();
	test_getters();
	test_truncations();
	test_link();
	test_error();
	printf("%d checks, %d failures\n", check_count, check_failures);
	return check_failures ? 1 : 0;
}
