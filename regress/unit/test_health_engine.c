/*
 * The check engine's handling of untrusted exec answers (checks.c) and
 * the parent's refusal of exec requests that do not name an exec check of
 * its own config (parent/exec.c).  Timers only: no process is started.
 */
#include <sys/wait.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "proto.h"
#include "checker/checks.h"
#include "parent/exec.h"

#include "regress/unit/check.h"

static struct imsg_health	reports[16];
static int			nreports;
static struct imsg_exec_run	requests[CFG_MAX_CHECKS];
static int			nrequests[CFG_MAX_CHECKS];

static void
on_report(const struct imsg_health *h, void *arg)
{
	(void)arg;
	if (nreports < 16)
		reports[nreports] = *h;
	nreports++;
}

static void
on_request(const struct imsg_exec_run *r, void *arg)
{
	(void)arg;
	if (r->check < CFG_MAX_CHECKS) {
		requests[r->check] = *r;
		nrequests[r->check]++;
	}
}

/* Run the loop until check i has asked n times (bounded). */
static int
wait_requests(struct event_base *base, uint32_t i, int n)
{
	int	 k;

	for (k = 0; k < 200 && nrequests[i] < n; k++)
		event_base_loop(base, EVLOOP_ONCE);
	return nrequests[i] >= n;
}

static void
result(uint32_t check, uint32_t seq, uint32_t reason, int32_t detail,
    char fill)
{
	struct imsg_exec_result	 r;

	memset(&r, fill, sizeof(r));	/* output not NUL-terminated */
	r.check = check;
	r.seq = seq;
	r.reason = reason;
	r.detail = detail;
	checks_exec_result(&r);
}

static void
setup(struct yaim_config *conf)
{
	uint32_t	 i;

	memset(conf, 0, sizeof(*conf));
	conf->n_checks = 2;
	conf->interval_ms = 1000;
	for (i = 0; i < 2; i++) {
		conf->checks[i].kind = CHECK_EXEC;
		snprintf(conf->checks[i].name, sizeof(conf->checks[i].name),
		    "exec%u", i);
		conf->checks[i].rise = 1;
		conf->checks[i].fall = 1;
		conf->checks[i].timeout_ms = 1000;
	}
	conf->checks[0].interval_ms = 20;	/* asks again soon */
	conf->checks[1].interval_ms = 3600000;
}

static void
engine(void)
{
	static struct yaim_config	 conf;
	struct checker_ops		 ops = { on_report, on_request, NULL };
	struct event_base		*base = event_base_new();

	setup(&conf);
	CHECK(checks_start(base, &conf, NULL, &ops) == 0, "checks_start");
	CHECK(wait_requests(base, 0, 1) && wait_requests(base, 1, 1),
	    "no exec requests");

	result(5, requests[0].seq, HR_OK, 0, 'A');
	result(UINT32_MAX, requests[0].seq, HR_OK, 0, 'A');
	CHECK(nreports == 0, "a result for a bad index was taken");
	result(0, requests[0].seq + 1, HR_OK, 0, 'A');
	CHECK(nreports == 0, "a result with a wrong seq was taken");
	result(0, requests[0].seq, HR_OK, 0, 'A');
	CHECK(nreports == 0, "reported before every check had a result");
	result(0, requests[0].seq, HR_EXIT_STATUS, 1, 'A');
	CHECK(nreports == 0, "a replayed result was taken");
	result(1, requests[1].seq, HR_OK, 0, 'B');
	CHECK(nreports == 1 && reports[0].healthy == 1 &&
	    reports[0].reason == HR_OK, "no healthy report (%d)", nreports);
	CHECK(memchr(reports[0].text, '\0', sizeof(reports[0].text)) != NULL,
	    "report text not terminated");

	/* the next run of check 0: an invalid reason is a failure */
	CHECK(wait_requests(base, 0, 2), "check 0 did not run again");
	result(0, requests[0].seq, HR_MAX + 7, 0, 'C');
	CHECK(nreports == 2 && reports[1].healthy == 0 &&
	    reports[1].reason == HR_INTERNAL && reports[1].check == 0,
	    "invalid reason: %d reports", nreports);
	CHECK(wait_requests(base, 0, 3), "check 0 did not run again");
	result(0, requests[0].seq, HR_KILLED_TIMEOUT, 0, 'D');
	CHECK(nreports == 2, "a failure while down was reported again");
	CHECK(wait_requests(base, 0, 4), "check 0 did not run again");
	result(0, requests[0].seq, HR_OK, 0, 'E');
	CHECK(nreports == 3 && reports[2].healthy == 1 &&
	    strcmp(reports[2].text, "all 2 checks ok") == 0,
	    "recovery: %d reports, text \"%s\"", nreports, reports[2].text);

	checks_stop();
	result(0, requests[0].seq, HR_EXIT_STATUS, 1, 'F');
	CHECK(nreports == 3, "a result after checks_stop was taken");

	/* a restart starts from "unhealthy, no result yet" */
	memset(nrequests, 0, sizeof(nrequests));
	CHECK(checks_start(base, &conf, NULL, &ops) == 0, "restart");
	CHECK(wait_requests(base, 1, 1), "no request after restart");
	result(1, requests[1].seq, HR_EXIT_STATUS, 2, 'G');
	CHECK(nreports == 4 && reports[3].healthy == 0 &&
	    reports[3].reason == HR_EXIT_STATUS && reports[3].detail == 2 &&
	    strcmp(reports[3].text, "exec: exit status 2") == 0,
	    "after restart: %d reports, \"%s\"", nreports, reports[3].text);
	checks_stop();

	/* the parent never answers: the engine gives up after its slack */
	conf.n_checks = 1;
	conf.checks[0].timeout_ms = 10;
	conf.checks[0].interval_ms = 3600000;
	memset(nrequests, 0, sizeof(nrequests));
	nreports = 0;
	CHECK(checks_start(base, &conf, NULL, &ops) == 0, "start 3");
	CHECK(wait_requests(base, 0, 1), "no request");
	for (int k = 0; k < 100 && nreports == 0; k++)
		event_base_loop(base, EVLOOP_ONCE);
	CHECK(nreports == 1 && reports[0].healthy == 0 &&
	    reports[0].reason == HR_TIMEOUT && strcmp(reports[0].text,
	    "exec: no answer from the parent within 2010 ms") == 0,
	    "no answer: %d reports, \"%s\"", nreports, reports[0].text);
	result(0, requests[0].seq, HR_OK, 0, 'H');
	CHECK(nreports == 1, "a late answer was taken");
	checks_stop();
	event_base_free(base);
}

