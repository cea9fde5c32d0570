/*
 * The control socket's server (dcs/control.h).  Each client sends one
 * request at a time, framed as common/imsg.h and checked by common/ctl.c;
 * the answer is zero or more IMSG_CTL_NODE/IP/RESULT and one IMSG_CTL_END.
 * Bounds: CTL_CLIENTS_MAX clients, CTL_REQUEST_MAX bytes per request,
 * CTL_TIMEOUT_MS of silence (a client that sends nothing, or reads
 * nothing).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "clock.h"
#include "ctl.h"
#include "imsg.h"
#include "log.h"
#include "proto.h"
#include "dcs/backend.h"
#include "dcs/control.h"
#include "dcs/engine.h"
#include "dcs/etcd.h"
#include "dcs/keys.h"
#include "dcs/metrics_srv.h"

#define CTL_GROUPS_MAX		256	/* supplementary groups we look at */
#define CTL_DRAIN_POLL_MS	20

struct ctl_client {
	int			 used;
	uint32_t		 id;		/* for logs and the parent FIFO */
	struct bufferevent	*bev;
	pid_t			 pid;
	uid_t			 uid;
	gid_t			 gid;
	int			 busy;		/* a request is being answered */
	int			 closing;	/* close once the output is out */
	uint64_t		 busy_since;
	/* a pool request in progress, one etcd txn at a time */
	uint32_t		 pool_type;
	struct ctl_ip		 ips[CTL_POOL_MAX];
	size_t			 n_ips, next;
	uint32_t		 n_failed;
	struct etcd_req		*req;
	struct event		*drain_ev;	/* drain: waiting to be out */
	struct event		*more_ev;	/* read the next request */
};

static struct control_state {
	struct event_base	*base;
	control_parent_fn	 to_parent;
	int			 fd;
	struct event		*accept_ev;
	struct ctl_client	 clients[CTL_CLIENTS_MAX];
	uint32_t		 next_id;
	int			 have_group;
	gid_t			 group;
	/* ids of the clients waiting for the parent, oldest first */
	uint32_t		 fifo[CTL_CLIENTS_MAX * 2];
	size_t			 fifo_n;
} C = { .fd = -1 };

static void	client_read_cb(struct bufferevent *, void *);

/* Every reply message fits client_send's buffer. */
_Static_assert(sizeof(struct ctl_node) <= CTL_MSG_MAX &&
    sizeof(struct ctl_pool_ip) <= CTL_MSG_MAX &&
    sizeof(struct ctl_result) <= CTL_MSG_MAX &&
    sizeof(struct ctl_end) <= CTL_MSG_MAX, "a reply over CTL_MSG_MAX");

/* ---- replies ---- */

static void
client_send(struct ctl_client *c, uint32_t type, const void *data,
    size_t len)
{
	uint8_t	 buf[IMSG_HEADER_SIZE + CTL_MSG_MAX];
	size_t	 n;

	if (c->closing)
		return;
	if ((n = imsg_encode(buf, sizeof(buf), type, 0, 0, data, len)) == 0 ||
	    bufferevent_write(c->bev, buf, n) == -1) {
		log_warnx("control: client %u: cannot queue a reply; closing",
		    c->id);
		c->closing = 1;
	}
}

static void
client_free(struct ctl_client *c)
{
	size_t	 i;

	if (c->req != NULL)
		engine_backend()->req_cancel(c->req);
	if (c->drain_ev != NULL)
		event_free(c->drain_ev);
	if (c->more_ev != NULL)
		event_free(c->more_ev);
	if (c->bev != NULL)
		bufferevent_free(c->bev);	/* closes the fd */
	for (i = 0; i < C.fifo_n; i++)
		if (C.fifo[i] == c->id)
			C.fifo[i] = 0;		/* its answer is dropped */
	memset(c, 0, sizeof(*c));
}

/* Close once what is queued has been written (or timed out). */
static void
client_close_after(struct ctl_client *c)
{
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		client_free(c);
}

