/*
 * etcd2-driver: exercises dcs/etcd2.c (the v2 keys API client) against a
 * real etcd started with --enable-v2 and prints one line per result, for
 * regress/integration/etcd2_client.sh.
 *
 * usage: etcd2-driver -e URL[,URL...] [-u user -p pass] [--ca f]
 *            [--cert f] [--key f] [--seed N] [--timeout MS] [--retries N]
 *            [--retry-after MS] CMD [ARGS] [-- CMD ...]
 *
 * Commands run one after another:
 *   list PREFIX               list ok index=N n=N, then per pool entry
 *                             ip NAME dir=0|1 mod=N mark=VALUE|- ttl=N
 *   get KEY [recursive]       get ok index=N nodes=N, then
 *                             node KEY value=V|- dir=0|1 ttl=N mod=N
 *   create KEY VALUE TTL      create ok mod=N ttl=N
 *   set KEY VALUE [TTL]       set ok mod=N
 *   refresh KEY VALUE TTL     refresh ok mod=N ttl=N
 *   delete KEY [PREVVALUE]    delete ok mod=N
 *   watch KEY INDEX [MS]      one event: watch ok action=A key=K mod=N
 *                             | watch cleared index=N | watch idle
 *   watch-bg KEY INDEX        watches in the background from INDEX on,
 *                             each event as "event A K mod=N", each
 *                             from the last mod + 1; the next command
 *                             starts at once, and the run ends with the
 *                             last command
 *   sleep MS
 * Errors print "<cmd> <status> code=N: <error text>".  Exit 0 unless
 * misused.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <event2/event.h>

#include "blob.h"
#include "config.h"
#include "log.h"
#include "dcs/etcd2.h"

static struct event_base	*base;
static struct etcd2_client	*client;
static char			**cmds;
static int			 ncmds, pos, step_args;
static struct event		*step_ev, *sleep_ev;
static struct etcd2_req		*bg;
static char			 bg_key[1024];

static void	next_step(void);
static void	bg_start(int64_t);

static void __attribute__((noreturn))
err_exit(const char *what)
{
	fprintf(stderr, "etcd2-driver: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: etcd2-driver -e URL[,URL...] [-u user -p pass]"
	    " [--ca f] [--cert f] [--key f] [--seed N] [--timeout MS]"
	    " [--retries N] [--retry-after MS] CMD ...\n");
	exit(2);
}

static const char *
arg(int i)
{
	if (i >= ncmds || strcmp(cmds[i], "--") == 0) {
		fprintf(stderr, "etcd2-driver: missing argument\n");
		exit(2);
	}
	return cmds[i];
}

static int
report_error(const char *cmd, const struct etcd2_result *r)
{
	if (r->status == ETCD2_OK)
		return 0;
	printf("%s %s code=%d: %s\n", cmd, etcd2_status_name(r->status),
	    r->error_code, r->error);
	return 1;
}

static void
done_step(void)
{
	struct timeval	tv = { 0, 0 };

	fflush(stdout);
	pos += step_args;
	evtimer_add(step_ev, &tv);
}

static void
print_node(const struct etcd2_node *n)
{
	printf("node %s value=%s dir=%d ttl=%" PRId64 " mod=%" PRId64 "\n",
	    n->key[0] ? n->key : "/", n->value != NULL ? n->value : "-",
	    n->dir, n->ttl, n->modified_index);
}

static void
list_cb(const struct etcd2_result *r, void *a)
{
	size_t	i;

	(void)a;
	if (!report_error("list", r)) {
		printf("list ok index=%" PRId64 " n=%zu\n", r->index, r->n_ips);
		for (i = 0; i < r->n_ips; i++)
			printf("ip %.*s dir=%d mod=%" PRId64 " mark=%s ttl=%"
			    PRId64 "\n", (int)r->ips[i].name_len,
			    r->ips[i].name, r->ips[i].dir,
			    r->ips[i].modified_index, r->ips[i].mark ?
			    r->ips[i].mark->value : "-", r->ips[i].mark ?
			    r->ips[i].mark->ttl : 0);
	}
	done_step();
}

static void
get_cb(const struct etcd2_result *r, void *a)
{
	size_t	i;

	(void)a;
	if (!report_error("get", r)) {
		printf("get ok index=%" PRId64 " nodes=%zu\n", r->index,
		    r->n_nodes);
		for (i = 0; i < r->n_nodes; i++)
			print_node(&r->nodes[i]);
	}
	done_step();
}

/* create, set, refresh, delete: the name is the callback's argument. */
static void
write_cb(const struct etcd2_result *r, void *a)
{
	const char	*cmd = a;

	if (!report_error(cmd, r)) {
		printf("%s ok mod=%" PRId64, cmd, r->node->modified_index);
		if (r->node->has_ttl)
			printf(" ttl=%" PRId64, r->node->ttl);
		printf("\n");
	}
	done_step();
}

