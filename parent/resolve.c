/*
 * Resolve the host names of the health checks and of the etcd endpoints
 * with getaddrinfo, so that the chrooted children never need a resolver.
 * Every address is kept (up to CFG_MAX_RESOLVED), in getaddrinfo's order:
 * tcp and postgres checks try them in turn, libcurl gets them all.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "parent/resolve.h"

/* What one check or endpoint names: a host, and the port for libcurl. */
struct target {
	const char	*what;		/* "http-url", "tcp-host", ... */
	char		 host[CFG_STR_MAX];
	long		 port;		/* http, etcd: for CURLOPT_RESOLVE */
	int		 url;		/* 1: the entry goes to libcurl */
};

static int
is_literal(const char *host)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;

	return inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1;
}

/*
 * Split an http(s) URL into host (without brackets) and port.  config.c
 * has already checked the form scheme://host[:port][/...] with host a
 * name or [IPv6]; this parser is our own rather than libcurl's so that
 * the parent need not map libcurl (DESIGN.md section 1).
 */
static int
url_host_port(const char *url, char *host, size_t hostlen, long *port,
    char *why, size_t whylen)
{
	const char	*auth, *aend, *h, *rest;
	char		*e;
	size_t		 n;

	*port = strncmp(url, "https://", 8) == 0 ? 443 : 80;
	if ((auth = strstr(url, "://")) == NULL)
		goto bad;
	auth += 3;
	aend = auth + strcspn(auth, "/?#");
	/* user:password@ goes before the host */
	for (h = aend; h > auth; h--)
		if (h[-1] == '@') {
			auth = h;
			break;
		}
	if (*auth == '[') {
		h = auth + 1;
		if ((rest = memchr(h, ']', (size_t)(aend - h))) == NULL)
			goto bad;
		n = (size_t)(rest - h);
		rest++;
	} else {
		h = auth;
		rest = memchr(h, ':', (size_t)(aend - h));
		if (rest == NULL)
			rest = aend;
		n = (size_t)(rest - h);
	}
	if (n == 0 || n >= hostlen || (rest < aend && *rest != ':'))
		goto bad;
	memcpy(host, h, n);
	host[n] = '\0';
	if (rest < aend && rest + 1 < aend) {
		errno = 0;
		*port = strtol(rest + 1, &e, 10);
		if (errno != 0 || e != aend || *port < 1 || *port > 65535)
			goto bad;
	}
	/* host names are case-insensitive; one spelling for libcurl */
	for (n = 0; host[n] != '\0'; n++)
		host[n] = (char)tolower((unsigned char)host[n]);
	return 0;
bad:
	snprintf(why, whylen, "cannot parse the URL");
	return -1;
}

/*
 * The host of check i (etcd: 0, endpoint i).  Returns 0, or 1 when it
 * names no host (exec checks), or -1 with why (a URL that does not parse).
 */
static int
target_of(const struct yaim_config *conf, int etcd, uint32_t i,
    struct target *t, char *why, size_t whylen)
{
	const struct check_conf	*c;

	memset(t, 0, sizeof(*t));
	if (etcd) {
		t->what = "dcs-endpoints";
		t->url = 1;
		return url_host_port(conf->endpoints[i], t->host,
		    sizeof(t->host), &t->port, why, whylen);
	}
	c = &conf->checks[i];
	switch (c->kind) {
	case CHECK_HTTP:
		t->what = "http-url";
		t->url = 1;
		return url_host_port(c->http_url, t->host, sizeof(t->host),
		    &t->port, why, whylen);
	case CHECK_TCP:
		t->what = "tcp-host";
		snprintf(t->host, sizeof(t->host), "%s", c->tcp_host);
		return 0;
	case CHECK_POSTGRES:
		t->what = "postgres-host";
		snprintf(t->host, sizeof(t->host), "%s", c->pg_host);
		return 0;
	default:
		return 1;
	}
}

