/*
 * The check engine: schedules every check on its own interval, bounds
 * each run by its timeout, feeds results to the rise/fall module and
 * reports the node's overall state.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "checker/checks.h"
#include "checker/checks_int.h"
#include "checker/health.h"

/* Extra time the parent gets beyond an exec check's own timeout. */
#define EXEC_ANSWER_SLACK_MS	2000

/* The check engine's state: one per checker process. */
static struct checks_state {
	int			 active;
	struct event_base	*base;
	struct checker_ops	 ops;
	uint32_t		 n;
	struct check_run	 runs[CFG_MAX_CHECKS];
	struct health		 health;
	char			 text[CFG_MAX_CHECKS][128];	/* last result */
} eng;

/* Never reset, so an answer from before a restart cannot match. */
static uint32_t	 run_seq;

static void	run_start(struct check_run *);

static const struct check_kind_ops check_kind_exec;

static const struct check_kind_ops *
kind_of(const struct check_run *r)
{
	switch (r->conf.kind) {
	case CHECK_HTTP:
		return &check_kind_http;
	case CHECK_TCP:
		return &check_kind_tcp;
	case CHECK_POSTGRES:
		return &check_kind_pg;
	case CHECK_EXEC:
		return &check_kind_exec;
	default:
		return NULL;
	}
}

uint32_t
check_elapsed_ms(const struct check_run *r)
{
	struct timespec	 now;
	int64_t		 ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)(now.tv_sec - r->started.tv_sec) * 1000 +
	    (now.tv_nsec - r->started.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (uint32_t)ms;
}

