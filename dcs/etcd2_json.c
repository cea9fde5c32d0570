/*
 * Pure part of the etcd v2 client: paths, form bodies, the strict reply
 * decoder, the X-Etcd-Index header and the pool listing.  See
 * etcd2_json.h.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "dcs/etcd2_json.h"

static void
errf(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
errf(char *err, size_t len, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* ---- requests ---- */

/* Append without the v3 module's private helpers: grow, copy. */
static int
buf_add(struct etcd_buf *b, const char *s, size_t len)
{
	size_t	 ncap;
	char	*n;

	if (b->len + len + 1 > b->cap) {
		if (len > (size_t)ETCD2_MAX_REPLY) {
			errno = ENOMEM;
			return -1;
		}
		ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + len + 1)
			ncap *= 2;
		/* no realloc: the old buffer may hold a secret, wipe it */
		if ((n = malloc(ncap)) == NULL)
			return -1;
		if (b->data != NULL) {
			memcpy(n, b->data, b->len);
			explicit_bzero(b->data, b->cap);
			free(b->data);
		}
		b->data = n;
		b->cap = ncap;
	}
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int
etcd2_buf_add(struct etcd_buf *b, const char *s, size_t len)
{
	return buf_add(b, s, len);
}

static int
unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-encode s; '/' stays as it is when keep_slash. */
static int
buf_escape(struct etcd_buf *b, const char *s, int keep_slash)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			 e[3];
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (unreserved(*p) || (keep_slash && *p == '/')) {
			if (buf_add(b, (const char *)p, 1) == -1)
				return -1;
			continue;
		}
		e[0] = '%';
		e[1] = hex[*p >> 4];
		e[2] = hex[*p & 15];
		if (buf_add(b, e, 3) == -1)
			return -1;
	}
	return 0;
}

int
etcd2_encode_path(struct etcd_buf *b, const char *key, const char *query)
{
	size_t	len = strlen(key);

	if (len == 0 || key[0] != '/' || len > ETCD2_MAX_KEY) {
		errno = EINVAL;
		return -1;
	}
	if (buf_add(b, "/v2/keys", 8) == -1 || buf_escape(b, key, 1) == -1 ||
	    buf_add(b, query, strlen(query)) == -1)
		return -1;
	return 0;
}

int
etcd2_form_add(struct etcd_buf *b, const char *name, const char *value)
{
	if (strlen(value) > ETCD2_MAX_VALUE) {
		errno = EINVAL;
		return -1;
	}
	if ((b->len > 0 && buf_add(b, "&", 1) == -1) ||
	    buf_escape(b, name, 0) == -1 || buf_add(b, "=", 1) == -1 ||
	    buf_escape(b, value, 0) == -1)
		return -1;
	return 0;
}

int
etcd2_form_add_int(struct etcd_buf *b, const char *name, int64_t v)
{
	char	num[32];

	snprintf(num, sizeof(num), "%lld", (long long)v);
	return etcd2_form_add(b, name, num);
}

/* ---- X-Etcd-Index ---- */

int
etcd2_index_header(const char *line, size_t len, int64_t *index)
{
	static const char	 name[] = "x-etcd-index:";
	const size_t		 nl = sizeof(name) - 1;
	size_t			 i;
	int64_t			 v = 0;
	int			 digits = 0;

	if (len < nl || strncasecmp(line, name, nl) != 0)
		return 0;
	for (i = nl; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	for (; i < len && line[i] >= '0' && line[i] <= '9'; i++) {
		if (++digits > 16)
			return -1;	/* beyond 2^53 anyway */
		v = v * 10 + (line[i] - '0');
	}
	for (; i < len && (line[i] == ' ' || line[i] == '\t' ||
	    line[i] == '\r' || line[i] == '\n'); i++)
		;
	if (digits == 0 || i != len || v > ETCD2_MAX_NUMBER)
		return -1;
	*index = v;
	return 1;
}

/* ---- replies ---- */

/* A JSON number that is an integer in [lo, ETCD2_MAX_NUMBER]. */
static int
get_int(const cJSON *o, const char *name, int64_t lo, int64_t *out,
    const char *where, char *err, size_t errlen)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);
	double		 d;

	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v)) {
		errf(err, errlen, "%s.%s: not a number", where, name);
		return -1;
	}
	d = v->valuedouble;
	if (!isfinite(d) || d != floor(d) || d < (double)lo ||
	    d > (double)ETCD2_MAX_NUMBER) {
		errf(err, errlen, "%s.%s: not an integer in range", where,
		    name);
		return -1;
	}
	*out = (int64_t)d;
	return 0;
}

