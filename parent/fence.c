/*
 * The parent's rules for hold deadlines from dcs (parent/fence.h).  Pure:
 * the timer and the address removal live in parent/parent.c.
 */
#include <stdint.h>

#include "parent/fence.h"

uint64_t
fence_hold_max(uint32_t ttl_ms, uint32_t margin_ms)
{
	/* dcs asks etcd for whole seconds, rounded up (dcs/engine.c). */
	uint64_t	 ttl = ((uint64_t)ttl_ms + 999) / 1000 * 1000;
	uint64_t	 margin = margin_ms < ttl / 2 ? margin_ms : ttl / 2;

	return ttl - margin;
}

enum hold_verdict
fence_hold_check(uint64_t now, uint64_t max, uint64_t asked, uint64_t *until)
{
	if (asked <= now) {
		*until = 0;
		return HOLD_END;
	}
	/* asked - now cannot wrap; now + max could only in theory */
	if (asked - now > max) {
		*until = now + max;
		return HOLD_CLAMP;
	}
	*until = asked;
	return HOLD_ACCEPT;
}

int
fence_gen_current(uint32_t gen, uint32_t msg_gen, uint64_t asked)
{
	return asked == 0 || msg_gen == gen;
}

uint32_t
fence_hold_ttl(uint32_t cur_ttl, uint32_t new_ttl)
{
	/* fence_hold_max grows with the ttl, whatever the margin */
	return new_ttl > cur_ttl ? new_ttl : cur_ttl;
}