/* How long one run may take before the engine gives up on it. */
static uint32_t
run_budget_ms(const struct check_run *r)
{
	uint64_t	 t = r->conf.timeout_ms, n;

	switch (r->conf.kind) {
	case CHECK_EXEC:
		t += EXEC_ANSWER_SLACK_MS;
		break;
	case CHECK_POSTGRES:
		/* every attempt has its own timeout, pg.c enforces it */
		n = r->retry_num + 1;	/* attempts */
		t = n * (t + r->retry_after_ms) + 1000;
		break;
	}
	return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

static void
report_verdict(const struct health_verdict *v)
{
	struct imsg_health	 h;
	const struct check_run	*r = &eng.runs[v->check];

	memset(&h, 0, sizeof(h));
	h.healthy = v->healthy;
	h.reason = v->reason;
	h.detail = v->detail;
	h.check = v->check;
	if (v->healthy && eng.n > 1)
		snprintf(h.text, sizeof(h.text), "all %u checks ok", eng.n);
	else
		snprintf(h.text, sizeof(h.text), "%s", eng.text[v->check]);
	log_info("health: node %s (check %s: %s)",
	    h.healthy ? "healthy" : "unhealthy", r->conf.name, h.text);
	if (eng.ops.report != NULL)
		eng.ops.report(&h, eng.ops.arg);
}

static void
schedule_next(struct check_run *r)
{
	struct timeval	 tv;
	uint32_t	 el = check_elapsed_ms(r), wait;

	wait = el >= r->conf.interval_ms ? 0 : r->conf.interval_ms - el;
	tv = ms_to_tv(wait);
	evtimer_add(r->tick, &tv);
}

void
check_done(struct check_run *r, uint32_t reason, int32_t detail,
    const char *fmt, ...)
{
	struct health_verdict	 v;
	const struct check_kind_ops	*k = kind_of(r);
	char			 msg[100];
	va_list			 ap;

	if (!r->running)
		return;
	r->running = 0;
	r->kstate = NULL;
	evtimer_del(r->deadline);

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(eng.text[r->idx], sizeof(eng.text[r->idx]), "%s: %s",
	    k ? k->name : "check", msg);
	log_debug("check %s: %s (%u ms)", r->conf.name, eng.text[r->idx],
	    check_elapsed_ms(r));

	if (health_update(&eng.health, r->idx, reason, detail, &v) == 1)
		report_verdict(&v);
	/* report() may have stopped the engine */
	if (eng.active)
		schedule_next(r);
}

static void
run_deadline(evutil_socket_t fd, short ev, void *arg)
{
	struct check_run	*r = arg;
	const struct check_kind_ops	*k = kind_of(r);

	(void)fd;
	(void)ev;
	if (!r->running)
		return;
	if (k->cancel != NULL)
		k->cancel(r);
	r->kstate = NULL;
	if (r->conf.kind == CHECK_EXEC)
		check_done(r, HR_TIMEOUT, 0, "no answer from the parent "
		    "within %u ms", run_budget_ms(r));
	else
		check_done(r, HR_TIMEOUT, 0, "timeout after %u ms",
		    check_elapsed_ms(r));
}

static void
run_start(struct check_run *r)
{
	const struct check_kind_ops	*k = kind_of(r);
	struct timeval		 tv;

	if (r->running)
		return;
	r->running = 1;
	r->seq = ++run_seq;
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	tv = ms_to_tv(run_budget_ms(r));
	evtimer_add(r->deadline, &tv);
	if (k->start(r) == -1 && r->running)
		check_done(r, HR_INTERNAL, 0, "cannot start the check");
}

static void
run_tick(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	run_start(arg);
}

/* exec: the parent runs it; we only ask, by index, and wait. */
static int
exec_start(struct check_run *r)
{
	struct imsg_exec_run	 m;

	if (eng.ops.exec_request == NULL)
		return -1;
	memset(&m, 0, sizeof(m));
	m.check = r->idx;
	m.seq = r->seq;
	eng.ops.exec_request(&m, eng.ops.arg);
	return 0;
}

static const struct check_kind_ops check_kind_exec = {
	.name = "exec",
	.start = exec_start,
	.cancel = NULL
};

/* Keep printable bytes of the first output line, for the log. */
static void
output_line(const char *in, size_t inlen, char *out, size_t outlen)
{
	size_t	 i, o = 0;

	for (i = 0; i < inlen && in[i] != '\0' && in[i] != '\n' &&
	    o + 1 < outlen; i++)
		out[o++] = isprint((unsigned char)in[i]) ? in[i] : '?';
	out[o] = '\0';
}

void
checks_exec_result(const struct imsg_exec_result *res)
{
	struct check_run	*r;
	char			 out[sizeof(res->output)];

	if (!eng.active)
		return;
	if (res->check >= eng.n || eng.runs[res->check].conf.kind !=
	    CHECK_EXEC) {
		log_warnx("%s: result for check %u, which is not an exec "
		    "check", __func__, res->check);
		return;
	}
	r = &eng.runs[res->check];
	if (!r->running || res->seq != r->seq) {
		log_debug("%s: stale result for check %s (seq %u, want %u)",
		    __func__, r->conf.name, res->seq, r->running ? r->seq : 0);
		return;
	}
	output_line(res->output, sizeof(res->output), out, sizeof(out));
	if (out[0] != '\0')
		log_debug("check %s: output: %s", r->conf.name, out);
	switch (res->reason) {
	case HR_OK:
		check_done(r, HR_OK, 0, "exit status 0");
		break;
	case HR_EXIT_STATUS:
		check_done(r, HR_EXIT_STATUS, res->detail, "exit status %d",
		    res->detail);
		break;
	case HR_KILLED_TIMEOUT:
		check_done(r, HR_KILLED_TIMEOUT, 0, "killed by timeout "
		    "after %u ms", r->conf.timeout_ms);
		break;
	case HR_SIGNALED:
		check_done(r, HR_SIGNALED, res->detail, "killed by signal %d",
		    res->detail);
		break;
	case HR_INTERNAL:
		check_done(r, HR_INTERNAL, 0, "cannot run: %s", out);
		break;
	default:
		log_warnx("%s: check %s: invalid reason %u", __func__,
		    r->conf.name, res->reason);
		check_done(r, HR_INTERNAL, 0, "invalid answer from the parent");
		break;
	}
}

void
checks_resolved(const struct yaim_config *conf)
{
	struct check_conf	*c;
	uint32_t		 i;

	if (!eng.active || conf->n_checks != eng.n)
		return;
	/* a run in progress keeps its own copy of what it tries */
	for (i = 0; i < eng.n; i++) {
		c = &eng.runs[i].conf;
		c->n_addr = conf->checks[i].n_addr;
		memcpy(c->addr, conf->checks[i].addr, sizeof(c->addr));
		memcpy(c->http_resolve, conf->checks[i].http_resolve,
		    sizeof(c->http_resolve));
	}
}

static int
run_setup(struct check_run *r, uint32_t i, const struct yaim_config *conf,
    const struct yaim_blobs *blobs)
{
	const struct yaim_blob	*b;

	r->idx = i;
	r->conf = conf->checks[i];
	r->base = eng.base;
	r->retry_num = conf->retry_num;
	r->retry_after_ms = conf->retry_after_ms;
	if (r->conf.name[0] == '\0')
		snprintf(r->conf.name, sizeof(r->conf.name), "check#%u", i);
	if (r->conf.interval_ms == 0)
		r->conf.interval_ms = conf->interval_ms ? conf->interval_ms :
		    1000;
	if (r->conf.timeout_ms == 0)
		r->conf.timeout_ms = r->conf.interval_ms / 2 ?
		    r->conf.interval_ms / 2 : 1;
	if (kind_of(r) == NULL) {
		log_warnx("%s: check %s: unknown kind %u", __func__,
		    r->conf.name, r->conf.kind);
		return -1;
	}
	if (blobs != NULL &&
	    (b = blobs_find(blobs, BLOB_HTTP_CA, i)) != NULL) {
		if ((r->ca = malloc(b->len ? b->len : 1)) == NULL)
			return -1;
		memcpy(r->ca, b->data, b->len);
		r->ca_len = b->len;
	}
	r->tick = evtimer_new(eng.base, run_tick, r);
	r->deadline = evtimer_new(eng.base, run_deadline, r);
	if (r->tick == NULL || r->deadline == NULL)
		return -1;
	return 0;
}

int
checks_start(struct event_base *base, const struct yaim_config *conf,
    const struct yaim_blobs *blobs, const struct checker_ops *ops)
{
	uint32_t	 i, rise[CFG_MAX_CHECKS], fall[CFG_MAX_CHECKS];
	struct timeval	 now = { 0, 0 };

	if (eng.active)
		checks_stop();
	memset(&eng, 0, sizeof(eng));
	if (conf->n_checks == 0 || conf->n_checks > CFG_MAX_CHECKS) {
		log_warnx("%s: %u checks configured", __func__,
		    conf->n_checks);
		return -1;
	}
	eng.base = base;
	eng.ops = *ops;
	eng.n = conf->n_checks;
	eng.active = 1;
	if (http_engine_init(base) == -1)
		goto fail;
	for (i = 0; i < eng.n; i++) {
		if (run_setup(&eng.runs[i], i, conf, blobs) == -1)
			goto fail;
		rise[i] = eng.runs[i].conf.rise;
		fall[i] = eng.runs[i].conf.fall;
		snprintf(eng.text[i], sizeof(eng.text[i]), "%s: no result yet",
		    kind_of(&eng.runs[i])->name);
	}
	if (health_init(&eng.health, eng.n, rise, fall) == -1)
		goto fail;
	for (i = 0; i < eng.n; i++)
		evtimer_add(eng.runs[i].tick, &now);
	log_info("checks: %u started, node unhealthy until they pass",
	    eng.n);
	return 0;
fail:
	log_warnx("%s: cannot set up the checks", __func__);
	checks_stop();
	return -1;
}

void
checks_stop(void)
{
	struct check_run	*r;
	const struct check_kind_ops	*k;
	uint32_t		 i;

	if (!eng.active)
		return;
	for (i = 0; i < eng.n; i++) {
		r = &eng.runs[i];
		k = kind_of(r);
		if (r->running && k != NULL && k->cancel != NULL)
			k->cancel(r);
		r->running = 0;
		if (r->tick != NULL)
			event_free(r->tick);
		if (r->deadline != NULL)
			event_free(r->deadline);
		if (r->ca != NULL) {
			explicit_bzero(r->ca, r->ca_len);
			free(r->ca);
		}
		/* pg_password lives in the copy */
		explicit_bzero(&r->conf, sizeof(r->conf));
	}
	http_engine_free();
	memset(&eng, 0, sizeof(eng));
}
