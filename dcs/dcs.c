/*
 * The dcs child: talks to etcd in a chroot, without privileges, and
 * decides which addresses this node holds.  The parent carries out those
 * decisions after checking them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "child.h"
#include "clock.h"
#include "log.h"
#include "privsep.h"
#include "proto.h"
#include "dcs/control.h"
#include "dcs/engine.h"
#include "dcs/metrics.h"
#include "dcs/metrics_srv.h"
#include "dcs/peer_net.h"

void	dcs_main(int, int) __attribute__((noreturn));

static struct child_cfg	 cfg;
static struct imsgev	 parent_iev;
static struct event_base *base;
static int		 running;
static int		 key_from_file;
static uint32_t		 fence_gen;	/* the parent's last IMSG_FENCED */
static uint64_t		 hold_sent;	/* the last deadline sent */

static void
send_sync(const struct yaim_addr *set, size_t n, void *arg)
{
	(void)arg;
	if (n > IMSG_ADDR_SYNC_MAX)
		fatalx("%s: %zu addresses exceed the limit of %d", __func__,
		    n, IMSG_ADDR_SYNC_MAX);
	if (imsgev_compose(&parent_iev, IMSG_ADDR_SYNC, 0, -1, set,
	    n * sizeof(*set)) == -1)
		fatal("%s: compose", __func__);
}

static void
send_addr_req(uint32_t type, const struct imsg_addr_req *req, void *arg)
{
	(void)arg;
	if (type != IMSG_ADDR_ADD && type != IMSG_ADDR_DEL)
		fatalx("%s: bad type %u", __func__, type);
	if (imsgev_compose(&parent_iev, type, 0, -1, req, sizeof(*req)) == -1)
		fatal("%s: compose", __func__);
}

static void
send_released(void *arg)
{
	(void)arg;
	if (imsgev_compose(&parent_iev, IMSG_DCS_RELEASED, 0, -1, NULL,
	    0) == -1)
		fatal("%s: compose", __func__);
}

/*
 * peer-key-file, when set, is the cluster key (it wins over etcd's);
 * without it the engine gets the key from etcd (dcs/peer_key.h).
 */
static void
peer_key_from_config(void)
{
	const struct yaim_blob	*b;
	uint8_t			 key[PEER_KEY_MAX];
	char			 err[96];
	int			 n;

	if (!peer_net_running())
		return;
	if ((b = blobs_find(&cfg.blobs, BLOB_PEER_KEY, 0)) == NULL) {
		if (key_from_file)
			peer_net_set_key(NULL, 0);
		key_from_file = 0;
		peer_net_pin_key(0);
		return;
	}
	/* The parent checked it; a bad one now is a parent gone wrong. */
	if ((n = peer_key_parse((const char *)b->data, b->len, key, err,
	    sizeof(err))) == -1)
		fatalx("%s: the peer key from the parent: %s", __func__, err);
	peer_net_set_key(key, (size_t)n);
	explicit_bzero(key, sizeof(key));
	key_from_file = 1;
	peer_net_pin_key(1);
}

/*
 * The peer socket: kept and read (datagrams are checked and counted)
 * even before the engine runs the protocol on it.
 */
static void
peer_socket(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_peer_socket	 ps;

	if (imsg->fd == -1)
		fatalx("%s: IMSG_PEER_SOCKET without a socket", __func__);
	if (imsg_get_exact(iev, imsg, &ps, sizeof(ps)) == -1 ||
	    (ps.addr.af != 0 && !yaim_addr_valid(&ps.addr)) ||
	    ps.wildcard > 1 || ps.pad != 0)
		fatalx("%s: bad IMSG_PEER_SOCKET", __func__);
	if (peer_net_running())
		fatalx("%s: a second IMSG_PEER_SOCKET", __func__);
	if (cfg.active == NULL || peer_net_start(base, imsg->fd, &ps,
	    cfg.active->nodename) == -1)
		fatalx("%s: cannot use the peer socket", __func__);
	imsg->fd = -1;
	peer_key_from_config();
	engine_peer_socket();
}

