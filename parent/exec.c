/*
 * exec health checks: fork, drop to the unprivileged user with nothing
 * inherited, run the configured argv, capture a bounded amount of output
 * and kill the whole process group on timeout.  All on libevent: the
 * parent never blocks waiting for a command.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cap-ng.h>
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "privsep.h"
#include "parent/exec.h"

#define EXEC_DEFAULT_MAX_OUTPUT	4096
#define EXEC_MAX_OUTPUT_CAP	(1024 * 1024)
#define EXEC_WAIT_STEP_MS	10	/* exec_wait: a reaping step */
#define EXEC_WAIT_FDS		64	/* exec_wait: outputs read */

struct exec_proc {
	struct exec_proc	*next;
	int			 orphan;	/* of an older config: no answer */
	pid_t			 pid;		/* also the process group */
	int			 fd;		/* stdout+stderr, read end */
	struct event		*rev;
	struct event		*timer;
	uint64_t		 deadline_ms;	/* mono_ms: timer, or exec_wait */
	int			 timed_out;
	uint32_t		 check;
	uint32_t		 seq;
	size_t			 max;		/* bytes kept */
	size_t			 kept;
	size_t			 total;		/* bytes read */
	char			*out;
	void			(*done)(const struct imsg_exec_result *, void *);
	void			*arg;
	/* a notify hook (exec_hook) rather than a check */
	int			 hook;
	exec_hook_done_fn	 hook_done;
};

/* The exec runner's state: one per parent process. */
static struct exec_state {
	struct event_base	*base;
	struct yaim_config	*conf;		/* our own copy */
	uid_t			 uid;
	gid_t			 gid;
	struct exec_proc	*procs;		/* running, until reaped */
} ex;

static struct exec_proc *
proc_running(uint32_t check)
{
	struct exec_proc	*p;

	for (p = ex.procs; p != NULL; p = p->next)
		if (!p->orphan && !p->hook && p->check == check)
			return p;
	return NULL;
}

