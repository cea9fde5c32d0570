/*
 * Unit tests of dcs/etcd2_view.c: the lease stand-ins of the v2 layout
 * (a mark counts for its node only after that node's key), a full read
 * and watch events as v3 kvs (a recursive pool delete takes its mark),
 * fencing from the oldest refresh, and the bounded refresh plan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcs/etcd2_view.h"

#include "regress/unit/check.h"

#define PFX	"/service/yaim/"

/* Shaped like etcd 3.4.23's GET /service/yaim?recursive=true (written by
 * hand, indices picked for the cases): nodeA's key
 * (created 10), its mark on 10.0.0.1 (created 12, after it), nodeB's
 * stale mark on 10.0.0.2 (created 5, before nodeB's key at 11), a mark
 * of nodeC that has no node key, and a refusal of nodeA. */
static const char real_read[] =
    "{\"action\":\"get\",\"node\":{\"key\":\"/service/yaim\",\"dir\":true,"
    "\"nodes\":[{\"key\":\"/service/yaim/ips\",\"dir\":true,\"nodes\":["
    "{\"key\":\"/service/yaim/ips/10.0.0.1\",\"dir\":true,\"nodes\":["
    "{\"key\":\"/service/yaim/ips/10.0.0.1/marked\",\"value\":\"nodeA\","
    "\"ttl\":5,\"modifiedIndex\":14,\"createdIndex\":12}],"
    "\"modifiedIndex\":3,\"createdIndex\":3},"
    "{\"key\":\"/service/yaim/ips/10.0.0.2\",\"dir\":true,\"nodes\":["
    "{\"key\":\"/service/yaim/ips/10.0.0.2/marked\",\"value\":\"nodeB\","
    "\"ttl\":5,\"modifiedIndex\":9,\"createdIndex\":5}],"
    "\"modifiedIndex\":4,\"createdIndex\":4},"
    "{\"key\":\"/service/yaim/ips/10.0.0.3\",\"dir\":true,\"nodes\":["
    "{\"key\":\"/service/yaim/ips/10.0.0.3/marked\",\"value\":\"nodeC\","
    "\"ttl\":5,\"modifiedIndex\":8,\"createdIndex\":8}],"
    "\"modifiedIndex\":6,\"createdIndex\":6}],"
    "\"modifiedIndex\":3,\"createdIndex\":3},"
    "{\"key\":\"/service/yaim/nodes\",\"dir\":true,\"nodes\":["
    "{\"key\":\"/service/yaim/nodes/nodeA\",\"value\":\"healthy\","
    "\"ttl\":5,\"modifiedIndex\":15,\"createdIndex\":10},"
    "{\"key\":\"/service/yaim/nodes/nodeB\",\"value\":\"healthy\","
    "\"ttl\":5,\"modifiedIndex\":11,\"createdIndex\":11}],"
    "\"modifiedIndex\":10,\"createdIndex\":10},"
    "{\"key\":\"/service/yaim/refused\",\"dir\":true,\"nodes\":["
    "{\"key\":\"/service/yaim/refused/nodeA\",\"dir\":true,\"nodes\":["
    "{\"key\":\"/service/yaim/refused/nodeA/10.0.0.3\",\"value\":"
    "\"outside\",\"ttl\":5,\"modifiedIndex\":13,\"createdIndex\":13}],"
    "\"modifiedIndex\":13,\"createdIndex\":13}],"
    "\"modifiedIndex\":13,\"createdIndex\":13}],"
    "\"modifiedIndex\":2,\"createdIndex\":2}}";

static const struct etcd_kv *
find(const struct etcd_kv *kv, size_t n, const char *key)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (kv[i].key_len == strlen(key) &&
		    memcmp(kv[i].key, key, kv[i].key_len) == 0)
			return &kv[i];
	return NULL;
}

