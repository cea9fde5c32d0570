/*
 * dcs-driver: runs the dcs engine without privsep against a real etcd and
 * plays the parent.  Test-only.
 *
 *   dcs-driver -f yaim.yml [-n nodename] [-H] [-v]
 *
 * -n overrides the node name, -H starts healthy (as if the checker had
 * reported healthy at once).  The parent's side is a small in-memory set
 * of held addresses: every IMSG_ADDR_ADD/DEL/SYNC is answered with
 * ADDR_STATE up, down or refused, asynchronously (the next loop pass), as
 * the real parent answers over its socket.  Lines on stdout, each with a
 * CLOCK_MONOTONIC time in ms (comparable between drivers):
 *   <ms> held IP            the address went up
 *   <ms> dropped IP         the address went down
 *   <ms> refused IP         an add answered ADDR_REFUSED
 *   <ms> cmd WORDS          a command was read
 *   <ms> released           ops->released was called (then exit 0)
 * Commands on stdin, one a line: healthy, unhealthy, link down, link up,
 * refuse IP (the next add of IP is refused), drop-watch N (the engine
 * loses its next N watch events: engine_test_drop_events), reload (read the config
 * file again: engine_reconfigure), shutdown.  EOF on stdin is
 * like shutdown.
 */
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "blob.h"
#include "config.h"
#include "log.h"
#include "proto.h"
#include "dcs/engine.h"

#define MAX_ADDRS	IMSG_ADDR_SYNC_MAX

static struct event_base	*base;
static struct yaim_addr		 held[MAX_ADDRS];
static size_t			 nheld;
static struct yaim_addr		 refuse_next[64];
static size_t			 nrefuse;
static struct imsg_addr_state	*replies;
static size_t			 nreplies, replies_cap;
static struct event		*reply_ev;
static char			 linebuf[1024];
static const char		*conf_file;
static char			 conf_name[CFG_NAME_MAX];
static struct yaim_blobs	 blobs;
static size_t			 linelen;

static uint64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
say(const char *what, const struct yaim_addr *a)
{
	char	 buf[YAIM_ADDRSTRLEN];

	if (a != NULL)
		printf("%" PRIu64 " %s %s\n", now_ms(), what,
		    yaim_addr_ntop(a, buf, sizeof(buf)));
	else
		printf("%" PRIu64 " %s\n", now_ms(), what);
	fflush(stdout);
}

static ssize_t
find(const struct yaim_addr *v, size_t n, const struct yaim_addr *a)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (yaim_addr_cmp(&v[i], a) == 0)
			return (ssize_t)i;
	return -1;
}

static void
reply(const struct yaim_addr *a, uint32_t state, uint32_t refusal)
{
	struct imsg_addr_state	*r;

	if (nreplies == replies_cap) {
		replies_cap = replies_cap ? replies_cap * 2 : 64;
		replies = reallocarray(replies, replies_cap, sizeof(*r));
		if (replies == NULL)
			fatal("%s", __func__);
	}
	r = &replies[nreplies++];
	memset(r, 0, sizeof(*r));
	r->addr = *a;
	r->state = state;
	r->refusal = refusal;
	event_active(reply_ev, EV_TIMEOUT, 1);
}

static void
deliver_replies(evutil_socket_t fd, short what, void *arg)
{
	struct imsg_addr_state	*v = replies;
	size_t			 i, n = nreplies;

	(void)fd;
	(void)what;
	(void)arg;
	replies = NULL;
	nreplies = replies_cap = 0;
	for (i = 0; i < n; i++)
		engine_addr_state(&v[i]);
	free(v);
}

static void
do_add(const struct yaim_addr *a)
{
	ssize_t	 r;

	if ((r = find(refuse_next, nrefuse, a)) >= 0) {
		refuse_next[r] = refuse_next[--nrefuse];
		say("refused", a);
		reply(a, ADDR_REFUSED, AR_NOT_ALLOWED);
		return;
	}
	if (find(held, nheld, a) < 0) {
		if (nheld == MAX_ADDRS)
			fatalx("%s: too many addresses", __func__);
		held[nheld++] = *a;
		say("held", a);
	}
	reply(a, ADDR_UP, AR_NONE);
}

static void
do_del(const struct yaim_addr *a)
{
	ssize_t	 r;

	if ((r = find(held, nheld, a)) >= 0) {
		held[r] = held[--nheld];
		say("dropped", a);
	}
	reply(a, ADDR_DOWN, AR_NONE);
}

static void
op_addr_req(uint32_t type, const struct imsg_addr_req *req, void *arg)
{
	(void)arg;
	if (type == IMSG_ADDR_ADD)
		do_add(&req->addr);
	else if (type == IMSG_ADDR_DEL)
		do_del(&req->addr);
	else
		fatalx("%s: bad type %u", __func__, type);
}

/* As the real parent: drop what is not in the set, then add the rest. */
static void
op_addr_sync(const struct yaim_addr *set, size_t n, void *arg)
{
	size_t	 i;

	(void)arg;
	for (i = nheld; i-- > 0;)
		if (find(set, n, &held[i]) < 0) {
			struct yaim_addr	 a = held[i];

			held[i] = held[--nheld];
			say("dropped", &a);
			reply(&a, ADDR_DOWN, AR_NONE);
		}
	for (i = 0; i < n; i++)
		do_add(&set[i]);
}

static void
op_released(void *arg)
{
	(void)arg;
	say("released", NULL);
	event_base_loopexit(base, NULL);
}

/* The parent's watchdog (IMSG_HOLD_UNTIL) is not played here: silent. */
static void
op_hold_until(uint64_t until_ms, void *arg)
{
	(void)until_ms;
	(void)arg;
}

