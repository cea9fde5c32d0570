/*
 * Unit tests of the yaim.yml loader: config_load_buffer() on strings,
 * with the exact error text of every error path, the defaults, the
 * prefix rule, '-'/'_' folding, printing and scrubbing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#include "regress/unit/check.h"

static struct yaim_config conf;

/* Lines 1..4: the required keys; 5..7: a tcp check.  Extra starts at 8. */
#define BASE	"dcs-clustername: c\n" \
		"dcs-endpoints: http://127.0.0.1:2379\n" \
		"interface: lo\n" \
		"nodename: n1\n"
#define TCP	"checker-type: tcp\n" \
		"tcp-host: 127.0.0.1\n" \
		"tcp-port: 5432\n"

static int
load(const char *yaml, char *err, size_t errlen)
{
	return config_load_buffer("t.yml", (const uint8_t *)yaml,
	    strlen(yaml), &conf, err, errlen);
}

static void
expect_err_at(int line, const char *yaml, const char *want)
{
	char	 err[1024];

	check_count++;
	if (load(yaml, err, sizeof(err)) != -1) {
		printf("FAIL line %d: loaded, wanted \"%s\"\n", line, want);
		check_failures++;
	} else if (strcmp(err, want) != 0) {
		printf("FAIL line %d:\n  got  \"%s\"\n  want \"%s\"\n", line,
		    err, want);
		check_failures++;
	}
}

static int
expect_ok_at(int line, const char *yaml)
{
	char	 err[1024];

	check_count++;
	if (load(yaml, err, sizeof(err)) == -1) {
		printf("FAIL line %d: %s\n", line, err);
		check_failures++;
		return -1;
	}
	return 0;
}

#define expect_err(y, w)	expect_err_at(__LINE__, y, w)
#define expect_ok(y)		expect_ok_at(__LINE__, y)

static void
test_defaults(void)
{
	char	 host[256];

	if (expect_ok(BASE TCP) == -1)
		return;
	CHECK_STR(conf.file, "t.yml");
	CHECK_STR(conf.dcs_type, "etcd");
	CHECK_STR(conf.dcs_namespace, "service");
	CHECK_STR(conf.prefix, "/service/c/");
	CHECK(conf.n_endpoints == 1);
	CHECK_STR(conf.endpoints[0], "http://127.0.0.1:2379");
	CHECK(conf.interval_ms == 1000);
	CHECK(conf.ttl_ms == 5000);
	CHECK(conf.retry_num == 3);
	CHECK(conf.retry_after_ms == 250);
	CHECK_STR(conf.etcd_user, "");
	CHECK_STR(conf.etcd_password, "");
	CHECK(conf.etcd_timeout_ms == 2000);
	CHECK(conf.fence_margin_ms == 500);
	CHECK_STR(conf.nodename, "n1");
	CHECK_STR(conf.user, "_yaimd");
	CHECK_STR(conf.chroot, "/var/empty/yaimd");
	CHECK_STR(conf.interface, "lo");
	CHECK_STR(conf.label, "");
	CHECK(conf.netmask == 32);
	CHECK(conf.netmask6 == 128);
	CHECK(conf.n_networks == 0);
	CHECK(conf.garp_count == 3);
	CHECK(conf.garp_interval_ms == 1000);
	CHECK(conf.garp_refresh_ms == 0);
	CHECK(conf.n_checks == 1);
	CHECK_STR(conf.checks[0].name, "tcp");
	CHECK(conf.checks[0].kind == CHECK_TCP);
	CHECK(conf.checks[0].interval_ms == 1000);
	CHECK(conf.checks[0].timeout_ms == 500);
	CHECK(conf.checks[0].rise == 2);
	CHECK(conf.checks[0].fall == 1);
	CHECK_STR(conf.checks[0].tcp_host, "127.0.0.1");
	CHECK(conf.checks[0].tcp_port == 5432);

	/* nodename defaults to the host name */
	if (gethostname(host, sizeof(host)) == 0 && strlen(host) < 64 &&
	    strpbrk(host, "/ ") == NULL &&
	    expect_ok("dcs-clustername: c\n"
	    "dcs-endpoints: http://127.0.0.1:2379\n"
	    "interface: lo\n" TCP) == 0)
		CHECK_STR(conf.nodename, host);

	/* check defaults of each kind */
	if (expect_ok(BASE "interval: 3000\nchecker-type: http\n"
	    "http-url: http://h/\n") == 0) {
		CHECK(conf.checks[0].interval_ms == 3000);
		CHECK(conf.checks[0].timeout_ms == 1500);
		CHECK(conf.checks[0].http_expected_code == 200);
		CHECK(conf.checks[0].http_tls_verify == 1);
		CHECK(conf.checks[0].http_max_body == 65536);
		CHECK_STR(conf.checks[0].http_expected_contains, "");
	}
	if (expect_ok(BASE "checker-type: postgres\npostgres-host: db\n"
	    "postgres-user: u\n") == 0) {
		CHECK(conf.checks[0].pg_port == 5432);
		CHECK_STR(conf.checks[0].pg_dbname, "u");
		CHECK_STR(conf.checks[0].pg_query, "SELECT 1");
		CHECK_STR(conf.checks[0].pg_expected, "1");
		CHECK_STR(conf.checks[0].pg_password, "");
	}
	if (expect_ok(BASE "checker-type: exec\n"
	    "exec-command: /bin/check  -q  x\n") == 0) {
		CHECK(conf.checks[0].exec_argc == 3);
		CHECK_STR(conf.checks[0].exec_argv[0], "/bin/check");
		CHECK_STR(conf.checks[0].exec_argv[1], "-q");
		CHECK_STR(conf.checks[0].exec_argv[2], "x");
		CHECK(conf.checks[0].exec_max_output == 4096);
	}
}

