/*
 * The privileged parent: parses the config, opens every privileged
 * resource, starts the checker and dcs children, and is the only process
 * that touches interface addresses.  It trusts neither child.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "blob.h"
#include "clock.h"
#include "config.h"
#include "imsg.h"
#include "log.h"
#include "privsep.h"
#include "proto.h"
#include "netif/netif.h"
#include "parent/ctlsock.h"
#include "parent/exec.h"
#include "parent/fence.h"
#include "parent/helper.h"
#include "parent/metricsock.h"
#include "parent/notify.h"
#include "parent/parent.h"
#include "parent/peersock.h"
#include "parent/resolve.h"
#include "parent/resolver.h"
#include "parent/sdnotify.h"

/* After a child's death, how long dcs gets to leave the cluster in order. */
#define CHILD_DEATH_LEAVE_MS	600

enum child_id {
	CHILD_CHECKER = 0,
	CHILD_DCS,
	CHILD_COUNT
};

struct child {
	const char	*name;
	int		 exefd;		/* yaimd-<name>, opened at start-up */
	pid_t		 pid;
	int		 running;
	struct imsgev	 iev;
};

/* The parent's state: one per process. */
static struct parent_state {
	const struct parent_opts *opts;
	struct event_base	*base;
	struct yaim_config	*conf;
	struct yaim_blobs	 blobs;
	struct child		 children[CHILD_COUNT];
	int			 shutting_down;
	int			 exit_code;	/* once shutting down */
	struct event		*shutdown_timer;
	struct event		*sig_ev[5];
	/* fencing: dcs's hold deadline (mono_ms, 0 = none) and its bound */
	uint64_t		 hold_until;
	uint64_t		 hold_max;
	uint32_t		 hold_ttl;	/* ttl_ms of dcs's lease, at most */
	uint32_t		 fence_gen;	/* our fences, for IMSG_FENCED */
	struct event		*hold_ev;
	int			 peer_fd;	/* until sent to dcs */
	struct imsg_peer_socket	 peer_info;
	int			 ctl_fd;	/* until sent to dcs */
	int			 metrics_fd;	/* until sent to dcs */
	struct imsg_stats	 stats;		/* for dcs's metrics */
	struct event		*stats_ev;
	int			 stats_pending;
	uint64_t		 stats_sent_ms;
	int			 netif_up;
	int			 health_known, healthy;	/* as relayed */
} p;

static void	parent_dispatch_checker(struct imsgev *, struct imsg *, void *);
static void	parent_dispatch_dcs(struct imsgev *, struct imsg *, void *);
static void	parent_child_eof(struct imsgev *, void *);
static void	parent_finish(int) __attribute__((noreturn));
static void	parent_shutdown(int, uint32_t);
static void	to_dcs(uint32_t, const void *, size_t);
static void	ctl_reload(void);
static void	ctl_log(struct imsgev *, struct imsg *);
static void	stats_changed(void);

/* Anything run as the exec user: exec checks or notify-command. */
static int
conf_has_exec(const struct yaim_config *conf)
{
	uint32_t	 i;

	if (conf->notify_argc > 0)
		return 1;
	for (i = 0; i < conf->n_checks; i++)
		if (conf->checks[i].kind == CHECK_EXEC)
			return 1;
	return 0;
}

/* Load, resolve and validate a config; err gets "file:line:col: ...". */
static struct yaim_config *
parent_load_config(const char *path, char *err, size_t errlen)
{
	struct yaim_config	*conf;

	if ((conf = calloc(1, sizeof(*conf))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", __func__);
		return NULL;
	}
	if (config_load(path, conf, err, errlen) == -1 ||
	    resolve_config(conf, err, errlen) == -1 ||
	    netif_check_config(conf, err, errlen) == -1 ||
	    ctlsock_check_config(conf, err, errlen) == -1) {
		config_wipe(conf);
		free(conf);
		return NULL;
	}
	return conf;
}

static void
free_config(struct yaim_config *conf)
{
	if (conf == NULL)
		return;
	config_wipe(conf);
	explicit_bzero(conf, sizeof(*conf));
	free(conf);
}

/* Exec the child's executable through the fd opened at start-up. */
static void
start_child(struct child *c)
{
	char		*argv[8];
	char		*envp[4];
	char		 title[32];
	const char	*keep[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS",
			    "LSAN_OPTIONS" };
	int		 sp[2], argc = 0, envc = 0, sock, exe;
	size_t		 i;
	sigset_t	 none;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("%s: socketpair", __func__);
	switch (c->pid = fork()) {
	case -1:
		fatal("%s: fork", __func__);
	case 0:
		break;
	default:
		close(sp[1]);
		c->running = 1;
		if (imsgev_init(&c->iev, p.base, sp[0], 0, c->name,
		    c == &p.children[CHILD_CHECKER] ? parent_dispatch_checker :
		    parent_dispatch_dcs, parent_child_eof, c) == -1)
			fatal("%s: imsgev_init", __func__);
		return;
	}

	/* child */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Lift both fds clear of 3 and 4 first, so neither dup2 clobbers
	 * the other. */
	sock = fcntl(sp[1], F_DUPFD, 10);
	exe = fcntl(c->exefd, F_DUPFD, 10);
	if (sock == -1 || exe == -1 || dup2(sock, PRIVSEP_CHILD_FD) == -1 ||
	    dup2(exe, 4) == -1)
		_exit(127);
	if (syscall(SYS_close_range, 5U, ~0U, 0U) == -1) {
		for (i = 5; i < 1024; i++)
			close((int)i);
	}
	fcntl(4, F_SETFD, FD_CLOEXEC);
	snprintf(title, sizeof(title), "yaimd: %s", c->name);
	argv[argc++] = title;
	if (p.opts->debug)
		argv[argc++] = (char *)"-d";
	if (p.opts->verbose > 0)
		argv[argc++] = (char *)(p.opts->verbose > 1 ? "-vv" : "-v");
	argv[argc] = NULL;
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		static char	 buf[3][512];
		const char	*v = getenv(keep[i]);

		if (v != NULL) {
			snprintf(buf[i], sizeof(buf[i]), "%s=%s", keep[i], v);
			envp[envc++] = buf[i];
		}
	}
	envp[envc] = NULL;
	syscall(SYS_execveat, 4, "", argv, envp, AT_EMPTY_PATH);
	fprintf(stderr, "yaimd: cannot exec the %s child: %s\n", c->name,
	    strerror(errno));
	_exit(127);
}

