/*
 * Unit tests of dcs/etcd_json.c: request bodies, base64, int64, prefix
 * ends, reply decoders on real etcd 3.4.23 replies (captured with curl from
 * a test etcd) and on malformed ones, and the watch stream splitter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcs/etcd_json.h"

#include "regress/unit/check.h"

/* ---- real replies, etcd 3.4.23 through its JSON gateway ---- */

#define HDR(rev) "{\"cluster_id\":\"10735084847402236569\",\"member_id\":" \
	"\"15490420576710755733\",\"revision\":\"" rev "\",\"raft_term\":\"2\"}"

static const char real_grant[] =
    "{\"header\":" HDR("1") ",\"ID\":\"402405947724414725\",\"TTL\":\"2\"}";
static const char real_keepalive[] =
    "{\"result\":{\"header\":" HDR("1") ",\"ID\":\"402405947724414727\","
    "\"TTL\":\"30\"}}";
static const char real_keepalive_gone[] =
    "{\"result\":{\"header\":" HDR("1") ",\"ID\":\"12345\"}}";
static const char real_put[] = "{\"header\":" HDR("2") "}";
static const char real_range[] =
    "{\"header\":" HDR("2") ",\"kvs\":[{\"key\":\"L3MveS9ub2Rlcy9h\","
    "\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\","
    "\"value\":\"aGVhbHRoeQ==\",\"lease\":\"402405947724414727\"}],"
    "\"count\":\"1\"}";
static const char real_range_empty[] = "{\"header\":" HDR("2") "}";
static const char real_txn_put[] =
    "{\"header\":" HDR("3") ",\"succeeded\":true,\"responses\":"
    "[{\"response_put\":{\"header\":{\"revision\":\"3\"}}}]}";
static const char real_txn_failed_range[] =
    "{\"header\":" HDR("3") ",\"responses\":[{\"response_range\":"
    "{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":"
    "\"L3MveS9pcHMvMTAuMC4wLjEvbWFya2Vk\",\"create_revision\":\"3\","
    "\"mod_revision\":\"3\",\"version\":\"1\",\"value\":\"YQ==\","
    "\"lease\":\"402405947724414727\"}],\"count\":\"1\"}}]}";
static const char real_txn_delete[] =
    "{\"header\":" HDR("4") ",\"succeeded\":true,\"responses\":"
    "[{\"response_delete_range\":{\"header\":{\"revision\":\"4\"},"
    "\"deleted\":\"1\"}}]}";
static const char real_revoke_missing[] =
    "{\"error\":\"etcdserver: requested lease not found\",\"message\":"
    "\"etcdserver: requested lease not found\",\"code\":5}";
static const char real_bad_base64[] =
    "{\"error\":\"illegal base64 data at input byte 0\",\"message\":"
    "\"illegal base64 data at input byte 0\",\"code\":3}";
static const char real_auth[] =
    "{\"header\":" HDR("18") ",\"token\":\"JwBGkQWVDlnvxKyt.39\"}";
static const char real_auth_failed[] =
    "{\"error\":\"etcdserver: authentication failed, invalid user ID or "
    "password\",\"message\":\"etcdserver: authentication failed, invalid "
    "user ID or password\",\"code\":3}";
static const char real_invalid_token[] =
    "{\"error\":\"etcdserver: invalid auth token\",\"message\":"
    "\"etcdserver: invalid auth token\",\"code\":16}";
static const char real_watch_created[] =
    "{\"result\":{\"header\":" HDR("4") ",\"created\":true}}";
static const char real_watch_events[] =
    "{\"result\":{\"header\":" HDR("4") ",\"events\":[{\"kv\":{\"key\":"
    "\"L3MveS9ub2Rlcy9h\",\"create_revision\":\"2\",\"mod_revision\":\"2\","
    "\"version\":\"1\",\"value\":\"aGVhbHRoeQ==\",\"lease\":"
    "\"402405947724414727\"}},{\"type\":\"DELETE\",\"kv\":{\"key\":"
    "\"L3MveS9pcHMvMTAuMC4wLjEvbWFya2Vk\",\"mod_revision\":\"4\"},"
    "\"prev_kv\":{\"key\":\"L3MveS9pcHMvMTAuMC4wLjEvbWFya2Vk\","
    "\"create_revision\":\"3\",\"mod_revision\":\"3\",\"version\":\"1\","
    "\"value\":\"YQ==\",\"lease\":\"402405947724414727\"}}]}}";
static const char real_watch_compacted[] =
    "{\"result\":{\"header\":{\"cluster_id\":\"10735084847402236569\","
    "\"member_id\":\"15490420576710755733\",\"raft_term\":\"2\"},"
    "\"canceled\":true,\"compact_revision\":\"5\"}}";
