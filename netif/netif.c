/*
 * netif: the parent's interface-address layer.  See netif.h.
 *
 * Two netlink sockets (libmnl): a command socket used for bounded
 * synchronous request/ack exchanges (1 s receive timeout, sequence
 * numbers, NLM_F_ACK), and a non-blocking monitor socket on libevent for
 * link and address events.  Announcements go out on an AF_PACKET socket
 * (ARP) and a raw ICMPv6 socket, both opened here before the parent drops
 * privileges.
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
#include "netif.h"
#include "netif_pure.h"

#define NL_RCVBUF	(32 * 1024)
#define MON_SOCKBUF	(4 * 1024 * 1024)
#define MON_BATCH	64		/* datagrams per read callback */
#define DUMP_TRIES	10		/* interrupted dumps redone */
#define RESYNC_RETRY_MS	1000		/* after a resync that failed */

/* An address we hold, with what is needed to remove it again. */
struct held {
	struct yaim_addr addr;		/* prefixlen: full host length */
	uint8_t		 plen;		/* prefix length in use */
	char		 label[IFNAMSIZ];
	uint32_t	 repeats_left;
	struct event	*timer;
};

static struct {
	int			 ready;
	struct event_base	*base;
	struct netif_ops	 ops;

	/* settings from the config */
	char			 ifname[IFNAMSIZ];
	char			 label[IFNAMSIZ];	/* iface:label */
	uint8_t			 netmask, netmask6;
	uint32_t		 garp_count, garp_interval_ms;
	uint32_t		 garp_refresh_ms;
	struct yaim_addr	 networks[CFG_MAX_NETWORKS];
	size_t			 n_networks;

	/* what we know of the interface */
	uint32_t		 ifindex;
	uint8_t			 mac[6];
	int			 has_mac;
	int			 link_up;
	struct yaim_addr	*ifaddrs;	/* not ours, with prefixlen */
	size_t			 n_ifaddrs, cap_ifaddrs;
	struct imsg_networks	 told;		/* last ops->networks */

	struct held		**held;
	size_t			 n_held, cap_held;

	struct mnl_socket	*cmd, *mon;
	uint32_t		 seq;
	int			 use_proto;	/* 0: kernel refused it */
	int			 arp_fd, icmp6_fd;
	struct event		*ev_mon, *ev_refresh, *ev_resync;
} nf = { .arp_fd = -1, .icmp6_fd = -1 };

static void	announce_start(struct held *);
static int	resync(int);

/* ---- small helpers ---- */

static void
host_form(struct yaim_addr *a)
{
	a->prefixlen = a->af == AF_INET ? 32 : 128;
	a->pad[0] = a->pad[1] = 0;
}

static void
build_label(char out[IFNAMSIZ], const char *ifname, const char *label)
{
	char	 full[IFNAMSIZ + CFG_LABEL_MAX + 2];
	size_t	 n = strlen(ifname);

	out[0] = '\0';
	if (label[0] == '\0')
		return;
	/* accept the full form too */
	if (strncmp(label, ifname, n) == 0 && label[n] == ':')
		snprintf(full, sizeof(full), "%.*s", CFG_LABEL_MAX, label);
	else
		snprintf(full, sizeof(full), "%.*s:%.*s", IFNAMSIZ, ifname,
		    CFG_LABEL_MAX, label);
	/* netif_check_config refuses longer ones */
	if (strlen(full) < IFNAMSIZ)
		memcpy(out, full, strlen(full) + 1);
}

static int
label_fits(const char *ifname, const char *label)
{
	size_t	 n = strlen(ifname);

	if (label[0] == '\0')
		return 1;
	if (strncmp(label, ifname, n) == 0 && label[n] == ':')
		return strlen(label) < IFNAMSIZ;
	return n + 1 + strlen(label) < IFNAMSIZ;
}

static void
report(const struct yaim_addr *a, enum addr_state state,
    enum addr_refusal why, int detail)
{
	struct imsg_addr_state	 st;

	memset(&st, 0, sizeof(st));
	st.addr = *a;
	st.state = state;
	st.refusal = why;
	st.detail = detail;
	if (nf.ops.addr_state != NULL)
		nf.ops.addr_state(&st, nf.ops.arg);
}

void
netif_link(struct imsg_link_state *ls)
{
	memset(ls, 0, sizeof(*ls));
	ls->up = nf.link_up ? 1 : 0;
	ls->ifindex = nf.ifindex;
}

static void
report_link(void)
{
	struct imsg_link_state	 ls;

	netif_link(&ls);
	if (nf.ops.link_state != NULL)
		nf.ops.link_state(&ls, nf.ops.arg);
}

static void
policy(struct netif_policy *p)
{
	p->ifname = nf.ifname;
	p->ifaddrs = nf.ifaddrs;
	p->n_ifaddrs = nf.n_ifaddrs;
	if (nf.n_networks > 0) {
		p->allowed = nf.networks;
		p->n_allowed = nf.n_networks;
	} else {
		/* in_prefix looks at the prefix bits only: no masking needed */
		p->allowed = nf.ifaddrs;
		p->n_allowed = nf.n_ifaddrs;
	}
}