static void
proc_unlink(struct exec_proc *p)
{
	struct exec_proc	**pp;

	for (pp = &ex.procs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

static void	proc_timeout(evutil_socket_t, short, void *);

/*
 * Kill the command's process group, or the child itself while it has not
 * reached setsid() yet (just forked).  The pid is our unreaped child, so
 * neither can hit a stranger.
 */
static void
proc_kill(pid_t pid)
{
	if (kill(-pid, SIGKILL) == 0)
		return;
	if (errno == ESRCH && kill(pid, SIGKILL) == 0)
		return;
	if (errno != ESRCH)
		log_warn("%s: kill %d", __func__, (int)pid);
}

int
exec_init(struct event_base *base, const struct yaim_config *conf)
{
	struct exec_proc *p;
	char		 err[512];
	uint32_t	 uid, gid;

	if (privsep_lookup_role(conf, PRIVSEP_ROLE_EXEC, &uid, &gid, err,
	    sizeof(err)) == -1) {
		log_warnx("%s: %s", __func__, err);
		return -1;
	}
	if (ex.conf == NULL && (ex.conf = malloc(sizeof(*ex.conf))) == NULL) {
		log_warn("%s", __func__);
		return -1;
	}
	memcpy(ex.conf, conf, sizeof(*ex.conf));
	config_wipe(ex.conf);		/* argv is all we need */
	/*
	 * Commands of the old config (a reload) are killed and reaped without
	 * an answer, so that the new config's checks can run at once.
	 */
	for (p = ex.procs; p != NULL; p = p->next)
		if (!p->orphan && !p->hook) {
			p->orphan = 1;
			proc_timeout(-1, 0, p);
		}
	ex.base = base;
	ex.uid = uid;
	ex.gid = gid;
	return 0;
}

int
exec_check_paths(const struct yaim_config *conf, char *err, size_t errlen)
{
	char		 resolved[PATH_MAX];
	uint32_t	 i;

	for (i = 0; i < conf->n_checks; i++)
		if (conf->checks[i].kind == CHECK_EXEC &&
		    privsep_safe_path(conf->checks[i].exec_argv[0], resolved,
		    err, errlen) == -1)
			return -1;
	if (conf->notify_argc > 0 && privsep_safe_path(conf->notify_argv[0],
	    resolved, err, errlen) == -1)
		return -1;
	return 0;
}

static void
result_send(struct exec_proc *p, uint32_t reason, int32_t detail)
{
	struct imsg_exec_result	 res;

	memset(&res, 0, sizeof(res));
	res.check = p->check;
	res.seq = p->seq;
	res.reason = reason;
	res.detail = detail;
	if (p->out != NULL)
		memcpy(res.output, p->out, p->kept < sizeof(res.output) - 1 ?
		    p->kept : sizeof(res.output) - 1);
	p->done(&res, p->arg);
}

static void
refuse(const struct imsg_exec_run *run,
    void (*done)(const struct imsg_exec_result *, void *), void *arg,
    const char *why)
{
	struct imsg_exec_result	 res;

	memset(&res, 0, sizeof(res));
	res.check = run->check;
	res.seq = run->seq;
	res.reason = HR_INTERNAL;
	/* cut to fit, still NUL-terminated (res is zeroed) */
	memcpy(res.output, why, strnlen(why, sizeof(res.output) - 1));
	done(&res, arg);
}

/* Read what is there; keep up to max bytes, drain and drop the rest. */
static int
proc_drain(struct exec_proc *p)
{
	char	 buf[4096];
	ssize_t	 n;
	size_t	 room;

	for (;;) {
		n = read(p->fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;	/* EOF or error */
		room = p->max - p->kept;
		if (room > (size_t)n)
			room = (size_t)n;
		memcpy(p->out + p->kept, buf, room);
		p->kept += room;
		p->total += (size_t)n;
	}
}

static void
proc_close_output(struct exec_proc *p)
{
	if (p->rev != NULL)
		event_free(p->rev);
	p->rev = NULL;
	if (p->fd != -1)
		close(p->fd);
	p->fd = -1;
}

static void
proc_readable(evutil_socket_t fd, short what, void *arg)
{
	struct exec_proc	*p = arg;

	(void)fd;
	(void)what;
	if (proc_drain(p) == -1)
		proc_close_output(p);
}

static void
proc_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct exec_proc	*p = arg;

	(void)fd;
	(void)what;
	p->timed_out = 1;
	proc_kill(p->pid);
}

static void
proc_free(struct exec_proc *p)
{
	proc_close_output(p);
	if (p->timer != NULL)
		event_free(p->timer);
	free(p->out);
	free(p);
}

/*
 * glibc's sigaction() refuses its internal signals (32 and 33), so one of
 * them ignored by whoever started yaimd would reach the command; the
 * system call does not refuse.  All-zero fields mean SIG_DFL on every
 * layout of the kernel's struct sigaction.
 */
static void
reset_libc_signals(void)
{
	struct {
		void		*handler;
		unsigned long	 flags;
		void		*restorer;
		uint64_t	 mask;
	} ksa;
	int	 sig;

	memset(&ksa, 0, sizeof(ksa));
	for (sig = 32; sig < SIGRTMIN; sig++)
		(void)syscall(SYS_rt_sigaction, sig, &ksa, NULL,
		    sizeof(ksa.mask));
}

/*
 * In the child after fork: never returns.  It executes path, the file
 * privsep_safe_path() checked, with the configured argv[0].
 */
static void __attribute__((noreturn))
child_exec(char *const argv[], const char *path, int outfd, uid_t uid,
    gid_t gid)
{
	char		*envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct sigaction sa;
	sigset_t	 all;
	int		 devnull, sig, errfd = outfd;
	const char	*step;

#define CHILD_FAIL(s) do { step = (s); goto fail; } while (0)
	if (setsid() == -1)
		CHILD_FAIL("setsid");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	reset_libc_signals();
	sigemptyset(&all);
	if (sigprocmask(SIG_SETMASK, &all, NULL) == -1)
		CHILD_FAIL("sigprocmask");
	if ((devnull = open("/dev/null", O_RDONLY)) == -1)
		CHILD_FAIL("open /dev/null");
	if (dup2(devnull, STDIN_FILENO) == -1 ||
	    dup2(outfd, STDOUT_FILENO) == -1 ||
	    dup2(outfd, STDERR_FILENO) == -1)
		CHILD_FAIL("dup2");
	errfd = STDERR_FILENO;
	if (close_range(3, ~0U, 0) == -1)
		CHILD_FAIL("close_range");
	if (chdir("/") == -1)
		CHILD_FAIL("chdir /");
	if (setgroups(1, &gid) == -1)
		CHILD_FAIL("setgroups");
	if (setresgid(gid, gid, gid) == -1)
		CHILD_FAIL("setresgid");
	/*
	 * Empty the bounding set while we may (needs CAP_SETPCAP, which a
	 * parent past start-up no longer has; no_new_privs covers that).
	 */
	capng_clear(CAPNG_SELECT_BOTH);
	(void)capng_apply(CAPNG_SELECT_BOUNDS);
	if (setresuid(uid, uid, uid) == -1)
		CHILD_FAIL("setresuid");
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_apply(CAPNG_SELECT_CAPS) == -1)
		CHILD_FAIL("capng_apply");
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		CHILD_FAIL("no_new_privs");
	if (setresuid(uid, uid, uid) == -1 || getuid() != uid ||
	    geteuid() != uid)
		CHILD_FAIL("uid check");

	execve(path, argv, envp);
	dprintf(STDERR_FILENO, "yaimd: exec %s: %s\n", argv[0],
	    strerror(errno));
	_exit(127);
fail:
	dprintf(errfd, "yaimd: exec check setup: %s: %s\n", step,
	    strerror(errno));
	_exit(126);
#undef CHILD_FAIL
}

static int
proc_spawn(struct exec_proc *p, char *const argv[], const char *path,
    uint32_t timeout_ms)
{
	int		 pfd[2];
	struct timeval	 tv;

	if (pipe2(pfd, O_CLOEXEC) == -1)
		return -1;
	switch ((p->pid = fork())) {
	case -1:
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	case 0:
		close(pfd[0]);
		child_exec(argv, path, pfd[1], ex.uid, ex.gid);
	default:
		break;
	}
	close(pfd[1]);
	p->fd = pfd[0];
	if (fcntl(p->fd, F_SETFL, O_NONBLOCK) == -1)
		log_warn("%s: fcntl", __func__);
	p->rev = event_new(ex.base, p->fd, EV_READ | EV_PERSIST,
	    proc_readable, p);
	p->timer = evtimer_new(ex.base, proc_timeout, p);
	if (p->rev == NULL || p->timer == NULL)
		return -1;	/* the caller kills it */
	tv = ms_to_tv(timeout_ms);
	p->deadline_ms = mono_ms() + timeout_ms;
	event_add(p->rev, NULL);
	evtimer_add(p->timer, &tv);
	return 0;
}

void
exec_run(const struct imsg_exec_run *run,
    void (*done)(const struct imsg_exec_result *, void *), void *arg)
{
	const struct check_conf	*c;
	struct exec_proc	*p;
	char			 path[PATH_MAX], err[PATH_MAX + 128];
	char			*argv[CFG_MAX_ARGS + 1];
	uint32_t		 i;

	if (ex.conf == NULL) {
		refuse(run, done, arg, "exec checks not set up");
		return;
	}
	if (run->check >= ex.conf->n_checks ||
	    ex.conf->checks[run->check].kind != CHECK_EXEC ||
	    ex.conf->checks[run->check].exec_argc == 0) {
		log_warnx("%s: refusing check %u: not an exec check",
		    __func__, run->check);
		refuse(run, done, arg, "not an exec check");
		return;
	}
	c = &ex.conf->checks[run->check];
	if (proc_running(run->check) != NULL) {
		log_warnx("%s: check %s is still running", __func__, c->name);
		refuse(run, done, arg, "still running");
		return;
	}
	/* Every run: whoever could change the file could run as us. */
	if (privsep_safe_path(c->exec_argv[0], path, err, sizeof(err)) == -1) {
		log_warnx("exec: check %s: %s", c->name, err);
		refuse(run, done, arg, err);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		refuse(run, done, arg, "out of memory");
		return;
	}
	p->fd = -1;
	p->check = run->check;
	p->seq = run->seq;
	p->done = done;
	p->arg = arg;
	p->max = c->exec_max_output ? c->exec_max_output :
	    EXEC_DEFAULT_MAX_OUTPUT;
	if (p->max > EXEC_MAX_OUTPUT_CAP)
		p->max = EXEC_MAX_OUTPUT_CAP;
	if ((p->out = malloc(p->max)) == NULL) {
		free(p);
		refuse(run, done, arg, "out of memory");
		return;
	}
	for (i = 0; i < c->exec_argc && i < CFG_MAX_ARGS; i++)
		argv[i] = (char *)(uintptr_t)c->exec_argv[i];
	argv[i] = NULL;
	if (proc_spawn(p, argv, path, c->timeout_ms) == -1) {
		log_warn("%s: check %s", __func__, c->name);
		if (p->pid > 0) {
			proc_kill(p->pid);
			p->next = ex.procs;	/* reaped later */
			ex.procs = p;
			return;
		}
		proc_free(p);
		refuse(run, done, arg, "cannot start");
		return;
	}
	log_debug("exec: check %s: started %s as pid %d", c->name,
	    c->exec_argv[0], (int)p->pid);
	p->next = ex.procs;
	ex.procs = p;
}

/*
 * Kill every process of the exec user, from a forked process that
 * becomes that user (and so loses CAP_KILL): kill(-1) then reaches
 * exactly the processes of that uid, those that left their process group
 * (setsid, double fork) included.  The user is ours alone (DESIGN.md
 * section 11).  Only when no command runs, so no check is cut short;
 * and waited for, so that it cannot hit a command started after it.
 */
static void
sweep_exec_user(void)
{
	pid_t	 pid;

	if (ex.procs != NULL || ex.uid == 0)
		return;
	switch ((pid = fork())) {
	case -1:
		log_warn("%s: fork", __func__);
		return;
	case 0:
		if (setresuid(ex.uid, ex.uid, ex.uid) == -1 ||
		    getuid() != ex.uid)
			_exit(1);
		(void)kill(-1, SIGKILL);
		_exit(0);
	default:
		/* three system calls: this wait is short */
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
}

/*
 * A notify hook: notify-command of our own config with the extra
 * arguments appended, as the exec user, under notify-timeout.
 */
int
exec_hook(const char *const *extra, size_t n_extra, exec_hook_done_fn done,
    void *arg, char *err, size_t errlen)
{
	struct exec_proc	*p;
	char			 path[PATH_MAX];
	char			*argv[CFG_MAX_ARGS + 4];
	size_t			 i, n;

	if (ex.conf == NULL || ex.conf->notify_argc == 0) {
		snprintf(err, errlen, "no notify-command");
		return -1;
	}
	n = ex.conf->notify_argc;
	if (n > CFG_MAX_ARGS || n_extra > 3) {
		snprintf(err, errlen, "too many arguments");
		return -1;
	}
	if (privsep_safe_path(ex.conf->notify_argv[0], path, err,
	    errlen) == -1)
		return -1;
	for (i = 0; i < n; i++)
		argv[i] = ex.conf->notify_argv[i];
	for (i = 0; i < n_extra; i++)
		argv[n + i] = (char *)(uintptr_t)extra[i];
	argv[n + n_extra] = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->out = malloc(EXEC_DEFAULT_MAX_OUTPUT)) == NULL) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->fd = -1;
	p->hook = 1;
	p->hook_done = done;
	p->arg = arg;
	p->max = EXEC_DEFAULT_MAX_OUTPUT;
	if (proc_spawn(p, argv, path, ex.conf->notify_timeout_ms) == -1) {
		snprintf(err, errlen, "cannot start: %s", strerror(errno));
		if (p->pid > 0) {
			proc_kill(p->pid);
			p->orphan = 1;		/* reaped later, no answer */
			p->next = ex.procs;
			ex.procs = p;
			return -1;
		}
		proc_free(p);
		return -1;
	}
	log_debug("exec: notify %s %s: started as pid %d", extra[0],
	    n_extra > 1 ? extra[1] : "", (int)p->pid);
	p->next = ex.procs;
	ex.procs = p;
	return 0;
}