static const char real_watch_bad_token[] =
    "{\"result\":{\"header\":" HDR("18") ",\"watch_id\":\"-1\","
    "\"created\":true,\"canceled\":true,\"cancel_reason\":\"rpc error: "
    "code = Unauthenticated desc = etcdserver: invalid auth token\"}}";
static const char real_watch_progress[] =
    "{\"result\":{\"header\":" HDR("7") "}}";
static const char stream_error[] =
    "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
    "\"etcdserver: no leader\",\"http_status\":\"Service Unavailable\"}}";

static int
decode(enum etcd_reply_kind k, const char *s, struct etcd_reply *r,
    char *err, size_t errlen)
{
	return etcd_decode_reply(k, s, strlen(s), r, err, errlen);
}

static void
test_real_replies(void)
{
	struct etcd_reply	r;
	char			err[256];

	CHECK(decode(ETCD_REPLY_GRANT, real_grant, &r, err, sizeof(err)) == 0);
	CHECK(!r.is_error && r.revision == 1);
	CHECK(r.lease_id == 402405947724414725LL && r.ttl == 2);
	etcd_reply_free(&r);

	CHECK(decode(ETCD_REPLY_KEEPALIVE, real_keepalive, &r, err,
	    sizeof(err)) == 0);
	CHECK(r.lease_id == 402405947724414727LL && r.ttl == 30);
	etcd_reply_free(&r);
	CHECK(decode(ETCD_REPLY_KEEPALIVE, real_keepalive_gone, &r, err,
	    sizeof(err)) == 0);
	CHECK(r.lease_id == 12345 && r.ttl == 0);
	etcd_reply_free(&r);

	CHECK(decode(ETCD_REPLY_REVOKE, real_put, &r, err, sizeof(err)) == 0);
	CHECK(r.revision == 2);
	etcd_reply_free(&r);

	CHECK(decode(ETCD_REPLY_RANGE, real_range, &r, err, sizeof(err)) == 0);
	CHECK(r.revision == 2 && r.range.count == 1 && r.range.n_kvs == 1 &&
	    !r.range.more);
	if (r.range.n_kvs == 1) {
		const struct etcd_kv *kv = &r.range.kvs[0];

		CHECK_STR(kv->key, "/s/y/nodes/a");
		CHECK(kv->key_len == 12);
		CHECK_STR(kv->value, "healthy");
		CHECK(kv->value_len == 7);
		CHECK(kv->create_revision == 2 && kv->mod_revision == 2 &&
		    kv->version == 1 && kv->lease == 402405947724414727LL);
	}
	etcd_reply_free(&r);
	CHECK(decode(ETCD_REPLY_RANGE, real_range_empty, &r, err,
	    sizeof(err)) == 0);
	CHECK(r.range.n_kvs == 0 && r.range.count == 0 && r.revision == 2);
	etcd_reply_free(&r);

	CHECK(decode(ETCD_REPLY_TXN, real_txn_put, &r, err, sizeof(err)) == 0);
	CHECK(r.succeeded && r.revision == 3 && r.n_responses == 1 &&
	    r.responses[0].kind == ETCD_OP_PUT);
	etcd_reply_free(&r);
	CHECK(decode(ETCD_REPLY_TXN, real_txn_failed_range, &r, err,
	    sizeof(err)) == 0);
	CHECK(!r.succeeded && r.n_responses == 1);
	if (r.n_responses == 1) {
		CHECK(r.responses[0].kind == ETCD_OP_RANGE);
		CHECK(r.responses[0].range.n_kvs == 1);
		if (r.responses[0].range.n_kvs == 1) {
			CHECK_STR(r.responses[0].range.kvs[0].key,
			    "/s/y/ips/10.0.0.1/marked");
			CHECK_STR(r.responses[0].range.kvs[0].value, "a");
		}
	}
	etcd_reply_free(&r);
	CHECK(decode(ETCD_REPLY_TXN, real_txn_delete, &r, err,
	    sizeof(err)) == 0);
	CHECK(r.succeeded && r.n_responses == 1 &&
	    r.responses[0].kind == ETCD_OP_DELETE &&
	    r.responses[0].deleted == 1);
	etcd_reply_free(&r);

	CHECK(decode(ETCD_REPLY_REVOKE, real_revoke_missing, &r, err,
	    sizeof(err)) == 0);
	CHECK(r.is_error && r.code == 5);
	CHECK_STR(r.message, "etcdserver: requested lease not found");
	etcd_reply_free(&r);
	CHECK(decode(ETCD_REPLY_RANGE, real_bad_base64, &r, err,
	    sizeof(err)) == 0);
	CHECK(r.is_error && r.code == 3);
	etcd_reply_free(&r);

	CHECK(decode(ETCD_REPLY_AUTH, real_auth, &r, err, sizeof(err)) == 0);
	CHECK_STR(r.token, "JwBGkQWVDlnvxKyt.39");
	etcd_reply_free(&r);
	CHECK(r.token == NULL);
	CHECK(decode(ETCD_REPLY_AUTH, real_auth_failed, &r, err,
	    sizeof(err)) == 0);
	CHECK(r.is_error && r.code == 3);
	CHECK_STR(r.message, "etcdserver: authentication failed, invalid "
	    "user ID or password");
	etcd_reply_free(&r);
	CHECK(decode(ETCD_REPLY_RANGE, real_invalid_token, &r, err,
	    sizeof(err)) == 0);
	CHECK(r.is_error && r.code == 16);
	etcd_reply_free(&r);
}