static void
send_blob(struct child *c, const struct yaim_blob *b)
{
	struct imsg_blob_hdr	 hdr;
	uint8_t			*buf;

	memset(&hdr, 0, sizeof(hdr));
	hdr.kind = b->kind;
	hdr.index = b->index;
	hdr.len = (uint32_t)b->len;
	if ((buf = malloc(sizeof(hdr) + b->len)) == NULL)
		fatal("%s", __func__);
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), b->data, b->len);
	if (imsgev_compose(&c->iev, IMSG_CFG_BLOB, 0, -1, buf,
	    sizeof(hdr) + b->len) == -1)
		fatal("%s: compose", __func__);
	explicit_bzero(buf, sizeof(hdr) + b->len);
	free(buf);
}

/* Each child gets the config with the secrets it does not need wiped. */
static void
send_config(struct child *c)
{
	struct yaim_config	*copy;
	size_t			 i;
	int			 for_dcs = c == &p.children[CHILD_DCS];

	if ((copy = malloc(sizeof(*copy))) == NULL)
		fatal("%s", __func__);
	memcpy(copy, p.conf, sizeof(*copy));
	config_scrub_for(copy, c->name);
	/* the identity the child drops to: its role's own */
	copy->user_uid = p.conf->role_uid[for_dcs ? PRIVSEP_ROLE_DCS :
	    PRIVSEP_ROLE_CHECKER];
	copy->user_gid = p.conf->role_gid[for_dcs ? PRIVSEP_ROLE_DCS :
	    PRIVSEP_ROLE_CHECKER];
	if (imsgev_compose(&c->iev, IMSG_CFG_MAIN, 0, -1, copy,
	    sizeof(*copy)) == -1)
		fatal("%s: compose", __func__);
	config_wipe(copy);
	explicit_bzero(copy, sizeof(*copy));
	free(copy);
	for (i = 0; i < p.blobs.n; i++) {
		int	 etcd = p.blobs.v[i].kind != BLOB_HTTP_CA;

		if (etcd == for_dcs)
			send_blob(c, &p.blobs.v[i]);
	}
	if (imsgev_compose(&c->iev, IMSG_CFG_DONE, 0, -1, NULL, 0) == -1)
		fatal("%s: compose", __func__);
}

static void
describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		snprintf(buf, len, "was killed by SIGSYS (seccomp: a system "
		    "call outside its allow-list)");
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "stopped with status 0x%x", status);
}

/*
 * A child is gone outside a shutdown: drop every address and exit 1.
 * With dcs still alive, it leaves in order (addresses down, lease
 * revoked), so the others take over at once instead of after the TTL;
 * within CHILD_DEATH_LEAVE_MS, so that we are gone within a second.
 */
static void
child_died(struct child *c, int status, int have_status)
{
	struct child	*dcs = &p.children[CHILD_DCS];
	char		 how[96];

	if (have_status)
		describe_status(status, how, sizeof(how));
	else
		snprintf(how, sizeof(how), "closed its connection");
	log_warnx("%s child (pid %d) %s; removing all addresses and exiting",
	    c->name, (int)c->pid, how);
	c->running = 0;
	if (c != dcs && dcs->running && dcs->iev.rbuf != NULL &&
	    !p.shutting_down) {
		parent_shutdown(1, CHILD_DEATH_LEAVE_MS);
		return;
	}
	parent_finish(1);
}

/* dcs must confirm the release before it exits; anything else is a failure. */
static void
dcs_gone_while_leaving(int status)
{
	char	 how[96];

	describe_status(status, how, sizeof(how));
	log_warnx("dcs child (pid %d) %s while leaving the cluster",
	    (int)p.children[CHILD_DCS].pid, how);
	parent_finish(1);
}

/*
 * The next child that has ended, still a zombie: an exec command's
 * process group is killed while its leader's pid cannot be reused, so
 * that nothing it left behind outlives the check.  Then reaped.
 */
static pid_t
reap_one(int *status)
{
	siginfo_t	 si;
	pid_t		 pid;

	memset(&si, 0, sizeof(si));
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1 ||
	    si.si_pid == 0)
		return 0;
	exec_child_ending(si.si_pid);
	while ((pid = waitpid(si.si_pid, status, 0)) == -1 && errno == EINTR)
		;
	return pid;
}

static void
reap_children(void)
{
	pid_t	 pid;
	int	 status, i;

	while ((pid = reap_one(&status)) > 0) {
		for (i = 0; i < CHILD_COUNT; i++) {
			struct child	*c = &p.children[i];

			if (c->pid != pid)
				continue;
			c->running = 0;
			if (!p.shutting_down)
				child_died(c, status, 1);
			else if (c == &p.children[CHILD_DCS])
				dcs_gone_while_leaving(status);
			break;
		}
		if (i == CHILD_COUNT && !exec_child_exited(pid, status) &&
		    !resolver_child_exited(pid, status))
			log_debug("%s: reaped unknown pid %d", __func__,
			    (int)pid);
	}
}

