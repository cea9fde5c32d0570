/*
 * Netlink messages for netif: built into caller buffers and parsed from
 * kernel replies with libmnl.  Pure: no sockets.  The parsers face kernel
 * data only, but are written (and fuzzed) as if it were hostile.
 */
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <errno.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "netif/netif_pure.h"

static size_t
af_bytes(uint8_t af)
{
	return af == AF_INET ? 4 : af == AF_INET6 ? 16 : 0;
}

/* A fresh request of type in buf (NETIF_NLBUF bytes). */
static struct nlmsghdr *
request_start(void *buf, uint16_t type, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr	*nlh;

	memset(buf, 0, NETIF_NLBUF);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	return nlh;
}

size_t
netif_msg_addr(void *buf, size_t len, uint16_t type, uint32_t seq,
    uint32_t ifindex, const struct yaim_addr *a, uint8_t plen,
    const char *label, uint8_t proto)
{
	struct nlmsghdr		*nlh;
	struct ifaddrmsg	*ifa;
	size_t			 alen = af_bytes(a->af);

	if (len < NETIF_NLBUF || alen == 0 || plen > alen * 8 ||
	    (type != RTM_NEWADDR && type != RTM_DELADDR))
		return 0;
	nlh = request_start(buf, type, type == RTM_NEWADDR ? NLM_F_ACK |
	    NLM_F_CREATE | NLM_F_EXCL : NLM_F_ACK, seq);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = a->af;
	ifa->ifa_prefixlen = plen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	if (a->af == AF_INET) {
		mnl_attr_put(nlh, IFA_LOCAL, alen, a->addr);
		mnl_attr_put(nlh, IFA_ADDRESS, alen, a->addr);
		if (label != NULL && label[0] != '\0') {
			if (strlen(label) >= IFNAMSIZ)
				return 0;
			mnl_attr_put_strz(nlh, IFA_LABEL, label);
		}
	} else {
		mnl_attr_put(nlh, IFA_ADDRESS, alen, a->addr);
		if (type == RTM_NEWADDR) {
			/* a short double ownership must not end dadfailed */
			ifa->ifa_flags = IFA_F_NODAD;
			mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
		}
	}
	if (type == RTM_NEWADDR && proto != 0)
		mnl_attr_put_u8(nlh, IFA_PROTO, proto);
	return nlh->nlmsg_len;
}

size_t
netif_msg_getaddr(void *buf, size_t len, uint32_t seq, uint8_t af)
{
	struct nlmsghdr		*nlh;
	struct ifaddrmsg	*ifa;

	if (len < NETIF_NLBUF)
		return 0;
	nlh = request_start(buf, RTM_GETADDR, NLM_F_DUMP, seq);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = af;
	return nlh->nlmsg_len;
}

size_t
netif_msg_getlink(void *buf, size_t len, uint32_t seq, const char *ifname)
{
	struct nlmsghdr		*nlh;
	struct ifinfomsg	*ifi;

	if (len < NETIF_NLBUF || ifname == NULL || ifname[0] == '\0' ||
	    strlen(ifname) >= IFNAMSIZ)
		return 0;
	/* the ack marks the end of the answer, as for the other requests */
	nlh = request_start(buf, RTM_GETLINK, NLM_F_ACK, seq);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	return nlh->nlmsg_len;
}

const void *
netif_nlmsg_walk(const void *buf, size_t len, size_t *off, size_t *avail)
{
	const struct nlmsghdr	*nlh;
	size_t			 left, step;

	if (buf == NULL || *off >= len || len - *off < sizeof(*nlh))
		return NULL;
	left = len - *off;
	nlh = (const struct nlmsghdr *)((const uint8_t *)buf + *off);
	if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > left)
		return NULL;
	step = MNL_ALIGN(nlh->nlmsg_len);
	*off += step < left ? step : left;
	*avail = left;
	return nlh;
}

int
netif_nlmsg_dump_intr(const void *buf, size_t len)
{
	const struct nlmsghdr	*nlh = buf;

	if (buf == NULL || len < sizeof(*nlh))
		return 0;
	return (nlh->nlmsg_flags & NLM_F_DUMP_INTR) != 0;
}

/*
 * The message fits in the len bytes available, padding included: libmnl
 * walks attributes up to the aligned end of the message, so an unaligned
 * nlmsg_len at the very end of a buffer would let it read past it.
 */
static const struct nlmsghdr *
msg_fits(const void *buf, size_t len, size_t extra)
{
	const struct nlmsghdr	*nlh = buf;

	if (buf == NULL || len < sizeof(*nlh) || len > INT32_MAX)
		return NULL;
	/* size_t arithmetic: MNL_ALIGN on a u32 near 4G wraps to 0 */
	if (nlh->nlmsg_len < sizeof(*nlh) ||
	    (((size_t)nlh->nlmsg_len + 3) & ~(size_t)3) > len)
		return NULL;
	if (nlh->nlmsg_len < mnl_nlmsg_size(extra))
		return NULL;
	return nlh;
}

static void
copy_name(char dst[16], const struct nlattr *attr)
{
	const char	*s = mnl_attr_get_payload(attr);
	size_t		 n = mnl_attr_get_payload_len(attr);

	if (n > 15)
		n = 15;
	memcpy(dst, s, n);
	dst[n] = '\0';
	dst[strnlen(dst, 16)] = '\0';
}

struct attr_table {
	const struct nlattr	**tb;
	size_t			  max;
};

