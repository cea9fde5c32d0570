/*
 * Unit tests of dcs/etcd2_json.c: paths and form bodies, the
 * X-Etcd-Index header, the v2 reply decoder on real etcd 3.4.23 replies
 * (captured with curl from a test etcd started with --enable-v2) and on
 * malformed and hostile ones, and the pool listing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcs/etcd2_json.h"

#include "regress/unit/check.h"

/* ---- real replies, etcd 3.4.23 --enable-v2 ---- */

/* curl .../ips/123.0.0.1 -XPUT -d dir=true (the spec's command) */
static const char real_mkdir[] =
    "{\"action\":\"set\",\"node\":{\"key\":\"/service/yaim/ips/123.0.0.1\","
    "\"dir\":true,\"modifiedIndex\":4,\"createdIndex\":4}}";
/* PUT .../marked value=nodeA ttl=10 prevExist=false */
static const char real_create[] =
    "{\"action\":\"create\",\"node\":{\"key\":"
    "\"/service/yaim/ips/123.0.0.1/marked\",\"value\":\"nodeA\","
    "\"expiration\":\"2026-12-07T18:52:31.758258656Z\",\"ttl\":10,"
    "\"modifiedIndex\":5,\"createdIndex\":5}}";
/* the same by another node */
static const char real_exists[] =
    "{\"errorCode\":105,\"message\":\"Key already exists\",\"cause\":"
    "\"/service/yaim/ips/123.0.0.1/marked\",\"index\":5}";
/* refresh=true prevExist=true prevValue=nodeA ttl=10 */
static const char real_refresh[] =
    "{\"action\":\"compareAndSwap\",\"node\":{\"key\":"
    "\"/service/yaim/ips/123.0.0.1/marked\",\"value\":\"nodeA\","
    "\"expiration\":\"2026-12-07T18:52:31.805912729Z\",\"ttl\":10,"
    "\"modifiedIndex\":6,\"createdIndex\":5},\"prevNode\":{\"key\":"
    "\"/service/yaim/ips/123.0.0.1/marked\",\"value\":\"nodeA\","
    "\"expiration\":\"2026-12-07T18:52:31.758258656Z\",\"ttl\":10,"
    "\"modifiedIndex\":5,\"createdIndex\":5}}";
/* the same with prevValue=nodeB */
static const char real_compare_failed[] =
    "{\"errorCode\":101,\"message\":\"Compare failed\",\"cause\":"
    "\"[nodeB != nodeA]\",\"index\":6}";
/* GET .../ips?recursive=true */
static const char real_list[] =
    "{\"action\":\"get\",\"node\":{\"key\":\"/service/yaim/ips\",\"dir\":"
    "true,\"nodes\":[{\"key\":\"/service/yaim/ips/10.0.0.2\",\"dir\":true,"
    "\"modifiedIndex\":7,\"createdIndex\":7},{\"key\":"
    "\"/service/yaim/ips/123.0.0.1\",\"dir\":true,\"nodes\":[{\"key\":"
    "\"/service/yaim/ips/123.0.0.1/marked\",\"value\":\"nodeA\","
    "\"expiration\":\"2026-12-07T18:52:31.805912729Z\",\"ttl\":10,"
    "\"modifiedIndex\":6,\"createdIndex\":5}],\"modifiedIndex\":4,"
    "\"createdIndex\":4}],\"modifiedIndex\":4,\"createdIndex\":4}}";
static const char real_not_found[] =
    "{\"errorCode\":100,\"message\":\"Key not found\",\"cause\":"
    "\"/service/yaim/nope\",\"index\":7}";
/* DELETE .../marked?prevValue=nodeA */
static const char real_cad[] =
    "{\"action\":\"compareAndDelete\",\"node\":{\"key\":"
    "\"/service/yaim/ips/123.0.0.1/marked\",\"modifiedIndex\":8,"
    "\"createdIndex\":5},\"prevNode\":{\"key\":"
    "\"/service/yaim/ips/123.0.0.1/marked\",\"value\":\"nodeA\","
    "\"expiration\":\"2026-12-07T18:52:31.805912729Z\",\"ttl\":10,"
    "\"modifiedIndex\":6,\"createdIndex\":5}}";
