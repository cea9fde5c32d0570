/*
 * etcd v3 client over the JSON gateway: libcurl multi driven by libevent.
 * See etcd.h for the contract.  Bodies and decoding live in etcd_json.c, the
 * watch stream in etcd_watch.c, what they share in etcd_int.h.
 *
 * Every attempt is a fresh easy handle on the endpoint current at that
 * moment (the multi handle keeps the connections).  Results are delivered
 * from libevent callbacks, never from inside a libcurl callback, so users
 * may start, cancel and stop requests from their callbacks.
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

static struct etcd_stats	 stats;	/* this process's clients */

static void	attempt_start(struct etcd_req *);
static void	check_multi_info(void *);
static void	auth_start(struct etcd_client *);

/* snprintf without gcc's truncation warnings: truncation is fine here. */
void
msgf(char *out, size_t len, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

const char *
etcd_status_name(enum etcd_status s)
{
	switch (s) {
	case ETCD_OK:
		return "ok";
	case ETCD_ERROR:
		return "error";
	case ETCD_AUTH_FAILED:
		return "auth-failed";
	case ETCD_NOT_FOUND:
		return "not-found";
	case ETCD_COMPACTED:
		return "compacted";
	case ETCD_CANCELED:
		return "canceled";
	case ETCD_BROKEN:
		return "broken";
	}
	return "unknown";
}

const char *
etcd_client_endpoint(const struct etcd_client *c)
{
	return c->conf->endpoints[c->cur_ep];
}

/* ---- endpoints ---- */

static void
ep_event(evutil_socket_t fd, short what, void *arg)
{
	struct etcd_client	*c = arg;

	(void)fd;
	(void)what;
	if (c->ep_cb != NULL)
		c->ep_cb(etcd_client_endpoint(c), c->ep_arg);
}

void
etcd_client_on_endpoint_change(struct etcd_client *c,
    void (*cb)(const char *, void *), void *arg)
{
	c->ep_cb = cb;
	c->ep_arg = arg;
}


/*
 * The endpoint ep failed.  If it is still the current one, move on, break
 * the established watches there (their stream may be as dead) and tell
 * the user.
 */
void
endpoint_failed(struct etcd_client *c, size_t ep, const char *why)
{
	struct etcd_req	*r;
	char		 msg[ERR_MAX];

	if (ep != c->cur_ep || c->n_ep < 2)
		return;
	c->cur_ep = (c->cur_ep + 1) % c->n_ep;
	log_warnx("%s; switching to etcd %s", why, etcd_client_endpoint(c));
	msgf(msg, sizeof(msg), "%s; client moved to another endpoint",
	    why);
	/* a status callback may stop other watches: restart each time */
	for (;;) {
		TAILQ_FOREACH(r, &c->reqs, entry)
			if (r->is_watch && r->created && r->ep == ep &&
			    r->state == REQ_RUNNING && !r->in_callback)
				break;
		if (r == NULL)
			break;
		watch_break(r, msg);
	}
	event_active(c->ep_ev, 0, 0);
}

/* ---- requests ---- */


static int
attempt_setup(struct etcd_req *r)
{
	struct etcd_client	*c = r->c;
	const struct yaim_config *conf = c->conf;
	char			 url[CFG_URL_MAX], hdr[TOKEN_MAX + 32];
	struct curl_slist	*h;
	CURL			*e;

	if ((e = r->easy = curl_easy_init()) == NULL)
		return -1;
	msgf(url, sizeof(url), "%s%s", conf->endpoints[r->ep], r->path);
	r->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (r->headers == NULL)
		return -1;
	/* no "Expect: 100-continue" wait on big bodies */
	if ((h = curl_slist_append(r->headers, "Expect:")) == NULL)
		return -1;
	r->headers = h;
	if (c->token != NULL && c->token[0] != '\0' && !r->internal) {
		msgf(hdr, sizeof(hdr), "Authorization: %s", c->token);
		h = curl_slist_append(r->headers, hdr);
		explicit_bzero(hdr, sizeof(hdr));
		if (h == NULL)
			return -1;
		r->headers = h;
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->curlerr);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body.data);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)r->body.len);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)conf->etcd_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->is_watch ? 0L :
	    (long)conf->etcd_timeout_ms * (r->long_read ? FULL_READ_TIMES : 1));
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 10L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 5L);
	if (c->resolve != NULL)
		curl_easy_setopt(e, CURLOPT_RESOLVE, c->resolve);
	if (c->has_ca)
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &c->ca);
	if (c->has_cert)
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &c->cert);
	if (c->has_key)
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &c->key);
	if (c->has_cert || c->has_key) {
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	return 0;
}

