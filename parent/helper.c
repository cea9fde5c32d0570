/*
 * Finding the child executables.  No environment variable or command
 * line option names them: a root daemon must not exec what its caller
 * chose.  They are where make install put them, or, for a yaimd that is
 * not the installed one (a build tree), beside the running yaimd.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parent/helper.h"

#ifndef YAIM_SBINDIR
#define YAIM_SBINDIR	"/usr/local/sbin"
#endif
#ifndef YAIM_LIBEXECDIR
#define YAIM_LIBEXECDIR	"/usr/local/libexec/yaim"
#endif

/* The directory the helpers are in, and who may own them. */
static int
helper_dir(char *dir, size_t len, uid_t *owner, char *err, size_t errlen)
{
	char		 self[PATH_MAX], inst[PATH_MAX], *slash;
	struct stat	 st;
	ssize_t		 n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1) {
		snprintf(err, errlen, "%s: /proc/self/exe: %s", __func__,
		    strerror(errno));
		return -1;
	}
	self[n] = '\0';
	if (stat("/proc/self/exe", &st) == -1) {
		snprintf(err, errlen, "%s: /proc/self/exe: %s", __func__,
		    strerror(errno));
		return -1;
	}
	*owner = st.st_uid;
	if (realpath(YAIM_SBINDIR "/yaimd", inst) != NULL &&
	    strcmp(inst, self) == 0) {
		snprintf(dir, len, "%s", YAIM_LIBEXECDIR);
		return 0;
	}
	if ((slash = strrchr(self, '/')) == NULL || slash == self) {
		snprintf(err, errlen, "%s: cannot tell the directory of %s",
		    __func__, self);
		return -1;
	}
	*slash = '\0';
	snprintf(dir, len, "%s", self);
	return 0;
}

/* Owned by root or owner, and not writable by group or others. */
static int
trusted(const char *path, const struct stat *st, uid_t owner, char *err,
    size_t errlen)
{
	if ((st->st_uid != 0 && st->st_uid != owner) ||
	    (st->st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "%s must be owned by root (or uid %u) "
		    "and not writable by group or others", path,
		    (unsigned int)owner);
		return -1;
	}
	return 0;
}

static int	open_in(const char *, const char *, uid_t, char *, size_t);

int
helper_open(const char *name, char *err, size_t errlen)
{
	char		 dir[PATH_MAX], rel[PATH_MAX + 32];
	uid_t		 owner;
	int		 fd;

	if (helper_dir(dir, sizeof(dir), &owner, err, errlen) == -1)
		return -1;
	if ((fd = open_in(dir, name, owner, err, errlen)) != -1 ||
	    errno != ENOENT || strcmp(dir, YAIM_LIBEXECDIR) == 0)
		return fd;
	/* installed under another PREFIX: PREFIX/sbin/../libexec/yaim */
	snprintf(rel, sizeof(rel), "%s/../libexec/yaim", dir);
	return open_in(rel, name, owner, err, errlen);
}

static int
open_in(const char *dir, const char *name, uid_t owner, char *err,
    size_t errlen)
{
	char		 path[PATH_MAX + 64];
	struct stat	 st;
	int		 fd;

	if (stat(dir, &st) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (trusted(dir, &st, owner, err, errlen) == -1) {
		errno = EPERM;
		return -1;
	}
	snprintf(path, sizeof(path), "%s/yaimd-%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		int	 saved = errno;

		snprintf(err, errlen, "%s: %s (yaimd needs its helper "
		    "executables; see FILES in yaimd(8))", path,
		    strerror(errno));
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    !(st.st_mode & S_IXUSR)) {
		snprintf(err, errlen, "%s is not an executable file", path);
		close(fd);
		errno = EPERM;
		return -1;
	}
	if (trusted(path, &st, owner, err, errlen) == -1) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}
