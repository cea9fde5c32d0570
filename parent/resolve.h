/*
 * Host name resolution for the health checks, done by the parent at config
 * load (and for -n): the checker's chroot has no resolver.  Literal
 * addresses pass through.
 */
#ifndef YAIM_RESOLVE_H
#define YAIM_RESOLVE_H

#include <stddef.h>

#include "config.h"

/*
 * Fill http_resolve ("host:port:addr[,addr...]" for CURLOPT_RESOLVE, the
 * port defaulting by scheme), tcp_addr and pg_hostaddr of every check.
 * Blocks in getaddrinfo.  Returns -1 with err naming the check and host.
 */
int	resolve_config(struct yaim_config *, char *err, size_t errlen);

#endif