static void
test_prefix(void)
{
	static const struct {
		const char	*ns, *cl, *prefix;
	} cases[] = {
		{ "service", "yaim", "/service/yaim/" },
		{ "/service/", "yaim", "/service/yaim/" },
		{ "//service//", "/yaim/", "/service/yaim/" },
		{ "a/b", "c", "/a/b/c/" },
		{ "\"/s\"", "'y/'", "/s/y/" },
	};
	char	 yaml[512];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(yaml, sizeof(yaml), "dcs-namespace: %s\n"
		    "dcs-clustername: %s\n"
		    "dcs-endpoints: http://127.0.0.1:2379\n"
		    "interface: lo\nnodename: n\n" TCP, cases[i].ns,
		    cases[i].cl);
		if (expect_ok(yaml) == 0)
			CHECK_STR(conf.prefix, cases[i].prefix);
	}
	expect_err("dcs-namespace: /\n" BASE TCP,
	    "t.yml:1:16: dcs-namespace: empty after trimming slashes");
	expect_err(BASE TCP "dcs_clustername: x\n",
	    "t.yml:8:1: duplicate key \"dcs_clustername\" (first at line 1)");
	expect_err("dcs-clustername: '//'\n"
	    "dcs-endpoints: http://127.0.0.1:2379\ninterface: lo\n" TCP,
	    "t.yml:1:18: dcs-clustername: empty after trimming slashes");
	expect_err("dcs-clustername: ''\n"
	    "dcs-endpoints: http://127.0.0.1:2379\ninterface: lo\n" TCP,
	    "t.yml:1:18: dcs-clustername: value is empty");
}

/* Every key may be spelled with '-' or '_', in any mix. */
static void
test_folding(void)
{
	if (expect_ok("dcs_clustername: c\ndcs_endpoints: http://a:1\n"
	    "interface: lo\nnodename: n\nretry-num: 7\nretry-after: 100\n"
	    "etcd-user: u\netcd-password: p\nchecker_type: tcp\n"
	    "tcp_host: h\ntcp_port: 1\nfence_margin: 300\n"
	    "garp_refresh: 1000\nallowed_networks: [10.0.0.0/8]\n") == 0) {
		CHECK(conf.retry_num == 7);
		CHECK(conf.retry_after_ms == 100);
		CHECK_STR(conf.etcd_user, "u");
		CHECK_STR(conf.etcd_password, "p");
		CHECK(conf.fence_margin_ms == 300);
		CHECK(conf.garp_refresh_ms == 1000);
		CHECK(conf.n_networks == 1);
	}
	if (expect_ok(BASE TCP "retry_num: 0\nretry_after: 0\n") == 0) {
		CHECK(conf.retry_num == 0);
		CHECK(conf.retry_after_ms == 0);
	}
	expect_err(BASE TCP "retry_num: 1\nretry-num: 2\n",
	    "t.yml:9:1: duplicate key \"retry-num\" (first at line 8)");
	expect_err(BASE TCP "Ttl: 1\n", "t.yml:8:1: unknown key \"Ttl\"");
	expect_err(BASE TCP "retry__num: 1\n",
	    "t.yml:8:1: unknown key \"retry__num\"");
}

static void
test_syntax(void)
{
	expect_err("", "t.yml:1:1: the file is empty");
	expect_err("# only a comment\n", "t.yml:1:1: the file is empty");
	expect_err("- a\n- b\n",
	    "t.yml:1:1: the top level must be a mapping, not a sequence");
	expect_err("just text\n",
	    "t.yml:1:1: the top level must be a mapping, not a scalar");
	expect_err("a: b: c\n", "t.yml:1:5: mapping values are not allowed "
	    "in this context");
	expect_err("a: [1, 2\n", "t.yml:2:1: did not find expected ',' or "
	    "']' while parsing a flow sequence");
	expect_err("a: 'x\n", "t.yml:2:1: found unexpected end of stream "
	    "while scanning a quoted scalar");
	expect_err("a: *nope\n", "t.yml:1:4: found undefined alias");
	expect_err("a: \"\\q\"\n", "t.yml:1:5: found unknown escape character "
	    "while parsing a quoted scalar");
	expect_err("a: \xff\n", "t.yml:1:4: invalid leading UTF-8 octet");
	expect_err("a:\tb\x01\n", "t.yml:1:5: control characters are not "
	    "allowed");
	expect_err(BASE TCP "---\nb: 1\n",
	    "t.yml:9:1: only one YAML document is allowed");
	expect_err(BASE TCP "...\n]\n", "t.yml:9:1: did not find expected "
	    "<document start>");
	expect_err("a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
	    "t.yml:1:19: nested deeper than 16 levels");
	expect_err("a: {b: {c: {d: {e: {f: {g: {h: {i: {j: {k: {l: {m: {n: "
	    "{o: {p: {q: 1}}}}}}}}}}}}}}}}\n",
	    "t.yml:1:64: nested deeper than 16 levels");
	expect_err("? [a]\n: 1\n",
	    "t.yml:1:3: a key must be a scalar, not a sequence");
	expect_err("\"a\\0b\": 1\n", "t.yml:1:1: key: contains a NUL byte");
	expect_err("dcs-clustername: c\ndcs-endpoints: http://a:1\n"
	    "interface: \"l\\to\"\n" TCP,
	    "t.yml:3:12: interface: contains a control character");
	expect_err(BASE "checker-type: exec\nexec-command: \"/bin/a\\tb\"\n",
	    "t.yml:6:15: exec-command: contains a control character");
	expect_err(BASE TCP "label: \"a\\x00\"\n",
	    "t.yml:8:8: label: contains a NUL byte");
}

static void
test_required(void)
{
	expect_err("dcs-endpoints: http://a:1\ninterface: lo\n" TCP,
	    "t.yml:1:1: missing required key \"dcs-clustername\"");
	expect_err("dcs-clustername: c\ninterface: lo\n" TCP,
	    "t.yml:1:1: missing required key \"dcs-endpoints\"");
	expect_err("# comment\n\ndcs-clustername: c\n"
	    "dcs-endpoints: http://a:1\n" TCP,
	    "t.yml:3:1: missing required key \"interface\"");
	expect_err(BASE, "t.yml:1:1: missing required key \"checker-type\" "
	    "(or \"checks\")");
	expect_err(BASE "checks: []\n", "t.yml:1:1: missing required key "
	    "\"checker-type\" (or \"checks\")");
	expect_err(BASE "checker-type: http\n",
	    "t.yml:1:1: missing required key \"http-url\"");
	expect_err(BASE "checker-type: tcp\ntcp-port: 1\n",
	    "t.yml:1:1: missing required key \"tcp-host\"");
	expect_err(BASE "checker-type: tcp\ntcp-host: h\n",
	    "t.yml:1:1: missing required key \"tcp-port\"");
	expect_err(BASE "checker-type: postgres\npostgres-user: u\n",
	    "t.yml:1:1: missing required key \"postgres-host\"");
	expect_err(BASE "checker-type: postgres\npostgres-host: h\n",
	    "t.yml:1:1: missing required key \"postgres-user\"");
	expect_err(BASE "checker-type: exec\n",
	    "t.yml:1:1: missing required key \"exec-command\"");
	expect_err(BASE "checks:\n  - http-url: http://a/\n",
	    "t.yml:6:5: missing required key \"type\"");
	expect_err(BASE "checks:\n  - type: http\n    name: x\n",
	    "t.yml:6:5: missing required key \"http-url\"");
}

