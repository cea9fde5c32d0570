/*
 * The health check engine of the checker child: http/https (libcurl
 * multi), tcp, postgres (libpq) and exec (run by the parent) checks, each
 * on its own interval and timeout, damped by rise/fall (health.h) and
 * combined with AND.  Everything runs on the caller's libevent base: no
 * threads, no blocking calls.
 */
#ifndef YAIM_CHECKS_H
#define YAIM_CHECKS_H

#include <event2/event.h>

#include "blob.h"
#include "config.h"
#include "proto.h"

struct checker_ops {
	/* every change of the overall state, and the first verdict */
	void	(*report)(const struct imsg_health *, void *arg);
	/* ask the parent to run exec check i */
	void	(*exec_request)(const struct imsg_exec_run *, void *arg);
	void	 *arg;
};

/*
 * Start every check of conf (copied; blobs too).  The first verdict is
 * "unhealthy" until rise successes.  Returns -1 on error (logged).
 */
int	checks_start(struct event_base *, const struct yaim_config *,
	    const struct yaim_blobs *, const struct checker_ops *);
/* An answer from the parent.  Untrusted: index and seq are validated. */
void	checks_exec_result(const struct imsg_exec_result *);
/*
 * conf (the one running) has new addresses for its host names: the runs
 * that start from now on use them.
 */
void	checks_resolved(const struct yaim_config *conf);
/* Cancel everything (reload, shutdown); checks_start may follow. */
void	checks_stop(void);

#endif
