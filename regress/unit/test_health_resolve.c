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
	CHECK(strncmp(conf.checks[0].tcp_addr, "127.", 4) == 0 ||
	    strcmp(conf.checks[0].tcp_addr, "::1") == 0,
	    "tcp localhost -> \"%s\"", conf.checks[0].tcp_addr);
	CHECK(strcmp(conf.checks[1].tcp_addr, "::1") == 0,
	    "tcp ::1 -> \"%s\"", conf.checks[1].tcp_addr);
	CHECK(strcmp(conf.checks[2].pg_hostaddr, "192.0.2.7") == 0,
	    "pg literal -> \"%s\"", conf.checks[2].pg_hostaddr);
	CHECK(strncmp(conf.checks[3].pg_hostaddr, "127.", 4) == 0 ||
	    strcmp(conf.checks[3].pg_hostaddr, "::1") == 0,
	    "pg localhost -> \"%s\"", conf.checks[3].pg_hostaddr);
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
	if (check_failures) {
		printf("%d failures\n", check_failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
