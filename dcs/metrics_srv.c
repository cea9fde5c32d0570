/*
 * The metrics listener of dcs (DESIGN.md section 14): the TCP socket
 * the parent bound, GET /metrics only, bounded: HTTP_REQ_MAX bytes of
 * request, METRICS_CLIENTS_MAX connections, METRICS_TIMEOUT_MS to send
 * the request and to take the answer, one request per connection.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "dcs/http_req.h"
#include "dcs/metrics.h"
#include "dcs/metrics_srv.h"

#define METRICS_CLIENTS_MAX	8
#define METRICS_TIMEOUT_MS	5000
#define METRICS_TEXT_MAX	(1024 * 1024)	/* far beyond what we print */

struct mclient {
	struct bufferevent	*bev;
	int			 answered;
};

static struct metrics_srv_state {
	struct event_base	*base;
	int			 fd;
	struct event		*accept_ev;
	struct mclient		 cl[METRICS_CLIENTS_MAX];
	struct imsg_stats	 parent;
	uint64_t		 served, refused;
} M = { .fd = -1 };

void
metrics_set_parent(const struct imsg_stats *st)
{
	M.parent = *st;
}

void
metrics_snapshot(struct metrics_snap *s)
{
	memset(s, 0, sizeof(*s));
	engine_node_status(&s->node);
	engine_get_counters(&s->eng);
	etcd_get_stats(&s->etcd);
	if ((s->peer_running = peer_net_running()))
		peer_net_stats(&s->peer);
	s->parent = M.parent;
}

char *
metrics_text(size_t *lenp)
{
	struct metrics_snap	 s;
	char			*buf;
	size_t			 need, cap = 32768;

	metrics_snapshot(&s);
	if ((buf = malloc(cap)) == NULL)
		return NULL;
	need = metrics_render(&s, buf, cap);
	if (need >= cap) {
		free(buf);
		if (need >= METRICS_TEXT_MAX || (buf = malloc(need + 1)) == NULL)
			return NULL;
		(void)metrics_render(&s, buf, need + 1);
	}
	*lenp = need;
	return buf;
}

static void
client_free(struct mclient *c)
{
	if (c->bev != NULL)
		bufferevent_free(c->bev);	/* closes the fd */
	memset(c, 0, sizeof(*c));
}

static void
answer(struct mclient *c, int status)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	char		*text = NULL;
	const char	*body;
	size_t		 len;

	if (status == HTTP_METRICS && (text = metrics_text(&len)) == NULL)
		status = 503;
	if (text == NULL) {
		body = http_reason(status);
		len = strlen(body) + 1;
	} else
		body = text;
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; "
	    "%scharset=utf-8\r\nContent-Length: %zu\r\n%sConnection: close\r\n"
	    "\r\n", status, http_reason(status), text != NULL ?
	    "version=0.0.4; " : "", len, status == HTTP_METHOD ?
	    "Allow: GET\r\n" : "");
	if (text != NULL)
		evbuffer_add(out, text, len);
	else
		evbuffer_add_printf(out, "%s\n", body);
	free(text);
	c->answered = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (status == HTTP_METRICS)
		M.served++;
	else
		M.refused++;
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct mclient	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	size_t		 len = evbuffer_get_length(in);
	unsigned char	*p;
	enum http_verdict v;

	if (c->answered)
		return;
	if (len > HTTP_REQ_MAX)
		len = HTTP_REQ_MAX;
	if ((p = evbuffer_pullup(in, (ssize_t)len)) == NULL) {
		client_free(c);
		return;
	}
	if ((v = http_req_parse((const char *)p, len)) == HTTP_MORE)
		return;
	if (v != HTTP_METRICS)
		log_debug("metrics: answering %d", (int)v);
	answer(c, (int)v);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct mclient	*c = arg;

	if (c->answered &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		client_free(c);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct mclient	*c = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT)
		log_debug("metrics: a client timed out");
	client_free(c);
}

static struct mclient *
slot(void)
{
	size_t	 i;

	for (i = 0; i < METRICS_CLIENTS_MAX; i++)
		if (M.cl[i].bev == NULL)
			return &M.cl[i];
	return NULL;
}

static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct timeval	 tv = ms_to_tv(METRICS_TIMEOUT_MS);
	struct mclient	*c;
	int		 fd, i;

	(void)what;
	(void)arg;
	for (i = 0; i < METRICS_CLIENTS_MAX * 2; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("metrics: accept");
			return;
		}
		if ((c = slot()) == NULL) {
			/* too many: closed at once, the scraper retries */
			M.refused++;
			close(fd);
			continue;
		}
		if ((c->bev = bufferevent_socket_new(M.base, fd,
		    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
			log_warnx("metrics: bufferevent_socket_new failed");
			close(fd);
			continue;
		}
		bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
		bufferevent_setwatermark(c->bev, EV_READ, 0, HTTP_REQ_MAX);
		bufferevent_set_timeouts(c->bev, &tv, &tv);
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	}
}

void
metrics_srv_start(struct event_base *base, int fd, const char *where)
{
	if (M.fd != -1)
		fatalx("%s: a second metrics socket", __func__);
	M.base = base;
	M.fd = fd;
	M.accept_ev = event_new(base, fd, EV_READ | EV_PERSIST, accept_cb,
	    NULL);
	if (M.accept_ev == NULL || event_add(M.accept_ev, NULL) == -1)
		fatalx("%s: event_new", __func__);
	log_info("metrics: serving http://%s/metrics", where);
}

int
metrics_srv_running(void)
{
	return M.fd != -1;
}
