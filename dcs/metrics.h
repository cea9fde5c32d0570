/*
 * The metrics in the Prometheus text format (version 0.0.4), served by
 * dcs on metrics-listen and printed by yaimctl metrics (DESIGN.md
 * section 14).  metrics_render() is pure: a snapshot in, text out.
 */
#ifndef YAIM_DCS_METRICS_H
#define YAIM_DCS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "dcs/engine.h"
#include "dcs/etcd.h"
#include "dcs/peer_net.h"

struct metrics_snap {
	struct ctl_node		 node;
	struct engine_counters	 eng;
	struct etcd_stats	 etcd;
	int			 peer_running;
	struct peer_net_stats	 peer;
	struct imsg_stats	 parent;	/* zeros until the first */
};

/*
 * The text for snap into buf (len bytes, NUL-terminated when len > 0,
 * cut short when it does not fit); returns the length the whole text
 * needs, NUL excluded, as snprintf does.
 */
size_t	metrics_render(const struct metrics_snap *, char *buf, size_t len);

/* dcs: this process's snapshot now (engine, etcd, peers, the parent's). */
void	metrics_snapshot(struct metrics_snap *);
/* dcs: the parent's IMSG_STATS, checked by the caller. */
void	metrics_set_parent(const struct imsg_stats *);
/* 0 if an IMSG_STATS payload is well-formed, else -1. */
int	metrics_stats_check(const struct imsg_stats *);

#endif
