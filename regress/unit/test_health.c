/*
 * Exhaustive tests of the rise/fall module (checker/health.c) against an
 * independent model written over the whole result history: for one and
 * two checks, every rise/fall in 1..3 and every sequence of results up to
 * a length, the damped states and the reports must match the model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker/health.h"

#define MAXLEN	12

static int	failures;
static long	steps;

#define FAIL(...) do {							\
	if (failures++ < 20) {						\
		printf("FAIL %s:%d: ", __func__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

struct model_check {
	int	 hist[MAXLEN];	/* 1 = ok */
	int	 n;
	int	 up;
	uint32_t rise, fall;
};

/* The last k results exist and all equal want. */
static int
last_k_are(const struct model_check *m, uint32_t k, int want)
{
	int	 j;

	if ((int)k > m->n)
		return 0;
	for (j = m->n - (int)k; j < m->n; j++)
		if (m->hist[j] != want)
			return 0;
	return 1;
}

static void
model_feed(struct model_check *m, int ok)
{
	m->hist[m->n++] = ok;
	if (!m->up && last_k_are(m, m->rise, 1))
		m->up = 1;
	else if (m->up && last_k_are(m, m->fall, 0))
		m->up = 0;
}

/*
 * Run one sequence: seq[t] = (check << 1) | ok, reasons vary with t so
 * that the reported reason can be traced to the deciding result.
 */
static void
run_sequence(uint32_t nchecks, const uint32_t *rise, const uint32_t *fall,
    const int *seq, int len)
{
	struct health		 h;
	struct health_verdict	 v;
	struct model_check	 m[2];
	uint32_t		 i;
	int			 t, rc, ok, model_reported = 0, model_healthy = 0;
	int			 all_up, want_report;
	uint32_t		 reason;

	if (health_init(&h, nchecks, rise, fall) != 0) {
		FAIL("health_init");
		return;
	}
	memset(m, 0, sizeof(m));
	for (i = 0; i < nchecks; i++) {
		m[i].rise = rise[i];
		m[i].fall = fall[i];
	}
	for (t = 0; t < len; t++) {
		steps++;
		i = (uint32_t)(seq[t] >> 1);
		ok = seq[t] & 1;
		/* failures cycle through real reasons */
		reason = ok ? HR_OK : (uint32_t)(HR_TIMEOUT + t % 5);
		model_feed(&m[i], ok);
		all_up = 1;
		for (uint32_t k = 0; k < nchecks; k++)
			all_up &= m[k].up;
		if (model_reported)
			want_report = all_up != model_healthy;
		else
			want_report = all_up || (!ok && !m[i].up);
		memset(&v, 0xa5, sizeof(v));
		rc = health_update(&h, i, reason, (int32_t)t, &v);
		if (rc != want_report) {
			FAIL("n=%u step %d: report %d, model %d", nchecks, t,
			    rc, want_report);
			return;
		}
		for (uint32_t k = 0; k < nchecks; k++)
			if ((int)h.c[k].up != m[k].up) {
				FAIL("step %d check %u: up %u, model %d", t, k,
				    h.c[k].up, m[k].up);
				return;
			}
		if (health_all_up(&h) != all_up)
			FAIL("step %d: health_all_up", t);
		if (!want_report)
			continue;
		model_reported = 1;
		model_healthy = all_up;
		if ((int)v.healthy != all_up || v.check != i)
			FAIL("step %d: verdict healthy %u check %u", t,
			    v.healthy, v.check);
		if (all_up && (v.reason != HR_OK || v.detail != 0))
			FAIL("step %d: up with reason %u", t, v.reason);
		/* going down is decided by this very failure */
		if (!all_up && (v.reason != reason || v.detail != t))
			FAIL("step %d: down reason %u detail %d, want %u %d",
			    t, v.reason, v.detail, reason, t);
	}
}

static void
exhaustive(uint32_t nchecks, int len)
{
	uint32_t	 rise[2], fall[2];
	int		 seq[MAXLEN];
	long		 code, ncodes = 1, c;
	int		 t, sym = (int)nchecks * 2;

	for (t = 0; t < len; t++)
		ncodes *= sym;
	for (rise[0] = 1; rise[0] <= 3; rise[0]++)
	for (fall[0] = 1; fall[0] <= 3; fall[0]++)
	for (rise[1] = 1; rise[1] <= (nchecks > 1 ? 3u : 1u); rise[1]++)
	for (fall[1] = 1; fall[1] <= (nchecks > 1 ? 3u : 1u); fall[1]++)
	for (code = 0; code < ncodes; code++) {
		c = code;
		for (t = 0; t < len; t++) {
			seq[t] = (int)(c % sym);
			c /= sym;
		}
		run_sequence(nchecks, rise, fall, seq, len);
	}
}

/* Hand-written flapping cases with the exact transitions expected. */
static void
flapping(void)
{
	struct health		 h;
	struct health_verdict	 v;
	uint32_t		 rise = 2, fall = 3;
	/* o = ok, x = fail; expected: U = report up, D = report down */
	const char		*in   = "oxoxoxooxxoxxxoooxxxo";
	/*
	 * 1: first failure of a never-up check reports down at once;
	 * 7: two oks in a row; 13: third failure in a row; 15: rise again;
	 * 19: fall again.  Isolated failures and successes change nothing.
	 */
	const char		*want = ".D.....U.....D.U...D.";
	size_t			 t;
	char			 got[64];

	health_init(&h, 1, &rise, &fall);
	for (t = 0; in[t]; t++) {
		int rc = health_update(&h, 0, in[t] == 'o' ? HR_OK :
		    HR_STATUS, 503, &v);
		got[t] = rc == 1 ? (v.healthy ? 'U' : 'D') : '.';
	}
	got[t] = '\0';
	if (strcmp(got, want) != 0)
		FAIL("flapping: got %s want %s", got, want);
}

static void
bad_input(void)
{
	struct health		 h;
	struct health_verdict	 v;
	uint32_t		 r[CFG_MAX_CHECKS + 1] = { 0 };

	if (health_init(&h, 0, r, r) != -1)
		FAIL("n=0 accepted");
	if (health_init(&h, CFG_MAX_CHECKS + 1, r, r) != -1)
		FAIL("n too large accepted");
	if (health_init(&h, 2, r, r) != 0 || h.c[0].rise != 1 ||
	    h.c[1].fall != 1)
		FAIL("rise/fall 0 not taken as 1");
	if (health_update(&h, 2, HR_OK, 0, &v) != -1)
		FAIL("index 2 of 2 accepted");
	if (health_update(&h, 0, HR_MAX, 0, &v) != -1)
		FAIL("reason HR_MAX accepted");
	if (health_update(&h, 0, HR_STARTUP, 0, &v) != -1)
		FAIL("reason HR_STARTUP accepted as a result");
	if (h.c[0].reason != HR_STARTUP || health_all_up(&h))
		FAIL("startup state");
}

int
main(void)
{
	int	 len;

	bad_input();
	flapping();
	for (len = 1; len <= MAXLEN; len++)
		exhaustive(1, len);
	for (len = 1; len <= 7; len++)
		exhaustive(2, len);
	if (failures) {
		printf("%d failures\n", failures);
		return 1;
	}
	printf("ok: %ld steps\n", steps);
	return 0;
}
