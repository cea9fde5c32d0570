/*
 * The control socket's server, in the dcs child (DESIGN.md section 13).
 * The parent makes the socket and hands over the listening fd
 * (IMSG_CTL_SOCKET); dcs accepts yaimctl's connections, checks who they
 * are, and answers them.  A bad client is closed, never fatal.
 */
#ifndef YAIM_DCS_CONTROL_H
#define YAIM_DCS_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "proto.h"

/* How control talks to the parent (IMSG_CTL_RELOAD, IMSG_CTL_LOG). */
typedef void	(*control_parent_fn)(uint32_t type, const void *, size_t);

void	control_init(struct event_base *, control_parent_fn);
/* Serve fd (listening, from the parent); conf names control-group. */
void	control_start(int fd, const struct yaim_config *conf);
int	control_running(void);
/* IMSG_CTL_DONE: the parent's answer to the oldest request sent it. */
void	control_parent_done(const struct ctl_end *);
/* The engine's etcd client is about to go (reload): drop requests on it. */
void	control_etcd_gone(void);

#endif