/* a watch that saw a mark expire */
static const char real_expire[] =
    "{\"action\":\"expire\",\"node\":{\"key\":"
    "\"/service/yaim/ips/x/marked\",\"modifiedIndex\":11,"
    "\"createdIndex\":10},\"prevNode\":{\"key\":"
    "\"/service/yaim/ips/x/marked\",\"value\":\"a\",\"expiration\":"
    "\"2026-12-07T18:52:30.021913439Z\",\"modifiedIndex\":10,"
    "\"createdIndex\":10}}";
/* a watch from an index older than the last 1000 events (HTTP 400) */
static const char real_cleared[] =
    "{\"errorCode\":401,\"message\":\"The event in requested index is "
    "outdated and cleared\",\"cause\":\"the requested history has been "
    "cleared [113/3]\",\"index\":1112}";
/* the spec's recursive delete */
static const char real_rmdir[] =
    "{\"action\":\"delete\",\"node\":{\"key\":"
    "\"/service/yaim/ips/123.0.0.1\",\"dir\":true,\"modifiedIndex\":1113,"
    "\"createdIndex\":4},\"prevNode\":{\"key\":"
    "\"/service/yaim/ips/123.0.0.1\",\"dir\":true,\"modifiedIndex\":4,"
    "\"createdIndex\":4}}";

static int
decode(const char *s, struct etcd2_reply *r, char *err, size_t len)
{
	return etcd2_decode_reply(s, strlen(s), r, err, len);
}

static void
test_real_ok(void)
{
	struct etcd2_reply	 r;
	char			 err[256];

	CHECK(decode(real_mkdir, &r, err, sizeof(err)) == 0, "%s", err);
	CHECK(!r.is_error && strcmp(r.action, "set") == 0);
	CHECK(r.n_nodes == 1 && r.nodes[0].dir && r.nodes[0].value == NULL);
	CHECK(r.nodes[0].modified_index == 4 && !r.has_prev);
	etcd2_reply_free(&r);

	CHECK(decode(real_create, &r, err, sizeof(err)) == 0, "%s", err);
	CHECK_STR(r.action, "create");
	CHECK_STR(r.nodes[0].value, "nodeA");
	CHECK(r.nodes[0].has_ttl && r.nodes[0].ttl == 10);
	CHECK_STR(r.nodes[0].expiration, "2026-12-07T18:52:31.758258656Z");
	CHECK(r.nodes[0].created_index == 5 && r.nodes[0].modified_index == 5);
	etcd2_reply_free(&r);

	CHECK(decode(real_refresh, &r, err, sizeof(err)) == 0, "%s", err);
	CHECK_STR(r.action, "compareAndSwap");
	CHECK(r.has_prev && r.prev.modified_index == 5);
	CHECK(r.nodes[0].modified_index == 6);
	etcd2_reply_free(&r);

	CHECK(decode(real_cad, &r, err, sizeof(err)) == 0, "%s", err);
	CHECK(r.nodes[0].value == NULL && r.has_prev);
	CHECK_STR(r.prev.value, "nodeA");
	etcd2_reply_free(&r);

	CHECK(decode(real_expire, &r, err, sizeof(err)) == 0, "%s", err);
	CHECK_STR(r.action, "expire");
	CHECK(r.nodes[0].modified_index == 11 && !r.nodes[0].has_ttl);
	etcd2_reply_free(&r);

	CHECK(decode(real_rmdir, &r, err, sizeof(err)) == 0, "%s", err);
	CHECK_STR(r.action, "delete");
	CHECK(r.nodes[0].dir && r.prev.dir);
	etcd2_reply_free(&r);
}

static void
test_real_errors(void)
{
	static const struct {
		const char	*body;
		int		 code;
		int64_t		 index;
		const char	*message;
	} t[] = {
		{ real_exists, ETCD2_E_NODE_EXIST, 5, "Key already exists" },
		{ real_compare_failed, ETCD2_E_TEST_FAILED, 6,
		    "Compare failed" },
		{ real_not_found, ETCD2_E_KEY_NOT_FOUND, 7, "Key not found" },
		{ real_cleared, ETCD2_E_INDEX_CLEARED, 1112,
		    "The event in requested index is outdated and cleared" },
	};
	struct etcd2_reply	 r;
	char			 err[256];
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK_CONTEXT("error %zu", i);
		CHECK(decode(t[i].body, &r, err, sizeof(err)) == 0, "%s", err);
		CHECK(r.is_error && r.error_code == t[i].code);
		CHECK(r.error_index == t[i].index);
		CHECK_STR(r.message, t[i].message);
		CHECK(r.n_nodes == 0);
		etcd2_reply_free(&r);
	}
	CHECK_CONTEXT("%s", "");
}