static int
addr_from_ai(const struct addrinfo *ai, struct yaim_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ai->ai_family == AF_INET6 &&
	    ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
		a->af = AF_INET6;
		a->prefixlen = 128;
		memcpy(a->addr, &((const struct sockaddr_in6 *)(const void *)
		    ai->ai_addr)->sin6_addr, 16);
		return 0;
	}
	if (ai->ai_family == AF_INET &&
	    ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
		a->af = AF_INET;
		a->prefixlen = 32;
		memcpy(a->addr, &((const struct sockaddr_in *)(const void *)
		    ai->ai_addr)->sin_addr, 4);
		return 0;
	}
	return -1;
}

/* Look host up into one; a literal is its own single address. */
static void
lookup(const char *host, struct resolve_one *one)
{
	struct addrinfo	 hints, *res, *ai;
	int		 rc;

	memset(one, 0, sizeof(*one));
	if (is_literal(host)) {
		one->status = RES_NONE;
		if (yaim_addr_parse(host, &one->addr[0], 0) == 0)
			one->n_addr = 1;
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		one->status = RES_FAILED;
		snprintf(one->why, sizeof(one->why), "%s", gai_strerror(rc));
		return;
	}
	for (ai = res; ai != NULL && one->n_addr < CFG_MAX_RESOLVED;
	    ai = ai->ai_next)
		if (addr_from_ai(ai, &one->addr[one->n_addr]) == 0)
			one->n_addr++;
	freeaddrinfo(res);
	if (one->n_addr == 0) {
		one->status = RES_FAILED;
		snprintf(one->why, sizeof(one->why), "no IPv4 or IPv6 address");
		return;
	}
	one->status = RES_OK;
}

static void
round_one(const struct yaim_config *conf, int etcd, uint32_t i,
    struct resolve_one *one)
{
	struct target	 t;
	char		 why[RESOLVE_WHY_MAX];
	int		 rc;

	memset(one, 0, sizeof(*one));
	if ((rc = target_of(conf, etcd, i, &t, why, sizeof(why))) == 1)
		return;
	if (rc == -1) {
		one->status = RES_FAILED;
		snprintf(one->why, sizeof(one->why), "%s", why);
		return;
	}
	lookup(t.host, one);
}

void
resolve_round_run(const struct yaim_config *conf, struct resolve_round *r)
{
	uint32_t	 i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < conf->n_checks && i < CFG_MAX_CHECKS; i++)
		round_one(conf, 0, i, &r->check[i]);
	for (i = 0; i < conf->n_endpoints && i < CFG_MAX_ENDPOINTS; i++)
		round_one(conf, 1, i, &r->etcd[i]);
}

/*
 * The CURLOPT_RESOLVE entry "host:port:addr[,addr...]" for t and the
 * addresses of one, or "" for a literal host (libcurl does not resolve
 * those).  The addresses always fit: CFG_RESOLVE_MAX has room for
 * CFG_MAX_RESOLVED IPv6 ones after a CFG_STR_MAX host.
 */
static void
curl_entry(const struct target *t, const struct resolve_one *one,
    char *out, size_t outlen)
{
	char		 a[YAIM_ADDRSTRLEN];
	size_t		 used;
	uint32_t	 i;

	out[0] = '\0';
	if (!t->url || is_literal(t->host) || one->n_addr == 0)
		return;
	used = (size_t)snprintf(out, outlen, "%s:%ld:", t->host, t->port);
	for (i = 0; i < one->n_addr && used < outlen; i++) {
		yaim_addr_ntop(&one->addr[i], a, sizeof(a));
		used += (size_t)snprintf(out + used, outlen - used,
		    one->addr[i].af == AF_INET6 ? "%s[%s]" : "%s%s",
		    i ? "," : "", a);
	}
}

/* Where the values of check i (etcd: endpoint i) go in conf. */
static void
store(struct yaim_config *conf, int etcd, uint32_t i, const struct target *t,
    const struct resolve_one *one)
{
	struct check_conf	*c;

	if (etcd) {
		curl_entry(t, one, conf->etcd_resolve[i],
		    sizeof(conf->etcd_resolve[i]));
		return;
	}
	c = &conf->checks[i];
	if (t->url) {
		curl_entry(t, one, c->http_resolve, sizeof(c->http_resolve));
		return;
	}
	c->n_addr = one->n_addr;
	memcpy(c->addr, one->addr, sizeof(c->addr));
}

