/*
 * Resolve the host names of the health checks with getaddrinfo, so that
 * the checker never needs a resolver.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "resolve.h"

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

/* One address for tcp and postgres checks: the first one. */
static int
resolve_one(const char *what, const struct check_conf *c, const char *host,
    char *out, size_t outlen, char *err, size_t errlen)
{
	struct addrinfo	*res;
	char		 why[128];

	if (is_literal(host)) {
		snprintf(out, outlen, "%s", host);
		return 0;
	}
	if (lookup(host, &res, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "check %s: cannot resolve %s \"%s\": %s",
		    c->name, what, host, why);
		return -1;
	}
	addr_text(res, out, outlen);
	freeaddrinfo(res);
	return 0;
}

/* Split an http(s) URL into host (without brackets) and port. */
static int
url_host_port(const char *url, char *host, size_t hostlen, long *port,
    char *why, size_t whylen)
{
	CURLU		*u;
	char		*h = NULL, *p = NULL;
	size_t		 n;
	int		 rc = -1;

	if ((u = curl_url()) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		snprintf(why, whylen, "cannot parse the URL");
		goto out;
	}
	n = strlen(h);
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']')
		snprintf(host, hostlen, "%.*s", (int)(n - 2), h + 1);
	else
		snprintf(host, hostlen, "%s", h);
	/* host names are case-insensitive; one spelling for libcurl */
	for (n = 0; host[n] != '\0'; n++)
		host[n] = (char)tolower((unsigned char)host[n]);
	*port = strtol(p, NULL, 10);
	rc = 0;
out:
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return rc;
}

static int
resolve_http(struct check_conf *c, char *err, size_t errlen)
{
	struct addrinfo	*res, *ai;
	char		 host[CFG_STR_MAX], why[128], a[YAIM_ADDRSTRLEN];
	char		 list[sizeof(c->http_resolve)];
	size_t		 used;
	long		 port;
	int		 n = 0;

	c->http_resolve[0] = '\0';
	if (url_host_port(c->http_url, host, sizeof(host), &port, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "check %s: http-url \"%s\": %s",
		    c->name, c->http_url, why);
		return -1;
	}
	if (is_literal(host))
		return 0;	/* libcurl does not resolve literals */
	if (lookup(host, &res, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "check %s: cannot resolve http-url host "
		    "\"%s\": %s", c->name, host, why);
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
	if (n == 0 || used >= sizeof(list)) {
		snprintf(err, errlen, "check %s: http-url host \"%s\": no "
		    "usable address", c->name, host);
		return -1;
	}
	memcpy(c->http_resolve, list, sizeof(list));
	return 0;
}

int
resolve_config(struct yaim_config *conf, char *err, size_t errlen)
{
	struct check_conf	*c;
	uint32_t		 i;

	for (i = 0; i < conf->n_checks && i < CFG_MAX_CHECKS; i++) {
		c = &conf->checks[i];
		switch (c->kind) {
		case CHECK_HTTP:
			if (resolve_http(c, err, errlen) == -1)
				return -1;
			break;
		case CHECK_TCP:
			if (resolve_one("tcp-host", c, c->tcp_host, c->tcp_addr,
			    sizeof(c->tcp_addr), err, errlen) == -1)
				return -1;
			break;
		case CHECK_POSTGRES:
			if (resolve_one("postgres-host", c, c->pg_host,
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