static void
watch_cb(const struct etcd2_result *r, void *a)
{
	(void)a;
	if (r->status == ETCD2_OK)
		printf("watch ok action=%s key=%s mod=%" PRId64 "\n",
		    r->action, r->node->key, r->node->modified_index);
	else if (r->status == ETCD2_CLEARED)
		printf("watch cleared index=%" PRId64 "\n", r->index);
	else if (r->status == ETCD2_IDLE)
		printf("watch idle\n");
	else
		report_error("watch", r);
	done_step();
}

static void
bg_cb(const struct etcd2_result *r, void *a)
{
	int64_t	from = *(int64_t *)a;

	bg = NULL;
	if (r->status == ETCD2_OK) {
		printf("event %s %s mod=%" PRId64 "\n", r->action,
		    r->node->key, r->node->modified_index);
		from = r->node->modified_index + 1;
	} else if (r->status != ETCD2_IDLE) {
		report_error("watch-bg", r);
		fflush(stdout);
		return;
	}
	fflush(stdout);
	bg_start(from);
}

static void
bg_start(int64_t from)
{
	static int64_t	idx;

	idx = from;
	if ((bg = etcd2_watch(client, bg_key, idx, 2000, bg_cb, &idx)) ==
	    NULL)
		err_exit("etcd2_watch");
}

static void
sleep_done(evutil_socket_t fd, short what, void *a)
{
	(void)fd;
	(void)what;
	(void)a;
	done_step();
}

static void
step(evutil_socket_t fd, short what, void *a)
{
	(void)fd;
	(void)what;
	(void)a;
	next_step();
}

static int
count_args(void)
{
	int	i;

	for (i = pos + 1; i < ncmds && strcmp(cmds[i], "--") != 0; i++)
		;
	return i - pos;
}

static int
write_step(const char *c, int n)
{
	struct etcd2_req	*r = NULL;

	if (strcmp(c, "create") == 0)
		r = etcd2_create(client, arg(pos + 1), arg(pos + 2),
		    strtoll(arg(pos + 3), NULL, 10), write_cb, "create");
	else if (strcmp(c, "set") == 0)
		r = etcd2_set(client, arg(pos + 1), arg(pos + 2), n > 3 ?
		    strtoll(arg(pos + 3), NULL, 10) : 0, write_cb, "set");
	else if (strcmp(c, "refresh") == 0)
		r = etcd2_refresh(client, arg(pos + 1), arg(pos + 2),
		    strtoll(arg(pos + 3), NULL, 10), write_cb, "refresh");
	else if (strcmp(c, "delete") == 0)
		r = etcd2_delete(client, arg(pos + 1), n > 2 ? arg(pos + 2) :
		    NULL, write_cb, "delete");
	else
		return 0;
	if (r == NULL)
		err_exit(c);
	return 1;
}

static void
next_step(void)
{
	struct timeval	 tv;
	const char	*c;
	long		 ms;
	int		 n;

	while (pos < ncmds && strcmp(cmds[pos], "--") == 0)
		pos++;
	if (pos >= ncmds) {
		event_base_loopexit(base, NULL);
		return;
	}
	c = cmds[pos];
	n = step_args = count_args();
	if (write_step(c, n))
		return;
	if (strcmp(c, "list") == 0) {
		if (etcd2_list_pool(client, arg(pos + 1), list_cb, NULL) ==
		    NULL)
			err_exit("list");
	} else if (strcmp(c, "get") == 0) {
		if (etcd2_get(client, arg(pos + 1), n > 2, get_cb, NULL) ==
		    NULL)
			err_exit("get");
	} else if (strcmp(c, "watch") == 0) {
		if (etcd2_watch(client, arg(pos + 1), strtoll(arg(pos + 2),
		    NULL, 10), n > 3 ? (uint32_t)atoi(arg(pos + 3)) : 0,
		    watch_cb, NULL) == NULL)
			err_exit("watch");
	} else if (strcmp(c, "watch-bg") == 0) {
		snprintf(bg_key, sizeof(bg_key), "%s", arg(pos + 1));
		bg_start(strtoll(arg(pos + 2), NULL, 10));
		done_step();
	} else if (strcmp(c, "sleep") == 0) {
		ms = atol(arg(pos + 1));
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		evtimer_add(sleep_ev, &tv);
	} else {
		fprintf(stderr, "etcd2-driver: unknown command %s\n", c);
		exit(2);
	}
}

