/*
 * The resolver helper's answer (struct resolve_round), which the parent
 * reads from a process that parsed DNS replies: whatever the bytes,
 * resolve_round_valid() either refuses them or they apply without
 * harm, and the IMSG_RESOLVED built from the result is one that the
 * children accept (imsg_resolved_check), with every string terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "proto.h"
#include "parent/resolve.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct yaim_config	 base_conf;

static void
setup(void)
{
	log_init(1, 0);
	log_setverbose(0);
	base_conf.n_checks = 3;
	base_conf.checks[0].kind = CHECK_HTTP;
	strcpy(base_conf.checks[0].name, "web");
	strcpy(base_conf.checks[0].http_url, "http://web.example:8080/h");
	strcpy(base_conf.checks[0].http_resolve, "web.example:8080:192.0.2.1");
	base_conf.checks[1].kind = CHECK_TCP;
	strcpy(base_conf.checks[1].name, "db");
	strcpy(base_conf.checks[1].tcp_host, "db.example");
	base_conf.checks[1].n_addr = 1;
	yaim_addr_parse("192.0.2.2", &base_conf.checks[1].addr[0], 0);
	base_conf.checks[2].kind = CHECK_EXEC;
	base_conf.n_endpoints = base_conf.n_etcd_resolve = 2;
	strcpy(base_conf.endpoints[0], "http://127.0.0.1:2379");
	strcpy(base_conf.endpoints[1], "https://etcd.example:2379");
	strcpy(base_conf.etcd_resolve[1], "etcd.example:2379:192.0.2.3");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct yaim_config	 conf;
	static struct resolve_round	 r;
	static struct imsg_resolved	 m;
	char				 err[256];
	uint32_t			 i;

	if (base_conf.n_checks == 0)
		setup();
	memcpy(&conf, &base_conf, sizeof(conf));
	memset(&r, 0, sizeof(r));
	memcpy(&r, data, len < sizeof(r) ? len : sizeof(r));
	if (resolve_round_valid(&conf, &r, err, sizeof(err)) == -1)
		return 0;
	(void)resolve_round_apply(&conf, &r);
	resolve_to_imsg(&conf, &m);
	if (imsg_resolved_check(&m, &conf, err, sizeof(err)) == -1)
		abort();
	/* the children check against the config they had before */
	if (imsg_resolved_check(&m, &base_conf, err, sizeof(err)) == -1)
		abort();
	for (i = 0; i < conf.n_checks; i++)
		if (memchr(conf.checks[i].http_resolve, '\0',
		    sizeof(conf.checks[i].http_resolve)) == NULL)
			abort();
	return 0;
}
