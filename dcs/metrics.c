/*
 * The metrics text (dcs/metrics.h).  Every family has its HELP and TYPE
 * lines before its samples; counters end in _total, durations are in
 * seconds, every name starts with yaim_.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dcs/metrics.h"
#include "dcs/peer_wire.h"

struct out {
	char	*buf;
	size_t	 len;
	size_t	 need;		/* what the whole text takes */
};

static void	outf(struct out *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
outf(struct out *o, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 room = o->need < o->len ? o->len - o->need : 0;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(room > 0 ? o->buf + o->need : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->need += (size_t)n;
}

static void
family(struct out *o, const char *name, const char *type, const char *help)
{
	outf(o, "# HELP yaim_%s %s\n# TYPE yaim_%s %s\n", name, help, name,
	    type);
}

static void
one(struct out *o, const char *name, const char *type, const char *help,
    uint64_t v)
{
	family(o, name, type, help);
	outf(o, "yaim_%s %" PRIu64 "\n", name, v);
}

/* milliseconds as seconds, three decimals, negative kept */
static void
seconds(struct out *o, const char *name, const char *help, int64_t ms)
{
	family(o, name, "gauge", help);
	if (ms < 0)
		outf(o, "yaim_%s -1\n", name);
	else
		outf(o, "yaim_%s %" PRId64 ".%03" PRId64 "\n", name,
		    ms / 1000, ms % 1000);
}

static void
node(struct out *o, const struct metrics_snap *s)
{
	const struct imsg_stats	*p = &s->parent;

	one(o, "healthy", "gauge", "1 if the node's health checks pass.",
	    s->node.healthy);
	one(o, "health_transitions_total", "counter",
	    "Changes of the node's health, first report included.",
	    p->health_transitions);
	one(o, "in_cluster", "gauge",
	    "1 while the node holds a lease and its node key.",
	    strcmp(s->node.state, "in") == 0);
	one(o, "drained", "gauge", "1 while drained by yaimctl.",
	    s->node.drained);
	one(o, "link_up", "gauge", "1 while the interface is usable.",
	    s->node.link_up);
	one(o, "addresses_held", "gauge",
	    "Pool addresses this node holds on its interface now.",
	    s->node.n_held);
	one(o, "pool_addresses", "gauge", "Addresses in the pool.",
	    s->node.n_pool);
	one(o, "address_takes_total", "counter",
	    "Addresses added to the interface (the notify take events).",
	    p->takes);
	one(o, "address_releases_total", "counter",
	    "Addresses removed from the interface (the release events).",
	    p->releases);
	seconds(o, "lease_ttl_remaining_seconds",
	    "Time the lease has left at least; -1 without a lease.",
	    s->node.ttl_left_ms);
	seconds(o, "fence_remaining_seconds",
	    "Time until the node fences itself; -1 without a lease.",
	    s->node.fence_left_ms);
	family(o, "fences_total", "counter",
	    "Fence events: every address dropped, by dcs (no keepalive in "
	    "time) or by the parent (no hold deadline in time).");
	outf(o, "yaim_fences_total{by=\"dcs\"} %" PRIu64 "\n", s->eng.fences);
	outf(o, "yaim_fences_total{by=\"parent\"} %" PRIu64 "\n", p->fences);
	one(o, "leases_granted_total", "counter", "Leases granted by etcd.",
	    s->eng.leases);
}

static void
claims(struct out *o, const struct metrics_snap *s)
{
	one(o, "claims_total", "counter",
	    "Claims of an address that made its mark ours.", s->eng.claims);
	one(o, "claim_races_lost_total", "counter",
	    "Claims lost to another node's mark.", s->eng.claims_lost);
	one(o, "claims_failed_total", "counter",
	    "Claims without an answer from etcd.", s->eng.claims_failed);
	one(o, "marks_released_total", "counter",
	    "Our marks deleted (addresses released in etcd).",
	    s->eng.releases);
	one(o, "watch_restarts_total", "counter",
	    "etcd watches broken, cancelled or compacted, and read again.",
	    s->eng.watch_restarts);
}

static const char *const errnames[ETCD_ERR_KINDS] = {
	"error", "auth_failed", "not_found"
};

/* Request kinds shown: range .. auth (watches are not requests). */
#define KIND_FIRST	1
#define KIND_LAST	6

static void
etcd(struct out *o, const struct metrics_snap *s)
{
	const struct etcd_stats	*e = &s->etcd;
	uint64_t		 cum;
	uint32_t		 k, i;

	family(o, "etcd_requests_total", "counter",
	    "etcd requests finished, retries included in one, by kind.");
	for (k = KIND_FIRST; k <= KIND_LAST; k++)
		outf(o, "yaim_etcd_requests_total{kind=\"%s\"} %" PRIu64 "\n",
		    etcd_kind_name(k), e->requests[k]);
	family(o, "etcd_request_errors_total", "counter",
	    "etcd requests that failed in the end, by kind and error.");
	for (k = KIND_FIRST; k <= KIND_LAST; k++)
		for (i = 0; i < ETCD_ERR_KINDS; i++)
			outf(o, "yaim_etcd_request_errors_total{kind=\"%s\","
			    "error=\"%s\"} %" PRIu64 "\n", etcd_kind_name(k),
			    errnames[i], e->errors[k][i]);
	one(o, "etcd_attempts_failed_total", "counter",
	    "Attempts of etcd requests that failed and moved to the next "
	    "endpoint.", e->attempts_failed);
	family(o, "etcd_request_duration_seconds", "histogram",
	    "Time from an etcd request's start to its answer, by kind.");
	for (k = KIND_FIRST; k <= KIND_LAST; k++) {
		cum = 0;
		for (i = 0; i < ETCD_BUCKETS; i++) {
			cum += e->bucket[k][i];
			outf(o, "yaim_etcd_request_duration_seconds_bucket{"
			    "kind=\"%s\",le=\"%u.%03u\"} %" PRIu64 "\n",
			    etcd_kind_name(k), etcd_bucket_ms[i] / 1000,
			    etcd_bucket_ms[i] % 1000, cum);
		}
		outf(o, "yaim_etcd_request_duration_seconds_bucket{kind=\"%s\","
		    "le=\"+Inf\"} %" PRIu64 "\n", etcd_kind_name(k),
		    e->requests[k]);
		outf(o, "yaim_etcd_request_duration_seconds_sum{kind=\"%s\"} "
		    "%" PRIu64 ".%03" PRIu64 "\n", etcd_kind_name(k),
		    e->sum_ms[k] / 1000, e->sum_ms[k] % 1000);
		outf(o, "yaim_etcd_request_duration_seconds_count{kind=\"%s\"} "
		    "%" PRIu64 "\n", etcd_kind_name(k), e->requests[k]);
	}
}

static const char *const dropnames[PEER_DROP_MAX] = {
	[PEER_OK] = "ok",
	[PEER_DROP_SHORT] = "short",
	[PEER_DROP_OVERSIZE] = "oversize",
	[PEER_DROP_MAGIC] = "magic",
	[PEER_DROP_VERSION] = "version",
	[PEER_DROP_MALFORMED] = "malformed",
	[PEER_DROP_NO_KEY] = "no_key",
	[PEER_DROP_AUTH] = "auth",
	[PEER_DROP_NOT_FOR_US] = "not_for_us",
	[PEER_DROP_SELF] = "self",
	[PEER_DROP_UNKNOWN] = "unknown_sender",
	[PEER_DROP_OLD_EPOCH] = "old_epoch",
	[PEER_DROP_REPLAY] = "replay",
	[PEER_DROP_RATE] = "rate",
};
_Static_assert(PEER_DROP_MAX == 14, "a new peer drop reason needs a name");

static void
peers(struct out *o, const struct metrics_snap *s)
{
	const struct peer_net_stats	*p = &s->peer;
	uint32_t			 i;

	one(o, "peer_channel_up", "gauge", "1 while the peer channel runs.",
	    s->peer_running != 0);
	one(o, "peers", "gauge", "Peers known to the peer channel.",
	    p->peers);
	one(o, "peer_messages_sent_total", "counter",
	    "Peer channel datagrams sent.", p->sent);
	one(o, "peer_send_failures_total", "counter",
	    "Peer channel datagrams that could not be sent.", p->send_failed);
	one(o, "peer_messages_accepted_total", "counter",
	    "Peer channel datagrams authenticated and handled.", p->accepted);
	one(o, "peer_messages_unhandled_total", "counter",
	    "Valid peer channel datagrams that came before the protocol ran.",
	    p->unhandled);
	family(o, "peer_messages_dropped_total", "counter",
	    "Peer channel datagrams dropped, by reason.");
	for (i = PEER_OK + 1; i < PEER_DROP_MAX; i++)
		outf(o, "yaim_peer_messages_dropped_total{reason=\"%s\"} %"
		    PRIu64 "\n", dropnames[i], p->drops[i]);
}

static const char *const evnames[IMSG_STATS_EVENTS] = {
	"take", "release", "fence", "healthy", "unhealthy"
};

static void
hooks(struct out *o, const struct metrics_snap *s)
{
	const struct imsg_stats	*p = &s->parent;
	uint32_t		 i;

	one(o, "notify_command_configured", "gauge",
	    "1 if notify-command is set.", p->notify_on);
	family(o, "notify_runs_total", "counter",
	    "notify-command runs ended (or that could not start), by event.");
	for (i = 0; i < IMSG_STATS_EVENTS; i++)
		outf(o, "yaim_notify_runs_total{event=\"%s\"} %" PRIu64 "\n",
		    evnames[i], p->notify_runs[i]);
	family(o, "notify_failures_total", "counter",
	    "notify-command runs that did not exit 0, by event.");
	for (i = 0; i < IMSG_STATS_EVENTS; i++)
		outf(o, "yaim_notify_failures_total{event=\"%s\"} %" PRIu64
		    "\n", evnames[i], p->notify_failures[i]);
	one(o, "notify_timeouts_total", "counter",
	    "notify-command runs killed at notify-timeout.",
	    p->notify_timeouts);
	one(o, "notify_dropped_total", "counter",
	    "Events dropped because the notify queue was full.",
	    p->notify_dropped);
	one(o, "notify_queued", "gauge", "Events waiting to run.",
	    p->notify_queued);
	one(o, "notify_running", "gauge", "notify-command runs under way.",
	    p->notify_running);
}

size_t
metrics_render(const struct metrics_snap *s, char *buf, size_t len)
{
	struct out	 o = { buf, len, 0 };

	if (len > 0)
		buf[0] = '\0';
	node(&o, s);
	claims(&o, s);
	etcd(&o, s);
	peers(&o, s);
	hooks(&o, s);
	return o.need;
}

int
metrics_stats_check(const struct imsg_stats *st)
{
	if (st->health_known > 1 || st->healthy > 1 || st->notify_on > 1 ||
	    st->pad != 0)
		return -1;
	return 0;
}
