/*
 * Pure part of the etcd v2 keys API client (dcs/etcd2.c): request paths
 * and form bodies, the strict decoder of v2 replies, the X-Etcd-Index
 * header and the pool listing.  No I/O, no clock, no randomness.
 *
 * v2 conventions (etcd 3.4 with --enable-v2): a reply is one JSON object,
 * either {"action":..,"node":{..},"prevNode":{..}} or an error
 * {"errorCode":N,"message":..,"cause":..,"index":N}.  A node is
 * {"key","value","dir","nodes":[..],"ttl","expiration","modifiedIndex",
 * "createdIndex"}; a missing "dir" is false, a missing "ttl" is none.
 * Numbers are JSON numbers.  Unknown fields are ignored; known fields of
 * the wrong type are errors.
 */
#ifndef YAIM_DCS_ETCD2_JSON_H
#define YAIM_DCS_ETCD2_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "dcs/etcd_json.h"

/*
 * Bounds (DESIGN.md section 11).  A listing of 10000 pool IPs, each with
 * its mark, is 20001 nodes and about 2.7 MB; nothing in our layout is
 * deeper than ips/<ip>/marked (depth 2 below the listed key).  A deeper
 * node or more nodes fail the whole reply, so that a hostile or broken
 * store cannot make us allocate without bound.  The JSON value bound of
 * the v3 client (ETCD_MAX_JSON_VALUES) applies too.
 */
#define ETCD2_MAX_REPLY		(16u * 1024 * 1024)
#define ETCD2_MAX_NODES		(1u << 18)
#define ETCD2_MAX_DEPTH		8
#define ETCD2_MAX_KEY		ETCD_MAX_KEY
#define ETCD2_MAX_VALUE		(64u * 1024)	/* request values */
/* JSON numbers above 2^53 are not exact doubles: refused. */
#define ETCD2_MAX_NUMBER	(((int64_t)1) << 53)

/* v2 errorCodes we act on (etcd's error/error.go). */
#define ETCD2_E_KEY_NOT_FOUND	100
#define ETCD2_E_TEST_FAILED	101	/* prevValue/prevIndex compare */
#define ETCD2_E_NOT_FILE	102
#define ETCD2_E_NOT_DIR		104
#define ETCD2_E_NODE_EXIST	105	/* prevExist=false on a key */
#define ETCD2_E_RAFT_INTERNAL	300
#define ETCD2_E_LEADER_ELECT	301
#define ETCD2_E_WATCHER_CLEARED	400
#define ETCD2_E_INDEX_CLEARED	401	/* EventIndexCleared */

/*
 * One node.  Strings point into the reply and are NUL-terminated; key
 * holds no NUL (refused).  value is NULL when the node has none (a
 * directory, a deleted or expired key).
 */
struct etcd2_node {
	const char	*key;		/* "" only for the root */
	size_t		 key_len;
	const char	*value;
	size_t		 value_len;
	int		 dir;
	int		 has_ttl;
	int64_t		 ttl;		/* seconds left, as etcd says */
	const char	*expiration;	/* "" when none */
	int64_t		 modified_index;
	int64_t		 created_index;
	unsigned	 depth;		/* 0: the reply's "node" */
	size_t		 parent;	/* index in nodes[]; 0 for depth 0 */
};

struct etcd2_reply {
	int		 is_error;
	int		 error_code;
	char		 message[256];
	char		 cause[256];
	int64_t		 error_index;

	char		 action[32];	/* "get", "set", "create", ... */
	/* "node" and, in pre-order, every node below it: nodes[0] */
	struct etcd2_node *nodes;
	size_t		 n_nodes;
	int		 has_prev;
	struct etcd2_node prev;		/* "prevNode" (its own nodes[] are
					   not kept) */
	void		*json;		/* the parsed tree the strings are in */
};

/*
 * Decode one reply body (len bytes, need not be NUL-terminated).  Returns
 * 0 (r may be an error object: r->is_error), or -1 with err naming the
 * field and the problem, e.g. "node.nodes[3].key: not under its parent".
 * Every node's key must lie under its parent's key ("<parent>/..."), so
 * that a reply cannot slip in keys of another directory.  r must be
 * freed with etcd2_reply_free in both cases.
 */
int	etcd2_decode_reply(const char *buf, size_t len, struct etcd2_reply *r,
	    char *err, size_t errlen);
void	etcd2_reply_free(struct etcd2_reply *);

/*
 * One header line as libcurl hands it ("X-Etcd-Index: 1113\r\n"): 1 and
 * *index set if it is X-Etcd-Index (any case) with a valid number, 0 if it
 * is another header, -1 if it is X-Etcd-Index with a bad value.
 */
int	etcd2_index_header(const char *line, size_t len, int64_t *index);

/*
 * One pool entry of a listing of "<prefix>ips": the name after
 * "<prefix>ips/", whether it is a directory (the spec's layout; a plain
 * key is reported too, the engine decides), and its "marked" child.
 */
struct etcd2_ip {
	const char		*name;
	size_t			 name_len;
	int			 dir;
	int64_t			 modified_index;
	const struct etcd2_node	*mark;		/* NULL: unmarked */
};

/*
 * The pool in a decoded listing of ips_key (no trailing '/').  Anything
 * below an entry other than "marked" is ignored, as is a "marked" that is
 * a directory.  *out is malloc'd (free it; it points into r); 0, or -1
 * with err (the listing is not of ips_key, out of memory).
 */
int	etcd2_pool(const struct etcd2_reply *r, const char *ips_key,
	    struct etcd2_ip **out, size_t *n, char *err, size_t errlen);

/*
 * "/v2/keys" and key percent-encoded (everything but unreserved
 * characters and '/'), then query ("" or "?a=b&c=d", appended as is).
 * -1 (EINVAL) when key is empty, does not start with '/', or is longer
 * than ETCD2_MAX_KEY; -1 (ENOMEM).
 */
int	etcd2_encode_path(struct etcd_buf *, const char *key,
	    const char *query);
/* Append len bytes as they are; 0 or -1 (ENOMEM). */
int	etcd2_buf_add(struct etcd_buf *, const char *, size_t len);
/* Append "&name=value" (no '&' when the buffer is empty), form-encoded. */
int	etcd2_form_add(struct etcd_buf *, const char *name,
	    const char *value);
int	etcd2_form_add_int(struct etcd_buf *, const char *name, int64_t);

#endif