static void
test_read(void)
{
	struct etcd2_reply	 r;
	struct etcd_kv		*kv;
	const struct etcd_kv	*k;
	size_t			 n;
	char			 err[256];

	CHECK(etcd2_decode_reply(real_read, strlen(real_read), &r, err,
	    sizeof(err)) == 0, " %s", err);
	CHECK(etcd2_read_kvs(PFX, &r, &kv, &n, err, sizeof(err)) == 0,
	    " %s", err);
	/* 3 pool dirs, 3 marks, 2 node keys, 1 refusal; no other dirs */
	CHECK(n == 9, " n %zu", n);
	k = find(kv, n, PFX "ips/10.0.0.1");
	CHECK(k != NULL && k->value_len == 0 && k->lease == 0 &&
	    k->mod_revision == 3);
	k = find(kv, n, PFX "nodes/nodeA");
	CHECK(k != NULL && k->lease == 10 && k->value_len == 7);
	k = find(kv, n, PFX "nodes/nodeB");
	CHECK(k != NULL && k->lease == 11);
	k = find(kv, n, PFX "ips/10.0.0.1/marked");
	CHECK(k != NULL && k->lease == 10 && k->create_revision == 12 &&
	    k->mod_revision == 14, " lease %lld", k ? (long long)k->lease : 0);
	/* made before nodeB's key: an earlier incarnation */
	k = find(kv, n, PFX "ips/10.0.0.2/marked");
	CHECK(k != NULL && k->lease == -5);
	/* nodeC has no node key */
	k = find(kv, n, PFX "ips/10.0.0.3/marked");
	CHECK(k != NULL && k->lease == -8);
	k = find(kv, n, PFX "refused/nodeA/10.0.0.3");
	CHECK(k != NULL && k->lease == 10);
	CHECK(find(kv, n, PFX "ips") == NULL);
	CHECK(find(kv, n, PFX "refused/nodeA") == NULL);
	free(kv);
	/* a read of another prefix is refused */
	CHECK(etcd2_read_kvs("/service/other/", &r, &kv, &n, err,
	    sizeof(err)) == -1 && kv == NULL);
	CHECK(etcd2_read_kvs("/service/", &r, &kv, &n, err,
	    sizeof(err)) == -1);
	etcd2_reply_free(&r);
}

/* ips/10.0.0.5 made by nodeA's claim (index 20 for both), after the
 * operator's delete; ips/10.0.0.6 made by the operator first. */
static const char real_implicit[] =
    "{\"action\":\"get\",\"node\":{\"key\":\"/service/yaim\",\"dir\":true,"
    "\"nodes\":[{\"key\":\"/service/yaim/ips\",\"dir\":true,\"nodes\":["
    "{\"key\":\"/service/yaim/ips/10.0.0.5\",\"dir\":true,\"nodes\":["
    "{\"key\":\"/service/yaim/ips/10.0.0.5/marked\",\"value\":\"nodeA\","
    "\"ttl\":5,\"modifiedIndex\":20,\"createdIndex\":20}],"
    "\"modifiedIndex\":20,\"createdIndex\":20},"
    "{\"key\":\"/service/yaim/ips/10.0.0.6\",\"dir\":true,\"nodes\":["
    "{\"key\":\"/service/yaim/ips/10.0.0.6/marked\",\"value\":\"nodeA\","
    "\"ttl\":5,\"modifiedIndex\":22,\"createdIndex\":22}],"
    "\"modifiedIndex\":21,\"createdIndex\":21}],"
    "\"modifiedIndex\":3,\"createdIndex\":3}],"
    "\"modifiedIndex\":2,\"createdIndex\":2}}";

static void
test_implicit_dir(void)
{
	struct etcd2_reply	 r;
	struct etcd_kv		*kv;
	size_t			 n;
	char			 err[256];

	CHECK(etcd2_decode_reply(real_implicit, strlen(real_implicit), &r,
	    err, sizeof(err)) == 0, " %s", err);
	CHECK(etcd2_read_kvs(PFX, &r, &kv, &n, err, sizeof(err)) == 0,
	    " %s", err);
	CHECK(n == 3, " n %zu", n);
	CHECK(find(kv, n, PFX "ips/10.0.0.5") == NULL);
	CHECK(find(kv, n, PFX "ips/10.0.0.5/marked") != NULL);
	CHECK(find(kv, n, PFX "ips/10.0.0.6") != NULL);
	CHECK(find(kv, n, PFX "ips/10.0.0.6/marked") != NULL);
	free(kv);
	etcd2_reply_free(&r);
}

