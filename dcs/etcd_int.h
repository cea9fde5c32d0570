/*
 * The etcd client's private header: requests, watches and the client as
 * etcd.c and etcd_watch.c share them; never included elsewhere but in
 * etcd2.c, the v2 client, which shares the configuration checks below.
 */
#ifndef YAIM_DCS_ETCD_INT_H
#define YAIM_DCS_ETCD_INT_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "config.h"
#include "evcurl.h"
#include "dcs/etcd.h"
#include "dcs/etcd_json.h"

#define ERR_MAX		512
#define TOKEN_MAX	4096
/* A full read of the prefix may take this many times etcd-timeout. */
#define FULL_READ_TIMES	5

enum req_state {
	REQ_IDLE,		/* waiting for auth or a retry timer */
	REQ_RUNNING,		/* an easy handle is in the multi handle */
	REQ_DONE
};

/* Outcome of one attempt. */
enum attempt_verdict {
	V_OK,			/* deliver the decoded reply */
	V_FINAL,		/* deliver an error, no retry */
	V_RETRY,		/* endpoint failed: next endpoint, retry */
	V_REAUTH		/* token rejected: authenticate, retry */
};

struct obj {
	TAILQ_ENTRY(obj)	 entry;
	size_t			 len;
	char			 data[];
};

struct etcd_req {
	TAILQ_ENTRY(etcd_req)	 entry;		/* c->reqs */
	TAILQ_ENTRY(etcd_req)	 wait_entry;	/* c->auth_wait */
	struct etcd_client	*c;
	enum etcd_reply_kind	 kind;
	const char		*path;
	struct etcd_buf		 body;
	etcd_cb			 cb;
	void			*arg;
	enum req_state		 state;
	int			 waiting_auth;
	int			 internal;	/* the auth request */
	int			 in_callback;
	int			 cancelled;
	unsigned		 attempts;
	int			 reauthed;
	size_t			 ep;		/* endpoint of this attempt */
	uint64_t		 sent_ms;
	uint64_t		 born_ms;	/* req_new: for the metrics */
	CURL			*easy;
	struct curl_slist	*headers;
	char			 curlerr[CURL_ERROR_SIZE];
	struct etcd_buf		 resp;
	int			 too_big;
	int			 long_read;	/* a full read: longer limit */
	struct event		*timer;		/* retry, deferred failure */
	char			 pending_err[ERR_MAX];
	enum etcd_status	 pending_status;

	/* watch only */
	int			 is_watch;
	int			 created;
	uint32_t		 silence_ms;
	etcd_watch_event_cb	 event_cb;
	struct etcd_splitter	 split;
	char			 split_err[128];
	TAILQ_HEAD(, obj)	 objs;
	size_t			 queued;	/* bytes in objs */
	struct event		*deliver;
	struct event		*silence;
};

struct etcd_watch {
	struct etcd_req	req;		/* must be first */
};

struct etcd_client {
	struct event_base		*base;
	const struct yaim_config	*conf;
	struct evcurl			 curl;
	struct curl_blob		 ca, cert, key;
	int				 has_ca, has_cert, has_key;
	struct curl_slist		*resolve;
	struct curl_slist		*resolve_old;	/* see set_resolve */
	size_t				 n_ep;
	size_t				 cur_ep;
	char				 user[CFG_NAME_MAX];
	char				 password[CFG_STR_MAX];
	int				 use_auth;
	char				*token;
	struct etcd_req			*auth_req;
	TAILQ_HEAD(, etcd_req)		 reqs;
	TAILQ_HEAD(, etcd_req)		 auth_wait;
	void				(*ep_cb)(const char *, void *);
	void				*ep_arg;
	struct event			*ep_ev;
};

/* etcd.c: endpoints, requests and their attempts, authentication */
void	msgf(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	endpoint_failed(struct etcd_client *, size_t ep, const char *why);
struct etcd_req	*req_new(struct etcd_client *, enum etcd_reply_kind,
		    const char *path, etcd_cb, void *arg, size_t size);
/* Once the body is built (body_rc: what building it returned). */
struct etcd_req	*req_submit(struct etcd_req *, int body_rc);
void	req_free(struct etcd_req *);
void	req_finish(struct etcd_req *, enum etcd_status, const char *err,
	    const struct etcd_reply *);
void	attempt_cleanup(struct etcd_req *);
void	describe_curl_error(struct etcd_req *, CURLcode, char *out,
	    size_t len);
enum attempt_verdict judge_etcd_error(struct etcd_req *,
	    const struct etcd_reply *, long http, enum etcd_status *,
	    char *out, size_t len);
enum attempt_verdict judge_attempt(struct etcd_req *, CURLcode,
	    struct etcd_reply *, enum etcd_status *, char *out, size_t len);
void	retry_or_fail(struct etcd_req *, enum etcd_status, const char *msg);
void	attempt_failed(struct etcd_req *, enum etcd_status, const char *msg);
void	reauth(struct etcd_req *);

/* etcd.c, shared with etcd2.c: endpoints, addresses, TLS material */
int	client_check_conf(const struct yaim_config *, char *err,
	    size_t errlen);
int	resolve_list(const struct yaim_config *, struct curl_slist **);
int	copy_blob(const struct yaim_blobs *, uint32_t kind,
	    struct curl_blob *, int *has);
void	wipe_blob(struct curl_blob *, int has);

/* etcd_watch.c: the watch stream */
size_t	write_cb(char *data, size_t size, size_t nmemb, void *arg);
void	watch_break(struct etcd_req *, const char *why);
/* The stream ended (transfer done). */
void	watch_done(struct etcd_req *, CURLcode);

#endif