/* A string field; *out stays NULL when absent. */
static int
get_str(const cJSON *o, const char *name, const char **out,
    const char *where, char *err, size_t errlen)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (v == NULL)
		return 0;
	if (!cJSON_IsString(v) || v->valuestring == NULL) {
		errf(err, errlen, "%s.%s: not a string", where, name);
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

static int
get_bool(const cJSON *o, const char *name, int *out, const char *where,
    char *err, size_t errlen)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	*out = 0;
	if (v == NULL)
		return 0;
	if (!cJSON_IsBool(v)) {
		errf(err, errlen, "%s.%s: not a boolean", where, name);
		return -1;
	}
	*out = cJSON_IsTrue(v);
	return 0;
}

/* The scalar fields of one node object into n. */
static int
node_fields(const cJSON *o, struct etcd2_node *n, const char *where,
    char *err, size_t errlen)
{
	const char	*exp = NULL;

	memset(n, 0, sizeof(*n));
	n->key = "";
	if (!cJSON_IsObject(o)) {
		errf(err, errlen, "%s: not an object", where);
		return -1;
	}
	if (get_str(o, "key", &n->key, where, err, errlen) == -1 ||
	    get_str(o, "value", &n->value, where, err, errlen) == -1 ||
	    get_str(o, "expiration", &exp, where, err, errlen) == -1 ||
	    get_bool(o, "dir", &n->dir, where, err, errlen) == -1 ||
	    get_int(o, "modifiedIndex", 0, &n->modified_index, where, err,
	    errlen) == -1 ||
	    get_int(o, "createdIndex", 0, &n->created_index, where, err,
	    errlen) == -1 ||
	    get_int(o, "ttl", -ETCD2_MAX_NUMBER, &n->ttl, where, err,
	    errlen) == -1)
		return -1;
	if (n->key == NULL)
		n->key = "";
	n->key_len = strlen(n->key);
	if (n->key_len > ETCD2_MAX_KEY) {
		errf(err, errlen, "%s.key: longer than %d bytes", where,
		    ETCD2_MAX_KEY);
		return -1;
	}
	if (n->key_len > 0 && n->key[0] != '/') {
		errf(err, errlen, "%s.key: does not start with /", where);
		return -1;
	}
	n->has_ttl = cJSON_GetObjectItemCaseSensitive(o, "ttl") != NULL;
	n->value_len = n->value != NULL ? strlen(n->value) : 0;
	n->expiration = exp != NULL ? exp : "";
	return 0;
}

struct walk {
	struct etcd2_reply	*r;
	size_t			 cap;
	char			*err;
	size_t			 errlen;
};

static int
push_node(struct walk *w, const struct etcd2_node *n)
{
	struct etcd2_node	*nn;
	size_t			 ncap;

	if (w->r->n_nodes >= ETCD2_MAX_NODES) {
		errf(w->err, w->errlen, "reply has more than %u nodes",
		    ETCD2_MAX_NODES);
		return -1;
	}
	if (w->r->n_nodes == w->cap) {
		ncap = w->cap ? w->cap * 2 : 16;
		nn = reallocarray(w->r->nodes, ncap, sizeof(*nn));
		if (nn == NULL) {
			errf(w->err, w->errlen, "out of memory");
			return -1;
		}
		w->r->nodes = nn;
		w->cap = ncap;
	}
	w->r->nodes[w->r->n_nodes++] = *n;
	return 0;
}

