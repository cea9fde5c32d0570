/*
 * sd_notify(3) in a few lines, so that yaimd runs as Type=notify without
 * linking libsystemd (DESIGN.md section 12).  The protocol is a datagram
 * of newline-separated VAR=value lines sent to the AF_UNIX socket named
 * by $NOTIFY_SOCKET; a name starting with '@' is in the abstract
 * namespace.  Nothing is sent when the variable is not set.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "parent/sdnotify.h"

static int	notify_fd = -1;

/*
 * Connect to $NOTIFY_SOCKET once, at start-up, and take the variable out
 * of the environment so that no child or exec check inherits it.
 * Returns 1 if a service manager is listening, 0 if there is none, -1 on
 * a bad or unreachable socket (logged; yaimd runs on without it).
 */
int
sdnotify_init(void)
{
	struct sockaddr_un	 sun;
	const char		*path = getenv("NOTIFY_SOCKET");
	socklen_t		 len;
	size_t			 n;

	if (path == NULL || *path == '\0')
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n < 2 ||
	    n >= sizeof(sun.sun_path)) {
		log_warnx("%s: ignoring NOTIFY_SOCKET \"%.64s\": not an "
		    "absolute path or an @abstract name that fits", __func__,
		    path);
		unsetenv("NOTIFY_SOCKET");
		return -1;
	}
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	/* an abstract name is exactly n bytes long, without a NUL */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (path[0] == '/'));
	if ((notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(notify_fd, (struct sockaddr *)&sun, len) == -1) {
		log_warn("%s: NOTIFY_SOCKET %s", __func__, path);
		sdnotify_close();
		unsetenv("NOTIFY_SOCKET");
		return -1;
	}
	unsetenv("NOTIFY_SOCKET");
	return 1;
}

/* Send one notification; a lost one is logged, never fatal. */
void
sdnotify(const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;
	int	 n;

	if (notify_fd == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;	/* a STATUS= line cut short */
	if (send(notify_fd, msg, (size_t)n, MSG_NOSIGNAL) == -1)
		log_warn("%s: send", __func__);
}

void
sdnotify_close(void)
{
	if (notify_fd != -1)
		close(notify_fd);
	notify_fd = -1;
}