static void
parent_child_eof(struct imsgev *iev, void *arg)
{
	struct child	*c = arg;
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	int		 status, i;

	imsgev_clear(iev);
	if (p.shutting_down)
		return;
	/* The child is exiting; wait briefly to report how. */
	for (i = 0; i < 20; i++) {
		if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
			child_died(c, status, 1);
			return;
		}
		nanosleep(&ts, NULL);
	}
	child_died(c, 0, 0);
}

static void
exec_done(const struct imsg_exec_result *res, void *arg)
{
	struct child	*c = arg;

	if (!c->running || c->iev.rbuf == NULL)
		return;
	if (imsgev_compose(&c->iev, IMSG_EXEC_RESULT, 0, -1, res,
	    sizeof(*res)) == -1)
		fatal("%s: compose", __func__);
}

/* A health report from the checker is checked, then relayed to dcs. */
static void
relay_health(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_health	 h;

	if (imsg_get_exact(iev, imsg, &h, sizeof(h)) == -1)
		fatalx("%s: bad IMSG_HEALTH from checker", __func__);
	if (h.healthy > 1 || h.reason >= HR_MAX ||
	    h.check >= p.conf->n_checks ||
	    memchr(h.text, '\0', sizeof(h.text)) == NULL)
		fatalx("%s: checker sent an IMSG_HEALTH with fields out of "
		    "range (healthy %u, reason %u, check %u)", __func__,
		    h.healthy, h.reason, h.check);
	if (p.children[CHILD_DCS].running &&
	    imsgev_compose(&p.children[CHILD_DCS].iev, IMSG_HEALTH, 0, -1,
	    &h, sizeof(h)) == -1)
		fatal("%s: compose", __func__);
	if (!p.health_known || (int)h.healthy != p.healthy) {
		p.health_known = 1;
		p.healthy = (int)h.healthy;
		p.stats.health_known = 1;
		p.stats.healthy = h.healthy;
		p.stats.health_transitions++;
		stats_changed();
		notify_event(h.healthy ? NOTIFY_HEALTHY : NOTIFY_UNHEALTHY,
		    NULL);
	}
	/* the service may have moved to another address */
	if (!h.healthy)
		resolver_kick();
}

/* In the resolver helper: it needs host names, not passwords or keys. */
static void
resolver_wipe(void)
{
	config_wipe(p.conf);
	blobs_free(&p.blobs);
}

/* The resolver changed addresses in p.conf: both children follow. */
static void
resolved_changed(void)
{
	struct imsg_resolved	*m;
	int			 i;

	if ((m = malloc(sizeof(*m))) == NULL)
		fatal("%s", __func__);
	resolve_to_imsg(p.conf, m);
	for (i = 0; i < CHILD_COUNT; i++) {
		struct child	*c = &p.children[i];

		if (c->running && c->iev.rbuf != NULL &&
		    imsgev_compose(&c->iev, IMSG_RESOLVED, 0, -1, m,
		    sizeof(*m)) == -1)
			fatal("%s: compose", __func__);
	}
	free(m);
}

static void
parent_dispatch_checker(struct imsgev *iev, struct imsg *imsg, void *arg)
{
	struct imsg_exec_run	 run;

	switch (imsg->hdr.type) {
	case IMSG_HEALTH:
		relay_health(iev, imsg);
		break;
	case IMSG_EXEC_RUN:
		if (imsg_get_exact(iev, imsg, &run, sizeof(run)) == -1)
			fatalx("%s: bad IMSG_EXEC_RUN from checker", __func__);
		exec_run(&run, exec_done, arg);
		break;
	default:
		fatalx("%s: unexpected %s from checker", __func__,
		    imsg_type_name(imsg->hdr.type));
	}
}

/*
 * Fencing enforced here (DESIGN.md section 5): dcs tells us until when it
 * may hold addresses, and we drop every one when that passes without a
 * newer deadline, whether dcs is frozen, compromised or just slow.
 */
static void
hold_end(const char *why, int ours)
{
	struct imsg_fenced	 fe;
	size_t			 n = netif_held_count();

	p.hold_until = 0;
	evtimer_del(p.hold_ev);
	/* dcs's next lease has the configured TTL */
	p.hold_ttl = p.conf->ttl_ms;
	p.hold_max = fence_hold_max(p.hold_ttl, p.conf->fence_margin_ms);
	if (n == 0)
		return;
	log_warnx("fencing: %s; dropping %zu addresses", why, n);
	notify_event(NOTIFY_FENCE, NULL);
	p.stats.fences++;
	stats_changed();
	/* dcs hears ADDR_DOWN for each, so its view stays in step. */
	netif_sync(NULL, 0);
	if (!ours)
		return;
	/*
	 * What dcs sent before it reads the ADDR_DOWNs was decided with
	 * those addresses up: nothing counts until it echoes this fence in
	 * a new deadline (fence_gen_current).
	 */
	memset(&fe, 0, sizeof(fe));
	fe.gen = ++p.fence_gen;
	to_dcs(IMSG_FENCED, &fe, sizeof(fe));
}

static void
hold_timeout(int fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	hold_end("dcs gave no new hold deadline", 1);
}

/* May dcs hold addresses now?  Ends holding if the timer is late. */
static int
hold_allowed(void)
{
	if (p.hold_until != 0 && mono_ms() >= p.hold_until)
		hold_end("dcs gave no new hold deadline", 1);
	return p.hold_until != 0;
}