static void
test_types(void)
{
	expect_err(BASE TCP "ttl: [1]\n",
	    "t.yml:8:6: ttl: expected a scalar, got a sequence");
	expect_err(BASE TCP "ttl: {a: 1}\n",
	    "t.yml:8:6: ttl: expected a scalar, got a mapping");
	expect_err(BASE TCP "ttl: 5s\n",
	    "t.yml:8:6: ttl: expected a number of milliseconds, got \"5s\"");
	expect_err(BASE TCP "ttl: -5\n",
	    "t.yml:8:6: ttl: expected a number of milliseconds, got \"-5\"");
	expect_err(BASE TCP "ttl: 0x10\n",
	    "t.yml:8:6: ttl: expected a number of milliseconds, got \"0x10\"");
	expect_err(BASE TCP "ttl:\n",
	    "t.yml:8:5: ttl: expected a number of milliseconds, got \"\"");
	expect_err(BASE TCP "ttl: 1.5\n", "t.yml:8:6: ttl: expected a number "
	    "of milliseconds, got \"1.5\"");
	expect_err(BASE TCP "garp-count: x\n",
	    "t.yml:8:13: garp-count: expected a number, got \"x\"");
	expect_err(BASE "checker-type: http\nhttp-url: http://a/\n"
	    "http-max-body: 1k\n", "t.yml:7:16: http-max-body: expected a "
	    "number of bytes, got \"1k\"");
	expect_err(BASE "checker-type: http\nhttp-url: http://a/\n"
	    "http-tls-verify: 1\n", "t.yml:7:18: http-tls-verify: expected "
	    "true, false, yes or no, got \"1\"");
	expect_err(BASE TCP "checks: {a: 1}\n",
	    "t.yml:8:9: checks: expected a sequence, got a mapping");
	expect_err(BASE TCP "checks: [a]\n",
	    "t.yml:8:10: checks: expected a mapping, got a scalar");
	expect_err(BASE TCP "allowed-networks: {a: 1}\n", "t.yml:8:19: "
	    "allowed-networks: expected a sequence, got a mapping");
	expect_err(BASE TCP "allowed-networks: [[10.0.0.0/8]]\n", "t.yml:8:20: "
	    "allowed-networks: expected a scalar, got a sequence");
	expect_err(BASE TCP "user: {}\n",
	    "t.yml:8:7: user: expected a scalar, got a mapping");
	expect_err(BASE TCP "user: ~\n", "t.yml:8:7: user: value is empty");
	expect_err(BASE TCP "chroot: var/empty\n",
	    "t.yml:8:9: chroot: \"var/empty\" is not an absolute path");
	expect_err(BASE TCP "etcd-ca-file: ca.pem\n",
	    "t.yml:8:15: etcd-ca-file: \"ca.pem\" is not an absolute path");
	expect_err(BASE TCP "dcs-type: consul\n",
	    "t.yml:8:11: dcs-type: \"consul\" is not supported (etcd or etcd2)");

	/* booleans */
	if (expect_ok(BASE "checker-type: http\nhttp-url: https://a/\n"
	    "http-tls-verify: no\n") == 0)
		CHECK(conf.checks[0].http_tls_verify == 0);
	if (expect_ok(BASE "checker-type: http\nhttp-url: https://a/\n"
	    "http-tls-verify: yes\n") == 0)
		CHECK(conf.checks[0].http_tls_verify == 1);
	if (expect_ok(BASE "checker-type: http\nhttp-url: https://a/\n"
	    "http-tls-verify: false\n") == 0)
		CHECK(conf.checks[0].http_tls_verify == 0);
	/* quoted numbers are numbers; empty optional strings are unset */
	if (expect_ok(BASE TCP "ttl: \"6000\"\netcd_user: ''\n"
	    "etcd_password: ''\nlabel:\n") == 0) {
		CHECK(conf.ttl_ms == 6000);
		CHECK_STR(conf.etcd_user, "");
		CHECK_STR(conf.label, "");
	}
}