static void
test_pool(void)
{
	struct etcd2_reply	 r;
	struct etcd2_ip		*ips;
	size_t			 n;
	char			 err[256];

	CHECK(decode(real_list, &r, err, sizeof(err)) == 0, "%s", err);
	CHECK(r.n_nodes == 4);
	CHECK(r.nodes[3].depth == 2 && r.nodes[3].parent == 2);
	CHECK(etcd2_pool(&r, "/service/yaim/ips", &ips, &n, err,
	    sizeof(err)) == 0, "%s", err);
	CHECK(n == 2);
	if (n == 2) {
		CHECK(ips[0].name_len == 8 &&
		    memcmp(ips[0].name, "10.0.0.2", 8) == 0);
		CHECK(ips[0].dir && ips[0].mark == NULL);
		CHECK(ips[0].modified_index == 7);
		CHECK(ips[1].name_len == 9 &&
		    memcmp(ips[1].name, "123.0.0.1", 9) == 0);
		CHECK(ips[1].mark != NULL);
		if (ips[1].mark != NULL) {
			CHECK_STR(ips[1].mark->value, "nodeA");
			CHECK(ips[1].mark->ttl == 10);
			CHECK(ips[1].mark->modified_index == 6);
		}
	}
	free(ips);
	/* a listing of another directory is refused */
	CHECK(etcd2_pool(&r, "/service/other/ips", &ips, &n, err,
	    sizeof(err)) == -1 && ips == NULL);
	etcd2_reply_free(&r);
}

/* An empty pool directory, and a pool entry with odd children. */
static void
test_pool_odd(void)
{
	static const char empty[] = "{\"action\":\"get\",\"node\":{\"key\":"
	    "\"/p/ips\",\"dir\":true,\"modifiedIndex\":3,\"createdIndex\":3}}";
	static const char odd[] = "{\"action\":\"get\",\"node\":{\"key\":"
	    "\"/p/ips\",\"dir\":true,\"nodes\":[{\"key\":\"/p/ips/10.0.0.1\","
	    "\"value\":\"x\",\"modifiedIndex\":9},{\"key\":\"/p/ips/10.0.0.2\","
	    "\"dir\":true,\"nodes\":[{\"key\":\"/p/ips/10.0.0.2/marked\","
	    "\"dir\":true},{\"key\":\"/p/ips/10.0.0.2/other\",\"value\":"
	    "\"y\"}]},{\"key\":\"/p/ips/10.0.0.3\",\"dir\":true,\"nodes\":[{"
	    "\"key\":\"/p/ips/10.0.0.3/marks\",\"value\":\"z\"}]}]}}";
	struct etcd2_reply	 r;
	struct etcd2_ip		*ips;
	size_t			 n;
	char			 err[256];

	CHECK(decode(empty, &r, err, sizeof(err)) == 0, "%s", err);
	CHECK(etcd2_pool(&r, "/p/ips", &ips, &n, err, sizeof(err)) == 0);
	CHECK(n == 0);
	free(ips);
	etcd2_reply_free(&r);

	CHECK(decode(odd, &r, err, sizeof(err)) == 0, "%s", err);
	CHECK(etcd2_pool(&r, "/p/ips", &ips, &n, err, sizeof(err)) == 0);
	CHECK(n == 3);
	if (n == 3) {
		CHECK(!ips[0].dir && ips[0].mark == NULL);
		/* a "marked" directory is no mark */
		CHECK(ips[1].dir && ips[1].mark == NULL);
		CHECK(ips[2].mark == NULL);
	}
	free(ips);
	etcd2_reply_free(&r);
}