static void
copy_settings(const struct yaim_config *conf)
{
	size_t	 i;

	build_label(nf.label, nf.ifname, conf->label);
	nf.netmask = conf->netmask;
	nf.netmask6 = conf->netmask6;
	nf.garp_count = conf->garp_count;
	nf.garp_interval_ms = conf->garp_interval_ms;
	nf.garp_refresh_ms = conf->garp_refresh_ms;
	nf.n_networks = 0;
	for (i = 0; i < conf->n_networks && i < CFG_MAX_NETWORKS; i++)
		nf.networks[nf.n_networks++] = conf->networks[i];
}

/* ---- the held set: sorted by address, up to IMSG_ADDR_SYNC_MAX ---- */

/* Index of a in the held set, or where it would go (*found = 0). */
static size_t
held_search(const struct yaim_addr *a, int *found)
{
	size_t	 lo = 0, hi = nf.n_held, mid;
	int	 c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = yaim_addr_cmp(&nf.held[mid]->addr, a);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

static struct held *
held_find(const struct yaim_addr *a, size_t *idx)
{
	size_t	 i;
	int	 found;

	i = held_search(a, &found);
	if (!found)
		return NULL;
	if (idx != NULL)
		*idx = i;
	return nf.held[i];
}

static void	announce_cb(int, short, void *);

static struct held *
held_add(const struct yaim_addr *a, uint8_t plen, const char *label)
{
	struct held	**n, *h;
	size_t		  cap, at;
	int		  found;

	if (nf.n_held == nf.cap_held) {
		cap = nf.cap_held ? nf.cap_held * 2 : 16;
		if ((n = reallocarray(nf.held, cap, sizeof(*n))) == NULL)
			return NULL;
		nf.held = n;
		nf.cap_held = cap;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->addr = *a;
	host_form(&h->addr);
	h->plen = plen;
	snprintf(h->label, sizeof(h->label), "%s", label);
	h->timer = evtimer_new(nf.base, announce_cb, h);
	if (h->timer == NULL) {
		free(h);
		return NULL;
	}
	at = held_search(&h->addr, &found);	/* callers checked: !found */
	memmove(&nf.held[at + 1], &nf.held[at],
	    (nf.n_held - at) * sizeof(*nf.held));
	nf.held[at] = h;
	nf.n_held++;
	return h;
}

/* Forget entry idx; entries below idx keep their index. */
static void
held_remove(size_t idx)
{
	struct held	*h = nf.held[idx];

	event_free(h->timer);
	free(h);
	nf.n_held--;
	memmove(&nf.held[idx], &nf.held[idx + 1],
	    (nf.n_held - idx) * sizeof(*nf.held));
}

/* ---- interface addresses that are not ours ---- */

static void
ifaddr_add(const struct yaim_addr *a)
{
	struct yaim_addr	*n;
	size_t			 i, cap;

	for (i = 0; i < nf.n_ifaddrs; i++)
		if (yaim_addr_cmp(&nf.ifaddrs[i], a) == 0 &&
		    nf.ifaddrs[i].prefixlen == a->prefixlen)
			return;
	if (nf.n_ifaddrs == nf.cap_ifaddrs) {
		cap = nf.cap_ifaddrs ? nf.cap_ifaddrs * 2 : 8;
		if ((n = reallocarray(nf.ifaddrs, cap, sizeof(*n))) == NULL) {
			log_warn("%s", __func__);
			return;
		}
		nf.ifaddrs = n;
		nf.cap_ifaddrs = cap;
	}
	nf.ifaddrs[nf.n_ifaddrs++] = *a;
}

static void
ifaddr_del(const struct yaim_addr *a)
{
	size_t	 i;

	for (i = 0; i < nf.n_ifaddrs; i++)
		if (yaim_addr_cmp(&nf.ifaddrs[i], a) == 0 &&
		    nf.ifaddrs[i].prefixlen == a->prefixlen) {
			nf.ifaddrs[i] = nf.ifaddrs[--nf.n_ifaddrs];
			return;
		}
}

/* ---- the allowed networks, as dcs is told ---- */

static int
net_cmp(const void *a, const void *b)
{
	const struct yaim_addr	*x = a, *y = b;
	int			 c;

	if ((c = yaim_addr_cmp(x, y)) != 0)
		return c;
	return x->prefixlen < y->prefixlen ? -1 : x->prefixlen > y->prefixlen;
}

/* a with the bits beyond its prefix length cleared. */
static struct yaim_addr
net_of(const struct yaim_addr *a)
{
	struct yaim_addr	 n = *a;
	unsigned int		 i;

	for (i = n.prefixlen; i < sizeof(n.addr) * 8; i++)
		n.addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	return n;
}

void
netif_networks(struct imsg_networks *nw)
{
	const struct yaim_addr	*src = nf.networks;
	size_t			 n = nf.n_networks, i;
	uint32_t		 j = 0;

	memset(nw, 0, sizeof(*nw));
	if (n == 0) {
		src = nf.ifaddrs;
		n = nf.n_ifaddrs;
	}
	nw->complete = 1;
	for (i = 0; i < n; i++) {
		if (nw->n == IMSG_NETWORKS_MAX) {
			nw->complete = 0;
			break;
		}
		nw->net[nw->n++] = net_of(&src[i]);
	}
	if (nw->n > 1)
		qsort(nw->net, nw->n, sizeof(nw->net[0]), net_cmp);
	for (i = 0; i < nw->n; i++)
		if (j == 0 || net_cmp(&nw->net[j - 1], &nw->net[i]) != 0)
			nw->net[j++] = nw->net[i];
	for (i = j; i < nw->n; i++)
		memset(&nw->net[i], 0, sizeof(nw->net[i]));
	nw->n = j;
	if (!nw->complete) {
		/* a partial list would make dcs refuse what we allow */
		memset(nw->net, 0, sizeof(nw->net));
		nw->n = 0;
	}
}

/* Tell dcs when the allowed networks change. */
static void
report_networks(void)
{
	struct imsg_networks	 nw;

	netif_networks(&nw);
	if (memcmp(&nw, &nf.told, sizeof(nw)) == 0)
		return;
	nf.told = nw;
	if (nf.ops.networks != NULL)
		nf.ops.networks(&nw, nf.ops.arg);
}

/* ---- netlink command socket: bounded synchronous exchanges ---- */

static int
cmd_open(void)
{
	struct timeval	 tv = { 1, 0 };
	int		 one = 1, fd;

	nf.cmd = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nf.cmd == NULL) {
		log_warn("%s: netlink socket", __func__);
		return -1;
	}
	if (mnl_socket_bind(nf.cmd, 0, MNL_SOCKET_AUTOPID) == -1) {
		log_warn("%s: netlink bind", __func__);
		return -1;
	}
	fd = mnl_socket_get_fd(nf.cmd);
	/* the kernel answers at once; a second is generous */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1) {
		log_warn("%s: SO_RCVTIMEO", __func__);
		return -1;
	}
	/* best effort: the kernel's error text, without the echoed request */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nf.seq = (uint32_t)time(NULL);
	return 0;
}

