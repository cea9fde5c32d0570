/*
 * libcurl multi on libevent: one event per socket libcurl watches, one
 * timer for libcurl's timeouts.
 */
#include <stdint.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "clock.h"
#include "evcurl.h"

static void
evcurl_sock_event(evutil_socket_t fd, short what, void *arg)
{
	struct evcurl	*ec = arg;
	int		 flags = 0, running;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(ec->multi, fd, flags, &running);
	ec->check_finished(ec->arg);
}

/* Watch fd as libcurl asks; socketp is its event (curl_multi_assign). */
static int
evcurl_sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *socketp)
{
	struct evcurl	*ec = userp;
	struct event	*ev = socketp;
	short		 kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (ev != NULL)
			event_free(ev);
		curl_multi_assign(ec->multi, fd, NULL);
		return 0;
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (ev == NULL) {
		ev = event_new(ec->base, fd, kind, evcurl_sock_event, ec);
		if (ev == NULL)
			return -1;
		curl_multi_assign(ec->multi, fd, ev);
	} else {
		event_del(ev);
		event_assign(ev, ec->base, fd, kind, evcurl_sock_event, ec);
	}
	return event_add(ev, NULL);
}

static void
evcurl_timer_event(evutil_socket_t fd, short what, void *arg)
{
	struct evcurl	*ec = arg;
	int		 running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(ec->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	ec->check_finished(ec->arg);
}

static int
evcurl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct evcurl	*ec = userp;
	struct timeval	 tv;

	(void)multi;
	if (timeout_ms < 0)
		return evtimer_del(ec->timer);
	tv = ms_to_tv((uint64_t)timeout_ms);
	return evtimer_add(ec->timer, &tv);
}

int
evcurl_init(struct evcurl *ec, struct event_base *base,
    void (*check_finished)(void *), void *arg)
{
	ec->base = base;
	ec->check_finished = check_finished;
	ec->arg = arg;
	ec->timer = NULL;
	if ((ec->multi = curl_multi_init()) == NULL ||
	    (ec->timer = evtimer_new(base, evcurl_timer_event, ec)) == NULL) {
		evcurl_cleanup(ec);
		return -1;
	}
	curl_multi_setopt(ec->multi, CURLMOPT_SOCKETFUNCTION, evcurl_sock_cb);
	curl_multi_setopt(ec->multi, CURLMOPT_SOCKETDATA, ec);
	curl_multi_setopt(ec->multi, CURLMOPT_TIMERFUNCTION, evcurl_timer_cb);
	curl_multi_setopt(ec->multi, CURLMOPT_TIMERDATA, ec);
	return 0;
}

void
evcurl_cleanup(struct evcurl *ec)
{
	if (ec->multi != NULL)
		curl_multi_cleanup(ec->multi);
	if (ec->timer != NULL)
		event_free(ec->timer);
	ec->multi = NULL;
	ec->timer = NULL;
	ec->base = NULL;
}

int
evcurl_is_tls_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_USE_SSL_FAILED:
		return 1;
	default:
		return 0;
	}
}
