/*
 * etcd-driver: exercises dcs/etcd.c against a real etcd and prints one
 * line per result, for regress/integration/etcd_*.sh.
 *
 * usage: etcd-driver -e URL[,URL...] [-u user -p pass] [--ca f]
 *            [--cert f] [--key f] [--seed N] [--timeout MS] [--retries N]
 *            [--retry-after MS] [--silence MS] CMD [ARGS] [-- CMD ...]
 *
 * Commands run one after another; "@" as a lease argument means the
 * lease of the last successful grant.
 *   grant TTL                 grant ok id=ID ttl=TTL
 *   keepalive [ID]            keepalive ok ttl=TTL | keepalive not-found: ..
 *   revoke [ID]               revoke ok
 *   put KEY VALUE [ID]        put ok rev=N (a txn with no compare)
 *   del KEY                   del ok deleted=N
 *   range KEY [prefix]        range ok rev=N count=N more=0 then
 *                             kv KEY VALUE create=N mod=N version=N lease=N
 *   claim KEY NODE [ID]       claim won rev=N | claim lost holder=NODE
 *   release KEY [ID]          release ok | release not-ours
 *   putnew KEY VALUE [ID]     put only if absent or on our lease:
 *                             putnew created | putnew ours |
 *                             putnew taken lease=N
 *   watch KEY REV N [prefix]  watch created rev=N, then event PUT|DELETE
 *                             KEY VALUE mod=N, until N events or a final
 *                             status: watch compacted compact=N ...
 *   watch-bg KEY REV [prefix] a watch in the background: its lines come
 *                             as they happen; the next command starts now
 *   ranges N MS KEY           N ranges MS apart: "ranges ok=N err=M"
 *   sleep MS
 *   endpoint                  endpoint URL
 *   peerkey PREFIX            the cluster key of the peer channel
 *                             (dcs/peer_key.c): peerkey ok created=0|1
 *                             key=BASE64 | peerkey error: TEXT
 * Errors print "<cmd> <status>: <error text>".  Exit 0 unless misused.
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
#include "dcs/etcd.h"
#include "dcs/etcd_json.h"
#include "dcs/peer_key.h"

static struct event_base	*base;
static struct etcd_client	*client;
static char			**cmds;
static int			 ncmds, pos;
static int64_t			 last_lease;
static struct event		*step_ev;

/* per-command state */
static char	 cur_key[1024];
static int	 want_events, got_events, ranges_left, ranges_ok, ranges_err;
static uint32_t	 ranges_ms;
static struct etcd_watch *watch, *bg_watch;

static uint32_t	 silence_ms;
static struct event *ranges_ev;

static void	next_step(void);

static void __attribute__((noreturn))
err_exit(const char *what)
{
	fprintf(stderr, "etcd-driver: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: etcd-driver -e URL[,URL...] [-u user -p pass]"
	    " [--ca f] [--cert f] [--key f] [--seed N] [--timeout MS]"
	    " [--retries N] [--retry-after MS] [--silence MS] CMD ...\n");
	exit(2);
}

static int64_t
lease_arg(int i)
{
	if (i >= ncmds || strcmp(cmds[i], "@") == 0)
		return last_lease;
	return strtoll(cmds[i], NULL, 10);
}

static const char *
arg(int i)
{
	if (i >= ncmds) {
		fprintf(stderr, "etcd-driver: missing argument\n");
		exit(2);
	}
	return cmds[i];
}

/* Print kv fields; values may hold anything, print them as they are. */
static void
print_kv(const char *tag, const struct etcd_kv *kv)
{
	printf("%s %.*s %.*s create=%" PRId64 " mod=%" PRId64 " version=%"
	    PRId64 " lease=%" PRId64 "\n", tag, (int)kv->key_len, kv->key,
	    (int)kv->value_len, kv->value, kv->create_revision,
	    kv->mod_revision, kv->version, kv->lease);
}

static int
report_error(const char *cmd, const struct etcd_result *r)
{
	if (r->status == ETCD_OK)
		return 0;
	printf("%s %s: %s\n", cmd, etcd_status_name(r->status), r->error);
	return 1;
}

static void
done_step(int consumed)
{
	struct timeval	tv = { 0, 0 };

	fflush(stdout);
	pos += consumed;
	evtimer_add(step_ev, &tv);
}

static int step_args;

