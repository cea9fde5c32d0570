/*
 * libcurl's multi interface driven by a libevent base: the socket and
 * timer glue that the http checks and the etcd client share.  After every
 * curl_multi_socket_action() the user's check_finished(arg) runs; it
 * reads curl_multi_info_read() itself (and may call evcurl_cleanup()).
 */
#ifndef YAIM_EVCURL_H
#define YAIM_EVCURL_H

#include <curl/curl.h>
#include <event2/event.h>

struct evcurl {
	CURLM			*multi;
	struct event_base	*base;
	struct event		*timer;		/* libcurl's timeout */
	void			(*check_finished)(void *);
	void			*arg;
};

/* 0, or -1 with everything undone (ec->multi stays NULL). */
int	evcurl_init(struct evcurl *ec, struct event_base *base,
	    void (*check_finished)(void *), void *arg);
/* Frees the multi handle (add no easy handle after) and the timer. */
void	evcurl_cleanup(struct evcurl *ec);
/* 1 if a transfer's result code is a TLS failure. */
int	evcurl_is_tls_error(CURLcode rc);

#endif /* YAIM_EVCURL_H */
