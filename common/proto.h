/*
 * The one message catalogue of yaimd, grouped by direction, with the
 * payload of each message.  Every payload is a fixed-size struct unless
 * noted; receivers check the exact size.
 *
 * Health reports travel checker -> parent -> dcs: the parent relays
 * IMSG_HEALTH after checking it, so it also knows the node's health.
 */
#ifndef YAIM_PROTO_H
#define YAIM_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"

enum imsg_type {
	IMSG_NONE = 0,

	/* parent -> checker, parent -> dcs */
	IMSG_CFG_MAIN = 100,	/* struct yaim_config, secrets scrubbed */
	IMSG_CFG_BLOB,		/* struct imsg_blob_hdr + bytes (TLS material) */
	IMSG_CFG_DONE,		/* empty: config complete, start working */
	IMSG_RESOLVED,		/* struct imsg_resolved: names resolved again */
	IMSG_LOG_VERBOSE,	/* struct ctl_log: yaimctl log verbose|brief */

	/* checker -> parent, relayed parent -> dcs */
	IMSG_HEALTH = 200,	/* struct imsg_health */

	/* checker -> parent, parent -> checker */
	IMSG_EXEC_RUN = 300,	/* struct imsg_exec_run */
	IMSG_EXEC_RESULT,	/* struct imsg_exec_result */

	/* dcs -> parent */
	IMSG_ADDR_ADD = 400,	/* struct imsg_addr_req */
	IMSG_ADDR_DEL,		/* struct imsg_addr_req */
	IMSG_ADDR_SYNC,		/* n * struct yaim_addr (n may be 0) */

	/* parent -> dcs */
	IMSG_ADDR_STATE = 500,	/* struct imsg_addr_state */
	IMSG_LINK_STATE,	/* struct imsg_link_state */
	IMSG_SHUTDOWN,		/* empty: release everything, then exit */
	IMSG_NETWORKS,		/* struct imsg_networks */
	IMSG_PEER_SOCKET,	/* struct imsg_peer_socket + the UDP fd */
	IMSG_CTL_SOCKET,	/* empty + the control socket's listening fd */
	IMSG_CTL_DONE,		/* struct ctl_end: answers CTL_RELOAD/LOG */
	IMSG_METRICS_SOCKET,	/* empty + the metrics listening TCP fd */
	IMSG_STATS,		/* struct imsg_stats: the parent's counters */
	IMSG_FENCED,		/* struct imsg_fenced: the parent fenced */

	/* dcs -> parent */
	IMSG_DCS_RELEASED = 600, /* empty: lease revoked after SHUTDOWN */
	IMSG_HOLD_UNTIL,	/* struct imsg_hold_until */
	IMSG_CTL_RELOAD,	/* empty: yaimctl reload, as SIGHUP */
	IMSG_CTL_LOG,		/* struct ctl_log: yaimctl log */

	/*
	 * yaimctl -> dcs, on the control socket (untrusted: a bad one closes
	 * that client, see common/ctl.h).  Every request is answered with
	 * zero or more of the messages below, then IMSG_CTL_END.
	 */
	IMSG_CTL_REQ_STATUS = 700, /* empty */
	IMSG_CTL_REQ_POOL_ADD,	/* n * struct ctl_ip, 1 <= n <= CTL_POOL_MAX */
	IMSG_CTL_REQ_POOL_DEL,	/* n * struct ctl_ip, 1 <= n <= CTL_POOL_MAX */
	IMSG_CTL_REQ_DRAIN,	/* empty */
	IMSG_CTL_REQ_UNDRAIN,	/* empty */
	IMSG_CTL_REQ_RELOAD,	/* empty */
	IMSG_CTL_REQ_LOG,	/* struct ctl_log */
	IMSG_CTL_REQ_METRICS,	/* empty */

	/* dcs -> yaimctl */
	IMSG_CTL_NODE = 800,	/* struct ctl_node: status, this node */
	IMSG_CTL_IP,		/* struct ctl_pool_ip: status, one pool IP */
	IMSG_CTL_RESULT,	/* struct ctl_result: pool, one IP's outcome */
	IMSG_CTL_END,		/* struct ctl_end: the reply is complete */
	IMSG_CTL_TEXT		/* struct ctl_text: metrics, one piece */
};

#define IMSG_ADDR_SYNC_MAX	10000	/* addresses in one IMSG_ADDR_SYNC */

/* Blob kinds for IMSG_CFG_BLOB; index is the check index where it applies */
enum blob_kind {
	BLOB_ETCD_CA = 1,
	BLOB_ETCD_CERT,
	BLOB_ETCD_KEY,
	BLOB_HTTP_CA,
	BLOB_PEER_KEY		/* peer-key-file's text, for dcs */
};

struct imsg_blob_hdr {
	uint32_t	kind;		/* enum blob_kind */
	uint32_t	index;
	uint32_t	len;		/* bytes following this header */
	uint32_t	pad;
};
/* Fits one IMSG_CFG_BLOB; large enough for a system CA bundle. */
#define BLOB_MAX_SIZE	(1024 * 1024 - 4096)

