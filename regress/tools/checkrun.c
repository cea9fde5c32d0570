/*
 * checkrun: the health check engine without privilege separation, for
 * tests.  It plays the parent for exec checks (exec_run, and a SIGCHLD
 * event that offers reaped pids to exec_child_exited) and prints one line
 * per report:
 *
 *	HH:MM:SS.mmm health up|down REASON DETAIL CHECK TEXT
 *
 * after a first line "HH:MM:SS.mmm start N checks" (for measuring).
 *
 * usage: checkrun [-v] -f yaim.yml -t seconds
 *        checkrun [-v] -k http|tcp|postgres|exec [options] -t seconds
 *            [-- argv for exec]
 * hand-built check: -u url -c code -s contains -H host-header -C ca-file
 *   -K (no TLS verify) -m max-body -h host -p port -U pg-user -P pg-pass
 *   -D dbname -q query -e expected -M max-output -w user
 *   -i interval-ms -T timeout-ms -r rise -F fall -n retry-num
 *   -a retry-after-ms
 * -R dir: after loading (as the parent does), chroot to dir, drop to
 *   the checker user (-w names the base: _yaimd gives _yaimd-checker) with
 *   no capabilities and install the checker's seccomp filter, as the
 *   checker child does, to show that the checks need no file and no call
 *   outside the filter.  Not with exec.
 */
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <cap-ng.h>
#include <grp.h>
#include <pwd.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "blob.h"
#include "config.h"
#include "log.h"
#include "privsep.h"
#include "proto.h"
#include "sandbox.h"
#include "checker/checks.h"
#include "parent/exec.h"
#include "parent/resolve.h"

static const char *tags[HR_MAX] = {
	[HR_OK] = "ok", [HR_TIMEOUT] = "timeout", [HR_REFUSED] = "refused",
	[HR_CONNECT] = "connect", [HR_TLS] = "tls", [HR_STATUS] = "status",
	[HR_BODY_MISMATCH] = "body_mismatch",
	[HR_BODY_TOO_LARGE] = "body_too_large",
	[HR_QUERY_MISMATCH] = "query_mismatch",
	[HR_QUERY_ERROR] = "query_error", [HR_EXIT_STATUS] = "exit_status",
	[HR_KILLED_TIMEOUT] = "killed_timeout", [HR_SIGNALED] = "signaled",
	[HR_INTERNAL] = "internal", [HR_STARTUP] = "startup"
};

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: checkrun [-v] (-f yaim.yml | -k kind "
	    "[check options]) -t seconds [-- exec argv]\n");
	exit(2);
}

static void
stamp(void)
{
	struct timeval	 tv;
	struct tm	 tm;
	char		 ts[16];

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	printf("%s.%03ld ", ts, (long)tv.tv_usec / 1000);
}

static void
on_report(const struct imsg_health *h, void *arg)
{
	(void)arg;
	stamp();
	printf("health %s %s %d %u %s\n", h->healthy ? "up" : "down",
	    h->reason < HR_MAX ? tags[h->reason] : "invalid", h->detail,
	    h->check, h->text);
	fflush(stdout);
}

static void
on_exec_done(const struct imsg_exec_result *res, void *arg)
{
	(void)arg;
	checks_exec_result(res);
}

static void
on_exec_request(const struct imsg_exec_run *run, void *arg)
{
	(void)arg;
	exec_run(run, on_exec_done, NULL);
}

static void
on_sigchld(evutil_socket_t sig, short ev, void *arg)
{
	siginfo_t	 si;
	pid_t		 pid;
	int		 status;

	(void)sig;
	(void)ev;
	(void)arg;
	/* as the parent does: the group dies while its leader is a zombie */
	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1 ||
		    si.si_pid == 0)
			break;
		exec_child_ending(si.si_pid);
		if ((pid = waitpid(si.si_pid, &status, 0)) <= 0)
			break;
		if (!exec_child_exited(pid, status))
			fprintf(stderr, "checkrun: unknown child %d\n",
			    (int)pid);
	}
}

static void
on_end(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	event_base_loopexit(arg, NULL);
}