static int64_t
created_a12(const char *node, void *arg)
{
	(void)arg;
	return strcmp(node, "nodeA") == 0 ? 12 : 0;
}

static void
test_lease_of(void)
{
	CHECK(etcd2_lease_of(PFX, PFX "ips/10.0.0.1/marked", "nodeA", 13,
	    created_a12, NULL) == 12);
	/* the same index cannot be both; before the key: stale */
	CHECK(etcd2_lease_of(PFX, PFX "ips/10.0.0.1/marked", "nodeA", 12,
	    created_a12, NULL) == -12);
	CHECK(etcd2_lease_of(PFX, PFX "ips/10.0.0.1/marked", "nodeA", 7,
	    created_a12, NULL) == -7);
	CHECK(etcd2_lease_of(PFX, PFX "ips/10.0.0.1/marked", "nodeB", 20,
	    created_a12, NULL) == -20);
	/* not a node name: matches nobody */
	CHECK(etcd2_lease_of(PFX, PFX "ips/10.0.0.1/marked", "a b", 20,
	    created_a12, NULL) == -20);
	CHECK(etcd2_lease_of(PFX, PFX "ips/10.0.0.1/marked", NULL, 20,
	    created_a12, NULL) == -20);
	CHECK(etcd2_lease_of(PFX, PFX "nodes/nodeA", "healthy", 12,
	    created_a12, NULL) == 12);
	CHECK(etcd2_lease_of(PFX, PFX "refused/nodeA/10.0.0.9", "x", 30,
	    created_a12, NULL) == 12);
	CHECK(etcd2_lease_of(PFX, PFX "ips/10.0.0.1", NULL, 30,
	    created_a12, NULL) == 0);
	CHECK(etcd2_lease_of(PFX, "/elsewhere/x", "nodeA", 30,
	    created_a12, NULL) == 0);
}

static struct etcd2_node
mknode(const char *key, const char *value, int dir, int64_t created,
    int64_t mod)
{
	struct etcd2_node	n;

	memset(&n, 0, sizeof(n));
	n.key = key;
	n.key_len = strlen(key);
	n.value = value;
	n.value_len = value != NULL ? strlen(value) : 0;
	n.dir = dir;
	n.created_index = created;
	n.modified_index = mod;
	return n;
}