static void
test_ranges(void)
{
	static const struct {
		const char	*line, *err;
	} cases[] = {
		{ "interval: 99", "t.yml:8:11: interval: 99 is out of range "
		    "(100..3600000 milliseconds)" },
		{ "interval: 3600001", "t.yml:8:11: interval: 3600001 is out "
		    "of range (100..3600000 milliseconds)" },
		{ "ttl: 500", "t.yml:8:6: ttl: 500 is out of range "
		    "(1000..3600000 milliseconds)" },
		{ "ttl: 99999999999999999999999", "t.yml:8:6: ttl: "
		    "99999999999999999999999 is out of range (1000..3600000 "
		    "milliseconds)" },
		{ "ttl: 4294967296", "t.yml:8:6: ttl: 4294967296 is out of "
		    "range (1000..3600000 milliseconds)" },
		{ "retry_num: 101", "t.yml:8:12: retry_num: 101 is out of "
		    "range (0..100)" },
		{ "retry_after: 60001", "t.yml:8:14: retry_after: 60001 is "
		    "out of range (0..60000 milliseconds)" },
		{ "etcd-timeout: 99", "t.yml:8:15: etcd-timeout: 99 is out of "
		    "range (100..60000 milliseconds)" },
		{ "fence-margin: 249", "t.yml:8:15: fence-margin: 249 is out "
		    "of range (250..60000 milliseconds)" },
		{ "netmask: 0", "t.yml:8:10: netmask: 0 is out of range "
		    "(1..32)" },
		{ "netmask: 33", "t.yml:8:10: netmask: 33 is out of range "
		    "(1..32)" },
		{ "netmask6: 129", "t.yml:8:11: netmask6: 129 is out of range "
		    "(1..128)" },
		{ "garp-count: 101", "t.yml:8:13: garp-count: 101 is out of "
		    "range (0..100)" },
		{ "garp-interval: 9", "t.yml:8:16: garp-interval: 9 is out of "
		    "range (10..60000 milliseconds)" },
		{ "garp-refresh: 999", "t.yml:8:15: garp-refresh: 999 is out "
		    "of range (0 or 1000..86400000 milliseconds)" },
		{ "garp-refresh: 86400001", "t.yml:8:15: garp-refresh: "
		    "86400001 is out of range (0 or 1000..86400000 "
		    "milliseconds)" },
		{ "tcp-timeout: 9", "t.yml:8:14: tcp-timeout: 9 is out of "
		    "range (10..1000 milliseconds)" },
		{ "tcp-timeout: 1001", "t.yml:8:14: tcp-timeout: 1001 is out "
		    "of range (10..1000 milliseconds)" },
		{ "check-interval: 99", "t.yml:8:17: check-interval: 99 is "
		    "out of range (100..3600000 milliseconds)" },
		{ "rise: 0", "t.yml:8:7: rise: 0 is out of range (1..100)" },
		{ "fall: 101", "t.yml:8:7: fall: 101 is out of range "
		    "(1..100)" },
	};
	char	 yaml[512];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(yaml, sizeof(yaml), BASE TCP "%s\n", cases[i].line);
		expect_err(yaml, cases[i].err);
	}
	expect_err(BASE "checker-type: tcp\ntcp-host: h\ntcp-port: 0\n",
	    "t.yml:7:11: tcp-port: 0 is out of range (1..65535)");
	expect_err(BASE "checker-type: tcp\ntcp-host: h\ntcp-port: 65536\n",
	    "t.yml:7:11: tcp-port: 65536 is out of range (1..65535)");
	expect_err(BASE "checker-type: http\nhttp-url: http://a/\n"
	    "http-expected-code: 600\n", "t.yml:7:21: http-expected-code: "
	    "600 is out of range (100..599)");
	expect_err(BASE "checker-type: http\nhttp-url: http://a/\n"
	    "http-max-body: 0\n", "t.yml:7:16: http-max-body: 0 is out of "
	    "range (1..1048576 bytes)");
	expect_err(BASE "checker-type: exec\nexec-command: /bin/true\n"
	    "exec-max-output: 65537\n", "t.yml:7:18: exec-max-output: 65537 "
	    "is out of range (0..65536 bytes)");
	expect_err(BASE "checker-type: postgres\npostgres-host: h\n"
	    "postgres-user: u\npostgres-port: 0\n", "t.yml:8:16: "
	    "postgres-port: 0 is out of range (1..65535)");
	/* timeouts follow their check's interval, in any key order */
	expect_err(BASE "http-timeout: 2500\ncheck-interval: 2000\n"
	    "checker-type: http\nhttp-url: http://a/\n", "t.yml:5:15: "
	    "http-timeout: 2500 is out of range (10..2000 milliseconds)");
	if (expect_ok(BASE "exec-timeout: 2000\ncheck-interval: 2000\n"
	    "checker-type: exec\nexec-command: [/bin/true]\n") == 0)
		CHECK(conf.checks[0].timeout_ms == 2000);
	/* the edges are accepted */
	if (expect_ok(BASE TCP "interval: 100\nttl: 3600000\nretry_num: 100\n"
	    "netmask: 1\nnetmask6: 1\ngarp-refresh: 86400000\n"
	    "tcp-timeout: 10\nfence-margin: 60000\n") == 0) {
		CHECK(conf.interval_ms == 100);
		CHECK(conf.checks[0].interval_ms == 100);
		CHECK(conf.checks[0].timeout_ms == 10);
		CHECK(conf.ttl_ms == 3600000);
		CHECK(conf.netmask == 1);
		CHECK(conf.netmask6 == 1);
	}
}

static void
test_endpoints(void)
{
	static const struct {
		const char	*url, *err;
	} bad[] = {
		{ "ftp://a:1", "dcs-endpoints: \"ftp://a:1\" does not start "
		    "with http:// or https://" },
		{ "a:1", "dcs-endpoints: \"a:1\" does not start with http:// "
		    "or https://" },
		{ "http://a:1/v3", "dcs-endpoints: \"http://a:1/v3\" must be "
		    "scheme://host:port without a path" },
		{ "http://a:1//", "dcs-endpoints: \"http://a:1//\" must be "
		    "scheme://host:port without a path" },
		{ "http://u@a:1", "dcs-endpoints: \"http://u@a:1\" must be "
		    "scheme://host:port without a path" },
		{ "http://a", "dcs-endpoints: \"http://a\" has no port" },
		{ "http://a:", "dcs-endpoints: \"http://a:\" has an invalid "
		    "port" },
		{ "http://a:0", "dcs-endpoints: \"http://a:0\" has an invalid "
		    "port" },
		{ "http://a:65536", "dcs-endpoints: \"http://a:65536\" has an "
		    "invalid port" },
		{ "http://a:1x", "dcs-endpoints: \"http://a:1x\" has an "
		    "invalid port" },
		{ "http://:1", "dcs-endpoints: \"http://:1\" has an empty "
		    "host" },
		{ "http://a!b:1", "dcs-endpoints: \"http://a!b:1\" has an "
		    "invalid host" },
		{ "http://[::1:1", "dcs-endpoints: \"http://[::1:1\" has an "
		    "unterminated [" },
		{ "http://[1.2.3.4]:1", "dcs-endpoints: \"http://[1.2.3.4]:1\" "
		    "has an invalid IPv6 address" },
		{ "http://[::1]x", "dcs-endpoints: \"http://[::1]x\" has junk "
		    "after ]" },
		{ "http://[::1]", "dcs-endpoints: \"http://[::1]\" has no "
		    "port" },
	};
	char	 yaml[2048], want[1024], longurl[600];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* the bad URL second in the list, at column 31 */
		snprintf(yaml, sizeof(yaml), "dcs-clustername: c\n"
		    "interface: lo\nnodename: n\n" TCP
		    "dcs-endpoints: ['http://b:2', '%s']\n", bad[i].url);
		snprintf(want, sizeof(want), "t.yml:7:31: %s", bad[i].err);
		expect_err(yaml, want);
	}
	memset(longurl, 'a', sizeof(longurl) - 1);
	longurl[sizeof(longurl) - 1] = '\0';
	memcpy(longurl, "http://", 7);
	snprintf(yaml, sizeof(yaml), "dcs-clustername: c\ninterface: lo\n"
	    TCP "dcs-endpoints: %s\n", longurl);
	expect_err(yaml, "t.yml:6:16: dcs-endpoints: URL longer than 511 "
	    "bytes");
	expect_err("dcs-clustername: c\ninterface: lo\n" TCP
	    "dcs-endpoints: []\n", "t.yml:6:16: dcs-endpoints: no endpoint "
	    "given");
	expect_err("dcs-clustername: c\ninterface: lo\n" TCP
	    "dcs-endpoints: [http://a:1, http://a:2, http://a:3, http://a:4,"
	    " http://a:5, http://a:6, http://a:7, http://a:8, http://a:9, "
	    "http://a:10, http://a:11, http://a:12, http://a:13, http://a:14,"
	    " http://a:15, http://a:16, http://a:17]\n", "t.yml:6:216: "
	    "dcs-endpoints: more than 16 endpoints");
	if (expect_ok("dcs-clustername: c\ninterface: lo\nnodename: n\n" TCP
	    "dcs-endpoints:\n  - https://etcd1.example:2379/\n"
	    "  - http://[::1]:2379\n  - http://127.0.0.1:1\n") == 0) {
		CHECK(conf.n_endpoints == 3);
		CHECK_STR(conf.endpoints[0], "https://etcd1.example:2379");
		CHECK_STR(conf.endpoints[1], "http://[::1]:2379");
		CHECK_STR(conf.endpoints[2], "http://127.0.0.1:1");
	}
}