static void
grant_cb(const struct etcd_result *r, void *a)
{
	(void)a;
	if (!report_error("grant", r)) {
		last_lease = r->lease_id;
		printf("grant ok id=%" PRId64 " ttl=%" PRId64 "\n", r->lease_id,
		    r->ttl);
	}
	done_step(step_args);
}

static void
keepalive_cb(const struct etcd_result *r, void *a)
{
	(void)a;
	if (!report_error("keepalive", r))
		printf("keepalive ok ttl=%" PRId64 " sent_ms=%" PRIu64 "\n",
		    r->ttl, r->sent_ms);
	done_step(step_args);
}

static void
revoke_cb(const struct etcd_result *r, void *a)
{
	(void)a;
	if (!report_error("revoke", r))
		printf("revoke ok rev=%" PRId64 "\n", r->revision);
	done_step(step_args);
}

static void
put_cb(const struct etcd_result *r, void *a)
{
	(void)a;
	if (!report_error("put", r))
		printf("put ok rev=%" PRId64 " succeeded=%d\n", r->revision,
		    r->succeeded);
	done_step(step_args);
}

static void
del_cb(const struct etcd_result *r, void *a)
{
	(void)a;
	if (!report_error("del", r))
		printf("del ok deleted=%" PRId64 "\n", r->n_responses ?
		    r->responses[0].deleted : -1);
	done_step(step_args);
}

static void
range_cb(const struct etcd_result *r, void *a)
{
	size_t	i;

	(void)a;
	if (!report_error("range", r)) {
		printf("range ok rev=%" PRId64 " count=%" PRId64 " more=%d "
		    "n=%zu\n", r->revision, r->range.count, r->range.more,
		    r->range.n_kvs);
		for (i = 0; i < r->range.n_kvs; i++)
			print_kv("kv", &r->range.kvs[i]);
	}
	done_step(step_args);
}

static void
claim_cb(const struct etcd_result *r, void *a)
{
	(void)a;
	if (!report_error("claim", r)) {
		if (r->succeeded)
			printf("claim won rev=%" PRId64 "\n", r->revision);
		else if (r->n_responses == 1 &&
		    r->responses[0].kind == ETCD_OP_RANGE &&
		    r->responses[0].range.n_kvs == 1)
			printf("claim lost holder=%s\n",
			    r->responses[0].range.kvs[0].value);
		else
			printf("claim lost holder=?\n");
	}
	done_step(step_args);
}

static void
release_cb(const struct etcd_result *r, void *a)
{
	(void)a;
	if (!report_error("release", r))
		printf("release %s\n", r->succeeded ? "ok" : "not-ours");
	done_step(step_args);
}

static char	putnew_key[1024], putnew_value[1024];
static int64_t	putnew_lease;

static void
putnew_ours_cb(const struct etcd_result *r, void *a)
{
	(void)a;
	if (!report_error("putnew", r))
		printf("putnew %s\n", r->succeeded ? "ours" : "taken");
	done_step(step_args);
}

/*
 * Failure branch of "create == 0": the range tells whose key it is; on
 * our lease, put again under "lease == ours".
 */
static void
putnew_cb(const struct etcd_result *r, void *a)
{
	const struct etcd_op_result	*op;
	struct etcd_compare		 cmp = { putnew_key, ETCD_CMP_LEASE,
					    ETCD_CMP_EQUAL, 0, NULL };
	struct etcd_op			 put = { ETCD_OP_PUT, putnew_key,
					    putnew_value, 0, 0 };
	struct etcd_txn			 t = { &cmp, 1, &put, 1, NULL, 0 };

	(void)a;
	if (report_error("putnew", r)) {
		done_step(step_args);
		return;
	}
	if (r->succeeded) {
		printf("putnew created\n");
		done_step(step_args);
		return;
	}
	op = r->n_responses == 1 ? &r->responses[0] : NULL;
	if (op == NULL || op->kind != ETCD_OP_RANGE || op->range.n_kvs != 1 ||
	    op->range.kvs[0].lease != putnew_lease) {
		printf("putnew taken lease=%" PRId64 "\n", op != NULL &&
		    op->range.n_kvs == 1 ? op->range.kvs[0].lease : 0);
		done_step(step_args);
		return;
	}
	cmp.number = putnew_lease;
	put.lease = putnew_lease;
	if (etcd_txn(client, &t, putnew_ours_cb, NULL) == NULL)
		err_exit("etcd_txn");
}

