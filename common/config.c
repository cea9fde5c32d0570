/*
 * yaim.yml: the key table and the rules of every value.  config_load.c
 * reads the file and the YAML document, config_valid.c checks single
 * strings, config_print.c prints the result; config_int.h is what they
 * share.
 *
 * libyaml's document API builds the tree; we then walk it twice.  The
 * first pass maps every key of a mapping onto the key table (after
 * folding '_' into '-'), rejecting unknown and duplicate keys.  The
 * second pass applies the values in table order, so that cross-field
 * rules (timeouts against intervals, kind keys against the check kind)
 * never depend on the order of the file.  Every error reads
 * "file:line:column: message" and the first error wins.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "addr.h"
#include "config_int.h"

#define KEY_MAX		64

/* Where a key may appear. */
#define F_CONF		0x01	/* top level, yaim_config field */
#define F_FLAT		0x02	/* top level, flat check (checks[0]) */
#define F_LIST		0x04	/* an item of the checks: list */
#define F_REQ		0x10	/* required (for a check: of its kind) */
#define F_OPT		0x20	/* an empty value means "not set" */
#define F_ZERO		0x40	/* a number: 0 (off) is allowed too */
#define F_TO_INTERVAL	0x80	/* a number: max is the check's interval */

struct keydef;

/* One key of a mapping as found in the file. */
struct item {
	yaml_node_t	*key;
	yaml_node_t	*val;
	const char	*spelled;	/* the key as the file spells it */
};

typedef int (*handler_fn)(struct ctx *, const struct keydef *,
    const struct item *, void *);
/*
 * The rule of a string value (the size of its field given): NULL when
 * it holds, else what is wrong, as in `key: "value" <what is wrong>`.
 */
typedef const char *(*valid_fn)(const char *, size_t);

struct keydef {
	const char	*name;		/* canonical, with dashes */
	int		 flags;
	uint32_t	 kind;		/* CHECK_NONE: any kind */
	handler_fn	 fn;
	const char	*chars;		/* h_str: [A-Za-z0-9] and these only */
	valid_fn	 valid;		/* h_str: NULL, any string fits */
	size_t		 off;		/* into yaim_config or check_conf */
	size_t		 size;
	size_t		 pos;		/* its struct cfg_pos there, 0: none */
	uint32_t	 min, max;
	const char	*unit;		/* "milliseconds", "bytes" or NULL */
};


static int	h_str(struct ctx *, const struct keydef *, const struct item *,
		    void *);
static int	h_uint(struct ctx *, const struct keydef *,
		    const struct item *, void *);
static int	h_bool(struct ctx *, const struct keydef *,
		    const struct item *, void *);
static int	h_endpoints(struct ctx *, const struct keydef *,
		    const struct item *, void *);
static int	h_networks(struct ctx *, const struct keydef *,
		    const struct item *, void *);
static int	h_kind(struct ctx *, const struct keydef *,
		    const struct item *, void *);
static int	h_exec(struct ctx *, const struct keydef *,
		    const struct item *, void *);
static int	h_notify(struct ctx *, const struct keydef *,
		    const struct item *, void *);
static int	h_checks(struct ctx *, const struct keydef *,
		    const struct item *, void *);
static int	h_addr(struct ctx *, const struct keydef *,
		    const struct item *, void *);

#define MS	"milliseconds"
#define BYTES	"bytes"
#define C_FIELD(f)	.off = offsetof(struct yaim_config, f), \
			.size = sizeof(((struct yaim_config *)0)->f)
#define K_FIELD(f)	.off = offsetof(struct check_conf, f), \
			.size = sizeof(((struct check_conf *)0)->f)
#define C_STR(f, fl, v)	.flags = fl, .fn = h_str, .valid = v, C_FIELD(f)
#define C_UINT(f, fl, lo, hi, u) .flags = F_CONF | (fl), .fn = h_uint, \
			C_FIELD(f), .min = lo, .max = hi, .unit = u
#define C_FN(f, fl, h)	.flags = fl, .fn = h, C_FIELD(f)
#define K_STR(f, fl, k, v) .flags = fl, .kind = k, .fn = h_str, \
			.valid = v, K_FIELD(f)
#define K_UINT(f, fl, k, lo, hi, u) .flags = fl, .kind = k, .fn = h_uint, \
			K_FIELD(f), .min = lo, .max = hi, .unit = u
#define K_FN(f, fl, k, h) .flags = fl, .kind = k, .fn = h, K_FIELD(f)
#define NAME(extra)	.chars = extra
/* A timeout lies in 10..interval of its check: applied after interval. */
#define K_TIMEOUT(fl, k) K_UINT(timeout_ms, (fl) | F_TO_INTERVAL, k, 10, 0, MS)
/* Values checked again after loading record where they stand. */
#define C_POS(p)	.pos = offsetof(struct yaim_config, p)
#define K_POS		.pos = offsetof(struct check_conf, host_pos)

/*
 * Every key, in the order values are applied.  Intervals come before
 * the timeouts checked against them.
 */