static void
client_end(struct ctl_client *c, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The last message of a reply; the client may send its next request. */
static void
client_end(struct ctl_client *c, int ok, const char *fmt, ...)
{
	struct ctl_end	 end;
	va_list		 ap;

	memset(&end, 0, sizeof(end));
	end.ok = ok != 0;
	va_start(ap, fmt);
	vsnprintf(end.text, sizeof(end.text), fmt, ap);
	va_end(ap);
	client_send(c, IMSG_CTL_END, &end, sizeof(end));
	c->busy = 0;
	/* A request that came while we were busy may be waiting. */
	if (!c->closing)
		event_active(c->more_ev, EV_TIMEOUT, 1);
}

/* A client that broke the protocol: a warning, an answer, closed. */
static void
client_refuse(struct ctl_client *c, const char *why)
{
	struct ctl_end	 end;

	log_warnx("control: client %u (pid %d, uid %u): %s; closing it",
	    c->id, (int)c->pid, (unsigned int)c->uid, why);
	memset(&end, 0, sizeof(end));
	snprintf(end.text, sizeof(end.text), "%s", why);
	client_send(c, IMSG_CTL_END, &end, sizeof(end));
	client_close_after(c);
}

/* ---- status ---- */

static void
req_status(struct ctl_client *c)
{
	struct ctl_node		 node;
	struct ctl_pool_ip	 ip;
	size_t			 i;

	engine_node_status(&node);
	client_send(c, IMSG_CTL_NODE, &node, sizeof(node));
	for (i = 0; engine_pool_status(i, &ip); i++)
		client_send(c, IMSG_CTL_IP, &ip, sizeof(ip));
	client_end(c, 1, "%s", "");
}

/* ---- metrics: the text of GET /metrics, in pieces ---- */

static void
req_metrics(struct ctl_client *c)
{
	struct ctl_text	 t;
	char		*text;
	size_t		 len, off, n;

	if ((text = metrics_text(&len)) == NULL) {
		client_end(c, 0, "out of memory");
		return;
	}
	for (off = 0; off < len; off += n) {
		n = len - off;
		if (n > sizeof(t.text) - 1)
			n = sizeof(t.text) - 1;
		memset(&t, 0, sizeof(t));
		memcpy(t.text, text + off, n);
		client_send(c, IMSG_CTL_TEXT, &t, sizeof(t));
	}
	free(text);
	client_end(c, 1, "%s", "");
}

/* ---- pool add, pool del ---- */

static void	pool_next(struct ctl_client *);

static void
pool_result(struct ctl_client *c, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
pool_result(struct ctl_client *c, int ok, const char *fmt, ...)
{
	struct ctl_result	 r;
	va_list			 ap;

	memset(&r, 0, sizeof(r));
	memcpy(r.ip, c->ips[c->next].text, sizeof(r.ip));
	r.ip[sizeof(r.ip) - 1] = '\0';
	r.ok = ok != 0;
	va_start(ap, fmt);
	vsnprintf(r.text, sizeof(r.text), fmt, ap);
	va_end(ap);
	if (!ok)
		c->n_failed++;
	client_send(c, IMSG_CTL_RESULT, &r, sizeof(r));
	c->next++;
}

static void
pool_done(const struct etcd_result *res, void *arg)
{
	struct ctl_client	*c = arg;
	int			 add = c->pool_type == IMSG_CTL_REQ_POOL_ADD;

	c->req = NULL;
	if (res->status != ETCD_OK)
		pool_result(c, 0, "%s", res->error);
	else if (add)
		pool_result(c, 1, "%s", res->succeeded ? "added" :
		    "already in the pool");
	else if (res->succeeded)
		pool_result(c, 1, "deleted");
	else
		pool_result(c, 0, "not in the pool");
	if (res->status == ETCD_OK)
		log_info("control: client %u (uid %u): pool %s %s: %s", c->id,
		    (unsigned int)c->uid, add ? "add" : "del",
		    c->ips[c->next - 1].text, !res->succeeded ? (add ?
		    "already there" : "not there") : add ? "added" :
		    "deleted");
	pool_next(c);
}

/*
 * <prefix>ips/<ip>: added only if absent, deleted only if present,
 * always the exact key (never a prefix).
 */
static int
pool_txn(struct ctl_client *c, const char *key)
{
	struct etcd_compare	 cmp;
	struct etcd_op		 op;
	struct etcd_txn		 txn;
	int			 add = c->pool_type == IMSG_CTL_REQ_POOL_ADD;

	memset(&cmp, 0, sizeof(cmp));
	cmp.key = key;
	cmp.target = ETCD_CMP_CREATE;
	cmp.op = add ? ETCD_CMP_EQUAL : ETCD_CMP_GREATER;
	cmp.number = 0;
	memset(&op, 0, sizeof(op));
	op.kind = add ? ETCD_OP_PUT : ETCD_OP_DELETE;
	op.key = key;
	op.value = "";
	op.prefix = 0;
	memset(&txn, 0, sizeof(txn));
	txn.compare = &cmp;
	txn.n_compare = 1;
	txn.success = &op;
	txn.n_success = 1;
	if (engine_etcd() == NULL)
		return -1;
	c->req = engine_backend()->txn(engine_etcd(), &txn, pool_done, c);
	return c->req == NULL ? -1 : 0;
}

static void
pool_next(struct ctl_client *c)
{
	const struct yaim_config	*conf = engine_config();
	struct key_info			 ki;
	struct yaim_addr		 a;
	char				 key[ETCD_MAX_KEY], why[128];
	int				 n;

	while (c->next < c->n_ips) {
		if (ctl_ip_check(&c->ips[c->next], &a, why,
		    sizeof(why)) == -1) {
			pool_result(c, 0, "%s", why);
			continue;
		}
		if (conf == NULL || engine_etcd() == NULL) {
			pool_result(c, 0, "dcs has no etcd connection yet");
			continue;
		}
		n = snprintf(key, sizeof(key), "%s%s%s", conf->prefix,
		    KEYS_IPS_DIR, c->ips[c->next].text);
		/* The key dcs would read back as this pool IP, or nothing. */
		if (n < 0 || (size_t)n >= sizeof(key) ||
		    keys_parse(conf->prefix, key, (size_t)n, &ki) != KEY_POOL ||
		    yaim_addr_cmp(&ki.addr, &a) != 0) {
			pool_result(c, 0, "not a pool key");
			continue;
		}
		if (pool_txn(c, key) == -1) {
			pool_result(c, 0, "cannot send the request to etcd");
			continue;
		}
		return;		/* pool_done goes on */
	}
	if (c->n_failed == 0)
		client_end(c, 1, "%s", "");
	else
		client_end(c, 0, "%u of %zu address(es) failed", c->n_failed,
		    c->n_ips);
}

static void
req_pool(struct ctl_client *c, const struct ctl_request *req)
{
	c->pool_type = req->type;
	memcpy(c->ips, req->ips, req->n_ips * sizeof(*req->ips));
	c->n_ips = req->n_ips;
	c->next = 0;
	c->n_failed = 0;
	pool_next(c);
}

void
control_etcd_gone(void)
{
	size_t	 i;

	for (i = 0; i < CTL_CLIENTS_MAX; i++) {
		struct ctl_client	*c = &C.clients[i];

		if (!c->used || c->req == NULL)
			continue;
		/*
		 * Cancelled now, while its client still exists (a released
		 * engine keeps the client, and the callback would come).
		 */
		engine_backend()->req_cancel(c->req);
		c->req = NULL;
		pool_result(c, 0, "interrupted by a reload; try again");
		while (c->next < c->n_ips)
			pool_result(c, 0, "interrupted by a reload; try again");
		client_end(c, 0, "interrupted by a reload");
	}
}

/* ---- drain, undrain ---- */

static void
drain_poll(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client	*c = arg;
	struct timeval		 tv = ms_to_tv(CTL_DRAIN_POLL_MS);

	(void)fd;
	(void)what;
	if (engine_out()) {
		client_end(c, 1, "drained: every address released, out of "
		    "the cluster until undrain");
		return;
	}
	if (mono_ms() - c->busy_since >= CTL_TIMEOUT_MS - 1000) {
		client_end(c, 1, "draining: still leaving the cluster");
		return;
	}
	evtimer_add(c->drain_ev, &tv);
}

static void
req_drain(struct ctl_client *c, int on)
{
	log_info("control: client %u (uid %u): %s", c->id,
	    (unsigned int)c->uid, on ? "drain" : "undrain");
	if (!on) {
		engine_drain(0);
		client_end(c, 1, "undrained: joining the cluster again");
		return;
	}
	engine_drain(1);
	if (c->drain_ev == NULL &&
	    (c->drain_ev = evtimer_new(C.base, drain_poll, c)) == NULL) {
		client_end(c, 1, "draining");
		return;
	}
	drain_poll(-1, 0, c);
}

/* ---- reload, log: the parent's business ---- */

static void
req_parent(struct ctl_client *c, uint32_t type, const void *data,
    size_t len)
{
	if (C.fifo_n == sizeof(C.fifo) / sizeof(C.fifo[0])) {
		client_end(c, 0, "too many requests waiting for the parent");
		return;
	}
	log_info("control: client %u (uid %u): %s", c->id,
	    (unsigned int)c->uid, type == IMSG_CTL_RELOAD ? "reload" :
	    "log level");
	C.fifo[C.fifo_n++] = c->id;
	C.to_parent(type, data, len);
}

void
control_parent_done(const struct ctl_end *end)
{
	uint32_t	 id;
	size_t		 i;

	if (C.fifo_n == 0)
		fatalx("%s: IMSG_CTL_DONE with no request outstanding",
		    __func__);
	id = C.fifo[0];
	memmove(&C.fifo[0], &C.fifo[1], (C.fifo_n - 1) * sizeof(C.fifo[0]));
	C.fifo_n--;
	if (id == 0)
		return;		/* the client is gone */
	for (i = 0; i < CTL_CLIENTS_MAX; i++)
		if (C.clients[i].used && C.clients[i].id == id) {
			client_end(&C.clients[i], end->ok, "%s", end->text);
			return;
		}
}

/* ---- requests ---- */

static void
dispatch(struct ctl_client *c, const struct imsg *m)
{
	struct ctl_request	 req;
	char			 err[160];

	if (ctl_request_parse(m, &req, err, sizeof(err)) == -1) {
		client_refuse(c, err);
		return;
	}
	c->busy = 1;
	c->busy_since = mono_ms();
	switch (req.type) {
	case IMSG_CTL_REQ_STATUS:
		req_status(c);
		break;
	case IMSG_CTL_REQ_POOL_ADD:
	case IMSG_CTL_REQ_POOL_DEL:
		req_pool(c, &req);
		break;
	case IMSG_CTL_REQ_DRAIN:
	case IMSG_CTL_REQ_UNDRAIN:
		req_drain(c, req.type == IMSG_CTL_REQ_DRAIN);
		break;
	case IMSG_CTL_REQ_RELOAD:
		req_parent(c, IMSG_CTL_RELOAD, NULL, 0);
		break;
	case IMSG_CTL_REQ_LOG:
		req_parent(c, IMSG_CTL_LOG, &req.log, sizeof(req.log));
		break;
	case IMSG_CTL_REQ_METRICS:
		req_metrics(c);
		break;
	default:
		/* ctl_request_parse knows no other */
		client_refuse(c, "unknown request");
	}
}

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_client	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct imsg_hdr		 hdr;
	struct imsg		 m;
	enum imsg_parse_result	 r;
	uint8_t			*copy;
	size_t			 consumed, len;
	char			 err[128];

	/* One request at a time; the next waits in the buffer. */
	if (!c->used || c->busy || c->closing ||
	    evbuffer_get_length(in) < IMSG_HEADER_SIZE)
		return;
	evbuffer_copyout(in, &hdr, sizeof(hdr));
	if (hdr.len > CTL_REQUEST_MAX) {
		snprintf(err, sizeof(err), "a request of %u bytes, more than "
		    "%d", hdr.len, CTL_REQUEST_MAX);
		client_refuse(c, err);
		return;
	}
	if (hdr.type & IMSG_FLAG_FD) {
		client_refuse(c, "a request that claims a file descriptor");
		return;
	}
	len = hdr.len < IMSG_HEADER_SIZE ? IMSG_HEADER_SIZE : hdr.len;
	if (evbuffer_get_length(in) < len)
		return;
	if ((copy = malloc(len)) == NULL)
		fatal("%s", __func__);
	evbuffer_remove(in, copy, len);
	r = imsg_parse(copy, len, &m, &consumed, err, sizeof(err));
	if (r != IMSG_PARSE_OK)
		client_refuse(c, r == IMSG_PARSE_ERROR ? err :
		    "a truncated request");
	else
		dispatch(c, &m);
	free(copy);
}

static void
more_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client	*c = arg;

	(void)fd;
	(void)what;
	client_read_cb(c->bev, c);
}

