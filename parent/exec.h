/*
 * exec health checks, run by the privileged parent on behalf of the
 * checker.  The checker names a check only by its index; the parent runs
 * the argv of its OWN config, never anything a child sent.
 */
#ifndef YAIM_EXEC_H
#define YAIM_EXEC_H

#include <sys/types.h>

#include <event2/event.h>

#include "config.h"
#include "proto.h"

/*
 * Keep a copy of the exec checks of conf, look up the exec user
 * ("<user>-exec") with getpwnam and check each command's path (see
 * privsep_safe_path).  Call again on reload.  Returns -1 (logged) if the
 * user does not exist or a path is unsafe.
 */
int	exec_init(struct event_base *, const struct yaim_config *);
/* Every exec check's command passes privsep_safe_path; -1 with err. */
int	exec_check_paths(const struct yaim_config *, char *err, size_t errlen);
/*
 * Validate that run->check is an exec check of our own config, run its
 * argv as the unprivileged user, and call done when it has finished (or
 * at once, with HR_INTERNAL, if it cannot run).
 */
void	exec_run(const struct imsg_exec_run *,
	    void (*done)(const struct imsg_exec_result *, void *), void *arg);
/*
 * The parent's SIGCHLD handler reaps with waitpid(-1, ...) and offers
 * each pid here; returns 1 if it was one of ours (and done was called).
 */
int	exec_child_exited(pid_t, int status);
/*
 * pid has ended but is not reaped yet: if it is one of our commands,
 * kill what is left of its process group.
 */
void	exec_child_ending(pid_t);
/*
 * Run notify-command of the config given to exec_init with extra
 * appended (at most 3), under notify-timeout; done is called once it has
 * ended (reason: HR_OK, HR_EXIT_STATUS, HR_KILLED_TIMEOUT, HR_SIGNALED,
 * with the first bytes of its output).  -1 and why in err if it could
 * not start (done is then never called).
 */
typedef void	(*exec_hook_done_fn)(uint32_t reason, int32_t detail,
		    const char *output, void *arg);
int	exec_hook(const char *const *extra, size_t n_extra,
	    exec_hook_done_fn done, void *arg, char *err, size_t errlen);
/*
 * At exit: kill the running exec checks, reaped later without an answer,
 * so that only notify hooks are still waited for.
 */
void	exec_stop_checks(void);
/*
 * At exit, without the event loop: wait at most until until_ms (mono_ms)
 * for one command to end, killing those past their own timeout and
 * reading their output; an ended hook's done is called from here.
 * Returns 1 if one ended, 0 if none did, -1 if none is running.
 */
int	exec_wait(uint64_t until_ms);
/* Kill and reap every running command, without calling done. */
void	exec_shutdown(void);

#endif
