/*
 * yaimd: keep a pool of virtual IP addresses on healthy nodes.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "privsep.h"
#include "parent/parent.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: yaimd [-dnv] [-f file | --config file]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL,	'f' },
		{ NULL,		0,			NULL,	0 }
	};
	struct parent_opts	 opts;
	char			*config = NULL;
	int			 ch, rc;

	memset(&opts, 0, sizeof(opts));
	opts.config = YAIM_DEFAULT_CONFIG;
	while ((ch = getopt_long(argc, argv, "df:nv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			opts.debug = 1;
			break;
		case 'f':
			/* argv is overwritten by the process title later */
			free(config);
			if ((config = strdup(optarg)) == NULL)
				err(1, "strdup");
			opts.config = config;
			break;
		case 'n':
			opts.check_only = 1;
			break;
		case 'v':
			opts.verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	proctitle_init(argc, argv);
	rc = parent_main(&opts);
	free(config);
	return rc;
}
