/*
 * The control protocol's checks (common/ctl.c): requests as dcs reads
 * them, the canonical form of pool addresses, replies as yaimctl reads
 * them, JSON escaping.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "regress/unit/check.h"

static struct imsg
mk(uint32_t type, const void *data, size_t len)
{
	struct imsg	 m;

	memset(&m, 0, sizeof(m));
	m.hdr.type = type;
	m.hdr.len = (uint32_t)(IMSG_HEADER_SIZE + len);
	m.fd = -1;
	m.data = len ? data : NULL;
	m.datalen = len;
	return m;
}

static int
req_ok(uint32_t type, const void *data, size_t len)
{
	struct ctl_request	 req;
	struct imsg		 m = mk(type, data, len);
	char			 err[160];

	return ctl_request_parse(&m, &req, err, sizeof(err)) == 0;
}

static void
test_requests(void)
{
	static struct ctl_ip	 ips[CTL_POOL_MAX + 1];
	struct ctl_request	 req;
	struct ctl_log		 lg = { 1 };
	struct imsg		 m;
	char			 err[160];
	uint32_t		 t;

	memset(ips, 0, sizeof(ips));
	strcpy(ips[0].text, "198.18.0.1");
	for (t = IMSG_CTL_REQ_STATUS; t <= IMSG_CTL_REQ_RELOAD; t++) {
		if (t == IMSG_CTL_REQ_POOL_ADD || t == IMSG_CTL_REQ_POOL_DEL)
			continue;
		CHECK(req_ok(t, NULL, 0), "%u empty", t);
		CHECK(!req_ok(t, "x", 1), "%u with a byte", t);
	}
	CHECK(req_ok(IMSG_CTL_REQ_POOL_ADD, ips, sizeof(ips[0])));
	CHECK(req_ok(IMSG_CTL_REQ_POOL_DEL, ips, CTL_POOL_MAX * sizeof(ips[0])));
	CHECK(!req_ok(IMSG_CTL_REQ_POOL_ADD, ips, (CTL_POOL_MAX + 1) *
	    sizeof(ips[0])), "more than CTL_POOL_MAX");
	CHECK(!req_ok(IMSG_CTL_REQ_POOL_ADD, NULL, 0), "no address");
	CHECK(!req_ok(IMSG_CTL_REQ_POOL_ADD, ips, sizeof(ips[0]) - 1));
	memset(ips[1].text, 'a', sizeof(ips[1].text));
	CHECK(!req_ok(IMSG_CTL_REQ_POOL_ADD, ips, 2 * sizeof(ips[0])),
	    "an unterminated address");
	CHECK(req_ok(IMSG_CTL_REQ_LOG, &lg, sizeof(lg)));
	lg.verbose = 2;
	CHECK(!req_ok(IMSG_CTL_REQ_LOG, &lg, sizeof(lg)), "log level 2");
	CHECK(!req_ok(IMSG_CTL_REQ_LOG, NULL, 0));
	CHECK(req_ok(IMSG_CTL_REQ_METRICS, NULL, 0));
	CHECK(!req_ok(IMSG_CTL_REQ_METRICS, &lg, sizeof(lg)), "metrics: empty");
	CHECK(!req_ok(IMSG_CTL_END, NULL, 0), "a reply as a request");
	CHECK(!req_ok(IMSG_CFG_MAIN, NULL, 0), "an internal type");
	m = mk(IMSG_CTL_REQ_STATUS, NULL, 0);
	m.fd = 5;
	CHECK(ctl_request_parse(&m, &req, err, sizeof(err)) == -1, "an fd");
	m = mk(IMSG_CTL_REQ_POOL_DEL, ips, sizeof(ips[0]));
	CHECK(ctl_request_parse(&m, &req, err, sizeof(err)) == 0 &&
	    req.n_ips == 1 && strcmp(req.ips[0].text, "198.18.0.1") == 0);
}

static void
ip_case(const char *text, int ok, const char *why)
{
	struct ctl_ip		 ip;
	struct yaim_addr	 a;
	char			 got[128];

	CHECK_CONTEXT("%s", text);
	memset(&ip, 0, sizeof(ip));
	snprintf(ip.text, sizeof(ip.text), "%s", text);
	got[0] = '\0';
	CHECK((ctl_ip_check(&ip, &a, got, sizeof(got)) == 0) == ok);
	if (!ok)
		CHECK_STR(got, why);
}

static void
test_ips(void)
{
	ip_case("198.18.0.1", 1, NULL);
	ip_case("2001:db8::1", 1, NULL);
	ip_case("198.18.0.01", 0, "not in canonical form (write 198.18.0.1)");
	ip_case("010.0.0.07", 0, "not in canonical form (write 10.0.0.7)");
	ip_case("2001:DB8::1", 0, "not in canonical form (write 2001:db8::1)");
	ip_case("2001:db8:0:0:0:0:0:1", 0,
	    "not in canonical form (write 2001:db8::1)");
	ip_case("bogus", 0, "not an IP address");
	ip_case("", 0, "not an IP address");
	ip_case("198.18.0.1/32", 0, "not an IP address");
	ip_case("1.2.3.4.5", 0, "not an IP address");
	CHECK_CONTEXT("%s", "");
}

static void
test_replies(void)
{
	struct ctl_reply	 r;
	struct ctl_end		 end;
	struct ctl_node		 node;
	struct imsg		 m;
	char			 err[160];

	memset(&end, 0, sizeof(end));
	end.ok = 1;
	strcpy(end.text, "configuration reloaded");
	m = mk(IMSG_CTL_END, &end, sizeof(end));
	CHECK(ctl_reply_parse(&m, &r, err, sizeof(err)) == 0 &&
	    r.type == IMSG_CTL_END && strcmp(r.u.end.text,
	    "configuration reloaded") == 0);
	end.ok = 2;
	CHECK(ctl_reply_parse(&m, &r, err, sizeof(err)) == -1, "ok 2");
	end.ok = 0;
	memset(end.text, 'x', sizeof(end.text));
	CHECK(ctl_reply_parse(&m, &r, err, sizeof(err)) == -1,
	    "unterminated");
	m = mk(IMSG_CTL_END, &end, sizeof(end) - 1);
	CHECK(ctl_reply_parse(&m, &r, err, sizeof(err)) == -1, "short");
	memset(&node, 0, sizeof(node));
	strcpy(node.nodename, "y1");
	m = mk(IMSG_CTL_NODE, &node, sizeof(node));
	CHECK(ctl_reply_parse(&m, &r, err, sizeof(err)) == 0);
	memset(node.state, 's', sizeof(node.state));
	CHECK(ctl_reply_parse(&m, &r, err, sizeof(err)) == -1);
	m = mk(IMSG_CTL_REQ_STATUS, NULL, 0);
	CHECK(ctl_reply_parse(&m, &r, err, sizeof(err)) == -1,
	    "a request as a reply");
}

static void
test_json(void)
{
	char	 out[64], tiny[8];

	CHECK(ctl_json_escape("plain", out, sizeof(out)) == 5);
	CHECK_STR(out, "plain");
	ctl_json_escape("a\"b\\c", out, sizeof(out));
	CHECK_STR(out, "a\\\"b\\\\c");
	ctl_json_escape("\n\x01\x7f\xc3\xa9", out, sizeof(out));
	CHECK_STR(out, "\\u000a\\u0001\\u007f\\u00c3\\u00a9");
	/* cut before an escape, never inside one */
	CHECK(ctl_json_escape("ab\ncd", tiny, sizeof(tiny)) == 10);
	CHECK_STR(tiny, "ab");
	CHECK(ctl_json_escape("x", NULL, 0) == 1);
	CHECK(ctl_log_level("verbose") == 1 && ctl_log_level("brief") == 0 &&
	    ctl_log_level("loud") == -1);
}

int
main(void)
{
	test_requests();
	test_ips();
	test_replies();
	test_json();
	printf("test_control: %d checks, %d failed\n", check_count,
	    check_failures);
	return check_failures != 0;
}
