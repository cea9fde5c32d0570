/*
 * The backends of the dcs engine (backend.h): the v3 client as it is.
 */
#include <string.h>

#include "config.h"
#include "dcs/backend.h"

const struct dcs_backend dcs_backend_etcd = {
	.name = "etcd",
	.client_new = etcd_client_new,
	.client_free = etcd_client_free,
	.client_set_resolve = etcd_client_set_resolve,
	.client_endpoint = etcd_client_endpoint,
	.client_on_endpoint_change = etcd_client_on_endpoint_change,
	.range = etcd_range,
	.range_check = etcd_range_check,
	.txn = etcd_txn,
	.lease_grant = etcd_lease_grant,
	.lease_keepalive = etcd_lease_keepalive,
	.lease_revoke = etcd_lease_revoke,
	.req_cancel = etcd_req_cancel,
	.watch_start = etcd_watch_start,
	.watch_stop = etcd_watch_stop,
};

const struct dcs_backend *
dcs_backend_of(const struct yaim_config *conf)
{
	if (strcmp(conf->dcs_type, dcs_backend_etcd.name) == 0)
		return &dcs_backend_etcd;
	return NULL;	/* etcd2: DESIGN.md 15, not done yet */
}