static int
load_one(struct yaim_config *conf, int etcd, uint32_t i, char *err,
    size_t errlen)
{
	struct resolve_one	 one;
	struct target		 t;
	char			 at[CFG_WHERE_MAX], why[RESOLVE_WHY_MAX];
	char			 what[CFG_NAME_MAX + 32];
	int			 rc;

	config_where(conf, etcd ? conf->endpoint_pos[i] :
	    conf->checks[i].host_pos, at, sizeof(at));
	if ((rc = target_of(conf, etcd, i, &t, why, sizeof(why))) == 1)
		return 0;
	if (etcd)
		snprintf(what, sizeof(what), "dcs-endpoints");
	else
		snprintf(what, sizeof(what), "check %s: %s",
		    conf->checks[i].name, t.what);
	if (rc == -1) {
		snprintf(err, errlen, "%s%s \"%s\": %s", at, what, etcd ?
		    conf->endpoints[i] : conf->checks[i].http_url, why);
		return -1;
	}
	lookup(t.host, &one);
	if (one.status == RES_FAILED && t.url) {
		snprintf(err, errlen, "%s%s: cannot resolve host \"%s\": %s",
		    at, what, t.host, one.why);
		return -1;
	}
	if (one.status == RES_FAILED) {
		snprintf(err, errlen, "%scheck %s: cannot resolve %s \"%s\": "
		    "%s", at, conf->checks[i].name, t.what, t.host, one.why);
		return -1;
	}
	if (!t.url && one.n_addr == 0) {
		snprintf(err, errlen, "%s%s: \"%s\": no usable address", at,
		    what, t.host);
		return -1;
	}
	store(conf, etcd, i, &t, &one);
	return 0;
}

int
resolve_config(struct yaim_config *conf, char *err, size_t errlen)
{
	uint32_t	 i;

	for (i = 0; i < conf->n_endpoints && i < CFG_MAX_ENDPOINTS; i++)
		if (load_one(conf, 1, i, err, errlen) == -1)
			return -1;
	conf->n_etcd_resolve = conf->n_endpoints < CFG_MAX_ENDPOINTS ?
	    conf->n_endpoints : CFG_MAX_ENDPOINTS;
	for (i = 0; i < conf->n_checks && i < CFG_MAX_CHECKS; i++)
		if (load_one(conf, 0, i, err, errlen) == -1)
			return -1;
	return 0;
}

static int
one_valid(const struct resolve_one *one)
{
	uint32_t	 i;

	if (one->status > RES_FAILED || one->n_addr > CFG_MAX_RESOLVED ||
	    (one->status == RES_OK && one->n_addr == 0) ||
	    memchr(one->why, '\0', sizeof(one->why)) == NULL)
		return 0;
	for (i = 0; i < one->n_addr; i++)
		if (!yaim_addr_valid(&one->addr[i]) ||
		    one->addr[i].prefixlen != (one->addr[i].af == AF_INET ?
		    32 : 128))
			return 0;
	return 1;
}

int
resolve_round_valid(const struct yaim_config *conf,
    const struct resolve_round *r, char *err, size_t errlen)
{
	uint32_t	 i;

	for (i = 0; i < CFG_MAX_CHECKS; i++)
		if (!one_valid(&r->check[i])) {
			snprintf(err, errlen, "check %u: malformed", i);
			return -1;
		}
	for (i = 0; i < CFG_MAX_ENDPOINTS; i++)
		if (!one_valid(&r->etcd[i])) {
			snprintf(err, errlen, "endpoint %u: malformed", i);
			return -1;
		}
	(void)conf;
	return 0;
}

static void
addr_list_text(const struct resolve_one *one, char *buf, size_t len)
{
	char		 a[YAIM_ADDRSTRLEN];
	size_t		 used = 0;
	uint32_t	 i;

	buf[0] = '\0';
	for (i = 0; i < one->n_addr && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    i ? ", " : "", yaim_addr_ntop(&one->addr[i], a,
		    sizeof(a)));
}

