/*
 * Privilege handling shared by the parent and the children.
 */
#ifndef YAIM_PRIVSEP_H
#define YAIM_PRIVSEP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define PRIVSEP_CHILD_FD	3	/* the child's socket to the parent */

/*
 * Each role has its own unprivileged user, "<user><suffix>" (DESIGN.md
 * section 11), so that no child can signal or trace another or an exec
 * command.  The suffixes keep the default names within useradd's 32.
 */
enum privsep_role {
	PRIVSEP_ROLE_CHECKER = 0,	/* _yaimd-checker */
	PRIVSEP_ROLE_DCS,		/* _yaimd-dcs */
	PRIVSEP_ROLE_EXEC,		/* _yaimd-exec */
	PRIVSEP_ROLES
};
#define PRIVSEP_USER_MAX	(CFG_NAME_MAX + 16)

/*
 * RLIMIT_DATA of each child after the drop (DESIGN.md section 11): dcs
 * holds a whole etcd reply (ETCD_MAX_REPLY) and its parse; the checker
 * at most one body per check.
 */
#define PRIVSEP_DATA_DCS	(384UL * 1024 * 1024)
#define PRIVSEP_DATA_CHECKER	(128UL * 1024 * 1024)

/* "<base><suffix>" of a role into buf (PRIVSEP_USER_MAX). */
void	privsep_role_user(const char *base, enum privsep_role, char *buf,
	    size_t len);
/* One role's uid and gid; -1 with err naming what to create. */
int	privsep_lookup_role(const struct yaim_config *, enum privsep_role,
	    uint32_t *uid, uint32_t *gid, char *err, size_t errlen);
/*
 * The executable of an exec check, as OpenSSH's safe_path(): path with
 * its symbolic links resolved (into resolved, PATH_MAX) must be a regular
 * file, and it and every directory up to / owned by root and not writable
 * by group or others.  0 ok, -1 with err naming the offending path.
 */
int	privsep_safe_path(const char *path, char *resolved, char *err,
	    size_t errlen);
/*
 * Files that hold secrets (DESIGN.md section 11): the config file when it
 * holds etcd_password or a postgres-password or names an etcd-key-file or
 * a peer-key-file, and the etcd-key-file itself, must be owned by root and neither readable nor
 * writable by group or others.  0 ok, -1 with err naming the file, what
 * is wrong and the fix.
 */
int	privsep_check_secret_files(const struct yaim_config *, char *err,
	    size_t errlen);
/* The parent: not dumpable, so no same-uid process can read its memory. */
void	privsep_parent_nodump(void);

/* The chroot directory must be a root-owned directory that group and
 * others cannot write.  0 ok, -1 with err naming what to fix. */
int	privsep_check_chroot(const char *dir, char *err, size_t errlen);
/*
 * Look up the three role users of conf->user into conf->role_uid/gid;
 * they must exist, differ from each other and not be root.  -1 with err
 * naming what to create.
 */
int	privsep_lookup_user(struct yaim_config *, char *err, size_t errlen);
/*
 * Children: chroot, become conf->user_uid/gid (the parent set its role's),
 * drop every capability (bounding set included), set no_new_privs, then
 * the resource limits of the role.  Fatal on any failure.
 */
void	privsep_drop(const struct yaim_config *);
/* Parent: keep only the capabilities it needs after start-up. */
void	privsep_parent_trim(int keep_exec_caps);

void	proctitle_init(int argc, char **argv);
void	proctitle_set(const char *title);

#endif