/*
 * Receive replies to seq.  Each message of seq other than the final ack
 * goes to msg_cb (may be NULL).  Returns 0 or a positive errno; EINTR if
 * the kernel marked a reply NLM_F_DUMP_INTR, once the dump has been read
 * to its end (what it gave is then unreliable, but leaving the rest
 * queued would only feed the next exchange stale replies).
 */
static int
cmd_wait(uint32_t seq,
    void (*msg_cb)(const struct nlmsghdr *, size_t, void *),
    void *arg, char *ext, size_t extlen)
{
	static uint8_t		 buf[NL_RCVBUF];
	const struct nlmsghdr	*nlh;
	ssize_t			 n;
	size_t			 off, len;
	int			 err, rounds, intr = 0;

	for (rounds = 0; rounds < 10000; rounds++) {
		n = recv(mnl_socket_get_fd(nf.cmd), buf, sizeof(buf), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return errno == EAGAIN ? ETIMEDOUT : errno;
		off = 0;
		while ((nlh = netif_nlmsg_walk(buf, (size_t)n, &off, &len)) !=
		    NULL) {
			if (nlh->nlmsg_seq != seq)
				continue;	/* late, for a timed-out one */
			if (netif_nlmsg_dump_intr(nlh, len))
				intr = 1;
			if (nlh->nlmsg_type == NLMSG_DONE)
				return intr ? EINTR : 0;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				if (netif_parse_error(nlh, len,
				    &err, ext, extlen) == -1)
					return EPROTO;
				return err;
			}
			if (msg_cb != NULL)
				msg_cb(nlh, len, arg);
		}
	}
	return ETIMEDOUT;
}

static int
cmd_send(const void *msg, size_t len)
{
	if (mnl_socket_sendto(nf.cmd, msg, len) == -1)
		return errno;
	return 0;
}

/* One RTM_NEWADDR/RTM_DELADDR with ack.  0 or a positive errno. */
static int
cmd_addr(uint16_t type, const struct yaim_addr *a, uint8_t plen,
    const char *label, char *ext, size_t extlen)
{
	static uint8_t	 msg[NETIF_NLBUF];
	uint32_t	 seq = ++nf.seq;
	size_t		 len;
	int		 err;

	len = netif_msg_addr(msg, sizeof(msg), type, seq, nf.ifindex, a, plen,
	    label, nf.use_proto ? NETIF_IFA_PROTO : 0);
	if (len == 0)
		return EINVAL;
	if ((err = cmd_send(msg, len)) != 0)
		return err;
	return cmd_wait(seq, NULL, NULL, ext, extlen);
}

/* Add with our tag; fall back to untagged once if the kernel refuses
 * IFA_PROTO.  EEXIST counts as success. */