void
attempt_cleanup(struct etcd_req *r)
{
	struct obj	*o;

	if (r->easy != NULL) {
		curl_multi_remove_handle(r->c->curl.multi, r->easy);
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
	}
	curl_slist_free_all(r->headers);
	r->headers = NULL;
	etcd_buf_wipe(&r->resp);
	r->too_big = 0;
	r->curlerr[0] = '\0';
	if (r->is_watch) {
		while ((o = TAILQ_FIRST(&r->objs)) != NULL) {
			TAILQ_REMOVE(&r->objs, o, entry);
			free(o);
		}
		r->queued = 0;
		etcd_splitter_free(&r->split);
		etcd_splitter_init(&r->split, ETCD_MAX_WATCH_OBJECT);
		r->split_err[0] = '\0';
		if (r->silence != NULL)
			evtimer_del(r->silence);
	}
}

void
req_free(struct etcd_req *r)
{
	struct etcd_client	*c = r->c;

	attempt_cleanup(r);
	if (r->waiting_auth)
		TAILQ_REMOVE(&c->auth_wait, r, wait_entry);
	TAILQ_REMOVE(&c->reqs, r, entry);
	if (c->auth_req == r)
		c->auth_req = NULL;
	if (r->timer != NULL)
		event_free(r->timer);
	if (r->deliver != NULL)
		event_free(r->deliver);
	if (r->silence != NULL)
		event_free(r->silence);
	etcd_splitter_free(&r->split);
	etcd_buf_wipe(&r->body);
	free(r);
}

/* A deferred failure (r->pending_*), or the retry timer. */
static void
req_timer(evutil_socket_t fd, short what, void *arg)
{
	struct etcd_req	*r = arg;

	(void)fd;
	(void)what;
	if (r->pending_err[0] != '\0') {
		req_finish(r, r->pending_status, r->pending_err, NULL);
		return;
	}
	attempt_start(r);
}

static void
req_fail_later(struct etcd_req *r, enum etcd_status st, const char *msg)
{
	struct timeval	tv = { 0, 0 };

	r->state = REQ_IDLE;
	r->pending_status = st;
	msgf(r->pending_err, sizeof(r->pending_err), "%s", msg);
	evtimer_add(r->timer, &tv);
}

static void
attempt_start(struct etcd_req *r)
{
	struct etcd_client	*c = r->c;
	char			 msg[ERR_MAX];

	if (c->use_auth && c->token == NULL && !r->internal) {
		if (!r->waiting_auth) {
			r->waiting_auth = 1;
			TAILQ_INSERT_TAIL(&c->auth_wait, r, wait_entry);
		}
		r->state = REQ_IDLE;
		auth_start(c);
		return;
	}
	r->ep = c->cur_ep;
	r->attempts++;
	if (attempt_setup(r) == -1 ||
	    curl_multi_add_handle(c->curl.multi, r->easy) != CURLM_OK) {
		attempt_cleanup(r);
		msgf(msg, sizeof(msg), "etcd %s: cannot start a request",
		    c->conf->endpoints[r->ep]);
		req_fail_later(r, ETCD_ERROR, msg);
		return;
	}
	r->sent_ms = mono_ms();
	r->state = REQ_RUNNING;
	if (r->is_watch) {
		struct timeval tv = ms_to_tv(c->conf->etcd_timeout_ms);
		evtimer_add(r->silence, &tv);
	}
}