void
exec_child_ending(pid_t pid)
{
	struct exec_proc	*p;

	for (p = ex.procs; p != NULL; p = p->next)
		if (p->pid == pid) {
			/* the zombie leader keeps pid from being reused */
			if (kill(-pid, SIGKILL) == -1 && errno != ESRCH)
				log_warn("%s: kill %d", __func__, -(int)pid);
			return;
		}
}

static void
hook_finish(struct exec_proc *p, int status)
{
	uint32_t	 reason;
	int32_t		 detail = 0;

	if (p->timed_out)
		reason = HR_KILLED_TIMEOUT;
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		reason = HR_OK;
	else if (WIFEXITED(status)) {
		reason = HR_EXIT_STATUS;
		detail = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		reason = HR_SIGNALED;
		detail = WTERMSIG(status);
	} else {
		reason = HR_INTERNAL;
		detail = status;
	}
	if (p->kept == p->max)
		p->kept--;
	p->out[p->kept] = '\0';
	p->hook_done(reason, detail, p->out, p->arg);
}

int
exec_child_exited(pid_t pid, int status)
{
	struct exec_proc	*p;

	for (p = ex.procs; p != NULL; p = p->next)
		if (p->pid == pid)
			break;
	if (p == NULL)
		return 0;
	proc_unlink(p);
	if (p->orphan) {
		proc_free(p);
		sweep_exec_user();
		return 1;
	}
	/* what it wrote before exiting is still in the pipe */
	if (p->fd != -1)
		(void)proc_drain(p);
	proc_close_output(p);
	if (p->total > p->kept)
		log_debug("exec: pid %d: %zu bytes of output dropped",
		    (int)pid, p->total - p->kept);
	if (p->hook)
		hook_finish(p, status);
	else if (p->timed_out)
		result_send(p, HR_KILLED_TIMEOUT, 0);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		result_send(p, HR_OK, 0);
	else if (WIFEXITED(status))
		result_send(p, HR_EXIT_STATUS, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		result_send(p, HR_SIGNALED, WTERMSIG(status));
	else
		result_send(p, HR_INTERNAL, status);
	proc_free(p);
	sweep_exec_user();
	return 1;
}

void
exec_stop_checks(void)
{
	struct exec_proc	*p;

	for (p = ex.procs; p != NULL; p = p->next)
		if (!p->orphan && !p->hook) {
			p->orphan = 1;
			proc_timeout(-1, 0, p);
		}
}

/* Kill what is past its timeout; reap one command that has ended. */
static int
wait_reap_one(void)
{
	struct exec_proc	*p;
	siginfo_t		 si;
	uint64_t		 now = mono_ms();
	pid_t			 pid;
	int			 status;

	for (p = ex.procs; p != NULL; p = p->next)
		if (!p->timed_out && now >= p->deadline_ms)
			proc_timeout(-1, 0, p);
	for (p = ex.procs; p != NULL; p = p->next) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG |
		    WNOWAIT) == -1 || si.si_pid == 0)
			continue;
		pid = p->pid;
		exec_child_ending(pid);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		(void)exec_child_exited(pid, status);	/* frees p */
		return 1;
	}
	return 0;
}