static void
test_real_watch(void)
{
	struct etcd_reply	r;
	char			err[256];

	CHECK(decode(ETCD_REPLY_WATCH, real_watch_created, &r, err,
	    sizeof(err)) == 0);
	CHECK(r.created && !r.canceled && r.revision == 4 && r.n_events == 0);
	etcd_reply_free(&r);

	CHECK(decode(ETCD_REPLY_WATCH, real_watch_events, &r, err,
	    sizeof(err)) == 0);
	CHECK(!r.created && r.n_events == 2);
	if (r.n_events == 2) {
		CHECK(r.events[0].type == ETCD_EVENT_PUT);
		CHECK_STR(r.events[0].kv.key, "/s/y/nodes/a");
		CHECK_STR(r.events[0].kv.value, "healthy");
		CHECK(!r.events[0].has_prev_kv);
		CHECK(r.events[1].type == ETCD_EVENT_DELETE);
		CHECK_STR(r.events[1].kv.key, "/s/y/ips/10.0.0.1/marked");
		CHECK(r.events[1].kv.value_len == 0);
		CHECK_STR(r.events[1].kv.value, "");
		CHECK(r.events[1].kv.mod_revision == 4);
		CHECK(r.events[1].has_prev_kv);
		CHECK_STR(r.events[1].prev_kv.value, "a");
		CHECK(r.events[1].prev_kv.lease == 402405947724414727LL);
	}
	etcd_reply_free(&r);

	CHECK(decode(ETCD_REPLY_WATCH, real_watch_compacted, &r, err,
	    sizeof(err)) == 0);
	CHECK(r.canceled && r.compact_revision == 5 && r.revision == 0);
	etcd_reply_free(&r);

	CHECK(decode(ETCD_REPLY_WATCH, real_watch_bad_token, &r, err,
	    sizeof(err)) == 0);
	CHECK(r.created && r.canceled && r.watch_id == -1);
	CHECK(strstr(r.cancel_reason, "invalid auth token") != NULL);
	etcd_reply_free(&r);

	CHECK(decode(ETCD_REPLY_WATCH, real_watch_progress, &r, err,
	    sizeof(err)) == 0);
	CHECK(!r.created && !r.canceled && r.n_events == 0 && r.revision == 7);
	etcd_reply_free(&r);

	CHECK(decode(ETCD_REPLY_WATCH, stream_error, &r, err,
	    sizeof(err)) == 0);
	CHECK(r.is_error && r.code == 14 && r.http_code == 503);
	CHECK_STR(r.message, "etcdserver: no leader");
	etcd_reply_free(&r);
}

/* ---- malformed replies: each with the exact error ---- */

struct bad {
	enum etcd_reply_kind	 kind;
	const char		*json;
	const char		*err;
};

