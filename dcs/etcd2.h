/*
 * etcd v2 keys API client of the dcs child (/v2/keys/..., etcd 3.4 with
 * --enable-v2; etcd 3.6 dropped the API): the operations the engine needs
 * for the original yaim layout (DESIGN.md section 15), over libcurl's
 * multi interface driven by libevent, like the v3 client (etcd.h).
 * Nothing blocks, no threads, no name resolution of our own: the host
 * names of conf->endpoints are resolved by the parent into
 * conf->etcd_resolve, exactly as for the v3 client.
 *
 * Not wired into the engine yet: the config accepts dcs-type: etcd2,
 * yaimd refuses to start with it.
 *
 * Rules common to every request function below (as in etcd.h):
 * - It returns a handle, or NULL (errno set: ENOMEM, or EINVAL for a key
 *   that does not start with '/' or is longer than ETCD2_MAX_KEY, or a
 *   value longer than ETCD2_MAX_VALUE).  With NULL the callback is never
 *   called.
 * - The callback is called exactly once, never from inside the function
 *   that started the request, unless the request is cancelled first.
 *   The handle is invalid once the callback has returned.  Callbacks may
 *   start and cancel requests; only etcd2_client_free must not be called
 *   from one.  Everything the result points to is valid only during the
 *   callback.
 * - One attempt is bounded by conf->etcd_timeout_ms (a watch: by its
 *   silence bound once connected).  A failed attempt (connect refused,
 *   timeout, TLS error, HTTP 5xx, errorCode 300/301: raft internal error,
 *   leader election) moves the client to the next endpoint and is retried
 *   after conf->retry_after_ms, at most conf->retry_num times in all.
 *   etcd's definite answers (errorCode 100 key not found, 101 compare
 *   failed, 105 key exists, HTTP 401) are not retried.  A retried create
 *   whose first attempt did reach etcd answers 105: the caller re-reads,
 *   as with a v3 txn of unknown outcome.
 * - With conf->etcd_user set, every request carries HTTP basic auth (v2
 *   has no tokens).  HTTP 401 is ETCD2_AUTH_FAILED.
 * - TLS material from blobs as for the v3 client; HTTP/1.1, no proxy,
 *   only http and https, CURLOPT_NOSIGNAL.
 */
#ifndef YAIM_DCS_ETCD2_H
#define YAIM_DCS_ETCD2_H

#include <stddef.h>
#include <stdint.h>

#include "dcs/etcd2_json.h"

struct event_base;
struct yaim_config;
struct yaim_blobs;

/* Default silence bound of a watch: re-issued after that (ETCD2_IDLE). */
#define ETCD2_WATCH_SILENCE_MS	(5u * 60 * 1000)

enum etcd2_status {
	ETCD2_OK = 0,
	ETCD2_ERROR,		/* transport, HTTP or decode error */
	ETCD2_AUTH_FAILED,	/* HTTP 401: bad user/password */
	ETCD2_REFUSED,		/* etcd's errorCode (result.error_code):
				   100 not found, 101 compare failed
				   (not our mark), 105 exists (taken) */
	ETCD2_CLEARED,		/* watch: errorCode 401 EventIndexCleared,
				   the index is older than etcd's last 1000
				   events: read again, watch from the read's
				   index + 1 */
	ETCD2_IDLE		/* watch: no event within its silence
				   bound: watch again from the same index */
};

const char	*etcd2_status_name(enum etcd2_status);

struct etcd2_result {
	enum etcd2_status	 status;
	/* "" when ok, else one line naming the endpoint and what failed */
	const char		*error;
	const char		*endpoint;	/* the endpoint that answered */
	int			 error_code;	/* etcd's errorCode, 0 none */
	/*
	 * etcd's index: the X-Etcd-Index header, or an error's "index".
	 * For a read, the watch that follows it starts at index + 1.  For a
	 * watch event, X-Etcd-Index is the index when the watch began: go
	 * on from node->modified_index + 1 instead.
	 */
	int64_t			 index;
	/*
	 * CLOCK_MONOTONIC ms at which the attempt that produced this result
	 * was sent.  For fencing: a key refreshed with ttl T cannot expire
	 * on the etcd side before sent_ms + T * 1000.
	 */
	uint64_t		 sent_ms;

