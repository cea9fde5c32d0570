/*
 * etcd v2 keys API client: libcurl multi driven by libevent, like the v3
 * client (etcd.c), whose configuration checks, resolve list and TLS blob
 * handling it shares (etcd_int.h).  See etcd2.h for the contract; paths,
 * bodies and decoding live in etcd2_json.c.
 *
 * Every attempt is a fresh easy handle on the endpoint current at that
 * moment (the multi handle keeps the connections).  A watch is a long
 * poll: one GET that etcd answers with the first event.
 */
#include <sys/queue.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "blob.h"
#include "clock.h"
#include "config.h"
#include "evcurl.h"
#include "log.h"
#include "dcs/etcd2.h"
#include "dcs/etcd_int.h"

enum etcd2_method {
	M_GET = 1,
	M_PUT,
	M_DELETE
};

enum etcd2_kind {
	K_PLAIN = 1,
	K_POOL,
	K_WATCH
};

struct etcd2_req {
	TAILQ_ENTRY(etcd2_req)	 entry;
	struct etcd2_client	*c;
	enum etcd2_method	 method;
	enum etcd2_kind		 kind;
	struct etcd_buf		 path;		/* /v2/keys/...?query */
	struct etcd_buf		 body;		/* form, PUT only */
	char			 pool_key[ETCD2_MAX_KEY + 1];
	uint32_t		 silence_ms;	/* watch */
	etcd2_cb		 cb;
	void			*arg;
	int			 running;
	int			 in_callback;
	int			 cancelled;
	unsigned		 attempts;
	size_t			 ep;
	uint64_t		 sent_ms;
	CURL			*easy;
	struct curl_slist	*headers;
	char			 curlerr[CURL_ERROR_SIZE];
	struct etcd_buf		 resp;
	int			 too_big;
	int64_t			 index;		/* X-Etcd-Index, -1 none */
	int			 bad_index;
	struct event		*timer;		/* retry, deferred failure */
	char			 pending_err[ERR_MAX];
	enum etcd2_status	 pending_status;
};

struct etcd2_client {
	struct event_base		*base;
	const struct yaim_config	*conf;
	struct evcurl			 curl;
	struct curl_blob		 ca, cert, key;
	int				 has_ca, has_cert, has_key;
	struct curl_slist		*resolve;
	struct curl_slist		*resolve_old;
	size_t				 n_ep;
	size_t				 cur_ep;
	char				 user[CFG_NAME_MAX];
	char				 password[CFG_STR_MAX];
	int				 use_auth;
	TAILQ_HEAD(, etcd2_req)		 reqs;
	void				(*ep_cb)(const char *, void *);
	void				*ep_arg;
	struct event			*ep_ev;
};

/* Outcome of one attempt. */
enum verdict {
	J_OK,
	J_FINAL,
	J_RETRY
};

static void	v2_attempt_start(struct etcd2_req *);

const char *
etcd2_status_name(enum etcd2_status s)
{
	switch (s) {
	case ETCD2_OK:
		return "ok";
	case ETCD2_ERROR:
		return "error";
	case ETCD2_AUTH_FAILED:
		return "auth-failed";
	case ETCD2_REFUSED:
		return "refused";
	case ETCD2_CLEARED:
		return "cleared";
	case ETCD2_IDLE:
		return "idle";
	}
	return "unknown";
}

const char *
etcd2_client_endpoint(const struct etcd2_client *c)
{
	return c->conf->endpoints[c->cur_ep];
}

static void
ep_event(evutil_socket_t fd, short what, void *arg)
{
	struct etcd2_client	*c = arg;

	(void)fd;
	(void)what;
	if (c->ep_cb != NULL)
		c->ep_cb(etcd2_client_endpoint(c), c->ep_arg);
}

void
etcd2_client_on_endpoint_change(struct etcd2_client *c,
    void (*cb)(const char *, void *), void *arg)
{
	c->ep_cb = cb;
	c->ep_arg = arg;
}

/* ---- attempts ---- */

