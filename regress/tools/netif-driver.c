/*
 * netif-driver: test-only front end to netif/, used by the integration
 * tests inside network namespaces.  Not part of yaimd and not reachable
 * from it: it links libyaim.a directly and plays the parent's part.
 *
 *	netif-driver [-tv] -f yaim.yml
 *	netif-driver [-tv] -i iface [-l label] [-a cidr ...] [-c garp-count]
 *	    [-g garp-ms] [-r refresh-ms] [-m netmask] [-M netmask6]
 *
 * Commands on stdin, one a line:
 *	add IP [ifname=NAME] [af=N] [pad=N] [plen=N]
 *	del IP [same overrides]
 *	sync [IP ...]
 *	release | held | quit
 *	allow 0|1	(ops->may_hold answers that from now on; 1 at start)
 * Output on stdout, one line per event:
 *	ready | state IP up|down | state IP refused TOKEN [DETAIL]
 *	link up|down IFINDEX | released | held N | error: TEXT
 * With -t every line starts with the CLOCK_REALTIME time in seconds.
 * EOF on stdin, "quit" or SIGTERM release everything and exit 0.  SIGHUP
 * with -f re-reads the file and applies it (prints "reloaded").
 */
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "proto.h"
#include "netif/netif.h"
#include "netif/netif_pure.h"

static int			 stamp;
static int			 allowed = 1;	/* ops->may_hold */
static struct event_base	*base;
static char			 line[512 * 1024];	/* a sync of 10000 IPv6 */
static size_t			 linelen;

static void out(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
out(const char *fmt, ...)
{
	struct timespec	 ts;
	va_list		 ap;

	if (stamp) {
		clock_gettime(CLOCK_REALTIME, &ts);
		printf("%lld.%06ld ", (long long)ts.tv_sec, ts.tv_nsec / 1000);
	}
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void
on_addr_state(const struct imsg_addr_state *st, void *arg)
{
	char	 buf[YAIM_ADDRSTRLEN];

	(void)arg;
	yaim_addr_ntop(&st->addr, buf, sizeof(buf));
	switch (st->state) {
	case ADDR_UP:
		out("state %s up", buf);
		break;
	case ADDR_DOWN:
		if (st->refusal != AR_NONE)
			out("state %s down %s %d", buf,
			    netif_refusal_token(st->refusal), st->detail);
		else
			out("state %s down", buf);
		break;
	case ADDR_REFUSED:
		if (st->detail != 0)
			out("state %s refused %s %d", buf,
			    netif_refusal_token(st->refusal), st->detail);
		else
			out("state %s refused %s", buf,
			    netif_refusal_token(st->refusal));
		break;
	default:
		out("state %s invalid %u", buf, st->state);
	}
}

static void
on_link_state(const struct imsg_link_state *ls, void *arg)
{
	(void)arg;
	out("link %s %u", ls->up ? "up" : "down", ls->ifindex);
}

static void
finish(void)
{
	netif_shutdown();
	event_base_loopbreak(base);
}

/* "IP [key=value ...]" into a request; overrides forge bad requests. */
static int
parse_req(char *args, const char *ifname, struct imsg_addr_req *req)
{
	char	*tok, *save = NULL, *eq;
	long	 v;

	memset(req, 0, sizeof(*req));
	snprintf(req->ifname, sizeof(req->ifname), "%s", ifname);
	if ((tok = strtok_r(args, " \t", &save)) == NULL ||
	    yaim_addr_parse(tok, &req->addr, 0) == -1) {
		out("error: bad address \"%s\"", tok ? tok : "");
		return -1;
	}
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		if ((eq = strchr(tok, '=')) == NULL)
			goto bad;
		*eq++ = '\0';
		if (strcmp(tok, "ifname") == 0) {
			memset(req->ifname, 0, sizeof(req->ifname));
			/* no NUL if 16 long: the validator must catch that */
			memcpy(req->ifname, eq, strnlen(eq,
			    sizeof(req->ifname)));
			continue;
		}
		v = strtol(eq, NULL, 0);
		if (strcmp(tok, "af") == 0)
			req->addr.af = (uint8_t)v;
		else if (strcmp(tok, "pad") == 0)
			req->addr.pad[0] = (uint8_t)v;
		else if (strcmp(tok, "plen") == 0)
			req->addr.prefixlen = (uint8_t)v;
		else
			goto bad;
	}
	return 0;
bad:
	out("error: bad option \"%s\"", tok);
	return -1;
}

static void
cmd_sync(char *args)
{
	struct yaim_addr	*v = NULL, *n;
	char			*tok, *save = NULL;
	size_t			 cnt = 0;

	for (tok = strtok_r(args, " \t", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t", &save)) {
		if ((n = reallocarray(v, cnt + 1, sizeof(*v))) == NULL)
			fatal("%s", __func__);
		v = n;
		if (yaim_addr_parse(tok, &v[cnt], 0) == -1) {
			out("error: bad address \"%s\"", tok);
			free(v);
			return;
		}
		cnt++;
	}
	netif_sync(v, cnt);
	free(v);
	out("synced %zu", cnt);
}

static int
on_may_hold(void *arg)
{
	(void)arg;
	return allowed;
}

static void
command(char *cmd, const char *ifname)
{
	struct imsg_addr_req	 req;
	char			*args;

	args = cmd + strcspn(cmd, " \t");
	if (*args != '\0')
		*args++ = '\0';
	if (strcmp(cmd, "add") == 0 || strcmp(cmd, "del") == 0) {
		if (parse_req(args, ifname, &req) == 0)
			netif_request(cmd[0] == 'a' ? IMSG_ADDR_ADD :
			    IMSG_ADDR_DEL, &req);
	} else if (strcmp(cmd, "sync") == 0)
		cmd_sync(args);
	else if (strcmp(cmd, "release") == 0) {
		netif_release_all();
		out("released");
	} else if (strcmp(cmd, "held") == 0)
		out("held %zu", netif_held_count());
	else if (strcmp(cmd, "allow") == 0 &&
	    (strcmp(args, "0") == 0 || strcmp(args, "1") == 0)) {
		allowed = args[0] == '1';
		out("allow %d", allowed);
	} else if (strcmp(cmd, "quit") == 0)
		finish();
	else if (cmd[0] != '\0')
		out("error: unknown command \"%s\"", cmd);
}

static void
stdin_cb(int fd, short ev, void *arg)
{
	const char	*ifname = arg;
	char		*nl;
	ssize_t		 n;

	(void)ev;
	n = read(fd, line + linelen, sizeof(line) - 1 - linelen);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		finish();
		return;
	}
	linelen += (size_t)n;
	line[linelen] = '\0';
	while ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		command(line, ifname);
		if (event_base_got_break(base))
			return;
		linelen -= (size_t)(nl + 1 - line);
		memmove(line, nl + 1, linelen + 1);
	}
	if (linelen == sizeof(line) - 1) {
		out("error: line too long");
		linelen = 0;
	}
}