/* Why a check or the whole node changed state. */
enum health_reason {
	HR_OK = 0,
	HR_TIMEOUT,
	HR_REFUSED,		/* connect refused */
	HR_CONNECT,		/* other connect error (unreachable, reset) */
	HR_TLS,
	HR_STATUS,		/* unexpected status; detail = status */
	HR_BODY_MISMATCH,
	HR_BODY_TOO_LARGE,
	HR_QUERY_MISMATCH,
	HR_QUERY_ERROR,
	HR_EXIT_STATUS,		/* detail = exit status */
	HR_KILLED_TIMEOUT,
	HR_SIGNALED,		/* detail = signal */
	HR_INTERNAL,
	HR_STARTUP,		/* no result yet */
	HR_MAX
};

struct imsg_health {
	uint32_t	healthy;	/* 0 or 1 */
	uint32_t	reason;		/* enum health_reason */
	int32_t		detail;
	uint32_t	check;		/* index of the deciding check */
	char		text[128];	/* NUL-terminated human reason */
};

struct imsg_exec_run {
	uint32_t	check;		/* index into the parent's config */
	uint32_t	seq;
};

struct imsg_exec_result {
	uint32_t	check;
	uint32_t	seq;
	uint32_t	reason;		/* HR_OK, HR_EXIT_STATUS, ... */
	int32_t		detail;
	char		output[128];	/* first bytes of stdout/stderr */
};

struct imsg_addr_req {
	char		ifname[16];	/* must equal the configured interface */
	struct yaim_addr addr;
};

enum addr_state {
	ADDR_UP = 1,
	ADDR_DOWN,
	ADDR_REFUSED
};

enum addr_refusal {
	AR_NONE = 0,
	AR_BAD_FAMILY,
	AR_BAD_IFACE,
	AR_LOOPBACK,
	AR_MULTICAST,
	AR_BROADCAST,
	AR_UNSPECIFIED,
	AR_LINKLOCAL,
	AR_NOT_ALLOWED,		/* outside allowed-networks */
	AR_NETLINK,		/* the kernel said no; detail = errno */
	AR_TOO_MANY,		/* NETIF_HELD_MAX held already */
	AR_MAX
};

struct imsg_addr_state {
	struct yaim_addr addr;
	uint32_t	state;		/* enum addr_state */
	uint32_t	refusal;	/* enum addr_refusal */
	int32_t		detail;
	uint32_t	pad;
};

struct imsg_link_state {
	uint32_t	up;		/* 0 or 1 */
	uint32_t	ifindex;
};

/*
 * The networks inside which the parent allows addresses now: the
 * config's allowed-networks, or the prefixes configured on the interface.
 * Sent after every config and whenever they change, so that dcs can
 * publish what it refuses before it is given such an address.  With more
 * than IMSG_NETWORKS_MAX, complete is 0 and dcs learns the parent's
 * refusals from its answers only.
 */
#define IMSG_NETWORKS_MAX	64
struct imsg_networks {
	uint32_t	 n;		/* entries used in net[] */
	uint32_t	 complete;	/* 0 or 1 */
	struct yaim_addr net[IMSG_NETWORKS_MAX];
};

/*
 * The CLOCK_MONOTONIC millisecond (common/clock.h mono_ms, one clock for
 * every process on the host) until which dcs may hold addresses: its own
 * fence deadline.  Sent whenever it changes; 0 ends holding.  The parent
 * drops every address when it passes (parent/fence.h, DESIGN.md 5).
 * fence_gen is the last imsg_fenced.gen dcs has read (0 before any): a
 * deadline sent before dcs heard of the parent's latest fence is stale
 * and ignored, and so is every add that follows it.
 */
struct imsg_hold_until {
	uint64_t	until_ms;
	uint32_t	fence_gen;
	uint32_t	pad;		/* 0 */
};

/*
 * The parent dropped every address itself (its fence) and told dcs so
 * with ADDR_DOWN for each before this.  gen counts the parent's fences
 * from 1; dcs echoes it in its next IMSG_HOLD_UNTIL.
 */
struct imsg_fenced {
	uint32_t	gen;
	uint32_t	pad;		/* 0 */
};

/*
 * The peer channel's UDP socket, bound by the parent (DESIGN.md section
 * 10a) and passed to dcs once, with SCM_RIGHTS, after the first config.
 * addr:port is what dcs publishes to the other nodes; addr.af is 0 when
 * the parent found no address to publish (the interface had none and
 * peer-address is not set).
 */
struct imsg_peer_socket {
	struct yaim_addr addr;
	uint16_t	 port;
	uint16_t	 pad;
	uint32_t	 wildcard;	/* 1: bound to any address on the
					   interface, 0: to addr */
};

/*
 * The host names of the config resolved again (every resolve-interval,
 * sent when an address changed): the fields of the same names in the
 * receiver's config, for the config it has now.
 */