static size_t
write_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct etcd2_req	*r = arg;
	size_t			 n = size * nmemb;

	if (r->too_big)
		return 0;
	if (n > ETCD2_MAX_REPLY - r->resp.len) {
		r->too_big = 1;
		return 0;	/* libcurl aborts the transfer */
	}
	if (n > 0 && etcd2_buf_add(&r->resp, data, n) == -1)
		return 0;
	return n;
}

static size_t
write_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct etcd2_req	*r = arg;
	size_t			 n = size * nmemb;
	int64_t			 v;

	switch (etcd2_index_header(data, n, &v)) {
	case 1:
		r->index = v;
		break;
	case -1:
		r->bad_index = 1;
		break;
	}
	return n;
}

static void
setup_method(struct etcd2_req *r, CURL *e)
{
	switch (r->method) {
	case M_GET:
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		break;
	case M_PUT:
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body.data ?
		    r->body.data : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)r->body.len);
		break;
	case M_DELETE:
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
		break;
	}
}

static void
setup_tls_auth(struct etcd2_client *c, CURL *e)
{
	if (c->use_auth) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(e, CURLOPT_PASSWORD, c->password);
	}
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
}

static int
v2_attempt_setup(struct etcd2_req *r)
{
	struct etcd2_client		*c = r->c;
	const struct yaim_config	*conf = c->conf;
	char				 url[CFG_URL_MAX + ETCD2_MAX_KEY * 3 +
					    64];
	struct curl_slist		*h;
	CURL				*e;

	if ((e = r->easy = curl_easy_init()) == NULL)
		return -1;
	msgf(url, sizeof(url), "%s%s", conf->endpoints[r->ep], r->path.data);
	r->headers = curl_slist_append(NULL,
	    "Content-Type: application/x-www-form-urlencoded");
	if (r->headers == NULL ||
	    (h = curl_slist_append(r->headers, "Expect:")) == NULL)
		return -1;
	r->headers = h;
	r->index = -1;
	r->bad_index = 0;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->curlerr);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	setup_method(r, e);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, write_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)conf->etcd_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->kind == K_WATCH ?
	    (long)r->silence_ms : (long)conf->etcd_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 10L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 5L);
	if (c->resolve != NULL)
		curl_easy_setopt(e, CURLOPT_RESOLVE, c->resolve);
	setup_tls_auth(c, e);
	return 0;
}

static void
v2_attempt_cleanup(struct etcd2_req *r)
{
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
	r->running = 0;
}

static void
v2_req_free(struct etcd2_req *r)
{
	v2_attempt_cleanup(r);
	TAILQ_REMOVE(&r->c->reqs, r, entry);
	if (r->timer != NULL)
		event_free(r->timer);
	etcd_buf_wipe(&r->path);
	etcd_buf_wipe(&r->body);
	free(r);
}

static void
v2_req_finish(struct etcd2_req *r, enum etcd2_status st, const char *err,
    const struct etcd2_reply *rep)
{
	struct etcd2_result	 res;
	struct etcd2_ip		*ips = NULL;
	size_t			 n_ips = 0;
	char			 perr[256];

	memset(&res, 0, sizeof(res));
	res.error = err != NULL ? err : "";
	res.endpoint = r->c->conf->endpoints[r->ep];
	res.sent_ms = r->sent_ms;
	res.index = r->index > 0 ? r->index : 0;
	res.action = "";
	if (rep != NULL && rep->is_error) {
		res.error_code = rep->error_code;
		if (r->index <= 0)
			res.index = rep->error_index;
	} else if (rep != NULL && rep->n_nodes > 0) {
		res.action = rep->action;
		res.node = &rep->nodes[0];
		res.nodes = rep->nodes;
		res.n_nodes = rep->n_nodes;
		res.prev_node = rep->has_prev ? &rep->prev : NULL;
	}
	if (st == ETCD2_OK && r->kind == K_POOL && rep != NULL &&
	    !rep->is_error && etcd2_pool(rep, r->pool_key, &ips, &n_ips, perr,
	    sizeof(perr)) == -1) {
		st = ETCD2_ERROR;
		msgf(r->pending_err, sizeof(r->pending_err), "etcd %s: bad "
		    "pool listing: %s", res.endpoint, perr);
		res.error = r->pending_err;
	}
	res.status = st;
	res.ips = ips;
	res.n_ips = n_ips;
	v2_attempt_cleanup(r);
	if (!r->cancelled && r->cb != NULL) {
		r->in_callback = 1;
		r->cb(&res, r->arg);
	}
	free(ips);
	v2_req_free(r);
}

