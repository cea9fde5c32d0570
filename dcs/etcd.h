/*
 * etcd v3 client of the dcs child: the JSON gateway (/v3/...) over
 * libcurl's multi interface, driven by libevent.  Nothing blocks, no
 * threads, no name resolution of our own (the parent resolves; see
 * etcd_client_new).
 *
 * Rules common to every request function below:
 * - It returns a handle, or NULL (errno set) when the request could not
 *   even be queued (out of memory, key too long).  With NULL the callback
 *   is never called.
 * - The callback is called exactly once, never from inside the function
 *   that started the request, unless the request is cancelled first.
 *   The handle is invalid once the callback has returned (or once it has
 *   been cancelled).  Any callback may start, cancel and stop requests and
 *   watches (a request cancelling itself inside its own callback is
 *   harmless); only etcd_client_free must not be called from one.
 * - Everything the result points to is valid only during the callback.
 * - One attempt is bounded by conf->etcd_timeout_ms.  A failed attempt
 *   (connect refused, timeout, TLS error, HTTP 5xx, etcd "unavailable")
 *   moves the client to the next endpoint and is retried after
 *   conf->retry_after_ms, at most conf->retry_num times in all (retries on
 *   other endpoints count).  Definite answers from etcd (a failed compare,
 *   "lease not found", permission denied, a bad password) are not retried.
 * - With etcd_user set, the client authenticates before its first request
 *   and sends the token in an "Authorization" header.  A rejected token
 *   (HTTP 401 / grpc code 16 / "invalid auth token" / "revision of auth
 *   store is old" / "user name is empty") triggers one new authentication
 *   and one retry of that request.  If etcd answers "authentication is not
 *   enabled", the client goes on without a token, as etcd's own client
 *   does, and authenticates once auth gets enabled.
 * - No threads, no signals (CURLOPT_NOSIGNAL), HTTP/1.1, no proxy, only
 *   http and https.
 */
#ifndef YAIM_DCS_ETCD_H
#define YAIM_DCS_ETCD_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct yaim_config;
struct yaim_blobs;

/*
 * Bounds (DESIGN.md section 11).  A range over 10000 pool IPs and their
 * marks is about 2.9 MB of JSON with 130000 values; the bounds leave five
 * to eight times that.  A larger reply fails with "reply longer than N
 * bytes", one with more values with "reply has more than N JSON values":
 * cJSON takes about 64 bytes per value, so it is the value count that
 * bounds what a hostile reply of many small values can make us allocate
 * (a reply of "[1,1,1,...]" was 32 times its size).  A watch message is
 * decoded the same way.
 */
#define ETCD_MAX_REPLY		(16u * 1024 * 1024)	/* one reply body */
#define ETCD_MAX_WATCH_OBJECT	(16u * 1024 * 1024)	/* one watch message */
#define ETCD_MAX_WATCH_QUEUE	(32u * 1024 * 1024)	/* messages waiting */
#define ETCD_MAX_JSON_VALUES	(1u << 20)		/* per reply/message */
#define ETCD_MAX_KEY		4096			/* request keys, bytes */
#define ETCD_MAX_VALUE		(1024 * 1024)		/* request values */
#define ETCD_MAX_TXN_OPS	128	/* compares, and ops per branch */
/*
 * Default bound on the silence of an established watch (no event, no
 * progress notification): etcd sends progress notifications every 10
 * minutes by default (--experimental-watch-progress-notify-interval), so
 * the default is 11 minutes.  A dead endpoint is usually noticed much
 * earlier: TCP keepalive, and any request failing on the watch's endpoint
 * breaks the watch (see etcd_watch_start).  Until etcd has confirmed the
 * creation, the bound is conf->etcd_timeout_ms.
 */
#define ETCD_WATCH_SILENCE_MS	(11u * 60 * 1000)

enum etcd_status {
	ETCD_OK = 0,
	ETCD_ERROR,		/* transport, HTTP, decode or etcd error */
	ETCD_AUTH_FAILED,	/* bad user/password, or auth not usable */
	ETCD_NOT_FOUND,		/* lease gone: keepalive TTL 0, revoke/
				   keepalive of an unknown lease */
	ETCD_COMPACTED,		/* watch: start revision was compacted;
				   result.compact_revision is set */
	ETCD_CANCELED,		/* watch: cancelled by etcd */
	ETCD_BROKEN		/* watch: stream ended, failed or went
				   silent for ETCD_WATCH_SILENCE_MS */
};

