/*
 * Names for the message catalogue and reason codes, for log messages.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include "proto.h"

const char *
imsg_type_name(uint32_t type)
{
	static char	 buf[32];

	switch (type) {
	case IMSG_CFG_MAIN:	return "IMSG_CFG_MAIN";
	case IMSG_CFG_BLOB:	return "IMSG_CFG_BLOB";
	case IMSG_CFG_DONE:	return "IMSG_CFG_DONE";
	case IMSG_RESOLVED:	return "IMSG_RESOLVED";
	case IMSG_HEALTH:	return "IMSG_HEALTH";
	case IMSG_EXEC_RUN:	return "IMSG_EXEC_RUN";
	case IMSG_EXEC_RESULT:	return "IMSG_EXEC_RESULT";
	case IMSG_ADDR_ADD:	return "IMSG_ADDR_ADD";
	case IMSG_ADDR_DEL:	return "IMSG_ADDR_DEL";
	case IMSG_ADDR_SYNC:	return "IMSG_ADDR_SYNC";
	case IMSG_ADDR_STATE:	return "IMSG_ADDR_STATE";
	case IMSG_LINK_STATE:	return "IMSG_LINK_STATE";
	case IMSG_SHUTDOWN:	return "IMSG_SHUTDOWN";
	case IMSG_NETWORKS:	return "IMSG_NETWORKS";
	case IMSG_PEER_SOCKET:	return "IMSG_PEER_SOCKET";
	case IMSG_DCS_RELEASED:	return "IMSG_DCS_RELEASED";
	case IMSG_HOLD_UNTIL:	return "IMSG_HOLD_UNTIL";
	case IMSG_LOG_VERBOSE:	return "IMSG_LOG_VERBOSE";
	case IMSG_CTL_SOCKET:	return "IMSG_CTL_SOCKET";
	case IMSG_CTL_DONE:	return "IMSG_CTL_DONE";
	case IMSG_METRICS_SOCKET: return "IMSG_METRICS_SOCKET";
	case IMSG_STATS:	return "IMSG_STATS";
	case IMSG_FENCED:	return "IMSG_FENCED";
	case IMSG_CTL_RELOAD:	return "IMSG_CTL_RELOAD";
	case IMSG_CTL_LOG:	return "IMSG_CTL_LOG";
	case IMSG_CTL_REQ_STATUS: return "IMSG_CTL_REQ_STATUS";
	case IMSG_CTL_REQ_POOL_ADD: return "IMSG_CTL_REQ_POOL_ADD";
	case IMSG_CTL_REQ_POOL_DEL: return "IMSG_CTL_REQ_POOL_DEL";
	case IMSG_CTL_REQ_DRAIN: return "IMSG_CTL_REQ_DRAIN";
	case IMSG_CTL_REQ_UNDRAIN: return "IMSG_CTL_REQ_UNDRAIN";
	case IMSG_CTL_REQ_RELOAD: return "IMSG_CTL_REQ_RELOAD";
	case IMSG_CTL_REQ_LOG:	return "IMSG_CTL_REQ_LOG";
	case IMSG_CTL_REQ_METRICS: return "IMSG_CTL_REQ_METRICS";
	case IMSG_CTL_NODE:	return "IMSG_CTL_NODE";
	case IMSG_CTL_IP:	return "IMSG_CTL_IP";
	case IMSG_CTL_RESULT:	return "IMSG_CTL_RESULT";
	case IMSG_CTL_END:	return "IMSG_CTL_END";
	case IMSG_CTL_TEXT:	return "IMSG_CTL_TEXT";
	default:
		snprintf(buf, sizeof(buf), "unknown type %u", type);
		return buf;
	}
}

const char *
health_reason_name(uint32_t r)
{
	static const char *names[HR_MAX] = {
		[HR_OK] = "ok",
		[HR_TIMEOUT] = "timeout",
		[HR_REFUSED] = "connect refused",
		[HR_CONNECT] = "connect error",
		[HR_TLS] = "TLS error",
		[HR_STATUS] = "unexpected status",
		[HR_BODY_MISMATCH] = "body mismatch",
		[HR_BODY_TOO_LARGE] = "body too large",
		[HR_QUERY_MISMATCH] = "query result mismatch",
		[HR_QUERY_ERROR] = "query error",
		[HR_EXIT_STATUS] = "exit status",
		[HR_KILLED_TIMEOUT] = "killed by timeout",
		[HR_SIGNALED] = "killed by signal",
		[HR_INTERNAL] = "internal error",
		[HR_STARTUP] = "no result yet",
	};

	return r < HR_MAX ? names[r] : "invalid reason";
}

const char *
addr_refusal_name(uint32_t r)
{
	static const char *names[AR_MAX] = {
		[AR_NONE] = "none",
		[AR_BAD_FAMILY] = "bad address family",
		[AR_BAD_IFACE] = "not the configured interface",
		[AR_LOOPBACK] = "loopback address",
		[AR_MULTICAST] = "multicast address",
		[AR_BROADCAST] = "broadcast address",
		[AR_UNSPECIFIED] = "unspecified address",
		[AR_LINKLOCAL] = "link-local address",
		[AR_NOT_ALLOWED] = "outside allowed-networks",
		[AR_NETLINK] = "rejected by the kernel",
		[AR_TOO_MANY] = "too many addresses held",
	};

	return r < AR_MAX ? names[r] : "invalid refusal";
}

int
imsg_networks_check(const struct imsg_networks *nw, char *err, size_t errlen)
{
	static const struct yaim_addr	 zero;
	const struct yaim_addr		*a;
	uint32_t			 i;

	if (nw->n > IMSG_NETWORKS_MAX || nw->complete > 1) {
		snprintf(err, errlen, "n %u (at most %d), complete %u (0 or 1)",
		    nw->n, IMSG_NETWORKS_MAX, nw->complete);
		return -1;
	}
	for (i = 0; i < IMSG_NETWORKS_MAX; i++) {
		a = &nw->net[i];
		if (i >= nw->n) {
			if (memcmp(a, &zero, sizeof(zero)) != 0) {
				snprintf(err, errlen, "entry %u beyond n is "
				    "not zero", i);
				return -1;
			}
			continue;
		}
		if (!yaim_addr_valid(a)) {
			snprintf(err, errlen, "entry %u is not a valid "
			    "prefix", i);
			return -1;
		}
	}
	return 0;
}

/* The "host:port:" of a CURLOPT_RESOLVE entry: up to its second colon. */
static size_t
resolve_prefix_len(const char *entry)
{
	const char	*c;

	if ((c = strchr(entry, ':')) == NULL ||
	    (c = strchr(c + 1, ':')) == NULL)
		return 0;
	return (size_t)(c - entry) + 1;
}

