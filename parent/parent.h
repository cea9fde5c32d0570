/*
 * The privileged parent process.
 */
#ifndef YAIM_PARENT_H
#define YAIM_PARENT_H

struct parent_opts {
	const char	*config;
	int		 debug;
	int		 verbose;
	int		 check_only;
};

int	parent_main(const struct parent_opts *);

#endif