/* What the checker child does before it runs the checks. */
static void
drop_to_chroot(const char *dir, const struct yaim_config *conf)
{
	char		 err[512];
	uint32_t	 uid, gid;

	if (privsep_lookup_role(conf, PRIVSEP_ROLE_CHECKER, &uid, &gid, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	if (chroot(dir) == -1 || chdir("/") == -1)
		fatal("chroot %s", dir);
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1)
		fatal("setresgid");
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_apply(CAPNG_SELECT_BOUNDS) == -1)
		fatalx("cannot clear the bounding set");
	if (setresuid(uid, uid, uid) == -1)
		fatal("setresuid");
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_apply(CAPNG_SELECT_CAPS) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("dropping capabilities");
}

static uint32_t
num(const char *s, uint32_t max)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v > max) {
		fprintf(stderr, "checkrun: bad number \"%s\"\n", s);
		exit(2);
	}
	return (uint32_t)v;
}

static void
copy(char *dst, size_t len, const char *src)
{
	if (strlen(src) >= len) {
		fprintf(stderr, "checkrun: \"%s\" is too long\n", src);
		exit(2);
	}
	strcpy(dst, src);
}

static uint32_t
kind_parse(const char *s)
{
	if (strcmp(s, "http") == 0)
		return CHECK_HTTP;
	if (strcmp(s, "tcp") == 0)
		return CHECK_TCP;
	if (strcmp(s, "postgres") == 0)
		return CHECK_POSTGRES;
	if (strcmp(s, "exec") == 0)
		return CHECK_EXEC;
	fprintf(stderr, "checkrun: unknown kind %s\n", s);
	exit(2);
}

static void
hand_defaults(struct yaim_config *conf)
{
	struct check_conf	*c = &conf->checks[0];

	strcpy(conf->user, YAIM_DEFAULT_USER);
	conf->interval_ms = 1000;
	conf->retry_num = 1;
	conf->n_checks = 1;
	c->rise = 1;
	c->fall = 1;
	c->http_expected_code = 200;
	c->http_tls_verify = 1;
	c->http_max_body = 65536;
	c->pg_port = 5432;
	strcpy(c->pg_query, "SELECT 1");
	strcpy(c->pg_expected, "1");
	c->exec_max_output = 4096;
}

static void
hand_option(struct yaim_config *conf, int ch, const char *arg)
{
	struct check_conf	*c = &conf->checks[0];

	switch (ch) {
	case 'k': c->kind = kind_parse(arg); break;
	case 'u': copy(c->http_url, sizeof(c->http_url), arg); break;
	case 'c': c->http_expected_code = num(arg, 999); break;
	case 's': copy(c->http_expected_contains,
	    sizeof(c->http_expected_contains), arg); break;
	case 'H': copy(c->http_host_header, sizeof(c->http_host_header),
	    arg); break;
	case 'C': copy(c->http_ca_file, sizeof(c->http_ca_file), arg); break;
	case 'K': c->http_tls_verify = 0; break;
	case 'm': c->http_max_body = num(arg, 1 << 24); break;
	case 'h':
		copy(c->tcp_host, sizeof(c->tcp_host), arg);
		copy(c->pg_host, sizeof(c->pg_host), arg);
		break;
	case 'p':
		c->tcp_port = (uint16_t)num(arg, 65535);
		c->pg_port = c->tcp_port;
		break;
	case 'U': copy(c->pg_user, sizeof(c->pg_user), arg); break;
	case 'P': copy(c->pg_password, sizeof(c->pg_password), arg); break;
	case 'D': copy(c->pg_dbname, sizeof(c->pg_dbname), arg); break;
	case 'q': copy(c->pg_query, sizeof(c->pg_query), arg); break;
	case 'e': copy(c->pg_expected, sizeof(c->pg_expected), arg); break;
	case 'M': c->exec_max_output = num(arg, 1 << 24); break;
	case 'w': copy(conf->user, sizeof(conf->user), arg); break;
	case 'i': c->interval_ms = num(arg, 3600000); break;
	case 'T': c->timeout_ms = num(arg, 3600000); break;
	case 'r': c->rise = num(arg, 100); break;
	case 'F': c->fall = num(arg, 100); break;
	case 'n': conf->retry_num = num(arg, 100); break;
	case 'a': conf->retry_after_ms = num(arg, 600000); break;
	default: usage();
	}
}

