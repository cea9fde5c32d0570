/*
 * http and https checks: libcurl's multi interface driven by libevent.
 * Names are pinned with CURLOPT_RESOLVE (the parent resolved them), so
 * libcurl never runs its resolver; no signals, no redirects, no proxies.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "evcurl.h"
#include "log.h"
#include "checker/checks_int.h"

#define HTTP_DEFAULT_MAX_BODY	(64 * 1024)

struct http_run {
	CURL			*easy;
	struct curl_slist	*resolve;
	struct curl_slist	*headers;
	char			*body;
	size_t			 len;
	size_t			 max;
	int			 too_large;
	char			 errbuf[CURL_ERROR_SIZE];
};

/* The http checks' state: one per checker process. */
static struct http_state {
	struct evcurl		 ec;
	int			 global;
} hm;

static void	http_check_finished(void *);

static int
http_multi_init(struct event_base *base)
{
	if (hm.ec.multi != NULL)
		return 0;
	if (!hm.global) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -1;
		hm.global = 1;
	}
	return evcurl_init(&hm.ec, base, http_check_finished, NULL);
}

int
http_engine_init(struct event_base *base)
{
	return http_multi_init(base);
}

void
http_engine_free(void)
{
	evcurl_cleanup(&hm.ec);
}

static size_t
http_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_run	*h = arg;
	size_t		 n = size * nmemb;

	if (n > h->max - h->len) {
		/* Stop reading: a short count makes curl abort the transfer. */
		h->too_large = 1;
		return 0;
	}
	memcpy(h->body + h->len, data, n);
	h->len += n;
	return n;
}

static void
http_free(struct http_run *h)
{
	if (h == NULL)
		return;
	if (h->easy != NULL) {
		curl_multi_remove_handle(hm.ec.multi, h->easy);
		curl_easy_cleanup(h->easy);
	}
	curl_slist_free_all(h->resolve);
	curl_slist_free_all(h->headers);
	free(h->body);
	free(h);
}

static void
http_cancel(struct check_run *r)
{
	http_free(r->kstate);
	r->kstate = NULL;
}

static int
http_setopts(struct check_run *r, struct http_run *h)
{
	const struct check_conf	*c = &r->conf;
	struct curl_blob	 blob;
	char			 hdr[CFG_STR_MAX + 8];
	CURL			*e = h->easy;
	int			 bad = 0;

	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, r) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_URL, c->http_url) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	/* ignore http_proxy and friends from the environment */
	bad |= curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOPROXY, "*") != CURLE_OK;
	/* a fresh connection each time, so a dead listener is seen */
	bad |= curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms)
	    != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "yaimd") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write_cb) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, h) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)h->max) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER,
	    c->http_tls_verify ? 1L : 0L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST,
	    c->http_tls_verify ? 2L : 0L) != CURLE_OK;
	if (r->ca != NULL) {
		blob.data = r->ca;
		blob.len = r->ca_len;
		blob.flags = CURL_BLOB_COPY;
		bad |= curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob) !=
		    CURLE_OK;
	}
	if (c->http_resolve[0] != '\0') {
		if ((h->resolve = curl_slist_append(NULL, c->http_resolve)) ==
		    NULL)
			return -1;
		bad |= curl_easy_setopt(e, CURLOPT_RESOLVE, h->resolve) !=
		    CURLE_OK;
	}
	if (c->http_host_header[0] != '\0') {
		snprintf(hdr, sizeof(hdr), "Host: %s", c->http_host_header);
		if ((h->headers = curl_slist_append(NULL, hdr)) == NULL)
			return -1;
		bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers) !=
		    CURLE_OK;
	}
	return bad ? -1 : 0;
}

static int
http_start(struct check_run *r)
{
	struct http_run	*h;

	if (hm.ec.multi == NULL && http_multi_init(r->base) == -1) {
		log_warnx("%s: cannot set up libcurl", __func__);
		return -1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -1;
	h->max = r->conf.http_max_body ? r->conf.http_max_body :
	    HTTP_DEFAULT_MAX_BODY;
	if ((h->body = malloc(h->max + 1)) == NULL ||
	    (h->easy = curl_easy_init()) == NULL ||
	    http_setopts(r, h) == -1) {
		log_warnx("%s: check %s: cannot set up the request", __func__,
		    r->conf.name);
		http_free(h);
		return -1;
	}
	if (curl_multi_add_handle(hm.ec.multi, h->easy) != CURLM_OK) {
		http_free(h);
		return -1;
	}
	r->kstate = h;
	return 0;
}


/* Map the finished transfer to a result and end the run. */
static void
http_verdict(struct check_run *r, struct http_run *h, CURLcode rc)
{
	const struct check_conf	*c = &r->conf;
	long			 code = 0, oserr = 0;
	uint32_t		 want = c->http_expected_code ?
				    c->http_expected_code : 200;
	size_t			 max = h->max;
	char			 err[CURL_ERROR_SIZE], *ip = NULL;

	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(h->easy, CURLINFO_OS_ERRNO, &oserr);
	if (code != 0 && curl_easy_getinfo(h->easy, CURLINFO_PRIMARY_IP,
	    &ip) == CURLE_OK && ip != NULL)
		log_debug("check %s: status %ld from %s", c->name, code, ip);
	snprintf(err, sizeof(err), "%s", h->errbuf[0] ? h->errbuf :
	    curl_easy_strerror(rc));
	if (code != 0 && (rc == CURLE_OK || h->too_large ||
	    rc == CURLE_FILESIZE_EXCEEDED) && (uint32_t)code != want) {
		http_cancel(r);
		check_done(r, HR_STATUS, (int32_t)code, "unexpected status "
		    "%ld", code);
	} else if (h->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		http_cancel(r);
		check_done(r, HR_BODY_TOO_LARGE, (int32_t)max, "body larger "
		    "than %zu bytes", max);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		http_cancel(r);
		check_done(r, HR_TIMEOUT, 0, "timeout after %u ms",
		    check_elapsed_ms(r));
	} else if (rc == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED) {
		http_cancel(r);
		check_done(r, HR_REFUSED, 0, "connect refused");
	} else if (evcurl_is_tls_error(rc)) {
		http_cancel(r);
		check_done(r, HR_TLS, (int32_t)rc, "TLS error: %s", err);
	} else if (rc != CURLE_OK) {
		http_cancel(r);
		check_done(r, HR_CONNECT, (int32_t)rc, "%s", err);
	} else if (c->http_expected_contains[0] != '\0' &&
	    memmem(h->body, h->len, c->http_expected_contains,
	    strlen(c->http_expected_contains)) == NULL) {
		http_cancel(r);
		check_done(r, HR_BODY_MISMATCH, 0, "body does not contain "
		    "\"%.60s\"", c->http_expected_contains);
	} else {
		http_cancel(r);
		check_done(r, HR_OK, (int32_t)code, "status %ld", code);
	}
}

static void
http_check_finished(void *arg)
{
	struct check_run	*r;
	CURLMsg			*msg;
	int			 left;
	char			*priv;

	(void)arg;
	/* the multi handle goes if a report stopped the engine meanwhile */
	while (hm.ec.multi != NULL &&
	    (msg = curl_multi_info_read(hm.ec.multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		r = (struct check_run *)(void *)priv;
		if (r == NULL || r->kstate == NULL ||
		    ((struct http_run *)r->kstate)->easy != msg->easy_handle)
			continue;
		http_verdict(r, r->kstate, msg->data.result);
	}
}

const struct check_kind_ops check_kind_http = {
	.name = "http",
	.start = http_start,
	.cancel = http_cancel
};
