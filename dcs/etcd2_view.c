/*
 * The v2 layout as the engine sees etcd v3: lease stand-ins, a full read
 * and watch events as v3 kvs, fencing and refreshes over held keys.  See
 * etcd2_view.h and DESIGN.md section 15.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcs/etcd2_view.h"
#include "dcs/keys.h"

int64_t
etcd2_lease_of(const char *prefix, const char *key, const char *value,
    int64_t created, etcd2_node_created_fn node_created, void *arg)
{
	struct key_info	 ki;
	char		 holder[CFG_NAME_MAX];
	const char	*who;
	int64_t		 nc;

	switch (keys_parse(prefix, key, strlen(key), &ki)) {
	case KEY_NODE:
		return created;
	case KEY_MARK:
		if (value == NULL || !keys_valid_nodename(value,
		    strlen(value)))
			return -created;
		snprintf(holder, sizeof(holder), "%s", value);
		who = holder;
		break;
	case KEY_REFUSED:
		who = ki.node;
		break;
	default:
		return 0;
	}
	/* Made after its node's key: on that key's "lease". */
	nc = node_created(who, arg);
	if (nc > 0 && nc < created)
		return nc;
	return -created;
}

static void
kv_of(const struct etcd2_node *nd, struct etcd_kv *kv)
{
	memset(kv, 0, sizeof(*kv));
	kv->key = nd->key;
	kv->key_len = nd->key_len;
	kv->value = nd->value != NULL && !nd->dir ? nd->value : "";
	kv->value_len = nd->value != NULL && !nd->dir ? nd->value_len : 0;
	kv->create_revision = nd->created_index;
	kv->mod_revision = nd->modified_index;
	kv->version = 1;
}

struct read_ctx {
	const char		*prefix;
	const struct etcd2_reply *r;
};

/* The node key of name in the reply of a full read. */
static int64_t
read_node_created(const char *name, void *arg)
{
	const struct read_ctx	*rc = arg;
	struct key_info		 ki;
	size_t			 i;

	for (i = 0; i < rc->r->n_nodes; i++) {
		const struct etcd2_node *nd = &rc->r->nodes[i];

		if (nd->dir || keys_parse(rc->prefix, nd->key, nd->key_len,
		    &ki) != KEY_NODE)
			continue;
		if (strcmp(ki.node, name) == 0)
			return nd->created_index;
	}
	return 0;
}

/* A pool directory: <prefix>ips/<ip>, whatever the ip (keys_parse). */
static int
is_pool_dir(const char *prefix, const struct etcd2_node *nd)
{
	size_t	pl = strlen(prefix), il = strlen(KEYS_IPS_DIR);

	return nd->dir && nd->key_len > pl + il &&
	    memcmp(nd->key, prefix, pl) == 0 &&
	    memcmp(nd->key + pl, KEYS_IPS_DIR, il) == 0 &&
	    memchr(nd->key + pl + il, '/', nd->key_len - pl - il) == NULL;
}

/*
 * A pool directory made by a claim rather than by an operator: v2 makes
 * missing parents, and a claim that lost the race with the operator's
 * recursive delete puts the directory back, with the mark's createdIndex
 * (DESIGN.md 15).  Such a directory is not in the pool.
 */
static int
made_by_claim(const struct etcd2_reply *r, size_t i)
{
	const struct etcd2_node	*d = &r->nodes[i];
	size_t			 j, ml = strlen(KEYS_MARK_SUFFIX);

	for (j = i + 1; j < r->n_nodes && r->nodes[j].depth > d->depth; j++) {
		const struct etcd2_node *m = &r->nodes[j];

		if (m->parent == i && !m->dir &&
		    m->key_len == d->key_len + ml &&
		    memcmp(m->key + d->key_len, KEYS_MARK_SUFFIX, ml) == 0)
			return m->created_index == d->created_index;
	}
	return 0;
}

int
etcd2_read_kvs(const char *prefix, const struct etcd2_reply *r,
    struct etcd_kv **out, size_t *n, char *err, size_t errlen)
{
	struct read_ctx	 rc = { prefix, r };
	struct etcd_kv	*kvs;
	size_t		 i, k = 0, pl = strlen(prefix);