static void
send_hold_until(uint64_t until_ms, void *arg)
{
	struct imsg_hold_until	 hu;

	(void)arg;
	memset(&hu, 0, sizeof(hu));
	hu.until_ms = until_ms;
	hu.fence_gen = fence_gen;
	hold_sent = until_ms;
	if (imsgev_compose(&parent_iev, IMSG_HOLD_UNTIL, 0, -1, &hu,
	    sizeof(hu)) == -1)
		fatal("%s: compose", __func__);
}

/*
 * The parent dropped every address itself; its ADDR_DOWNs came first, so
 * the engine has let them go.  It ignores our deadlines until we echo
 * this fence: send the one in force again, so that what we decide from
 * now on counts (DESIGN.md 5).
 */
static void
parent_fenced(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_fenced	 fe;

	if (imsg_get_exact(iev, imsg, &fe, sizeof(fe)) == -1 ||
	    fe.pad != 0 || fe.gen != fence_gen + 1)
		fatalx("%s: bad IMSG_FENCED", __func__);
	fence_gen = fe.gen;
	log_warnx("the parent fenced (%" PRIu32 "): every address is down",
	    fence_gen);
	if (hold_sent > mono_ms())
		send_hold_until(hold_sent, NULL);
}

/* New addresses for the etcd endpoints given by name. */
static void
dcs_resolved(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_resolved	*m;
	uint32_t		 i;

	m = child_resolved_get(&cfg, iev, imsg);
	for (i = 0; i < m->n_etcd_resolve; i++)
		memcpy(cfg.active->etcd_resolve[i], m->etcd_resolve[i],
		    sizeof(cfg.active->etcd_resolve[i]));
	if (running)
		engine_resolved(m);
	free(m);
}

/* The listening control socket, made by the parent (DESIGN.md 13). */
static void
ctl_socket(struct imsgev *iev, struct imsg *imsg)
{
	if (imsg->fd == -1)
		fatalx("%s: IMSG_CTL_SOCKET without a socket", __func__);
	if (imsg_get_exact(iev, imsg, NULL, 0) == -1)
		fatalx("%s: bad IMSG_CTL_SOCKET", __func__);
	if (control_running() || cfg.active == NULL)
		fatalx("%s: IMSG_CTL_SOCKET again, or before the config",
		    __func__);
	control_start(imsg->fd, cfg.active);
	imsg->fd = -1;
}

/* The metrics listener, bound by the parent (DESIGN.md 14). */
static void
metrics_socket(struct imsgev *iev, struct imsg *imsg)
{
	char	 where[CFG_STR_MAX];

	if (imsg->fd == -1)
		fatalx("%s: IMSG_METRICS_SOCKET without a socket", __func__);
	if (imsg_get_exact(iev, imsg, NULL, 0) == -1)
		fatalx("%s: bad IMSG_METRICS_SOCKET", __func__);
	if (metrics_srv_running() || cfg.active == NULL ||
	    cfg.active->metrics_listen[0] == '\0')
		fatalx("%s: IMSG_METRICS_SOCKET again, before the config or "
		    "without metrics-listen", __func__);
	snprintf(where, sizeof(where), "%s", cfg.active->metrics_listen);
	metrics_srv_start(base, imsg->fd, where);
	imsg->fd = -1;
}

static void
parent_stats(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_stats	 st;

	if (imsg_get_exact(iev, imsg, &st, sizeof(st)) == -1 ||
	    metrics_stats_check(&st) == -1)
		fatalx("%s: bad IMSG_STATS", __func__);
	metrics_set_parent(&st);
}

static void
ctl_done(struct imsgev *iev, struct imsg *imsg)
{
	struct ctl_end	 end;

	if (imsg_get_exact(iev, imsg, &end, sizeof(end)) == -1 ||
	    end.ok > 1 || memchr(end.text, '\0', sizeof(end.text)) == NULL)
		fatalx("%s: bad IMSG_CTL_DONE", __func__);
	control_parent_done(&end);
}

static void
ctl_to_parent(uint32_t type, const void *data, size_t len)
{
	if (type != IMSG_CTL_RELOAD && type != IMSG_CTL_LOG)
		fatalx("%s: bad type %u", __func__, type);
	if (imsgev_compose(&parent_iev, type, 0, -1, data, len) == -1)
		fatal("%s: compose", __func__);
}