static void
test_bad(void)
{
	static const struct {
		const char	*body;
		const char	*err;
	} t[] = {
		{ "", "reply: not JSON" },
		{ "[]", "reply: not an object" },
		{ "{\"node\":{}}", "reply.action: missing or too long" },
		{ "{\"action\":\"get\"}", "reply.node: missing" },
		{ "{\"action\":\"get\",\"node\":[]}", "node: not an object" },
		{ "{\"action\":\"get\",\"node\":{\"key\":1}}",
		    "node.key: not a string" },
		{ "{\"action\":\"get\",\"node\":{\"key\":\"a\"}}",
		    "node.key: does not start with /" },
		{ "{\"action\":\"get\",\"node\":{\"dir\":\"yes\"}}",
		    "node.dir: not a boolean" },
		{ "{\"action\":\"get\",\"node\":{\"ttl\":1.5}}",
		    "node.ttl: not an integer in range" },
		{ "{\"action\":\"get\",\"node\":{\"modifiedIndex\":-1}}",
		    "node.modifiedIndex: not an integer in range" },
		{ "{\"action\":\"get\",\"node\":{\"modifiedIndex\":1e300}}",
		    "node.modifiedIndex: not an integer in range" },
		{ "{\"action\":\"get\",\"node\":{\"createdIndex\":\"1\"}}",
		    "node.createdIndex: not a number" },
		{ "{\"action\":\"get\",\"node\":{\"key\":\"/a\",\"nodes\":[]}}",
		    "node.nodes: in a node not a dir" },
		{ "{\"action\":\"get\",\"node\":{\"key\":\"/a\",\"dir\":true,"
		    "\"nodes\":{}}}", "node.nodes: not an array" },
		/* hostile: a child outside its parent */
		{ "{\"action\":\"get\",\"node\":{\"key\":\"/p/ips\",\"dir\":"
		    "true,\"nodes\":[{\"key\":\"/p/nodes/x\"}]}}",
		    "node.nodes[0].key: not under its parent" },
		{ "{\"action\":\"get\",\"node\":{\"key\":\"/p/ips\",\"dir\":"
		    "true,\"nodes\":[{\"key\":\"/p/ipsx/1\"}]}}",
		    "node.nodes[0].key: not under its parent" },
		/* hostile: a grandchild posing as a child */
		{ "{\"action\":\"get\",\"node\":{\"key\":\"/p/ips\",\"dir\":"
		    "true,\"nodes\":[{\"key\":\"/p/ips/a/marked\"}]}}",
		    "node.nodes[0].key: not under its parent" },
		{ "{\"action\":\"get\",\"node\":{\"key\":\"/p\\u0000/x\"}}",
		    "reply: a string holds \\u0000" },
		{ "{\"errorCode\":\"100\"}", "reply.errorCode: not a number" },
		{ "{\"errorCode\":0}",
		    "reply.errorCode: not an integer in range" },
		{ "{\"errorCode\":1000000}", "reply.errorCode: out of range" },
		{ "{\"action\":\"get\",\"node\":{},\"prevNode\":7}",
		    "prevNode: not an object" },
	};
	struct etcd2_reply	 r;
	char			 err[256];
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK_CONTEXT("bad %zu: %s", i, t[i].body);
		CHECK(decode(t[i].body, &r, err, sizeof(err)) == -1);
		CHECK_STR(err, t[i].err);
		etcd2_reply_free(&r);
	}
	CHECK_CONTEXT("%s", "");
	/* an error without a message still says something */
	CHECK(decode("{\"errorCode\":300}", &r, err, sizeof(err)) == 0);
	CHECK(r.is_error && r.error_code == 300);
	CHECK_STR(r.message, "(no message)");
	etcd2_reply_free(&r);
}