	const char		*action;	/* "" on errors */
	const struct etcd2_node	*node;		/* NULL on errors */
	const struct etcd2_node	*nodes;		/* node and all below it */
	size_t			 n_nodes;
	const struct etcd2_node	*prev_node;	/* NULL if none */

	/* etcd2_list_pool */
	const struct etcd2_ip	*ips;
	size_t			 n_ips;
};

typedef void	(*etcd2_cb)(const struct etcd2_result *, void *arg);

struct etcd2_client;
struct etcd2_req;

/*
 * A client for conf->endpoints, with conf->etcd_resolve, conf->etcd_user
 * and password, conf->etcd_timeout_ms, retry_num and retry_after_ms, and
 * TLS blobs exactly as etcd_client_new takes them (see etcd.h).  The
 * password is copied and wiped on free.  NULL with err on error.
 */
struct etcd2_client *etcd2_client_new(struct event_base *,
	    const struct yaim_config *conf, const struct yaim_blobs *blobs,
	    uint32_t seed, char *err, size_t errlen);
/* Cancel everything without callbacks, wipe secrets, free.  NULL ok. */
void	etcd2_client_free(struct etcd2_client *);
/* conf->etcd_resolve changed in place; -1 when out of memory. */
int	etcd2_client_set_resolve(struct etcd2_client *);
const char	*etcd2_client_endpoint(const struct etcd2_client *);
/* Called (deferred) when the client moves to another endpoint. */
void	etcd2_client_on_endpoint_change(struct etcd2_client *,
	    void (*cb)(const char *endpoint, void *arg), void *arg);

/*
 * GET key (recursive: the whole subtree).  Result: node, nodes, index.
 * A missing key is ETCD2_REFUSED with error_code 100.
 */
struct etcd2_req *etcd2_get(struct etcd2_client *, const char *key,
	    int recursive, etcd2_cb, void *arg);
/*
 * The pool: GET <prefix>ips?recursive=true (prefix ends in '/').
 * Result: ips, n_ips, index.  A missing "ips" directory is an empty
 * pool (ETCD2_OK, n_ips 0), since the spec's users create it with their
 * first IP.
 */
struct etcd2_req *etcd2_list_pool(struct etcd2_client *, const char *prefix,
	    etcd2_cb, void *arg);
/*
 * Create key = value with a TTL (prevExist=false): a claim.  Taken:
 * ETCD2_REFUSED, error_code 105.  ttl > 0.
 */
struct etcd2_req *etcd2_create(struct etcd2_client *, const char *key,
	    const char *value, int64_t ttl, etcd2_cb, void *arg);
/* Set key = value, with a TTL when ttl > 0 (the node key). */
struct etcd2_req *etcd2_set(struct etcd2_client *, const char *key,
	    const char *value, int64_t ttl, etcd2_cb, void *arg);
/*
 * Refresh key's TTL to ttl if it holds value (refresh=true,
 * prevExist=true, prevValue=value): no watch event, and never someone
 * else's key.  Gone: REFUSED 100; another value: REFUSED 101.
 */
struct etcd2_req *etcd2_refresh(struct etcd2_client *, const char *key,
	    const char *value, int64_t ttl, etcd2_cb, void *arg);
/*
 * Delete key if it holds prev_value (NULL: whatever it holds; a
 * directory cannot be deleted by this call).  Another value: REFUSED 101.
 */
struct etcd2_req *etcd2_delete(struct etcd2_client *, const char *key,
	    const char *prev_value, etcd2_cb, void *arg);

/*
 * Wait for the first change at or after index wait_index (0: the next
 * one) under key (recursive).  Result: action, node, prev_node of that
 * one event; ETCD2_CLEARED (error_code 401) when wait_index is older than
 * etcd's event window; ETCD2_IDLE when nothing came for silence_ms (0:
 * ETCD2_WATCH_SILENCE_MS).  A watch is one request: each event needs a
 * new one, from node->modified_index + 1.  When its endpoint fails
 * (another request failed there), a watch moves to the new endpoint with
 * the same index.
 */
struct etcd2_req *etcd2_watch(struct etcd2_client *, const char *key,
	    int64_t wait_index, uint32_t silence_ms, etcd2_cb, void *arg);

/* Cancel a pending request: its callback will not be called. */
void	etcd2_req_cancel(struct etcd2_req *);

#endif