/* The same without side effects, for netif before it re-adds. */
static int
hold_in_force(void *arg)
{
	(void)arg;
	return p.hold_until != 0 && mono_ms() < p.hold_until;
}

static void
handle_hold_until(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_hold_until	 hu;
	struct timeval		 tv;
	uint64_t		 now, until;

	if (imsg_get_exact(iev, imsg, &hu, sizeof(hu)) == -1 || hu.pad != 0)
		fatalx("%s: bad IMSG_HOLD_UNTIL from dcs", __func__);
	if (!fence_gen_current(p.fence_gen, hu.fence_gen, hu.until_ms)) {
		log_info("fencing: ignoring a hold deadline dcs sent before "
		    "it read of fence %" PRIu32 " (it had read %" PRIu32 ")",
		    p.fence_gen, hu.fence_gen);
		return;
	}
	now = mono_ms();
	switch (fence_hold_check(now, p.hold_max, hu.until_ms, &until)) {
	case HOLD_END:
		log_debug("%s: dcs ends holding (deadline %" PRIu64 ", now %"
		    PRIu64 ")", __func__, hu.until_ms, now);
		if (hu.until_ms == 0)
			hold_end("dcs ended holding", 0);
		else
			hold_end("dcs sent a hold deadline already past", 1);
		return;
	case HOLD_CLAMP:
		log_warnx("%s: dcs asked to hold addresses for %" PRIu64 " ms, "
		    "longer than ttl and fence-margin allow (%" PRIu64 " ms); "
		    "holding them at most that long", __func__,
		    hu.until_ms - now, p.hold_max);
		break;
	case HOLD_ACCEPT:
		break;
	}
	log_debug("%s: dcs may hold addresses for %" PRIu64 " ms", __func__,
	    until - now);
	p.hold_until = until;
	tv = ms_to_tv(until - now);
	if (evtimer_add(p.hold_ev, &tv) == -1)
		fatalx("%s: evtimer_add", __func__);
}

/* Tell dcs an address it asked for is down: it may not hold it now. */
static void
hold_refuse(const struct yaim_addr *a, size_t n, const char *what)
{
	struct imsg_addr_state	 st;
	char			 buf[YAIM_ADDRSTRLEN];
	size_t			 i;

	log_warnx("fencing: dcs sent %s for %s%s with no hold deadline in "
	    "force; answering that it is down", what,
	    yaim_addr_ntop(&a[0], buf, sizeof(buf)), n > 1 ? " and others" :
	    "");
	for (i = 0; i < n; i++) {
		memset(&st, 0, sizeof(st));
		st.addr = a[i];
		st.state = ADDR_DOWN;
		st.refusal = AR_NONE;
		to_dcs(IMSG_ADDR_STATE, &st, sizeof(st));
	}
}

static void
handle_addr_sync(struct imsgev *iev, struct imsg *imsg)
{
	struct yaim_addr	*set = NULL;
	size_t			 n;

	(void)iev;
	if (imsg->datalen % sizeof(struct yaim_addr) != 0 ||
	    imsg->datalen / sizeof(struct yaim_addr) > IMSG_ADDR_SYNC_MAX)
		fatalx("%s: dcs sent IMSG_ADDR_SYNC with %zu bytes, not a "
		    "multiple of %zu up to %d addresses", __func__,
		    imsg->datalen, sizeof(struct yaim_addr),
		    IMSG_ADDR_SYNC_MAX);
	n = imsg->datalen / sizeof(struct yaim_addr);
	if (n > 0) {
		if ((set = calloc(n, sizeof(*set))) == NULL)
			fatal("%s", __func__);
		memcpy(set, imsg->data, imsg->datalen);
	}
	if (n > 0 && !hold_allowed()) {
		hold_refuse(set, n, "IMSG_ADDR_SYNC");
		n = 0;
	}
	netif_sync(set, n);
	free(set);
}

static void
parent_dispatch_dcs(struct imsgev *iev, struct imsg *imsg, void *arg)
{
	struct imsg_addr_req	 req;

	(void)arg;
	switch (imsg->hdr.type) {
	case IMSG_ADDR_ADD:
	case IMSG_ADDR_DEL:
		if (imsg_get_exact(iev, imsg, &req, sizeof(req)) == -1)
			fatalx("%s: bad %s from dcs", __func__,
			    imsg_type_name(imsg->hdr.type));
		/* While shutting down, addresses only go away. */
		if (p.shutting_down && imsg->hdr.type == IMSG_ADDR_ADD) {
			log_debug("%s: ignoring IMSG_ADDR_ADD during shutdown",
			    __func__);
			break;
		}
		if (imsg->hdr.type == IMSG_ADDR_ADD && !hold_allowed()) {
			hold_refuse(&req.addr, 1, "IMSG_ADDR_ADD");
			break;
		}
		netif_request(imsg->hdr.type, &req);
		break;
	case IMSG_ADDR_SYNC:
		if (p.shutting_down && imsg->datalen != 0) {
			log_debug("%s: ignoring a non-empty IMSG_ADDR_SYNC "
			    "during shutdown", __func__);
			break;
		}
		handle_addr_sync(iev, imsg);
		break;
	case IMSG_HOLD_UNTIL:
		handle_hold_until(iev, imsg);
		break;
	case IMSG_CTL_RELOAD:
		if (imsg_get_exact(iev, imsg, NULL, 0) == -1)
			fatalx("%s: bad IMSG_CTL_RELOAD from dcs", __func__);
		ctl_reload();
		break;
	case IMSG_CTL_LOG:
		ctl_log(iev, imsg);
		break;
	case IMSG_DCS_RELEASED:
		if (imsg_get_exact(iev, imsg, NULL, 0) == -1)
			fatalx("%s: bad IMSG_DCS_RELEASED", __func__);
		if (!p.shutting_down)
			fatalx("%s: dcs released its lease unasked",
			    __func__);
		log_info("dcs released the lease; exiting");
		parent_finish(p.exit_code);
	default:
		fatalx("%s: unexpected %s from dcs", __func__,
		    imsg_type_name(imsg->hdr.type));
	}
}