static int
kernel_add(const struct yaim_addr *a, uint8_t plen, const char *label)
{
	char	 ext[128];
	int	 err;

	err = cmd_addr(RTM_NEWADDR, a, plen, label, ext, sizeof(ext));
	if ((err == EINVAL || err == EOPNOTSUPP) && nf.use_proto) {
		log_warnx("%s: kernel refused IFA_PROTO for %s (%s%s%s); "
		    "adding untagged from now on", __func__, ntop(a),
		    strerror(err), ext[0] ? ": " : "", ext);
		nf.use_proto = 0;
		err = cmd_addr(RTM_NEWADDR, a, plen, label, ext, sizeof(ext));
	}
	if (err == EEXIST)
		err = 0;
	if (err != 0)
		log_warnx("%s: adding %s/%u on %s: %s%s%s", __func__, ntop(a),
		    plen, nf.ifname, strerror(err), ext[0] ? ": " : "", ext);
	return err;
}

/* EADDRNOTAVAIL counts as success. */
static int
kernel_del(const struct yaim_addr *a, uint8_t plen, const char *label)
{
	char	 ext[128];
	int	 err;

	err = cmd_addr(RTM_DELADDR, a, plen, label, ext, sizeof(ext));
	if (err == EADDRNOTAVAIL || err == ENODEV)
		err = 0;
	if (err != 0)
		log_warnx("%s: removing %s/%u from %s: %s%s%s", __func__,
		    ntop(a), plen, nf.ifname, strerror(err), ext[0] ? ": " : "",
		    ext);
	return err;
}

static void
link_msg(const struct nlmsghdr *nlh, size_t len, void *arg)
{
	struct netif_link	*out = arg;

	if (nlh->nlmsg_type == RTM_NEWLINK &&
	    netif_parse_link(nlh, len, out) == -1)
		log_warnx("%s: malformed link message", __func__);
}

/* Learn ifindex, MAC and flags by name.  0 or a positive errno. */
static int
cmd_getlink(struct netif_link *out)
{
	static uint8_t	 msg[NETIF_NLBUF];
	uint32_t	 seq = ++nf.seq;
	size_t		 len;
	int		 err;

	memset(out, 0, sizeof(*out));
	len = netif_msg_getlink(msg, sizeof(msg), seq, nf.ifname);
	if (len == 0)
		return EINVAL;
	if ((err = cmd_send(msg, len)) != 0)
		return err;
	if ((err = cmd_wait(seq, link_msg, out, NULL, 0)) != 0)
		return err;
	return out->ifindex == 0 ? ENODEV : 0;
}

struct addr_list {
	struct netif_ifaddr	*v;
	size_t			 n, cap;
	int			 nomem;
};

static void
addr_msg(const struct nlmsghdr *nlh, size_t len, void *arg)
{
	struct addr_list	*l = arg;
	struct netif_ifaddr	 ia, *n;
	size_t			 cap;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return;
	if (netif_parse_addr(nlh, len, &ia) == -1 ||
	    ia.ifindex != nf.ifindex)
		return;
	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 32;
		if ((n = reallocarray(l->v, cap, sizeof(*n))) == NULL) {
			l->nomem = 1;
			return;
		}
		l->v = n;
		l->cap = cap;
	}
	l->v[l->n++] = ia;
}

/* One dump into l, emptied first.  0, EINTR if interrupted, or errno. */
static int
dump_addrs_once(struct addr_list *l)
{
	static uint8_t	 msg[NETIF_NLBUF];
	uint32_t	 seq = ++nf.seq;
	size_t		 len;
	int		 err;

	l->n = 0;
	l->nomem = 0;
	len = netif_msg_getaddr(msg, sizeof(msg), seq, AF_UNSPEC);
	if ((err = cmd_send(msg, len)) != 0)
		return err;
	if ((err = cmd_wait(seq, addr_msg, l, NULL, 0)) != 0)
		return err;
	return l->nomem ? ENOMEM : 0;
}

/*
 * Every address on our interface.  0 or a positive errno.  The kernel
 * dumps by position, so an address added or removed during a dump shifts
 * the rest: one may be skipped (resync would re-add a held address that
 * is there, and announce it) or a leftover missed.  Such a dump is redone
 * from scratch; under endless churn we give up (EAGAIN) rather than
 * spin, and the next resync tries again.
 */
static int
cmd_dump_addrs(struct addr_list *l)
{
	int	 err, tries;

	memset(l, 0, sizeof(*l));
	for (tries = 1; tries <= DUMP_TRIES; tries++) {
		if ((err = dump_addrs_once(l)) != EINTR)
			return err;
		log_debug("%s: addresses changed during dump %d of %s; "
		    "redoing it", __func__, tries, nf.ifname);
	}
	log_warnx("%s: addresses of %s changed during each of %d dumps",
	    __func__, nf.ifname, DUMP_TRIES);
	return EAGAIN;
}

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

static void
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

static void
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
static void
announce_start(struct held *h)
{
	struct timeval	 tv = ms_to_tv(nf.garp_interval_ms);

	evtimer_del(h->timer);
	announce(h);
	h->repeats_left = nf.garp_count;
	if (h->repeats_left > 0)
		evtimer_add(h->timer, &tv);
}

static void
refresh_cb(int fd, short ev, void *arg)
{
	size_t	 i;

	(void)fd;
	(void)ev;
	(void)arg;
	for (i = 0; i < nf.n_held; i++)
		announce(nf.held[i]);
}

