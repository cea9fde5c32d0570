/*
 * What the checker and dcs children share: start-up checks, signal
 * policy and config receipt.
 */
#ifndef YAIM_CHILD_H
#define YAIM_CHILD_H

#include "blob.h"
#include "config.h"
#include "imsg.h"

/* Config being received: IMSG_CFG_MAIN, IMSG_CFG_BLOB..., IMSG_CFG_DONE. */
struct child_cfg {
	struct yaim_config	*pending;
	struct yaim_blobs	 pending_blobs;
	struct yaim_config	*active;
	struct yaim_blobs	 blobs;
	int			 privs_dropped;
};

/* Logging, process title, fd 3 sanity, signals; returns the event base. */
struct event_base *child_setup(const char *name, int debug, int verbose);
/*
 * Handle the IMSG_CFG_* messages and IMSG_LOG_VERBOSE.  Returns 1 when
 * IMSG_CFG_DONE completed a config (now in cfg->active, privileges
 * dropped), 0 for the others, -1 if the message is none of them.
 */
int	child_cfg_dispatch(struct child_cfg *, struct imsgev *, struct imsg *);
/*
 * IMSG_RESOLVED, checked against the active config: the caller frees it.
 * A bad one is fatal, as any bad message from the parent.
 */
struct imsg_resolved *child_resolved_get(const struct child_cfg *,
	    struct imsgev *, struct imsg *);
/* The children's command line (-d, -v); anything else exits 1. */
void	child_args(const char *name, int argc, char *argv[], int *debug,
	    int *verbose);
/* EOF from the parent: it is gone, so are we. */
void	child_parent_eof(struct imsgev *, void *) __attribute__((noreturn));

#endif
