/*
 * resolve_config (parent/resolve.c): the CURLOPT_RESOLVE entry of http
 * checks (host, default port by scheme, bracketed IPv6), literal
 * addresses passing through, tcp and postgres hosts.  Only "localhost" is
 * looked up (from /etc/hosts: no packet leaves the machine).
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "proto.h"
#include "parent/resolve.h"

#include "regress/unit/check.h"

static struct yaim_config	conf;

static int
resolve_url(const char *url, char *err, size_t errlen)
{
	memset(&conf, 0, sizeof(conf));
	conf.n_checks = 1;
	conf.checks[0].kind = CHECK_HTTP;
	strcpy(conf.checks[0].name, "web");
	snprintf(conf.checks[0].http_url, sizeof(conf.checks[0].http_url),
	    "%s", url);
	return resolve_config(&conf, err, errlen);
}

/* "localhost:PORT:" followed by loopback addresses only. */
static void
want_localhost(const char *url, const char *port)
{
	char	 err[256], prefix[64], *a, *save, list[CFG_STR_MAX * 2];

	err[0] = '\0';
	CHECK(resolve_url(url, err, sizeof(err)) == 0, "%s: %s", url, err);
	snprintf(prefix, sizeof(prefix), "localhost:%s:", port);
	CHECK(strncmp(conf.checks[0].http_resolve, prefix, strlen(prefix)) ==
	    0, "%s: resolve \"%s\", want prefix \"%s\"", url,
	    conf.checks[0].http_resolve, prefix);
	snprintf(list, sizeof(list), "%s",
	    conf.checks[0].http_resolve + strlen(prefix));
	CHECK(list[0] != '\0', "%s: no address", url);
	for (a = strtok_r(list, ",", &save); a != NULL;
	    a = strtok_r(NULL, ",", &save))
		CHECK(strncmp(a, "127.", 4) == 0 || strcmp(a, "[::1]") == 0,
		    "%s: address \"%s\"", url, a);
}

static void
http_cases(void)
{
	char	 err[256];

	want_localhost("http://localhost/health", "80");
	want_localhost("https://localhost/health", "443");
	want_localhost("http://localhost:8080", "8080");
	want_localhost("https://user:secret@localhost:8443/x?y=1#z", "8443");
	want_localhost("HTTP://LOCALHOST:81/", "81");

	CHECK(resolve_url("http://127.0.0.1:8080/", err, sizeof(err)) == 0 &&
	    conf.checks[0].http_resolve[0] == '\0',
	    "IPv4 literal got \"%s\"", conf.checks[0].http_resolve);
	CHECK(resolve_url("http://[::1]:8080/", err, sizeof(err)) == 0 &&
	    conf.checks[0].http_resolve[0] == '\0',
	    "IPv6 literal got \"%s\"", conf.checks[0].http_resolve);
	CHECK(resolve_url("http://[::1/", err, sizeof(err)) == -1 &&
	    strstr(err, "check web: http-url \"http://[::1/\"") == err,
	    "bad URL: \"%s\"", err);
}

/* Every address of c is a loopback one; there is at least one. */
static void
want_loopback(const struct check_conf *c, const char *what)
{
	char		 a[YAIM_ADDRSTRLEN];
	uint32_t	 i;

	CHECK(c->n_addr >= 1 && c->n_addr <= CFG_MAX_RESOLVED,
	    "%s: %u addresses", what, c->n_addr);
	for (i = 0; i < c->n_addr && i < CFG_MAX_RESOLVED; i++) {
		yaim_addr_ntop(&c->addr[i], a, sizeof(a));
		CHECK(strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0,
		    "%s: address %u \"%s\"", what, i, a);
	}
}

/* Exactly one address, want. */
static void
want_addr(const struct check_conf *c, const char *want, const char *what)
{
	char	 a[YAIM_ADDRSTRLEN] = "";

	if (c->n_addr >= 1)
		yaim_addr_ntop(&c->addr[0], a, sizeof(a));
	CHECK(c->n_addr == 1 && strcmp(a, want) == 0,
	    "%s: %u addresses, first \"%s\"", what, c->n_addr, a);
}