static void
test_events(void)
{
	struct etcd_event	ev[2];
	struct etcd2_node	nd;
	char			mk[256];
	int			n;

	/* the spec's add: a pool dir */
	nd = mknode(PFX "ips/123.0.0.1", NULL, 1, 40, 40);
	n = etcd2_event_kvs(PFX, "set", &nd, created_a12, NULL, mk,
	    sizeof(mk), ev);
	CHECK(n == 1 && ev[0].type == ETCD_EVENT_PUT &&
	    ev[0].kv.value_len == 0 && ev[0].kv.mod_revision == 40);
	/* a claim after nodeA's key */
	nd = mknode(PFX "ips/123.0.0.1/marked", "nodeA", 0, 41, 41);
	n = etcd2_event_kvs(PFX, "create", &nd, created_a12, NULL, mk,
	    sizeof(mk), ev);
	CHECK(n == 1 && ev[0].type == ETCD_EVENT_PUT &&
	    ev[0].kv.lease == 12 && ev[0].kv.value_len == 5);
	/* a mark expires */
	nd = mknode(PFX "ips/123.0.0.1/marked", NULL, 0, 41, 45);
	n = etcd2_event_kvs(PFX, "expire", &nd, created_a12, NULL, mk,
	    sizeof(mk), ev);
	CHECK(n == 1 && ev[0].type == ETCD_EVENT_DELETE &&
	    ev[0].kv.mod_revision == 45);
	/* the spec's delete: the dir and, silently, its mark */
	nd = mknode(PFX "ips/123.0.0.1", NULL, 1, 40, 50);
	n = etcd2_event_kvs(PFX, "delete", &nd, created_a12, NULL, mk,
	    sizeof(mk), ev);
	CHECK(n == 2 && ev[0].type == ETCD_EVENT_DELETE &&
	    ev[1].type == ETCD_EVENT_DELETE && ev[1].kv.mod_revision == 50);
	CHECK(n == 2 && ev[1].kv.key_len == strlen(PFX
	    "ips/123.0.0.1/marked") && memcmp(ev[1].kv.key, PFX
	    "ips/123.0.0.1/marked", ev[1].kv.key_len) == 0);
	/* too small a buffer for the mark's name: read again */
	CHECK(etcd2_event_kvs(PFX, "delete", &nd, created_a12, NULL, mk,
	    10, ev) == -1);
	/* the whole pool, or a refusal dir, gone: read again */
	nd = mknode(PFX "ips", NULL, 1, 3, 51);
	CHECK(etcd2_event_kvs(PFX, "delete", &nd, created_a12, NULL, mk,
	    sizeof(mk), ev) == -1);
	nd = mknode(PFX "refused/nodeA", NULL, 1, 13, 52);
	CHECK(etcd2_event_kvs(PFX, "expire", &nd, created_a12, NULL, mk,
	    sizeof(mk), ev) == -1);
	/* a directory made: nothing */
	CHECK(etcd2_event_kvs(PFX, "set", &nd, created_a12, NULL, mk,
	    sizeof(mk), ev) == 0);
	/* an action we do not know */
	nd = mknode(PFX "nodes/nodeA", "healthy", 0, 12, 53);
	CHECK(etcd2_event_kvs(PFX, "frobnicate", &nd, created_a12, NULL,
	    mk, sizeof(mk), ev) == -1);
	CHECK(etcd2_event_kvs(PFX, "compareAndSwap", &nd, created_a12, NULL,
	    mk, sizeof(mk), ev) == 1 && ev[0].kv.lease == 12);
	CHECK(etcd2_event_kvs(PFX, "compareAndDelete", &nd, created_a12,
	    NULL, mk, sizeof(mk), ev) == 1 &&
	    ev[0].type == ETCD_EVENT_DELETE);
}

static void
test_fence(void)
{
	const uint64_t	sent[] = { 5000, 3000, 4000 };

	CHECK(etcd2_fence_deadline(sent, 0, 5000, 500) == 0);
	CHECK(etcd2_fence_deadline(sent, 3, 5000, 500) == 7500);
	CHECK(etcd2_fence_deadline(sent, 1, 5000, 500) == 9500);
	/* never 0 ("hold nothing") while something is held */
	CHECK(etcd2_fence_deadline((const uint64_t[]){ 0 }, 1, 400, 500) == 1);
}

static void
test_refresh_plan(void)
{
	const uint64_t	sent[] = { 900, 100, 500, 300, 1000, 200 };
	size_t		out[6], n;

	/* ttl 3000: due when sent <= now - 1000 */
	n = etcd2_refresh_plan(sent, 6, 1500, 3000, out, 6);
	CHECK(n == 4 && out[0] == 1 && out[1] == 5 && out[2] == 3 &&
	    out[3] == 2, " n %zu", n);
	/* bounded: the oldest first */
	n = etcd2_refresh_plan(sent, 6, 1500, 3000, out, 2);
	CHECK(n == 2 && out[0] == 1 && out[1] == 5);
	n = etcd2_refresh_plan(sent, 6, 2000, 3000, out, 6);
	CHECK(n == 6 && out[0] == 1 && out[5] == 4);
	CHECK(etcd2_refresh_plan(sent, 6, 1000, 3000, out, 6) == 0);
	CHECK(etcd2_refresh_plan(sent, 6, 2000, 3000, out, 0) == 0);
}

int
main(void)
{
	test_read();
	test_implicit_dir();
	test_lease_of();
	test_events();
	test_fence();
	test_refresh_plan();
	if (check_failures) {
		fprintf(stderr, "%d failure(s)\n", check_failures);
		return 1;
	}
	printf("etcd2_view: all %d checks passed\n", check_count);
	return 0;
}
