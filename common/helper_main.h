/*
 * The command line of the checker and dcs executables, which only the
 * parent starts (DESIGN.md section 1): -d and -v, as the parent got them.
 */
#ifndef YAIM_HELPER_MAIN_H
#define YAIM_HELPER_MAIN_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "privsep.h"

static void
helper_args(const char *name, int argc, char *argv[], int *debug,
    int *verbose)
{
	int	 ch;

	*debug = *verbose = 0;
	while ((ch = getopt(argc, argv, "dv")) != -1) {
		switch (ch) {
		case 'd':
			*debug = 1;
			break;
		case 'v':
			(*verbose)++;
			break;
		default:
			goto usage;
		}
	}
	if (optind == argc) {
		proctitle_init(argc, argv);
		return;
	}
usage:
	fprintf(stderr, "yaimd-%s is started by yaimd(8) only\n", name);
	exit(1);
}

#endif