static void
host_cases(void)
{
	char	 err[256];

	memset(&conf, 0, sizeof(conf));
	conf.n_checks = 4;
	conf.checks[0].kind = CHECK_TCP;
	strcpy(conf.checks[0].tcp_host, "localhost");
	conf.checks[1].kind = CHECK_TCP;
	strcpy(conf.checks[1].tcp_host, "::1");
	conf.checks[2].kind = CHECK_POSTGRES;
	strcpy(conf.checks[2].pg_host, "192.0.2.7");
	conf.checks[3].kind = CHECK_POSTGRES;
	strcpy(conf.checks[3].pg_host, "localhost");
	CHECK(resolve_config(&conf, err, sizeof(err)) == 0, "%s", err);
	want_loopback(&conf.checks[0], "tcp localhost");
	want_addr(&conf.checks[1], "::1", "tcp ::1");
	want_addr(&conf.checks[2], "192.0.2.7", "pg literal");
	want_loopback(&conf.checks[3], "pg localhost");
}

/*
 * Errors of a loaded config point at the value in the file.  Only URLs
 * libcurl cannot parse fail here: no name is looked up.
 */
static void
position_cases(void)
{
	char	 err[512];

	memset(&conf, 0, sizeof(conf));
	strcpy(conf.file, "y.yml");
	conf.n_endpoints = 2;
	strcpy(conf.endpoints[0], "http://127.0.0.1:2379");
	conf.endpoint_pos[0] = (struct cfg_pos){ 3, 5 };
	strcpy(conf.endpoints[1], "http://[::1/");
	conf.endpoint_pos[1] = (struct cfg_pos){ 4, 5 };
	err[0] = '\0';
	CHECK(resolve_config(&conf, err, sizeof(err)) == -1 &&
	    strcmp(err, "y.yml:4:5: dcs-endpoints \"http://[::1/\": "
	    "cannot parse the URL") == 0, "endpoint: \"%s\"", err);

	conf.n_endpoints = 1;
	conf.n_checks = 2;
	conf.checks[0].kind = CHECK_TCP;
	strcpy(conf.checks[0].tcp_host, "::1");
	conf.checks[0].host_pos = (struct cfg_pos){ 9, 11 };
	conf.checks[1].kind = CHECK_HTTP;
	strcpy(conf.checks[1].name, "web");
	strcpy(conf.checks[1].http_url, "http://[::1/");
	conf.checks[1].host_pos = (struct cfg_pos){ 12, 15 };
	err[0] = '\0';
	CHECK(resolve_config(&conf, err, sizeof(err)) == -1 &&
	    strcmp(err, "y.yml:12:15: check web: http-url \"http://[::1/\": "
	    "cannot parse the URL") == 0, "http-url: \"%s\"", err);

	/* a position not known: the file alone */
	conf.checks[1].host_pos = (struct cfg_pos){ 0, 0 };
	CHECK(resolve_config(&conf, err, sizeof(err)) == -1 &&
	    strncmp(err, "y.yml: check web: ", 18) == 0, "no position: \"%s\"",
	    err);
}

/* A round for check 0 with the addresses in texts (NULL-terminated). */
static void
round_set(struct resolve_round *r, uint32_t status, const char **texts)
{
	struct resolve_one	*o = &r->check[0];

	memset(r, 0, sizeof(*r));
	o->status = status;
	for (; texts != NULL && *texts != NULL; texts++)
		CHECK(yaim_addr_parse(*texts, &o->addr[o->n_addr++], 0) == 0,
		    "parse %s", *texts);
	if (status == RES_FAILED)
		snprintf(o->why, sizeof(o->why), "Name or service not known");
}