static const struct keydef keys[] = {
	{ "dcs-type",		C_STR(dcs_type, F_CONF, valid_dcs_type) },
	{ "dcs-namespace",	C_STR(dcs_namespace, F_CONF, NULL) },
	{ "dcs-clustername",	C_STR(dcs_clustername, F_CONF | F_REQ, NULL) },
	{ "dcs-endpoints",	C_FN(endpoints, F_CONF | F_REQ, h_endpoints) },
	{ "interval",		C_UINT(interval_ms, 0, 100, 3600000, MS) },
	{ "ttl",		C_UINT(ttl_ms, 0, 1000, 3600000, MS) },
	{ "retry-num",		C_UINT(retry_num, 0, 0, 100, NULL) },
	{ "retry-after",	C_UINT(retry_after_ms, 0, 0, 60000, MS) },
	{ "etcd-user",		C_STR(etcd_user, F_CONF | F_OPT,
				    valid_username) },
	{ "etcd-password",	C_STR(etcd_password, F_CONF | F_OPT, NULL) },
	{ "etcd-ca-file",	C_STR(etcd_ca_file, F_CONF | F_OPT,
				    valid_path) },
	{ "etcd-cert-file",	C_STR(etcd_cert_file, F_CONF | F_OPT,
				    valid_path) },
	{ "etcd-key-file",	C_STR(etcd_key_file, F_CONF | F_OPT,
				    valid_path) },
	{ "etcd-timeout",	C_UINT(etcd_timeout_ms, 0, 100, 60000, MS) },
	{ "fence-margin",	C_UINT(fence_margin_ms, 0, 250, 60000, MS) },
	{ "resolve-interval",	C_UINT(resolve_interval_ms, 0, 1000, 3600000,
				    MS) },
	{ "nodename",		C_STR(nodename, F_CONF, NULL), NAME("._-") },
	{ "user",		C_STR(user, F_CONF, valid_username) },
	{ "chroot",		C_STR(chroot, F_CONF, valid_path) },
	{ "control-socket",	C_STR(control_socket, F_CONF | F_OPT,
				    valid_control_socket) },
	{ "control-group",	C_STR(control_group, F_CONF | F_OPT,
				    valid_username), C_POS(control_group_pos) },
	{ "interface",		C_STR(interface, F_CONF | F_REQ,
				    valid_interface), C_POS(interface_pos) },
	{ "label",		C_STR(label, F_CONF | F_OPT, NULL), NAME("._-"),
				    C_POS(label_pos) },
	{ "netmask",		C_UINT(netmask, 0, 1, 32, NULL),
				    C_POS(netmask_pos) },
	{ "netmask6",		C_UINT(netmask6, 0, 1, 128, NULL),
				    C_POS(netmask6_pos) },
	{ "allowed-networks",	C_FN(networks, F_CONF, h_networks) },
	{ "garp-count",		C_UINT(garp_count, 0, 0, 100, NULL) },
	{ "garp-interval",	C_UINT(garp_interval_ms, 0, 10, 60000, MS) },
	{ "garp-refresh",	C_UINT(garp_refresh_ms, F_ZERO, 1000, 86400000,
				    MS) },
	{ "peers",		C_FN(peers, F_CONF, h_bool) },
	{ "failsafe",		C_FN(failsafe, F_CONF, h_bool) },
	{ "peer-address",	C_FN(peer_address, F_CONF | F_OPT, h_addr) },
	{ "peer-port",		C_UINT(peer_port, 0, 1, 65535, NULL) },
	{ "peer-key-file",	C_STR(peer_key_file, F_CONF | F_OPT,
				    valid_path), C_POS(peer_key_file_pos) },
	{ "peer-interval",	C_UINT(peer_interval_ms, 0, 10, 10000, MS) },
	{ "peer-timeout",	C_UINT(peer_timeout_ms, 0, 20, 60000, MS) },
	{ "notify-command",	C_FN(notify_argv, F_CONF, h_notify) },
	{ "notify-timeout",	C_UINT(notify_timeout_ms, 0, 100, 600000, MS) },
	{ "metrics-listen",	C_STR(metrics_listen, F_CONF | F_OPT,
				    valid_listen) },
	{ "checks",		C_FN(checks, F_CONF, h_checks) },

	/* a check: the flat spec form and the items of checks: */
	{ "checker-type",	K_FN(kind, F_FLAT, 0, h_kind) },
	{ "type",		K_FN(kind, F_LIST | F_REQ, 0, h_kind) },
	{ "name",		K_STR(name, F_LIST, 0, NULL), NAME("._#:-") },
	{ "check-interval",	K_UINT(interval_ms, F_FLAT, 0, 100, 3600000,
				    MS) },
	{ "interval",		K_UINT(interval_ms, F_LIST, 0, 100, 3600000,
				    MS) },
	{ "timeout",		K_TIMEOUT(F_LIST, 0) },
	{ "rise",		K_UINT(rise, F_FLAT | F_LIST, 0, 1, 100, NULL) },
	{ "fall",		K_UINT(fall, F_FLAT | F_LIST, 0, 1, 100, NULL) },

	{ "http-url",		K_STR(http_url, F_FLAT | F_LIST | F_REQ,
				    CHECK_HTTP, valid_http_url), K_POS },
	{ "http-expected-code",	K_UINT(http_expected_code, F_FLAT | F_LIST,
				    CHECK_HTTP, 100, 599, NULL) },
	{ "http-expected-response-contains",
				K_STR(http_expected_contains,
				    F_FLAT | F_LIST | F_OPT, CHECK_HTTP, NULL) },
	{ "http-timeout",	K_TIMEOUT(F_FLAT, CHECK_HTTP) },
	{ "http-ca-file",	K_STR(http_ca_file, F_FLAT | F_LIST | F_OPT,
				    CHECK_HTTP, valid_path) },
	{ "http-tls-verify",	K_FN(http_tls_verify, F_FLAT | F_LIST,
				    CHECK_HTTP, h_bool) },
	{ "http-host",		K_STR(http_host_header, F_FLAT | F_LIST | F_OPT,
				    CHECK_HTTP, valid_header) },
	{ "http-max-body",	K_UINT(http_max_body, F_FLAT | F_LIST,
				    CHECK_HTTP, 1, 1048576, BYTES) },

	{ "tcp-host",		K_STR(tcp_host, F_FLAT | F_LIST | F_REQ,
				    CHECK_TCP, valid_host), K_POS },
	{ "tcp-port",		K_UINT(tcp_port, F_FLAT | F_LIST | F_REQ,
				    CHECK_TCP, 1, 65535, NULL) },
	{ "tcp-timeout",	K_TIMEOUT(F_FLAT, CHECK_TCP) },

	{ "postgres-host",	K_STR(pg_host, F_FLAT | F_LIST | F_REQ,
				    CHECK_POSTGRES, valid_host), K_POS },
	{ "postgres-port",	K_UINT(pg_port, F_FLAT | F_LIST,
				    CHECK_POSTGRES, 1, 65535, NULL) },
	{ "postgres-user",	K_STR(pg_user, F_FLAT | F_LIST | F_REQ,
				    CHECK_POSTGRES, valid_username) },
	{ "postgres-password",	K_STR(pg_password, F_FLAT | F_LIST | F_OPT,
				    CHECK_POSTGRES, NULL) },
	{ "postgres-dbname",	K_STR(pg_dbname, F_FLAT | F_LIST,
				    CHECK_POSTGRES, NULL) },
	{ "postgres-query",	K_STR(pg_query, F_FLAT | F_LIST,
				    CHECK_POSTGRES, NULL) },
	{ "postgres-expected",	K_STR(pg_expected, F_FLAT | F_LIST,
				    CHECK_POSTGRES, NULL) },
	{ "postgres-timeout",	K_TIMEOUT(F_FLAT, CHECK_POSTGRES) },

	{ "exec-command",	K_FN(exec_argv, F_FLAT | F_LIST | F_REQ,
				    CHECK_EXEC, h_exec) },
	{ "exec-timeout",	K_TIMEOUT(F_FLAT, CHECK_EXEC) },
	{ "exec-max-output",	K_UINT(exec_max_output, F_FLAT | F_LIST,
				    CHECK_EXEC, 0, 65536, BYTES) },
};