static void
watch_events(const struct etcd_event *ev, size_t n, int64_t rev, void *a)
{
	size_t	i;
	int	bg = a != NULL;

	if (n == 0)
		printf("progress rev=%" PRId64 "\n", rev);
	for (i = 0; i < n; i++) {
		printf("event %s %.*s %.*s mod=%" PRId64 " prev=%d\n",
		    ev[i].type == ETCD_EVENT_PUT ? "PUT" : "DELETE",
		    (int)ev[i].kv.key_len, ev[i].kv.key,
		    (int)ev[i].kv.value_len, ev[i].kv.value,
		    ev[i].kv.mod_revision, ev[i].has_prev_kv);
		got_events++;
	}
	fflush(stdout);
	if (bg)
		return;
	if (want_events > 0 && got_events >= want_events) {
		etcd_watch_stop(watch);
		watch = NULL;
		printf("watch done events=%d\n", got_events);
		done_step(step_args);
	}
}

static void
watch_status(const struct etcd_result *r, void *a)
{
	if (a != NULL) {
		/* background watch */
		if (r->status == ETCD_OK)
			printf("watch-bg created rev=%" PRId64 " endpoint=%s\n",
			    r->revision, r->endpoint);
		else {
			bg_watch = NULL;
			printf("watch-bg %s: %s\n",
			    etcd_status_name(r->status), r->error);
		}
		fflush(stdout);
		return;
	}
	if (r->status == ETCD_OK) {
		printf("watch created rev=%" PRId64 " endpoint=%s\n",
		    r->revision, r->endpoint);
		fflush(stdout);
		if (want_events == 0) {
			etcd_watch_stop(watch);
			watch = NULL;
			done_step(step_args);
		}
		return;
	}
	watch = NULL;
	printf("watch %s compact=%" PRId64 ": %s\n",
	    etcd_status_name(r->status), r->compact_revision, r->error);
	done_step(step_args);
}

static void	ranges_next(void);

static void
ranges_cb(const struct etcd_result *r, void *a)
{
	(void)a;
	if (r->status == ETCD_OK)
		ranges_ok++;
	else {
		ranges_err++;
		printf("ranges error: %s\n", r->error);
	}
	ranges_next();
}

static void
ranges_timer(evutil_socket_t fd, short what, void *a)
{
	(void)fd;
	(void)what;
	(void)a;
	if (etcd_range(client, cur_key, 1, 0, ranges_cb, NULL) == NULL)
		err_exit("etcd_range");
}

static void
ranges_next(void)
{
	struct timeval	tv;

	if (ranges_left-- <= 0) {
		printf("ranges ok=%d err=%d endpoint=%s\n", ranges_ok,
		    ranges_err, etcd_client_endpoint(client));
		done_step(step_args);
		return;
	}
	tv.tv_sec = ranges_ms / 1000;
	tv.tv_usec = ranges_ms % 1000 * 1000;
	evtimer_add(ranges_ev, &tv);
}

static void
sleep_cb(evutil_socket_t fd, short what, void *a)
{
	(void)fd;
	(void)what;
	(void)a;
	done_step(step_args);
}

static void
endpoint_changed(const char *ep, void *a)
{
	(void)a;
	printf("endpoint-changed %s\n", ep);
	fflush(stdout);
}

/* ---- steps ---- */

static void
txn_put(const char *key, const char *value, int64_t lease)
{
	struct etcd_op	op = { ETCD_OP_PUT, key, value, lease, 0 };
	struct etcd_txn	t = { NULL, 0, &op, 1, NULL, 0 };

	if (etcd_txn(client, &t, put_cb, NULL) == NULL)
		err_exit("etcd_txn");
}

static void
txn_del(const char *key)
{
	struct etcd_op	op = { ETCD_OP_DELETE, key, NULL, 0, 0 };
	struct etcd_txn	t = { NULL, 0, &op, 1, NULL, 0 };

	if (etcd_txn(client, &t, del_cb, NULL) == NULL)
		err_exit("etcd_txn");
}

