/*
 * IMSG_HOLD_UNTIL as the parent judges it (parent/fence.c): any sequence
 * of deadlines from a hostile dcs, at any times, under any ttl and
 * fence-margin, with reloads between them, never yields a deadline past
 * now + the bound in force, nor one in the past, nor a bound above the
 * largest configured one.
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
	uint64_t	 now, max, pending = 0, until, asked, next, top;
	uint32_t	 ttl, margin;

	now = take(&data, &len, 4);
	ttl = 1000 + (uint32_t)(take(&data, &len, 3) % TTL_SPAN);
	margin = (uint32_t)take(&data, &len, 2);
	top = max = fence_hold_max(ttl, margin);
	if (max == 0 || max > 3600000)
		abort();
	while (len > 0) {
		switch (take(&data, &len, 1) % 3) {
		case 0:		/* a reload */
			next = fence_hold_max(1000 + (uint32_t)(take(&data,
			    &len, 3) % 3600000), (uint32_t)take(&data,
			    &len, 2));
			if (next > top)
				top = next;
			max = fence_hold_reload(max, next, &pending);
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
				max = fence_hold_ended(max, &pending);
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
		if (max > top || (pending != 0 && pending >= max))
			abort();
	}
	return 0;
}