static void
test_networks(void)
{
	static const struct {
		const char	*net, *err;
	} bad[] = {
		{ "10.0.0.0/33", "allowed-networks: \"10.0.0.0/33\" is not an "
		    "IP prefix" },
		{ "10.0.0/8", "allowed-networks: \"10.0.0/8\" is not an IP "
		    "prefix" },
		{ "fe80::/129", "allowed-networks: \"fe80::/129\" is not an IP "
		    "prefix" },
		{ "10.0.0.0/", "allowed-networks: \"10.0.0.0/\" is not an IP "
		    "prefix" },
		{ "0.0.0.0/0", "allowed-networks: \"0.0.0.0/0\": prefix length "
		    "0 is not allowed" },
		{ "10.1.2.3/8", "allowed-networks: \"10.1.2.3/8\" has host "
		    "bits set, the network is 10.0.0.0/8" },
		{ "198.18.7.255/23", "allowed-networks: \"198.18.7.255/23\" "
		    "has host bits set, the network is 198.18.6.0/23" },
		{ "2001:db8::1/32", "allowed-networks: \"2001:db8::1/32\" has "
		    "host bits set, the network is 2001:db8::/32" },
	};
	char	 yaml[512], want[512];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), BASE TCP
		    "allowed-networks:\n  - 10.0.0.0/8\n  - '%s'\n",
		    bad[i].net);
		snprintf(want, sizeof(want), "t.yml:10:5: %s", bad[i].err);
		expect_err(yaml, want);
	}
	if (expect_ok(BASE TCP "allowed-networks:\n  - 198.18.0.0/15\n"
	    "  - 2001:db8::/32\n  - 10.1.2.3\n") == 0) {
		CHECK(conf.n_networks == 3);
		CHECK(conf.networks[0].af == AF_INET &&
		    conf.networks[0].prefixlen == 15);
		CHECK(conf.networks[1].af == AF_INET6 &&
		    conf.networks[1].prefixlen == 32);
		CHECK(conf.networks[2].prefixlen == 32);
	}
	/* a single scalar is one network */
	if (expect_ok(BASE TCP "allowed-networks: 10.0.0.0/8\n") == 0)
		CHECK(conf.n_networks == 1);
}

static void
test_strings(void)
{
	expect_err(BASE TCP "nodename: a/b\n",
	    "t.yml:8:1: duplicate key \"nodename\" (first at line 4)");
	expect_err("dcs-clustername: c\ndcs-endpoints: http://a:1\n"
	    "interface: lo\nnodename: a/b\n" TCP, "t.yml:4:11: nodename: "
	    "\"a/b\" is not 1..63 characters of [A-Za-z0-9._-]");
	expect_err("dcs-clustername: c\ndcs-endpoints: http://a:1\n"
	    "interface: lo\nnodename: "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\n" TCP, "t.yml:4:11: nodename: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" is not 1..63 characters of "
	    "[A-Za-z0-9._-]");
	expect_err("dcs-clustername: c\ndcs-endpoints: http://a:1\n"
	    "interface: eth0/1\n" TCP, "t.yml:3:12: interface: \"eth0/1\" is "
	    "not a valid interface name");
	expect_err("dcs-clustername: c\ndcs-endpoints: http://a:1\n"
	    "interface: 'eth 0'\n" TCP, "t.yml:3:12: interface: \"eth 0\" is "
	    "not a valid interface name");
	expect_err("dcs-clustername: c\ndcs-endpoints: http://a:1\n"
	    "interface: eth0:1\n" TCP, "t.yml:3:12: interface: \"eth0:1\" is "
	    "not a valid interface name");
	expect_err("dcs-clustername: c\ndcs-endpoints: http://a:1\n"
	    "interface: abcdefghijklmnop\n" TCP, "t.yml:3:12: interface: "
	    "\"abcdefghijklmnop\" is longer than 15 characters");
	if (expect_ok("dcs-clustername: c\ndcs-endpoints: http://a:1\n"
	    "interface: abcdefghijklmno\nnodename: n\n" TCP) == 0)
		CHECK_STR(conf.interface, "abcdefghijklmno");
	/* label: "<iface>:<label>" fits in 15 characters */
	if (expect_ok(BASE TCP "label: abcdefghijkl\n") == 0)
		CHECK_STR(conf.label, "abcdefghijkl");
	expect_err(BASE TCP "label: abcdefghijklm\n", "t.yml:8:8: label: "
	    "\"lo:abcdefghijklm\" is longer than 15 characters");
	expect_err(BASE TCP "label: a:b\n", "t.yml:8:8: label: \"a:b\" is not "
	    "up to 15 characters of [A-Za-z0-9._-]");
	expect_err(BASE TCP "user: 'a b'\n", "t.yml:8:7: user: \"a b\" has "
	    "characters outside [A-Za-z0-9._@$-]");
	expect_err(BASE TCP "user: "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    "t.yml:8:7: user: longer than 63 bytes");
	expect_err(BASE "checker-type: tcp\ntcp-host: 'a b'\ntcp-port: 1\n",
	    "t.yml:6:11: tcp-host: \"a b\" is not a host name or an IP "
	    "address");
	expect_err(BASE "checker-type: tcp\ntcp-host: '1:2'\ntcp-port: 1\n",
	    "t.yml:6:11: tcp-host: \"1:2\" is not a host name or an IP "
	    "address");
	if (expect_ok(BASE "checker-type: tcp\ntcp-host: '::1'\n"
	    "tcp-port: 1\n") == 0)
		CHECK_STR(conf.checks[0].tcp_host, "::1");
}

