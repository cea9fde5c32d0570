/* The metrics listener of dcs (dcs/metrics_srv.c). */
#ifndef YAIM_DCS_METRICS_SRV_H
#define YAIM_DCS_METRICS_SRV_H

#include <stddef.h>

struct event_base;

/* Serve the listening fd from IMSG_METRICS_SOCKET (where: for the log). */
void	metrics_srv_start(struct event_base *, int fd, const char *where);
int	metrics_srv_running(void);
/* The metrics text now (malloc'd, NUL-terminated), or NULL. */
char	*metrics_text(size_t *len);

#endif