/* A notice for dcs from netif; dropped while dcs is not running. */
static void
to_dcs(uint32_t type, const void *data, size_t len)
{
	struct child	*dcs = &p.children[CHILD_DCS];

	if (dcs->running && dcs->iev.rbuf != NULL &&
	    imsgev_compose(&dcs->iev, type, 0, -1, data, len) == -1)
		fatal("%s: compose %s", __func__, imsg_type_name(type));
}

static void
netif_addr_state(const struct imsg_addr_state *st, void *arg)
{
	(void)arg;
	to_dcs(IMSG_ADDR_STATE, st, sizeof(*st));
}

/* An address is held now, or no longer: the hook's take and release. */
static void
netif_held(const struct yaim_addr *a, int up, void *arg)
{
	(void)arg;
	if (up)
		p.stats.takes++;
	else
		p.stats.releases++;
	stats_changed();
	notify_event(up ? NOTIFY_TAKE : NOTIFY_RELEASE, a);
}

static void
netif_link_state(const struct imsg_link_state *ls, void *arg)
{
	(void)arg;
	to_dcs(IMSG_LINK_STATE, ls, sizeof(*ls));
}

static void
netif_networks_changed(const struct imsg_networks *nw, void *arg)
{
	(void)arg;
	to_dcs(IMSG_NETWORKS, nw, sizeof(*nw));
}

/*
 * What dcs must know beside its config: the link state and the allowed
 * networks now (changes of either are sent as they happen).
 */
static void
send_interface_state(void)
{
	struct imsg_link_state	 ls;
	struct imsg_networks	 nw;

	netif_link(&ls);
	netif_link_state(&ls, NULL);
	netif_networks(&nw);
	netif_networks_changed(&nw, NULL);
}

/*
 * The peer socket is bound before the children start, while the parent
 * still has every capability; dcs gets it once, after its first config.
 * The parent keeps no copy: imsgev closes it once sent.
 */
static int
open_peer_socket(void)
{
	char	 err[256], buf[YAIM_ADDRSTRLEN];

	p.peer_fd = peersock_open(p.conf, &p.peer_info, err, sizeof(err));
	if (p.peer_fd == -1) {
		log_warnx("%s", err);
		return -1;
	}
	if (p.peer_info.wildcard)
		log_info("peer channel on any address of %s port %u",
		    p.conf->interface, p.peer_info.port);
	else
		log_info("peer channel on %s port %u", yaim_addr_ntop(
		    &p.peer_info.addr, buf, sizeof(buf)), p.peer_info.port);
	if (p.peer_info.addr.af == 0)
		log_warnx("peer channel: %s has no address to tell the other "
		    "nodes; set peer-address", p.conf->interface);
	else if (p.peer_info.wildcard)
		log_info("peer channel: telling the other nodes %s",
		    yaim_addr_ntop(&p.peer_info.addr, buf, sizeof(buf)));
	return 0;
}

/* The parent's counters go to dcs at most every IMSG_STATS_MS. */
static void
stats_send(int fd, short ev, void *arg)
{
	struct notify_stats	 ns;
	int			 i;

	(void)fd; (void)ev; (void)arg;
	p.stats_pending = 0;
	p.stats_sent_ms = mono_ms();
	notify_get_stats(&ns);
	for (i = 0; i < IMSG_STATS_EVENTS; i++) {
		p.stats.notify_runs[i] = ns.runs[i];
		p.stats.notify_failures[i] = ns.failures[i];
	}
	p.stats.notify_timeouts = ns.timeouts;
	p.stats.notify_dropped = ns.dropped;
	p.stats.notify_queued = ns.queued;
	p.stats.notify_running = ns.running;
	p.stats.notify_on = p.conf->notify_argc > 0;
	to_dcs(IMSG_STATS, &p.stats, sizeof(p.stats));
}

static void
stats_changed(void)
{
	struct timeval	 tv;
	uint64_t	 since = mono_ms() - p.stats_sent_ms;

	if (p.stats_pending || p.stats_ev == NULL || p.shutting_down)
		return;
	p.stats_pending = 1;
	/* at once after a quiet spell, else once the spell is over */
	tv = ms_to_tv(since >= IMSG_STATS_MS ? 0 : IMSG_STATS_MS - since);
	if (evtimer_add(p.stats_ev, &tv) == -1)
		fatalx("%s: evtimer_add", __func__);
}

static void
send_metrics_socket(void)
{
	if (p.metrics_fd == -1)
		return;
	if (imsgev_compose(&p.children[CHILD_DCS].iev, IMSG_METRICS_SOCKET, 0,
	    p.metrics_fd, NULL, 0) == -1)
		fatal("%s: compose", __func__);
	p.metrics_fd = -1;
}

static void
send_ctl_socket(void)
{
	if (p.ctl_fd == -1)
		return;
	if (imsgev_compose(&p.children[CHILD_DCS].iev, IMSG_CTL_SOCKET, 0,
	    p.ctl_fd, NULL, 0) == -1)
		fatal("%s: compose", __func__);
	p.ctl_fd = -1;
}