static const struct bad bad_replies[] = {
	{ ETCD_REPLY_RANGE, "", "reply: not JSON" },
	{ ETCD_REPLY_RANGE, "{\"header\":", "reply: not JSON" },
	{ ETCD_REPLY_RANGE, "[]", "reply: not a JSON object" },
	{ ETCD_REPLY_RANGE, "{}", "header: missing" },
	{ ETCD_REPLY_RANGE, "{\"header\":[]}", "header: not an object" },
	{ ETCD_REPLY_RANGE, "{\"header\":{\"revision\":5}}",
	  "header.revision: not an int64 string" },
	{ ETCD_REPLY_RANGE, "{\"header\":{\"revision\":\"-5\"}}",
	  "header.revision: negative" },
	{ ETCD_REPLY_RANGE, "{\"header\":{\"revision\":\"05\"}}",
	  "header.revision: not an int64 string" },
	{ ETCD_REPLY_RANGE, "{\"header\":{\"revision\":\"9223372036854775808\"}}",
	  "header.revision: not an int64 string" },
	{ ETCD_REPLY_RANGE, "{\"header\":{\"revision\":\" 5\"}}",
	  "header.revision: not an int64 string" },
	{ ETCD_REPLY_RANGE, "{\"header\":{\"revision\":\"5x\"}}",
	  "header.revision: not an int64 string" },
	{ ETCD_REPLY_RANGE, "{\"header\":{},\"kvs\":{}}", "kvs: not an array" },
	{ ETCD_REPLY_RANGE, "{\"header\":{},\"kvs\":[1]}",
	  "kvs[0]: not an object" },
	{ ETCD_REPLY_RANGE, "{\"header\":{},\"kvs\":[{\"key\":\"YQ==\"},{}]}",
	  "kvs[1]: key missing or empty" },
	{ ETCD_REPLY_RANGE, "{\"header\":{},\"kvs\":[{\"key\":\"YQ=\"}]}",
	  "kvs[0].key: not a base64 string" },
	{ ETCD_REPLY_RANGE, "{\"header\":{},\"kvs\":[{\"key\":\"YR==\"}]}",
	  "kvs[0].key: not a base64 string" },
	{ ETCD_REPLY_RANGE, "{\"header\":{},\"kvs\":[{\"key\":1}]}",
	  "kvs[0].key: not a base64 string" },
	{ ETCD_REPLY_RANGE,
	  "{\"header\":{},\"kvs\":[{\"key\":\"YQ==\",\"lease\":true}]}",
	  "kvs[0].lease: not an int64 string" },
	{ ETCD_REPLY_RANGE,
	  "{\"header\":{},\"kvs\":[{\"key\":\"YQ==\",\"value\":\"a\"}]}",
	  "kvs[0].value: not a base64 string" },
	{ ETCD_REPLY_RANGE, "{\"header\":{},\"more\":\"true\"}",
	  "more: not a boolean" },
	{ ETCD_REPLY_RANGE, "{\"header\":{},\"count\":\"-1\"}",
	  "count: negative" },
	{ ETCD_REPLY_TXN, "{\"header\":{},\"succeeded\":1}",
	  "succeeded: not a boolean" },
	{ ETCD_REPLY_TXN, "{\"header\":{},\"responses\":[{}]}",
	  "responses[0]: no range, put or delete response" },
	{ ETCD_REPLY_TXN, "{\"header\":{},\"responses\":[{\"response_put\":{},"
	  "\"response_range\":{}}]}", "responses[0]: more than one response" },
	{ ETCD_REPLY_TXN, "{\"header\":{},\"responses\":[{\"response_range\":"
	  "{\"kvs\":[{\"key\":\"\"}]}}]}",
	  "responses[0].response_range.kvs[0]: key missing or empty" },
	{ ETCD_REPLY_TXN, "{\"header\":{},\"responses\":[{\"response_put\":{}},"
	  "{\"response_delete_range\":{\"deleted\":1}}]}",
	  "responses[1].response_delete_range.deleted: not an int64 string" },
	{ ETCD_REPLY_GRANT, "{\"header\":{},\"ID\":\"1\",\"TTL\":2}",
	  "TTL: not an int64 string" },
	{ ETCD_REPLY_GRANT, "{\"ID\":\"1\",\"TTL\":\"2\"}", "header: missing" },
	{ ETCD_REPLY_KEEPALIVE, "{\"header\":{},\"TTL\":\"2\"}",
	  "result: missing" },
	{ ETCD_REPLY_KEEPALIVE, "{\"result\":{\"header\":{},\"TTL\":\"-2\"}}",
	  "result.TTL: negative" },
	{ ETCD_REPLY_AUTH, "{\"header\":{}}", "token: missing" },
	{ ETCD_REPLY_AUTH, "{\"token\":\"\"}", "token: not a non-empty string" },
	{ ETCD_REPLY_AUTH, "{\"token\":\"a\\r\\nX-Evil: 1\"}",
	  "token: holds a line break" },
	{ ETCD_REPLY_WATCH, "{\"result\":[]}", "result: not an object" },
	{ ETCD_REPLY_WATCH, "{\"result\":{}}", "result.header: missing" },
	{ ETCD_REPLY_WATCH, "{\"result\":{\"header\":{},\"created\":\"yes\"}}",
	  "result.created: not a boolean" },
	{ ETCD_REPLY_WATCH, "{\"result\":{\"header\":{},\"events\":[{}]}}",
	  "result.events[0].kv: missing" },
	{ ETCD_REPLY_WATCH, "{\"result\":{\"header\":{},\"events\":[{\"type\":"
	  "\"TOUCH\",\"kv\":{\"key\":\"YQ==\"}}]}}",
	  "result.events[0].type: neither PUT nor DELETE" },
	{ ETCD_REPLY_WATCH, "{\"result\":{\"header\":{},\"events\":[{\"kv\":"
	  "{\"key\":\"YQ==\"},\"prev_kv\":{\"key\":\"YQ==\",\"version\":\"x\"}}]}}",
	  "result.events[0].prev_kv.version: not an int64 string" },
	{ ETCD_REPLY_WATCH, "{\"result\":{\"header\":{},\"compact_revision\":5}}",
	  "result.compact_revision: not an int64 string" },
	{ ETCD_REPLY_WATCH, "{\"error\":5}",
	  "error: neither a string nor an object" },
	{ ETCD_REPLY_WATCH, "{\"error\":{\"grpc_code\":\"14\"}}",
	  "error.grpc_code: not an integer in 0..64" },
	{ ETCD_REPLY_RANGE, "{\"error\":\"x\",\"code\":1.5}",
	  "code: not an integer in 0..64" },
	{ ETCD_REPLY_RANGE, "{\"error\":\"x\",\"message\":7}",
	  "message: not a string" },
};

