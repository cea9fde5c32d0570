/*
 * Rise/fall state per check and the overall AND.  Pure logic.
 */
#include <string.h>

#include "checker/health.h"

int
health_init(struct health *h, uint32_t n, const uint32_t *rise,
    const uint32_t *fall)
{
	uint32_t	 i;

	memset(h, 0, sizeof(*h));
	if (n == 0 || n > CFG_MAX_CHECKS)
		return -1;
	h->n = n;
	for (i = 0; i < n; i++) {
		h->c[i].rise = rise[i] ? rise[i] : 1;
		h->c[i].fall = fall[i] ? fall[i] : 1;
		h->c[i].reason = HR_STARTUP;
	}
	return 0;
}

int
health_all_up(const struct health *h)
{
	uint32_t	 i;

	for (i = 0; i < h->n; i++)
		if (!h->c[i].up)
			return 0;
	return h->n > 0;
}

/* Returns 1 if the damped state of the check changed. */
static int
check_feed(struct health_check *c, uint32_t reason, int32_t detail)
{
	if (c->results < UINT32_MAX)
		c->results++;
	if (reason == HR_OK) {
		c->fail_run = 0;
		if (c->ok_run < UINT32_MAX)
			c->ok_run++;
		if (!c->up && c->ok_run >= c->rise) {
			c->up = 1;
			c->reason = HR_OK;
			c->detail = 0;
			return 1;
		}
		return 0;
	}
	c->ok_run = 0;
	if (c->fail_run < UINT32_MAX)
		c->fail_run++;
	if (!c->up) {
		/* Already down: keep the freshest reason. */
		c->reason = reason;
		c->detail = detail;
		return 0;
	}
	if (c->fail_run >= c->fall) {
		c->up = 0;
		c->reason = reason;
		c->detail = detail;
		return 1;
	}
	return 0;
}

int
health_update(struct health *h, uint32_t i, uint32_t reason, int32_t detail,
    struct health_verdict *v)
{
	struct health_check	*c;
	uint32_t		 all_up;

	if (i >= h->n || reason >= HR_MAX || reason == HR_STARTUP)
		return -1;
	c = &h->c[i];
	check_feed(c, reason, detail);
	all_up = health_all_up(h);

	if (h->reported && all_up == h->healthy)
		return 0;
	/*
	 * Before the first verdict, "down" is only worth saying once a real
	 * failure has put a check down; until then we are starting up.
	 */
	if (!h->reported && !all_up && (reason == HR_OK || c->up))
		return 0;

	h->reported = 1;
	h->healthy = all_up;
	v->healthy = all_up;
	v->check = i;
	v->reason = all_up ? HR_OK : c->reason;
	v->detail = all_up ? 0 : c->detail;
	return 1;
}
