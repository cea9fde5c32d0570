/*
 * The seccomp filters of common/sandbox.c, for real: each case forks, the
 * child installs a filter and makes one call; the parent checks how the
 * child ended.  A call outside the allow-list must kill it with SIGSYS;
 * the calls the children live on must work; probes must fail with their
 * errno (open: ENOENT, socket(AF_UNIX): EACCES) and not kill.
 */
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"
#include "regress/unit/check.h"

/* Exit codes of a case that was not killed. */
#define OK		0
#define WRONG		3

static int
try_socket(int family)
{
	int	 s = socket(family, SOCK_STREAM, 0);

	if (s == -1)
		return errno == EACCES ? 10 : WRONG;
	close(s);
	return OK;
}

static int c_inet(void) { return try_socket(AF_INET); }
static int c_inet6(void) { return try_socket(AF_INET6); }
static int c_unix(void) { return try_socket(AF_UNIX); }
static int c_packet(void) { return try_socket(AF_PACKET); }
static int c_netlink(void) { return try_socket(AF_NETLINK); }

static int
c_open(void)
{
	return open("/etc/passwd", O_RDONLY) == -1 && errno == ENOENT ? 10 :
	    WRONG;
}

static int
c_execve(void)
{
	char	*argv[] = { (char *)"true", NULL };
	char	*envp[] = { NULL };

	execve("/bin/true", argv, envp);
	return WRONG;
}

static int
c_fork(void)
{
	/* glibc's fork() is clone(SIGCHLD) without CLONE_THREAD */
	pid_t	 pid = fork();

	if (pid == 0)
		_exit(0);
	return WRONG;
}

static int
c_ptrace(void)
{
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return WRONG;
}

static int
c_kill_other(void)
{
	/* signal 0 to the test runner: even probing another process */
	kill(getppid(), 0);
	return WRONG;
}

static int
c_bind(void)
{
	struct sockaddr_in	 sin;
	int			 s = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	bind(s, (struct sockaddr *)&sin, sizeof(sin));
	return WRONG;
}

static int	 thread_ran;

static void *
thread_main(void *arg)
{
	thread_ran = 1;
	return arg;
}

static int
c_thread(void)
{
	pthread_t	 t;
	void		*ret = NULL;

	if (pthread_create(&t, NULL, thread_main, NULL) != 0 ||
	    pthread_join(t, &ret) != 0 || ret != NULL || !thread_ran)
		return WRONG;
	return OK;
}

static int
c_abort_self(void)
{
	abort();
}

static const struct tcase {
	const char	*name;
	int		(*fn)(void);
	int		 sig;		/* expected signal, or 0 */
	int		 code;		/* expected exit code if no signal */
} cases[] = {
	{ "socket(AF_INET)",	c_inet,		0,	OK },
	{ "socket(AF_INET6)",	c_inet6,	0,	OK },
	{ "socket(AF_UNIX)",	c_unix,		0,	10 },
	{ "open",		c_open,		0,	10 },
	{ "pthread_create",	c_thread,	0,	OK },
	{ "abort",		c_abort_self,	SIGABRT, 0 },
	{ "socket(AF_PACKET)",	c_packet,	SIGSYS,	0 },
	{ "socket(AF_NETLINK)",	c_netlink,	SIGSYS,	0 },
	{ "execve",		c_execve,	SIGSYS,	0 },
	{ "fork",		c_fork,		SIGSYS,	0 },
	{ "ptrace",		c_ptrace,	SIGSYS,	0 },
	{ "kill(other)",	c_kill_other,	SIGSYS,	0 },
	{ "bind",		c_bind,		SIGSYS,	0 },
};

static void
run(enum sandbox_role role, const struct tcase *tc)
{
	const char	*rname = role == SANDBOX_DCS ? "dcs" : "checker";
	pid_t		 pid;
	int		 status;

	fflush(stdout);
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		if (sandbox_install(role) == -1)
			_exit(2);
		_exit(tc->fn());
	}
	if (waitpid(pid, &status, 0) != pid) {
		perror("waitpid");
		exit(1);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
		CHECK(0, "%s: cannot install the filter", rname);
		return;
	}
	if (tc->sig != 0)
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == tc->sig,
		    "%s: %s: want signal %d, got %s %d", rname, tc->name,
		    tc->sig, WIFSIGNALED(status) ? "signal" : "exit",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
	else
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == tc->code,
		    "%s: %s: want exit %d, got %s %d", rname, tc->name,
		    tc->code, WIFSIGNALED(status) ? "signal" : "exit",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
}

int
main(void)
{
	size_t	 i;

	if (!sandbox_kills()) {
		printf("SKIP: this build's filter logs instead of killing "
		    "(sanitizer, YAIM_SANDBOX_LOG or no filter for the "
		    "architecture)\n");
		return 77;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(SANDBOX_CHECKER, &cases[i]);
		run(SANDBOX_DCS, &cases[i]);
	}
	if (check_failures != 0) {
		printf("%d failures\n", check_failures);
		return 1;
	}
	printf("test_sandbox: all passed\n");
	return 0;
}