#define NKEYS	nitems(keys)

/* The keys found in one mapping, indexed like keys[]. */
struct seen {
	struct item	 it[NKEYS];
};

static const char *kind_names[] = {
	[CHECK_NONE] = "none",
	[CHECK_HTTP] = "http",
	[CHECK_TCP] = "tcp",
	[CHECK_POSTGRES] = "postgres",
	[CHECK_EXEC] = "exec",
};

int
conf_dcs_v2(const struct yaim_config *conf)
{
	return strcmp(conf->dcs_type, "etcd2") == 0;
}

const char *
config_check_kind_name(uint32_t kind)
{
	return kind < nitems(kind_names) ? kind_names[kind] : "none";
}

/* Errors */

int
cfg_error(struct ctx *c, yaml_mark_t mark, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (c->failed)
		return -1;
	c->failed = 1;
	if (c->errlen == 0)
		return -1;
	n = snprintf(c->err, c->errlen, "%s:%zu:%zu: ", c->name,
	    mark.line + 1, mark.column + 1);
	if (n < 0 || (size_t)n >= c->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

static struct cfg_pos
pos_of(yaml_mark_t mark)
{
	return (struct cfg_pos){ (uint32_t)mark.line + 1,
	    (uint32_t)mark.column + 1 };
}

const char *
config_where(const struct yaim_config *conf, struct cfg_pos pos, char *buf,
    size_t len)
{
	int	 n = (int)strnlen(conf->file, sizeof(conf->file));

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (n > 0 && pos.line == 0)
		snprintf(buf, len, "%.*s: ", n, conf->file);
	else if (n > 0)
		snprintf(buf, len, "%.*s:%u:%u: ", n, conf->file, pos.line,
		    pos.col);
	return buf;
}

static const char *
node_type_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "scalar";
	case YAML_SEQUENCE_NODE:
		return "sequence";
	case YAML_MAPPING_NODE:
		return "mapping";
	default:
		return "nothing";
	}
}

static yaml_node_t *
node_at(struct ctx *c, int index)
{
	return yaml_document_get_node(c->doc, index);
}

/* Scalars */

