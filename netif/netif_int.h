/*
 * netif's private header: its state and the functions its files share,
 * never included outside netif/netif*.c.
 *
 *   netif.c		the held set, holding and releasing, reports, the API
 *   netif_kernel.c	netlink: the command socket, the monitor socket, and
 *			the resynchronisation with the kernel
 *   netif_announce.c	gratuitous ARP and unsolicited neighbour advertisements
 */
#ifndef YAIM_NETIF_INT_H
#define YAIM_NETIF_INT_H

#include <net/if.h>

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "proto.h"
#include "netif/netif.h"

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
	int		 removed;	/* RTM_DELADDR seen; resync checks */
};

/* netif's state: one per parent process. */
struct netif_state {
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
};

extern struct netif_state nf;

/* netif.c: the held set, holding and releasing, reports, the API */
struct held	*held_find(const struct yaim_addr *a, size_t *idx);
void	held_remove(size_t idx);
int	hold(const struct yaim_addr *a);
void	ifaddr_add(const struct yaim_addr *a);
void	ifaddr_del(const struct yaim_addr *a);
void	report(const struct yaim_addr *a, enum addr_state state,
    enum addr_refusal why, int detail);
void	report_link(void);
void	report_networks(void);

/* netif_kernel.c: netlink commands, the monitor, resynchronisation */
int	cmd_open(void);
int	kernel_add(const struct yaim_addr *a, uint8_t plen, const char *label);
int	kernel_del(const struct yaim_addr *a, uint8_t plen, const char *label);
void	mon_cb(int fd, short ev, void *arg);
int	mon_open(void);
int	resync(int at_start);
void	resync_cb(int fd, short ev, void *arg);

/* netif_announce.c: gratuitous ARP and unsolicited NA */
void	announce(const struct held *h);
void	announce_cb(int fd, short ev, void *arg);
void	announce_start(struct held *h);
int	open_announcers(void);
void	refresh_arm(void);
void	refresh_cb(int fd, short ev, void *arg);

#endif