static void
v2_req_timer(evutil_socket_t fd, short what, void *arg)
{
	struct etcd2_req	*r = arg;

	(void)fd;
	(void)what;
	if (r->pending_err[0] != '\0') {
		v2_req_finish(r, r->pending_status, r->pending_err, NULL);
		return;
	}
	v2_attempt_start(r);
}

static void
v2_req_fail_later(struct etcd2_req *r, enum etcd2_status st, const char *msg)
{
	struct timeval	tv = { 0, 0 };

	r->pending_status = st;
	msgf(r->pending_err, sizeof(r->pending_err), "%s", msg);
	evtimer_add(r->timer, &tv);
}

static void
v2_attempt_start(struct etcd2_req *r)
{
	struct etcd2_client	*c = r->c;
	char			 msg[ERR_MAX];

	r->ep = c->cur_ep;
	r->attempts++;
	if (v2_attempt_setup(r) == -1 ||
	    curl_multi_add_handle(c->curl.multi, r->easy) != CURLM_OK) {
		v2_attempt_cleanup(r);
		msgf(msg, sizeof(msg), "etcd %s: cannot start a request",
		    c->conf->endpoints[r->ep]);
		v2_req_fail_later(r, ETCD2_ERROR, msg);
		return;
	}
	r->sent_ms = mono_ms();
	r->running = 1;
}

/*
 * The endpoint ep failed.  If it is still the current one, move on, and
 * move the watches waiting there along: their long poll may be as dead.
 */
static void
v2_endpoint_failed(struct etcd2_client *c, size_t ep, const char *why)
{
	struct etcd2_req	*r;

	if (ep != c->cur_ep || c->n_ep < 2)
		return;
	c->cur_ep = (c->cur_ep + 1) % c->n_ep;
	log_warnx("%s; switching to etcd %s", why, etcd2_client_endpoint(c));
	TAILQ_FOREACH(r, &c->reqs, entry)
		if (r->kind == K_WATCH && r->running && r->ep == ep &&
		    !r->in_callback) {
			v2_attempt_cleanup(r);
			v2_attempt_start(r);
		}
	event_active(c->ep_ev, 0, 0);
}

static void
v2_retry_or_fail(struct etcd2_req *r, enum etcd2_status st, const char *msg)
{
	const struct yaim_config	*conf = r->c->conf;
	struct timeval			 tv;
	size_t				 ep = r->ep;

	v2_attempt_cleanup(r);
	v2_endpoint_failed(r->c, ep, msg);
	if (r->attempts > conf->retry_num) {
		v2_req_finish(r, st, msg, NULL);
		return;
	}
	log_debug("%s; retry %u of %u in %u ms", msg, r->attempts,
	    conf->retry_num, conf->retry_after_ms);
	r->pending_err[0] = '\0';
	tv = ms_to_tv(conf->retry_after_ms);
	evtimer_add(r->timer, &tv);
}

/* ---- classification of one attempt ---- */

static void
describe_curl(struct etcd2_req *r, CURLcode rc, char *out, size_t len)
{
	const char	*ep = r->c->conf->endpoints[r->ep];
	const char	*detail = r->curlerr[0] ? r->curlerr :
			    curl_easy_strerror(rc);
	long		 oserr = 0;

	curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &oserr);
	if (rc == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED)
		msgf(out, len, "etcd %s: connection refused", ep);
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

