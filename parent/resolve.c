/*
 * Resolve the host names of the health checks and of the etcd endpoints
 * with getaddrinfo, so that the chrooted children never need a resolver.
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

#include "parent/resolve.h"

#define RESOLVE_MAX_ADDRS	4

static int
is_literal(const char *host)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;

	return inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1;
}

static void
addr_text(const struct addrinfo *ai, char *buf, size_t len)
{
	const void	*src;

	if (ai->ai_family == AF_INET6)
		src = &((const struct sockaddr_in6 *)(const void *)
		    ai->ai_addr)->sin6_addr;
	else
		src = &((const struct sockaddr_in *)(const void *)
		    ai->ai_addr)->sin_addr;
	if (inet_ntop(ai->ai_family, src, buf, (socklen_t)len) == NULL)
		buf[0] = '\0';
}

static int
lookup(const char *host, struct addrinfo **res, char *why, size_t whylen)
{
	struct addrinfo	 hints;
	int		 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, NULL, &hints, res)) != 0) {
		snprintf(why, whylen, "%s", gai_strerror(rc));
		return -1;
	}
	return 0;
}

/*
 * One address for tcp and postgres checks: the first one.  Errors start
 * with at, where the value stands in the file.
 */
static int
resolve_one(const char *at, const char *what, const struct check_conf *c,
    const char *host, char *out, size_t outlen, char *err, size_t errlen)
{
	struct addrinfo	*res;
	char		 why[128];

	if (is_literal(host)) {
		snprintf(out, outlen, "%s", host);
		return 0;
	}
	if (lookup(host, &res, why, sizeof(why)) == -1) {
		snprintf(err, errlen,
		    "%scheck %s: cannot resolve %s \"%s\": %s", at, c->name,
		    what, host, why);
		return -1;
	}
	addr_text(res, out, outlen);
	freeaddrinfo(res);
	return 0;
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
 * A CURLOPT_RESOLVE entry "host:port:addr[,addr...]" for url into out, or
 * "" when the host is a literal address.  Errors start with at (where
 * the URL stands in the file), then what names the URL.
 */
static int
resolve_url(const char *at, const char *what, const char *url, char *out,
    size_t outlen, char *err, size_t errlen)
{
	struct addrinfo	*res, *ai;
	char		 host[CFG_STR_MAX], why[128], a[YAIM_ADDRSTRLEN];
	char		 list[CFG_STR_MAX * 2];
	size_t		 used;
	long		 port;
	int		 n = 0;

	out[0] = '\0';
	if (url_host_port(url, host, sizeof(host), &port, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "%s%s \"%s\": %s", at, what, url, why);
		return -1;
	}
	if (is_literal(host))
		return 0;	/* libcurl does not resolve literals */
	if (lookup(host, &res, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s%s: cannot resolve host \"%s\": %s",
		    at, what, host, why);
		return -1;
	}
	used = (size_t)snprintf(list, sizeof(list), "%s:%ld:", host, port);
	for (ai = res; ai != NULL && n < RESOLVE_MAX_ADDRS &&
	    used < sizeof(list); ai = ai->ai_next) {
		addr_text(ai, a, sizeof(a));
		if (a[0] == '\0')
			continue;
		used += (size_t)snprintf(list + used, sizeof(list) - used,
		    ai->ai_family == AF_INET6 ? "%s[%s]" : "%s%s",
		    n ? "," : "", a);
		n++;
	}
	freeaddrinfo(res);
	if (n == 0 || used >= sizeof(list) || used >= outlen) {
		snprintf(err, errlen, "%s%s: host \"%s\": no usable address",
		    at, what, host);
		return -1;
	}
	memcpy(out, list, used + 1);
	return 0;
}

static int
resolve_http(const char *at, struct check_conf *c, char *err, size_t errlen)
{
	char	 what[CFG_NAME_MAX + 32];

	snprintf(what, sizeof(what), "check %s: http-url", c->name);
	return resolve_url(at, what, c->http_url, c->http_resolve,
	    sizeof(c->http_resolve), err, errlen);
}

/* etcd endpoints given by name are pinned for the dcs child's libcurl. */
static int
resolve_endpoints(struct yaim_config *conf, char *err, size_t errlen)
{
	char		 entry[CFG_STR_MAX * 2], at[CFG_WHERE_MAX];
	uint32_t	 i;

	conf->n_etcd_resolve = 0;
	for (i = 0; i < conf->n_endpoints && i < CFG_MAX_ENDPOINTS; i++) {
		config_where(conf, conf->endpoint_pos[i], at, sizeof(at));
		if (resolve_url(at, "dcs-endpoints", conf->endpoints[i], entry,
		    sizeof(conf->etcd_resolve[0]), err, errlen) == -1)
			return -1;
		if (entry[0] == '\0')
			continue;
		memcpy(conf->etcd_resolve[conf->n_etcd_resolve++], entry,
		    strlen(entry) + 1);
	}
	return 0;
}

int
resolve_config(struct yaim_config *conf, char *err, size_t errlen)
{
	struct check_conf	*c;
	char			 at[CFG_WHERE_MAX];
	uint32_t		 i;

	if (resolve_endpoints(conf, err, errlen) == -1)
		return -1;
	for (i = 0; i < conf->n_checks && i < CFG_MAX_CHECKS; i++) {
		c = &conf->checks[i];
		config_where(conf, c->host_pos, at, sizeof(at));
		switch (c->kind) {
		case CHECK_HTTP:
			if (resolve_http(at, c, err, errlen) == -1)
				return -1;
			break;
		case CHECK_TCP:
			if (resolve_one(at, "tcp-host", c, c->tcp_host,
			    c->tcp_addr, sizeof(c->tcp_addr), err,
			    errlen) == -1)
				return -1;
			break;
		case CHECK_POSTGRES:
			if (resolve_one(at, "postgres-host", c, c->pg_host,
			    c->pg_hostaddr, sizeof(c->pg_hostaddr), err,
			    errlen) == -1)
				return -1;
			break;
		default:
			break;
		}
	}
	return 0;
}
