/*
 * Resolving the host names again while running: every resolve-interval,
 * and at once (at most every RESOLVER_KICK_MIN_MS) when the node turns
 * unhealthy, a short-lived helper process does the blocking getaddrinfo
 * calls and hands the addresses back over a pipe; the parent's event
 * loop never waits for a resolver.  See DESIGN.md section 7.
 */
#ifndef YAIM_RESOLVER_H
#define YAIM_RESOLVER_H

#include <sys/types.h>

#include <event2/event.h>

#include "config.h"

/* The helper's whole round may take this long; then it is killed. */
#define RESOLVER_TIMEOUT_MS	10000
#define RESOLVER_KICK_MIN_MS	1000

/*
 * *confp is the config in force (it may be replaced on reload); changed
 * is called after addresses in it changed.  wipe runs first thing in
 * each helper: it must erase the secrets the helper inherited (passwords,
 * TLS keys), which it does not need.
 */
int	resolver_init(struct event_base *, struct yaim_config **confp,
	    void (*changed)(void), void (*wipe)(void));
/* A new config: forget a round in flight, restart the period. */
void	resolver_reconfigure(void);
/* Resolve now, unless a round runs or the last began very recently. */
void	resolver_kick(void);
/* SIGCHLD: 1 if pid was the helper (reaped here), else 0. */
int	resolver_child_exited(pid_t, int status);
/* Kill a helper in flight, free everything. */
void	resolver_shutdown(void);

#endif
