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

#include <event2/event.h>
#include <yaml.h>

#include "config.h"
#include "log.h"
#include "privsep.h"
#include "parent/parent.h"

#ifndef YAIM_VERSION
#define YAIM_VERSION		"unknown"
#endif
#ifndef YAIM_LIBMNL_VERSION
#define YAIM_LIBMNL_VERSION	""
#endif
#ifndef YAIM_LIBCAPNG_VERSION
#define YAIM_LIBCAPNG_VERSION	""
#endif

#ifndef YAIM_LIBCURL_VERSION
#define YAIM_LIBCURL_VERSION	""
#endif
#ifndef YAIM_LIBPQ_VERSION
#define YAIM_LIBPQ_VERSION	""
#endif
#ifndef YAIM_CJSON_VERSION
#define YAIM_CJSON_VERSION	""
#endif

#define USAGE	"usage: yaimd [-dhnVv] [-f file | --config file]\n"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, USAGE);
	exit(1);
}

static void __attribute__((noreturn))
help(void)
{
	printf(USAGE);
	printf("  -d                 stay in the foreground, log to stderr\n"
	    "  -f, --config file  read file instead of ./yaim.yml\n"
	    "  -h, --help         print this help and exit\n"
	    "  -n                 check the configuration and exit\n"
	    "  -V, --version      print the version and the libraries\n"
	    "  -v                 verbose (with -n: print the configuration)\n"
	    "See yaimd(8) and yaim.yml(5).\n");
	exit(0);
}

/*
 * The version and the libraries: the parent's own at run time where the
 * library has a call for it, else as built (marked so); the children's
 * (yaimd-checker, yaimd-dcs) as built, since the parent does not map them
 * (DESIGN.md section 1).
 */
static void
version_line(const char *lib, const char *v, const char *how)
{
	printf("%s %s%s\n", lib, v[0] != '\0' ? v : "unknown", how);
}

static void __attribute__((noreturn))
version(void)
{
	printf("yaimd %s\n", YAIM_VERSION);
	version_line("libevent", event_get_version(), "");
	version_line("libyaml", yaml_get_version_string(), "");
	version_line("libmnl", YAIM_LIBMNL_VERSION, " (build)");
	version_line("libcap-ng", YAIM_LIBCAPNG_VERSION, " (build)");
	version_line("libcurl", YAIM_LIBCURL_VERSION,
	    " (build; yaimd-checker, yaimd-dcs)");
	version_line("libpq", YAIM_LIBPQ_VERSION, " (build; yaimd-checker)");
	version_line("cJSON", YAIM_CJSON_VERSION, " (build; yaimd-dcs)");
	exit(0);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL,	'f' },
		{ "help",	no_argument,		NULL,	'h' },
		{ "version",	no_argument,		NULL,	'V' },
		{ NULL,		0,			NULL,	0 }
	};
	struct parent_opts	 opts;
	char			*config = NULL;
	int			 ch, rc;

	memset(&opts, 0, sizeof(opts));
	opts.config = YAIM_DEFAULT_CONFIG;
	while ((ch = getopt_long(argc, argv, "df:hnVv", longopts,
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
		case 'h':
			help();
		case 'n':
			opts.check_only = 1;
			break;
		case 'V':
			version();
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
