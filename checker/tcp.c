/*
 * tcp checks: a non-blocking connect must succeed within the timeout
 * (the engine enforces it).  A host name may have several addresses:
 * they are tried in the order the parent resolved them (getaddrinfo's),
 * each but the last for its share of the time left, and a refusal moves
 * on at once.  The first that accepts makes the check pass.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "checker/checks_int.h"

struct tcp_run {
	int		 fd;
	struct event	*ev;
	struct event	*next;		/* this address's share is over */
	uint32_t	 cur;		/* index into addr[] */
	uint32_t	 n_addr;	/* copied: a new resolution may come */
	struct yaim_addr addr[CFG_MAX_RESOLVED];
};

static void	tcp_try(struct check_run *);

static void
tcp_close(struct tcp_run *t)
{
	if (t->ev != NULL)
		event_free(t->ev);
	t->ev = NULL;
	if (t->next != NULL)
		evtimer_del(t->next);
	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
}

static void
tcp_cancel(struct check_run *r)
{
	struct tcp_run	*t = r->kstate;

	if (t == NULL)
		return;
	tcp_close(t);
	if (t->next != NULL)
		event_free(t->next);
	free(t);
	r->kstate = NULL;
}

static const char *
tcp_addr_text(const struct tcp_run *t, char *buf, size_t len)
{
	return yaim_addr_ntop(&t->addr[t->cur], buf, len);
}

static void
tcp_finish(struct check_run *r, int err)
{
	struct tcp_run	*t = r->kstate;
	char		 a[YAIM_ADDRSTRLEN];

	if (err == 0)
		log_debug("check %s: %s port %u accepted", r->conf.name,
		    tcp_addr_text(t, a, sizeof(a)), r->conf.tcp_port);
	tcp_cancel(r);
	if (err == 0)
		check_done(r, HR_OK, 0, "connected");
	else if (err == ECONNREFUSED)
		check_done(r, HR_REFUSED, 0, "connect refused");
	else
		check_done(r, HR_CONNECT, err, "connect: %s", strerror(err));
}

/* This address failed with err: the next one, or the verdict. */
static void
tcp_failed(struct check_run *r, int err)
{
	struct tcp_run	*t = r->kstate;
	char		 a[YAIM_ADDRSTRLEN];

	if (t->cur + 1 >= t->n_addr) {
		tcp_finish(r, err);
		return;
	}
	log_debug("check %s: %s port %u: %s; trying the next address",
	    r->conf.name, tcp_addr_text(t, a, sizeof(a)), r->conf.tcp_port,
	    strerror(err));
	tcp_close(t);
	t->cur++;
	tcp_try(r);
}

static void
tcp_writable(evutil_socket_t fd, short ev, void *arg)
{
	struct check_run	*r = arg;
	int			 err = 0;
	socklen_t		 len = sizeof(err);

	(void)ev;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0)
		tcp_finish(r, 0);
	else
		tcp_failed(r, err);
}

static void
tcp_share_over(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	tcp_failed(arg, ETIMEDOUT);
}

static socklen_t
tcp_sockaddr(const struct yaim_addr *a, uint16_t port,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->af == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->addr, 4);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, a->addr, 16);
	return sizeof(*sin6);
}

/*
 * Every address but the last gets an equal share of the time left; the
 * last one runs until the engine's deadline ends the check.
 */
static void
tcp_arm_share(struct check_run *r)
{
	struct tcp_run	*t = r->kstate;
	uint32_t	 el = check_elapsed_ms(r), left;
	struct timeval	 tv;

	if (t->cur + 1 >= t->n_addr)
		return;
	left = el >= r->conf.timeout_ms ? 1 : r->conf.timeout_ms - el;
	tv = ms_to_tv(left / (t->n_addr - t->cur) + 1);
	evtimer_add(t->next, &tv);
}

static void
tcp_try(struct check_run *r)
{
	struct tcp_run		*t = r->kstate;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;

	sslen = tcp_sockaddr(&t->addr[t->cur], r->conf.tcp_port, &ss);
	t->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (t->fd == -1) {
		tcp_failed(r, errno);
		return;
	}
	if (connect(t->fd, (struct sockaddr *)&ss, sslen) == 0) {
		tcp_finish(r, 0);
		return;
	}
	if (errno != EINPROGRESS) {
		tcp_failed(r, errno);
		return;
	}
	t->ev = event_new(r->base, t->fd, EV_WRITE, tcp_writable, r);
	if (t->ev == NULL || event_add(t->ev, NULL) == -1) {
		tcp_cancel(r);
		check_done(r, HR_INTERNAL, 0, "cannot wait for the connect");
		return;
	}
	tcp_arm_share(r);
}

static int
tcp_start(struct check_run *r)
{
	struct tcp_run		*t;

	if (r->conf.n_addr == 0 || r->conf.n_addr > CFG_MAX_RESOLVED) {
		log_warnx("%s: check %s: \"%s\" has no resolved address",
		    __func__, r->conf.name, r->conf.tcp_host);
		return -1;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	t->fd = -1;
	t->n_addr = r->conf.n_addr;
	memcpy(t->addr, r->conf.addr, sizeof(t->addr));
	if ((t->next = evtimer_new(r->base, tcp_share_over, r)) == NULL) {
		free(t);
		return -1;
	}
	r->kstate = t;
	tcp_try(r);
	return 0;
}

const struct check_kind_ops check_kind_tcp = {
	.name = "tcp",
	.start = tcp_start,
	.cancel = tcp_cancel
};