/* Depth and node count bounds. */
static void
test_bounds(void)
{
	struct etcd2_reply	 r;
	char			 err[256], key[256], *big;
	size_t			 i, len, cap, n;
	int			 d;

	/* ETCD2_MAX_DEPTH levels below the top pass, one more fails */
	for (n = ETCD2_MAX_DEPTH; n <= ETCD2_MAX_DEPTH + 1; n++) {
		cap = 65536;
		big = malloc(cap);
		len = (size_t)snprintf(big, cap, "{\"action\":\"get\",\"node\":"
		    "{\"key\":\"/a\",\"dir\":true");
		key[0] = '\0';
		snprintf(key, sizeof(key), "/a");
		for (d = 0; d < (int)n; d++) {
			strcat(key, "/b");
			len += (size_t)snprintf(big + len, cap - len,
			    ",\"nodes\":[{\"key\":\"%s\",\"dir\":true", key);
		}
		for (d = 0; d < (int)n; d++)
			len += (size_t)snprintf(big + len, cap - len, "}]");
		len += (size_t)snprintf(big + len, cap - len, "}}");
		CHECK_CONTEXT("depth %zu", n);
		CHECK(etcd2_decode_reply(big, len, &r, err, sizeof(err)) ==
		    (n <= ETCD2_MAX_DEPTH ? 0 : -1), "%s", err);
		if (n > ETCD2_MAX_DEPTH)
			CHECK(strstr(err, "nested deeper than") != NULL, "%s",
			    err);
		etcd2_reply_free(&r);
		free(big);
	}
	CHECK_CONTEXT("%s", "");

	/* ETCD2_MAX_NODES nodes in all pass, one more fails */
	for (n = ETCD2_MAX_NODES - 1; n <= ETCD2_MAX_NODES; n++) {
		cap = n * 40 + 256;
		big = malloc(cap);
		len = (size_t)snprintf(big, cap, "{\"action\":\"get\",\"node\":"
		    "{\"key\":\"/a\",\"dir\":true,\"nodes\":[");
		for (i = 0; i < n; i++)
			len += (size_t)snprintf(big + len, cap - len,
			    "%s{\"key\":\"/a/%zu\"}", i ? "," : "", i);
		len += (size_t)snprintf(big + len, cap - len, "]}}");
		CHECK_CONTEXT("nodes %zu", n + 1);
		CHECK(etcd2_decode_reply(big, len, &r, err, sizeof(err)) ==
		    (n < ETCD2_MAX_NODES ? 0 : -1), "%s", err);
		if (n < ETCD2_MAX_NODES)
			CHECK(r.n_nodes == n + 1);
		else
			CHECK(strstr(err, "more than") != NULL, "%s", err);
		etcd2_reply_free(&r);
		free(big);
	}
	CHECK_CONTEXT("%s", "");
}

static void
test_header(void)
{
	int64_t	 v = -5;

	CHECK(etcd2_index_header("X-Etcd-Index: 1113\r\n", 20, &v) == 1);
	CHECK(v == 1113);
	CHECK(etcd2_index_header("x-etcd-index:7", 14, &v) == 1 && v == 7);
	CHECK(etcd2_index_header("X-Raft-Index: 1136\r\n", 20, &v) == 0);
	CHECK(etcd2_index_header("X-Etcd-Index: \r\n", 16, &v) == -1);
	CHECK(etcd2_index_header("X-Etcd-Index: 12a\r\n", 19, &v) == -1);
	CHECK(etcd2_index_header("X-Etcd-Index: -1\r\n", 18, &v) == -1);
	CHECK(etcd2_index_header("X-Etcd-Index: 99999999999999999\r\n", 33,
	    &v) == -1);
	CHECK(etcd2_index_header("X-Etcd", 6, &v) == 0);
}

static void
test_encode(void)
{
	struct etcd_buf	b = { NULL, 0, 0 };
	char		long_key[ETCD2_MAX_KEY + 2];

	CHECK(etcd2_encode_path(&b, "/service/yaim/ips/fe80::1%eth0/marked",
	    "?prevValue=a") == 0);
	CHECK_STR(b.data,
	    "/v2/keys/service/yaim/ips/fe80%3A%3A1%25eth0/marked?prevValue=a");
	etcd_buf_wipe(&b);
	CHECK(etcd2_encode_path(&b, "relative", "") == -1);
	CHECK(etcd2_encode_path(&b, "", "") == -1);
	memset(long_key, 'a', sizeof(long_key) - 1);
	long_key[0] = '/';
	long_key[sizeof(long_key) - 1] = '\0';
	CHECK(etcd2_encode_path(&b, long_key, "") == -1);
	etcd_buf_wipe(&b);

	CHECK(etcd2_form_add(&b, "value", "node a&b=c") == 0);
	CHECK(etcd2_form_add_int(&b, "ttl", 30) == 0);
	CHECK(etcd2_form_add(&b, "prevExist", "false") == 0);
	CHECK_STR(b.data, "value=node%20a%26b%3Dc&ttl=30&prevExist=false");
	etcd_buf_wipe(&b);
}

int
main(void)
{
	test_real_ok();
	test_real_errors();
	test_pool();
	test_pool_odd();
	test_bad();
	test_bounds();
	test_header();
	test_encode();
	if (check_failures) {
		fprintf(stderr, "%d failure(s)\n", check_failures);
		return 1;
	}
	printf("etcd2_json: all %d checks passed\n", check_count);
	return 0;
}