struct etcd_req *
req_new(struct etcd_client *c, enum etcd_reply_kind kind, const char *path,
    etcd_cb cb, void *arg, size_t size)
{
	struct etcd_req	*r;

	if ((r = calloc(1, size)) == NULL)
		return NULL;
	r->c = c;
	r->kind = kind;
	r->born_ms = mono_ms();
	r->path = path;
	r->cb = cb;
	r->arg = arg;
	TAILQ_INIT(&r->objs);
	etcd_splitter_init(&r->split, ETCD_MAX_WATCH_OBJECT);
	TAILQ_INSERT_TAIL(&c->reqs, r, entry);
	if ((r->timer = evtimer_new(c->base, req_timer, r)) == NULL) {
		req_free(r);
		return NULL;
	}
	return r;
}

/* Called by the public request functions once the body is built. */
struct etcd_req *
req_submit(struct etcd_req *r, int body_rc)
{
	int	saved;

	if (body_rc == -1) {
		saved = errno;
		req_free(r);
		errno = saved;
		return NULL;
	}
	attempt_start(r);
	return r;
}

const uint32_t	 etcd_bucket_ms[ETCD_BUCKETS] = {
	5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000
};

void
etcd_get_stats(struct etcd_stats *st)
{
	*st = stats;
}

const char *
etcd_kind_name(uint32_t k)
{
	static const char *names[ETCD_KINDS] = { "none", "range", "txn",
	    "grant", "keepalive", "revoke", "auth", "watch" };

	return k < ETCD_KINDS ? names[k] : "unknown";
}

static void
count_request(const struct etcd_req *r, enum etcd_status st)
{
	uint64_t	 ms = mono_ms() - r->born_ms;
	size_t		 i;

	if (r->is_watch || (unsigned)r->kind >= ETCD_KINDS)
		return;
	stats.requests[r->kind]++;
	stats.sum_ms[r->kind] += ms;
	for (i = 0; i < ETCD_BUCKETS; i++)
		if (ms <= etcd_bucket_ms[i]) {
			stats.bucket[r->kind][i]++;
			break;
		}
	if (st == ETCD_AUTH_FAILED)
		stats.errors[r->kind][1]++;
	else if (st == ETCD_NOT_FOUND)
		stats.errors[r->kind][2]++;
	else if (st != ETCD_OK)
		stats.errors[r->kind][0]++;
}

/* Deliver the final outcome and free the request. */
void
req_finish(struct etcd_req *r, enum etcd_status st, const char *err,
    const struct etcd_reply *rep)
{
	struct etcd_result	res;
	struct etcd_client	*c = r->c;

	attempt_cleanup(r);
	r->state = REQ_DONE;
	count_request(r, st);
	memset(&res, 0, sizeof(res));
	res.status = st;
	res.error = err != NULL ? err : "";
	res.endpoint = c->conf->endpoints[r->ep];
	res.sent_ms = r->sent_ms;
	if (rep != NULL) {
		res.grpc_code = rep->code;
		res.revision = rep->revision;
		res.range = rep->range;
		res.succeeded = rep->succeeded;
		res.responses = rep->responses;
		res.n_responses = rep->n_responses;
		res.lease_id = rep->lease_id;
		res.ttl = rep->ttl;
		res.compact_revision = rep->compact_revision;
		res.watch_id = rep->watch_id;
	}
	if (!r->cancelled && r->cb != NULL) {
		r->in_callback = 1;
		r->cb(&res, r->arg);
	}
	req_free(r);
}

void
etcd_req_cancel(struct etcd_req *r)
{
	if (r == NULL)
		return;
	if (r->in_callback) {
		r->cancelled = 1;
		return;
	}
	req_free(r);
}

/* ---- classification of one attempt ---- */


