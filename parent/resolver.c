/*
 * The resolver helper (see resolver.h).  getaddrinfo may wait seconds
 * for a DNS server; the parent must not, since it alone removes
 * addresses when dcs says the lease is going.  So each round forks a
 * helper that drops every capability, resolves, writes one struct
 * resolve_round to a pipe and exits.  Its answer is checked like any
 * other untrusted input (it parsed DNS replies), then applied.
 */
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cap-ng.h>
#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "privsep.h"
#include "parent/resolve.h"
#include "parent/resolver.h"

static struct resolver_state {
	struct event_base	*base;
	struct yaim_config	**confp;
	void			(*changed)(void);
	void			(*wipe)(void);
	struct event		*period;
	struct event		*timeout;
	struct event		*readable;
	pid_t			 pid;		/* helper, or 0 */
	int			 fd;		/* its pipe, or -1 */
	struct resolve_round	*round;		/* being read */
	size_t			 got;
	struct timespec		 last_start;	/* CLOCK_MONOTONIC */
} rs = { .fd = -1 };

/* In the helper: no capability, nothing open but the pipe, then resolve. */
static void __attribute__((noreturn))
helper_main(int wfd, const struct yaim_config *conf)
{
	struct resolve_round	 round;
	const uint8_t		*b = (const uint8_t *)&round;
	sigset_t		 none;
	uid_t			 uid;
	gid_t			 gid;
	size_t			 off = 0;
	ssize_t			 n;

	/* a resolver bug must not find the parent's secrets in its memory */
	if (rs.wipe != NULL)
		rs.wipe();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(wfd, 3) == -1 || close_range(4, ~0U, 0) == -1 ||
	    chdir("/") == -1)
		_exit(2);
	/*
	 * The exec role's ids where the parent still may (it keeps
	 * CAP_SETUID only for exec checks); uid 0 without capabilities
	 * otherwise (DESIGN.md section 7, Host names).
	 */
	uid = conf->role_uid[PRIVSEP_ROLE_EXEC];
	gid = conf->role_gid[PRIVSEP_ROLE_EXEC];
	if (uid != 0 && setgroups(1, &gid) == 0 &&
	    setresgid(gid, gid, gid) == 0 && setresuid(uid, uid, uid) == -1) {
		/* no CAP_SETUID: uid 0, but without any capability below */
	}
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_apply(CAPNG_SELECT_CAPS) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		_exit(2);
	resolve_round_run(conf, &round);
	while (off < sizeof(round)) {
		if ((n = write(3, b + off, sizeof(round) - off)) == -1) {
			if (errno == EINTR)
				continue;
			_exit(3);
		}
		off += (size_t)n;
	}
	_exit(0);
}

/* End the round in flight (if any); the helper is reaped on SIGCHLD. */
static void
round_end(void)
{
	if (rs.readable != NULL)
		event_free(rs.readable);
	rs.readable = NULL;
	if (rs.fd != -1)
		close(rs.fd);
	rs.fd = -1;
	if (rs.timeout != NULL)
		evtimer_del(rs.timeout);
	free(rs.round);
	rs.round = NULL;
	rs.got = 0;
}

static void
round_kill(void)
{
	if (rs.pid > 0)
		kill(rs.pid, SIGKILL);
	round_end();
}

static void
round_done(void)
{
	struct yaim_config	*conf = *rs.confp;
	char			 err[128];

	if (resolve_round_valid(conf, rs.round, err, sizeof(err)) == -1) {
		log_warnx("%s: the resolver's answer is malformed (%s); "
		    "keeping the addresses", __func__, err);
		return;
	}
	if (resolve_round_apply(conf, rs.round) == 1 && rs.changed != NULL)
		rs.changed();
}

static void
helper_readable(evutil_socket_t fd, short ev, void *arg)
{
	ssize_t	 n;

	(void)ev;
	(void)arg;
	n = read(fd, (uint8_t *)rs.round + rs.got, sizeof(*rs.round) -
	    rs.got + 1);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0 && rs.got + (size_t)n <= sizeof(*rs.round)) {
		rs.got += (size_t)n;
		return;
	}
	if (n == 0 && rs.got == sizeof(*rs.round))
		round_done();
	else
		log_warnx("%s: the resolver helper ended with %zu bytes of "
		    "%zu; keeping the addresses", __func__, rs.got,
		    sizeof(*rs.round));
	round_end();
}

static void
helper_timeout(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	log_warnx("resolving the host names took more than %d ms; keeping "
	    "their addresses", RESOLVER_TIMEOUT_MS);
	round_kill();
}

static void
round_start(void)
{
	struct timeval	 tv = ms_to_tv(RESOLVER_TIMEOUT_MS);
	int		 p[2];

	if (rs.fd != -1 || rs.pid > 0)
		return;		/* one round at a time */
	clock_gettime(CLOCK_MONOTONIC, &rs.last_start);
	/* one byte more: helper_readable reads one past, to see excess */
	if ((rs.round = calloc(1, sizeof(*rs.round) + 1)) == NULL) {
		log_warn("%s", __func__);
		return;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("%s: pipe", __func__);
		round_end();
		return;
	}
	switch (rs.pid = fork()) {
	case -1:
		log_warn("%s: fork", __func__);
		rs.pid = 0;
		close(p[0]);
		close(p[1]);
		round_end();
		return;
	case 0:
		helper_main(p[1], *rs.confp);
	default:
		break;
	}
	close(p[1]);
	rs.fd = p[0];
	if (fcntl(rs.fd, F_SETFL, O_NONBLOCK) == -1 ||
	    (rs.readable = event_new(rs.base, rs.fd, EV_READ | EV_PERSIST,
	    helper_readable, NULL)) == NULL ||
	    event_add(rs.readable, NULL) == -1 ||
	    evtimer_add(rs.timeout, &tv) == -1) {
		log_warnx("%s: cannot wait for the resolver", __func__);
		round_kill();
	}
}

static void
period_arm(void)
{
	struct timeval	 tv = ms_to_tv((*rs.confp)->resolve_interval_ms);

	evtimer_add(rs.period, &tv);
}

static void
period_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	round_start();
	period_arm();
}

int
resolver_init(struct event_base *base, struct yaim_config **confp,
    void (*changed)(void), void (*wipe)(void))
{
	rs.base = base;
	rs.confp = confp;
	rs.changed = changed;
	rs.wipe = wipe;
	if ((rs.period = evtimer_new(base, period_cb, NULL)) == NULL ||
	    (rs.timeout = evtimer_new(base, helper_timeout, NULL)) == NULL)
		return -1;
	period_arm();
	return 0;
}

void
resolver_reconfigure(void)
{
	if (rs.period == NULL)
		return;
	round_kill();
	period_arm();
}

void
resolver_kick(void)
{
	struct timespec	 now;
	int64_t		 ms;

	if (rs.period == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)(now.tv_sec - rs.last_start.tv_sec) * 1000 +
	    (now.tv_nsec - rs.last_start.tv_nsec) / 1000000;
	if (rs.last_start.tv_sec != 0 && ms < RESOLVER_KICK_MIN_MS)
		return;
	round_start();
}

int
resolver_child_exited(pid_t pid, int status)
{
	if (rs.pid <= 0 || pid != rs.pid)
		return 0;
	rs.pid = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		log_debug("%s: resolver helper pid %d ended with status "
		    "0x%x", __func__, (int)pid, status);
	return 1;
}

void
resolver_shutdown(void)
{
	round_kill();
	if (rs.period != NULL)
		event_free(rs.period);
	if (rs.timeout != NULL)
		event_free(rs.timeout);
	rs.period = rs.timeout = NULL;
}