int
main(int argc, char *argv[])
{
	static struct yaim_config	 conf;
	struct yaim_blobs		 blobs = { NULL, 0 };
	struct checker_ops		 ops = { on_report, on_exec_request,
					    NULL };
	struct event_base		*base;
	struct event			*sigchld, *end;
	struct timeval			 tv;
	const char			*file = NULL, *root = NULL;
	char				 err[512];
	uint32_t			 seconds = 0, i;
	int				 ch, verbose = 0, has_exec = 0;

	hand_defaults(&conf);
	while ((ch = getopt(argc, argv,
	    "f:t:vk:u:c:s:H:C:Km:h:p:U:P:D:q:e:M:w:i:T:r:F:n:a:R:")) != -1) {
		switch (ch) {
		case 'f': file = optarg; break;
		case 'R': root = optarg; break;
		case 't': seconds = num(optarg, 86400); break;
		case 'v': verbose++; break;
		default: hand_option(&conf, ch, optarg); break;
		}
	}
	argc -= optind;
	argv += optind;
	if (seconds == 0)
		usage();
	log_init(1, 0);
	log_setverbose(verbose);
	log_procinit("checkrun");

	if (file != NULL) {
		if (config_load(file, &conf, err, sizeof(err)) == -1) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
	} else {
		if (conf.checks[0].kind == CHECK_NONE)
			usage();
		for (i = 0; i < (uint32_t)argc && i < CFG_MAX_ARGS; i++)
			copy(conf.checks[0].exec_argv[i],
			    sizeof(conf.checks[0].exec_argv[i]), argv[i]);
		conf.checks[0].exec_argc = i;
		snprintf(conf.checks[0].name, sizeof(conf.checks[0].name),
		    "%s#0", conf.checks[0].kind == CHECK_HTTP ? "http" :
		    conf.checks[0].kind == CHECK_TCP ? "tcp" :
		    conf.checks[0].kind == CHECK_POSTGRES ? "postgres" :
		    "exec");
		if (conf.checks[0].interval_ms == 0)
			conf.checks[0].interval_ms = conf.interval_ms;
	}
	/* the order of the parent: resolve, read TLS material, then run */
	if (resolve_config(&conf, err, sizeof(err)) == -1 ||
	    blobs_load(&conf, &blobs, err, sizeof(err)) == -1) {
		fprintf(stderr, "checkrun: %s\n", err);
		return 1;
	}
	for (i = 0; i < conf.n_checks; i++)
		has_exec |= conf.checks[i].kind == CHECK_EXEC;

	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (base = event_base_new()) == NULL)
		fatalx("cannot initialise libcurl or libevent");
	if (has_exec && exec_init(base, &conf) == -1)
		return 1;
	if (root != NULL) {
		if (has_exec)
			fatalx("-R and exec checks do not mix");
		drop_to_chroot(root, &conf);
		sandbox_enter(SANDBOX_CHECKER);
	}
	sigchld = evsignal_new(base, SIGCHLD, on_sigchld, NULL);
	end = evtimer_new(base, on_end, base);
	tv.tv_sec = seconds;
	tv.tv_usec = 0;
	if (sigchld == NULL || end == NULL || evsignal_add(sigchld, NULL) ||
	    evtimer_add(end, &tv))
		fatalx("cannot set up events");
	stamp();
	printf("start %u checks\n", conf.n_checks);
	fflush(stdout);
	if (checks_start(base, &conf, &blobs, &ops) == -1)
		return 1;
	event_base_dispatch(base);

	checks_stop();
	exec_shutdown();
	blobs_free(&blobs);
	config_wipe(&conf);
	event_free(sigchld);
	event_free(end);
	event_base_free(base);
	curl_global_cleanup();
	return 0;
}