static void
refresh_arm(void)
{
	struct timeval	 tv = ms_to_tv(nf.garp_refresh_ms);

	if (nf.ev_refresh == NULL)
		return;
	event_del(nf.ev_refresh);
	if (nf.garp_refresh_ms > 0)
		event_add(nf.ev_refresh, &tv);
}

static int
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

/* ---- holding and releasing ---- */

static uint8_t
conf_plen(uint8_t af)
{
	return af == AF_INET ? nf.netmask : nf.netmask6;
}

static const char *
conf_label(uint8_t af)
{
	return af == AF_INET ? nf.label : "";
}

/* Add a (validated) and hold it.  0 or a positive errno. */
static int
hold(const struct yaim_addr *a)
{
	struct held	*h;
	int		 err;

	if ((h = held_find(a, NULL)) != NULL)
		return kernel_add(&h->addr, h->plen, h->label);
	if ((err = kernel_add(a, conf_plen(a->af), conf_label(a->af))) != 0)
		return err;
	if ((h = held_add(a, conf_plen(a->af), conf_label(a->af))) == NULL) {
		log_warn("%s: %s", __func__, ntop(a));
		(void)kernel_del(a, conf_plen(a->af), conf_label(a->af));
		return ENOMEM;
	}
	log_info("holding %s/%u on %s", ntop(&h->addr), h->plen, nf.ifname);
	announce_start(h);
	return 0;
}

/* Remove the held entry idx from the interface and forget it. */
static int
unhold(size_t idx)
{
	struct held	*h = nf.held[idx];
	int		 err;

	err = kernel_del(&h->addr, h->plen, h->label);
	log_info("released %s/%u from %s", ntop(&h->addr), h->plen,
	    nf.ifname);
	held_remove(idx);
	return err;
}

static void
refuse(const char *what, const struct yaim_addr *a, enum addr_refusal why)
{
	const char	*hint = "";
	size_t		 i;

	for (i = 0; why == AR_NOT_ALLOWED && i < nf.n_ifaddrs; i++)
		if (yaim_addr_cmp(a, &nf.ifaddrs[i]) == 0)
			hint = ", already configured on the interface";
	log_warnx("refused %s %s on %s: %s (%s%s)", what, ntop(a), nf.ifname,
	    addr_refusal_name(why), netif_refusal_token(why), hint);
	report(a, ADDR_REFUSED, why, 0);
}

static void
do_add(const struct yaim_addr *a)
{
	int	 err;

	if ((err = hold(a)) != 0)
		report(a, ADDR_REFUSED, AR_NETLINK, err);
	else
		report(a, ADDR_UP, AR_NONE, 0);
}

static void
do_del(const struct yaim_addr *a)
{
	size_t	 idx;
	int	 err;

	if (held_find(a, &idx) != NULL)
		err = unhold(idx);
	else
		/* not ours as far as we know: make sure, harmlessly */
		err = kernel_del(a, conf_plen(a->af), conf_label(a->af));
	report(a, ADDR_DOWN, err ? AR_NETLINK : AR_NONE, err);
}

/* ---- resynchronisation with the kernel ---- */

/* Tagged, or held (untagged on kernels without IFA_PROTO). */
static int
is_ours(const struct netif_ifaddr *ia)
{
	return ia->proto == NETIF_IFA_PROTO ||
	    held_find(&ia->addr, NULL) != NULL;
}

static void
readd(struct held *h, size_t idx, const char *why)
{
	struct yaim_addr	 a = h->addr;
	int			 err;

	log_warnx("%s on %s %s; adding it back", ntop(&h->addr), nf.ifname,
	    why);
	if ((err = kernel_add(&h->addr, h->plen, h->label)) != 0) {
		held_remove(idx);
		report(&a, ADDR_DOWN, AR_NETLINK, err);
		return;
	}
	announce_start(h);
}

static void
update_link(const struct netif_link *lk, int quiet)
{
	int	 up = netif_link_usable(lk->flags);

	if (lk->has_mac && (!nf.has_mac || memcmp(nf.mac, lk->mac, 6) != 0)) {
		memcpy(nf.mac, lk->mac, 6);
		nf.has_mac = 1;
	}
	if (up == nf.link_up)
		return;
	nf.link_up = up;
	if (quiet)
		return;
	log_info("link %s is %s", nf.ifname, up ? "up" : "down");
	/*
	 * No announcement when the link returns: dcs drops every address on
	 * link down, and an address still held here is one whose drop is on
	 * its way (a paused node waking up).  Announcing it would point the
	 * neighbours at us while another node holds it.
	 */
	report_link();
}

/*
 * Bring our view in line with the kernel: link state, the interface's own
 * addresses, leftovers of ours we do not hold (removed), and held
 * addresses that vanished (re-added).
 */