/*
 * What every etcd client of this process did, for the metrics: finished
 * requests (not watches) by kind (enum etcd_reply_kind, 1..7; the auth
 * request included), their final status when not ok, and how long they
 * took from the first attempt to the callback, retries included, in
 * buckets of at most etcd_bucket_ms[i] (counted once, in the first that
 * fits; beyond the last only in count and sum).
 */
#define ETCD_KINDS		8	/* [0] unused */
#define ETCD_BUCKETS		10
#define ETCD_ERR_KINDS		3	/* error, auth_failed, not_found */
extern const uint32_t	etcd_bucket_ms[ETCD_BUCKETS];
struct etcd_stats {
	uint64_t	 requests[ETCD_KINDS];
	uint64_t	 errors[ETCD_KINDS][ETCD_ERR_KINDS];
	uint64_t	 bucket[ETCD_KINDS][ETCD_BUCKETS];
	uint64_t	 sum_ms[ETCD_KINDS];
	uint64_t	 attempts_failed;	/* attempts retried */
};
void	etcd_get_stats(struct etcd_stats *);
/* "range", "txn", "grant", "keepalive", "revoke", "auth", "watch". */
const char	*etcd_kind_name(uint32_t);

/* Name of a status ("ok", "error", ...), for logs and the driver. */
const char	*etcd_status_name(enum etcd_status);

/*
 * One key-value pair as etcd returns it.  key and value are decoded from
 * base64 and NUL-terminated for convenience (they may still hold NULs:
 * use the lengths).  value is "" for keys-only or deleted kvs.
 */
struct etcd_kv {
	const char	*key;
	size_t		 key_len;
	const char	*value;
	size_t		 value_len;
	int64_t		 create_revision;
	int64_t		 mod_revision;
	int64_t		 version;
	int64_t		 lease;		/* 0: no lease */
};

/* A range answer (also a range op inside a txn). */
struct etcd_range_result {
	const struct etcd_kv	*kvs;
	size_t			 n_kvs;
	int			 more;		/* limit cut the list short */
	int64_t			 count;		/* keys in the range */
};

enum etcd_op_kind {
	ETCD_OP_RANGE = 1,
	ETCD_OP_PUT,
	ETCD_OP_DELETE
};

/* One response of a txn branch, in op order. */
struct etcd_op_result {
	enum etcd_op_kind		kind;
	struct etcd_range_result	range;		/* ETCD_OP_RANGE */
	int64_t				deleted;	/* ETCD_OP_DELETE */
};

/*
 * The result handed to every callback.  Fields not used by a kind of
 * request are zero.
 */
struct etcd_result {
	enum etcd_status	 status;
	/*
	 * "" when status is ETCD_OK, else one line naming the endpoint and
	 * what failed, e.g. "etcd http://127.0.0.1:2379: timed out",
	 * "etcd https://10.0.0.1:2379: TLS error: ...", "etcd URL: HTTP
	 * status 503", "etcd URL: authentication failed, invalid user ID or
	 * password", "etcd URL: bad reply to /v3/kv/range:
	 * kvs[2].lease: not an int64 string".
	 */
	const char		*error;
	const char		*endpoint;	/* the endpoint that answered */
	int			 grpc_code;	/* etcd's error code, 0 if none */
	int64_t			 revision;	/* header.revision, 0 unknown */
	/*
	 * CLOCK_MONOTONIC time in ms at which the attempt that produced
	 * this result was sent.  For fencing: a lease cannot expire on the
	 * etcd side before sent_ms + TTL of a successful keepalive.
	 */
	uint64_t		 sent_ms;

	/* etcd_range */
	struct etcd_range_result range;

	/* etcd_txn */
	int				 succeeded;
	const struct etcd_op_result	*responses;
	size_t				 n_responses;

	/* etcd_lease_grant, etcd_lease_keepalive */
	int64_t			 lease_id;
	int64_t			 ttl;		/* seconds, as granted by etcd */

