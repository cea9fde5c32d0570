/*
 * IMSG_HOLD_UNTIL as the parent judges it (parent/fence.c): any sequence
 * of deadlines from a hostile dcs, at any times, under any ttl and
 * fence-margin, never yields a deadline past now + the bound, nor one in
 * the past; and the bound grows with the ttl.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parent/fence.h"

/* ttl as the config allows it: 1000 to 3600000 ms (common/config.c) */
#define TTL_SPAN	(3600000 - 1000 + 1)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint64_t
take(const uint8_t **p, size_t *len, size_t n)
{
	uint64_t	 v = 0;

	while (n-- > 0 && *len > 0) {
		v = v << 8 | **p;
		(*p)++;
		(*len)--;
	}
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint64_t	 now, max, until, asked;
	uint32_t	 ttl, margin, ttl2;

	now = take(&data, &len, 4);
	ttl = 1000 + (uint32_t)(take(&data, &len, 3) % TTL_SPAN);
	margin = (uint32_t)take(&data, &len, 2);
	max = fence_hold_max(ttl, margin);
	if (max == 0 || max > 3600000)
		abort();
	while (len > 0) {
		switch (take(&data, &len, 1) % 3) {
		case 0:		/* a reload */
			ttl2 = 1000 + (uint32_t)(take(&data, &len, 3) %
			    3600000);
			if (fence_hold_ttl(ttl, ttl2) < ttl ||
			    fence_hold_ttl(ttl, ttl2) < ttl2 ||
			    fence_hold_max(fence_hold_ttl(ttl, ttl2), margin) <
			    fence_hold_max(ttl, margin))
				abort();
			ttl = fence_hold_ttl(ttl, ttl2);
			max = fence_hold_max(ttl, margin);
			break;
		case 1:		/* a deadline, near now or anywhere */
			now += take(&data, &len, 2);
			asked = take(&data, &len, 1) & 1 ?
			    now + take(&data, &len, 3) - 0x800000 :
			    take(&data, &len, 8);
			switch (fence_hold_check(now, max, asked, &until)) {
			case HOLD_END:
				if (until != 0 || asked > now)
					abort();
				break;
			case HOLD_CLAMP:
				if (until != now + max || asked <= until)
					abort();
				break;
			case HOLD_ACCEPT:
				if (until != asked || until <= now ||
				    until - now > max)
					abort();
				break;
			default:
				abort();
			}
			break;
		default:	/* time passes */
			now += take(&data, &len, 3);
		}
	}
	return 0;
}