static int
resync(int at_start)
{
	struct netif_link	 lk;
	struct addr_list	 l;
	struct held		*h;
	uint8_t			*present = NULL;
	size_t			 i, idx;
	int			 err;

	if ((err = cmd_getlink(&lk)) != 0) {
		log_warnx("%s: interface %s: %s", __func__, nf.ifname,
		    strerror(err));
		return -1;
	}
	if (!at_start && lk.ifindex != nf.ifindex)
		log_warnx("%s: %s changed ifindex %u -> %u", __func__,
		    nf.ifname, nf.ifindex, lk.ifindex);
	nf.ifindex = lk.ifindex;
	update_link(&lk, at_start);
	if ((err = cmd_dump_addrs(&l)) != 0) {
		log_warnx("%s: listing addresses of %s: %s", __func__,
		    nf.ifname, strerror(err));
		free(l.v);
		return -1;
	}
	if (nf.n_held > 0 && (present = calloc(nf.n_held, 1)) == NULL) {
		log_warn("%s", __func__);
		free(l.v);
		return -1;
	}
	nf.n_ifaddrs = 0;
	for (i = 0; i < l.n; i++) {
		struct netif_ifaddr *ia = &l.v[i];

		if (!is_ours(ia)) {
			ifaddr_add(&ia->addr);
			continue;
		}
		if ((h = held_find(&ia->addr, &idx)) != NULL) {
			present[idx] = 1;
			continue;
		}
		log_warnx("removing leftover address %s/%u (proto 0x%02x) "
		    "from %s", ntop(&ia->addr), ia->addr.prefixlen, ia->proto,
		    nf.ifname);
		(void)kernel_del(&ia->addr, ia->addr.prefixlen,
		    ia->addr.af == AF_INET ? ia->label : "");
	}
	free(l.v);
	for (i = nf.n_held; i-- > 0;)
		if (!present[i])
			readd(nf.held[i], i, "vanished");
	free(present);
	report_networks();
	return 0;
}

/* ---- the monitor socket ---- */

static int
mon_open(void)
{
	int	 size = MON_SOCKBUF, fd;

	nf.mon = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (nf.mon == NULL) {
		log_warn("%s: netlink socket", __func__);
		return -1;
	}
	if (mnl_socket_bind(nf.mon, RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
	    RTMGRP_IPV6_IFADDR, MNL_SOCKET_AUTOPID) == -1) {
		log_warn("%s: netlink bind", __func__);
		return -1;
	}
	fd = mnl_socket_get_fd(nf.mon);
	/* bursts (a link flap with many addresses) must not overflow */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) == -1 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) == -1)
		log_warn("%s: receive buffer", __func__);
	return 0;
}

static void
addr_event(uint16_t type, const struct netif_ifaddr *ia)
{
	struct held	*h;
	size_t		 idx;

	h = held_find(&ia->addr, &idx);
	if (type == RTM_NEWADDR) {
		if (!is_ours(ia))
			ifaddr_add(&ia->addr);
		return;
	}
	if (h == NULL) {
		if (ia->proto != NETIF_IFA_PROTO)
			ifaddr_del(&ia->addr);
		return;		/* else: the echo of our own release */
	}
	if (ia->addr.prefixlen != h->plen)
		return;		/* another copy, not the one we hold */
	readd(h, idx, nf.link_up ? "was removed by someone else" :
	    "was removed with the link down");
}


static void
mon_msg(const struct nlmsghdr *nlh, size_t len)
{
	struct netif_ifaddr	 ia;
	struct netif_link	 lk;

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		if (netif_parse_link(nlh, len, &lk) == -1 ||
		    lk.ifindex != nf.ifindex)
			return;
		if (nlh->nlmsg_type == RTM_DELLINK) {
			log_warnx("interface %s was deleted", nf.ifname);
			lk.flags = 0;
		}
		update_link(&lk, 0);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		if (netif_parse_addr(nlh, len, &ia) == -1 ||
		    ia.ifindex != nf.ifindex)
			return;
		addr_event(nlh->nlmsg_type, &ia);
		report_networks();
		break;
	default:
		break;
	}
}

/*
 * After an overflow the queue holds a stale, gappy history: drop it, so
 * that the dump that follows is the truth.  Events that arrive between the
 * two are applied twice, which is harmless.
 */
static void
mon_drain(int fd, uint8_t *buf, size_t len)
{
	int	 i;

	for (i = 0; i < 100000; i++)
		if (recv(fd, buf, len, MSG_DONTWAIT) == -1 &&
		    errno != ENOBUFS && errno != EINTR)
			return;
}

/*
 * After lost events our view is only as good as the next resync: one that
 * failed (a dump interrupted every time, say) is tried again until it
 * works, not left to the next overflow.
 */
static void
resync_now(void)
{
	struct timeval	 tv = ms_to_tv(RESYNC_RETRY_MS);

	if (resync(0) == 0) {
		evtimer_del(nf.ev_resync);
		return;
	}
	log_warnx("%s: resynchronising %s failed; trying again in %d ms",
	    __func__, nf.ifname, RESYNC_RETRY_MS);
	evtimer_add(nf.ev_resync, &tv);
}

static void
resync_cb(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	resync_now();
}

static void
mon_cb(int fd, short ev, void *arg)
{
	static uint8_t		 buf[NL_RCVBUF];
	const struct nlmsghdr	*nlh;
	ssize_t			 n;
	size_t			 off, len;
	int			 i;

	(void)ev;
	(void)arg;
	for (i = 0; i < MON_BATCH; i++) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				log_warnx("netlink monitor lost events; "
				    "resynchronising %s", nf.ifname);
				mon_drain(fd, buf, sizeof(buf));
				resync_now();
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("%s: recv", __func__);
			return;
		}
		off = 0;
		while ((nlh = netif_nlmsg_walk(buf, (size_t)n, &off, &len)) !=
		    NULL)
			mon_msg(nlh, len);
	}
}