void
describe_curl_error(struct etcd_req *r, CURLcode rc, char *out, size_t len)
{
	const char	*ep = r->c->conf->endpoints[r->ep];
	const char	*detail = r->curlerr[0] ? r->curlerr :
			    curl_easy_strerror(rc);
	long		 oserr = 0;

	if (r->easy != NULL)
		curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &oserr);
	if (rc == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED)
		msgf(out, len, "etcd %s: connection refused", ep);
	else if (rc == CURLE_COULDNT_CONNECT)
		msgf(out, len, "etcd %s: cannot connect: %s", ep, detail);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		msgf(out, len, "etcd %s: timed out (%s)", ep, detail);
	else if (evcurl_is_tls_error(rc) || strstr(detail, "SSL") != NULL)
		msgf(out, len, "etcd %s: TLS error: %s", ep, detail);
	else if (rc == CURLE_COULDNT_RESOLVE_HOST)
		msgf(out, len, "etcd %s: host not resolved (names must be"
		    " resolved by the parent): %s", ep, detail);
	else
		msgf(out, len, "etcd %s: %s", ep, detail);
}

static int
is_token_error(const struct etcd_reply *rep)
{
	/*
	 * The token expired, the auth store changed under it, or auth was
	 * enabled after we found it disabled.
	 */
	return rep->code == 16 ||
	    strstr(rep->message, "invalid auth token") != NULL ||
	    strstr(rep->message, "revision of auth store is old") != NULL ||
	    strstr(rep->message, "user name is empty") != NULL;
}

/* etcd's error object: what to do with it. */
enum attempt_verdict
judge_etcd_error(struct etcd_req *r, const struct etcd_reply *rep,
    long http, enum etcd_status *st, char *out, size_t len)
{
	const char	*ep = r->c->conf->endpoints[r->ep];

	msgf(out, len, "etcd %s: %s", ep, rep->message);
	*st = ETCD_ERROR;
	if (r->internal) {
		/* authenticate itself: a wrong password is final */
		if (http >= 500 || rep->code == 14 || rep->code == 4)
			return V_RETRY;
		*st = ETCD_AUTH_FAILED;
		return V_FINAL;
	}
	if (r->c->use_auth && is_token_error(rep))
		return V_REAUTH;
	if (http == 401 || rep->code == 16) {
		*st = ETCD_AUTH_FAILED;
		return V_FINAL;
	}
	/* Unavailable, DeadlineExceeded: no leader, leader changed, ... */
	if (http >= 500 || rep->code == 14 || rep->code == 4)
		return V_RETRY;
	if (rep->code == 5 && strstr(rep->message, "lease not found"))
		*st = ETCD_NOT_FOUND;
	return V_FINAL;
}

enum attempt_verdict
judge_attempt(struct etcd_req *r, CURLcode rc, struct etcd_reply *rep,
    enum etcd_status *st, char *out, size_t len)
{
	const char	*ep = r->c->conf->endpoints[r->ep];
	char		 derr[256];
	long		 http = 0;
	int		 drc;

	memset(rep, 0, sizeof(*rep));
	*st = ETCD_ERROR;
	if (r->too_big) {
		msgf(out, len, "etcd %s: reply longer than %u bytes", ep,
		    ETCD_MAX_REPLY);
		return V_FINAL;
	}
	if (rc != CURLE_OK) {
		describe_curl_error(r, rc, out, len);
		return V_RETRY;
	}
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &http);
	drc = etcd_decode_reply(r->kind, r->resp.data ? r->resp.data : "",
	    r->resp.len, rep, derr, sizeof(derr));
	if (drc == 0 && rep->is_error)
		return judge_etcd_error(r, rep, http, st, out, len);
	if (http != 200) {
		msgf(out, len, "etcd %s: HTTP status %ld", ep, http);
		if (http == 401 && r->c->use_auth && !r->internal)
			return V_REAUTH;
		return http >= 500 ? V_RETRY : V_FINAL;
	}
	if (drc == -1) {
		msgf(out, len, "etcd %s: bad reply to %s: %s", ep, r->path,
		    derr);
		return V_RETRY;
	}
	*st = ETCD_OK;
	if (r->kind == ETCD_REPLY_KEEPALIVE && rep->ttl <= 0) {
		*st = ETCD_NOT_FOUND;
		msgf(out, len, "etcd %s: lease %lld not found", ep,
		    (long long)rep->lease_id);
	}
	return V_OK;
}

/*
 * The endpoint of r's attempt failed: clean the attempt up, move on to
 * the next endpoint, then retry r or give up.
 */