/* A watch that timed out after its request was sent: just silence. */
static int
watch_silent(struct etcd2_req *r, CURLcode rc)
{
	curl_off_t	pre = 0;

	if (r->kind != K_WATCH || rc != CURLE_OPERATION_TIMEDOUT)
		return 0;
	curl_easy_getinfo(r->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
	return pre > 0;
}

/* etcd's error object: what to do with it. */
static enum verdict
judge_error(struct etcd2_req *r, const struct etcd2_reply *rep, long http,
    enum etcd2_status *st, char *out, size_t len)
{
	const char	*ep = r->c->conf->endpoints[r->ep];

	msgf(out, len, "etcd %s: %s (errorCode %d%s%s)", ep, rep->message,
	    rep->error_code, rep->cause[0] ? ": " : "", rep->cause);
	*st = ETCD2_REFUSED;
	if (http >= 500 || rep->error_code == ETCD2_E_RAFT_INTERNAL ||
	    rep->error_code == ETCD2_E_LEADER_ELECT) {
		*st = ETCD2_ERROR;
		return J_RETRY;
	}
	if (r->kind == K_WATCH && (rep->error_code == ETCD2_E_INDEX_CLEARED ||
	    rep->error_code == ETCD2_E_WATCHER_CLEARED))
		*st = ETCD2_CLEARED;
	else if (r->kind == K_POOL && rep->error_code ==
	    ETCD2_E_KEY_NOT_FOUND) {
		*st = ETCD2_OK;		/* no ips directory: empty pool */
		return J_OK;
	}
	return J_FINAL;
}

static enum verdict
judge(struct etcd2_req *r, CURLcode rc, struct etcd2_reply *rep,
    enum etcd2_status *st, char *out, size_t len)
{
	const char	*ep = r->c->conf->endpoints[r->ep];
	char		 derr[256];
	long		 http = 0;
	int		 drc;

	memset(rep, 0, sizeof(*rep));
	*st = ETCD2_ERROR;
	if (r->too_big) {
		msgf(out, len, "etcd %s: reply longer than %u bytes", ep,
		    ETCD2_MAX_REPLY);
		return J_FINAL;
	}
	if (watch_silent(r, rc)) {
		*st = ETCD2_IDLE;
		msgf(out, len, "etcd %s: no event within %u ms", ep,
		    r->silence_ms);
		return J_FINAL;
	}
	if (rc != CURLE_OK) {
		describe_curl(r, rc, out, len);
		return J_RETRY;
	}
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &http);
	if (http == 401) {
		*st = ETCD2_AUTH_FAILED;
		msgf(out, len, "etcd %s: authentication failed (HTTP 401)", ep);
		return J_FINAL;
	}
	drc = etcd2_decode_reply(r->resp.data ? r->resp.data : "",
	    r->resp.len, rep, derr, sizeof(derr));
	if (drc == 0 && rep->is_error)
		return judge_error(r, rep, http, st, out, len);
	if (http != 200 && http != 201) {
		msgf(out, len, "etcd %s: HTTP status %ld", ep, http);
		return http >= 500 ? J_RETRY : J_FINAL;
	}
	if (drc == -1 || r->bad_index) {
		msgf(out, len, "etcd %s: bad reply: %s", ep, drc == -1 ? derr :
		    "bad X-Etcd-Index header");
		return J_RETRY;
	}
	*st = ETCD2_OK;
	return J_OK;
}

static void
v2_request_done(struct etcd2_req *r, CURLcode rc)
{
	struct etcd2_reply	rep;
	enum etcd2_status	st;
	char			msg[ERR_MAX];

	switch (judge(r, rc, &rep, &st, msg, sizeof(msg))) {
	case J_OK:
		v2_req_finish(r, st, "", &rep);
		break;
	case J_FINAL:
		v2_req_finish(r, st, msg, &rep);
		break;
	case J_RETRY:
		v2_retry_or_fail(r, st, msg);
		break;
	}
	etcd2_reply_free(&rep);
}