static void
load_blob(struct yaim_blobs *b, uint32_t kind, const char *path)
{
	FILE	*f;
	char	 buf[BLOB_MAX_SIZE];
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "etcd2-driver: %s: %s\n", path,
		    strerror(errno));
		exit(2);
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (blobs_add(b, kind, 0, buf, n) == -1) {
		fprintf(stderr, "etcd2-driver: %s: cannot add blob\n", path);
		exit(2);
	}
}

static void
add_endpoints(struct yaim_config *conf, char *list)
{
	char	*ep;

	while ((ep = strsep(&list, ",")) != NULL) {
		if (*ep == '\0')
			continue;
		if (conf->n_endpoints == CFG_MAX_ENDPOINTS)
			usage();
		snprintf(conf->endpoints[conf->n_endpoints++],
		    sizeof(conf->endpoints[0]), "%s", ep);
	}
}

static void
endpoint_changed(const char *ep, void *a)
{
	(void)a;
	printf("endpoint-changed %s\n", ep);
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	static struct yaim_config	 conf;
	static struct yaim_blobs	 blobs;
	static const struct option	 longopts[] = {
		{ "ca", required_argument, NULL, 'A' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "seed", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "retries", required_argument, NULL, 'r' },
		{ "retry-after", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	char		 err[512];
	uint32_t	 seed = 0;
	int		 ch;

	log_init(1, LOG_DAEMON);
	log_setverbose(1);
	conf.etcd_timeout_ms = 2000;
	conf.retry_num = 2;
	conf.retry_after_ms = 200;
	while ((ch = getopt_long(argc, argv, "+e:u:p:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'e':
			add_endpoints(&conf, optarg);
			break;
		case 'u':
			snprintf(conf.etcd_user, sizeof(conf.etcd_user), "%s",
			    optarg);
			break;
		case 'p':
			snprintf(conf.etcd_password,
			    sizeof(conf.etcd_password), "%s", optarg);
			break;
		case 'A':
			load_blob(&blobs, BLOB_ETCD_CA, optarg);
			break;
		case 'C':
			load_blob(&blobs, BLOB_ETCD_CERT, optarg);
			break;
		case 'K':
			load_blob(&blobs, BLOB_ETCD_KEY, optarg);
			break;
		case 's':
			seed = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 't':
			conf.etcd_timeout_ms = (uint32_t)atoi(optarg);
			break;
		case 'r':
			conf.retry_num = (uint32_t)atoi(optarg);
			break;
		case 'a':
			conf.retry_after_ms = (uint32_t)atoi(optarg);
			break;
		default:
			usage();
		}
	}
	cmds = argv + optind;
	ncmds = argc - optind;
	if (conf.n_endpoints == 0 || ncmds == 0)
		usage();
	if ((base = event_base_new()) == NULL)
		err_exit("event_base_new");
	client = etcd2_client_new(base, &conf, &blobs, seed, err,
	    sizeof(err));
	if (client == NULL) {
		fprintf(stderr, "etcd2-driver: %s\n", err);
		return 2;
	}
	blobs_free(&blobs);
	explicit_bzero(conf.etcd_password, sizeof(conf.etcd_password));
	etcd2_client_on_endpoint_change(client, endpoint_changed, NULL);
	if ((step_ev = evtimer_new(base, step, NULL)) == NULL ||
	    (sleep_ev = evtimer_new(base, sleep_done, NULL)) == NULL)
		err_exit("evtimer_new");
	next_step();
	event_base_dispatch(base);
	etcd2_req_cancel(bg);
	etcd2_client_free(client);
	event_free(step_ev);
	event_free(sleep_ev);
	event_base_free(base);
	return 0;
}