/* Whatever ends us: no address outlives us, nor our control socket. */
static void
parent_fatal_hook(void)
{
	if (p.netif_up)
		netif_release_all();
	ctlsock_unlink();
}

static void
send_peer_socket(void)
{
	if (p.peer_fd == -1)
		return;
	if (imsgev_compose(&p.children[CHILD_DCS].iev, IMSG_PEER_SOCKET, 0,
	    p.peer_fd, &p.peer_info, sizeof(p.peer_info)) == -1)
		fatal("%s: compose", __func__);
	p.peer_fd = -1;
}

/* Tell the service manager, once, that we are on our way out. */
static void
notify_stopping(void)
{
	static int	 sent;

	if (!sent)
		sdnotify("STOPPING=1\nSTATUS=leaving the cluster");
	sent = 1;
}

/* Remove our addresses, stop the children, and exit. */
static void
parent_finish(int code)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	int		 i, j, status;

	notify_stopping();
	p.shutting_down = 1;
	notify_leaving();
	/* the addresses first: their releases are only queued */
	netif_shutdown();
	exec_stop_checks();
	resolver_shutdown();
	for (i = 0; i < CHILD_COUNT; i++) {
		struct child	*c = &p.children[i];

		if (c->iev.rbuf != NULL) {
			imsgev_flush(&c->iev, 100);
			imsgev_clear(&c->iev);
		}
	}
	/* while the children exit on EOF; bounded (DESIGN.md section 14) */
	notify_drain();
	exec_shutdown();
	/* Children exit on EOF; give them a bounded moment. */
	for (i = 0; i < CHILD_COUNT; i++) {
		struct child	*c = &p.children[i];

		for (j = 0; c->running && j < 200; j++) {
			if (waitpid(c->pid, &status, WNOHANG) == c->pid)
				c->running = 0;
			else
				nanosleep(&ts, NULL);
		}
	}
	free_config(p.conf);
	blobs_free(&p.blobs);
	ctlsock_unlink();
	log_info("parent exiting");
	exit(code);
}

static void
shutdown_timeout(int fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	log_warnx("dcs did not confirm the lease release in time; exiting");
	parent_finish(p.exit_code);
}

/* Leave in order through dcs, then exit with code; ms bounds the wait. */
static void
parent_shutdown(int code, uint32_t ms)
{
	struct child	*dcs = &p.children[CHILD_DCS];
	struct timeval	 tv;

	if (p.shutting_down)
		return;
	log_info("shutting down: removing addresses, releasing the lease");
	notify_stopping();
	p.shutting_down = 1;
	p.exit_code = code;
	notify_leaving();
	/*
	 * dcs has the addresses removed (an empty IMSG_ADDR_SYNC, confirmed
	 * address by address) before it revokes the lease (DESIGN.md
	 * section 3).  If it does not finish in time, parent_finish()
	 * removes them anyway; the lease then still fences the others off.
	 */
	if (!dcs->running || dcs->iev.rbuf == NULL)
		parent_finish(code);
	if (imsgev_compose(&dcs->iev, IMSG_SHUTDOWN, 0, -1, NULL, 0) == -1)
		fatal("%s: compose", __func__);
	tv = ms_to_tv(ms);
	p.shutdown_timer = evtimer_new(p.base, shutdown_timeout, NULL);
	if (p.shutdown_timer == NULL || evtimer_add(p.shutdown_timer, &tv))
		fatalx("%s: timer", __func__);
}

static const char *
immutable_change(const struct yaim_config *a, const struct yaim_config *b)
{
	if (strcmp(a->interface, b->interface) != 0)
		return "interface";
	if (strcmp(a->nodename, b->nodename) != 0)
		return "nodename";
	if (strcmp(a->user, b->user) != 0)
		return "user";
	if (strcmp(a->chroot, b->chroot) != 0)
		return "chroot";
	if (strcmp(a->prefix, b->prefix) != 0)
		return "dcs-namespace or dcs-clustername";
	if (strcmp(a->dcs_type, b->dcs_type) != 0)
		return "dcs-type";
	if (conf_has_exec(a) != conf_has_exec(b))
		return "the presence of exec checks or notify-command";
	/* The peer socket is bound once, before the children start. */
	if (a->peers != b->peers)
		return "peers";
	if (memcmp(&a->peer_address, &b->peer_address,
	    sizeof(a->peer_address)) != 0)
		return "peer-address";
	if (a->peer_port != b->peer_port)
		return "peer-port";
	/* The control socket is made once, as root, before the children. */
	if (strcmp(a->control_socket, b->control_socket) != 0)
		return "control-socket";
	if (strcmp(a->control_group, b->control_group) != 0 ||
	    a->control_gid != b->control_gid)
		return "control-group";
	/* So is the metrics socket. */
	if (strcmp(a->metrics_listen, b->metrics_listen) != 0)
		return "metrics-listen";
	return NULL;
}

/*
 * The children have the secrets now, and a reload reads them afresh: the
 * parent keeps none (the imsg buffers that carried them are wiped too).
 */
static void
forget_secrets(void)
{
	config_wipe(p.conf);
	blobs_free(&p.blobs);
}

/* A password in clear text on the wire: loudly, at start and reload. */
static void
warn_password(const struct yaim_config *conf)
{
	char	 warn[CFG_URL_MAX];

	if (config_password_warning(conf, warn, sizeof(warn)))
		log_warnx("warning: %s", warn);
}

