/*
 * Dropping privileges, following DESIGN.md section 1.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"

int
privsep_check_chroot(const char *dir, char *err, size_t errlen)
{
	struct stat	 st;

	if (stat(dir, &st) == -1) {
		snprintf(err, errlen, "chroot directory %s: %s; create it "
		    "with: install -d -o root -g root -m 0755 %s", dir,
		    strerror(errno), dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "chroot directory %s is not a "
		    "directory", dir);
		return -1;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "chroot directory %s must be owned by "
		    "root and not writable by group or others; fix it with: "
		    "chown root:root %s && chmod 0755 %s", dir, dir, dir);
		return -1;
	}
	return 0;
}

static const char *const role_suffix[PRIVSEP_ROLES] = {
	"-checker", "-dcs", "-exec"
};

void
privsep_role_user(const char *base, enum privsep_role role, char *buf,
    size_t len)
{
	snprintf(buf, len, "%s%s", base, role_suffix[role]);
}

int
privsep_lookup_role(const struct yaim_config *conf, enum privsep_role role,
    uint32_t *uid, uint32_t *gid, char *err, size_t errlen)
{
	struct passwd	*pw;
	char		 name[PRIVSEP_USER_MAX];

	privsep_role_user(conf->user, role, name, sizeof(name));
	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		snprintf(err, errlen, "user %s does not exist; create it "
		    "with: useradd --system --no-create-home --home-dir %s "
		    "--shell /usr/sbin/nologin --user-group %s", name,
		    conf->chroot, name);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, errlen, "user %s must not have uid or gid 0",
		    name);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int
privsep_lookup_user(struct yaim_config *conf, char *err, size_t errlen)
{
	char	 a[PRIVSEP_USER_MAX], b[PRIVSEP_USER_MAX];
	int	 i, j;

	for (i = 0; i < PRIVSEP_ROLES; i++)
		if (privsep_lookup_role(conf, i, &conf->role_uid[i],
		    &conf->role_gid[i], err, errlen) == -1)
			return -1;
	/* A shared uid would let one role signal or trace the other. */
	for (i = 0; i < PRIVSEP_ROLES; i++)
		for (j = i + 1; j < PRIVSEP_ROLES; j++)
			if (conf->role_uid[i] == conf->role_uid[j]) {
				privsep_role_user(conf->user, i, a, sizeof(a));
				privsep_role_user(conf->user, j, b, sizeof(b));
				snprintf(err, errlen, "users %s and %s share "
				    "uid %u; each must have its own", a, b,
				    conf->role_uid[i]);
				return -1;
			}
	return 0;
}

