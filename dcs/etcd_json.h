/*
 * Pure part of the etcd client: request bodies for the v3 JSON gateway,
 * strict decoders of its replies, and the splitter of the watch stream.
 * No I/O, no clock, no randomness.
 *
 * Gateway conventions (etcd 3.4 - 3.6): keys and values are base64
 * (standard alphabet, padded); int64 fields are JSON strings; zero values
 * are omitted (a missing "succeeded" is false, a missing "kvs" is empty,
 * a missing "type" of an event is PUT).  Unknown fields are ignored, so
 * newer servers stay readable; known fields of the wrong type are errors.
 */
#ifndef YAIM_DCS_ETCD_JSON_H
#define YAIM_DCS_ETCD_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "dcs/etcd.h"

/* A growing byte buffer; bodies are built into it. */
struct etcd_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

/* Wipe (explicit_bzero) and free the buffer's memory. */
void	etcd_buf_wipe(struct etcd_buf *);

/*
 * Request bodies.  Each appends one JSON object to an empty buffer and
 * returns 0, or -1 (errno ENOMEM or EINVAL: key too long, too many ops,
 * bad enum) leaving the buffer to be wiped by the caller.
 */
int	etcd_encode_range(struct etcd_buf *, const char *key, int prefix,
	    int64_t revision);
/* keys_only, at revision, only keys with mod_revision >= min_mod. */
int	etcd_encode_range_check(struct etcd_buf *, const char *key,
	    int prefix, int64_t revision, int64_t min_mod_revision);
int	etcd_encode_txn(struct etcd_buf *, const struct etcd_txn *);
int	etcd_encode_lease_grant(struct etcd_buf *, int64_t ttl);
/* {"ID":"<id>"}: the body of keepalive and revoke. */
int	etcd_encode_lease_id(struct etcd_buf *, int64_t id);
/* The password is copied into the buffer: wipe it after use. */
int	etcd_encode_auth(struct etcd_buf *, const char *user,
	    const char *password);
/* A watch create request, progress_notify always on. */
int	etcd_encode_watch_create(struct etcd_buf *,
	    const struct etcd_watch_opts *);

/*
 * The range_end of a prefix: key with its last byte below 0xff
 * incremented and everything after it dropped; "\0" (all keys) when the
 * key is empty or all 0xff.  out must hold len bytes (at least 1).
 * Returns the length written.
 */
size_t	etcd_prefix_end(const char *key, size_t len, char *out);

/* Standard base64 with padding. out holds 4 * ((len + 2) / 3) + 1 bytes. */
size_t	etcd_base64_encode(const void *in, size_t len, char *out);
/*
 * Strict decoding: length a multiple of 4, alphabet only, '=' only at the
 * end, unused bits zero.  out holds len / 4 * 3 + 1 bytes and is
 * NUL-terminated.  Returns the decoded length, or -1.
 */
long	etcd_base64_decode(const char *in, size_t len, char *out);

/*
 * Strict int64 JSON string: optional '-', digits, no leading zeros, in
 * range.  Returns 0 or -1.
 */
int	etcd_parse_int64(const char *s, int64_t *out);

enum etcd_reply_kind {
	ETCD_REPLY_RANGE = 1,
	ETCD_REPLY_TXN,
	ETCD_REPLY_GRANT,
	ETCD_REPLY_KEEPALIVE,
	ETCD_REPLY_REVOKE,
	ETCD_REPLY_AUTH,
	ETCD_REPLY_WATCH		/* one object of the watch stream */
};

/* A decoded reply; every pointer is owned by it (etcd_reply_free). */
struct etcd_reply {
	enum etcd_reply_kind	 kind;

	/* An error object instead of a reply: {"error":..,"code":..} or,
	 * in streams, {"error":{"grpc_code":..,"message":..}}. */
	int			 is_error;
	int			 code;		/* grpc code */
	int			 http_code;	/* stream errors only, else 0 */
	char			 message[256];

	int64_t			 revision;	/* header.revision */

	/* range */
	struct etcd_range_result range;

	/* txn */
	int			 succeeded;
	struct etcd_op_result	*responses;
	size_t			 n_responses;

	/* grant, keepalive */
	int64_t			 lease_id;
	int64_t			 ttl;		/* 0 when missing */

	/* auth: the token, NUL-terminated; wiped on free */
	char			*token;

	/* watch */
	int			 created;
	int			 canceled;
	int64_t			 watch_id;
	int64_t			 compact_revision;
	char			 cancel_reason[256];
	struct etcd_event	*events;
	size_t			 n_events;
};

/*
 * An upper bound on the JSON values in buf (commas and openings outside
 * strings, plus one): what cJSON would allocate items for.
 */
size_t	etcd_json_values(const char *buf, size_t len);
/*
 * Decode one reply body (len bytes, need not be NUL-terminated) of the
 * given kind into r (zeroed first).  Returns 0 (r may then be an error
 * object: r->is_error), or -1 with err naming the field and the problem,
 * e.g. "result.kvs[2].lease: not an int64 string".  r must be freed with
 * etcd_reply_free in both cases.
 */
int	etcd_decode_reply(enum etcd_reply_kind, const char *buf, size_t len,
	    struct etcd_reply *r, char *err, size_t errlen);
void	etcd_reply_free(struct etcd_reply *);

/*
 * The watch stream splitter: bytes in any chunking, complete top-level
 * JSON objects out.  Whitespace between objects is skipped; anything else
 * outside an object, or an object longer than max, is an error (sticky).
 */
struct etcd_splitter {
	char	*buf;
	size_t	 len;		/* bytes held of the current object */
	size_t	 cap;
	size_t	 max;
	int	 depth;
	int	 in_string;
	int	 escape;
	int	 failed;
};

void	etcd_splitter_init(struct etcd_splitter *, size_t max);
void	etcd_splitter_free(struct etcd_splitter *);
/*
 * Feed len bytes.  cb gets every complete object (obj not NUL-terminated);
 * cb returns 0 to go on, non-zero to stop feeding (that value is
 * returned).  Returns 0, the cb's stop value, or -1 with err.
 */
int	etcd_splitter_feed(struct etcd_splitter *, const char *data,
	    size_t len, int (*cb)(const char *obj, size_t objlen, void *arg),
	    void *arg, char *err, size_t errlen);

#endif