static void
send_health(int healthy)
{
	struct imsg_health	 h;

	memset(&h, 0, sizeof(h));
	h.healthy = healthy;
	h.reason = healthy ? HR_OK : HR_STATUS;
	snprintf(h.text, sizeof(h.text), "%s", healthy ? "ok" :
	    "dcs-driver: unhealthy command");
	engine_health(&h);
}

/*
 * IMSG_NETWORKS as the parent sends it after a config: this parent allows
 * allowed-networks, or anything (complete 0) when the key is not set.
 */
static void
send_networks(const struct yaim_config *c)
{
	struct imsg_networks	 nw;
	char			 err[128];
	uint32_t		 i;

	memset(&nw, 0, sizeof(nw));
	for (i = 0; i < c->n_networks && i < IMSG_NETWORKS_MAX; i++)
		nw.net[nw.n++] = c->networks[i];
	nw.complete = nw.n > 0;
	if (imsg_networks_check(&nw, err, sizeof(err)) == -1)
		fatalx("%s: %s", __func__, err);
	engine_networks(&nw);
}

static void
command(char *line)
{
	struct imsg_link_state	 ls;
	static struct yaim_config reload_conf;
	struct yaim_addr	 a;
	char			 what[64], err[512];

	snprintf(what, sizeof(what), "cmd %s", line);
	say(what, NULL);
	memset(&ls, 0, sizeof(ls));
	if (strcmp(line, "healthy") == 0)
		send_health(1);
	else if (strcmp(line, "unhealthy") == 0)
		send_health(0);
	else if (strcmp(line, "link down") == 0 ||
	    strcmp(line, "link up") == 0) {
		ls.up = strcmp(line, "link up") == 0;
		engine_link_state(&ls);
	} else if (strncmp(line, "refuse ", 7) == 0) {
		if (yaim_addr_parse(line + 7, &a, 0) == -1)
			fprintf(stderr, "dcs-driver: bad address %s\n",
			    line + 7);
		else if (nrefuse < sizeof(refuse_next) / sizeof(a)) {
			refuse_next[nrefuse++] = a;
			/* tests wait for this instead of sleeping */
			say("will-refuse", &a);
		}
	} else if (strncmp(line, "drop-watch ", 11) == 0) {
		engine_test_drop_events = (unsigned)strtoul(line + 11, NULL,
		    10);
	} else if (strcmp(line, "reload") == 0) {
		if (config_load(conf_file, &reload_conf, err,
		    sizeof(err)) == -1)
			fprintf(stderr, "dcs-driver: reload: %s\n", err);
		else {
			snprintf(reload_conf.nodename,
			    sizeof(reload_conf.nodename), "%s", conf_name);
			engine_reconfigure(&reload_conf, &blobs);
			send_networks(&reload_conf);
		}
	} else if (strcmp(line, "shutdown") == 0)
		engine_shutdown();
	else if (line[0] != '\0')
		fprintf(stderr, "dcs-driver: unknown command \"%s\"\n", line);
}

static void
stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct event	*self = arg;
	char		 buf[512], *nl;
	ssize_t		 n;
	size_t		 i;

	(void)what;
	if ((n = read(fd, buf, sizeof(buf))) == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		fatal("%s: read", __func__);
	}
	if (n == 0) {
		event_del(self);
		command((char[]){ "shutdown" });
		return;
	}
	for (i = 0; i < (size_t)n; i++) {
		if (linelen < sizeof(linebuf) - 1)
			linebuf[linelen++] = buf[i];
		if (buf[i] != '\n')
			continue;
		linebuf[linelen] = '\0';
		if ((nl = strchr(linebuf, '\n')) != NULL)
			*nl = '\0';
		linelen = 0;
		command(linebuf);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: dcs-driver -f yaim.yml [-n nodename] [-H] "
	    "[-v]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	static struct yaim_config	 conf;
	struct engine_ops		 ops = { op_addr_sync, op_addr_req,
					    op_released, op_hold_until, NULL };
	struct event			*in_ev;
	const char			*file = NULL, *name = NULL;
	char				 err[512];
	int				 ch, verbose = 0, healthy = 0;

	while ((ch = getopt(argc, argv, "f:Hn:v")) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'H':
			healthy = 1;
			break;
		case 'n':
			name = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (file == NULL || optind != argc)
		usage();
	log_init(1, LOG_DAEMON);
	log_setverbose(verbose);
	log_procinit("dcs-driver");
	if (config_load(file, &conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "dcs-driver: %s\n", err);
		return 1;
	}
	if (name != NULL)
		snprintf(conf.nodename, sizeof(conf.nodename), "%s", name);
	conf_file = file;
	snprintf(conf_name, sizeof(conf_name), "%s", conf.nodename);
	if (blobs_load(&conf, &blobs, err, sizeof(err)) == -1) {
		fprintf(stderr, "dcs-driver: %s\n", err);
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init");
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if ((reply_ev = event_new(base, -1, 0, deliver_replies, NULL)) == NULL)
		fatalx("event_new");
	in_ev = event_new(base, STDIN_FILENO, EV_READ | EV_PERSIST, stdin_cb,
	    event_self_cbarg());
	if (in_ev == NULL || event_add(in_ev, NULL) == -1)
		fatalx("stdin event");
	engine_init(base, &ops);
	send_networks(&conf);
	if (engine_start(&conf, &blobs) == -1)
		fatalx("engine_start failed");
	if (healthy)
		send_health(1);
	event_base_dispatch(base);
	event_free(in_ev);
	event_free(reply_ev);
	event_base_free(base);
	blobs_free(&blobs);
	free(replies);
	curl_global_cleanup();
	return 0;
}