static void
test_bad_replies(void)
{
	struct etcd_reply	r;
	char			err[256];
	size_t			i;

	for (i = 0; i < sizeof(bad_replies) / sizeof(bad_replies[0]); i++) {
		const struct bad *b = &bad_replies[i];
		int rc = decode(b->kind, b->json, &r, err, sizeof(err));

		if (rc != -1 || strcmp(err, b->err) != 0) {
			fprintf(stderr, "bad reply %zu %s: rc %d, err \"%s\", "
			    "want \"%s\"\n", i, b->json, rc, err, b->err);
			check_failures++;
		}
		etcd_reply_free(&r);
	}
	/* messages go into logs: control characters are replaced */
	CHECK(decode(ETCD_REPLY_RANGE, "{\"error\":\"a\\nb\",\"code\":2}", &r,
	    err, sizeof(err)) == 0);
	CHECK_STR(r.message, "a?b");
	etcd_reply_free(&r);
	/* unknown fields are ignored (newer servers) */
	CHECK(decode(ETCD_REPLY_RANGE, "{\"header\":{\"revision\":\"3\","
	    "\"new\":[1]},\"kvs\":[{\"key\":\"YQ==\",\"x\":{}}],\"y\":null}",
	    &r, err, sizeof(err)) == 0);
	CHECK(r.revision == 3 && r.range.n_kvs == 1);
	etcd_reply_free(&r);
	/* a key holding NUL bytes keeps its length */
	CHECK(decode(ETCD_REPLY_RANGE, "{\"header\":{},\"kvs\":[{\"key\":"
	    "\"YQBi\"}]}", &r, err, sizeof(err)) == 0);
	CHECK(r.range.n_kvs == 1 && r.range.kvs[0].key_len == 3 &&
	    memcmp(r.range.kvs[0].key, "a\0b", 3) == 0);
	etcd_reply_free(&r);
	/* buffers need not be NUL-terminated */
	CHECK(etcd_decode_reply(ETCD_REPLY_REVOKE, "{\"header\":{}}xyz", 13,
	    &r, err, sizeof(err)) == 0);
	etcd_reply_free(&r);
}

/* A range of 5000 IPs and their marks decodes well within the bounds. */
static void
test_big_range(void)
{
	struct etcd_reply	 r;
	char			 err[256], key[64], b64[128];
	size_t			 cap = 10000 * 300, len;
	char			*buf;
	int			 i;

	if ((buf = malloc(cap)) == NULL)
		abort();
	len = (size_t)snprintf(buf, cap,
	    "{\"header\":{\"revision\":\"99\"},\"kvs\":[");
	for (i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "/service/yaim/ips/10.%d.%d.%d%s",
		    i / 2 / 65536, i / 2 / 256 % 256, i / 2 % 256,
		    i % 2 ? "/marked" : "");
		etcd_base64_encode(key, strlen(key), b64);
		len += (size_t)snprintf(buf + len, cap - len,
		    "%s{\"key\":\"%s\",\"create_revision\":\"%d\","
		    "\"mod_revision\":\"%d\",\"version\":\"1\",\"value\":"
		    "\"bm9kZS0x\",\"lease\":\"7587869468316483587\"}",
		    i ? "," : "", b64, i + 1, i + 1);
	}
	len += (size_t)snprintf(buf + len, cap - len,
	    "],\"count\":\"10000\"}");
	CHECK(len < cap - 1 && len < ETCD_MAX_REPLY);
	CHECK(etcd_decode_reply(ETCD_REPLY_RANGE, buf, len, &r, err,
	    sizeof(err)) == 0);
	CHECK(r.range.n_kvs == 10000 && r.range.count == 10000);
	if (r.range.n_kvs == 10000) {
		CHECK_STR(r.range.kvs[9999].key,
		    "/service/yaim/ips/10.0.19.135/marked");
		CHECK_STR(r.range.kvs[9999].value, "node-1");
	}
	etcd_reply_free(&r);
	free(buf);
}

/* ---- encoders ---- */