static int
is_null(const yaml_node_t *n)
{
	const char	*s = (const char *)n->data.scalar.value;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/*
 * The text of a scalar node; a plain null reads as "".  NUL bytes and
 * control characters are refused everywhere: they have no business in
 * a config and would truncate or inject in logs, headers and URLs.
 */
static int
scalar_text(struct ctx *c, const char *what, yaml_node_t *n,
    const char **out)
{
	const unsigned char	*s;
	size_t			 i;

	if (n->type != YAML_SCALAR_NODE)
		return cfg_error(c, n->start_mark,
		    "%s: expected a scalar, got a %s", what,
		    node_type_name(n));
	s = n->data.scalar.value;
	for (i = 0; i < n->data.scalar.length; i++) {
		if (s[i] == '\0')
			return cfg_error(c, n->start_mark,
			    "%s: contains a NUL byte", what);
		if (s[i] < 0x20 || s[i] == 0x7f)
			return cfg_error(c, n->start_mark,
			    "%s: contains a control character", what);
	}
	*out = is_null(n) ? "" : (const char *)s;
	return 0;
}

static int
copy_str(struct ctx *c, const struct item *it, const char *s, char *dst,
    size_t size)
{
	if (strlen(s) >= size)
		return cfg_error(c, it->val->start_mark,
		    "%s: longer than %zu bytes", it->spelled, size - 1);
	memset(dst, 0, size);
	memcpy(dst, s, strlen(s));
	return 0;
}

static int
get_str(struct ctx *c, const struct keydef *d, const struct item *it,
    const char **out)
{
	if (scalar_text(c, it->spelled, it->val, out) == -1)
		return -1;
	if (**out == '\0' && !(d->flags & F_OPT))
		return cfg_error(c, it->val->start_mark, "%s: value is empty",
		    it->spelled);
	return 0;
}

/* A string, then its rule, then its length. */
static int
h_str(struct ctx *c, const struct keydef *d, const struct item *it,
    void *dst)
{
	const char	*s, *why;

	if (get_str(c, d, it, &s) == -1)
		return -1;
	if (d->chars != NULL && (strlen(s) >= d->size ||
	    !name_chars_ok(s, d->chars)))
		return cfg_error(c, it->val->start_mark,
		    "%s: \"%s\" is not %s%zu characters of [A-Za-z0-9%s]",
		    it->spelled, s, (d->flags & F_OPT) ? "up to " : "1..",
		    d->size - 1, d->chars);
	if (d->valid != NULL && (why = d->valid(s, d->size)) != NULL)
		return cfg_error(c, it->val->start_mark, "%s: \"%s\" %s",
		    it->spelled, s, why);
	return copy_str(c, it, s, dst, d->size);
}

static void
store_uint(void *dst, size_t size, uint32_t v)
{
	if (size == 1)
		*(uint8_t *)dst = (uint8_t)v;
	else if (size == 2)
		*(uint16_t *)dst = (uint16_t)v;
	else
		*(uint32_t *)dst = v;
}

/* Decimal digits only: no sign, no units, no hex. */
static int
parse_number(struct ctx *c, const struct item *it, const char *unit,
    unsigned long long *v)
{
	const char	*s, *p;

	if (scalar_text(c, it->spelled, it->val, &s) == -1)
		return -1;
	for (p = s; *p >= '0' && *p <= '9'; p++)
		;
	if (*s == '\0' || *p != '\0')
		return cfg_error(c, it->val->start_mark,
		    "%s: expected a number%s%s, got \"%s\"", it->spelled,
		    unit ? " of " : "", unit ? unit : "", s);
	errno = 0;
	*v = strtoull(s, NULL, 10);
	if (errno == ERANGE || *v > UINT32_MAX)
		*v = (unsigned long long)UINT32_MAX + 1;
	return 0;
}

static int
range_error(struct ctx *c, const struct item *it, const struct keydef *d,
    uint32_t hi)
{
	return cfg_error(c, it->val->start_mark,
	    "%s: %s is out of range (%s%u..%u%s%s)", it->spelled,
	    (const char *)it->val->data.scalar.value,
	    (d->flags & F_ZERO) ? "0 or " : "", d->min, hi,
	    d->unit ? " " : "", d->unit ? d->unit : "");
}

static int
h_uint(struct ctx *c, const struct keydef *d, const struct item *it,
    void *dst)
{
	unsigned long long	 v = 0;
	uint32_t		 hi = d->max;

	if (d->flags & F_TO_INTERVAL)
		hi = c->chk->interval_ms;
	if (parse_number(c, it, d->unit, &v) == -1)
		return -1;
	if ((v < d->min || v > hi) && !(v == 0 && (d->flags & F_ZERO)))
		return range_error(c, it, d, hi);
	store_uint(dst, d->size, (uint32_t)v);
	return 0;
}

static int
h_bool(struct ctx *c, const struct keydef *d, const struct item *it,
    void *dst)
{
	const char	*s;

	(void)d;
	if (scalar_text(c, it->spelled, it->val, &s) == -1)
		return -1;
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
		*(uint32_t *)dst = 1;
	else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
		*(uint32_t *)dst = 0;
	else
		return cfg_error(c, it->val->start_mark,
		    "%s: expected true, false, yes or no, got \"%s\"",
		    it->spelled, s);
	return 0;
}

static int
addr_is_wildcard_or_group(const struct yaim_addr *a)
{
	static const uint8_t	 zero[16];
	static const uint8_t	 bcast[4] = { 255, 255, 255, 255 };

	if (a->af == AF_INET)
		return memcmp(a->addr, zero, 4) == 0 ||
		    memcmp(a->addr, bcast, 4) == 0 || (a->addr[0] & 0xf0) == 0xe0;
	return memcmp(a->addr, zero, 16) == 0 || a->addr[0] == 0xff;
}

/*
 * One IP address of our own (not a prefix); empty: not set.  The same
 * classes the parent refuses for virtual IPs make no sense to bind to.
 */
static int
h_addr(struct ctx *c, const struct keydef *d, const struct item *it,
    void *dst)
{
	struct yaim_addr	 a;
	const char		*s;

	if (get_str(c, d, it, &s) == -1)
		return -1;
	memset(dst, 0, sizeof(a));
	if (*s == '\0')
		return 0;
	if (yaim_addr_parse(s, &a, 0) == -1)
		return cfg_error(c, it->val->start_mark,
		    "%s: \"%s\" is not an IP address", it->spelled, s);
	if (addr_is_wildcard_or_group(&a))
		return cfg_error(c, it->val->start_mark,
		    "%s: \"%s\" is not a unicast address", it->spelled, s);
	memcpy(dst, &a, sizeof(a));
	return 0;
}

/* An etcd endpoint: scheme, host and port, nothing else but a final /. */
static int
endpoint_add(struct ctx *c, const struct item *it, yaml_node_t *n)
{
	struct yaim_config	*conf = c->conf;
	const char		*s, *why, *hp;
	size_t			 len, skip;

	if (scalar_text(c, it->spelled, n, &s) == -1)
		return -1;
	if (conf->n_endpoints == CFG_MAX_ENDPOINTS)
		return cfg_error(c, n->start_mark,
		    "%s: more than %d endpoints", it->spelled,
		    CFG_MAX_ENDPOINTS);
	len = strlen(s);
	if (len >= sizeof(conf->endpoints[0]))
		return cfg_error(c, n->start_mark,
		    "%s: URL longer than %zu bytes", it->spelled,
		    sizeof(conf->endpoints[0]) - 1);
	if ((skip = url_scheme(s)) == 0)
		return cfg_error(c, n->start_mark,
		    "%s: \"%s\" does not start with http:// or https://",
		    it->spelled, s);
	if (len > skip && s[len - 1] == '/')
		len--;
	hp = s + skip;
	if (memchr(hp, '/', len - skip) != NULL ||
	    strpbrk(hp, "?#@ ") != NULL)
		return cfg_error(c, n->start_mark,
		    "%s: \"%s\" must be scheme://host:port without a path",
		    it->spelled, s);
	if ((why = check_hostport(hp, len - skip, 1)) != NULL)
		return cfg_error(c, n->start_mark, "%s: \"%s\" %s",
		    it->spelled, s, why);
	memcpy(conf->endpoints[conf->n_endpoints], s, len);
	conf->endpoints[conf->n_endpoints][len] = '\0';
	conf->endpoint_pos[conf->n_endpoints] = pos_of(n->start_mark);
	conf->n_endpoints++;
	return 0;
}

/*
 * Calls fn for a scalar or for each item of a sequence of scalars.  With
 * none, *count (what fn counts) must have grown past 0, else error none.
 */
static int
for_each_value(struct ctx *c, const struct item *it,
    int (*fn)(struct ctx *, const struct item *, yaml_node_t *),
    const uint32_t *count, const char *none)
{
	yaml_node_item_t	*i;

	if (it->val->type == YAML_SCALAR_NODE) {
		if (fn(c, it, it->val) == -1)
			return -1;
	} else if (it->val->type != YAML_SEQUENCE_NODE)
		return cfg_error(c, it->val->start_mark,
		    "%s: expected a sequence, got a %s", it->spelled,
		    node_type_name(it->val));
	else
		for (i = it->val->data.sequence.items.start;
		    i < it->val->data.sequence.items.top; i++)
			if (fn(c, it, node_at(c, *i)) == -1)
				return -1;
	if (none != NULL && *count == 0)
		return cfg_error(c, it->val->start_mark, "%s: %s",
		    it->spelled, none);
	return 0;
}

static int
h_endpoints(struct ctx *c, const struct keydef *d, const struct item *it,
    void *dst)
{
	(void)d;
	(void)dst;
	return for_each_value(c, it, endpoint_add, &c->conf->n_endpoints,
	    "no endpoint given");
}

static void
prefix_mask(struct yaim_addr *p)
{
	unsigned int	 i, bits = p->prefixlen;

	for (i = 0; i < sizeof(p->addr); i++) {
		if (bits >= 8) {
			bits -= 8;
			continue;
		}
		p->addr[i] &= (uint8_t)(0xff << (8 - bits));
		bits = 0;
	}
}

static int
network_add(struct ctx *c, const struct item *it, yaml_node_t *n)
{
	struct yaim_config	*conf = c->conf;
	struct yaim_addr	 p, net;
	const char		*s;
	char			 buf[YAIM_ADDRSTRLEN];

	if (scalar_text(c, it->spelled, n, &s) == -1)
		return -1;
	if (conf->n_networks == CFG_MAX_NETWORKS)
		return cfg_error(c, n->start_mark,
		    "%s: more than %d networks", it->spelled, CFG_MAX_NETWORKS);
	if (yaim_prefix_parse(s, &p) == -1)
		return cfg_error(c, n->start_mark,
		    "%s: \"%s\" is not an IP prefix", it->spelled, s);
	if (p.prefixlen == 0)
		return cfg_error(c, n->start_mark,
		    "%s: \"%s\": prefix length 0 is not allowed", it->spelled,
		    s);
	net = p;
	prefix_mask(&net);
	if (memcmp(net.addr, p.addr, sizeof(p.addr)) != 0)
		return cfg_error(c, n->start_mark,
		    "%s: \"%s\" has host bits set, the network is %s/%u",
		    it->spelled, s, yaim_addr_ntop(&net, buf, sizeof(buf)),
		    net.prefixlen);
	conf->networks[conf->n_networks++] = net;
	return 0;
}

static int
h_networks(struct ctx *c, const struct keydef *d, const struct item *it,
    void *dst)
{
	(void)d;
	(void)dst;
	return for_each_value(c, it, network_add, NULL, NULL);
}

/* Checks */

static int
h_kind(struct ctx *c, const struct keydef *d, const struct item *it,
    void *dst)
{
	const char	*s;
	uint32_t	 k;

	if (get_str(c, d, it, &s) == -1)
		return -1;
	for (k = CHECK_HTTP; k <= CHECK_EXEC; k++)
		if (strcmp(s, kind_names[k]) == 0) {
			*(uint32_t *)dst = k;
			return 0;
		}
	return cfg_error(c, it->val->start_mark,
	    "%s: \"%s\" is not one of http, tcp, postgres, exec",
	    it->spelled, s);
}

static int
exec_arg_add(struct ctx *c, const struct item *it, yaml_node_t *n,
    const char *arg, size_t len)
{
	uint32_t	 *argc = c->argc;

	if (*argc == CFG_MAX_ARGS)
		return cfg_error(c, n->start_mark,
		    "%s: more than %d arguments", it->spelled, CFG_MAX_ARGS);
	if (len >= CFG_STR_MAX)
		return cfg_error(c, n->start_mark,
		    "%s: argument %u is longer than %d bytes", it->spelled,
		    *argc, CFG_STR_MAX - 1);
	if (*argc == 0 && *arg != '/')
		return cfg_error(c, n->start_mark,
		    "%s: \"%.*s\" is not an absolute path", it->spelled,
		    (int)len, arg);
	memcpy(c->argv[*argc], arg, len);
	c->argv[*argc][len] = '\0';
	(*argc)++;
	return 0;
}

/* One sequence item is one argument; a scalar is split on blanks. */
static int
exec_value(struct ctx *c, const struct item *it, yaml_node_t *n)
{
	const char	*s;
	size_t		 len;

	if (scalar_text(c, it->spelled, n, &s) == -1)
		return -1;
	if (it->val->type == YAML_SEQUENCE_NODE)
		return exec_arg_add(c, it, n, s, strlen(s));
	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			return 0;
		len = strcspn(s, " \t");
		if (exec_arg_add(c, it, n, s, len) == -1)
			return -1;
		s += len;
	}
}