	*out = NULL;
	*n = 0;
	if (pl < 2 || prefix[pl - 1] != '/' || r->is_error ||
	    r->n_nodes == 0 || r->nodes[0].key_len != pl - 1 ||
	    memcmp(r->nodes[0].key, prefix, pl - 1) != 0) {
		snprintf(err, errlen, "%s: not a read of %s", __func__,
		    prefix);
		return -1;
	}
	if ((kvs = calloc(r->n_nodes, sizeof(*kvs))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", __func__);
		return -1;
	}
	for (i = 1; i < r->n_nodes; i++) {
		const struct etcd2_node *nd = &r->nodes[i];

		if (nd->dir && (!is_pool_dir(prefix, nd) ||
		    made_by_claim(r, i)))
			continue;
		kv_of(nd, &kvs[k]);
		if (!nd->dir)
			kvs[k].lease = etcd2_lease_of(prefix, nd->key,
			    nd->value, nd->created_index, read_node_created,
			    &rc);
		k++;
	}
	*out = kvs;
	*n = k;
	return 0;
}

static int
action_is_put(const char *a)
{
	return strcmp(a, "set") == 0 || strcmp(a, "create") == 0 ||
	    strcmp(a, "update") == 0 || strcmp(a, "compareAndSwap") == 0;
}

static int
action_is_delete(const char *a)
{
	return strcmp(a, "delete") == 0 || strcmp(a, "compareAndDelete") == 0 ||
	    strcmp(a, "expire") == 0;
}

int
etcd2_event_kvs(const char *prefix, const char *action,
    const struct etcd2_node *node, etcd2_node_created_fn node_created,
    void *arg, char *mark_key, size_t mark_key_len, struct etcd_event ev[2])
{
	int	put = action_is_put(action), pool = is_pool_dir(prefix, node);
	int	len;

	memset(ev, 0, 2 * sizeof(*ev));
	if (!put && !action_is_delete(action))
		return -1;	/* an action we do not know: read again */
	if (node->dir && !pool)
		return put ? 0 : -1;
	ev[0].type = put ? ETCD_EVENT_PUT : ETCD_EVENT_DELETE;
	kv_of(node, &ev[0].kv);
	if (put && !node->dir)
		ev[0].kv.lease = etcd2_lease_of(prefix, node->key,
		    node->value, node->created_index, node_created, arg);
	if (put || !pool)
		return 1;
	len = snprintf(mark_key, mark_key_len, "%.*s%s", (int)node->key_len,
	    node->key, KEYS_MARK_SUFFIX);
	if (len < 0 || (size_t)len >= mark_key_len)
		return -1;
	ev[1].type = ETCD_EVENT_DELETE;
	ev[1].kv = ev[0].kv;
	ev[1].kv.key = mark_key;
	ev[1].kv.key_len = (size_t)len;
	return 2;
}

uint64_t
etcd2_fence_deadline(const uint64_t *sent_ms, size_t n, uint64_t ttl_ms,
    uint64_t margin_ms)
{
	uint64_t	oldest;
	size_t		i;

	if (n == 0)
		return 0;
	oldest = sent_ms[0];
	for (i = 1; i < n; i++)
		if (sent_ms[i] < oldest)
			oldest = sent_ms[i];
	/* Never 0 (which means "hold nothing") for a held key. */
	if (oldest + ttl_ms <= margin_ms)
		return 1;
	return oldest + ttl_ms - margin_ms;
}

size_t
etcd2_refresh_plan(const uint64_t *sent_ms, size_t n, uint64_t now_ms,
    uint64_t ttl_ms, size_t *out, size_t max)
{
	size_t	i, j, k = 0;

	for (i = 0; i < n; i++) {
		if (sent_ms[i] + ttl_ms / 3 > now_ms)
			continue;
		/* Insert by age; drop the youngest beyond max. */
		for (j = k; j > 0 && sent_ms[out[j - 1]] > sent_ms[i]; j--)
			if (j < max)
				out[j] = out[j - 1];
		if (j < max) {
			out[j] = i;
			if (k < max)
				k++;
		}
	}
	return k;
}