static void
test_encoders(void)
{
	struct etcd_buf		b = { NULL, 0, 0 };
	struct etcd_compare	cmp[2] = {
		{ "/p/ips/10.0.0.1/marked", ETCD_CMP_CREATE, ETCD_CMP_EQUAL, 0,
		  NULL },
		{ "/p/x", ETCD_CMP_VALUE, ETCD_CMP_NOT_EQUAL, 0, "v" },
	};
	struct etcd_op		ops[3] = {
		{ ETCD_OP_PUT, "/p/ips/10.0.0.1/marked", "n1", 42, 0 },
		{ ETCD_OP_DELETE, "/p/d/", NULL, 0, 1 },
		{ ETCD_OP_RANGE, "/p/r", NULL, 0, 0 },
	};
	struct etcd_txn		t = { cmp, 2, ops, 2, &ops[2], 1 };
	struct etcd_watch_opts	w = { "/p/", 1, 17, 1, 0 };
	struct etcd_compare	bad = { "/k", 99, ETCD_CMP_EQUAL, 0, NULL };
	struct etcd_txn		tbad = { &bad, 1, NULL, 0, NULL, 0 };
	char			longkey[ETCD_MAX_KEY + 2];

	CHECK(etcd_encode_range(&b, "/p/", 1, 0) == 0);
	CHECK_STR(b.data, "{\"key\":\"L3Av\",\"range_end\":\"L3Aw\"}");
	etcd_buf_wipe(&b);
	CHECK(b.data == NULL && b.len == 0);
	CHECK(etcd_encode_range(&b, "/p/a", 0, 12) == 0);
	CHECK_STR(b.data, "{\"key\":\"L3AvYQ==\",\"revision\":\"12\"}");
	etcd_buf_wipe(&b);

	CHECK(etcd_encode_txn(&b, &t) == 0);
	CHECK_STR(b.data, "{\"compare\":["
	    "{\"key\":\"L3AvaXBzLzEwLjAuMC4xL21hcmtlZA==\",\"target\":"
	    "\"CREATE\",\"result\":\"EQUAL\",\"create_revision\":\"0\"},"
	    "{\"key\":\"L3AveA==\",\"target\":\"VALUE\",\"result\":\"NOT_EQUAL\","
	    "\"value\":\"dg==\"}],"
	    "\"success\":[{\"request_put\":{\"key\":"
	    "\"L3AvaXBzLzEwLjAuMC4xL21hcmtlZA==\",\"value\":\"bjE=\","
	    "\"lease\":\"42\"}},{\"request_delete_range\":{\"key\":\"L3AvZC8=\","
	    "\"range_end\":\"L3AvZDA=\"}}],"
	    "\"failure\":[{\"request_range\":{\"key\":\"L3Avcg==\"}}]}");
	etcd_buf_wipe(&b);
	/* release: lease compare */
	cmp[0].target = ETCD_CMP_LEASE;
	cmp[0].number = 7587869468316483587LL;
	t.n_compare = 1;
	t.n_success = 0;
	t.n_failure = 0;
	CHECK(etcd_encode_txn(&b, &t) == 0);
	CHECK_STR(b.data, "{\"compare\":[{\"key\":"
	    "\"L3AvaXBzLzEwLjAuMC4xL21hcmtlZA==\",\"target\":\"LEASE\","
	    "\"result\":\"EQUAL\",\"lease\":\"7587869468316483587\"}]}");
	etcd_buf_wipe(&b);
	CHECK(etcd_encode_txn(&b, &tbad) == -1);
	etcd_buf_wipe(&b);
	t.n_success = ETCD_MAX_TXN_OPS + 1;
	CHECK(etcd_encode_txn(&b, &t) == -1);
	etcd_buf_wipe(&b);
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	CHECK(etcd_encode_range(&b, longkey, 0, 0) == -1);
	etcd_buf_wipe(&b);

	CHECK(etcd_encode_lease_grant(&b, 5) == 0);
	CHECK_STR(b.data, "{\"TTL\":\"5\"}");
	etcd_buf_wipe(&b);
	CHECK(etcd_encode_lease_id(&b, 402405947724414727LL) == 0);
	CHECK_STR(b.data, "{\"ID\":\"402405947724414727\"}");
	etcd_buf_wipe(&b);
	CHECK(etcd_encode_auth(&b, "ro\"ot", "p\\w\n\x01") == 0);
	CHECK_STR(b.data, "{\"name\":\"ro\\\"ot\",\"password\":"
	    "\"p\\\\w\\u000a\\u0001\"}");
	etcd_buf_wipe(&b);
	CHECK(etcd_encode_watch_create(&b, &w) == 0);
	CHECK_STR(b.data, "{\"create_request\":{\"key\":\"L3Av\",\"range_end\":"
	    "\"L3Aw\",\"start_revision\":\"17\",\"prev_kv\":true,"
	    "\"progress_notify\":true}}");
	etcd_buf_wipe(&b);
}