/* Load the config again; -1 and why in err if the old one stays. */
static int
reload_config(char *err, size_t errlen)
{
	struct yaim_config	*conf;
	struct yaim_blobs	 blobs = { NULL, 0 };
	const char		*what;
	int			 i;

	log_info("reloading %s", p.opts->config);
	if ((conf = parent_load_config(p.opts->config, err, errlen)) == NULL)
		return -1;
	if (privsep_lookup_user(conf, err, errlen) == -1 ||
	    exec_check_paths(conf, err, errlen) == -1 ||
	    privsep_check_secret_files(conf, err, errlen) == -1 ||
	    blobs_load(conf, &blobs, err, errlen) == -1 ||
	    peersock_check_key(conf, &blobs, err, errlen) == -1) {
		blobs_free(&blobs);
		free_config(conf);
		return -1;
	}
	if ((what = immutable_change(p.conf, conf)) != NULL) {
		snprintf(err, errlen, "%s cannot change while running; "
		    "restart yaimd", what);
		blobs_free(&blobs);
		free_config(conf);
		return -1;
	}
	free_config(p.conf);
	blobs_free(&p.blobs);
	p.conf = conf;
	p.blobs = blobs;
	p.hold_ttl = fence_hold_ttl(p.hold_ttl, conf->ttl_ms);
	p.hold_max = fence_hold_max(p.hold_ttl, conf->fence_margin_ms);
	warn_password(p.conf);
	netif_reconfigure(p.conf);
	if (exec_init(p.base, p.conf) == -1)
		log_warnx("%s: exec checks could not be re-initialised",
		    __func__);
	notify_init(p.base, p.conf);
	for (i = 0; i < CHILD_COUNT; i++)
		if (p.children[i].running)
			send_config(&p.children[i]);
	forget_secrets();
	resolver_reconfigure();
	return 0;
}

/*
 * SIGHUP and yaimctl reload; the service manager sees the reload begin
 * and end.  -1 and why in err if the old configuration stays.
 */
static int
parent_reload(char *err, size_t errlen)
{
	sdnotify("RELOADING=1\nSTATUS=reloading %s", p.opts->config);
	if (reload_config(err, errlen) == -1) {
		log_warnx("reload failed, keeping the old configuration: %s",
		    err);
		sdnotify("READY=1\nSTATUS=reload failed, keeping the old "
		    "configuration: %s", err);
		return -1;
	}
	log_info("configuration reloaded");
	sdnotify("READY=1\nSTATUS=node %s on %s, etcd prefix %s; "
	    "configuration reloaded", p.conf->nodename, p.conf->interface,
	    p.conf->prefix);
	return 0;
}

/*
 * yaimctl reload, relayed by dcs (which never sees the file): the answer
 * follows the new config on the same socket.
 */
static void
ctl_reload(void)
{
	struct ctl_end	 end;

	memset(&end, 0, sizeof(end));
	if (p.shutting_down)
		snprintf(end.text, sizeof(end.text), "yaimd is shutting "
		    "down");
	else if (parent_reload(end.text, sizeof(end.text)) == 0) {
		end.ok = 1;
		snprintf(end.text, sizeof(end.text), "configuration "
		    "reloaded");
	}
	end.text[sizeof(end.text) - 1] = '\0';
	to_dcs(IMSG_CTL_DONE, &end, sizeof(end));
}

/* yaimctl log verbose|brief: every process, then the answer. */
static void
ctl_log(struct imsgev *iev, struct imsg *imsg)
{
	struct ctl_log	 cl;
	struct ctl_end	 end;
	int		 i;

	if (imsg_get_exact(iev, imsg, &cl, sizeof(cl)) == -1 ||
	    cl.verbose > 1)
		fatalx("%s: bad IMSG_CTL_LOG from dcs", __func__);
	log_setverbose((int)cl.verbose);
	log_info("log level now %s (yaimctl)", cl.verbose ? "verbose" :
	    "brief");
	for (i = 0; i < CHILD_COUNT; i++) {
		struct child	*c = &p.children[i];

		if (c->running && c->iev.rbuf != NULL &&
		    imsgev_compose(&c->iev, IMSG_LOG_VERBOSE, 0, -1, &cl,
		    sizeof(cl)) == -1)
			fatal("%s: compose", __func__);
	}
	memset(&end, 0, sizeof(end));
	end.ok = 1;
	snprintf(end.text, sizeof(end.text), "log level %s",
	    cl.verbose ? "verbose" : "brief");
	to_dcs(IMSG_CTL_DONE, &end, sizeof(end));
}

static void
parent_signal(int sig, short ev, void *arg)
{
	char	 err[1024];

	(void)ev; (void)arg;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		parent_shutdown(0, p.conf->etcd_timeout_ms * 2 + 500);
		break;
	case SIGHUP:
		if (!p.shutting_down)
			parent_reload(err, sizeof(err));
		break;
	case SIGCHLD:
		reap_children();
		break;
	default:
		fatalx("%s: unexpected signal %d", __func__, sig);
	}
}

static void
setup_signals(void)
{
	const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	size_t		 i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		p.sig_ev[i] = evsignal_new(p.base, sigs[i], parent_signal,
		    NULL);
		if (p.sig_ev[i] == NULL || evsignal_add(p.sig_ev[i], NULL))
			fatalx("%s: cannot handle signal %d", __func__,
			    sigs[i]);
	}
}