	/* watch status: ETCD_COMPACTED */
	int64_t			 compact_revision;
	/* watch status: ETCD_OK means "created"; the watch id */
	int64_t			 watch_id;
};

typedef void	(*etcd_cb)(const struct etcd_result *, void *arg);

struct etcd_client;
struct etcd_req;
struct etcd_watch;

/*
 * A client for conf->endpoints[0 .. n_endpoints-1] (URLs
 * "http[s]://host:port", no path).  conf must stay valid and unchanged
 * for the client's life.  TLS material comes from blobs (BLOB_ETCD_CA,
 * BLOB_ETCD_CERT, BLOB_ETCD_KEY, index 0; each optional; blobs may be
 * NULL); it is copied.  Host names in the URLs are never resolved by us:
 * conf->etcd_resolve[] holds "host:port:addr" entries for
 * CURLOPT_RESOLVE, filled by the parent.  seed picks the first endpoint
 * (seed % n_endpoints), so tests are deterministic.  conf->etcd_user and
 * conf->etcd_password enable auth; the client keeps its own copy of the
 * password (it authenticates again when a token expires), wiped with
 * explicit_bzero when freed, so the caller may wipe conf->etcd_password
 * once this returns.
 * Returns NULL on error with a message in err.
 */
struct etcd_client *etcd_client_new(struct event_base *,
	    const struct yaim_config *conf, const struct yaim_blobs *blobs,
	    uint32_t seed, char *err, size_t errlen);
/*
 * conf->etcd_resolve (same endpoints, new addresses) changed in place:
 * take it for the requests to come.  -1 when out of memory.
 */
int	etcd_client_set_resolve(struct etcd_client *);

/*
 * Cancel every pending request and watch without calling their callbacks,
 * wipe secrets, free.  NULL is fine.  Not from inside a callback of this
 * client.
 */
void	etcd_client_free(struct etcd_client *);

/* The endpoint URL requests go to now. */
const char	*etcd_client_endpoint(const struct etcd_client *);

/*
 * Called (deferred, never from inside a request function) whenever the
 * client moves to another endpoint, with the new one.  The engine re-reads
 * then: the new member may be behind or ahead.  cb NULL disables.
 */
void	etcd_client_on_endpoint_change(struct etcd_client *,
	    void (*cb)(const char *endpoint, void *arg), void *arg);

/*
 * Range.  key is a NUL-terminated string.  prefix: all keys starting with
 * key (range_end = key with its last byte incremented, dropping trailing
 * 0xff bytes; "\0" for an empty key).  revision 0 = latest.  Result:
 * range, revision.
 */
struct etcd_req	*etcd_range(struct etcd_client *, const char *key,
	    int prefix, int64_t revision, etcd_cb, void *arg);

/*
 * The cheap check of a watched prefix (DESIGN.md 4.3): keys only, at
 * revision, only the keys whose mod_revision is at least
 * min_mod_revision (0: all).  range.count is still every key of the
 * range at that revision (etcd counts before it filters).  A compacted
 * revision fails.
 */
struct etcd_req	*etcd_range_check(struct etcd_client *, const char *key,
	    int prefix, int64_t revision, int64_t min_mod_revision, etcd_cb,
	    void *arg);

/* What a compare looks at; the names of etcd's Compare.target. */
enum etcd_cmp_target {
	ETCD_CMP_VERSION = 1,
	ETCD_CMP_CREATE,	/* create_revision; 0 = key does not exist */
	ETCD_CMP_MOD,
	ETCD_CMP_VALUE,
	ETCD_CMP_LEASE
};

enum etcd_cmp_op {
	ETCD_CMP_EQUAL = 1,
	ETCD_CMP_NOT_EQUAL,
	ETCD_CMP_GREATER,
	ETCD_CMP_LESS
};

struct etcd_compare {
	const char		*key;
	enum etcd_cmp_target	 target;
	enum etcd_cmp_op	 op;
	int64_t			 number;	/* all targets but VALUE */
	const char		*value;		/* ETCD_CMP_VALUE */
};