static int
h_exec(struct ctx *c, const struct keydef *d, const struct item *it,
    void *dst)
{
	(void)d;
	(void)dst;
	c->argc = &c->chk->exec_argc;
	c->argv = c->chk->exec_argv;
	return for_each_value(c, it, exec_value, &c->chk->exec_argc,
	    "the command is empty");
}

/* notify-command: like exec-command; empty ([] or "") means none. */
static int
h_notify(struct ctx *c, const struct keydef *d, const struct item *it,
    void *dst)
{
	(void)d;
	(void)dst;
	c->argc = &c->conf->notify_argc;
	c->argv = c->conf->notify_argv;
	return for_each_value(c, it, exec_value, NULL, NULL);
}

/* Mappings */

static int
lookup(const char *name, int scope)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if ((keys[i].flags & scope) && strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Pass one: map each key of the mapping onto keys[]. */
static int
collect(struct ctx *c, yaml_node_t *map, int scope, struct seen *s)
{
	yaml_node_pair_t	*p;
	yaml_node_t		*k;
	const char		*text;
	char			 norm[KEY_MAX], *q;
	int			 i;

	memset(s, 0, sizeof(*s));
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		k = node_at(c, p->key);
		if (k->type != YAML_SCALAR_NODE)
			return cfg_error(c, k->start_mark,
			    "a key must be a scalar, not a %s",
			    node_type_name(k));
		if (scalar_text(c, "key", k, &text) == -1)
			return -1;
		if (strlen(text) >= sizeof(norm))
			return cfg_error(c, k->start_mark,
			    "unknown key \"%.40s...\"", text);
		strcpy(norm, text);
		for (q = norm; *q != '\0'; q++)
			if (*q == '_')
				*q = '-';
		if ((i = lookup(norm, scope)) == -1)
			return cfg_error(c, k->start_mark, "unknown key \"%s\"",
			    text);
		if (s->it[i].key != NULL)
			return cfg_error(c, k->start_mark,
			    "duplicate key \"%s\" (first at line %zu)", text,
			    s->it[i].key->start_mark.line + 1);
		s->it[i].key = k;
		s->it[i].val = node_at(c, p->value);
		s->it[i].spelled = text;
	}
	return 0;
}