static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_client	*c = arg;

	(void)bev;
	if (c->closing)
		client_free(c);
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_client	*c = arg;

	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
	    c->busy && !c->closing) {
		/* It waits for our answer: not its silence. */
		bufferevent_enable(bev, EV_READ);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		if (!c->closing)
			log_warnx("control: client %u (pid %d, uid %u): "
			    "silent for %d ms; closing it", c->id, (int)c->pid,
			    (unsigned int)c->uid, CTL_TIMEOUT_MS);
	} else if ((what & BEV_EVENT_ERROR) && !c->closing)
		log_debug("control: client %u: %s", c->id, strerror(errno));
	client_free(c);
}

/* ---- accepting ---- */

/* uid 0, or in control-group (primary or supplementary). */
static int
peer_allowed(int fd, const struct ucred *cr)
{
	gid_t		 groups[CTL_GROUPS_MAX];
	socklen_t	 len = sizeof(groups);
	size_t		 i;

	if (cr->uid == 0)
		return 1;
	if (!C.have_group)
		return 0;
	if (cr->gid == C.group)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1) {
		log_debug("control: SO_PEERGROUPS: %s", strerror(errno));
		return 0;
	}
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == C.group)
			return 1;
	return 0;
}

/* No room: say so in one non-blocking write, then close. */
static void
turn_away(int fd, const char *why)
{
	uint8_t		 buf[IMSG_HEADER_SIZE + sizeof(struct ctl_end)];
	struct ctl_end	 end;
	size_t		 n;

	memset(&end, 0, sizeof(end));
	snprintf(end.text, sizeof(end.text), "%s", why);
	n = imsg_encode(buf, sizeof(buf), IMSG_CTL_END, 0, 0, &end,
	    sizeof(end));
	if (n > 0 && send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		log_debug("control: %s: %s", __func__, strerror(errno));
	close(fd);
}

static struct ctl_client *
client_slot(void)
{
	size_t	 i;

	for (i = 0; i < CTL_CLIENTS_MAX; i++)
		if (!C.clients[i].used)
			return &C.clients[i];
	return NULL;
}

static void
client_new(int fd, const struct ucred *cr)
{
	struct ctl_client	*c = client_slot();
	struct timeval		 tv = ms_to_tv(CTL_TIMEOUT_MS);
	char			 why[128];

	if (c == NULL) {
		log_warnx("control: %d clients already; turning pid %d "
		    "(uid %u) away", CTL_CLIENTS_MAX, (int)cr->pid,
		    (unsigned int)cr->uid);
		snprintf(why, sizeof(why), "too many clients (%d); try again",
		    CTL_CLIENTS_MAX);
		turn_away(fd, why);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->bev = bufferevent_socket_new(C.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warnx("control: bufferevent_socket_new failed");
		close(fd);
		return;
	}
	if ((c->more_ev = event_new(C.base, -1, 0, more_cb, c)) == NULL) {
		log_warnx("control: event_new failed");
		bufferevent_free(c->bev);
		c->bev = NULL;
		return;
	}
	c->used = 1;
	c->id = ++C.next_id == 0 ? ++C.next_id : C.next_id;
	c->pid = cr->pid;
	c->uid = cr->uid;
	c->gid = cr->gid;
	bufferevent_setcb(c->bev, client_read_cb, client_write_cb,
	    client_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CTL_REQUEST_MAX * 2);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	log_debug("control: client %u: pid %d, uid %u, gid %u", c->id,
	    (int)c->pid, (unsigned int)c->uid, (unsigned int)c->gid);
}

static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct ucred	 cr;
	socklen_t	 len = sizeof(cr);
	int		 fd, i;

	(void)what;
	(void)arg;
	/* A burst is bounded: the rest waits for the next call. */
	for (i = 0; i < CTL_CLIENTS_MAX * 2; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("control: accept");
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1) {
			log_warn("control: SO_PEERCRED");
			close(fd);
			continue;
		}
		if (!peer_allowed(fd, &cr)) {
			log_warnx("control: refusing pid %d: uid %u gid %u is "
			    "neither root nor in control-group", (int)cr.pid,
			    (unsigned int)cr.uid, (unsigned int)cr.gid);
			turn_away(fd, "permission denied: neither root nor in "
			    "control-group");
			continue;
		}
		client_new(fd, &cr);
	}
}

void
control_init(struct event_base *base, control_parent_fn to_parent)
{
	C.base = base;
	C.to_parent = to_parent;
	C.fd = -1;
}

void
control_start(int fd, const struct yaim_config *conf)
{
	if (C.fd != -1)
		fatalx("%s: a second control socket", __func__);
	C.fd = fd;
	C.have_group = conf->control_group[0] != '\0';
	C.group = (gid_t)conf->control_gid;
	C.accept_ev = event_new(C.base, fd, EV_READ | EV_PERSIST, accept_cb,
	    NULL);
	if (C.accept_ev == NULL || event_add(C.accept_ev, NULL) == -1)
		fatalx("%s: event_new", __func__);
	log_info("control socket: serving %s (%s)", conf->control_socket,
	    C.have_group ? "root and control-group" : "root only");
}

int
control_running(void)
{
	return C.fd != -1;
}
