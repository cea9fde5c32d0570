/*
 * The service manager's readiness protocol (sd_notify(3)), without
 * libsystemd: one datagram per state change to $NOTIFY_SOCKET.
 */
#ifndef YAIM_SDNOTIFY_H
#define YAIM_SDNOTIFY_H

int	sdnotify_init(void);
void	sdnotify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	sdnotify_close(void);

#endif