static int
check_only(const struct parent_opts *opts)
{
	struct yaim_config	*conf;
	char			 err[1024];

	if ((conf = parent_load_config(opts->config, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/*
	 * Warnings only: -n runs as any user and on copies, where who owns
	 * the file says little; the daemon refuses (DESIGN.md section 11).
	 */
	if (config_password_warning(conf, err, sizeof(err)))
		fprintf(stderr, "yaimd: warning: %s\n", err);
	if (privsep_check_secret_files(conf, err, sizeof(err)) == -1)
		fprintf(stderr, "yaimd: warning: %s\n", err);
	if (conf_dcs_v2(conf))
		fprintf(stderr, "yaimd: warning: dcs-type: etcd2 is not run "
		    "by this yaimd yet: the daemon refuses it\n");
	if (opts->verbose)
		config_print(stdout, conf);
	printf("configuration OK\n");
	free_config(conf);
	return 0;
}

int
parent_main(const struct parent_opts *opts)
{
	static const struct netif_ops	 ops = {
		netif_addr_state, netif_link_state, netif_networks_changed,
		NULL, netif_held, hold_in_force
	};
	char				 err[1024];
	int				 managed;

	if (opts->check_only)
		return check_only(opts);

	memset(&p, 0, sizeof(p));
	p.opts = opts;
	p.peer_fd = -1;
	p.ctl_fd = -1;
	p.metrics_fd = -1;
	p.children[CHILD_CHECKER].name = "checker";
	p.children[CHILD_DCS].name = "dcs";
	if (geteuid() != 0) {
		fprintf(stderr, "yaimd: need root privileges\n");
		return 1;
	}
	/* It will hold etcd_password and the TLS keys: no core, no ptrace. */
	privsep_parent_nodump();
	/* Children are exec'd from these fds, so an upgrade cannot mix. */
	if ((p.children[CHILD_CHECKER].exefd = helper_open("checker", err,
	    sizeof(err))) == -1 || (p.children[CHILD_DCS].exefd =
	    helper_open("dcs", err, sizeof(err))) == -1) {
		fprintf(stderr, "yaimd: %s\n", err);
		return 1;
	}
	if ((p.conf = parent_load_config(opts->config, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* The v2 client exists; no engine drives it yet (DESIGN 15) */
	if (conf_dcs_v2(p.conf)) {
		fprintf(stderr, "yaimd: %s: dcs-type: etcd2 is not run by "
		    "this yaimd yet; use dcs-type: etcd\n", p.conf->file);
		return 1;
	}
	if (privsep_lookup_user(p.conf, err, sizeof(err)) == -1 ||
	    privsep_check_chroot(p.conf->chroot, err, sizeof(err)) == -1 ||
	    exec_check_paths(p.conf, err, sizeof(err)) == -1 ||
	    privsep_check_secret_files(p.conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "yaimd: %s\n", err);
		return 1;
	}
	if (blobs_load(p.conf, &p.blobs, err, sizeof(err)) == -1 ||
	    peersock_check_key(p.conf, &p.blobs, err, sizeof(err)) == -1) {
		fprintf(stderr, "yaimd: %s\n", err);
		return 1;
	}
	/* Another yaimd on the same socket: said here, before daemon(). */
	if (p.conf->control_socket[0] != '\0' && (p.ctl_fd =
	    ctlsock_open(p.conf, err, sizeof(err))) == -1) {
		fprintf(stderr, "yaimd: %s\n", err);
		return 1;
	}
	if (p.conf->metrics_listen[0] != '\0' && (p.metrics_fd =
	    metricsock_open(p.conf, err, sizeof(err))) == -1) {
		ctlsock_unlink();
		fprintf(stderr, "yaimd: %s\n", err);
		return 1;
	}
	log_set_fatal_hook(parent_fatal_hook);

	log_init(opts->debug, LOG_DAEMON);
	log_setverbose(opts->verbose);
	log_procinit("parent");
	/*
	 * Under a service manager that waits for READY=1 we stay in the
	 * foreground: a forked daemon would not be the process it watches.
	 */
	managed = sdnotify_init() != 0;
	if (!opts->debug && !managed && daemon(0, 0) == -1)
		fatal("daemon");
	proctitle_set("yaimd: parent");
	log_info("starting as node %s on %s, etcd prefix %s",
	    p.conf->nodename, p.conf->interface, p.conf->prefix);
	warn_password(p.conf);

	if ((p.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	setup_signals();
	p.hold_ttl = p.conf->ttl_ms;
	p.hold_max = fence_hold_max(p.hold_ttl, p.conf->fence_margin_ms);
	if ((p.hold_ev = evtimer_new(p.base, hold_timeout, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (netif_init(p.base, p.conf, &ops) == -1)
		fatalx("cannot set up interface %s", p.conf->interface);
	/* Whatever ends us, our addresses must not outlive us. */
	p.netif_up = 1;
	if (exec_init(p.base, p.conf) == -1)
		fatalx("cannot set up exec checks");
	notify_init(p.base, p.conf);
	notify_on_change(stats_changed);
	if ((p.stats_ev = evtimer_new(p.base, stats_send, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);

	if (p.conf->peers && open_peer_socket() == -1)
		fatalx("cannot set up the peer channel");

	start_child(&p.children[CHILD_CHECKER]);
	start_child(&p.children[CHILD_DCS]);
	send_config(&p.children[CHILD_CHECKER]);
	send_config(&p.children[CHILD_DCS]);
	forget_secrets();
	send_interface_state();
	send_peer_socket();
	if (resolver_init(p.base, &p.conf, resolved_changed,
	    resolver_wipe) == -1)
		fatalx("cannot set up the resolver");
	send_ctl_socket();
	send_metrics_socket();
	stats_changed();
	privsep_parent_trim(conf_has_exec(p.conf));
	heap_trim();	/* the YAML parse and the resolver's start are over */
	sdnotify("READY=1\nSTATUS=node %s on %s, etcd prefix %s",
	    p.conf->nodename, p.conf->interface, p.conf->prefix);

	event_base_dispatch(p.base);
	fatalx("event loop ended");
}