void
attempt_failed(struct etcd_req *r, enum etcd_status st, const char *msg)
{
	struct etcd_client	*c = r->c;
	size_t			 ep = r->ep;

	attempt_cleanup(r);
	stats.attempts_failed++;
	endpoint_failed(c, ep, msg);
	retry_or_fail(r, st, msg);
}

/* After a failed attempt: retry later, or give up. */
void
retry_or_fail(struct etcd_req *r, enum etcd_status st, const char *msg)
{
	const struct yaim_config	*conf = r->c->conf;
	struct timeval			 tv;

	if (r->attempts > conf->retry_num) {
		req_finish(r, st, msg, NULL);
		return;
	}
	log_debug("%s; retry %u of %u in %u ms", msg, r->attempts,
	    conf->retry_num, conf->retry_after_ms);
	r->state = REQ_IDLE;
	r->pending_err[0] = '\0';
	tv = ms_to_tv(conf->retry_after_ms);
	evtimer_add(r->timer, &tv);
}

void
reauth(struct etcd_req *r)
{
	struct etcd_client	*c = r->c;

	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
		c->token = NULL;
	}
	r->reauthed = 1;
	r->state = REQ_IDLE;
	attempt_start(r);
}

static void	auth_request_done(struct etcd_req *, CURLcode);

static void
request_done(struct etcd_req *r, CURLcode rc)
{
	struct etcd_reply	rep;
	enum etcd_status	st;
	enum attempt_verdict	v;
	char			msg[ERR_MAX];

	if (r->is_watch) {
		watch_done(r, rc);
		return;
	}
	if (r->internal) {
		auth_request_done(r, rc);
		return;
	}
	v = judge_attempt(r, rc, &rep, &st, msg, sizeof(msg));
	switch (v) {
	case V_OK:
		req_finish(r, st, st == ETCD_OK ? "" : msg, &rep);
		break;
	case V_REAUTH:
		attempt_cleanup(r);
		if (!r->reauthed) {
			log_debug("%s; authenticating again", msg);
			reauth(r);
		} else
			req_finish(r, ETCD_AUTH_FAILED, msg, &rep);
		break;
	case V_FINAL:
		req_finish(r, st, msg, &rep);
		break;
	case V_RETRY:
		attempt_failed(r, st, msg);
		break;
	}
	etcd_reply_free(&rep);
}

