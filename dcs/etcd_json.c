/*
 * Pure part of the etcd client: request bodies, strict reply decoders and
 * the watch stream splitter.  See etcd_json.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "dcs/etcd_json.h"

/* ---- buffer ---- */

void
etcd_buf_wipe(struct etcd_buf *b)
{
	if (b->data != NULL) {
		explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Grow without realloc, so that no stale copy of a secret is left. */
static int
buf_reserve(struct etcd_buf *b, size_t more)
{
	size_t	 ncap;
	char	*n;

	if (b->len + more + 1 <= b->cap)
		return 0;
	if (more > SIZE_MAX / 4 - b->len) {
		errno = ENOMEM;
		return -1;
	}
	ncap = b->cap ? b->cap : 256;
	while (ncap < b->len + more + 1)
		ncap *= 2;
	if ((n = malloc(ncap)) == NULL)
		return -1;
	if (b->data != NULL) {
		memcpy(n, b->data, b->len);
		explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	b->data = n;
	b->cap = ncap;
	b->data[b->len] = '\0';
	return 0;
}

static int
buf_add(struct etcd_buf *b, const char *s, size_t len)
{
	if (buf_reserve(b, len) == -1)
		return -1;
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

static int
buf_str(struct etcd_buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

static int
buf_int64(struct etcd_buf *b, int64_t v)
{
	char	num[32];

	snprintf(num, sizeof(num), "\"%lld\"", (long long)v);
	return buf_str(b, num);
}

/* A JSON string of arbitrary bytes, escaped (for user names, passwords). */
static int
buf_json_string(struct etcd_buf *b, const char *s)
{
	char	esc[8];

	if (buf_add(b, "\"", 1) == -1)
		return -1;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			if (buf_add(b, esc, 2) == -1)
				return -1;
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			if (buf_add(b, esc, 6) == -1)
				return -1;
		} else if (buf_add(b, (const char *)&c, 1) == -1)
			return -1;
	}
	explicit_bzero(esc, sizeof(esc));
	return buf_add(b, "\"", 1);
}

/* "name":"<base64 of bytes>" */
static int
buf_b64_field(struct etcd_buf *b, const char *name, const char *bytes,
    size_t len)
{
	size_t	need = 4 * ((len + 2) / 3);

	if (buf_str(b, "\"") == -1 || buf_str(b, name) == -1 ||
	    buf_str(b, "\":\"") == -1 || buf_reserve(b, need + 1) == -1)
		return -1;
	b->len += etcd_base64_encode(bytes, len, b->data + b->len);
	return buf_add(b, "\"", 1);
}

static int
key_ok(const char *key)
{
	if (key == NULL || strlen(key) > ETCD_MAX_KEY) {
		errno = EINVAL;
		return 0;
	}
	return 1;
}

/* "key":"..","range_end":".." for a key, as a prefix or not. */
static int
buf_key_range(struct etcd_buf *b, const char *key, int prefix)
{
	char	end[ETCD_MAX_KEY + 1];
	size_t	len, elen;

	if (!key_ok(key))
		return -1;
	len = strlen(key);
	if (buf_b64_field(b, "key", key, len) == -1)
		return -1;
	if (!prefix)
		return 0;
	elen = etcd_prefix_end(key, len, end);
	if (buf_str(b, ",") == -1)
		return -1;
	return buf_b64_field(b, "range_end", end, elen);
}

/* ---- int64, prefix (base64 is in base64.c) ---- */

int
etcd_parse_int64(const char *s, int64_t *out)
{
	int		 neg = 0;
	uint64_t	 v = 0, lim;
	const char	*p = s;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (*p < '0' || *p > '9')
		return -1;
	if (*p == '0' && p[1] != '\0')
		return -1;		/* leading zero */
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (lim - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (neg && v == 0)
		return -1;		/* "-0" */
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

size_t
etcd_prefix_end(const char *key, size_t len, char *out)
{
	size_t	n = len;

	while (n > 0 && (unsigned char)key[n - 1] == 0xff)
		n--;
	if (n == 0) {
		out[0] = '\0';
		return 1;
	}
	memcpy(out, key, n);
	out[n - 1] = (char)((unsigned char)out[n - 1] + 1);
	return n;
}

/* ---- encoders ---- */

int
etcd_encode_range(struct etcd_buf *b, const char *key, int prefix,
    int64_t revision)
{
	if (buf_str(b, "{") == -1 || buf_key_range(b, key, prefix) == -1)
		return -1;
	if (revision > 0 && (buf_str(b, ",\"revision\":") == -1 ||
	    buf_int64(b, revision) == -1))
		return -1;
	return buf_str(b, "}");
}

int
etcd_encode_range_check(struct etcd_buf *b, const char *key, int prefix,
    int64_t revision, int64_t min_mod_revision)
{
	if (buf_str(b, "{") == -1 || buf_key_range(b, key, prefix) == -1 ||
	    buf_str(b, ",\"keys_only\":true") == -1)
		return -1;
	if (revision > 0 && (buf_str(b, ",\"revision\":") == -1 ||
	    buf_int64(b, revision) == -1))
		return -1;
	if (min_mod_revision > 0 && (buf_str(b, ",\"min_mod_revision\":") ==
	    -1 || buf_int64(b, min_mod_revision) == -1))
		return -1;
	return buf_str(b, "}");
}

static const char *
cmp_target_name(enum etcd_cmp_target t, const char **field)
{
	switch (t) {
	case ETCD_CMP_VERSION:
		*field = "version";
		return "VERSION";
	case ETCD_CMP_CREATE:
		*field = "create_revision";
		return "CREATE";
	case ETCD_CMP_MOD:
		*field = "mod_revision";
		return "MOD";
	case ETCD_CMP_VALUE:
		*field = "value";
		return "VALUE";
	case ETCD_CMP_LEASE:
		*field = "lease";
		return "LEASE";
	}
	return NULL;
}

static const char *
cmp_op_name(enum etcd_cmp_op op)
{
	switch (op) {
	case ETCD_CMP_EQUAL:
		return "EQUAL";
	case ETCD_CMP_NOT_EQUAL:
		return "NOT_EQUAL";
	case ETCD_CMP_GREATER:
		return "GREATER";
	case ETCD_CMP_LESS:
		return "LESS";
	}
	return NULL;
}

static int
encode_compare(struct etcd_buf *b, const struct etcd_compare *c)
{
	const char	*target, *op, *field = NULL;

	target = cmp_target_name(c->target, &field);
	op = cmp_op_name(c->op);
	if (target == NULL || op == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (buf_str(b, "{") == -1 || buf_key_range(b, c->key, 0) == -1 ||
	    buf_str(b, ",\"target\":\"") == -1 || buf_str(b, target) == -1 ||
	    buf_str(b, "\",\"result\":\"") == -1 || buf_str(b, op) == -1 ||
	    buf_str(b, "\",") == -1)
		return -1;
	if (c->target == ETCD_CMP_VALUE) {
		const char *v = c->value ? c->value : "";

		if (strlen(v) > ETCD_MAX_VALUE) {
			errno = EINVAL;
			return -1;
		}
		if (buf_b64_field(b, field, v, strlen(v)) == -1)
			return -1;
	} else if (buf_str(b, "\"") == -1 || buf_str(b, field) == -1 ||
	    buf_str(b, "\":") == -1 || buf_int64(b, c->number) == -1)
		return -1;
	return buf_str(b, "}");
}

static int
encode_op(struct etcd_buf *b, const struct etcd_op *op)
{
	const char	*v = op->value ? op->value : "";

	switch (op->kind) {
	case ETCD_OP_RANGE:
		if (buf_str(b, "{\"request_range\":{") == -1 ||
		    buf_key_range(b, op->key, op->prefix) == -1)
			return -1;
		break;
	case ETCD_OP_PUT:
		if (strlen(v) > ETCD_MAX_VALUE) {
			errno = EINVAL;
			return -1;
		}
		if (buf_str(b, "{\"request_put\":{") == -1 ||
		    buf_key_range(b, op->key, 0) == -1 ||
		    buf_str(b, ",") == -1 ||
		    buf_b64_field(b, "value", v, strlen(v)) == -1)
			return -1;
		if (op->lease != 0 && (buf_str(b, ",\"lease\":") == -1 ||
		    buf_int64(b, op->lease) == -1))
			return -1;
		break;
	case ETCD_OP_DELETE:
		if (buf_str(b, "{\"request_delete_range\":{") == -1 ||
		    buf_key_range(b, op->key, op->prefix) == -1)
			return -1;
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	return buf_str(b, "}}");
}

static int
encode_ops(struct etcd_buf *b, const char *name, const struct etcd_op *ops,
    size_t n)
{
	size_t	i;

	if (n == 0)
		return 0;
	if (buf_str(b, ",\"") == -1 || buf_str(b, name) == -1 ||
	    buf_str(b, "\":[") == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (i > 0 && buf_str(b, ",") == -1)
			return -1;
		if (encode_op(b, &ops[i]) == -1)
			return -1;
	}
	return buf_str(b, "]");
}

int
etcd_encode_txn(struct etcd_buf *b, const struct etcd_txn *t)
{
	size_t	i;

	if (t->n_compare > ETCD_MAX_TXN_OPS ||
	    t->n_success > ETCD_MAX_TXN_OPS ||
	    t->n_failure > ETCD_MAX_TXN_OPS) {
		errno = EINVAL;
		return -1;
	}
	if (buf_str(b, "{\"compare\":[") == -1)
		return -1;
	for (i = 0; i < t->n_compare; i++) {
		if (i > 0 && buf_str(b, ",") == -1)
			return -1;
		if (encode_compare(b, &t->compare[i]) == -1)
			return -1;
	}
	if (buf_str(b, "]") == -1 ||
	    encode_ops(b, "success", t->success, t->n_success) == -1 ||
	    encode_ops(b, "failure", t->failure, t->n_failure) == -1)
		return -1;
	return buf_str(b, "}");
}

int
etcd_encode_lease_grant(struct etcd_buf *b, int64_t ttl)
{
	if (buf_str(b, "{\"TTL\":") == -1 || buf_int64(b, ttl) == -1)
		return -1;
	return buf_str(b, "}");
}

int
etcd_encode_lease_id(struct etcd_buf *b, int64_t id)
{
	if (buf_str(b, "{\"ID\":") == -1 || buf_int64(b, id) == -1)
		return -1;
	return buf_str(b, "}");
}

int
etcd_encode_auth(struct etcd_buf *b, const char *user, const char *password)
{
	if (buf_str(b, "{\"name\":") == -1 || buf_json_string(b, user) == -1 ||
	    buf_str(b, ",\"password\":") == -1 ||
	    buf_json_string(b, password) == -1)
		return -1;
	return buf_str(b, "}");
}

int
etcd_encode_watch_create(struct etcd_buf *b, const struct etcd_watch_opts *o)
{
	if (buf_str(b, "{\"create_request\":{") == -1 ||
	    buf_key_range(b, o->key, o->prefix) == -1)
		return -1;
	if (o->start_revision > 0 &&
	    (buf_str(b, ",\"start_revision\":") == -1 ||
	    buf_int64(b, o->start_revision) == -1))
		return -1;
	if (o->prev_kv && buf_str(b, ",\"prev_kv\":true") == -1)
		return -1;
	return buf_str(b, ",\"progress_notify\":true}}");
}

/* ---- decoders ---- */

struct dec {
	char	*err;
	size_t	 errlen;
};

static int
dec_fail(struct dec *d, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
dec_fail(struct dec *d, const char *path, const char *fmt, ...)
{
	char	what[128];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(d->err, d->errlen, "%s: %s", path, what);
	return -1;
}

/* path + "." + name, for messages. */
static void
subpath(char *out, size_t outlen, const char *path, const char *name)
{
	if (path[0] == '\0')
		snprintf(out, outlen, "%s", name);
	else
		snprintf(out, outlen, "%s.%s", path, name);
}

/* Optional int64-as-string field; missing = 0. */
static int
get_int64(struct dec *d, const cJSON *obj, const char *path,
    const char *name, int64_t *out)
{
	const cJSON	*it = cJSON_GetObjectItemCaseSensitive(obj, name);
	char		 p[256];

	*out = 0;
	if (it == NULL)
		return 0;
	subpath(p, sizeof(p), path, name);
	if (!cJSON_IsString(it))
		return dec_fail(d, p, "not an int64 string");
	if (etcd_parse_int64(it->valuestring, out) == -1)
		return dec_fail(d, p, "not an int64 string");
	return 0;
}

/* Same, and the value must not be negative. */
static int
get_uint63(struct dec *d, const cJSON *obj, const char *path,
    const char *name, int64_t *out)
{
	char	p[256];

	if (get_int64(d, obj, path, name, out) == -1)
		return -1;
	if (*out < 0) {
		subpath(p, sizeof(p), path, name);
		return dec_fail(d, p, "negative");
	}
	return 0;
}

/* Optional boolean; missing = false. */
static int
get_bool(struct dec *d, const cJSON *obj, const char *path,
    const char *name, int *out)
{
	const cJSON	*it = cJSON_GetObjectItemCaseSensitive(obj, name);
	char		 p[256];

	*out = 0;
	if (it == NULL)
		return 0;
	if (!cJSON_IsBool(it)) {
		subpath(p, sizeof(p), path, name);
		return dec_fail(d, p, "not a boolean");
	}
	*out = cJSON_IsTrue(it);
	return 0;
}

/* Optional object; missing = NULL. */
static int
get_object(struct dec *d, const cJSON *obj, const char *path,
    const char *name, const cJSON **out)
{
	const cJSON	*it = cJSON_GetObjectItemCaseSensitive(obj, name);
	char		 p[256];

	*out = NULL;
	if (it == NULL || cJSON_IsNull(it))
		return 0;
	if (!cJSON_IsObject(it)) {
		subpath(p, sizeof(p), path, name);
		return dec_fail(d, p, "not an object");
	}
	*out = it;
	return 0;
}

/* Optional array; missing = NULL (empty). */
static int
get_array(struct dec *d, const cJSON *obj, const char *path,
    const char *name, const cJSON **out, size_t *n)
{
	const cJSON	*it = cJSON_GetObjectItemCaseSensitive(obj, name);
	char		 p[256];

	*out = NULL;
	*n = 0;
	if (it == NULL || cJSON_IsNull(it))
		return 0;
	if (!cJSON_IsArray(it)) {
		subpath(p, sizeof(p), path, name);
		return dec_fail(d, p, "not an array");
	}
	*out = it;
	*n = (size_t)cJSON_GetArraySize(it);
	return 0;
}

/* Optional base64 field, decoded into a fresh NUL-terminated string. */
static int
get_bytes(struct dec *d, const cJSON *obj, const char *path,
    const char *name, const char **out, size_t *outlen)
{
	const cJSON	*it = cJSON_GetObjectItemCaseSensitive(obj, name);
	char		 p[256], *s;
	size_t		 inlen;
	long		 n;

	*out = NULL;
	*outlen = 0;
	subpath(p, sizeof(p), path, name);
	if (it == NULL) {
		if ((s = calloc(1, 1)) == NULL)
			return dec_fail(d, p, "out of memory");
		*out = s;
		return 0;
	}
	if (!cJSON_IsString(it))
		return dec_fail(d, p, "not a base64 string");
	inlen = strlen(it->valuestring);
	if ((s = malloc(inlen / 4 * 3 + 1)) == NULL)
		return dec_fail(d, p, "out of memory");
	if ((n = etcd_base64_decode(it->valuestring, inlen, s)) < 0) {
		free(s);
		return dec_fail(d, p, "not a base64 string");
	}
	*out = s;
	*outlen = (size_t)n;
	return 0;
}

static void
kv_free(struct etcd_kv *kv)
{
	free((char *)kv->key);
	free((char *)kv->value);
	kv->key = kv->value = NULL;
}

static int
decode_kv(struct dec *d, const cJSON *obj, const char *path,
    struct etcd_kv *kv)
{
	if (!cJSON_IsObject(obj))
		return dec_fail(d, path, "not an object");
	if (get_bytes(d, obj, path, "key", &kv->key, &kv->key_len) == -1 ||
	    get_bytes(d, obj, path, "value", &kv->value, &kv->value_len) == -1 ||
	    get_uint63(d, obj, path, "create_revision",
	    &kv->create_revision) == -1 ||
	    get_uint63(d, obj, path, "mod_revision", &kv->mod_revision) == -1 ||
	    get_uint63(d, obj, path, "version", &kv->version) == -1 ||
	    get_int64(d, obj, path, "lease", &kv->lease) == -1)
		return -1;
	if (kv->key_len == 0)
		return dec_fail(d, path, "key missing or empty");
	return 0;
}

static void
range_free(struct etcd_range_result *rr)
{
	size_t	i;

	for (i = 0; i < rr->n_kvs; i++)
		kv_free((struct etcd_kv *)&rr->kvs[i]);
	free((void *)rr->kvs);
	rr->kvs = NULL;
	rr->n_kvs = 0;
}

static int
decode_header(struct dec *d, const cJSON *obj, const char *path,
    int64_t *revision, int required)
{
	const cJSON	*h;
	char		 p[256];

	if (get_object(d, obj, path, "header", &h) == -1)
		return -1;
	if (h == NULL) {
		if (!required)
			return 0;
		subpath(p, sizeof(p), path, "header");
		return dec_fail(d, p, "missing");
	}
	subpath(p, sizeof(p), path, "header");
	return get_uint63(d, h, p, "revision", revision);
}

static int
decode_range_body(struct dec *d, const cJSON *obj, const char *path,
    struct etcd_range_result *rr)
{
	const cJSON	*arr, *it;
	struct etcd_kv	*kvs;
	char		 p[300], base[256];
	size_t		 n, i = 0;

	if (get_bool(d, obj, path, "more", &rr->more) == -1 ||
	    get_uint63(d, obj, path, "count", &rr->count) == -1 ||
	    get_array(d, obj, path, "kvs", &arr, &n) == -1)
		return -1;
	if (n == 0)
		return 0;
	subpath(base, sizeof(base), path, "kvs");
	if ((kvs = calloc(n, sizeof(*kvs))) == NULL)
		return dec_fail(d, base, "out of memory");
	rr->kvs = kvs;
	cJSON_ArrayForEach(it, arr) {
		snprintf(p, sizeof(p), "%s[%zu]", base, i);
		rr->n_kvs = i + 1;
		if (decode_kv(d, it, p, &kvs[i]) == -1)
			return -1;
		i++;
	}
	return 0;
}

static int
decode_op_response(struct dec *d, const cJSON *obj, const char *path,
    struct etcd_op_result *op)
{
	const cJSON	*inner;
	char		 p[256];
	int		 found = 0;

	if (!cJSON_IsObject(obj))
		return dec_fail(d, path, "not an object");
	if (get_object(d, obj, path, "response_range", &inner) == -1)
		return -1;
	if (inner != NULL) {
		found++;
		op->kind = ETCD_OP_RANGE;
		subpath(p, sizeof(p), path, "response_range");
		if (decode_range_body(d, inner, p, &op->range) == -1)
			return -1;
	}
	if (get_object(d, obj, path, "response_put", &inner) == -1)
		return -1;
	if (inner != NULL) {
		found++;
		op->kind = ETCD_OP_PUT;
	}
	if (get_object(d, obj, path, "response_delete_range", &inner) == -1)
		return -1;
	if (inner != NULL) {
		found++;
		op->kind = ETCD_OP_DELETE;
		subpath(p, sizeof(p), path, "response_delete_range");
		if (get_uint63(d, inner, p, "deleted", &op->deleted) == -1)
			return -1;
	}
	if (found != 1)
		return dec_fail(d, path, found ? "more than one response" :
		    "no range, put or delete response");
	return 0;
}

static int
decode_txn(struct dec *d, const cJSON *obj, struct etcd_reply *r)
{
	const cJSON		*arr, *it;
	struct etcd_op_result	*ops;
	char			 p[64];
	size_t			 n, i = 0;

	if (decode_header(d, obj, "", &r->revision, 1) == -1 ||
	    get_bool(d, obj, "", "succeeded", &r->succeeded) == -1 ||
	    get_array(d, obj, "", "responses", &arr, &n) == -1)
		return -1;
	if (n == 0)
		return 0;
	if ((ops = calloc(n, sizeof(*ops))) == NULL)
		return dec_fail(d, "responses", "out of memory");
	r->responses = ops;
	cJSON_ArrayForEach(it, arr) {
		snprintf(p, sizeof(p), "responses[%zu]", i);
		r->n_responses = i + 1;
		if (decode_op_response(d, it, p, &ops[i]) == -1)
			return -1;
		i++;
	}
	return 0;
}

static int
decode_lease(struct dec *d, const cJSON *obj, const char *path,
    struct etcd_reply *r)
{
	if (decode_header(d, obj, path, &r->revision, 1) == -1 ||
	    get_int64(d, obj, path, "ID", &r->lease_id) == -1 ||
	    get_uint63(d, obj, path, "TTL", &r->ttl) == -1)
		return -1;
	return 0;
}

static int
decode_auth(struct dec *d, const cJSON *obj, struct etcd_reply *r)
{
	const cJSON	*it;

	if (decode_header(d, obj, "", &r->revision, 0) == -1)
		return -1;
	it = cJSON_GetObjectItemCaseSensitive(obj, "token");
	if (it == NULL)
		return dec_fail(d, "token", "missing");
	if (!cJSON_IsString(it) || it->valuestring[0] == '\0')
		return dec_fail(d, "token", "not a non-empty string");
	if (strpbrk(it->valuestring, "\r\n") != NULL)
		return dec_fail(d, "token", "holds a line break");
	if ((r->token = strdup(it->valuestring)) == NULL)
		return dec_fail(d, "token", "out of memory");
	return 0;
}

static int
decode_event(struct dec *d, const cJSON *obj, const char *path,
    struct etcd_event *ev)
{
	const cJSON	*it, *kv;
	char		 p[256];

	if (!cJSON_IsObject(obj))
		return dec_fail(d, path, "not an object");
	ev->type = ETCD_EVENT_PUT;
	it = cJSON_GetObjectItemCaseSensitive(obj, "type");
	if (it != NULL) {
		subpath(p, sizeof(p), path, "type");
		if (!cJSON_IsString(it))
			return dec_fail(d, p, "not a string");
		if (strcmp(it->valuestring, "DELETE") == 0)
			ev->type = ETCD_EVENT_DELETE;
		else if (strcmp(it->valuestring, "PUT") != 0)
			return dec_fail(d, p, "neither PUT nor DELETE");
	}
	if (get_object(d, obj, path, "kv", &kv) == -1)
		return -1;
	subpath(p, sizeof(p), path, "kv");
	if (kv == NULL)
		return dec_fail(d, p, "missing");
	if (decode_kv(d, kv, p, &ev->kv) == -1)
		return -1;
	if (get_object(d, obj, path, "prev_kv", &kv) == -1)
		return -1;
	if (kv != NULL) {
		ev->has_prev_kv = 1;
		subpath(p, sizeof(p), path, "prev_kv");
		if (decode_kv(d, kv, p, &ev->prev_kv) == -1)
			return -1;
	}
	return 0;
}

static int
decode_watch(struct dec *d, const cJSON *obj, struct etcd_reply *r)
{
	const cJSON		*arr, *it;
	struct etcd_event	*evs;
	char			 p[64];
	size_t			 n, i = 0;

	if (decode_header(d, obj, "result", &r->revision, 1) == -1 ||
	    get_bool(d, obj, "result", "created", &r->created) == -1 ||
	    get_bool(d, obj, "result", "canceled", &r->canceled) == -1 ||
	    get_int64(d, obj, "result", "watch_id", &r->watch_id) == -1 ||
	    get_uint63(d, obj, "result", "compact_revision",
	    &r->compact_revision) == -1 ||
	    get_array(d, obj, "result", "events", &arr, &n) == -1)
		return -1;
	it = cJSON_GetObjectItemCaseSensitive(obj, "cancel_reason");
	if (it != NULL) {
		if (!cJSON_IsString(it))
			return dec_fail(d, "result.cancel_reason",
			    "not a string");
		snprintf(r->cancel_reason, sizeof(r->cancel_reason), "%s",
		    it->valuestring);
	}
	if (n == 0)
		return 0;
	if ((evs = calloc(n, sizeof(*evs))) == NULL)
		return dec_fail(d, "result.events", "out of memory");
	r->events = evs;
	cJSON_ArrayForEach(it, arr) {
		snprintf(p, sizeof(p), "result.events[%zu]", i);
		r->n_events = i + 1;
		if (decode_event(d, it, p, &evs[i]) == -1)
			return -1;
		i++;
	}
	return 0;
}

/* An int JSON number in [0, max]. */
static int
get_code(struct dec *d, const cJSON *obj, const char *path,
    const char *name, int max, int *out)
{
	const cJSON	*it = cJSON_GetObjectItemCaseSensitive(obj, name);
	char		 p[256];

	*out = 0;
	if (it == NULL)
		return 0;
	subpath(p, sizeof(p), path, name);
	if (!cJSON_IsNumber(it) || it->valuedouble < 0 ||
	    it->valuedouble > max || it->valuedouble != (double)it->valueint)
		return dec_fail(d, p, "not an integer in 0..%d", max);
	*out = it->valueint;
	return 0;
}

static int
get_message(struct dec *d, const cJSON *obj, const char *path,
    const char *name, char *out, size_t outlen)
{
	const cJSON	*it = cJSON_GetObjectItemCaseSensitive(obj, name);
	char		 p[256];
	size_t		 i;

	if (it == NULL)
		return 0;
	subpath(p, sizeof(p), path, name);
	if (!cJSON_IsString(it))
		return dec_fail(d, p, "not a string");
	snprintf(out, outlen, "%s", it->valuestring);
	/* it goes into logs: no control characters */
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
	return 0;
}

/*
 * Error objects.  Unary: {"error":"msg","message":"msg","code":5}.
 * Streams: {"error":{"grpc_code":..,"http_code":..,"message":..}}.
 */
static int
decode_error(struct dec *d, const cJSON *err, const cJSON *obj,
    struct etcd_reply *r)
{
	r->is_error = 1;
	if (cJSON_IsObject(err)) {
		if (get_code(d, err, "error", "grpc_code", 64, &r->code) ==
		    -1 ||
		    get_code(d, err, "error", "http_code", 999,
		    &r->http_code) == -1 ||
		    get_message(d, err, "error", "message", r->message,
		    sizeof(r->message)) == -1)
			return -1;
	} else if (cJSON_IsString(err)) {
		if (get_code(d, obj, "", "code", 64, &r->code) == -1 ||
		    get_message(d, obj, "", "error", r->message,
		    sizeof(r->message)) == -1 ||
		    get_message(d, obj, "", "message", r->message,
		    sizeof(r->message)) == -1)
			return -1;
	} else
		return dec_fail(d, "error", "neither a string nor an object");
	if (r->message[0] == '\0')
		snprintf(r->message, sizeof(r->message), "error code %d",
		    r->code);
	return 0;
}

static int
decode_kind(struct dec *d, const cJSON *root, struct etcd_reply *r)
{
	const cJSON	*res;

	switch (r->kind) {
	case ETCD_REPLY_RANGE:
		if (decode_header(d, root, "", &r->revision, 1) == -1)
			return -1;
		return decode_range_body(d, root, "", &r->range);
	case ETCD_REPLY_TXN:
		return decode_txn(d, root, r);
	case ETCD_REPLY_GRANT:
		return decode_lease(d, root, "", r);
	case ETCD_REPLY_REVOKE:
		return decode_header(d, root, "", &r->revision, 1);
	case ETCD_REPLY_AUTH:
		return decode_auth(d, root, r);
	case ETCD_REPLY_KEEPALIVE:
	case ETCD_REPLY_WATCH:
		/* streaming calls wrap every message in "result" */
		if (get_object(d, root, "", "result", &res) == -1)
			return -1;
		if (res == NULL)
			return dec_fail(d, "result", "missing");
		if (r->kind == ETCD_REPLY_KEEPALIVE)
			return decode_lease(d, res, "result", r);
		return decode_watch(d, res, r);
	}
	return dec_fail(d, "reply", "unknown kind %d", (int)r->kind);
}

size_t
etcd_json_values(const char *buf, size_t len)
{
	size_t	 i, n = 1;
	int	 in_string = 0, escape = 0;

	/*
	 * Every value is the root, or the first in an object or array, or
	 * follows a comma: so this is an upper bound on cJSON's items,
	 * whatever the text is (it need not be valid JSON).
	 */
	for (i = 0; i < len; i++) {
		if (in_string) {
			if (escape)
				escape = 0;
			else if (buf[i] == '\\')
				escape = 1;
			else if (buf[i] == '"')
				in_string = 0;
			continue;
		}
		if (buf[i] == '"')
			in_string = 1;
		else if (buf[i] == ',' || buf[i] == '[' || buf[i] == '{')
			n++;
	}
	return n;
}

int
etcd_decode_reply(enum etcd_reply_kind kind, const char *buf, size_t len,
    struct etcd_reply *r, char *err, size_t errlen)
{
	struct dec	 d = { err, errlen };
	cJSON		*root;
	const cJSON	*e;
	int		 rc;

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	if (errlen > 0)
		err[0] = '\0';
	if (len > ETCD_MAX_REPLY)
		return dec_fail(&d, "reply", "longer than %u bytes",
		    ETCD_MAX_REPLY);
	if (etcd_json_values(buf, len) > ETCD_MAX_JSON_VALUES)
		return dec_fail(&d, "reply", "has more than %u JSON values",
		    ETCD_MAX_JSON_VALUES);
	if ((root = cJSON_ParseWithLength(buf, len)) == NULL)
		return dec_fail(&d, "reply", "not JSON");
	if (!cJSON_IsObject(root))
		rc = dec_fail(&d, "reply", "not a JSON object");
	else if ((e = cJSON_GetObjectItemCaseSensitive(root, "error")) !=
	    NULL)
		rc = decode_error(&d, e, root, r);
	else
		rc = decode_kind(&d, root, r);
	cJSON_Delete(root);
	return rc;
}

void
etcd_reply_free(struct etcd_reply *r)
{
	size_t	i;

	range_free(&r->range);
	for (i = 0; i < r->n_responses; i++)
		range_free(&r->responses[i].range);
	free(r->responses);
	for (i = 0; i < r->n_events; i++) {
		kv_free(&r->events[i].kv);
		kv_free(&r->events[i].prev_kv);
	}
	free(r->events);
	if (r->token != NULL) {
		explicit_bzero(r->token, strlen(r->token));
		free(r->token);
	}
	memset(r, 0, sizeof(*r));
}
