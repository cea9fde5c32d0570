/*
 * notify-command: the operator's hook, run by the parent through
 * parent/exec.c (the exec checks' user and restrictions) with the event
 * and its argument appended (DESIGN.md section 14).  The events of one
 * address (and the node's own events, as one more "address") run in
 * order, one at a time; a bounded queue, filled only after the netlink
 * work is done, so a slow hook never delays an address move.
 */
#ifndef YAIM_NOTIFY_H
#define YAIM_NOTIFY_H

#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "proto.h"

struct event_base;

#define NOTIFY_QUEUE_MAX	256	/* events waiting to run */
#define NOTIFY_PARALLEL_MAX	4	/* hooks running at once */
#define NOTIFY_LOG_MS		10000	/* one overflow line per */
/* room for one release per held address once leaving (netif.h) */
#define NOTIFY_EXIT_RESERVE	IMSG_ADDR_SYNC_MAX
#define NOTIFY_DRAIN_MAX_MS	10000	/* the drain at exit, at most */
#define NOTIFY_DRAIN_ROUNDS	1000000	/* its rounds, at most */

enum notify_event {
	NOTIFY_TAKE = 0,	/* <ip>: up and announced */
	NOTIFY_RELEASE,		/* <ip>: removed from the interface */
	NOTIFY_FENCE,		/* the parent dropped every address */
	NOTIFY_HEALTHY,		/* the node became healthy */
	NOTIFY_UNHEALTHY,	/* the node became unhealthy */
	NOTIFY_EVENT_MAX
};

struct notify_stats {
	uint64_t	 runs[NOTIFY_EVENT_MAX];	/* hooks ended */
	uint64_t	 failures[NOTIFY_EVENT_MAX];	/* not exit 0 */
	uint64_t	 timeouts;	/* killed at notify-timeout */
	uint64_t	 dropped;	/* queue full */
	uint32_t	 queued;
	uint32_t	 running;
};

const char	*notify_event_name(uint32_t);
/* At start-up and reload: whether there is a hook now. */
void	notify_init(struct event_base *, const struct yaim_config *);
/* Queue an event; a is NULL for the node's events (fence, health). */
void	notify_event(enum notify_event, const struct yaim_addr *a);
/*
 * The node is leaving: addresses only go away now, and their releases
 * are queued even beyond NOTIFY_QUEUE_MAX (one each, at most).
 */
void	notify_leaving(void);
/*
 * At exit, after the addresses were removed: queue nothing more, run
 * what is queued in order, waiting at most notify-timeout (and at most
 * NOTIFY_DRAIN_MAX_MS) in all; what is still running or queued then is
 * logged (exec_shutdown() kills it).  Without the event loop.
 */
void	notify_drain(void);
void	notify_get_stats(struct notify_stats *);
/* Called whenever a counter or the queue changed (the parent's stats). */
void	notify_on_change(void (*)(void));

#endif