/* new must name the same host:port as old (both "" for a literal). */
static int
resolve_entry_check(const char *new, size_t size, const char *old,
    const char *what, uint32_t i, char *err, size_t errlen)
{
	size_t	 n;

	if (memchr(new, '\0', size) == NULL) {
		snprintf(err, errlen, "%s %u: not NUL-terminated", what, i);
		return -1;
	}
	n = resolve_prefix_len(old);
	if ((old[0] == '\0') != (new[0] == '\0') ||
	    (n > 0 && (strncmp(new, old, n) != 0 || new[n] == '\0'))) {
		snprintf(err, errlen, "%s %u: \"%.80s\" does not fit \"%.80s\"",
		    what, i, new, old);
		return -1;
	}
	return 0;
}

int
imsg_resolved_check(const struct imsg_resolved *m,
    const struct yaim_config *conf, char *err, size_t errlen)
{
	const struct imsg_resolved_check	*c;
	uint32_t				 i, j, kind;

	if (m->n_checks != conf->n_checks ||
	    m->n_etcd_resolve != conf->n_etcd_resolve ||
	    m->n_checks > CFG_MAX_CHECKS ||
	    m->n_etcd_resolve > CFG_MAX_ENDPOINTS) {
		snprintf(err, errlen, "%u checks and %u endpoints, not %u and "
		    "%u", m->n_checks, m->n_etcd_resolve, conf->n_checks,
		    conf->n_etcd_resolve);
		return -1;
	}
	for (i = 0; i < m->n_checks; i++) {
		c = &m->check[i];
		kind = conf->checks[i].kind;
		if (c->n_addr > CFG_MAX_RESOLVED || ((kind == CHECK_TCP ||
		    kind == CHECK_POSTGRES) && c->n_addr == 0)) {
			snprintf(err, errlen, "check %u: %u addresses", i,
			    c->n_addr);
			return -1;
		}
		for (j = 0; j < c->n_addr; j++)
			if (!yaim_addr_valid(&c->addr[j])) {
				snprintf(err, errlen, "check %u: address %u "
				    "is not valid", i, j);
				return -1;
			}
		if (resolve_entry_check(c->http_resolve,
		    sizeof(c->http_resolve), conf->checks[i].http_resolve,
		    "check", i, err, errlen) == -1)
			return -1;
	}
	for (i = 0; i < m->n_etcd_resolve; i++)
		if (resolve_entry_check(m->etcd_resolve[i],
		    sizeof(m->etcd_resolve[i]), conf->etcd_resolve[i],
		    "etcd endpoint", i, err, errlen) == -1)
			return -1;
	return 0;
}
