/*
 * The dcs engine: one lease per node, the node key, the pool and marks,
 * the watch, balancing and fencing (DESIGN.md sections 3-5).  The dcs
 * process shell (dcs/dcs.c) feeds it messages from the parent and gives
 * it these callbacks to talk back.
 */
#ifndef YAIM_DCS_ENGINE_H
#define YAIM_DCS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "blob.h"
#include "config.h"
#include "proto.h"

struct engine_ops {
	/* The complete set of addresses this node should hold now. */
	void	(*addr_sync)(const struct yaim_addr *, size_t n, void *arg);
	/* One address up (IMSG_ADDR_ADD) or down (IMSG_ADDR_DEL). */
	void	(*addr_req)(uint32_t imsg_type, const struct imsg_addr_req *,
		    void *arg);
	/* After engine_shutdown(): the lease is revoked (or gave up). */
	void	(*released)(void *arg);
	/* Holding is allowed until this mono_ms (0: no longer at all). */
	void	(*hold_until)(uint64_t until_ms, void *arg);
	void	*arg;
};

/* What the engine did, for the metrics (DESIGN.md section 14). */
struct engine_counters {
	uint64_t	 claims;	/* claim txns that made a mark ours */
	uint64_t	 claims_lost;	/* another node's mark came first */
	uint64_t	 claims_failed;	/* no answer from etcd */
	uint64_t	 releases;	/* our marks deleted */
	uint64_t	 watch_restarts; /* broken, cancelled or compacted */
	uint64_t	 fences;	/* no keepalive in time: dropped all */
	uint64_t	 leases;	/* leases granted */
};
void	engine_get_counters(struct engine_counters *);

/*
 * Test only: the engine drops this many of the next watch events, as a
 * broken watch would (regress/integration/dcs_watch_drop.sh, through
 * dcs-driver's "drop-watch N").  Nothing in yaimd sets it.
 */
extern unsigned	engine_test_drop_events;

/* Before the first message from the parent: messages may come early. */
void	engine_init(struct event_base *, const struct engine_ops *);
/* The first config: join the cluster once healthy. */
int	engine_start(const struct yaim_config *, const struct yaim_blobs *);
/* SIGHUP: new config (same node name and prefix, the parent checks). */
void	engine_reconfigure(const struct yaim_config *,
	    const struct yaim_blobs *);
void	engine_health(const struct imsg_health *);
void	engine_addr_state(const struct imsg_addr_state *);
void	engine_link_state(const struct imsg_link_state *);
/*
 * The networks the parent allows now (checked with imsg_networks_check).
 * The node joins only once it knows them, so that its first node key
 * carries the refusals they imply.
 */
void	engine_networks(const struct imsg_networks *);
/* The etcd endpoints' names resolved again (checked by the caller). */
void	engine_resolved(const struct imsg_resolved *);
/* The peer socket is running: tell it the peers of the view. */
void	engine_peer_socket(void);
/* Leave the cluster: addresses down, revoke the lease, ops->released. */
void	engine_shutdown(void);

/*
 * For yaimctl (dcs/engine_ctl.c).  Drain: leave as when unhealthy and
 * stay out, across reloads, until undrained.
 */
struct etcd_client;
struct dcs_backend;
void	engine_drain(int on);
int	engine_drained(void);
/* 1 once the node holds no lease (drained and gone, or never in). */
int	engine_out(void);
/* The client for pool changes; NULL before the config or once released. */
struct etcd_client *engine_etcd(void);
/* The backend engine_etcd() is a client of (backend.h). */
const struct dcs_backend *engine_backend(void);
const struct yaim_config *engine_config(void);
void	engine_node_status(struct ctl_node *);
/* Pool entry i of the view (sorted by address): 1, or 0 past the end. */
int	engine_pool_status(size_t i, struct ctl_pool_ip *);

#endif
