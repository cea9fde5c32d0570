/*
 * What yaimctl sees of the engine and may do to it (dcs/control.c):
 * the node's and the pool's state, drain, and the etcd client for pool
 * changes.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "dcs/engine_int.h"

void
engine_drain(int on)
{
	on = on != 0;
	if (on == E.drained)
		return;
	E.drained = on;
	log_info("%s", on ? "drained by yaimctl: releasing every address "
	    "and staying out of the cluster until undrain" :
	    "undrained by yaimctl: joining the cluster again");
	step();
}

void
engine_get_counters(struct engine_counters *c)
{
	*c = E.cnt;
}

int
engine_drained(void)
{
	return E.drained;
}

int
engine_out(void)
{
	return E.lstate == L_NONE;
}

struct etcd_client *
engine_etcd(void)
{
	return E.released ? NULL : E.client;
}

const struct dcs_backend *
engine_backend(void)
{
	return E.be;
}

const struct yaim_config *
engine_config(void)
{
	return E.conf;
}

static const char *
node_state_name(void)
{
	switch (E.lstate) {
	case L_GRANTING:
		return "joining";
	case L_LEAVING:
	case L_REVOKING:
		return "leaving";
	case L_ACTIVE:
		return E.nstate == N_IN ? "in" : E.nstate == N_DUPLICATE ?
		    "duplicate" : "joining";
	default:
		return "out";
	}
}

void
engine_node_status(struct ctl_node *st)
{
	uint64_t	 now = mono_ms(), end, fence;
	size_t		 i;

	memset(st, 0, sizeof(*st));
	if (E.conf != NULL) {
		snprintf(st->nodename, sizeof(st->nodename), "%s",
		    E.conf->nodename);
		snprintf(st->prefix, sizeof(st->prefix), "%s", E.conf->prefix);
	}
	if (E.client != NULL && !E.released)
		snprintf(st->endpoint, sizeof(st->endpoint), "%s",
		    E.be->client_endpoint(E.client));
	snprintf(st->state, sizeof(st->state), "%s", node_state_name());
	snprintf(st->health_text, sizeof(st->health_text), "%s",
	    E.health.text);
	st->healthy = E.healthy != 0;
	st->health_reason = E.health.reason;
	st->drained = E.drained != 0;
	st->link_up = E.link_up != 0;
	st->lease = E.lease;
	st->lease_ttl_s = E.lease != 0 ? E.ttl : 0;
	st->ttl_left_ms = st->fence_left_ms = -1;
	if (E.lease != 0 && (E.lstate == L_ACTIVE || E.lstate == L_LEAVING ||
	    E.lstate == L_REVOKING)) {
		end = E.t_sent + (uint64_t)E.ttl * 1000;
		fence = end - fence_margin();
		st->ttl_left_ms = end > now ? (int64_t)(end - now) : 0;
		st->fence_left_ms = fence > now ? (int64_t)(fence - now) : 0;
	}
	for (i = 0; i < E.nvips; i++)
		if (E.vips[i].in_pool)
			st->n_pool++;
	for (i = 0; i < E.nheld; i++)
		if (E.held[i]->par == P_UP)
			st->n_held++;
}

static const char *
local_name(const struct held *h)
{
	if (h == NULL)
		return "";
	switch (h->par) {
	case P_ADDING:
		return "adding";
	case P_UP:
		return "up";
	case P_REMOVING:
		return "removing";
	default:
		return h->mark == M_CLAIMING ? "claiming" :
		    h->mark == M_DELETING ? "releasing" : "";
	}
}

static void
refused_by(const struct yaim_addr *a, struct ctl_pool_ip *ip)
{
	size_t	 i, len = 0;
	int	 n;

	for (i = 0; i < E.nrefs; i++) {
		if (!E.refs[i].present || yaim_addr_cmp(&E.refs[i].addr,
		    a) != 0)
			continue;
		ip->n_refused++;
		if (len >= sizeof(ip->refused_by))
			continue;
		n = snprintf(ip->refused_by + len, sizeof(ip->refused_by) -
		    len, "%s%s", len > 0 ? "," : "", E.refs[i].node);
		if (n < 0 || (size_t)n >= sizeof(ip->refused_by) - len)
			len = sizeof(ip->refused_by);
		else
			len += (size_t)n;
	}
}

int
engine_pool_status(size_t i, struct ctl_pool_ip *ip)
{
	const struct vip	*v;

	memset(ip, 0, sizeof(*ip));
	if (i >= E.nvips)
		return 0;
	v = &E.vips[i];
	yaim_addr_ntop(&v->addr, ip->ip, sizeof(ip->ip));
	ip->in_pool = v->in_pool != 0;
	ip->held_ms = -1;
	if (v->marked) {
		snprintf(ip->holder, sizeof(ip->holder), "%s", v->holder_ok ?
		    v->holder : "?");
		ip->mark_lease = v->mark_lease;
		if (v->mark_seen_ms != 0)
			ip->held_ms = (int64_t)(mono_ms() - v->mark_seen_ms);
	}
	snprintf(ip->local, sizeof(ip->local), "%s",
	    local_name(held_get(&v->addr)));
	refused_by(&v->addr, ip);
	return 1;
}
