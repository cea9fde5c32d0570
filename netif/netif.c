/*
 * netif: the parent's interface-address layer.  See netif.h.
 *
 * Two netlink sockets (libmnl): a command socket used for bounded
 * synchronous request/ack exchanges (1 s receive timeout, sequence
 * numbers, NLM_F_ACK), and a non-blocking monitor socket on libevent for
 * link and address events (netif_kernel.c).  Announcements go out on an
 * AF_PACKET socket (ARP) and a raw ICMPv6 socket (netif_announce.c), both
 * opened before the parent drops privileges.  netif_int.h holds the
 * state these files share.
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

struct netif_state	 nf = { .arp_fd = -1, .icmp6_fd = -1 };

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

void
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

void
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

struct held *
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
void
held_remove(size_t idx)
{
	struct held	*h = nf.held[idx];
	struct yaim_addr a = h->addr;

	event_free(h->timer);
	free(h);
	nf.n_held--;
	memmove(&nf.held[idx], &nf.held[idx + 1],
	    (nf.n_held - idx) * sizeof(*nf.held));
	if (nf.ops.held != NULL)
		nf.ops.held(&a, 0, nf.ops.arg);
}

/* ---- interface addresses that are not ours ---- */

void
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

void
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
void
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
int
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
	if (nf.ops.held != NULL)
		nf.ops.held(&h->addr, 1, nf.ops.arg);
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

	/*
	 * A bound on what dcs can make us hold, one add at a time or in a
	 * sync: the same as the largest IMSG_ADDR_SYNC.
	 */
	if (nf.n_held >= NETIF_HELD_MAX && held_find(a, NULL) == NULL) {
		log_warnx("refusing to add %s: %d addresses held already, the "
		    "most yaimd holds", ntop(a), NETIF_HELD_MAX);
		report(a, ADDR_REFUSED, AR_TOO_MANY, 0);
		return;
	}
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