static void
test_pairs(void)
{
	expect_err(BASE TCP "etcd_user: u\n",
	    "t.yml:8:12: etcd_user is set but etcd_password is not");
	expect_err(BASE TCP "etcd-password: p\n",
	    "t.yml:8:16: etcd-password is set but etcd_user is not");
	expect_err(BASE TCP "etcd-cert-file: /c\n",
	    "t.yml:8:17: etcd-cert-file is set but etcd-key-file is not");
	expect_err(BASE TCP "etcd-key-file: /k\n",
	    "t.yml:8:16: etcd-key-file is set but etcd-cert-file is not");
	expect_err(BASE TCP "ttl: 1000\n",
	    "t.yml:8:6: ttl: 1000 must be more than twice fence-margin "
	    "(500 milliseconds)");
	expect_err(BASE TCP "fence-margin: 2500\n", "t.yml:8:15: fence-margin: "
	    "2500 must be less than ttl/2 (2500 milliseconds)");
	if (expect_ok(BASE TCP "ttl: 1000\nfence-margin: 499\n") == 0)
		CHECK(conf.fence_margin_ms == 499);
	/* strictly less than ttl/2, also for an odd ttl */
	expect_err(BASE TCP "ttl: 1001\nfence-margin: 501\n", "t.yml:9:15: "
	    "fence-margin: 501 must be less than ttl/2 (500 milliseconds)");
	if (expect_ok(BASE TCP "ttl: 1001\nfence-margin: 500\n") == 0)
		CHECK(conf.ttl_ms == 1001);
}

static void
test_checks(void)
{
	const char	*all =
	    BASE
	    "checker-type: http\n"
	    "http-url: http://127.0.0.1:8008/health\n"
	    "checks:\n"
	    "  - type: tcp\n"
	    "    tcp-host: 127.0.0.1\n"
	    "    tcp_port: 5432\n"
	    "    timeout: 300\n"
	    "  - type: postgres\n"
	    "    name: pg\n"
	    "    interval: 5000\n"
	    "    postgres-host: 127.0.0.1\n"
	    "    postgres-user: yaim\n"
	    "    postgres-password: secret\n"
	    "    rise: 3\n"
	    "    fall: 2\n"
	    "  - type: exec\n"
	    "    exec-command: [/usr/bin/test, -e, /run/ok]\n";
	char	 yaml[2048];
	int	 i;

	if (expect_ok(all) == 0) {
		CHECK(conf.n_checks == 4);
		CHECK_STR(conf.checks[0].name, "http");
		CHECK_STR(conf.checks[1].name, "tcp#1");
		CHECK(conf.checks[1].timeout_ms == 300);
		CHECK(conf.checks[1].tcp_port == 5432);
		CHECK_STR(conf.checks[2].name, "pg");
		CHECK(conf.checks[2].interval_ms == 5000);
		CHECK(conf.checks[2].timeout_ms == 2500);
		CHECK(conf.checks[2].rise == 3);
		CHECK(conf.checks[2].fall == 2);
		CHECK_STR(conf.checks[2].pg_password, "secret");
		CHECK_STR(conf.checks[3].name, "exec#3");
		CHECK(conf.checks[3].exec_argc == 3);
		CHECK_STR(conf.checks[3].exec_argv[2], "/run/ok");
	}
	expect_err(BASE TCP "http-url: http://a/\n",
	    "t.yml:8:1: http-url is set but checker-type is tcp");
	expect_err(BASE "http_url: http://a/\ncheck-interval: 100\n",
	    "t.yml:5:1: http_url is set but checker-type is not");
	expect_err(BASE "rise: 2\nchecks: [{type: tcp, tcp-host: h, "
	    "tcp-port: 1}]\n", "t.yml:5:1: rise is set but checker-type is "
	    "not");
	expect_err(BASE "checks:\n  - type: tcp\n    tcp-host: h\n"
	    "    tcp-port: 1\n    exec-command: /bin/true\n",
	    "t.yml:9:5: exec-command is set but type is tcp");
	expect_err(BASE "checker-type: ftp\n", "t.yml:5:15: checker-type: "
	    "\"ftp\" is not one of http, tcp, postgres, exec");
	expect_err(BASE "checks:\n  - type: HTTP\n", "t.yml:6:11: type: "
	    "\"HTTP\" is not one of http, tcp, postgres, exec");
	expect_err(BASE TCP "checks:\n  - type: tcp\n    tcp-host: h\n"
	    "    tcp-port: 1\n    tcp-timeout: 5\n",
	    "t.yml:12:5: unknown key \"tcp-timeout\"");
	expect_err(BASE TCP "timeout: 5\n", "t.yml:8:1: unknown key "
	    "\"timeout\"");
	expect_err(BASE "checks:\n  - {type: tcp, tcp-host: h, tcp-port: 1, "
	    "name: a}\n  - {type: tcp, tcp-host: h, tcp-port: 2, name: a}\n",
	    "t.yml:7:49: checks: duplicate check name \"a\"");
	expect_err(BASE TCP "checks:\n  - {type: tcp, tcp-host: h, "
	    "tcp-port: 2, name: tcp}\n",
	    "t.yml:9:49: checks: duplicate check name \"tcp\"");
	expect_err(BASE "checks:\n  - {type: tcp, tcp-host: h, tcp-port: 1, "
	    "name: 'tcp#1'}\n  - {type: tcp, tcp-host: h, tcp-port: 2}\n",
	    "t.yml:7:5: checks: duplicate check name \"tcp#1\"");
	expect_err(BASE "checks:\n  - {type: tcp, tcp-host: h, tcp-port: 1, "
	    "name: 'a b'}\n", "t.yml:6:49: name: \"a b\" is not 1..63 "
	    "characters of [A-Za-z0-9._#:-]");
	expect_err(BASE "checks:\n  - {type: tcp, tcp-host: h, tcp-port: 1, "
	    "timeout: 1001}\n", "t.yml:6:52: timeout: 1001 is out of range "
	    "(10..1000 milliseconds)");
	expect_err(BASE "checks:\n  - {type: tcp, tcp-host: h, tcp-port: 1, "
	    "interval: 200, timeout: 201}\n", "t.yml:6:67: timeout: 201 is "
	    "out of range (10..200 milliseconds)");

	/* at most 8 checks, flat one included */
	strcpy(yaml, BASE TCP "checks:\n");
	for (i = 0; i < 8; i++)
		strcat(yaml, "  - {type: tcp, tcp-host: h, tcp-port: 1}\n");
	expect_err(yaml, "t.yml:16:5: checks: more than 8 checks");
	strcpy(yaml, BASE "checks:\n");
	for (i = 0; i < 8; i++)
		strcat(yaml, "  - {type: tcp, tcp-host: h, tcp-port: 1}\n");
	if (expect_ok(yaml) == 0) {
		CHECK(conf.n_checks == 8);
		CHECK_STR(conf.checks[7].name, "tcp#7");
	}

	/* http-url */
	expect_err(BASE "checker-type: http\nhttp-url: ftp://a/\n",
	    "t.yml:6:11: http-url: \"ftp://a/\" does not start with http:// "
	    "or https://");
	expect_err(BASE "checker-type: http\nhttp-url: http:///x\n",
	    "t.yml:6:11: http-url: \"http:///x\" has an empty host");
	expect_err(BASE "checker-type: http\nhttp-url: 'http://a/b c'\n",
	    "t.yml:6:11: http-url: \"http://a/b c\" contains a blank");
	expect_err(BASE "checker-type: http\nhttp-url: http://a:99999/\n",
	    "t.yml:6:11: http-url: \"http://a:99999/\" has an invalid port");
	expect_err(BASE "checker-type: http\nhttp-url: http://a/\n"
	    "http-host: 'a b'\n", "t.yml:7:12: http-host: \"a b\" is not a "
	    "host[:port]");
	expect_err(BASE "checker-type: http\nhttp-url: http://a/\n"
	    "http-ca-file: ca.pem\n", "t.yml:7:15: http-ca-file: \"ca.pem\" "
	    "is not an absolute path");
	if (expect_ok(BASE "checker-type: http\n"
	    "http-url: https://[::1]:8443/x?y=1#z\nhttp-host: example.org\n"
	    "http-expected-response-contains: '\"value\":\"foo\"'\n") == 0) {
		CHECK_STR(conf.checks[0].http_url,
		    "https://[::1]:8443/x?y=1#z");
		CHECK_STR(conf.checks[0].http_host_header, "example.org");
		CHECK_STR(conf.checks[0].http_expected_contains,
		    "\"value\":\"foo\"");
	}

	/* exec-command */
	expect_err(BASE "checker-type: exec\nexec-command: check -q\n",
	    "t.yml:6:15: exec-command: \"check\" is not an absolute path");
	expect_err(BASE "checker-type: exec\nexec-command: [bin/check]\n",
	    "t.yml:6:16: exec-command: \"bin/check\" is not an absolute "
	    "path");
	expect_err(BASE "checker-type: exec\nexec-command: []\n",
	    "t.yml:6:15: exec-command: the command is empty");
	expect_err(BASE "checker-type: exec\nexec-command: ' '\n",
	    "t.yml:6:15: exec-command: the command is empty");
	expect_err(BASE "checker-type: exec\nexec-command: [/a, [b]]\n",
	    "t.yml:6:20: exec-command: expected a scalar, got a sequence");
	expect_err(BASE "checker-type: exec\nexec-command: /a 1 2 3 4 5 6 7 8 "
	    "9 10 11 12 13 14 15 16\n",
	    "t.yml:6:15: exec-command: more than 16 arguments");
	snprintf(yaml, sizeof(yaml), BASE "checker-type: exec\n"
	    "exec-command: [/a, %0256d]\n", 0);
	expect_err(yaml, "t.yml:6:20: exec-command: argument 1 is longer than "
	    "255 bytes");
	if (expect_ok(BASE "checker-type: exec\nexec-command: ['/bin/x y', "
	    "'a b', '']\n") == 0) {
		CHECK(conf.checks[0].exec_argc == 3);
		CHECK_STR(conf.checks[0].exec_argv[0], "/bin/x y");
		CHECK_STR(conf.checks[0].exec_argv[1], "a b");
		CHECK_STR(conf.checks[0].exec_argv[2], "");
	}
}