struct etcd_op {
	enum etcd_op_kind	 kind;
	const char		*key;
	const char		*value;		/* PUT; NULL = "" */
	int64_t			 lease;		/* PUT; 0 = none */
	int			 prefix;	/* RANGE, DELETE */
};

/*
 * A transaction: if every compare holds, run success[], else failure[].
 * Examples:
 *   claim:    compare {mark, CREATE, EQUAL, 0}
 *             success {PUT mark nodename lease}
 *   release:  compare {mark, LEASE, EQUAL, ours}  success {DELETE mark}
 *   node key: compare {node, CREATE, EQUAL, 0} success {PUT node ...}
 *             failure {RANGE node}  (then look at the lease it returns)
 */
struct etcd_txn {
	const struct etcd_compare	*compare;
	size_t				 n_compare;
	const struct etcd_op		*success;
	size_t				 n_success;
	const struct etcd_op		*failure;
	size_t				 n_failure;
};

/*
 * Run a txn.  The txn and its strings are copied (encoded) at once.
 * Result: succeeded, revision, responses[] of the branch that ran.
 */
struct etcd_req	*etcd_txn(struct etcd_client *, const struct etcd_txn *,
	    etcd_cb, void *arg);

/* Grant a lease of ttl seconds.  Result: lease_id, ttl (authoritative). */
struct etcd_req	*etcd_lease_grant(struct etcd_client *, int64_t ttl,
	    etcd_cb, void *arg);

/*
 * One keepalive.  Result: ttl and sent_ms; ETCD_NOT_FOUND when the lease
 * is gone (TTL 0 or missing).  Use result.sent_ms for fencing.
 */
struct etcd_req	*etcd_lease_keepalive(struct etcd_client *, int64_t id,
	    etcd_cb, void *arg);

/* Revoke a lease.  ETCD_NOT_FOUND when it was already gone. */
struct etcd_req	*etcd_lease_revoke(struct etcd_client *, int64_t id,
	    etcd_cb, void *arg);

/* Cancel a pending request: its callback will not be called. */
void	etcd_req_cancel(struct etcd_req *);

/* One watch event; kv.value is "" for DELETE. */
enum etcd_event_type {
	ETCD_EVENT_PUT = 1,
	ETCD_EVENT_DELETE
};

struct etcd_event {
	enum etcd_event_type	 type;
	struct etcd_kv		 kv;
	int			 has_prev_kv;
	struct etcd_kv		 prev_kv;
};

/*
 * Events of one watch message, in order, with the message's header
 * revision.  n == 0 is a progress notification: nothing changed up to
 * revision.  Valid during the call only.
 */
typedef void	(*etcd_watch_event_cb)(const struct etcd_event *, size_t n,
	    int64_t revision, void *arg);

struct etcd_watch_opts {
	const char	*key;
	int		 prefix;		/* watch key as a prefix */
	int64_t		 start_revision;	/* 0 = from now */
	int		 prev_kv;		/* ask for prev_kv */
	uint32_t	 silence_ms;		/* 0 = ETCD_WATCH_SILENCE_MS */
};

/*
 * Start a watch (progress_notify is always requested).  Establishing it
 * follows the retry rules above.  status_cb is called with:
 *   ETCD_OK         once, when etcd has created the watch (watch_id,
 *                   revision);
 *   ETCD_COMPACTED  start_revision is compacted (compact_revision set);
 *   ETCD_CANCELED   etcd cancelled the watch (error holds its reason);
 *   ETCD_BROKEN     the stream ended or failed, it was silent for
 *                   silence_ms, or another request failed on the
 *                   watch's endpoint (the client then moves to the next
 *                   endpoint);
 *   ETCD_ERROR, ETCD_AUTH_FAILED  establishing failed after the retries.
 * Every status but ETCD_OK is final: the handle is freed once status_cb
 * returns, and the engine re-reads and starts a new watch.
 * Returns NULL (errno set) if the watch cannot be started.
 */
struct etcd_watch *etcd_watch_start(struct etcd_client *,
	    const struct etcd_watch_opts *, etcd_watch_event_cb event_cb,
	    etcd_cb status_cb, void *arg);

/* Stop a live watch; no callback is called afterwards.  NULL is fine. */
void	etcd_watch_stop(struct etcd_watch *);

#endif