static int
collect_attr(const struct nlattr *attr, void *data)
{
	struct attr_table	*t = data;
	uint16_t		 type = mnl_attr_get_type(attr);

	if (type <= t->max)
		t->tb[type] = attr;
	return MNL_CB_OK;
}

/* tb[0..max] = the last attribute of each type; lengths are checked by
 * libmnl against the message. */
static int
parse_attrs(const struct nlmsghdr *nlh, size_t extra, const struct nlattr **tb,
    size_t max)
{
	struct attr_table	 t = { tb, max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (mnl_attr_parse(nlh, (unsigned int)extra, collect_attr, &t) !=
	    MNL_CB_OK)
		return -1;
	return 0;
}

int
netif_parse_addr(const void *buf, size_t len, struct netif_ifaddr *out)
{
	const struct nlmsghdr	*nlh;
	const struct ifaddrmsg	*ifa;
	const struct nlattr	*tb[IFA_MAX + 1], *a;
	size_t			 alen;

	nlh = msg_fits(buf, len, sizeof(struct ifaddrmsg));
	if (nlh == NULL || (nlh->nlmsg_type != RTM_NEWADDR &&
	    nlh->nlmsg_type != RTM_DELADDR))
		return -1;
	ifa = mnl_nlmsg_get_payload(nlh);
	alen = af_bytes(ifa->ifa_family);
	if (alen == 0 || ifa->ifa_prefixlen > alen * 8)
		return -1;
	if (parse_attrs(nlh, sizeof(*ifa), tb, IFA_MAX) == -1)
		return -1;
	/* IFA_LOCAL is the address itself; IFA_ADDRESS the peer on p-t-p */
	a = tb[IFA_LOCAL] != NULL ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (a == NULL || mnl_attr_get_payload_len(a) != alen)
		return -1;
	memset(out, 0, sizeof(*out));
	out->ifindex = ifa->ifa_index;
	out->addr.af = ifa->ifa_family;
	out->addr.prefixlen = ifa->ifa_prefixlen;
	memcpy(out->addr.addr, mnl_attr_get_payload(a), alen);
	out->flags = ifa->ifa_flags;
	out->scope = ifa->ifa_scope;
	if (tb[IFA_FLAGS] != NULL &&
	    mnl_attr_validate(tb[IFA_FLAGS], MNL_TYPE_U32) == 0)
		out->flags = mnl_attr_get_u32(tb[IFA_FLAGS]);
	if (tb[IFA_PROTO] != NULL &&
	    mnl_attr_validate(tb[IFA_PROTO], MNL_TYPE_U8) == 0)
		out->proto = mnl_attr_get_u8(tb[IFA_PROTO]);
	if (tb[IFA_LABEL] != NULL)
		copy_name(out->label, tb[IFA_LABEL]);
	return 0;
}

int
netif_parse_link(const void *buf, size_t len, struct netif_link *out)
{
	const struct nlmsghdr	*nlh;
	const struct ifinfomsg	*ifi;
	const struct nlattr	*tb[IFLA_MAX + 1];

	nlh = msg_fits(buf, len, sizeof(struct ifinfomsg));
	if (nlh == NULL || (nlh->nlmsg_type != RTM_NEWLINK &&
	    nlh->nlmsg_type != RTM_DELLINK))
		return -1;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (parse_attrs(nlh, sizeof(*ifi), tb, IFLA_MAX) == -1)
		return -1;
	memset(out, 0, sizeof(*out));
	out->ifindex = (uint32_t)ifi->ifi_index;
	out->flags = ifi->ifi_flags;
	if (tb[IFLA_ADDRESS] != NULL &&
	    mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
		memcpy(out->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
		out->has_mac = 1;
	}
	if (tb[IFLA_IFNAME] != NULL)
		copy_name(out->name, tb[IFLA_IFNAME]);
	return 0;
}

int
netif_parse_error(const void *buf, size_t len, int *err, char *msg,
    size_t msglen)
{
	const struct nlmsghdr	*nlh;
	const struct nlmsgerr	*e;
	const struct nlattr	*tb[NLMSGERR_ATTR_MAX + 1];
	size_t			 off;

	if (msg != NULL && msglen > 0)
		msg[0] = '\0';
	nlh = msg_fits(buf, len, sizeof(struct nlmsgerr));
	if (nlh == NULL || nlh->nlmsg_type != NLMSG_ERROR)
		return -1;
	e = mnl_nlmsg_get_payload(nlh);
	if (e->error > 0 || e->error < -4095)
		return -1;
	*err = -e->error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || msg == NULL || msglen == 0)
		return 0;
	/* with NETLINK_CAP_ACK the original request is not echoed */
	off = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	if (e->msg.nlmsg_len < sizeof(e->msg) ||
	    mnl_nlmsg_size(off) > nlh->nlmsg_len)
		return 0;
	if (parse_attrs(nlh, off, tb, NLMSGERR_ATTR_MAX) == -1)
		return 0;
	if (tb[NLMSGERR_ATTR_MSG] != NULL) {
		size_t n = mnl_attr_get_payload_len(tb[NLMSGERR_ATTR_MSG]);
		if (n >= msglen)
			n = msglen - 1;
		memcpy(msg, mnl_attr_get_payload(tb[NLMSGERR_ATTR_MSG]), n);
		msg[n] = '\0';
		msg[strnlen(msg, n)] = '\0';
	}
	return 0;
}

int
netif_link_usable(uint32_t flags)
{
	return (flags & IFF_UP) && (flags & IFF_RUNNING);
}