static int
print_to_string(char *buf, size_t len)
{
	FILE	*fp;
	size_t	 n;

	if ((fp = fmemopen(buf, len, "w")) == NULL)
		return -1;
	config_print(fp, &conf);
	n = (size_t)ftell(fp);
	fclose(fp);
	buf[n < len ? n : len - 1] = '\0';
	return 0;
}

/* The printout is a valid config with the same meaning, secrets masked. */
static void
test_print(void)
{
	static char	 out1[16384], out2[16384];
	const char	*y = BASE "etcd_user: root\netcd_password: s3cret\n"
	    "label: vip\nallowed-networks: [10.0.0.0/8, '2001:db8::/32']\n"
	    "checker-type: http\nhttp-url: http://127.0.0.1:8008/\n"
	    "http-expected-response-contains: 'a: \"b\\c'\n"
	    "checks:\n"
	    "  - {type: postgres, postgres-host: db, postgres-user: u, "
	    "postgres-password: pw, postgres-expected: '1'}\n"
	    "  - {type: exec, exec-command: ['/bin/a b', 'true']}\n";

	if (expect_ok(y) == -1 || print_to_string(out1, sizeof(out1)) == -1)
		return;
	CHECK(strstr(out1, "s3cret") == NULL);
	CHECK(strstr(out1, "pw") == NULL);
	CHECK(strstr(out1, "etcd_password: \"********\"\n") != NULL);
	CHECK(strstr(out1, "    postgres-password: \"********\"\n") != NULL);
	CHECK(strstr(out1, "# prefix: /service/c/\n") != NULL);
	CHECK(strstr(out1, "http-expected-response-contains: "
	    "\"a: \\\"b\\\\c\"\n") != NULL);
	CHECK(strstr(out1, "  - 2001:db8::/32\n") != NULL);
	CHECK(strstr(out1, "    postgres-expected: \"1\"\n") != NULL);
	CHECK(strstr(out1, "      - \"/bin/a b\"\n      - \"true\"\n") != NULL);
	if (expect_ok(out1) == -1 || print_to_string(out2, sizeof(out2)) == -1)
		return;
	CHECK_STR(out2, out1);
	CHECK_STR(conf.etcd_password, "********");
}

