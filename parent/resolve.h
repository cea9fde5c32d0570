/*
 * Host name resolution for the health checks and the etcd endpoints,
 * done by the parent (the children's chroot has no resolver): at config
 * load (and for -n), and again every resolve-interval in a short-lived
 * helper process (parent/resolver.c).  Literal addresses pass through.
 */
#ifndef YAIM_RESOLVE_H
#define YAIM_RESOLVE_H

#include <stddef.h>

#include "config.h"
#include "proto.h"

#define RESOLVE_WHY_MAX	96

enum resolve_status {
	RES_NONE = 0,		/* nothing to look up: literal, no host */
	RES_OK,
	RES_FAILED		/* why[] says why */
};

/* One host name looked up: its first addresses, in getaddrinfo's order. */
struct resolve_one {
	uint32_t	 status;		/* enum resolve_status */
	uint32_t	 n_addr;
	struct yaim_addr addr[CFG_MAX_RESOLVED];
	char		 why[RESOLVE_WHY_MAX];
};

/* What one round of lookups found, per check and per etcd endpoint. */
struct resolve_round {
	struct resolve_one	check[CFG_MAX_CHECKS];
	struct resolve_one	etcd[CFG_MAX_ENDPOINTS];
};

/*
 * At load: fill addr[] (tcp, postgres), http_resolve ("host:port:addr
 * [,addr...]" for CURLOPT_RESOLVE, the port defaulting by scheme) of
 * every check, and etcd_resolve[i] of every endpoint i ("" for a
 * literal).  Blocks in getaddrinfo.  Every name must resolve: returns -1
 * with err naming the check or endpoint and the host.
 */
int	resolve_config(struct yaim_config *, char *err, size_t errlen);
/* Look up every name of conf into round.  Blocks in getaddrinfo. */
void	resolve_round_run(const struct yaim_config *, struct resolve_round *);
/*
 * A round that came from the helper process, which parsed DNS answers:
 * 0 if well-formed for conf, else -1 and why in err.
 */
int	resolve_round_valid(const struct yaim_config *,
	    const struct resolve_round *, char *err, size_t errlen);
/*
 * Take a valid round into conf: names that resolved get their new
 * addresses (logged when they change); names that did not keep their
 * last ones, with a warning at most every RESOLVE_WARN_EVERY_S per name.
 * Returns 1 if any address changed, else 0.
 */
#define RESOLVE_WARN_EVERY_S	600
int	resolve_round_apply(struct yaim_config *,
	    const struct resolve_round *);
/* The resolved part of conf, as IMSG_RESOLVED carries it. */
void	resolve_to_imsg(const struct yaim_config *, struct imsg_resolved *);

#endif
