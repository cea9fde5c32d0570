/*
 * Logging in the style of OpenBSD's log.c: syslog(LOG_DAEMON) by default,
 * stderr when running in the foreground with -d.
 */
#ifndef YAIM_LOG_H
#define YAIM_LOG_H

#include <stdarg.h>

void	log_init(int debug, int facility);
void	log_procinit(const char *procname);
void	log_setverbose(int verbose);
/* Run once by fatal()/fatalx() before exit, e.g. to remove addresses. */
void	log_set_fatal_hook(void (*hook)(void));
int	log_getverbose(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	vlog(int pri, const char *, va_list) __attribute__((format(printf, 2, 0)));
void	fatal(const char *, ...) __attribute__((noreturn, format(printf, 1, 2)));
void	fatalx(const char *, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