/* Rounds from the helper: applied, kept on failure, checked for shape. */
static void
round_cases(void)
{
	static const char	*two[] = { "192.0.2.1", "2001:db8::1", NULL };
	static const char	*one[] = { "192.0.2.2", NULL };
	struct resolve_round	 r;
	struct imsg_resolved	 m;
	char			 err[256], a[YAIM_ADDRSTRLEN];

	memset(&conf, 0, sizeof(conf));
	conf.n_checks = 1;
	conf.checks[0].kind = CHECK_TCP;
	strcpy(conf.checks[0].name, "db");
	strcpy(conf.checks[0].tcp_host, "db.example");
	conf.checks[0].n_addr = 1;
	yaim_addr_parse("192.0.2.9", &conf.checks[0].addr[0], 0);

	round_set(&r, RES_OK, two);
	CHECK(resolve_round_valid(&conf, &r, err, sizeof(err)) == 0, "%s",
	    err);
	CHECK(resolve_round_apply(&conf, &r) == 1, "new addresses: changed");
	CHECK(conf.checks[0].n_addr == 2, "n_addr %u", conf.checks[0].n_addr);
	yaim_addr_ntop(&conf.checks[0].addr[1], a, sizeof(a));
	CHECK(strcmp(a, "2001:db8::1") == 0, "second address %s", a);
	CHECK(resolve_round_apply(&conf, &r) == 0, "same addresses: no change");
	round_set(&r, RES_FAILED, NULL);
	CHECK(resolve_round_apply(&conf, &r) == 0 &&
	    conf.checks[0].n_addr == 2, "a failure keeps the addresses");
	round_set(&r, RES_OK, one);
	CHECK(resolve_round_apply(&conf, &r) == 1 &&
	    conf.checks[0].n_addr == 1, "fewer addresses: changed");

	/* malformed rounds */
	round_set(&r, RES_OK, one);
	r.check[0].n_addr = CFG_MAX_RESOLVED + 1;
	CHECK(resolve_round_valid(&conf, &r, err, sizeof(err)) == -1,
	    "too many addresses accepted");
	round_set(&r, RES_OK, one);
	r.check[0].addr[0].prefixlen = 24;
	CHECK(resolve_round_valid(&conf, &r, err, sizeof(err)) == -1,
	    "prefix length 24 accepted");
	round_set(&r, RES_OK, NULL);
	CHECK(resolve_round_valid(&conf, &r, err, sizeof(err)) == -1,
	    "ok without addresses accepted");
	round_set(&r, RES_FAILED, NULL);
	memset(r.check[0].why, 'x', sizeof(r.check[0].why));
	CHECK(resolve_round_valid(&conf, &r, err, sizeof(err)) == -1,
	    "unterminated why accepted");
	r.etcd[3].status = 7;
	CHECK(resolve_round_valid(&conf, &r, err, sizeof(err)) == -1,
	    "status 7 accepted");

	/* IMSG_RESOLVED: what the parent sends fits; changes of shape not */
	resolve_to_imsg(&conf, &m);
	CHECK(imsg_resolved_check(&m, &conf, err, sizeof(err)) == 0, "%s",
	    err);
	m.check[0].n_addr = 0;
	CHECK(imsg_resolved_check(&m, &conf, err, sizeof(err)) == -1,
	    "tcp check without address accepted");
	resolve_to_imsg(&conf, &m);
	m.check[0].addr[0].af = 99;
	CHECK(imsg_resolved_check(&m, &conf, err, sizeof(err)) == -1,
	    "address family 99 accepted");
	resolve_to_imsg(&conf, &m);
	m.n_checks = 2;
	CHECK(imsg_resolved_check(&m, &conf, err, sizeof(err)) == -1,
	    "2 checks accepted for 1");
}

