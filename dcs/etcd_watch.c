/*
 * etcd watches over the JSON gateway: one long HTTP response per watch,
 * split into JSON objects (etcd_splitter), each decoded and delivered
 * from a libevent callback.  A watch that stays silent longer than its
 * progress notifications allow is broken and reported.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "blob.h"
#include "clock.h"
#include "config.h"
#include "evcurl.h"
#include "log.h"
#include "proto.h"
#include "dcs/etcd_int.h"

static int
queue_obj(const char *obj, size_t len, void *arg)
{
	struct etcd_req	*r = arg;
	struct obj	*o;

	/* libcurl may deliver many writes before we get to the messages */
	if (len > ETCD_MAX_WATCH_QUEUE - r->queued) {
		msgf(r->split_err, sizeof(r->split_err), "watch stream: more "
		    "than %u bytes of messages waiting", ETCD_MAX_WATCH_QUEUE);
		return -1;
	}
	if ((o = malloc(sizeof(*o) + len)) == NULL)
		return -1;
	r->queued += len;
	o->len = len;
	memcpy(o->data, obj, len);
	TAILQ_INSERT_TAIL(&r->objs, o, entry);
	event_active(r->deliver, 0, 0);
	return 0;
}

size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct etcd_req	*r = arg;
	size_t		 n = size * nmemb;
	long		 http = 0;

	if (r->is_watch) {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &http);
		if (http == 200) {
			if (etcd_splitter_feed(&r->split, data, n, queue_obj,
			    r, r->split_err, sizeof(r->split_err)) != 0) {
				if (r->split_err[0] == '\0')
					msgf(r->split_err,
					    sizeof(r->split_err),
					    "out of memory");
				return 0;
			}
			return n;
		}
		/* an error body: keep it for watch_done */
	}
	if (r->resp.len + n > ETCD_MAX_REPLY) {
		r->too_big = 1;
		return 0;
	}
	if (r->resp.cap < r->resp.len + n + 1) {
		size_t	 ncap = r->resp.cap ? r->resp.cap : 4096;
		char	*p;

		while (ncap < r->resp.len + n + 1)
			ncap *= 2;
		if ((p = realloc(r->resp.data, ncap)) == NULL)
			return 0;
		r->resp.data = p;
		r->resp.cap = ncap;
	}
	memcpy(r->resp.data + r->resp.len, data, n);
	r->resp.len += n;
	r->resp.data[r->resp.len] = '\0';
	return n;
}

/* Final status of a watch, then free it. */
static void
watch_end(struct etcd_req *r, enum etcd_status st, const char *msg,
    const struct etcd_reply *rep)
{
	req_finish(r, st, msg, rep);
}

void
watch_break(struct etcd_req *r, const char *why)
{
	char	msg[ERR_MAX];

	msgf(msg, sizeof(msg), "watch broken: %s", why);
	watch_end(r, ETCD_BROKEN, msg, NULL);
}

/* One message of an established or starting watch. */
static int
watch_message(struct etcd_req *r, const struct obj *o)
{
	struct etcd_reply	 rep;
	const char		*ep = r->c->conf->endpoints[r->ep];
	char			 derr[256], msg[ERR_MAX];
	struct timeval		 tv;
	int			 done = 0;

	tv = ms_to_tv(r->created ? r->silence_ms : r->c->conf->etcd_timeout_ms);
	evtimer_add(r->silence, &tv);
	if (etcd_decode_reply(ETCD_REPLY_WATCH, o->data, o->len, &rep, derr,
	    sizeof(derr)) == -1) {
		msgf(msg, sizeof(msg), "etcd %s: bad watch message: %s",
		    ep, derr);
		watch_break(r, msg);
		done = 1;
	} else if (rep.is_error) {
		msgf(msg, sizeof(msg), "etcd %s: %s", ep, rep.message);
		if (!r->created) {
			enum etcd_status st;
			enum attempt_verdict v;

			/* same rules as a unary error */
			v = judge_etcd_error(r, &rep, rep.http_code, &st, msg,
			    sizeof(msg));
			if (v == V_RETRY) {
				attempt_failed(r, st, msg);
			} else if (v == V_REAUTH && !r->reauthed) {
				attempt_cleanup(r);
				reauth(r);
			} else
				watch_end(r, st, msg, &rep);
		} else
			watch_break(r, msg);
		done = 1;
	} else if (rep.canceled && !r->created && r->c->use_auth &&
	    !r->reauthed && strstr(rep.cancel_reason, "invalid auth token")) {
		/* etcd creates and cancels at once a watch with a bad token */
		log_debug("etcd %s: watch refused the token; authenticating "
		    "again", ep);
		attempt_cleanup(r);
		reauth(r);
		done = 1;
	} else if (rep.canceled) {
		if (rep.compact_revision > 0) {
			msgf(msg, sizeof(msg), "etcd %s: watch start "
			    "revision compacted (compact revision %lld)", ep,
			    (long long)rep.compact_revision);
			watch_end(r, ETCD_COMPACTED, msg, &rep);
		} else {
			msgf(msg, sizeof(msg), "etcd %s: watch canceled%s%s",
			    ep, rep.cancel_reason[0] ? ": " : "",
			    rep.cancel_reason);
			watch_end(r, ETCD_CANCELED, msg, &rep);
		}
		done = 1;
	} else if (rep.created) {
		if (!r->created) {
			r->created = 1;
			tv = ms_to_tv(r->silence_ms);
			evtimer_add(r->silence, &tv);
			r->in_callback = 1;
			if (r->cb != NULL) {
				struct etcd_result res;

				memset(&res, 0, sizeof(res));
				res.status = ETCD_OK;
				res.error = "";
				res.endpoint = ep;
				res.revision = rep.revision;
				res.watch_id = rep.watch_id;
				res.sent_ms = r->sent_ms;
				r->cb(&res, r->arg);
			}
			r->in_callback = 0;
		}
	} else if (r->created) {
		r->in_callback = 1;
		if (r->event_cb != NULL)
			r->event_cb(rep.events, rep.n_events, rep.revision,
			    r->arg);
		r->in_callback = 0;
	}
	etcd_reply_free(&rep);
	if (!done && r->cancelled) {
		req_free(r);
		done = 1;
	}
	return done;
}

