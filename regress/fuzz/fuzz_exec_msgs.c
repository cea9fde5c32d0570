/*
 * The exec messages between checker and parent: arbitrary
 * IMSG_EXEC_RUN payloads must only ever be refused by the parent unless
 * they name one of its own exec checks (none here can run), and arbitrary
 * IMSG_EXEC_RESULT payloads must never upset the checker's engine.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "proto.h"
#include "checker/checks.h"
#include "parent/exec.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct event_base	*base;
static struct yaim_config	 conf;

static void
on_report(const struct imsg_health *h, void *arg)
{
	(void)arg;
	if (h->healthy > 1 || h->reason >= HR_MAX || h->check >= conf.n_checks ||
	    memchr(h->text, '\0', sizeof(h->text)) == NULL)
		abort();
}

static void
on_request(const struct imsg_exec_run *r, void *arg)
{
	(void)arg;
	if (r->check >= conf.n_checks || conf.checks[r->check].kind !=
	    CHECK_EXEC)
		abort();
}

static void
on_done(const struct imsg_exec_result *res, void *arg)
{
	(void)arg;
	/* nothing here may run: every answer is a refusal */
	if (res->reason != HR_INTERNAL)
		abort();
}

static void
setup(void)
{
	static const struct checker_ops	 ops = { on_report, on_request, NULL };
	uint32_t			 i;

	log_init(1, 0);
	conf.n_checks = 4;
	conf.interval_ms = 1000;
	for (i = 0; i < conf.n_checks; i++) {
		conf.checks[i].kind = i == 2 ? CHECK_TCP : CHECK_EXEC;
		conf.checks[i].interval_ms = 1;
		conf.checks[i].timeout_ms = 1000;
		conf.checks[i].rise = 1 + i % 2;
		conf.checks[i].fall = 1;
	}
	conf.checks[2].n_addr = 1;
	yaim_addr_parse("127.0.0.1", &conf.checks[2].addr[0], 0);
	conf.checks[2].tcp_port = 9;
	conf.checks[2].interval_ms = 3600000;
	strcpy(conf.user, YAIM_DEFAULT_USER);
	base = event_base_new();
	(void)exec_init(base, &conf);	/* argc 0: nothing can run */
	if (checks_start(base, &conf, NULL, &ops) == -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct imsg_exec_run	 run;
	struct imsg_exec_result	 res;

	if (base == NULL)
		setup();
	event_base_loop(base, EVLOOP_NONBLOCK);
	while (len > 0) {
		if (data[0] & 1) {
			memset(&run, 0, sizeof(run));
			memcpy(&run, data + 1, len - 1 < sizeof(run) ?
			    len - 1 : sizeof(run));
			exec_run(&run, on_done, NULL);
		} else {
			memset(&res, 0, sizeof(res));
			memcpy(&res, data + 1, len - 1 < sizeof(res) ?
			    len - 1 : sizeof(res));
			/* small seq values are the ones in flight */
			res.seq %= 64;
			checks_exec_result(&res);
		}
		if (len <= 1 + sizeof(res))
			break;
		data += 1 + sizeof(res);
		len -= 1 + sizeof(res);
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
	return 0;
}