static void
txn_claim(const char *key, const char *node, int64_t lease)
{
	struct etcd_compare	cmp = { key, ETCD_CMP_CREATE, ETCD_CMP_EQUAL,
				    0, NULL };
	struct etcd_op		put = { ETCD_OP_PUT, key, node, lease, 0 };
	struct etcd_op		get = { ETCD_OP_RANGE, key, NULL, 0, 0 };
	struct etcd_txn		t = { &cmp, 1, &put, 1, &get, 1 };

	if (etcd_txn(client, &t, claim_cb, NULL) == NULL)
		err_exit("etcd_txn");
}

static void
txn_release(const char *key, int64_t lease)
{
	struct etcd_compare	cmp = { key, ETCD_CMP_LEASE, ETCD_CMP_EQUAL,
				    lease, NULL };
	struct etcd_op		del = { ETCD_OP_DELETE, key, NULL, 0, 0 };
	struct etcd_txn		t = { &cmp, 1, &del, 1, NULL, 0 };

	if (etcd_txn(client, &t, release_cb, NULL) == NULL)
		err_exit("etcd_txn");
}

/* Put only if absent, or if on our lease (duplicate node names). */
static void
txn_putnew(const char *key, const char *value, int64_t lease)
{
	struct etcd_compare	cmp = { key, ETCD_CMP_CREATE, ETCD_CMP_EQUAL,
				    0, NULL };
	struct etcd_op		put = { ETCD_OP_PUT, key, value, lease, 0 };
	struct etcd_op		get = { ETCD_OP_RANGE, key, NULL, 0, 0 };
	struct etcd_txn		t = { &cmp, 1, &put, 1, &get, 1 };

	snprintf(putnew_key, sizeof(putnew_key), "%s", key);
	snprintf(putnew_value, sizeof(putnew_value), "%s", value);
	putnew_lease = lease;
	if (etcd_txn(client, &t, putnew_cb, NULL) == NULL)
		err_exit("etcd_txn");
}

static void
peerkey_cb(int ok, const uint8_t *key, size_t keylen, int created,
    const char *err, void *a)
{
	char	 b64[(PEER_KEY_MAX + 2) / 3 * 4 + 1];

	(void)a;
	if (!ok)
		printf("peerkey error: %s\n", err);
	else {
		etcd_base64_encode(key, keylen, b64);
		printf("peerkey ok created=%d key=%s\n", created, b64);
	}
	done_step(step_args);
}

static void
step(evutil_socket_t fd, short what, void *a)
{
	(void)fd;
	(void)what;
	(void)a;
	next_step();
}

/* Arguments of the command at pos, up to the next "--". */
static int
count_args(void)
{
	int	i;

	for (i = pos + 1; i < ncmds && strcmp(cmds[i], "--") != 0; i++)
		;
	return i - pos;
}