static struct imsg_exec_result	got;
static int			ngot;

static void
on_done(const struct imsg_exec_result *r, void *arg)
{
	(void)arg;
	got = *r;
	ngot++;
}

static void
parent_refusals(void)
{
	static struct yaim_config	 conf;
	struct imsg_exec_run		 run = { 0, 0 };
	struct event_base		*base = event_base_new();
	struct timespec			 t0, t1;

	setup(&conf);
	conf.checks[1].kind = CHECK_HTTP;	/* not an exec check */
	strcpy(conf.user, YAIM_DEFAULT_USER);
	if (getpwnam(YAIM_DEFAULT_USER "-exec") == NULL) {
		printf("parent part skipped: no user %s-exec "
		    "(regress/setup-user.sh creates it)\n", conf.user);
		event_base_free(base);
		return;
	}
	CHECK(exec_init(base, &conf) == 0, "exec_init");
	run.check = 1;
	run.seq = 42;
	exec_run(&run, on_done, NULL);
	CHECK(ngot == 1 && got.reason == HR_INTERNAL && got.seq == 42 &&
	    got.check == 1, "http check index was not refused");
	run.check = CFG_MAX_CHECKS + 3;
	exec_run(&run, on_done, NULL);
	CHECK(ngot == 2 && got.reason == HR_INTERNAL,
	    "out of range index was not refused");
	CHECK(exec_child_exited(1, 0) == 0, "pid 1 claimed as ours");
	conf.checks[0].exec_argc = 0;	/* no argv: refused too */
	CHECK(exec_init(base, &conf) == 0, "exec_init again");
	run.check = 0;
	exec_run(&run, on_done, NULL);
	CHECK(ngot == 3 && got.reason == HR_INTERNAL,
	    "exec check without argv was not refused");
	/*
	 * A reload while a command runs: the old one is killed and reaped
	 * without an answer, and the new config's run starts at once.
	 * Dropping to the user needs root.
	 */
	if (getuid() != 0) {
		printf("reload part skipped: not root\n");
		exec_shutdown();
		event_base_free(base);
		return;
	}
	conf.checks[0].exec_argc = 2;
	strcpy(conf.checks[0].exec_argv[0], "/bin/sleep");
	strcpy(conf.checks[0].exec_argv[1], "30");
	CHECK(exec_init(base, &conf) == 0, "exec_init sleep");
	run.check = 0;
	run.seq = 100;
	exec_run(&run, on_done, NULL);
	CHECK(ngot == 3, "sleep answered at once");
	conf.checks[0].exec_argc = 1;
	strcpy(conf.checks[0].exec_argv[0], "/bin/true");
	CHECK(exec_init(base, &conf) == 0, "exec_init reload");
	run.seq = 101;
	exec_run(&run, on_done, NULL);
	CHECK(ngot == 3, "the new run was refused after a reload");
	/* the killed sleep must not live on (just forked, no setsid yet) */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int k = 0; k < 2; k++) {
		int	 status;
		pid_t	 pid = waitpid(-1, &status, 0);

		CHECK(pid > 0 && exec_child_exited(pid, status) == 1,
		    "reaped pid %d is not ours", (int)pid);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec < 5, "the killed command lived on for "
	    "%ld s", (long)(t1.tv_sec - t0.tv_sec));
	CHECK(ngot == 4 && got.seq == 101 && got.reason == HR_OK,
	    "after reload: %d answers, seq %u reason %u", ngot, got.seq,
	    got.reason);

	strcpy(conf.user, "_yaimd_missing");
	CHECK(exec_init(base, &conf) == -1, "a missing exec user accepted");
	exec_shutdown();
	event_base_free(base);
}

int
main(void)
{
	log_init(1, 0);
	engine();
	parent_refusals();
	if (check_failures) {
		printf("%d failures\n", check_failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
