/*
 * Privilege handling shared by the parent and the children.
 */
#ifndef YAIM_PRIVSEP_H
#define YAIM_PRIVSEP_H

#include <stddef.h>

#include "config.h"

#define PRIVSEP_CHILD_FD	3	/* the child's socket to the parent */

/* The chroot directory must be a root-owned directory that group and
 * others cannot write.  0 ok, -1 with err naming what to fix. */
int	privsep_check_chroot(const char *dir, char *err, size_t errlen);
/* Look up conf->user into conf->user_uid/gid.  -1 with err naming what
 * to create. */
int	privsep_lookup_user(struct yaim_config *, char *err, size_t errlen);
/* Children: chroot, become the user, drop every capability (bounding set
 * included), set no_new_privs.  Fatal on any failure. */
void	privsep_drop(const struct yaim_config *);
/* Parent: keep only the capabilities it needs after start-up. */
void	privsep_parent_trim(int keep_exec_caps);

void	proctitle_init(int argc, char **argv);
void	proctitle_set(const char *title);

#endif