static void
test_primitives(void)
{
	char		out[64];
	int64_t		v;
	size_t		n;
	long		l;
	static const char *bad64[] = { "A", "AA", "AAA", "A===", "=AAA",
	    "AA=A", "YR==", "YWJ=", "YQ==YQ==", "Y Q=", "YQ-_" };
	static const char *badint[] = { "", "-", "+1", "01", "-0", "1.0",
	    "1e3", " 1", "1 ", "9223372036854775808", "-9223372036854775809",
	    "0x10", "99999999999999999999" };
	size_t		i;

	CHECK(etcd_base64_encode("", 0, out) == 0 && out[0] == '\0');
	CHECK(etcd_base64_encode("a", 1, out) == 4);
	CHECK_STR(out, "YQ==");
	CHECK(etcd_base64_encode("ab", 2, out) == 4);
	CHECK_STR(out, "YWI=");
	CHECK(etcd_base64_encode("abc", 3, out) == 4);
	CHECK_STR(out, "YWJj");
	CHECK(etcd_base64_encode("\xff\xfe\x00", 3, out) == 4);
	CHECK_STR(out, "//4A");
	CHECK(etcd_base64_decode("", 0, out) == 0);
	CHECK(etcd_base64_decode("YWJj", 4, out) == 3);
	CHECK_STR(out, "abc");
	CHECK(etcd_base64_decode("YWI=", 4, out) == 2);
	CHECK_STR(out, "ab");
	CHECK(etcd_base64_decode("//4A", 4, out) == 3);
	CHECK(memcmp(out, "\xff\xfe\x00", 3) == 0);
	for (i = 0; i < sizeof(bad64) / sizeof(bad64[0]); i++) {
		l = etcd_base64_decode(bad64[i], strlen(bad64[i]), out);
		if (l != -1) {
			fprintf(stderr, "base64 \"%s\" accepted\n", bad64[i]);
			check_failures++;
		}
	}
	/* round trip of every length and byte */
	for (n = 0; n < 40; n++) {
		char in[40], enc[64], dec[64];

		for (i = 0; i < n; i++)
			in[i] = (char)(n * 37 + i * 101);
		etcd_base64_encode(in, n, enc);
		CHECK(etcd_base64_decode(enc, strlen(enc), dec) == (long)n);
		CHECK(memcmp(in, dec, n) == 0);
	}

	CHECK(etcd_parse_int64("0", &v) == 0 && v == 0);
	CHECK(etcd_parse_int64("9223372036854775807", &v) == 0 &&
	    v == INT64_MAX);
	CHECK(etcd_parse_int64("-9223372036854775808", &v) == 0 &&
	    v == INT64_MIN);
	CHECK(etcd_parse_int64("-1", &v) == 0 && v == -1);
	for (i = 0; i < sizeof(badint) / sizeof(badint[0]); i++)
		if (etcd_parse_int64(badint[i], &v) != -1) {
			fprintf(stderr, "int64 \"%s\" accepted\n", badint[i]);
			check_failures++;
		}

	CHECK(etcd_prefix_end("/p/", 3, out) == 3 &&
	    memcmp(out, "/p0", 3) == 0);
	CHECK(etcd_prefix_end("a\xff", 2, out) == 1 && out[0] == 'b');
	CHECK(etcd_prefix_end("a\xfe", 2, out) == 2 &&
	    memcmp(out, "a\xff", 2) == 0);
	CHECK(etcd_prefix_end("\xff\xff", 2, out) == 1 && out[0] == '\0');
	CHECK(etcd_prefix_end("", 0, out) == 1 && out[0] == '\0');
}

/* ---- splitter ---- */

struct collect {
	char	objs[8][512];
	int	n;
	int	stop_at;
};

static int
collect_cb(const char *obj, size_t len, void *arg)
{
	struct collect	*c = arg;

	if (c->n < 8 && len < sizeof(c->objs[0])) {
		memcpy(c->objs[c->n], obj, len);
		c->objs[c->n][len] = '\0';
	}
	c->n++;
	return c->stop_at && c->n == c->stop_at ? 7 : 0;
}