/* ---- the API ---- */

static void
close_all(void)
{
	if (nf.ev_mon != NULL)
		event_free(nf.ev_mon);
	if (nf.ev_refresh != NULL)
		event_free(nf.ev_refresh);
	if (nf.ev_resync != NULL)
		event_free(nf.ev_resync);
	nf.ev_mon = nf.ev_refresh = nf.ev_resync = NULL;
	if (nf.cmd != NULL)
		mnl_socket_close(nf.cmd);
	if (nf.mon != NULL)
		mnl_socket_close(nf.mon);
	nf.cmd = nf.mon = NULL;
	if (nf.arp_fd != -1)
		close(nf.arp_fd);
	if (nf.icmp6_fd != -1)
		close(nf.icmp6_fd);
	nf.arp_fd = nf.icmp6_fd = -1;
	free(nf.ifaddrs);
	nf.ifaddrs = NULL;
	nf.n_ifaddrs = nf.cap_ifaddrs = 0;
	free(nf.held);
	nf.held = NULL;
	nf.n_held = nf.cap_held = 0;
	nf.ready = 0;
}

int
netif_check_config(const struct yaim_config *conf, char *err, size_t errlen)
{
	char	 at[CFG_WHERE_MAX];

	/* Errors point at the value in the file ("" for a driver's own). */
	config_where(conf, conf->interface_pos, at, sizeof(at));
	if (conf->interface[0] == '\0') {
		snprintf(err, errlen, "%sinterface is not set", at);
		return -1;
	}
	if (strnlen(conf->interface, sizeof(conf->interface)) >= IFNAMSIZ) {
		snprintf(err, errlen, "%sinterface name is too long", at);
		return -1;
	}
	if (if_nametoindex(conf->interface) == 0) {
		snprintf(err, errlen, "%sinterface \"%s\" does not exist", at,
		    conf->interface);
		return -1;
	}
	if (!label_fits(conf->interface, conf->label)) {
		snprintf(err, errlen, "%slabel \"%s:%s\" is longer than %d "
		    "characters", config_where(conf, conf->label_pos, at,
		    sizeof(at)), conf->interface, conf->label, IFNAMSIZ - 1);
		return -1;
	}
	if (conf->netmask < 1 || conf->netmask > 32) {
		snprintf(err, errlen, "%snetmask %u is out of range 1..32",
		    config_where(conf, conf->netmask_pos, at, sizeof(at)),
		    conf->netmask);
		return -1;
	}
	if (conf->netmask6 < 1 || conf->netmask6 > 128) {
		snprintf(err, errlen, "%snetmask6 %u is out of range 1..128",
		    config_where(conf, conf->netmask6_pos, at, sizeof(at)),
		    conf->netmask6);
		return -1;
	}
	return 0;
}

/*
 * Kernels before 5.18 drop IFA_PROTO without an error: addresses then go
 * untagged, and leftovers of a crash cannot be told from others.
 */
