/*
 * metrics-listen: the TCP socket the parent binds before the children
 * start and hands to dcs, which serves it (DESIGN.md section 14).
 */
#ifndef YAIM_METRICSOCK_H
#define YAIM_METRICSOCK_H

#include <stddef.h>

#include "config.h"

/* The listening socket, or -1 and why in err. */
int	metricsock_open(const struct yaim_config *, char *err, size_t errlen);

#endif
