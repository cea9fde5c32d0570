/*
 * The parent's rules for dcs's hold deadlines (parent/fence.c): the bound
 * agrees with what dcs itself computes, every deadline at and around the
 * bound, 0 and the past, wrap-around, the bound across reloads, and
 * deadlines sent before dcs heard of the parent's latest fence.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "parent/fence.h"

#include "regress/unit/check.h"

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

/*
 * A lease granted under ttl0, reloads to ttl1 then ttl2 with margin: dcs
 * keeps its lease's TTL and takes the new margin at once, and its
 * deadline must not be clamped.
 */
static void
check_reloads(uint32_t ttl0, uint32_t ttl1, uint32_t ttl2, uint32_t margin)
{
	uint32_t	 hold_ttl;
	uint64_t	 until;

	hold_ttl = fence_hold_ttl(fence_hold_ttl(ttl0, ttl1), ttl2);
	CHECK(fence_hold_check(1000000, fence_hold_max(hold_ttl, margin),
	    dcs_deadline(1000000, ttl0, margin), &until) == HOLD_ACCEPT,
	    "lease ttl %u, reloads to %u, %u, margin %u: clamped", ttl0, ttl1,
	    ttl2, margin);
}

static void
test_reload(void)
{
	static const uint32_t	 ttls[] = { 1000, 1500, 2000, 5000, 9000 };
	static const uint32_t	 margins[] = { 250, 500, 800, 2000, 4000 };
	size_t			 a, b, c, d;

	CHECK(fence_hold_ttl(5000, 9000) == 9000, "a longer ttl at once");
	CHECK(fence_hold_ttl(9000, 5000) == 9000, "a shorter one waits");
	for (a = 0; a < 5; a++)
		for (b = 0; b < 5; b++)
			for (c = 0; c < 5; c++)
				for (d = 0; d < 5; d++)
					check_reloads(ttls[a], ttls[b],
					    ttls[c], margins[d]);
}

/*
 * After the parent's fence gen, only a deadline from a dcs that has read
 * IMSG_FENCED gen counts; ending holding always does.
 */
static void
test_gen(void)
{
	CHECK(fence_gen_current(0, 0, 5000), "no fence yet: counts");
	CHECK(!fence_gen_current(1, 0, 5000), "sent before fence 1: stale");
	CHECK(fence_gen_current(1, 1, 5000), "sent after fence 1: counts");
	CHECK(!fence_gen_current(7, 6, 5000), "one fence behind: stale");
	CHECK(!fence_gen_current(7, 8, 5000), "ahead of the parent: stale");
	CHECK(fence_gen_current(7, 6, 0), "ending holding: always counts");
	CHECK(fence_gen_current(0xffffffffu, 0xffffffffu, 1), "wrap: counts");
	CHECK(!fence_gen_current(0, 0xffffffffu, 1), "wrapped: stale");
}

int
main(void)
{
	test_max();
	test_check();
	test_reload();
	test_gen();
	if (check_failures != 0) {
		printf("%d failures\n", check_failures);
		return 1;
	}
	printf("test_fence: all passed\n");
	return 0;
}
