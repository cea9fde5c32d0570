/*
 * The parent's rules for dcs's hold deadlines (parent/fence.c): the bound
 * agrees with what dcs itself computes, every deadline at and around the
 * bound, 0 and the past, wrap-around, and the bound across reloads.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "parent/fence.h"

static int	 failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		failures++;						\
		printf("line %d: ", __LINE__);				\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

static void
expect(uint64_t now, uint64_t max, uint64_t asked, enum hold_verdict want,
    uint64_t want_until)
{
	uint64_t		 until = 12345;
	enum hold_verdict	 got;

	got = fence_hold_check(now, max, asked, &until);
	CHECK(got == want && until == want_until, "now %" PRIu64 " max %"
	    PRIu64 " asked %" PRIu64 ": got %d until %" PRIu64 ", want %d "
	    "until %" PRIu64, now, max, asked, got, until, want, want_until);
}

/* What dcs/engine.c's fence_arm() arms for a keepalive sent at t_sent. */
static uint64_t
dcs_deadline(uint64_t t_sent, uint32_t ttl_ms, uint32_t margin_ms)
{
	uint64_t	 ttl = ((uint64_t)ttl_ms + 999) / 1000 * 1000;
	uint64_t	 margin = margin_ms < ttl / 2 ? margin_ms : ttl / 2;

	return t_sent + ttl - margin;
}

static void
test_max(void)
{
	static const uint32_t	 ttls[] = { 1000, 1001, 1500, 2999, 3000,
				    5000, 3600000 };
	static const uint32_t	 margins[] = { 0, 250, 499, 500, 999, 1500,
				    60000 };
	size_t			 i, j;
	uint64_t		 t, now, until;

	CHECK(fence_hold_max(5000, 500) == 4500, "defaults");
	CHECK(fence_hold_max(1500, 250) == 1750, "ttl rounds up to seconds");
	CHECK(fence_hold_max(1000, 600) == 500, "margin capped at ttl/2");
	for (i = 0; i < sizeof(ttls) / sizeof(ttls[0]); i++)
		for (j = 0; j < sizeof(margins) / sizeof(margins[0]); j++) {
			uint64_t m = fence_hold_max(ttls[i], margins[j]);

			CHECK(m > 0, "ttl %u margin %u: zero", ttls[i],
			    margins[j]);
			/* an honest dcs is never clamped, whatever the delay
			 * between its keepalive and our reading */
			for (t = 0; t < 3000; t += 7) {
				now = 1000000 + t;
				CHECK(fence_hold_check(now, m, dcs_deadline(
				    1000000, ttls[i], margins[j]), &until) !=
				    HOLD_CLAMP, "ttl %u margin %u delay %"
				    PRIu64 ": clamped", ttls[i], margins[j], t);
			}
		}
}

static void
test_check(void)
{
	const uint64_t	 now = 1000000, max = 4500;

	expect(now, max, 0, HOLD_END, 0);
	expect(now, max, 1, HOLD_END, 0);
	expect(now, max, now - 1, HOLD_END, 0);
	expect(now, max, now, HOLD_END, 0);
	expect(now, max, now + 1, HOLD_ACCEPT, now + 1);
	expect(now, max, now + max - 1, HOLD_ACCEPT, now + max - 1);
	expect(now, max, now + max, HOLD_ACCEPT, now + max);
	expect(now, max, now + max + 1, HOLD_CLAMP, now + max);
	expect(now, max, UINT64_MAX, HOLD_CLAMP, now + max);
	expect(0, max, 1, HOLD_ACCEPT, 1);
	expect(0, max, 0, HOLD_END, 0);
	expect(UINT64_MAX - 1, 1, UINT64_MAX, HOLD_ACCEPT, UINT64_MAX);
	expect(UINT64_MAX, 1, UINT64_MAX, HOLD_END, 0);
}

static void
test_reload(void)
{
	uint64_t	 pending = 0, cur;

	cur = fence_hold_reload(4500, 9500, &pending);
	CHECK(cur == 9500 && pending == 0, "a longer bound holds at once");
	cur = fence_hold_reload(9500, 2500, &pending);
	CHECK(cur == 9500 && pending == 2500, "a shorter one waits");
	cur = fence_hold_reload(cur, 1500, &pending);
	CHECK(cur == 9500 && pending == 1500, "the newest shorter one waits");
	cur = fence_hold_ended(cur, &pending);
	CHECK(cur == 1500 && pending == 0, "and applies when holding ends");
	cur = fence_hold_ended(cur, &pending);
	CHECK(cur == 1500 && pending == 0, "nothing pending, nothing changes");
	cur = fence_hold_reload(cur, 9500, &pending);
	cur = fence_hold_reload(cur, 4500, &pending);
	cur = fence_hold_reload(cur, 9500, &pending);
	CHECK(cur == 9500 && pending == 0, "a longer one cancels a pending "
	    "shorter one");
}

int
main(void)
{
	test_max();
	test_check();
	test_reload();
	if (failures != 0) {
		printf("%d failures\n", failures);
		return 1;
	}
	printf("test_fence: all passed\n");
	return 0;
}