/*
 * A child key is "<parent>/<name>" with no '/' in name (the root's
 * children: "/<name>"), as etcd lists them.
 */
static int
under(const struct etcd2_node *parent, const struct etcd2_node *child)
{
	size_t	pl = parent->key_len;

	if (pl > 0 && parent->key[pl - 1] == '/')
		pl--;
	return child->key_len > pl + 1 &&
	    memcmp(child->key, parent->key, pl) == 0 &&
	    child->key[pl] == '/' &&
	    memchr(child->key + pl + 1, '/', child->key_len - pl - 1) == NULL;
}

static int
walk_node(struct walk *w, const cJSON *o, unsigned depth, size_t parent,
    const char *where)
{
	struct etcd2_node	 n;
	const cJSON		*kids, *k;
	char			 sub[96];
	size_t			 self, i = 0;

	if (depth > ETCD2_MAX_DEPTH) {
		errf(w->err, w->errlen, "%s: nodes nested deeper than %d",
		    where, ETCD2_MAX_DEPTH);
		return -1;
	}
	if (node_fields(o, &n, where, w->err, w->errlen) == -1)
		return -1;
	n.depth = depth;
	n.parent = parent;
	if (depth > 0 && !under(&w->r->nodes[parent], &n)) {
		errf(w->err, w->errlen, "%s.key: not under its parent", where);
		return -1;
	}
	self = w->r->n_nodes;
	if (push_node(w, &n) == -1)
		return -1;
	if ((kids = cJSON_GetObjectItemCaseSensitive(o, "nodes")) == NULL)
		return 0;
	if (!cJSON_IsArray(kids)) {
		errf(w->err, w->errlen, "%s.nodes: not an array", where);
		return -1;
	}
	if (!n.dir) {
		errf(w->err, w->errlen, "%s.nodes: in a node not a dir",
		    where);
		return -1;
	}
	cJSON_ArrayForEach(k, kids) {
		/* where is only for messages: the last levels suffice */
		snprintf(sub, sizeof(sub), "%s.nodes[%zu]", depth < 3 ? where :
		    "...", i++);
		if (walk_node(w, k, depth + 1, self, sub) == -1)
			return -1;
	}
	return 0;
}

static int
decode_error(const cJSON *root, struct etcd2_reply *r, char *err,
    size_t errlen)
{
	int64_t		 code = 0;
	const char	*msg = NULL, *cause = NULL;

	if (get_int(root, "errorCode", 1, &code, "reply", err, errlen) ==
	    -1 || get_str(root, "message", &msg, "reply", err, errlen) == -1 ||
	    get_str(root, "cause", &cause, "reply", err, errlen) == -1 ||
	    get_int(root, "index", 0, &r->error_index, "reply", err,
	    errlen) == -1)
		return -1;
	if (code > 100000) {
		errf(err, errlen, "reply.errorCode: out of range");
		return -1;
	}
	r->is_error = 1;
	r->error_code = (int)code;
	snprintf(r->message, sizeof(r->message), "%s", msg != NULL &&
	    msg[0] != '\0' ? msg : "(no message)");
	snprintf(r->cause, sizeof(r->cause), "%s", cause ? cause : "");
	return 0;
}

static int
decode_root(const cJSON *root, struct etcd2_reply *r, char *err,
    size_t errlen)
{
	struct walk	 w = { r, 0, err, errlen };
	const cJSON	*node, *prev;
	const char	*action = NULL;

	if (!cJSON_IsObject(root)) {
		errf(err, errlen, "reply: not an object");
		return -1;
	}
	if (cJSON_GetObjectItemCaseSensitive(root, "errorCode") != NULL)
		return decode_error(root, r, err, errlen);
	if (get_str(root, "action", &action, "reply", err, errlen) == -1)
		return -1;
	if (action == NULL || action[0] == '\0' ||
	    strlen(action) >= sizeof(r->action)) {
		errf(err, errlen, "reply.action: missing or too long");
		return -1;
	}
	snprintf(r->action, sizeof(r->action), "%s", action);
	if ((node = cJSON_GetObjectItemCaseSensitive(root, "node")) == NULL) {
		errf(err, errlen, "reply.node: missing");
		return -1;
	}
	if (walk_node(&w, node, 0, 0, "node") == -1)
		return -1;
	if ((prev = cJSON_GetObjectItemCaseSensitive(root, "prevNode")) !=
	    NULL) {
		if (node_fields(prev, &r->prev, "prevNode", err, errlen) == -1)
			return -1;
		r->has_prev = 1;
	}
	return 0;
}

