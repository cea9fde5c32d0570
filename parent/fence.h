/*
 * The parent's side of fencing (DESIGN.md section 5, "The parent enforces
 * the deadline"): the pure rules for the hold deadlines dcs sends in
 * IMSG_HOLD_UNTIL.  No I/O, no clock: the caller passes CLOCK_MONOTONIC
 * milliseconds (mono_ms), the clock dcs computes its deadlines on.
 */
#ifndef YAIM_PARENT_FENCE_H
#define YAIM_PARENT_FENCE_H

#include <stdint.h>

enum hold_verdict {
	HOLD_ACCEPT = 0,	/* *until is the deadline asked for */
	HOLD_CLAMP,		/* asked beyond policy: *until is now + max */
	HOLD_END		/* 0 or already past: hold nothing, *until = 0 */
};

/*
 * The longest a deadline may lie ahead of the moment the parent reads
 * it: what dcs itself allows after a keepalive sent at that moment, with
 * the lease TTL it asks etcd for (ttl_ms rounded up to seconds) and the
 * fence margin as dcs caps it (at most half the TTL).
 */
uint64_t		fence_hold_max(uint32_t ttl_ms, uint32_t margin_ms);

/*
 * Judge a deadline asked for at now under the bound max (fence_hold_max).
 * A fresh message replaces the deadline in force, up or down; only a
 * fresh message can raise it, and never past now + max.
 */
enum hold_verdict	fence_hold_check(uint64_t now, uint64_t max,
			    uint64_t asked, uint64_t *until);

/*
 * Does a deadline asked for (0: end holding) by a dcs that has read the
 * parent's fence msg_gen count, the parent's latest fence being gen?
 * Ending always counts; any other deadline only from a dcs that has read
 * the latest IMSG_FENCED, so that nothing dcs decided before it heard
 * that its addresses were dropped puts them back (DESIGN.md 5).
 */
int			fence_gen_current(uint32_t gen, uint32_t msg_gen,
			    uint64_t asked);

/*
 * The ttl to bound holding with after a reload from cur_ttl to
 * new_ttl (ms).  dcs keeps the TTL of the lease it has until its next
 * lease, but takes a new fence-margin at once: so the larger ttl counts
 * until holding ends (then the caller takes the configured one), with the
 * margin configured now.
 */
uint32_t		fence_hold_ttl(uint32_t cur_ttl, uint32_t new_ttl);

#endif
