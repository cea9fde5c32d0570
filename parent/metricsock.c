/*
 * metrics-listen, bound as root before the children start
 * (parent/metricsock.h).  The parent never accepts on it.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "parent/metricsock.h"

#define METRICS_BACKLOG	16

static int
fail(int fd, char *err, size_t errlen, const char *what, const char *where)
{
	int	 saved = errno;

	if (fd != -1)
		close(fd);
	snprintf(err, errlen, "metrics-listen %s: %s: %s", where, what,
	    strerror(saved));
	return -1;
}

int
metricsock_open(const struct yaim_config *conf, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	const struct yaim_addr	*a = &conf->metrics_addr;
	const char		*where = conf->metrics_listen;
	socklen_t		 len;
	int			 fd, on = 1;

	memset(&ss, 0, sizeof(ss));
	if (a->af == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(conf->metrics_port);
		memcpy(&sin->sin_addr, a->addr, 4);
		len = sizeof(*sin);
	} else if (a->af == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(conf->metrics_port);
		memcpy(&sin6->sin6_addr, a->addr, 16);
		len = sizeof(*sin6);
	} else {
		errno = EAFNOSUPPORT;
		return fail(-1, err, errlen, "no address", where);
	}
	fd = socket(a->af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return fail(-1, err, errlen, "socket", where);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		return fail(fd, err, errlen, "SO_REUSEADDR", where);
	if (a->af == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
	    &on, sizeof(on)) == -1)
		return fail(fd, err, errlen, "IPV6_V6ONLY", where);
	/* bound whether or not the address is configured yet */
	if ((a->af == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &on,
	    sizeof(on)) : setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &on,
	    sizeof(on))) == -1)
		return fail(fd, err, errlen, "FREEBIND", where);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1)
		return fail(fd, err, errlen, "cannot bind", where);
	if (listen(fd, METRICS_BACKLOG) == -1)
		return fail(fd, err, errlen, "cannot listen", where);
	return fd;
}