static void
v2_check_multi_info(void *arg)
{
	struct etcd2_client	*c = arg;
	CURLMsg			*m;
	int			 left;
	struct etcd2_req	*r;

	while ((m = curl_multi_info_read(c->curl.multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		r = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &r);
		if (r != NULL)
			v2_request_done(r, m->data.result);
	}
}

/* ---- public request functions ---- */

static struct etcd2_req *
v2_req_new(struct etcd2_client *c, enum etcd2_method method,
    enum etcd2_kind kind, etcd2_cb cb, void *arg)
{
	struct etcd2_req	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->c = c;
	r->method = method;
	r->kind = kind;
	r->cb = cb;
	r->arg = arg;
	r->index = -1;
	TAILQ_INSERT_TAIL(&c->reqs, r, entry);
	if ((r->timer = evtimer_new(c->base, v2_req_timer, r)) == NULL) {
		v2_req_free(r);
		return NULL;
	}
	return r;
}

static struct etcd2_req *
v2_req_submit(struct etcd2_req *r, int rc)
{
	int	saved;

	if (rc == -1) {
		saved = errno;
		v2_req_free(r);
		errno = saved;
		return NULL;
	}
	v2_attempt_start(r);
	return r;
}

struct etcd2_req *
etcd2_get(struct etcd2_client *c, const char *key, int recursive,
    etcd2_cb cb, void *arg)
{
	struct etcd2_req	*r;

	if ((r = v2_req_new(c, M_GET, K_PLAIN, cb, arg)) == NULL)
		return NULL;
	return v2_req_submit(r, etcd2_encode_path(&r->path, key, recursive ?
	    "?recursive=true" : ""));
}

struct etcd2_req *
etcd2_list_pool(struct etcd2_client *c, const char *prefix, etcd2_cb cb,
    void *arg)
{
	struct etcd2_req	*r;
	int			 n;

	if ((r = v2_req_new(c, M_GET, K_POOL, cb, arg)) == NULL)
		return NULL;
	n = snprintf(r->pool_key, sizeof(r->pool_key), "%sips", prefix);
	if (n < 0 || (size_t)n >= sizeof(r->pool_key)) {
		errno = EINVAL;
		return v2_req_submit(r, -1);
	}
	return v2_req_submit(r, etcd2_encode_path(&r->path, r->pool_key,
	    "?recursive=true"));
}

/* A PUT of value with ttl (> 0) and the given extra form fields. */
static struct etcd2_req *
put(struct etcd2_client *c, const char *key, const char *value,
    int64_t ttl, const char *const *extra, etcd2_cb cb, void *arg)
{
	struct etcd2_req	*r;
	int			 rc;
	size_t			 i;

	if ((r = v2_req_new(c, M_PUT, K_PLAIN, cb, arg)) == NULL)
		return NULL;
	rc = etcd2_encode_path(&r->path, key, "");
	if (rc == 0 && value != NULL)
		rc = etcd2_form_add(&r->body, "value", value);
	if (rc == 0 && ttl > 0)
		rc = etcd2_form_add_int(&r->body, "ttl", ttl);
	for (i = 0; rc == 0 && extra != NULL && extra[i] != NULL; i += 2)
		rc = etcd2_form_add(&r->body, extra[i], extra[i + 1]);
	return v2_req_submit(r, rc);
}

struct etcd2_req *
etcd2_create(struct etcd2_client *c, const char *key, const char *value,
    int64_t ttl, etcd2_cb cb, void *arg)
{
	const char	*extra[] = { "prevExist", "false", NULL };

	if (ttl <= 0) {
		errno = EINVAL;
		return NULL;
	}
	return put(c, key, value, ttl, extra, cb, arg);
}

struct etcd2_req *
etcd2_set(struct etcd2_client *c, const char *key, const char *value,
    int64_t ttl, etcd2_cb cb, void *arg)
{
	return put(c, key, value, ttl, NULL, cb, arg);
}

struct etcd2_req *
etcd2_refresh(struct etcd2_client *c, const char *key, const char *value,
    int64_t ttl, etcd2_cb cb, void *arg)
{
	/* no "value": refresh=true refuses one; prevValue guards it */
	const char	*extra[] = { "refresh", "true", "prevExist", "true",
			    "prevValue", value, NULL };

	if (ttl <= 0 || value == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return put(c, key, NULL, ttl, extra, cb, arg);
}

struct etcd2_req *
etcd2_delete(struct etcd2_client *c, const char *key, const char *prev_value,
    etcd2_cb cb, void *arg)
{
	struct etcd2_req	*r;
	struct etcd_buf		 q = { NULL, 0, 0 };
	int			 rc = 0;

	if ((r = v2_req_new(c, M_DELETE, K_PLAIN, cb, arg)) == NULL)
		return NULL;
	if (prev_value != NULL)
		rc = etcd2_form_add(&q, "prevValue", prev_value);
	if (rc == 0 && prev_value != NULL) {
		etcd_buf_wipe(&r->path);
		rc = etcd2_encode_path(&r->path, key, "?");
		if (rc == 0)
			rc = etcd2_buf_add(&r->path, q.data, q.len);
	} else if (rc == 0)
		rc = etcd2_encode_path(&r->path, key, "");
	etcd_buf_wipe(&q);
	return v2_req_submit(r, rc);
}

struct etcd2_req *
etcd2_watch(struct etcd2_client *c, const char *key, int64_t wait_index,
    uint32_t silence_ms, etcd2_cb cb, void *arg)
{
	struct etcd2_req	*r;
	char			 q[96];

	if (wait_index < 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((r = v2_req_new(c, M_GET, K_WATCH, cb, arg)) == NULL)
		return NULL;
	r->silence_ms = silence_ms ? silence_ms : ETCD2_WATCH_SILENCE_MS;
	if (wait_index > 0)
		snprintf(q, sizeof(q), "?wait=true&recursive=true&"
		    "waitIndex=%lld", (long long)wait_index);
	else
		snprintf(q, sizeof(q), "?wait=true&recursive=true");
	return v2_req_submit(r, etcd2_encode_path(&r->path, key, q));
}

void
etcd2_req_cancel(struct etcd2_req *r)
{
	if (r == NULL)
		return;
	if (r->in_callback) {
		r->cancelled = 1;
		return;
	}
	v2_req_free(r);
}

/* ---- client ---- */

int
etcd2_client_set_resolve(struct etcd2_client *c)
{
	struct curl_slist	*list;

	if (resolve_list(c->conf, &list) == -1)
		return -1;
	curl_slist_free_all(c->resolve_old);
	c->resolve_old = c->resolve;
	c->resolve = list;
	return 0;
}

struct etcd2_client *
etcd2_client_new(struct event_base *base, const struct yaim_config *conf,
    const struct yaim_blobs *blobs, uint32_t seed, char *err, size_t errlen)
{
	struct etcd2_client	*c;

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
	if (conf->etcd_user[0] != '\0') {
		c->use_auth = 1;
		msgf(c->user, sizeof(c->user), "%s", conf->etcd_user);
		msgf(c->password, sizeof(c->password), "%s",
		    conf->etcd_password);
	}
	if (resolve_list(conf, &c->resolve) == -1 ||
	    copy_blob(blobs, BLOB_ETCD_CA, &c->ca, &c->has_ca) == -1 ||
	    copy_blob(blobs, BLOB_ETCD_CERT, &c->cert, &c->has_cert) == -1 ||
	    copy_blob(blobs, BLOB_ETCD_KEY, &c->key, &c->has_key) == -1 ||
	    evcurl_init(&c->curl, base, v2_check_multi_info, c) == -1 ||
	    (c->ep_ev = event_new(base, -1, 0, ep_event, c)) == NULL) {
		msgf(err, errlen, "%s: out of memory", __func__);
		etcd2_client_free(c);
		return NULL;
	}
	return c;
}

void
etcd2_client_free(struct etcd2_client *c)
{
	struct etcd2_req	*r;

	if (c == NULL)
		return;
	while ((r = TAILQ_FIRST(&c->reqs)) != NULL)
		v2_req_free(r);
	evcurl_cleanup(&c->curl);
	if (c->ep_ev != NULL)
		event_free(c->ep_ev);
	curl_slist_free_all(c->resolve);
	curl_slist_free_all(c->resolve_old);
	wipe_blob(&c->ca, c->has_ca);
	wipe_blob(&c->cert, c->has_cert);
	wipe_blob(&c->key, c->has_key);
	explicit_bzero(c->password, sizeof(c->password));
	free(c);
}