static int
missing_keys(struct ctx *c, yaml_node_t *map, const struct seen *s,
    int scope, uint32_t kind)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if ((keys[i].flags & scope) && (keys[i].flags & F_REQ) &&
		    keys[i].kind == kind && s->it[i].key == NULL)
			return cfg_error(c, map->start_mark,
			    "missing required key \"%s\"", keys[i].name);
	return 0;
}

/*
 * The first key in file order, among those of scope, that does not
 * belong to a check of this kind (CHECK_NONE: any key of scope).
 */
static const struct item *
first_seen(const struct seen *s, int scope, uint32_t kind)
{
	const struct item	*first = NULL;
	size_t			 i;

	for (i = 0; i < NKEYS; i++) {
		if (!(keys[i].flags & scope) || s->it[i].key == NULL)
			continue;
		if (kind != CHECK_NONE && (keys[i].kind == CHECK_NONE ||
		    keys[i].kind == kind))
			continue;
		if (first == NULL || s->it[i].key->start_mark.index <
		    first->key->start_mark.index)
			first = &s->it[i];
	}
	return first;
}

static int
apply(struct ctx *c, const struct seen *s, size_t i, void *base)
{
	const struct keydef	*d = &keys[i];

	if (d->pos != 0)
		*(struct cfg_pos *)((char *)base + d->pos) =
		    pos_of(s->it[i].val->start_mark);
	return d->fn(c, d, &s->it[i], (char *)base + d->off);
}

static void
check_defaults(struct ctx *c, struct check_conf *chk)
{
	memset(chk, 0, sizeof(*chk));
	chk->interval_ms = c->conf->interval_ms;
	chk->rise = 2;
	chk->fall = 1;
	chk->http_expected_code = 200;
	chk->http_tls_verify = 1;
	chk->http_max_body = 65536;
	chk->pg_port = 5432;
	strcpy(chk->pg_query, "SELECT 1");
	strcpy(chk->pg_expected, "1");
	chk->exec_max_output = 4096;
}

/*
 * Builds c->chk from the keys of one mapping (the top level for the
 * flat form, or a checks: item).  kind_idx is the index of its kind key.
 */
static int
build_check(struct ctx *c, yaml_node_t *map, const struct seen *s,
    int scope, size_t kind_idx)
{
	struct check_conf	*chk = c->chk;
	const struct item	*it;
	size_t			 i;

	check_defaults(c, chk);
	c->kindkey = keys[kind_idx].name;
	if (apply(c, s, kind_idx, chk) == -1)
		return -1;
	if ((it = first_seen(s, scope, chk->kind)) != NULL)
		return cfg_error(c, it->key->start_mark,
		    "%s is set but %s is %s", it->spelled,
		    s->it[kind_idx].spelled, kind_names[chk->kind]);
	if (missing_keys(c, map, s, scope, chk->kind) == -1)
		return -1;
	for (i = 0; i < NKEYS; i++)
		if ((keys[i].flags & scope) && i != kind_idx &&
		    s->it[i].key != NULL && apply(c, s, i, chk) == -1)
			return -1;
	if (chk->timeout_ms == 0)
		chk->timeout_ms = chk->interval_ms / 2;
	if (chk->kind == CHECK_POSTGRES && chk->pg_dbname[0] == '\0')
		strcpy(chk->pg_dbname, chk->pg_user);
	return 0;
}

static int
check_slot(struct ctx *c, yaml_node_t *at)
{
	if (c->conf->n_checks == CFG_MAX_CHECKS)
		return cfg_error(c, at->start_mark,
		    "checks: more than %d checks", CFG_MAX_CHECKS);
	c->chk_mark[c->conf->n_checks] = at->start_mark;
	c->chk = &c->conf->checks[c->conf->n_checks];
	return 0;
}

static int
check_item(struct ctx *c, yaml_node_t *map)
{
	struct seen	 s;
	uint32_t	 idx = c->conf->n_checks;

	if (check_slot(c, map) == -1)
		return -1;
	if (map->type != YAML_MAPPING_NODE)
		return cfg_error(c, map->start_mark,
		    "checks: expected a mapping, got a %s",
		    node_type_name(map));
	if (collect(c, map, F_LIST, &s) == -1 ||
	    missing_keys(c, map, &s, F_LIST, CHECK_NONE) == -1 ||
	    build_check(c, map, &s, F_LIST, lookup("type", F_LIST)) == -1)
		return -1;
	if (c->chk->name[0] == '\0')
		snprintf(c->chk->name, sizeof(c->chk->name), "%s#%u",
		    kind_names[c->chk->kind], idx);
	else {
		c->name_mark[idx] = s.it[lookup("name", F_LIST)].val->start_mark;
		c->has_name[idx] = 1;
	}
	c->conf->n_checks++;
	return 0;
}

