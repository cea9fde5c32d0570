/*
 * seccomp-BPF allow-lists for the children (DESIGN.md section 11b).
 */
#ifndef YAIM_SANDBOX_H
#define YAIM_SANDBOX_H

enum sandbox_role {
	SANDBOX_CHECKER,
	SANDBOX_DCS
};

/*
 * Install the role's filter (sets no_new_privs first).  Called right
 * after the privilege drop; fatal on failure.
 */
void	sandbox_enter(enum sandbox_role);
/* The same, returning -1 with errno instead of dying (for regress). */
int	sandbox_install(enum sandbox_role);
/* 1 if a call outside the allow-list kills; 0 in a build that logs. */
int	sandbox_kills(void);

#endif