static void
check_multi_info(void *arg)
{
	struct etcd_client	*c = arg;
	CURLMsg			*m;
	int			 left;
	struct etcd_req		*r;

	while ((m = curl_multi_info_read(c->curl.multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		r = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &r);
		if (r != NULL)
			request_done(r, m->data.result);
	}
}

/* ---- authentication ---- */

static void
auth_done(const struct etcd_result *res, void *arg)
{
	(void)res;
	(void)arg;
}

/* Called from req_finish of the auth request, through its token hook. */
static void
auth_finished(struct etcd_client *c, enum etcd_status st, const char *err,
    const struct etcd_reply *rep)
{
	struct etcd_req	*r;
	char		 msg[ERR_MAX];

	if (st != ETCD_OK && rep != NULL && rep->is_error &&
	    strstr(rep->message, "authentication is not enabled") != NULL) {
		/* as etcd's own client does: go on without a token */
		log_debug("%s; going on without a token", err);
		c->token = strdup("");
		st = c->token != NULL ? ETCD_OK : ETCD_ERROR;
		err = "out of memory";
	} else if (st == ETCD_OK && rep != NULL && rep->token != NULL &&
	    strlen(rep->token) < TOKEN_MAX) {
		c->token = strdup(rep->token);
		if (c->token == NULL) {
			st = ETCD_ERROR;
			err = "out of memory";
		}
	} else if (st == ETCD_OK) {
		st = ETCD_ERROR;
		err = "no usable token in the authenticate reply";
	}
	while ((r = TAILQ_FIRST(&c->auth_wait)) != NULL) {
		TAILQ_REMOVE(&c->auth_wait, r, wait_entry);
		r->waiting_auth = 0;
		if (st == ETCD_OK) {
			attempt_start(r);
			continue;
		}
		msgf(msg, sizeof(msg), "%s%s", err,
		    st == ETCD_AUTH_FAILED && strstr(err, "authentication") ==
		    NULL ? " (authentication failed)" : "");
		req_fail_later(r, st == ETCD_AUTH_FAILED ? ETCD_AUTH_FAILED :
		    ETCD_ERROR, msg);
	}
}

static void
auth_request_done(struct etcd_req *r, CURLcode rc)
{
	struct etcd_client	*c = r->c;
	struct etcd_reply	 rep;
	enum etcd_status	 st;
	enum attempt_verdict	 v;
	char			 msg[ERR_MAX];

	v = judge_attempt(r, rc, &rep, &st, msg, sizeof(msg));
	if (v == V_RETRY && r->attempts <= c->conf->retry_num) {
		attempt_failed(r, st, msg);
		etcd_reply_free(&rep);
		return;
	}
	c->auth_req = NULL;
	auth_finished(c, v == V_OK ? ETCD_OK : st, msg, &rep);
	etcd_reply_free(&rep);
	req_finish(r, st, msg, NULL);
}

static void
auth_start(struct etcd_client *c)
{
	struct etcd_req	*r;
	int		 rc;

	if (c->auth_req != NULL)
		return;
	r = req_new(c, ETCD_REPLY_AUTH, "/v3/auth/authenticate", auth_done,
	    NULL, sizeof(*r));
	if (r == NULL) {
		auth_finished(c, ETCD_ERROR, "out of memory", NULL);
		return;
	}
	r->internal = 1;
	c->auth_req = r;
	rc = etcd_encode_auth(&r->body, c->user, c->password);
	if (rc == -1) {
		c->auth_req = NULL;
		req_free(r);
		auth_finished(c, ETCD_ERROR, "out of memory", NULL);
		return;
	}
	attempt_start(r);
}


/* ---- public request functions ---- */

struct etcd_req *
etcd_range(struct etcd_client *c, const char *key, int prefix,
    int64_t revision, etcd_cb cb, void *arg)
{
	struct etcd_req	*r;

	r = req_new(c, ETCD_REPLY_RANGE, "/v3/kv/range", cb, arg, sizeof(*r));
	if (r == NULL)
		return NULL;
	/*
	 * A whole prefix of 10,000 IPs takes etcd's JSON gateway seconds
	 * when 20 nodes read at once; cut off at etcd-timeout it was tried
	 * again and again and never arrived (bench/scale_drivers.sh).
	 */
	r->long_read = prefix;
	return req_submit(r, etcd_encode_range(&r->body, key, prefix,
	    revision));
}

struct etcd_req *
etcd_range_check(struct etcd_client *c, const char *key, int prefix,
    int64_t revision, int64_t min_mod_revision, etcd_cb cb, void *arg)
{
	struct etcd_req	*r;

	r = req_new(c, ETCD_REPLY_RANGE, "/v3/kv/range", cb, arg, sizeof(*r));
	if (r == NULL)
		return NULL;
	return req_submit(r, etcd_encode_range_check(&r->body, key, prefix,
	    revision, min_mod_revision));
}

struct etcd_req *
etcd_txn(struct etcd_client *c, const struct etcd_txn *t, etcd_cb cb,
    void *arg)
{
	struct etcd_req	*r;

	r = req_new(c, ETCD_REPLY_TXN, "/v3/kv/txn", cb, arg, sizeof(*r));
	if (r == NULL)
		return NULL;
	return req_submit(r, etcd_encode_txn(&r->body, t));
}

struct etcd_req *
etcd_lease_grant(struct etcd_client *c, int64_t ttl, etcd_cb cb, void *arg)
{
	struct etcd_req	*r;

	r = req_new(c, ETCD_REPLY_GRANT, "/v3/lease/grant", cb, arg,
	    sizeof(*r));
	if (r == NULL)
		return NULL;
	return req_submit(r, etcd_encode_lease_grant(&r->body, ttl));
}

struct etcd_req *
etcd_lease_keepalive(struct etcd_client *c, int64_t id, etcd_cb cb,
    void *arg)
{
	struct etcd_req	*r;

	r = req_new(c, ETCD_REPLY_KEEPALIVE, "/v3/lease/keepalive", cb, arg,
	    sizeof(*r));
	if (r == NULL)
		return NULL;
	return req_submit(r, etcd_encode_lease_id(&r->body, id));
}

struct etcd_req *
etcd_lease_revoke(struct etcd_client *c, int64_t id, etcd_cb cb, void *arg)
{
	struct etcd_req	*r;

	r = req_new(c, ETCD_REPLY_REVOKE, "/v3/lease/revoke", cb, arg,
	    sizeof(*r));
	if (r == NULL)
		return NULL;
	return req_submit(r, etcd_encode_lease_id(&r->body, id));
}

/* ---- client ---- */

int
copy_blob(const struct yaim_blobs *blobs, uint32_t kind,
    struct curl_blob *out, int *has)
{
	const struct yaim_blob	*b;

	*has = 0;
	if (blobs == NULL || (b = blobs_find(blobs, kind, 0)) == NULL)
		return 0;
	if ((out->data = malloc(b->len ? b->len : 1)) == NULL)
		return -1;
	memcpy(out->data, b->data, b->len);
	out->len = b->len;
	out->flags = CURL_BLOB_COPY;
	*has = 1;
	return 0;
}

void
wipe_blob(struct curl_blob *b, int has)
{
	if (!has)
		return;
	explicit_bzero(b->data, b->len);
	free(b->data);
	b->data = NULL;
}

/*
 * We never resolve names (the child has no resolver in its chroot, and
 * libcurl's resolver would use a thread): an endpoint's host must be an
 * IP literal or have a CURLOPT_RESOLVE entry "host:port:..." from the
 * parent.
 */
static int
endpoint_resolvable(const struct yaim_config *conf, const char *ep,
    char *err, size_t errlen)
{
	CURLU		*u;
	char		*host = NULL, *port = NULL, prefix[CFG_STR_MAX + 16];
	unsigned char	 buf[sizeof(struct in6_addr)];
	size_t		 hl;
	uint32_t	 i;
	int		 ok = 0;

	if ((u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, ep, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		msgf(err, errlen, "%s: etcd endpoint %s: not a URL", __func__,
		    ep);
		goto done;
	}
	hl = strlen(host);
	if (inet_pton(AF_INET, host, buf) == 1)
		ok = 1;
	else if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		ok = inet_pton(AF_INET6, host + 1, buf) == 1;
		host[hl - 1] = ']';
	}
	msgf(prefix, sizeof(prefix), "%s:%s:", host, port);
	for (i = 0; !ok && i < conf->n_etcd_resolve; i++)
		if (strncmp(conf->etcd_resolve[i], prefix, strlen(prefix)) ==
		    0)
			ok = 1;
	if (!ok)
		msgf(err, errlen, "%s: etcd endpoint %s: host %s is neither an"
		    " IP address nor resolved by the parent", __func__, ep,
		    host);
done:
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ok ? 0 : -1;
}

int
client_check_conf(const struct yaim_config *conf, char *err, size_t errlen)
{
	uint32_t	i;

	if (conf->n_etcd_resolve > CFG_MAX_ENDPOINTS) {
		msgf(err, errlen, "%s: too many resolve entries", __func__);
		return -1;
	}
	if (conf->n_endpoints == 0 || conf->n_endpoints > CFG_MAX_ENDPOINTS) {
		msgf(err, errlen, "%s: need 1 to %d etcd endpoints",
		    __func__, CFG_MAX_ENDPOINTS);
		return -1;
	}
	for (i = 0; i < conf->n_endpoints; i++)
		if (strncmp(conf->endpoints[i], "http://", 7) != 0 &&
		    strncmp(conf->endpoints[i], "https://", 8) != 0) {
			msgf(err, errlen, "%s: etcd endpoint %s: not an "
			    "http:// or https:// URL", __func__,
			    conf->endpoints[i]);
			return -1;
		}
	for (i = 0; i < conf->n_endpoints; i++)
		if (endpoint_resolvable(conf, conf->endpoints[i], err,
		    errlen) == -1)
			return -1;
	if (conf->etcd_timeout_ms == 0) {
		msgf(err, errlen, "%s: etcd timeout is 0", __func__);
		return -1;
	}
	return 0;
}

/*
 * The CURLOPT_RESOLVE list of conf into *out (NULL when every endpoint
 * is a literal address).  -1 when out of memory.
 */
int
resolve_list(const struct yaim_config *conf, struct curl_slist **out)
{
	struct curl_slist	*list = NULL, *l;
	uint32_t		 i;

	*out = NULL;
	for (i = 0; i < conf->n_etcd_resolve; i++) {
		if (conf->etcd_resolve[i][0] == '\0')
			continue;	/* a literal address */
		if ((l = curl_slist_append(list, conf->etcd_resolve[i])) ==
		    NULL) {
			curl_slist_free_all(list);
			return -1;
		}
		list = l;
	}
	*out = list;
	return 0;
}

/*
 * conf->etcd_resolve changed.  Requests made from now on connect to the
 * new addresses (an entry replaces the cached one for its host:port).
 * The list before stays allocated until the next change, because
 * requests already started still point at it.
 */
int
etcd_client_set_resolve(struct etcd_client *c)
{
	struct curl_slist	*list;

	if (resolve_list(c->conf, &list) == -1)
		return -1;
	curl_slist_free_all(c->resolve_old);
	c->resolve_old = c->resolve;
	c->resolve = list;
	return 0;
}

static int
client_setup_multi(struct etcd_client *c)
{
	if (evcurl_init(&c->curl, c->base, check_multi_info, c) == -1 ||
	    (c->ep_ev = event_new(c->base, -1, 0, ep_event, c)) == NULL)
		return -1;
	return 0;
}

struct etcd_client *
etcd_client_new(struct event_base *base, const struct yaim_config *conf,
    const struct yaim_blobs *blobs, uint32_t seed, char *err, size_t errlen)
{
	struct etcd_client	*c;

	if (client_check_conf(conf, err, errlen) == -1)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		msgf(err, errlen, "%s: out of memory", __func__);
		return NULL;
	}
	c->base = base;
	c->conf = conf;
	c->n_ep = conf->n_endpoints;
	c->cur_ep = seed % c->n_ep;
	TAILQ_INIT(&c->reqs);
	TAILQ_INIT(&c->auth_wait);
	if (conf->etcd_user[0] != '\0') {
		c->use_auth = 1;
		msgf(c->user, sizeof(c->user), "%s", conf->etcd_user);
		msgf(c->password, sizeof(c->password), "%s",
		    conf->etcd_password);
	}
	if (resolve_list(conf, &c->resolve) == -1)
		goto nomem;
	if (copy_blob(blobs, BLOB_ETCD_CA, &c->ca, &c->has_ca) == -1 ||
	    copy_blob(blobs, BLOB_ETCD_CERT, &c->cert, &c->has_cert) == -1 ||
	    copy_blob(blobs, BLOB_ETCD_KEY, &c->key, &c->has_key) == -1 ||
	    client_setup_multi(c) == -1)
		goto nomem;
	return c;
nomem:
	msgf(err, errlen, "%s: out of memory", __func__);
	etcd_client_free(c);
	return NULL;
}

void
etcd_client_free(struct etcd_client *c)
{
	struct etcd_req	*r;

	if (c == NULL)
		return;
	while ((r = TAILQ_FIRST(&c->reqs)) != NULL)
		req_free(r);
	evcurl_cleanup(&c->curl);
	if (c->ep_ev != NULL)
		event_free(c->ep_ev);
	curl_slist_free_all(c->resolve);
	curl_slist_free_all(c->resolve_old);
	wipe_blob(&c->ca, c->has_ca);
	wipe_blob(&c->cert, c->has_cert);
	wipe_blob(&c->key, c->has_key);
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	explicit_bzero(c->password, sizeof(c->password));
	free(c);
}