int
etcd2_decode_reply(const char *buf, size_t len, struct etcd2_reply *r,
    char *err, size_t errlen)
{
	cJSON	*root;

	memset(r, 0, sizeof(*r));
	err[0] = '\0';
	if (len > ETCD2_MAX_REPLY) {
		errf(err, errlen, "reply longer than %u bytes",
		    ETCD2_MAX_REPLY);
		return -1;
	}
	if (etcd_json_values(buf, len) > ETCD_MAX_JSON_VALUES) {
		errf(err, errlen, "reply has more than %u JSON values",
		    ETCD_MAX_JSON_VALUES);
		return -1;
	}
	/*
	 * cJSON would cut a string at an escaped NUL, and a key cut short is
	 * another key: refuse them (an escaped backslash before "u0000" is
	 * refused too; our store has no such strings).
	 */
	if (memmem(buf, len, "\\u0000", 6) != NULL) {
		errf(err, errlen, "reply: a string holds \\u0000");
		return -1;
	}
	if ((root = cJSON_ParseWithLength(buf, len)) == NULL) {
		errf(err, errlen, "reply: not JSON");
		return -1;
	}
	r->json = root;
	if (decode_root(root, r, err, errlen) == -1) {
		if (err[0] == '\0')
			errf(err, errlen, "reply: undecodable");
		return -1;
	}
	return 0;
}

void
etcd2_reply_free(struct etcd2_reply *r)
{
	free(r->nodes);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

/* ---- the pool ---- */

static int
is_mark(const struct etcd2_node *ip, const struct etcd2_node *n)
{
	return !n->dir && n->key_len == ip->key_len + 7 &&
	    memcmp(n->key + ip->key_len, "/marked", 7) == 0;
}

int
etcd2_pool(const struct etcd2_reply *r, const char *ips_key,
    struct etcd2_ip **out, size_t *n, char *err, size_t errlen)
{
	const struct etcd2_node	*top;
	struct etcd2_ip		*ips;
	size_t			 i, m = 0, kl = strlen(ips_key), *slot;

	*out = NULL;
	*n = 0;
	if (r->is_error || r->n_nodes == 0) {
		errf(err, errlen, "not a listing");
		return -1;
	}
	top = &r->nodes[0];
	if (top->key_len != kl || memcmp(top->key, ips_key, kl) != 0 ||
	    (!top->dir && r->n_nodes > 1)) {
		errf(err, errlen, "listing of %s, not of %s", top->key,
		    ips_key);
		return -1;
	}
	if ((ips = calloc(r->n_nodes, sizeof(*ips))) == NULL ||
	    (slot = calloc(r->n_nodes, sizeof(*slot))) == NULL) {
		free(ips);
		errf(err, errlen, "out of memory");
		return -1;
	}
	/* the root "/" lists "/<name>", as under() has it */
	if (kl > 0 && ips_key[kl - 1] == '/')
		kl--;
	/* nodes are in pre-order: an entry comes before its children */
	for (i = 1; i < r->n_nodes; i++) {
		const struct etcd2_node	*nd = &r->nodes[i];

		if (nd->depth == 1) {
			slot[i] = m;
			ips[m].name = nd->key + kl + 1;
			ips[m].name_len = nd->key_len - kl - 1;
			ips[m].dir = nd->dir;
			ips[m].modified_index = nd->modified_index;
			m++;
		} else if (nd->depth == 2 &&
		    is_mark(&r->nodes[nd->parent], nd))
			ips[slot[nd->parent]].mark = nd;
	}
	free(slot);
	*out = ips;
	*n = m;
	return 0;
}
