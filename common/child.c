/*
 * Start-up and config receipt shared by the checker and dcs children.
 */
#include <sys/stat.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "child.h"
#include "log.h"
#include "privsep.h"
#include "proto.h"
#include "sandbox.h"

static enum sandbox_role	 child_role;

struct event_base *
child_setup(const char *name, int debug, int verbose)
{
	struct event_base	*base;
	struct stat		 st;
	char			 title[32];

	log_init(debug, LOG_DAEMON);
	log_setverbose(verbose);
	log_procinit(name);
	snprintf(title, sizeof(title), "yaimd: %s", name);
	proctitle_set(title);
	child_role = strcmp(name, "dcs") == 0 ? SANDBOX_DCS : SANDBOX_CHECKER;
	if (fstat(PRIVSEP_CHILD_FD, &st) == -1 || !S_ISSOCK(st.st_mode))
		fatalx("%s: the %s process is started by yaimd itself",
		    __func__, name);
	/*
	 * The parent orchestrates shutdown; a service manager's SIGTERM to
	 * the whole group must not make us leave before our addresses are
	 * gone.  We exit when the parent closes our socket.
	 */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		fatalx("%s: event_base_new", __func__);
	return base;
}

static void
cfg_main(struct child_cfg *cfg, struct imsgev *iev, struct imsg *imsg)
{
	if (cfg->pending == NULL &&
	    (cfg->pending = malloc(sizeof(*cfg->pending))) == NULL)
		fatal("%s", __func__);
	if (imsg_get_exact(iev, imsg, cfg->pending,
	    sizeof(*cfg->pending)) == -1)
		fatalx("%s: bad IMSG_CFG_MAIN", __func__);
	blobs_free(&cfg->pending_blobs);
}

static void
cfg_blob(struct child_cfg *cfg, struct imsg *imsg)
{
	struct imsg_blob_hdr	 hdr;

	if (cfg->pending == NULL)
		fatalx("%s: IMSG_CFG_BLOB before IMSG_CFG_MAIN", __func__);
	if (imsg->datalen < sizeof(hdr))
		fatalx("%s: IMSG_CFG_BLOB of %zu bytes is shorter than its "
		    "header", __func__, imsg->datalen);
	memcpy(&hdr, imsg->data, sizeof(hdr));
	if (hdr.len != imsg->datalen - sizeof(hdr) ||
	    hdr.kind < BLOB_ETCD_CA || hdr.kind > BLOB_PEER_KEY ||
	    hdr.index >= CFG_MAX_CHECKS)
		fatalx("%s: IMSG_CFG_BLOB header does not match (kind %u, "
		    "index %u, len %u of %zu)", __func__, hdr.kind, hdr.index,
		    hdr.len, imsg->datalen - sizeof(hdr));
	if (blobs_add(&cfg->pending_blobs, hdr.kind, hdr.index,
	    (const uint8_t *)imsg->data + sizeof(hdr), hdr.len) == -1)
		fatal("%s: blobs_add", __func__);
}

static void
cfg_done(struct child_cfg *cfg, struct imsgev *iev, struct imsg *imsg)
{
	if (imsg_get_exact(iev, imsg, NULL, 0) == -1)
		fatalx("%s: bad IMSG_CFG_DONE", __func__);
	if (cfg->pending == NULL)
		fatalx("%s: IMSG_CFG_DONE without IMSG_CFG_MAIN", __func__);
	if (!cfg->privs_dropped) {
		privsep_drop(cfg->pending);
		sandbox_enter(child_role);
		cfg->privs_dropped = 1;
		log_debug("%s: running as uid %u in %s", __func__,
		    (unsigned int)getuid(), cfg->pending->chroot);
	}
	if (cfg->active != NULL) {
		config_wipe(cfg->active);
		free(cfg->active);
	}
	blobs_free(&cfg->blobs);
	cfg->active = cfg->pending;
	cfg->blobs = cfg->pending_blobs;
	cfg->pending = NULL;
	memset(&cfg->pending_blobs, 0, sizeof(cfg->pending_blobs));
	/* the old config and libcurl's and OpenSSL's start-up are freed */
	heap_trim();
}

/* yaimctl log verbose|brief, through the parent. */
static void
log_verbose(struct imsgev *iev, struct imsg *imsg)
{
	struct ctl_log	 cl;

	if (imsg_get_exact(iev, imsg, &cl, sizeof(cl)) == -1 ||
	    cl.verbose > 1)
		fatalx("%s: bad IMSG_LOG_VERBOSE", __func__);
	log_setverbose((int)cl.verbose);
	log_info("log level now %s", cl.verbose ? "verbose" : "brief");
}

int
child_cfg_dispatch(struct child_cfg *cfg, struct imsgev *iev,
    struct imsg *imsg)
{
	switch (imsg->hdr.type) {
	case IMSG_CFG_MAIN:
		cfg_main(cfg, iev, imsg);
		return 0;
	case IMSG_CFG_BLOB:
		cfg_blob(cfg, imsg);
		return 0;
	case IMSG_CFG_DONE:
		cfg_done(cfg, iev, imsg);
		return 1;
	case IMSG_LOG_VERBOSE:
		log_verbose(iev, imsg);
		return 0;
	default:
		return -1;
	}
}

void
child_parent_eof(struct imsgev *iev, void *arg)
{
	(void)arg;
	log_info("parent closed the connection; exiting");
	imsgev_clear(iev);
	exit(0);
}

struct imsg_resolved *
child_resolved_get(const struct child_cfg *cfg, struct imsgev *iev,
    struct imsg *imsg)
{
	struct imsg_resolved	*m;
	char			 err[256];

	/* some 100 KB: not on the stack */
	if ((m = malloc(sizeof(*m))) == NULL)
		fatal("%s", __func__);
	if (imsg_get_exact(iev, imsg, m, sizeof(*m)) == -1)
		fatalx("%s: bad IMSG_RESOLVED size", __func__);
	if (cfg->active == NULL ||
	    imsg_resolved_check(m, cfg->active, err, sizeof(err)) == -1)
		fatalx("%s: bad IMSG_RESOLVED: %s", __func__,
		    cfg->active != NULL ? err : "before the config");
	return m;
}

/*
 * The command line of yaimd-checker and yaimd-dcs, which only the parent
 * starts (DESIGN.md section 1): -d and -v, as the parent got them.
 */
void
child_args(const char *name, int argc, char *argv[], int *debug,
    int *verbose)
{
	int	 ch;

	*debug = *verbose = 0;
	while ((ch = getopt(argc, argv, "dv")) != -1) {
		switch (ch) {
		case 'd':
			*debug = 1;
			break;
		case 'v':
			(*verbose)++;
			break;
		default:
			goto usage;
		}
	}
	if (optind == argc) {
		proctitle_init(argc, argv);
		return;
	}
usage:
	fprintf(stderr, "yaimd-%s is started by yaimd(8) only\n", name);
	exit(1);
}
