/*
 * Rise/fall damping of check results and the node's overall verdict.
 * Pure: no I/O, no clock.  The engine feeds one result at a time; the
 * module says when the node's overall state must be reported.
 *
 * Every check starts "down, no result yet" (HR_STARTUP).  A check that is
 * down comes up after `rise` consecutive successes; a check that is up goes
 * down after `fall` consecutive failures.  A check that has never been up
 * takes the reason of its latest failure at once.  The node is healthy
 * while every check is up.
 */
#ifndef YAIM_HEALTH_H
#define YAIM_HEALTH_H

#include <stdint.h>

#include "config.h"
#include "proto.h"

struct health_check {
	uint32_t	rise;
	uint32_t	fall;
	uint32_t	up;		/* damped state, 0 or 1 */
	uint32_t	ok_run;		/* consecutive successes */
	uint32_t	fail_run;	/* consecutive failures */
	uint32_t	reason;		/* why it is down (HR_OK when up) */
	int32_t		detail;
	uint32_t	results;	/* results seen (saturating) */
};

struct health {
	uint32_t		n;
	uint32_t		reported;	/* a verdict was given */
	uint32_t		healthy;	/* overall, as last reported */
	struct health_check	c[CFG_MAX_CHECKS];
};

struct health_verdict {
	uint32_t	healthy;
	uint32_t	reason;
	int32_t		detail;
	uint32_t	check;		/* the check that decided it */
};

/* n checks, rise[i]/fall[i] (0 counts as 1).  Returns -1 if n is bad. */
int	health_init(struct health *, uint32_t n, const uint32_t *rise,
	    const uint32_t *fall);
/*
 * Feed one result of check i (reason HR_OK = success).  Returns 1 and
 * fills v when the overall verdict must be reported: the first verdict
 * (all up, or a failure that leaves its check down), and every change
 * of the overall state after that.  Returns 0 otherwise, -1 for a bad
 * index or reason.
 */
int	health_update(struct health *, uint32_t i, uint32_t reason,
	    int32_t detail, struct health_verdict *v);
/* 1 if every check is up. */
int	health_all_up(const struct health *);

#endif