static int
h_checks(struct ctx *c, const struct keydef *d, const struct item *it,
    void *dst)
{
	yaml_node_item_t	*i;

	(void)d;
	(void)dst;
	if (it->val->type != YAML_SEQUENCE_NODE)
		return cfg_error(c, it->val->start_mark,
		    "%s: expected a sequence, got a %s", it->spelled,
		    node_type_name(it->val));
	for (i = it->val->data.sequence.items.start;
	    i < it->val->data.sequence.items.top; i++)
		if (check_item(c, node_at(c, *i)) == -1)
			return -1;
	return 0;
}

/* The flat spec form: checker-type and its keys at the top level. */
static int
flat_check(struct ctx *c, yaml_node_t *map, const struct seen *s)
{
	size_t			 kind_idx = lookup("checker-type", F_FLAT);
	const struct item	*it;

	if (s->it[kind_idx].key == NULL) {
		if ((it = first_seen(s, F_FLAT, CHECK_NONE)) != NULL)
			return cfg_error(c, it->key->start_mark,
			    "%s is set but checker-type is not", it->spelled);
		return 0;
	}
	if (check_slot(c, map) == -1 ||
	    build_check(c, map, s, F_FLAT, kind_idx) == -1)
		return -1;
	strcpy(c->chk->name, kind_names[c->chk->kind]);
	c->conf->n_checks++;
	return 0;
}

static int
check_names_unique(struct ctx *c)
{
	struct yaim_config	*conf = c->conf;
	uint32_t		 i, j;

	for (i = 1; i < conf->n_checks; i++)
		for (j = 0; j < i; j++)
			if (strcmp(conf->checks[i].name,
			    conf->checks[j].name) == 0)
				return cfg_error(c, c->has_name[i] ?
				    c->name_mark[i] : c->chk_mark[i],
				    "checks: duplicate check name \"%s\"",
				    conf->checks[i].name);
	return 0;
}

/* Whole configuration */

void
conf_defaults(struct yaim_config *conf)
{
	memset(conf, 0, sizeof(*conf));
	strcpy(conf->dcs_type, "etcd");
	strcpy(conf->dcs_namespace, "service");
	conf->interval_ms = 1000;
	conf->ttl_ms = 5000;
	conf->retry_num = 3;
	conf->retry_after_ms = 250;
	conf->etcd_timeout_ms = 2000;
	conf->resolve_interval_ms = 30000;
	conf->fence_margin_ms = 500;
	strcpy(conf->user, YAIM_DEFAULT_USER);
	strcpy(conf->chroot, YAIM_DEFAULT_CHROOT);
	strcpy(conf->control_socket, YAIM_DEFAULT_CONTROL_SOCKET);
	conf->netmask = 32;
	conf->netmask6 = 128;
	conf->garp_count = 3;
	conf->garp_interval_ms = 1000;
	conf->peers = 1;
	conf->failsafe = 1;
	conf->peer_port = YAIM_DEFAULT_PEER_PORT;
	conf->peer_interval_ms = 50;
	conf->peer_timeout_ms = 200;
	conf->notify_timeout_ms = YAIM_DEFAULT_NOTIFY_TIMEOUT;
}

static yaml_mark_t
mark_of(const struct seen *s, const char *key, yaml_node_t *dflt)
{
	int	 i = lookup(key, F_CONF);

	return s->it[i].val != NULL ? s->it[i].val->start_mark :
	    dflt->start_mark;
}

/* The spec's own spelling of a key, for messages about absent keys. */
static const char *
display_name(const char *canonical)
{
	static const char *spec[] = { "retry_num", "retry_after",
	    "etcd_user", "etcd_password" };
	size_t	 i;
	char	 buf[KEY_MAX], *q;

	for (i = 0; i < nitems(spec); i++) {
		strcpy(buf, spec[i]);
		for (q = buf; *q != '\0'; q++)
			if (*q == '_')
				*q = '-';
		if (strcmp(buf, canonical) == 0)
			return spec[i];
	}
	return canonical;
}

/* Keys a and b (canonical names) go together. */
static int
both_or_neither(struct ctx *c, const struct seen *s, const char *a,
    const char *fa, const char *b, const char *fb, yaml_node_t *map)
{
	if ((*fa == '\0') == (*fb == '\0'))
		return 0;
	if (*fa == '\0')
		return both_or_neither(c, s, b, fb, a, fa, map);
	return cfg_error(c, mark_of(s, a, map), "%s is set but %s is not",
	    s->it[lookup(a, F_CONF)].spelled, display_name(b));
}

static void
trim_slashes(const char *in, const char **start, size_t *len)
{
	size_t	 n = strlen(in);

	while (n > 0 && *in == '/') {
		in++;
		n--;
	}
	while (n > 0 && in[n - 1] == '/')
		n--;
	*start = in;
	*len = n;
}

static int
build_prefix(struct ctx *c, const struct seen *s, yaml_node_t *map)
{
	struct yaim_config	*conf = c->conf;
	const char		*ns, *cl;
	size_t			 nslen, cllen;

	trim_slashes(conf->dcs_namespace, &ns, &nslen);
	trim_slashes(conf->dcs_clustername, &cl, &cllen);
	if (nslen == 0)
		return cfg_error(c, mark_of(s, "dcs-namespace", map),
		    "dcs-namespace: empty after trimming slashes");
	if (cllen == 0)
		return cfg_error(c, mark_of(s, "dcs-clustername", map),
		    "dcs-clustername: empty after trimming slashes");
	snprintf(conf->prefix, sizeof(conf->prefix), "/%.*s/%.*s/",
	    (int)nslen, ns, (int)cllen, cl);
	return 0;
}