/*
 * At exit, where the event loop no longer runs: the parent calls this
 * from an event callback, and libevent cannot be entered again.  So
 * commands are reaped here, their timeouts enforced and their output
 * read, in steps of at most EXEC_WAIT_STEP_MS (an exit shows only as
 * SIGCHLD, which libevent has); see DESIGN.md section 14.
 */
int
exec_wait(uint64_t until_ms)
{
	struct pollfd		 pfd[EXEC_WAIT_FDS];
	struct exec_proc	*p, *on[EXEC_WAIT_FDS];
	uint64_t		 now;
	nfds_t			 n, i;
	int			 step;

	if (ex.procs == NULL)
		return -1;
	if (wait_reap_one())
		return 1;
	if ((now = mono_ms()) >= until_ms)
		return 0;
	step = until_ms - now < EXEC_WAIT_STEP_MS ? (int)(until_ms - now) :
	    EXEC_WAIT_STEP_MS;
	n = 0;
	for (p = ex.procs; p != NULL && n < EXEC_WAIT_FDS; p = p->next)
		if (p->fd != -1) {
			pfd[n].fd = p->fd;
			pfd[n].events = POLLIN;
			on[n++] = p;
		}
	if (poll(pfd, n, step) <= 0)
		return wait_reap_one();
	for (i = 0; i < n; i++)
		if (pfd[i].revents != 0 && proc_drain(on[i]) == -1)
			proc_close_output(on[i]);
	return wait_reap_one();
}

void
exec_shutdown(void)
{
	struct exec_proc	*p;

	while ((p = ex.procs) != NULL) {
		ex.procs = p->next;
		proc_kill(p->pid);
		/* SIGKILLed: this wait is short */
		while (waitpid(p->pid, NULL, 0) == -1 && errno == EINTR)
			;
		proc_free(p);
	}
	sweep_exec_user();
	if (ex.conf != NULL) {
		explicit_bzero(ex.conf, sizeof(*ex.conf));
		free(ex.conf);
		ex.conf = NULL;
	}
}