static void
test_splitter(void)
{
	static const char stream[] =
	    "{\"result\":{\"created\":true}}\n"
	    "{\"result\":{\"s\":\"}{\\\"\\\\\",\"a\":[{},[]]}}\r\n\n"
	    "  {\"error\":{\"message\":\"x\"}}\n";
	static const char *want[3] = {
	    "{\"result\":{\"created\":true}}",
	    "{\"result\":{\"s\":\"}{\\\"\\\\\",\"a\":[{},[]]}}",
	    "{\"error\":{\"message\":\"x\"}}" };
	struct etcd_splitter	s;
	struct collect		c;
	char			err[128];
	size_t			len = strlen(stream), i, j, k;

	/* every way to cut the stream in three chunks */
	for (i = 0; i <= len; i++)
		for (j = i; j <= len; j++) {
			memset(&c, 0, sizeof(c));
			etcd_splitter_init(&s, 1024);
			if (etcd_splitter_feed(&s, stream, i, collect_cb, &c,
			    err, sizeof(err)) != 0 ||
			    etcd_splitter_feed(&s, stream + i, j - i,
			    collect_cb, &c, err, sizeof(err)) != 0 ||
			    etcd_splitter_feed(&s, stream + j, len - j,
			    collect_cb, &c, err, sizeof(err)) != 0) {
				fprintf(stderr, "split %zu/%zu: %s\n", i, j, err);
				check_failures++;
			}
			if (c.n != 3) {
				fprintf(stderr, "split %zu/%zu: %d objects\n", i,
				    j, c.n);
				check_failures++;
			} else
				for (k = 0; k < 3; k++)
					CHECK_STR(c.objs[k], want[k]);
			etcd_splitter_free(&s);
		}

	/* byte by byte */
	memset(&c, 0, sizeof(c));
	etcd_splitter_init(&s, 1024);
	for (i = 0; i < len; i++)
		CHECK(etcd_splitter_feed(&s, stream + i, 1, collect_cb, &c, err,
		    sizeof(err)) == 0);
	CHECK(c.n == 3);
	etcd_splitter_free(&s);

	/* the callback stops the feed */
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	etcd_splitter_init(&s, 1024);
	CHECK(etcd_splitter_feed(&s, stream, len, collect_cb, &c, err,
	    sizeof(err)) == 7);
	CHECK(c.n == 2);
	etcd_splitter_free(&s);

	/* junk between objects; sticky failure */
	memset(&c, 0, sizeof(c));
	etcd_splitter_init(&s, 1024);
	CHECK(etcd_splitter_feed(&s, "{}x{}", 5, collect_cb, &c, err,
	    sizeof(err)) == -1);
	CHECK_STR(err, "watch stream: junk between objects");
	CHECK(c.n == 1);
	CHECK(etcd_splitter_feed(&s, "{}", 2, collect_cb, &c, err,
	    sizeof(err)) == -1);
	CHECK_STR(err, "watch stream: failed before");
	etcd_splitter_free(&s);

	/* the size bound */
	memset(&c, 0, sizeof(c));
	etcd_splitter_init(&s, 8);
	CHECK(etcd_splitter_feed(&s, "{\"a\":1} {\"ab\":\"xyz\"}", 20,
	    collect_cb, &c, err, sizeof(err)) == -1);
	CHECK_STR(err, "watch stream: object longer than the limit");
	CHECK(c.n == 1);
	etcd_splitter_free(&s);
	etcd_splitter_init(&s, 8);
	memset(&c, 0, sizeof(c));
	CHECK(etcd_splitter_feed(&s, "{\"a\":12}", 8, collect_cb, &c, err,
	    sizeof(err)) == 0 && c.n == 1);
	etcd_splitter_free(&s);
}

/*
 * The bound on JSON values (DESIGN.md section 11): exact for arrays,
 * strings do not count, and a reply just over the bound is refused
 * before cJSON allocates anything for it.
 */
static void
test_value_bound(void)
{
	struct etcd_reply	 r;
	char			 err[256], *buf;
	size_t			 len, i, n = ETCD_MAX_JSON_VALUES;
	const char		*head = "{\"kvs\":[";

	CHECK(etcd_json_values("1", 1) == 1);
	CHECK(etcd_json_values("[1,2,3]", 7) == 4);
	CHECK(etcd_json_values("{\"a\":\"x,[{y\"}", 13) == 2);
	CHECK(etcd_json_values("[\"\\\",\",1]", 9) == 3);
	CHECK(etcd_json_values(",,,", 3) == 4);
	/* root, kvs and n values: over the bound */
	if ((buf = malloc(2 * n + 64)) == NULL)
		abort();
	len = (size_t)sprintf(buf, "%s", head);
	for (i = 0; i < n - 1; i++) {
		buf[len++] = '0';
		buf[len++] = ',';
	}
	len += (size_t)sprintf(buf + len, "0]}");
	CHECK(etcd_json_values(buf, len) == n + 2);
	CHECK(etcd_decode_reply(ETCD_REPLY_RANGE, buf, len, &r, err,
	    sizeof(err)) == -1);
	CHECK_STR(err, "reply: has more than 1048576 JSON values");
	etcd_reply_free(&r);
	free(buf);
}

int
main(void)
{
	test_primitives();
	test_encoders();
	test_real_replies();
	test_real_watch();
	test_bad_replies();
	test_big_range();
	test_value_bound();
	test_splitter();
	if (check_failures) {
		fprintf(stderr, "%d failure(s)\n", check_failures);
		return 1;
	}
	printf("etcd_json: all tests passed\n");
	return 0;
}