/*
 * Heartbeats must fit a few times into the silence that declares a peer
 * dead, and failsafe runs over the peer channel, so it needs it.  With
 * dcs-type etcd2 there is no peer channel: peers defaults to no.
 */
static int
peer_checks(struct ctx *c, const struct seen *s)
{
	struct yaim_config	*conf = c->conf;
	const struct item	*pt, *pi, *fs, *pe;

	pt = &s->it[lookup("peer-timeout", F_CONF)];
	pe = &s->it[lookup("peers", F_CONF)];
	pi = &s->it[lookup("peer-interval", F_CONF)];
	fs = &s->it[lookup("failsafe", F_CONF)];
	if ((uint64_t)conf->peer_interval_ms * 2 > conf->peer_timeout_ms) {
		if (pt->val != NULL)
			return cfg_error(c, pt->val->start_mark,
			    "%s: %u must be at least twice peer-interval "
			    "(%u milliseconds)", pt->spelled,
			    conf->peer_timeout_ms, conf->peer_interval_ms);
		return cfg_error(c, pi->val->start_mark,
		    "%s: %u must be at most half of peer-timeout "
		    "(%u milliseconds)", pi->spelled, conf->peer_interval_ms,
		    conf->peer_timeout_ms);
	}
	if (conf_dcs_v2(conf) && conf->peers) {
		/* Its key and leases live in etcd v3 (DESIGN.md 15). */
		if (pe->val != NULL)
			return cfg_error(c, pe->val->start_mark,
			    "%s: yes needs dcs-type: etcd (no peer channel "
			    "with etcd2)", pe->spelled);
		conf->peers = 0;
	}
	if (!conf->peers && conf->failsafe) {
		if (fs->val != NULL && conf_dcs_v2(conf))
			return cfg_error(c, fs->val->start_mark,
			    "%s: needs peers, which dcs-type: etcd2 does "
			    "not have", fs->spelled);
		if (fs->val != NULL)
			return cfg_error(c, fs->val->start_mark,
			    "%s: needs peers: yes", fs->spelled);
		conf->failsafe = 0;
	}
	return 0;
}

static int
cross_checks(struct ctx *c, const struct seen *s, yaml_node_t *map)
{
	struct yaim_config	*conf = c->conf;
	const struct item	*fm, *ttl, *label;

	if (both_or_neither(c, s, "etcd-user", conf->etcd_user,
	    "etcd-password", conf->etcd_password, map) == -1 ||
	    both_or_neither(c, s, "etcd-cert-file", conf->etcd_cert_file,
	    "etcd-key-file", conf->etcd_key_file, map) == -1 ||
	    peer_checks(c, s) == -1)
		return -1;
	fm = &s->it[lookup("fence-margin", F_CONF)];
	ttl = &s->it[lookup("ttl", F_CONF)];
	if ((uint64_t)conf->fence_margin_ms * 2 >= conf->ttl_ms) {
		/* Only reachable when at least one of them is set. */
		if (fm->val != NULL)
			return cfg_error(c, fm->val->start_mark,
			    "%s: %u must be less than ttl/2 "
			    "(%u milliseconds)", fm->spelled,
			    conf->fence_margin_ms, conf->ttl_ms / 2);
		return cfg_error(c, ttl->val->start_mark,
		    "%s: %u must be more than twice fence-margin "
		    "(%u milliseconds)", ttl->spelled, conf->ttl_ms,
		    conf->fence_margin_ms);
	}
	if (conf->metrics_listen[0] != '\0')
		(void)config_parse_listen(conf->metrics_listen,
		    &conf->metrics_addr, &conf->metrics_port);
	/* "none" and an empty value both mean: no control socket */
	if (strcmp(conf->control_socket, "none") == 0)
		conf->control_socket[0] = '\0';
	label = &s->it[lookup("label", F_CONF)];
	if (conf->label[0] != '\0' &&
	    strlen(conf->interface) + 1 + strlen(conf->label) > 15)
		return cfg_error(c, label->val->start_mark,
		    "%s: \"%s:%s\" is longer than 15 characters",
		    label->spelled, conf->interface, conf->label);
	return build_prefix(c, s, map);
}

static int
default_nodename(struct ctx *c, yaml_node_t *map)
{
	char	 host[256];

	if (c->conf->nodename[0] != '\0')
		return 0;
	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if (host[0] == '\0' || strlen(host) > 63 || !name_chars_ok(host, "._-"))
		return cfg_error(c, map->start_mark,
		    "nodename: the host name is not usable, set nodename");
	strcpy(c->conf->nodename, host);
	return 0;
}

int
load_top(struct ctx *c, yaml_node_t *map)
{
	struct seen	 s;
	size_t		 i, checks_idx = lookup("checks", F_CONF);

	if (map->type != YAML_MAPPING_NODE)
		return cfg_error(c, map->start_mark,
		    "the top level must be a mapping, not a %s",
		    node_type_name(map));
	if (collect(c, map, F_CONF | F_FLAT, &s) == -1 ||
	    missing_keys(c, map, &s, F_CONF, CHECK_NONE) == -1)
		return -1;
	for (i = 0; i < NKEYS; i++)
		if ((keys[i].flags & F_CONF) && i != checks_idx &&
		    s.it[i].key != NULL && apply(c, &s, i, c->conf) == -1)
			return -1;
	if (cross_checks(c, &s, map) == -1 ||
	    default_nodename(c, map) == -1 || flat_check(c, map, &s) == -1)
		return -1;
	if (s.it[checks_idx].key != NULL && apply(c, &s, checks_idx,
	    c->conf) == -1)
		return -1;
	if (c->conf->n_checks == 0)
		return cfg_error(c, map->start_mark,
		    "missing required key \"checker-type\" (or \"checks\")");
	return check_names_unique(c);
}