static void
signal_cb(int sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	log_info("signal %d: releasing and exiting", sig);
	finish();
}

/* SIGHUP with -f: re-read the file, as the parent does. */
static void
hup_cb(int sig, short ev, void *arg)
{
	static struct yaim_config	 conf;
	const char			*file = arg;
	char				 err[512];

	(void)sig;
	(void)ev;
	if (file == NULL) {
		out("error: no file to reload");
		return;
	}
	if (config_load(file, &conf, err, sizeof(err)) == -1) {
		log_warnx("reload: %s", err);
		out("error: reload failed");
		return;
	}
	netif_reconfigure(&conf);
	out("reloaded");
}

static void
usage(void)
{
	fprintf(stderr, "usage: netif-driver [-tv] -f yaim.yml\n"
	    "       netif-driver [-tv] -i iface [-l label] [-a cidr ...] "
	    "[-c garp-count]\n"
	    "           [-g garp-ms] [-r refresh-ms] [-m netmask] "
	    "[-M netmask6]\n");
	exit(2);
}

static void
conf_defaults(struct yaim_config *c)
{
	memset(c, 0, sizeof(*c));
	c->netmask = 32;
	c->netmask6 = 128;
	c->garp_count = 3;
	c->garp_interval_ms = 1000;
}

int
main(int argc, char *argv[])
{
	static struct yaim_config	 conf;
	struct netif_ops		 ops = { on_addr_state, on_link_state,
					    NULL, NULL, NULL, on_may_hold };
	struct event			*ev_in, *ev_term, *ev_int, *ev_hup;
	const char			*file = NULL;
	char				 err[512];
	int				 ch, hand = 0;

	conf_defaults(&conf);
	while ((ch = getopt(argc, argv, "a:c:f:g:i:l:m:M:r:tv")) != -1) {
		hand |= ch != 'f' && ch != 't' && ch != 'v';
		switch (ch) {
		case 'a':
			if (conf.n_networks == CFG_MAX_NETWORKS ||
			    yaim_prefix_parse(optarg,
			    &conf.networks[conf.n_networks++]) == -1)
				usage();
			break;
		case 'c': conf.garp_count = (uint32_t)atoi(optarg); break;
		case 'f': file = optarg; break;
		case 'g': conf.garp_interval_ms = (uint32_t)atoi(optarg); break;
		case 'i':
			snprintf(conf.interface, sizeof(conf.interface), "%s",
			    optarg);
			break;
		case 'l':
			snprintf(conf.label, sizeof(conf.label), "%s", optarg);
			break;
		case 'm': conf.netmask = (uint8_t)atoi(optarg); break;
		case 'M': conf.netmask6 = (uint8_t)atoi(optarg); break;
		case 'r': conf.garp_refresh_ms = (uint32_t)atoi(optarg); break;
		case 't': stamp = 1; break;
		case 'v': log_setverbose(1); break;
		default: usage();
		}
	}
	if (optind != argc || (file != NULL && hand) ||
	    (file == NULL && conf.interface[0] == '\0'))
		usage();
	log_init(1, LOG_DAEMON);
	log_procinit("netif-driver");
	if (file != NULL &&
	    config_load(file, &conf, err, sizeof(err)) == -1)
		errx(1, "%s", err);
	if (netif_check_config(&conf, err, sizeof(err)) == -1)
		errx(1, "%s", err);
	if ((base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	if (netif_init(base, &conf, &ops) == -1)
		errx(1, "netif_init failed");
	fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
	ev_in = event_new(base, STDIN_FILENO, EV_READ | EV_PERSIST, stdin_cb,
	    conf.interface);
	ev_term = evsignal_new(base, SIGTERM, signal_cb, NULL);
	ev_int = evsignal_new(base, SIGINT, signal_cb, NULL);
	ev_hup = evsignal_new(base, SIGHUP, hup_cb, (void *)file);
	if (ev_in == NULL || ev_term == NULL || ev_int == NULL ||
	    ev_hup == NULL || event_add(ev_in, NULL) == -1 ||
	    event_add(ev_term, NULL) == -1 || event_add(ev_int, NULL) == -1 ||
	    event_add(ev_hup, NULL) == -1)
		errx(1, "cannot register events");
	signal(SIGPIPE, SIG_IGN);
	out("ready");
	event_base_dispatch(base);
	event_free(ev_in);
	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_hup);
	event_base_free(base);
	return 0;
}