static void
dcs_dispatch_parent(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_health	 h;
	struct imsg_addr_state	 as;
	struct imsg_link_state	 ls;
	struct imsg_networks	 nw;
	char			 err[128];

	switch (imsg->hdr.type) {
	case IMSG_HEALTH:
		if (imsg_get_exact(iev, imsg, &h, sizeof(h)) == -1)
			fatalx("%s: bad IMSG_HEALTH", __func__);
		h.text[sizeof(h.text) - 1] = '\0';
		engine_health(&h);
		break;
	case IMSG_ADDR_STATE:
		if (imsg_get_exact(iev, imsg, &as, sizeof(as)) == -1)
			fatalx("%s: bad IMSG_ADDR_STATE", __func__);
		engine_addr_state(&as);
		break;
	case IMSG_LINK_STATE:
		if (imsg_get_exact(iev, imsg, &ls, sizeof(ls)) == -1)
			fatalx("%s: bad IMSG_LINK_STATE", __func__);
		engine_link_state(&ls);
		break;
	case IMSG_NETWORKS:
		if (imsg_get_exact(iev, imsg, &nw, sizeof(nw)) == -1)
			fatalx("%s: bad IMSG_NETWORKS size", __func__);
		if (imsg_networks_check(&nw, err, sizeof(err)) == -1)
			fatalx("%s: bad IMSG_NETWORKS: %s", __func__, err);
		engine_networks(&nw);
		break;
	case IMSG_PEER_SOCKET:
		peer_socket(iev, imsg);
		break;
	case IMSG_RESOLVED:
		dcs_resolved(iev, imsg);
		break;
	case IMSG_CTL_SOCKET:
		ctl_socket(iev, imsg);
		break;
	case IMSG_CTL_DONE:
		ctl_done(iev, imsg);
		break;
	case IMSG_METRICS_SOCKET:
		metrics_socket(iev, imsg);
		break;
	case IMSG_STATS:
		parent_stats(iev, imsg);
		break;
	case IMSG_FENCED:
		parent_fenced(iev, imsg);
		break;
	case IMSG_SHUTDOWN:
		if (imsg_get_exact(iev, imsg, NULL, 0) == -1)
			fatalx("%s: bad IMSG_SHUTDOWN", __func__);
		if (!running)
			send_released(NULL);
		else
			engine_shutdown();
		break;
	default:
		fatalx("%s: unexpected %s from the parent", __func__,
		    imsg_type_name(imsg->hdr.type));
	}
}

static void
dcs_dispatch(struct imsgev *iev, struct imsg *imsg, void *arg)
{
	(void)arg;
	/* Only the peer, control and metrics sockets come with an fd. */
	if (imsg->fd != -1 && imsg->hdr.type != IMSG_PEER_SOCKET &&
	    imsg->hdr.type != IMSG_CTL_SOCKET &&
	    imsg->hdr.type != IMSG_METRICS_SOCKET)
		fatalx("%s: %s from the parent came with a file descriptor",
		    __func__, imsg_type_name(imsg->hdr.type));
	switch (child_cfg_dispatch(&cfg, iev, imsg)) {
	case 1:
		peer_key_from_config();
		if (running) {
			/* The engine's etcd client goes: so do requests on it. */
			control_etcd_gone();
			engine_reconfigure(cfg.active, &cfg.blobs);
		}
		else if (engine_start(cfg.active, &cfg.blobs) == -1)
			fatalx("%s: cannot start the dcs engine", __func__);
		running = 1;
		return;
	case 0:
		return;
	default:
		dcs_dispatch_parent(iev, imsg);
	}
}

void
dcs_main(int debug, int verbose)
{
	static const struct engine_ops	 ops = {
		send_sync, send_addr_req, send_released, send_hold_until, NULL
	};

	base = child_setup("dcs", debug, verbose);
	/* libcurl and OpenSSL read their files before the chroot. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("%s: curl_global_init", __func__);
	engine_init(base, &ops);
	control_init(base, ctl_to_parent);
	/* fds: the peer and control sockets (IMSG_*_SOCKET), nothing else */
	if (imsgev_init(&parent_iev, base, PRIVSEP_CHILD_FD, 1, "parent",
	    dcs_dispatch, child_parent_eof, NULL) == -1)
		fatal("%s: imsgev_init", __func__);
	event_base_dispatch(base);
	fatalx("%s: event loop ended", __func__);
}