/* One component of an exec path: root's, and only root may write it. */
static int
safe_component(const char *path, const char *part, char *err,
    size_t errlen)
{
	struct stat	 st;

	if (stat(part, &st) == -1) {
		snprintf(err, errlen, "exec command %s: %s: %s", path, part,
		    strerror(errno));
		return -1;
	}
	if (st.st_uid != 0) {
		snprintf(err, errlen, "unsafe exec command %s: %s is owned "
		    "by uid %u, not root", path, part,
		    (unsigned int)st.st_uid);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "unsafe exec command %s: %s is "
		    "writable by group or others (mode %04o)", path, part,
		    (unsigned int)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

int
privsep_safe_path(const char *path, char *resolved, char *err,
    size_t errlen)
{
	char		 part[PATH_MAX], *slash;
	struct stat	 st;

	if (realpath(path, resolved) == NULL) {
		snprintf(err, errlen, "exec command %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (stat(resolved, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "exec command %s: %s is not a regular "
		    "file", path, resolved);
		return -1;
	}
	snprintf(part, sizeof(part), "%s", resolved);
	for (;;) {
		if (safe_component(path, part, err, errlen) == -1)
			return -1;
		if (strcmp(part, "/") == 0)
			return 0;
		if ((slash = strrchr(part, '/')) == part)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

/* One file that holds a secret: root's, and only root's to read. */
static int
secret_file_ok(const char *path, const char *why, char *err, size_t errlen)
{
	struct stat	 st;

	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_uid == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) == 0)
		return 0;
	snprintf(err, errlen, "%s %s, so it must be owned by root and "
	    "readable by root only, not uid %u with mode %04o; fix it with: "
	    "chown root %s && chmod go= %s", path, why,
	    (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777), path,
	    path);
	return -1;
}

int
privsep_check_secret_files(const struct yaim_config *conf, char *err,
    size_t errlen)
{
	const char	*why = NULL;
	uint32_t	 i;

	if (conf->etcd_password[0] != '\0')
		why = "holds etcd_password";
	else if (conf->etcd_key_file[0] != '\0')
		why = "names etcd-key-file";
	else if (conf->peer_key_file[0] != '\0')
		why = "names peer-key-file";
	for (i = 0; why == NULL && i < conf->n_checks; i++)
		if (conf->checks[i].pg_password[0] != '\0')
			why = "holds a postgres-password";
	if (why != NULL && conf->file[0] != '\0' &&
	    secret_file_ok(conf->file, why, err, errlen) == -1)
		return -1;
	if (conf->etcd_key_file[0] != '\0' && secret_file_ok(
	    conf->etcd_key_file, "is a private key", err, errlen) == -1)
		return -1;
	/* peer-key-file itself: peersock_check_key(), as it reads it */
	return 0;
}

#if defined(__SANITIZE_ADDRESS__)
#define PRIVSEP_SANITIZED	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PRIVSEP_SANITIZED	1
#endif
#endif

static void
set_limit(int resource, const char *name, rlim_t value)
{
	struct rlimit	 rl;

	rl.rlim_cur = rl.rlim_max = value;
	if (setrlimit(resource, &rl) == -1)
		fatal("%s: setrlimit %s %lu", __func__, name,
		    (unsigned long)value);
}

/*
 * After the drop, so that the limits bind an unprivileged process that
 * cannot raise them again.  NPROC 0: our uid runs nothing else, so no
 * fork or thread; FSIZE 0: no file grows, but with -d a stderr that is a
 * file is where we log; DATA: see PRIVSEP_DATA_*, except under
 * AddressSanitizer, whose shadow memory counts as data.
 */
static void
drop_limits(const struct yaim_config *conf)
{
	struct stat	 st;
	rlim_t		 data = PRIVSEP_DATA_CHECKER;

	if (conf->user_uid == conf->role_uid[PRIVSEP_ROLE_DCS])
		data = PRIVSEP_DATA_DCS;
	set_limit(RLIMIT_CORE, "RLIMIT_CORE", 0);
	set_limit(RLIMIT_NPROC, "RLIMIT_NPROC", 0);
	if (fstat(STDERR_FILENO, &st) == -1 || !S_ISREG(st.st_mode))
		set_limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", 0);
#ifndef PRIVSEP_SANITIZED
	set_limit(RLIMIT_DATA, "RLIMIT_DATA", data);
#else
	(void)data;
#endif
}

void
privsep_parent_nodump(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("%s: PR_SET_DUMPABLE", __func__);
}

void
privsep_drop(const struct yaim_config *conf)
{
	char	 err[512];
	gid_t	 gid = conf->user_gid;
	uid_t	 uid = conf->user_uid;

	if (uid == 0 || gid == 0)
		fatalx("%s: refusing to run as uid %u gid %u", __func__,
		    (unsigned int)uid, (unsigned int)gid);
	if (privsep_check_chroot(conf->chroot, err, sizeof(err)) == -1)
		fatalx("%s: %s", __func__, err);
	/*
	 * The bounding set goes first: dropping it needs CAP_SETPCAP, which
	 * setresuid() below takes away.
	 */
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_apply(CAPNG_SELECT_BOUNDS) != 0)
		fatalx("%s: cannot clear the capability bounding set",
		    __func__);
	if (chroot(conf->chroot) == -1)
		fatal("%s: chroot %s", __func__, conf->chroot);
	if (chdir("/") == -1)
		fatal("%s: chdir /", __func__);
	if (setgroups(1, &gid) == -1)
		fatal("%s: setgroups", __func__);
	if (setresgid(gid, gid, gid) == -1)
		fatal("%s: setresgid %u", __func__, (unsigned int)gid);
	if (setresuid(uid, uid, uid) == -1)
		fatal("%s: setresuid %u", __func__, (unsigned int)uid);
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_apply(CAPNG_SELECT_CAPS) != 0)
		fatalx("%s: cannot clear capabilities", __func__);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		fatal("%s: clear ambient capabilities", __func__);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_NO_NEW_PRIVS", __func__);
	/* Make sure the way back is closed. */
	if (setresuid(0, 0, 0) != -1 || geteuid() == 0)
		fatalx("%s: could still regain root", __func__);
	/* The uid change did this already; say it rather than rely on it. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("%s: PR_SET_DUMPABLE", __func__);
	drop_limits(conf);
}

void
privsep_parent_trim(int keep_exec_caps)
{
	int	 rc;

	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
	    CAPNG_BOUNDING_SET, CAP_NET_ADMIN, CAP_NET_RAW, -1) != 0)
		fatalx("%s: capng_updatev", __func__);
	/*
	 * exec checks run as the unprivileged user: switching to it needs
	 * SETUID/SETGID, and killing it on timeout needs KILL, because it
	 * then no longer shares our uid.
	 */
	if (keep_exec_caps && capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE |
	    CAPNG_PERMITTED | CAPNG_BOUNDING_SET, CAP_SETUID, CAP_SETGID,
	    CAP_KILL, -1) != 0)
		fatalx("%s: capng_updatev", __func__);
	if ((rc = capng_apply(CAPNG_SELECT_BOTH)) != 0)
		fatalx("%s: cannot trim capabilities (capng_apply: %d): "
		    "does the service manager withhold CAP_NET_ADMIN or "
		    "CAP_NET_RAW%s?", __func__, rc, keep_exec_caps ?
		    ", CAP_SETUID, CAP_SETGID or CAP_KILL" : "");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		fatal("%s: clear ambient capabilities", __func__);
}

static char	*title_base;
static size_t	 title_space;

/* Remember the contiguous argv area so ps(1) can show our role. */
void
proctitle_init(int argc, char **argv)
{
	int	 i;

	if (argc < 1 || argv[0] == NULL)
		return;
	title_base = argv[0];
	title_space = strlen(argv[0]) + 1;
	for (i = 1; i < argc; i++) {
		if (argv[i] != title_base + title_space)
			break;
		title_space += strlen(argv[i]) + 1;
	}
}

void
proctitle_set(const char *title)
{
	char	 comm[16];

	snprintf(comm, sizeof(comm), "%s", title);
	prctl(PR_SET_NAME, comm, 0, 0, 0);
	if (title_base == NULL || title_space < 2)
		return;
	memset(title_base, 0, title_space);
	snprintf(title_base, title_space, "%s", title);
}