static void
warn_old_kernel(void)
{
	struct utsname	 u;
	unsigned int	 major = 0, minor = 0;

	if (uname(&u) == -1 ||
	    sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return;
	if (major < 5 || (major == 5 && minor < 18))
		log_warnx("Linux %s predates IFA_PROTO (5.18): addresses are "
		    "not tagged, and leftovers of a crash are not removed",
		    u.release);
}

int
netif_init(struct event_base *base, const struct yaim_config *conf,
    const struct netif_ops *ops)
{
	char	 err[256];

	if (nf.ready) {
		log_warnx("%s: already initialised", __func__);
		return -1;
	}
	if (netif_check_config(conf, err, sizeof(err)) == -1) {
		log_warnx("%s: %s", __func__, err);
		return -1;
	}
	nf.base = base;
	memset(&nf.ops, 0, sizeof(nf.ops));
	if (ops != NULL)
		nf.ops = *ops;
	snprintf(nf.ifname, sizeof(nf.ifname), "%s", conf->interface);
	copy_settings(conf);
	nf.use_proto = 1;
	warn_old_kernel();
	nf.link_up = 0;
	nf.has_mac = 0;
	nf.ifindex = if_nametoindex(nf.ifname);
	if (cmd_open() == -1 || mon_open() == -1 || open_announcers() == -1)
		goto fail;
	/* monitor first, then the dump: no event falls in between */
	if (resync(1) == -1)
		goto fail;
	if (!nf.has_mac)
		log_warnx("%s: %s has no Ethernet address; addresses will not "
		    "be announced", __func__, nf.ifname);
	if (nf.n_networks == 0 && nf.n_ifaddrs == 0)
		log_warnx("%s: allowed-networks is not set and %s has no "
		    "address of its own: every request will be refused until "
		    "it has one", __func__, nf.ifname);
	nf.ev_mon = event_new(base, mnl_socket_get_fd(nf.mon),
	    EV_READ | EV_PERSIST, mon_cb, NULL);
	nf.ev_refresh = event_new(base, -1, EV_PERSIST, refresh_cb, NULL);
	nf.ev_resync = evtimer_new(base, resync_cb, NULL);
	if (nf.ev_mon == NULL || nf.ev_refresh == NULL ||
	    nf.ev_resync == NULL || event_add(nf.ev_mon, NULL) == -1) {
		log_warnx("%s: cannot register events", __func__);
		goto fail;
	}
	refresh_arm();
	nf.ready = 1;
	log_info("%s: %s ifindex %u, link %s, %zu own addresses", __func__,
	    nf.ifname, nf.ifindex, nf.link_up ? "up" : "down", nf.n_ifaddrs);
	return 0;
fail:
	close_all();
	return -1;
}

void
netif_request(uint32_t type, const struct imsg_addr_req *req)
{
	struct netif_policy	 pol;
	enum addr_refusal	 r;
	const char		*what;

	if (!nf.ready) {
		report(&req->addr, ADDR_REFUSED, AR_NETLINK, ENODEV);
		return;
	}
	if (type != IMSG_ADDR_ADD && type != IMSG_ADDR_DEL) {
		log_warnx("%s: unexpected request type %u", __func__, type);
		report(&req->addr, ADDR_REFUSED, AR_BAD_FAMILY, 0);
		return;
	}
	what = type == IMSG_ADDR_ADD ? "add" : "delete";
	policy(&pol);
	r = netif_validate_req(req, &pol);
	/* what we hold can always be let go, even if the interface lost the
	 * prefix that allowed it */
	if (r != AR_NONE && r != AR_BAD_IFACE && r != AR_BAD_FAMILY &&
	    type == IMSG_ADDR_DEL && held_find(&req->addr, NULL) != NULL)
		r = AR_NONE;
	if (r != AR_NONE) {
		refuse(what, &req->addr, r);
		return;
	}
	if (type == IMSG_ADDR_ADD)
		do_add(&req->addr);
	else
		do_del(&req->addr);
}

static int
addr_order(const void *a, const void *b)
{
	return yaim_addr_cmp(a, b);
}

static int
in_sorted(const struct yaim_addr *v, size_t n, const struct yaim_addr *a)
{
	/* bsearch and qsort want a non-NULL base even for 0 entries */
	return n > 0 && bsearch(a, v, n, sizeof(*v), addr_order) != NULL;
}

void
netif_sync(const struct yaim_addr *addrs, size_t n)
{
	struct netif_policy	 pol;
	struct yaim_addr	*want = NULL, a;
	enum addr_refusal	 r;
	size_t			 i, nw = 0, nu = 0;

	if (!nf.ready)
		return;
	if (n > 0 && (want = calloc(n, sizeof(*want))) == NULL) {
		log_warn("%s", __func__);
		return;
	}
	policy(&pol);
	for (i = 0; i < n; i++) {
		if ((r = netif_validate_addr(&addrs[i], &pol)) != AR_NONE)
			refuse("sync", &addrs[i], r);
		else
			want[nw++] = addrs[i];
	}
	/* sorted and without duplicates: 10000 entries stay cheap */
	if (nw > 0)
		qsort(want, nw, sizeof(*want), addr_order);
	for (i = 0; i < nw; i++)
		if (nu == 0 || yaim_addr_cmp(&want[nu - 1], &want[i]) != 0)
			want[nu++] = want[i];
	for (i = nf.n_held; i-- > 0;) {
		if (in_sorted(want, nu, &nf.held[i]->addr))
			continue;
		a = nf.held[i]->addr;
		r = unhold(i) ? AR_NETLINK : AR_NONE;
		report(&a, ADDR_DOWN, r, 0);
	}
	for (i = 0; i < nu; i++) {
		if (held_find(&want[i], NULL) != NULL)
			report(&want[i], ADDR_UP, AR_NONE, 0);
		else
			do_add(&want[i]);
	}
	free(want);
}

void
netif_release_all(void)
{
	size_t	 i;

	for (i = nf.n_held; i-- > 0;)
		(void)unhold(i);
}

void
netif_reconfigure(const struct yaim_config *conf)
{
	struct netif_policy	 pol;
	struct yaim_addr	 a;
	enum addr_refusal	 r;
	size_t			 i;

	if (!nf.ready)
		return;
	if (strncmp(conf->interface, nf.ifname, sizeof(nf.ifname)) != 0)
		log_warnx("%s: changing the interface from %s to %.16s needs "
		    "a restart; staying on %s", __func__, nf.ifname,
		    conf->interface, nf.ifname);
	copy_settings(conf);
	policy(&pol);
	for (i = nf.n_held; i-- > 0;) {
		a = nf.held[i]->addr;
		if ((r = netif_validate_addr(&a, &pol)) == AR_NONE)
			continue;
		(void)unhold(i);
		refuse("held", &a, r);
	}
	refresh_arm();
	report_networks();
}

void
netif_shutdown(void)
{
	netif_release_all();
	close_all();
}

size_t
netif_held_count(void)
{
	return nf.n_held;
}