static void
next_step(void)
{
	const char	*c;
	int		 n;

	while (pos < ncmds && strcmp(cmds[pos], "--") == 0)
		pos++;
	if (pos >= ncmds) {
		event_base_loopexit(base, NULL);
		return;
	}
	c = cmds[pos];
	n = count_args();
	step_args = n;
	if (strcmp(c, "grant") == 0) {
		if (etcd_lease_grant(client, strtoll(arg(pos + 1), NULL, 10),
		    grant_cb, NULL) == NULL)
			err_exit("grant");
	} else if (strcmp(c, "keepalive") == 0) {
		if (etcd_lease_keepalive(client, lease_arg(n > 1 ? pos + 1 :
		    ncmds), keepalive_cb, NULL) == NULL)
			err_exit("keepalive");
	} else if (strcmp(c, "revoke") == 0) {
		if (etcd_lease_revoke(client, lease_arg(n > 1 ? pos + 1 :
		    ncmds), revoke_cb, NULL) == NULL)
			err_exit("revoke");
	} else if (strcmp(c, "put") == 0)
		txn_put(arg(pos + 1), arg(pos + 2), n > 3 ?
		    lease_arg(pos + 3) : 0);
	else if (strcmp(c, "del") == 0)
		txn_del(arg(pos + 1));
	else if (strcmp(c, "range") == 0) {
		if (etcd_range(client, arg(pos + 1), n > 2 &&
		    strcmp(cmds[pos + 2], "prefix") == 0, 0, range_cb,
		    NULL) == NULL)
			err_exit("range");
	} else if (strcmp(c, "claim") == 0)
		txn_claim(arg(pos + 1), arg(pos + 2), n > 3 ?
		    lease_arg(pos + 3) : last_lease);
	else if (strcmp(c, "release") == 0)
		txn_release(arg(pos + 1), n > 2 ? lease_arg(pos + 2) :
		    last_lease);
	else if (strcmp(c, "peerkey") == 0) {
		if (peer_key_ensure(client, arg(pos + 1), peerkey_cb,
		    NULL) == NULL)
			err_exit("peerkey");
	} else if (strcmp(c, "putnew") == 0)
		txn_putnew(arg(pos + 1), arg(pos + 2), n > 3 ?
		    lease_arg(pos + 3) : last_lease);
	else if (strcmp(c, "watch") == 0) {
		struct etcd_watch_opts o;

		memset(&o, 0, sizeof(o));
		o.key = arg(pos + 1);
		o.start_revision = strtoll(arg(pos + 2), NULL, 10);
		want_events = atoi(arg(pos + 3));
		got_events = 0;
		o.prefix = n > 4 && strcmp(cmds[pos + 4], "prefix") == 0;
		o.prev_kv = 1;
		o.silence_ms = silence_ms;
		watch = etcd_watch_start(client, &o, watch_events,
		    watch_status, NULL);
		if (watch == NULL)
			err_exit("watch");
	} else if (strcmp(c, "watch-bg") == 0) {
		struct etcd_watch_opts o;

		memset(&o, 0, sizeof(o));
		o.key = arg(pos + 1);
		o.start_revision = strtoll(arg(pos + 2), NULL, 10);
		o.prefix = n > 3 && strcmp(cmds[pos + 3], "prefix") == 0;
		o.silence_ms = silence_ms;
		etcd_watch_stop(bg_watch);
		bg_watch = etcd_watch_start(client, &o, watch_events,
		    watch_status, &bg_watch);
		if (bg_watch == NULL)
			err_exit("watch-bg");
		done_step(n);
	} else if (strcmp(c, "ranges") == 0) {
		ranges_left = atoi(arg(pos + 1));
		ranges_ms = (uint32_t)atoi(arg(pos + 2));
		snprintf(cur_key, sizeof(cur_key), "%s", arg(pos + 3));
		ranges_ok = ranges_err = 0;
		ranges_next();
	} else if (strcmp(c, "sleep") == 0) {
		struct timeval tv;
		long ms = atol(arg(pos + 1));

		tv.tv_sec = ms / 1000;
		tv.tv_usec = ms % 1000 * 1000;
		event_base_once(base, -1, EV_TIMEOUT, sleep_cb, NULL, &tv);
	} else if (strcmp(c, "endpoint") == 0) {
		printf("endpoint %s\n", etcd_client_endpoint(client));
		done_step(n);
	} else {
		fprintf(stderr, "etcd-driver: unknown command %s\n", c);
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
		fprintf(stderr, "etcd-driver: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (blobs_add(b, kind, 0, buf, n) == -1) {
		fprintf(stderr, "etcd-driver: %s: cannot add blob\n", path);
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
		{ "silence", required_argument, NULL, 'S' },
		{ "resolve", required_argument, NULL, 'R' },
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
	while ((ch = getopt_long(argc, argv, "+e:u:p:", longopts, NULL)) != -1) {
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
		case 'S':
			silence_ms = (uint32_t)atoi(optarg);
			break;
		case 'R':
			if (conf.n_etcd_resolve == CFG_MAX_ENDPOINTS)
				usage();
			snprintf(conf.etcd_resolve[conf.n_etcd_resolve++],
			    sizeof(conf.etcd_resolve[0]), "%s", optarg);
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
	client = etcd_client_new(base, &conf, &blobs, seed, err, sizeof(err));
	if (client == NULL) {
		fprintf(stderr, "etcd-driver: %s\n", err);
		return 2;
	}
	blobs_free(&blobs);
	explicit_bzero(conf.etcd_password, sizeof(conf.etcd_password));
	etcd_client_on_endpoint_change(client, endpoint_changed, NULL);
	step_ev = evtimer_new(base, step, NULL);
	ranges_ev = evtimer_new(base, ranges_timer, NULL);
	next_step();
	event_base_dispatch(base);
	etcd_watch_stop(bg_watch);
	etcd_client_free(client);
	event_free(step_ev);
	event_free(ranges_ev);
	event_base_free(base);
	return 0;
}
