/*
 * netif: the parent's interface-address layer (DESIGN.md section 6).
 *
 * Holds virtual IPs on the configured interface on behalf of the dcs
 * child, announces them (gratuitous ARP, unsolicited IPv6 NA), watches
 * the interface with a netlink monitor socket and puts back what others
 * remove.  Every request from dcs is untrusted and validated here.
 *
 * Netlink commands are bounded synchronous request/ack exchanges on a
 * dedicated command socket (1 s receive timeout; the kernel answers at
 * once).  The monitor socket and the announcement timers run on libevent.
 */
#ifndef YAIM_NETIF_H
#define YAIM_NETIF_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "proto.h"

struct event_base;

/*
 * The IFA_PROTO value that marks an address as added by yaimd.  The kernel
 * uses only IFAPROT_UNSPEC (0), IFAPROT_KERNEL_LO (1), IFAPROT_KERNEL_RA (2)
 * and IFAPROT_KERNEL_LL (3); values above are left to user space, and
 * 0x59 ('Y') is not used by iproute2 or any routing daemon we know of.
 * "ip addr show proto 0x59" lists what yaimd holds.
 */
#define NETIF_IFA_PROTO		0x59

/*
 * The most addresses held at once (DESIGN.md section 11): an add beyond
 * it is refused with AR_TOO_MANY and logged.  Equal to the largest
 * IMSG_ADDR_SYNC, so a sync that the parent accepts always fits.
 */
#define NETIF_HELD_MAX		IMSG_ADDR_SYNC_MAX

struct netif_ops {
	/* reply/notice to dcs */
	void	(*addr_state)(const struct imsg_addr_state *, void *arg);
	void	(*link_state)(const struct imsg_link_state *, void *arg);
	/* the allowed networks changed (see netif_networks) */
	void	(*networks)(const struct imsg_networks *, void *arg);
	void	*arg;
	/*
	 * An address became held (up 1: added and its first announcement
	 * sent) or stopped being held (up 0: removed, or gone from the
	 * interface and not put back).  Transitions only, never repeats:
	 * the notify hooks' take and release.  May be NULL.
	 */
	void	(*held)(const struct yaim_addr *, int up, void *arg);
	/*
	 * May addresses be held now (the parent's fence, DESIGN.md 5)?
	 * Asked before netif puts back one that vanished: one it may not
	 * hold is forgotten and reported ADDR_DOWN instead.  No side
	 * effects.  NULL: always.
	 */
	int	(*may_hold)(void *arg);
};

/* -n: does the interface exist, is the label short enough.  0 ok, -1 and
 * a message in err.  No side effects. */
int	netif_check_config(const struct yaim_config *, char *err,
	    size_t errlen);
/*
 * Parent, privileged, before children start: open the netlink command and
 * monitor sockets and the announcement sockets, learn ifindex, MAC, link
 * state and the interface prefixes, remove leftover tagged addresses
 * (logged), register libevent events.  0 ok, -1 fatal-worthy.
 */
int	netif_init(struct event_base *, const struct yaim_config *,
	    const struct netif_ops *);
/*
 * One size-checked request from dcs: IMSG_ADDR_ADD or IMSG_ADDR_DEL.
 * Untrusted: interface name, family, pad bytes, address class and allowed
 * networks are checked.  Always answered through ops->addr_state.  Never
 * fatal.
 */
void	netif_request(uint32_t imsg_type, const struct imsg_addr_req *);
/* IMSG_ADDR_SYNC: the complete set to hold now.  Adds what is missing,
 * removes the rest.  Every listed address is answered (ADDR_UP, also for
 * those already held, or ADDR_REFUSED), every removed one ADDR_DOWN.
 * n may be 0 (drop all).  The caller checks n <= IMSG_ADDR_SYNC_MAX. */
void	netif_sync(const struct yaim_addr *, size_t n);
/* Remove every address we added, synchronously.  Logged, not reported
 * through ops (dcs may be gone). */
void	netif_release_all(void);
/* SIGHUP: apply a new config.  Addresses still valid are not touched;
 * held addresses the new config refuses are removed and reported
 * ADDR_REFUSED.  The interface itself cannot change without a restart. */
void	netif_reconfigure(const struct yaim_config *);
/* release_all, then close sockets and free events. */
void	netif_shutdown(void);

/*
 * The networks inside which addresses are allowed now: allowed-networks,
 * or the prefixes of the interface's own addresses (host bits cleared,
 * sorted, without duplicates).  The parent tells dcs after every config;
 * ops->networks reports every change.
 */
void	netif_networks(struct imsg_networks *);
/* The last known link state, as ops->link_state reports its changes. */
void	netif_link(struct imsg_link_state *);

/* Extras for the parent and tests. */
size_t	netif_held_count(void);		/* addresses held now */

#endif
