/*
 * tcp checks: a non-blocking connect to the resolved address must succeed
 * within the timeout (the engine enforces it).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "checker/checks_int.h"

struct tcp_run {
	int		 fd;
	struct event	*ev;
};

static void
tcp_cancel(struct check_run *r)
{
	struct tcp_run	*t = r->kstate;

	if (t == NULL)
		return;
	if (t->ev != NULL)
		event_free(t->ev);
	if (t->fd != -1)
		close(t->fd);
	free(t);
	r->kstate = NULL;
}

static void
tcp_finish(struct check_run *r, int err)
{
	tcp_cancel(r);
	if (err == 0)
		check_done(r, HR_OK, 0, "connected");
	else if (err == ECONNREFUSED)
		check_done(r, HR_REFUSED, 0, "connect refused");
	else
		check_done(r, HR_CONNECT, err, "connect: %s", strerror(err));
}

static void
tcp_writable(evutil_socket_t fd, short ev, void *arg)
{
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	(void)ev;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	tcp_finish(arg, err);
}

static int
tcp_sockaddr(const struct check_conf *c, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	const char		*a = c->tcp_addr[0] ? c->tcp_addr : c->tcp_host;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(c->tcp_port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(c->tcp_port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

static int
tcp_start(struct check_run *r)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct tcp_run		*t;

	if (tcp_sockaddr(&r->conf, &ss, &sslen) == -1) {
		log_warnx("%s: check %s: \"%s\" is not a resolved address",
		    __func__, r->conf.name, r->conf.tcp_addr);
		return -1;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	r->kstate = t;
	t->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (t->fd == -1) {
		tcp_finish(r, errno);
		return 0;
	}
	if (connect(t->fd, (struct sockaddr *)&ss, sslen) == 0) {
		tcp_finish(r, 0);
		return 0;
	}
	if (errno != EINPROGRESS) {
		tcp_finish(r, errno);
		return 0;
	}
	t->ev = event_new(r->base, t->fd, EV_WRITE, tcp_writable, r);
	if (t->ev == NULL || event_add(t->ev, NULL) == -1) {
		tcp_cancel(r);
		return -1;
	}
	return 0;
}

const struct check_kind_ops check_kind_tcp = {
	.name = "tcp",
	.start = tcp_start,
	.cancel = tcp_cancel
};