static void
watch_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct etcd_req	*r = arg;
	struct obj	*o;

	(void)fd;
	(void)what;
	while ((o = TAILQ_FIRST(&r->objs)) != NULL) {
		TAILQ_REMOVE(&r->objs, o, entry);
		r->queued -= o->len;
		if (watch_message(r, o)) {
			free(o);
			return;		/* r is gone or restarted */
		}
		free(o);
	}
}

static void
watch_silence(evutil_socket_t fd, short what, void *arg)
{
	struct etcd_req	*r = arg;
	char		 msg[ERR_MAX];
	struct etcd_client	*c = r->c;
	size_t			 ep = r->ep;

	(void)fd;
	(void)what;
	if (!r->created) {
		msgf(msg, sizeof(msg), "etcd %s: timed out (watch not "
		    "created)", c->conf->endpoints[ep]);
		attempt_failed(r, ETCD_ERROR, msg);
		return;
	}
	msgf(msg, sizeof(msg), "etcd %s: no watch message for %u ms",
	    c->conf->endpoints[ep], r->silence_ms);
	watch_break(r, msg);
	endpoint_failed(c, ep, msg);
}

/* The stream ended (transfer done). */
void
watch_done(struct etcd_req *r, CURLcode rc)
{
	struct etcd_reply	rep;
	enum etcd_status	st;
	enum attempt_verdict	v;
	char			msg[ERR_MAX];

	/* Messages queued before the end go first. */
	if (!TAILQ_EMPTY(&r->objs)) {
		struct obj *o;

		while ((o = TAILQ_FIRST(&r->objs)) != NULL) {
			TAILQ_REMOVE(&r->objs, o, entry);
			r->queued -= o->len;
			if (watch_message(r, o)) {
				free(o);
				return;
			}
			free(o);
		}
	}
	if (r->split_err[0] != '\0') {
		msgf(msg, sizeof(msg), "etcd %s: %s",
		    r->c->conf->endpoints[r->ep], r->split_err);
		watch_break(r, msg);
		return;
	}
	if (r->created) {
		struct etcd_client *c = r->c;
		size_t ep = r->ep;

		if (rc != CURLE_OK)
			describe_curl_error(r, rc, msg, sizeof(msg));
		else
			msgf(msg, sizeof(msg), "etcd %s: watch stream "
			    "ended", c->conf->endpoints[ep]);
		watch_break(r, msg);
		endpoint_failed(c, ep, msg);
		return;
	}
	/* Not established: the unary rules apply to an error body. */
	v = judge_attempt(r, rc, &rep, &st, msg, sizeof(msg));
	if (rc == CURLE_OK && r->resp.len == 0 && v != V_REAUTH) {
		/* a 200 stream: its messages went to the splitter */
		msgf(msg, sizeof(msg), "etcd %s: watch stream ended before"
		    " the watch was created", r->c->conf->endpoints[r->ep]);
		v = V_RETRY;
		st = ETCD_ERROR;
	}
	switch (v) {
	case V_REAUTH:
		attempt_cleanup(r);
		if (!r->reauthed)
			reauth(r);
		else
			req_finish(r, ETCD_AUTH_FAILED, msg, NULL);
		break;
	case V_RETRY:
		attempt_failed(r, st, msg);
		break;
	default:
		req_finish(r, st, msg, NULL);
		break;
	}
	etcd_reply_free(&rep);
}

struct etcd_watch *
etcd_watch_start(struct etcd_client *c, const struct etcd_watch_opts *o,
    etcd_watch_event_cb event_cb, etcd_cb status_cb, void *arg)
{
	struct etcd_req	*r;

	r = req_new(c, ETCD_REPLY_WATCH, "/v3/watch", status_cb, arg,
	    sizeof(struct etcd_watch));
	if (r == NULL)
		return NULL;
	r->is_watch = 1;
	r->event_cb = event_cb;
	r->silence_ms = o->silence_ms ? o->silence_ms : ETCD_WATCH_SILENCE_MS;
	r->deliver = event_new(c->base, -1, 0, watch_deliver, r);
	r->silence = evtimer_new(c->base, watch_silence, r);
	if (r->deliver == NULL || r->silence == NULL) {
		req_free(r);
		errno = ENOMEM;
		return NULL;
	}
	return (struct etcd_watch *)req_submit(r,
	    etcd_encode_watch_create(&r->body, o));
}

void
etcd_watch_stop(struct etcd_watch *w)
{
	etcd_req_cancel(w != NULL ? &w->req : NULL);
}