static void
test_scrub(void)
{
	const char	*y = BASE "etcd_user: root\netcd_password: s3cret\n"
	    "etcd-ca-file: /ca\netcd-cert-file: /c\netcd-key-file: /k\n"
	    "checks:\n"
	    "  - {type: postgres, postgres-host: db, postgres-user: u, "
	    "postgres-password: pw}\n"
	    "  - {type: exec, exec-command: /bin/true}\n"
	    "  - {type: http, http-url: 'https://a/', http-ca-file: /hca}\n";
	static struct yaim_config	 saved;

	if (expect_ok(y) == -1)
		return;
	saved = conf;
	config_scrub_for(&conf, "checker");
	CHECK_STR(conf.etcd_password, "");
	CHECK_STR(conf.etcd_user, "root");
	CHECK_STR(conf.etcd_ca_file, "");
	CHECK_STR(conf.etcd_cert_file, "");
	CHECK_STR(conf.etcd_key_file, "");
	CHECK_STR(conf.checks[0].pg_password, "pw");
	CHECK_STR(conf.checks[1].exec_argv[0], "");
	CHECK(conf.checks[1].exec_argc == 1);
	CHECK_STR(conf.checks[2].http_ca_file, "");
	CHECK_STR(conf.checks[2].http_url, "https://a/");

	conf = saved;
	config_scrub_for(&conf, "dcs");
	CHECK_STR(conf.etcd_password, "s3cret");
	CHECK_STR(conf.checks[0].pg_password, "");
	CHECK_STR(conf.checks[1].exec_argv[0], "");
	CHECK_STR(conf.checks[2].http_ca_file, "");
	CHECK_STR(conf.etcd_ca_file, "");

	conf = saved;
	config_scrub_for(&conf, "other");
	CHECK_STR(conf.etcd_password, "");
	CHECK_STR(conf.checks[0].pg_password, "");

	conf = saved;
	config_wipe(&conf);
	CHECK_STR(conf.etcd_password, "");
	CHECK_STR(conf.checks[0].pg_password, "");
	CHECK_STR(conf.etcd_ca_file, "/ca");

	/* a failed load leaves no secret behind */
	CHECK(load(BASE "etcd_user: u\netcd_password: p\nbogus: 1\n", NULL,
	    0) == -1);
	CHECK_STR(conf.etcd_password, "");
	explicit_bzero(&saved, sizeof(saved));
}

static void
test_files(void)
{
	char	 path[] = "/tmp/test_config.XXXXXX", err[1024];
	FILE	*fp;
	int	 fd;

	check_count++;
	if (config_load("/nonexistent/yaim.yml", &conf, err,
	    sizeof(err)) != -1 || strcmp(err, "/nonexistent/yaim.yml:1:1: "
	    "No such file or directory") != 0) {
		printf("FAIL: missing file: %s\n", err);
		check_failures++;
	}
	check_count++;
	if (config_load("/tmp", &conf, err, sizeof(err)) != -1 ||
	    strcmp(err, "/tmp:1:1: not a regular file") != 0) {
		printf("FAIL: directory: %s\n", err);
		check_failures++;
	}
	if ((fd = mkstemp(path)) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		printf("FAIL: mkstemp\n");
		check_failures++;
		return;
	}
	fputs(BASE TCP "ttl: 7000\n", fp);
	fclose(fp);
	check_count++;
	if (config_load(path, &conf, err, sizeof(err)) == -1 ||
	    conf.ttl_ms != 7000 || strcmp(conf.file, path) != 0) {
		printf("FAIL: load %s: %s\n", path, err);
		check_failures++;
	}
	unlink(path);
	/* a short err buffer is truncated, never overrun */
	check_count++;
	if (load("x: 1\n", err, 8) != -1 || strcmp(err, "t.yml:1") != 0) {
		printf("FAIL: short buffer: \"%s\"\n", err);
		check_failures++;
	}
}

#define CHECK_POS(p, l, c) do {						\
	check_count++;							\
	if ((p).line != (l) || (p).col != (c))				\
		check_fail(__FILE__, __LINE__, #p, " is %u:%u, want %u:%u",\
		    (p).line, (p).col, (l), (c));			\
} while (0)

/*
 * The positions the loader records for checks done after loading
 * (resolver, interface), and the prefix config_where() makes of them.
 */
static void
test_positions(void)
{
	char	 at[CFG_WHERE_MAX];

	if (expect_ok("dcs-clustername: c\n"
	    "dcs-endpoints: [http://127.0.0.1:2379,  \"http://[::1]:2379\"]\n"
	    "interface:  lo\n"
	    "nodename: n1\n"
	    "label: vip\n"
	    "netmask6: 64\n"
	    "checker-type: postgres\n"
	    "postgres-user: u\n"
	    "postgres-host:   localhost\n"
	    "checks:\n"
	    "  - type: http\n"
	    "    http-url: http://localhost/\n"
	    "  - type: tcp\n"
	    "    tcp-port: 1\n"
	    "    tcp_host: \"::1\"\n") == 0) {
		CHECK(conf.n_endpoints == 2 && conf.n_checks == 3);
		CHECK_POS(conf.endpoint_pos[0], 2u, 17u);
		CHECK_POS(conf.endpoint_pos[1], 2u, 41u);
		CHECK_POS(conf.interface_pos, 3u, 13u);
		CHECK_POS(conf.label_pos, 5u, 8u);
		CHECK_POS(conf.netmask_pos, 0u, 0u);	/* not in the file */
		CHECK_POS(conf.netmask6_pos, 6u, 11u);
		CHECK_POS(conf.checks[0].host_pos, 9u, 18u);
		CHECK_POS(conf.checks[1].host_pos, 12u, 15u);
		CHECK_POS(conf.checks[2].host_pos, 15u, 15u);
		CHECK_STR(config_where(&conf, conf.interface_pos, at,
		    sizeof(at)), "t.yml:3:13: ");
		CHECK_STR(config_where(&conf, conf.checks[2].host_pos, at,
		    sizeof(at)), "t.yml:15:15: ");
		/* a value not in the file: the file alone */
		CHECK_STR(config_where(&conf, conf.netmask_pos, at,
		    sizeof(at)), "t.yml: ");
		/* truncated, never overrun */
		CHECK_STR(config_where(&conf, conf.interface_pos, at, 6),
		    "t.yml");
	}
	/* a config built in memory (no file): no prefix */
	memset(&conf, 0, sizeof(conf));
	CHECK_STR(config_where(&conf, (struct cfg_pos){ 3, 4 }, at,
	    sizeof(at)), "");
	/* positions are recorded afresh by each load */
	if (expect_ok(BASE TCP) == 0) {
		CHECK_POS(conf.label_pos, 0u, 0u);
		CHECK_POS(conf.interface_pos, 3u, 12u);
		CHECK_POS(conf.checks[0].host_pos, 6u, 11u);
	}
}

int
main(void)
{
	test_defaults();
	test_prefix();
	test_folding();
	test_syntax();
	test_required();
	test_types();
	test_ranges();
	test_endpoints();
	test_networks();
	test_strings();
	test_pairs();
	test_checks();
	test_positions();
	test_print();
	test_scrub();
	test_files();
	printf("%d tests, %d failed\n", check_count, check_failures);
	return check_failures ? 1 : 0;
}
