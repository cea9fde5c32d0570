/*
 * netif and the kernel: bounded synchronous netlink exchanges on the
 * command socket, the monitor socket's link and address events, and the
 * resynchronisation after the monitor overflowed.
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
#include "netif/netif_int.h"
#include "netif/netif_pure.h"

/* ---- netlink command socket: bounded synchronous exchanges ---- */

int
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
int
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
int
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


/* ---- resynchronisation with the kernel ---- */

/* Tagged, or held (untagged on kernels without IFA_PROTO). */
static int
is_ours(const struct netif_ifaddr *ia)
{
	return ia->proto == NETIF_IFA_PROTO ||
	    held_find(&ia->addr, NULL) != NULL;
}

/*
 * Put back a held address that is not on the interface, if we may hold
 * addresses now: after the parent's fence nothing comes back until dcs
 * asks again (DESIGN.md 5).
 */
static void
readd(struct held *h, size_t idx, const char *why)
{
	struct yaim_addr	 a = h->addr;
	int			 err;

	if (nf.ops.may_hold != NULL && !nf.ops.may_hold(nf.ops.arg)) {
		log_warnx("%s on %s %s; not adding it back: no hold deadline "
		    "in force", ntop(&h->addr), nf.ifname, why);
		held_remove(idx);
		report(&a, ADDR_DOWN, AR_NONE, 0);
		return;
	}
	log_warnx("%s on %s %s; adding it back", ntop(&h->addr), nf.ifname,
	    why);
	h->removed = 0;
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
int
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
			h->removed = 0;
			continue;
		}
		log_warnx("removing leftover address %s/%u (proto 0x%02x) "
		    "from %s", ntop(&ia->addr), ia->addr.prefixlen, ia->proto,
		    nf.ifname);
		(void)kernel_del(&ia->addr, ia->addr.prefixlen,
		    ia->addr.af == AF_INET ? ia->label : "");
	}
	free(l.v);
	for (i = nf.n_held; i-- > 0;) {
		if (present[i])
			continue;
		h = nf.held[i];
		readd(h, i, !h->removed ? "vanished" : nf.link_up ?
		    "was removed by someone else" :
		    "was removed with the link down");
	}
	free(present);
	report_networks();
	return 0;
}

/* ---- the monitor socket ---- */

int
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

/*
 * An RTM_DELADDR for an address we hold may be the late echo of our own
 * removal (a fence, or a delete dcs asked for) of an address held again
 * since: only the kernel's list tells, so a resync right after this
 * batch of events decides, and puts back only what is really gone.
 */
static void
addr_event(uint16_t type, const struct netif_ifaddr *ia)
{
	struct timeval	 tv = { 0, 0 };
	struct held	*h;

	h = held_find(&ia->addr, NULL);
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
	h->removed = 1;
	evtimer_add(nf.ev_resync, &tv);
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

void
resync_cb(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	resync_now();
}

void
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