/* http and etcd: the CURLOPT_RESOLVE entry follows, bounded. */
static void
round_url_cases(void)
{
	static const char	*eight[] = { "2001:db8::1:1", "2001:db8::1:2",
		"2001:db8:ffff:ffff:ffff:ffff:ffff:fff3",
		"2001:db8:ffff:ffff:ffff:ffff:ffff:fff4",
		"2001:db8:ffff:ffff:ffff:ffff:ffff:fff5",
		"2001:db8:ffff:ffff:ffff:ffff:ffff:fff6",
		"2001:db8:ffff:ffff:ffff:ffff:ffff:fff7",
		"2001:db8:ffff:ffff:ffff:ffff:ffff:fff8", NULL };
	static const char	*two[] = { "192.0.2.1", "2001:db8::1", NULL };
	struct resolve_round	 r;
	struct imsg_resolved	 m;
	char			 err[256], host[250], want[CFG_RESOLVE_MAX];
	size_t			 n;

	memset(&conf, 0, sizeof(conf));
	conf.n_checks = 1;
	conf.checks[0].kind = CHECK_HTTP;
	strcpy(conf.checks[0].name, "web");
	strcpy(conf.checks[0].http_url, "http://Web.Example:8080/health");
	strcpy(conf.checks[0].http_resolve, "web.example:8080:192.0.2.9");
	conf.n_endpoints = conf.n_etcd_resolve = 2;
	strcpy(conf.endpoints[0], "http://127.0.0.1:2379");
	strcpy(conf.endpoints[1], "https://etcd.example:2379");
	strcpy(conf.etcd_resolve[1], "etcd.example:2379:192.0.2.8");

	round_set(&r, RES_OK, two);
	r.etcd[1] = r.check[0];
	CHECK(resolve_round_apply(&conf, &r) == 1, "http: changed");
	CHECK(strcmp(conf.checks[0].http_resolve,
	    "web.example:8080:192.0.2.1,[2001:db8::1]") == 0,
	    "http entry \"%s\"", conf.checks[0].http_resolve);
	CHECK(strcmp(conf.etcd_resolve[1],
	    "etcd.example:2379:192.0.2.1,[2001:db8::1]") == 0,
	    "etcd entry \"%s\"", conf.etcd_resolve[1]);
	CHECK(conf.etcd_resolve[0][0] == '\0', "literal endpoint got \"%s\"",
	    conf.etcd_resolve[0]);
	resolve_to_imsg(&conf, &m);
	CHECK(imsg_resolved_check(&m, &conf, err, sizeof(err)) == 0, "%s",
	    err);
	snprintf(m.check[0].http_resolve, sizeof(m.check[0].http_resolve),
	    "evil.example:8080:192.0.2.1");
	CHECK(imsg_resolved_check(&m, &conf, err, sizeof(err)) == -1,
	    "another host accepted");
	resolve_to_imsg(&conf, &m);
	snprintf(m.etcd_resolve[0], sizeof(m.etcd_resolve[0]),
	    "127.0.0.1:2379:192.0.2.1");
	CHECK(imsg_resolved_check(&m, &conf, err, sizeof(err)) == -1,
	    "an entry for a literal endpoint accepted");

	/* the longest: a 249-character name and 8 long IPv6 addresses */
	memset(host, 'a', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(conf.checks[0].http_url, sizeof(conf.checks[0].http_url),
	    "https://%s:65535/", host);
	snprintf(conf.checks[0].http_resolve,
	    sizeof(conf.checks[0].http_resolve), "%s:65535:192.0.2.1", host);
	round_set(&r, RES_OK, eight);
	CHECK(resolve_round_apply(&conf, &r) == 1, "long: changed");
	n = (size_t)snprintf(want, sizeof(want), "%s:65535:", host);
	for (const char **t = eight; *t != NULL; t++)
		n += (size_t)snprintf(want + n, sizeof(want) - n, "%s[%s]",
		    t == eight ? "" : ",", *t);
	CHECK(n < sizeof(want) && strcmp(conf.checks[0].http_resolve, want)
	    == 0, "long entry \"%s\"", conf.checks[0].http_resolve);
}

int
main(void)
{
	struct addrinfo	 hints, *res;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo("localhost", NULL, &hints, &res) != 0) {
		printf("SKIP: localhost does not resolve here\n");
		return 77;
	}
	freeaddrinfo(res);
	http_cases();
	host_cases();
	position_cases();
	log_init(1, 0);
	round_cases();
	round_url_cases();
	if (check_failures) {
		printf("%d failures\n", check_failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