struct imsg_resolved_check {
	uint32_t	 n_addr;
	uint32_t	 pad;
	struct yaim_addr addr[CFG_MAX_RESOLVED];
	char		 http_resolve[CFG_RESOLVE_MAX];
};
struct imsg_resolved {
	uint32_t	 n_checks;
	uint32_t	 n_etcd_resolve;
	struct imsg_resolved_check check[CFG_MAX_CHECKS];
	char		 etcd_resolve[CFG_MAX_ENDPOINTS][CFG_RESOLVE_MAX];
};

/*
 * The control socket (DESIGN.md section 13).  Strings in these payloads
 * are NUL-terminated within their fields; receivers check that.
 */
#define CTL_POOL_MAX		256	/* IPs in one pool request */
#define CTL_REQUEST_MAX		(64 * 1024)	/* one request, header incl. */
#define CTL_CLIENTS_MAX		8	/* connected at once */
#define CTL_TIMEOUT_MS		10000	/* a client's silence, a reply's wait */
#define CTL_TEXT_MAX		1024
#define CTL_MSG_MAX		2048	/* any reply payload */

struct ctl_ip {
	char		 text[48];	/* as the operator typed it */
};

struct ctl_log {
	uint32_t	 verbose;	/* 0 brief, 1 verbose */
};

/* The node's own state, as dcs sees it. */
struct ctl_node {
	char		 nodename[64];
	char		 prefix[520];	/* the config's prefix */
	char		 endpoint[512];	/* etcd endpoint in use, "" none */
	char		 state[16];	/* "in", "out", "joining", "leaving" */
	char		 health_text[128];	/* the last reason */
	uint32_t	 healthy;
	uint32_t	 health_reason;	/* enum health_reason */
	uint32_t	 drained;
	uint32_t	 link_up;
	int64_t		 lease;		/* 0: none */
	int64_t		 lease_ttl_s;	/* as granted */
	int64_t		 ttl_left_ms;	/* at least; -1: no lease */
	int64_t		 fence_left_ms;	/* until the fence; -1: no lease */
	uint32_t	 n_pool;
	uint32_t	 n_held;
};

/* One pool IP (or a mark without its pool key), as dcs sees it. */
struct ctl_pool_ip {
	char		 ip[48];
	char		 holder[64];	/* the mark's node, "" unmarked */
	char		 local[16];	/* here: "up", "adding", ... or "" */
	char		 refused_by[160]; /* node names, comma-separated */
	uint32_t	 in_pool;
	uint32_t	 n_refused;
	int64_t		 mark_lease;	/* 0: unmarked */
	int64_t		 held_ms;	/* mark seen for; -1: unmarked */
};

struct ctl_result {
	char		 ip[48];
	uint32_t	 ok;		/* 0 or 1 */
	char		 text[200];	/* why not, or what was done */
};

/* A piece of text (the metrics), NUL-terminated; pieces concatenate. */
struct ctl_text {
	char		 text[1024];
};

struct ctl_end {
	uint32_t	 ok;		/* 0 or 1 */
	char		 text[CTL_TEXT_MAX];	/* for ok 0: the error */
};

/*
 * The parent's counters, for the metrics dcs serves (DESIGN.md section
 * 14): sent after a change, at most every IMSG_STATS_MS.  Counters only
 * grow; a receiver checks the flags and the event count.
 */
#define IMSG_STATS_EVENTS	5	/* notify events: take .. unhealthy */
#define IMSG_STATS_MS		200
struct imsg_stats {
	uint32_t	 health_known;	/* 0 until the first report */
	uint32_t	 healthy;	/* 0 or 1 */
	uint64_t	 health_transitions;
	uint64_t	 takes;		/* addresses that became held */
	uint64_t	 releases;	/* addresses that stopped being held */
	uint64_t	 fences;	/* the parent's own fence dropped them */
	uint64_t	 notify_runs[IMSG_STATS_EVENTS];
	uint64_t	 notify_failures[IMSG_STATS_EVENTS];
	uint64_t	 notify_timeouts;
	uint64_t	 notify_dropped;
	uint32_t	 notify_queued;
	uint32_t	 notify_running;
	uint32_t	 notify_on;	/* notify-command set */
	uint32_t	 pad;
};

const char	*imsg_type_name(uint32_t);
const char	*health_reason_name(uint32_t);
const char	*addr_refusal_name(uint32_t);
/* 0 if an IMSG_NETWORKS payload is well-formed, else -1 and why in err. */
int		 imsg_networks_check(const struct imsg_networks *, char *err,
		    size_t errlen);
/*
 * 0 if an IMSG_RESOLVED payload fits conf (the same checks, endpoints and
 * host names, addresses well-formed), else -1 and why in err.
 */
int		 imsg_resolved_check(const struct imsg_resolved *,
		    const struct yaim_config *conf, char *err, size_t errlen);

#endif
