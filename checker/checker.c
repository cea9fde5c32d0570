/*
 * The checker child: runs the health checks in a chroot, without
 * privileges, and reports the node's health to the parent.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "child.h"
#include "log.h"
#include "privsep.h"
#include "proto.h"
#include "checker/checks.h"

void	checker_main(int, int) __attribute__((noreturn));

static struct child_cfg	 cfg;
static struct imsgev	 parent_iev;
static struct event_base *base;
static int		 running;

static void
report_health(const struct imsg_health *h, void *arg)
{
	(void)arg;
	if (imsgev_compose(&parent_iev, IMSG_HEALTH, 0, -1, h,
	    sizeof(*h)) == -1)
		fatal("%s: compose", __func__);
}

static void
request_exec(const struct imsg_exec_run *run, void *arg)
{
	(void)arg;
	if (imsgev_compose(&parent_iev, IMSG_EXEC_RUN, 0, -1, run,
	    sizeof(*run)) == -1)
		fatal("%s: compose", __func__);
}

/* New addresses for the checks' host names: the next runs use them. */
static void
checker_resolved(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_resolved	*m;
	struct check_conf	*c;
	uint32_t		 i;

	m = child_resolved_get(&cfg, iev, imsg);
	for (i = 0; i < m->n_checks; i++) {
		c = &cfg.active->checks[i];
		c->n_addr = m->check[i].n_addr;
		memcpy(c->addr, m->check[i].addr, sizeof(c->addr));
		memcpy(c->http_resolve, m->check[i].http_resolve,
		    sizeof(c->http_resolve));
	}
	if (running)
		checks_resolved(cfg.active);
	free(m);
}

static void
checker_dispatch(struct imsgev *iev, struct imsg *imsg, void *arg)
{
	static const struct checker_ops	 ops = {
		report_health, request_exec, NULL
	};
	struct imsg_exec_result		 res;

	(void)arg;
	switch (child_cfg_dispatch(&cfg, iev, imsg)) {
	case 1:
		if (running)
			checks_stop();
		if (checks_start(base, cfg.active, &cfg.blobs, &ops) == -1)
			fatalx("%s: cannot start the checks", __func__);
		running = 1;
		return;
	case 0:
		return;
	default:
		break;
	}
	switch (imsg->hdr.type) {
	case IMSG_RESOLVED:
		checker_resolved(iev, imsg);
		break;
	case IMSG_EXEC_RESULT:
		if (imsg_get_exact(iev, imsg, &res, sizeof(res)) == -1)
			fatalx("%s: bad IMSG_EXEC_RESULT", __func__);
		checks_exec_result(&res);
		break;
	default:
		fatalx("%s: unexpected %s from the parent", __func__,
		    imsg_type_name(imsg->hdr.type));
	}
}

void
checker_main(int debug, int verbose)
{
	base = child_setup("checker", debug, verbose);
	/* libcurl and OpenSSL read their files before the chroot. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("%s: curl_global_init", __func__);
	if (imsgev_init(&parent_iev, base, PRIVSEP_CHILD_FD, 0, "parent",
	    checker_dispatch, child_parent_eof, NULL) == -1)
		fatal("%s: imsgev_init", __func__);
	event_base_dispatch(base);
	fatalx("%s: event loop ended", __func__);
}
