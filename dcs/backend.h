/*
 * The store behind the dcs engine (DESIGN.md section 15): the etcd
 * operations the engine uses, as a table, so that the engine does not
 * branch on dcs-type.  The table has the v3 client's signatures (etcd.h)
 * and rules; handles (struct etcd_client, etcd_req, etcd_watch) are
 * opaque to the engine, so another backend may hand out its own.
 *
 * dcs_backend_etcd is the v3 client itself.  dcs-type etcd2 has no
 * table yet (the v2 emulation of leases is the missing piece): until it
 * has, dcs_backend_of returns NULL for it and the engine does not start.
 */
#ifndef YAIM_DCS_BACKEND_H
#define YAIM_DCS_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "dcs/etcd.h"

struct event_base;
struct yaim_blobs;
struct yaim_config;

struct dcs_backend {
	const char	*name;		/* the dcs-type */
	struct etcd_client *(*client_new)(struct event_base *,
		    const struct yaim_config *, const struct yaim_blobs *,
		    uint32_t seed, char *err, size_t errlen);
	void		(*client_free)(struct etcd_client *);
	int		(*client_set_resolve)(struct etcd_client *);
	const char	*(*client_endpoint)(const struct etcd_client *);
	void		(*client_on_endpoint_change)(struct etcd_client *,
		    void (*)(const char *, void *), void *);
	struct etcd_req	*(*range)(struct etcd_client *, const char *key,
		    int prefix, int64_t revision, etcd_cb, void *);
	struct etcd_req	*(*range_check)(struct etcd_client *,
		    const char *key, int prefix, int64_t revision,
		    int64_t min_mod_revision, etcd_cb, void *);
	struct etcd_req	*(*txn)(struct etcd_client *, const struct etcd_txn *,
		    etcd_cb, void *);
	struct etcd_req	*(*lease_grant)(struct etcd_client *, int64_t ttl,
		    etcd_cb, void *);
	struct etcd_req	*(*lease_keepalive)(struct etcd_client *,
		    int64_t id, etcd_cb, void *);
	struct etcd_req	*(*lease_revoke)(struct etcd_client *, int64_t id,
		    etcd_cb, void *);
	void		(*req_cancel)(struct etcd_req *);
	struct etcd_watch *(*watch_start)(struct etcd_client *,
		    const struct etcd_watch_opts *, etcd_watch_event_cb,
		    etcd_cb status_cb, void *);
	void		(*watch_stop)(struct etcd_watch *);
};

extern const struct dcs_backend	dcs_backend_etcd;

/* The backend of conf->dcs_type; NULL when there is none (yet). */
const struct dcs_backend *dcs_backend_of(const struct yaim_config *);

#endif
