/*
 * The control socket's file: made, checked and removed by the parent.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "parent/ctlsock.h"

/* What ctlsock_open made, so that only our own socket is removed. */
static struct {
	char	 path[CFG_SUN_PATH_MAX];
	dev_t	 dev;
	ino_t	 ino;
} made;

int
ctlsock_check_config(struct yaim_config *conf, char *err, size_t errlen)
{
	char		 where[CFG_WHERE_MAX];
	struct group	*gr;

	conf->control_gid = 0;
	if (conf->control_group[0] == '\0')
		return 0;
	errno = 0;
	if ((gr = getgrnam(conf->control_group)) == NULL) {
		snprintf(err, errlen, "%scontrol-group: \"%s\" is not a group",
		    config_where(conf, conf->control_group_pos, where,
		    sizeof(where)), conf->control_group);
		return -1;
	}
	conf->control_gid = (uint32_t)gr->gr_gid;
	return 0;
}

static int
sun_of(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -1;
	memcpy(sun->sun_path, path, strlen(path));
	return 0;
}

/*
 * Nothing there, or a socket nobody answers on (removed): 0.  A yaimd
 * answering, or something else in the way: -1 and why.
 */
static int
clear_stale(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd, r, saved;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "control socket %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "control socket %s: exists and is not "
		    "a socket", path);
		return -1;
	}
	if (sun_of(path, &sun) == -1 ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "control socket %s: %s", path,
		    strerror(errno));
		return -1;
	}
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	close(fd);
	if (r == 0) {
		snprintf(err, errlen, "control socket %s: another yaimd is "
		    "running there (use control-socket to run several)", path);
		return -1;
	}
	if (saved != ECONNREFUSED) {
		snprintf(err, errlen, "control socket %s: %s", path,
		    strerror(saved));
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "control socket %s: removing the stale "
		    "socket: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
open_error(int fd, const char *path, const char *what, char *err,
    size_t errlen)
{
	snprintf(err, errlen, "control socket %s: %s: %s", path, what,
	    strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

int
ctlsock_open(const struct yaim_config *conf, char *err, size_t errlen)
{
	const char		*path = conf->control_socket;
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 old;
	int			 fd, r;

	if (sun_of(path, &sun) == -1) {
		snprintf(err, errlen, "control socket %s: path too long", path);
		return -1;
	}
	if (clear_stale(path, err, errlen) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return open_error(-1, path, "socket", err, errlen);
	/* Born 0600: nobody else can connect before the chmod below. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r == -1)
		return open_error(fd, path, "bind", err, errlen);
	if (lstat(path, &st) == -1)
		return open_error(fd, path, "stat", err, errlen);
	snprintf(made.path, sizeof(made.path), "%s", path);
	made.dev = st.st_dev;
	made.ino = st.st_ino;
	if (conf->control_group[0] != '\0' &&
	    (chown(path, 0, (gid_t)conf->control_gid) == -1 ||
	    chmod(path, 0660) == -1)) {
		open_error(fd, path, "chown/chmod", err, errlen);
		ctlsock_unlink();
		return -1;
	}
	if (listen(fd, 16) == -1) {
		open_error(fd, path, "listen", err, errlen);
		ctlsock_unlink();
		return -1;
	}
	return fd;
}

void
ctlsock_unlink(void)
{
	struct stat	 st;

	if (made.path[0] == '\0')
		return;
	if (lstat(made.path, &st) == 0 && st.st_dev == made.dev &&
	    st.st_ino == made.ino)
		unlink(made.path);
	made.path[0] = '\0';
}