/* The last warning per name, so that a dead name is not logged each round. */
static struct timespec	 warned_check[CFG_MAX_CHECKS];
static struct timespec	 warned_etcd[CFG_MAX_ENDPOINTS];

static void
warn_unresolved(struct timespec *last, const char *what, const char *host,
    const char *why)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last->tv_sec != 0 && now.tv_sec - last->tv_sec <
	    RESOLVE_WARN_EVERY_S)
		return;
	*last = now;
	log_warnx("%s: cannot resolve \"%s\" again (%s); keeping its last "
	    "addresses", what, host, why);
}

/* Returns 1 if the addresses of this check or endpoint changed. */
static int
apply_one(struct yaim_config *conf, int etcd, uint32_t i,
    const struct resolve_one *one)
{
	struct resolve_one	 old;
	struct target		 t;
	struct timespec		*last;
	char			 what[CFG_NAME_MAX + 32], why[8], list[512];
	char			 before[CFG_RESOLVE_MAX];
	const struct check_conf	*c = &conf->checks[i];

	if (target_of(conf, etcd, i, &t, why, sizeof(why)) != 0)
		return 0;
	if (etcd)
		snprintf(what, sizeof(what), "dcs-endpoints %s",
		    conf->endpoints[i]);
	else
		snprintf(what, sizeof(what), "check %s: %s", c->name,
		    t.what);
	last = etcd ? &warned_etcd[i] : &warned_check[i];
	if (one->status == RES_FAILED) {
		warn_unresolved(last, what, t.host, one->why);
		return 0;
	}
	if (one->status != RES_OK)
		return 0;
	if (last->tv_sec != 0)
		log_info("%s: \"%s\" resolves again", what, t.host);
	memset(last, 0, sizeof(*last));
	if (t.url) {
		snprintf(before, sizeof(before), "%s", etcd ?
		    conf->etcd_resolve[i] : c->http_resolve);
		store(conf, etcd, i, &t, one);
		if (strcmp(before, etcd ? conf->etcd_resolve[i] :
		    c->http_resolve) == 0)
			return 0;
	} else {
		memset(&old, 0, sizeof(old));
		old.n_addr = c->n_addr;
		memcpy(old.addr, c->addr, sizeof(old.addr));
		if (old.n_addr == one->n_addr && memcmp(old.addr, one->addr,
		    sizeof(old.addr[0]) * one->n_addr) == 0)
			return 0;
		store(conf, etcd, i, &t, one);
	}
	addr_list_text(one, list, sizeof(list));
	log_info("%s: \"%s\" now resolves to %s", what, t.host, list);
	return 1;
}

int
resolve_round_apply(struct yaim_config *conf, const struct resolve_round *r)
{
	uint32_t	 i;
	int		 changed = 0;

	for (i = 0; i < conf->n_checks && i < CFG_MAX_CHECKS; i++)
		changed |= apply_one(conf, 0, i, &r->check[i]);
	for (i = 0; i < conf->n_endpoints && i < CFG_MAX_ENDPOINTS; i++)
		changed |= apply_one(conf, 1, i, &r->etcd[i]);
	return changed;
}

void
resolve_to_imsg(const struct yaim_config *conf, struct imsg_resolved *m)
{
	uint32_t	 i;

	memset(m, 0, sizeof(*m));
	m->n_checks = conf->n_checks;
	m->n_etcd_resolve = conf->n_etcd_resolve;
	for (i = 0; i < conf->n_checks && i < CFG_MAX_CHECKS; i++) {
		m->check[i].n_addr = conf->checks[i].n_addr;
		memcpy(m->check[i].addr, conf->checks[i].addr,
		    sizeof(m->check[i].addr));
		memcpy(m->check[i].http_resolve,
		    conf->checks[i].http_resolve,
		    sizeof(m->check[i].http_resolve));
	}
	for (i = 0; i < conf->n_etcd_resolve && i < CFG_MAX_ENDPOINTS; i++)
		memcpy(m->etcd_resolve[i], conf->etcd_resolve[i],
		    sizeof(m->etcd_resolve[i]));
}
