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

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <libpq-fe.h>
#include <yaml.h>

#include "config.h"
#include "log.h"
#include "privsep.h"
#include "parent/parent.h"

void	checker_main(int debug, int verbose);
void	dcs_main(int debug, int verbose);

#ifndef YAIM_VERSION
#define YAIM_VERSION		"unknown"
#endif
#ifndef YAIM_LIBMNL_VERSION
#define YAIM_LIBMNL_VERSION	""
#endif
#ifndef YAIM_LIBCAPNG_VERSION
#define YAIM_LIBCAPNG_VERSION	""
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
 * The version and the libraries in use: the run-time version where the
 * library says it, else the one built against (marked so).
 */
static void __attribute__((noreturn))
version(void)
{
	const curl_version_info_data	*cv = curl_version_info(CURLVERSION_NOW);
	int				 pq = PQlibVersion();

	printf("yaimd %s\n", YAIM_VERSION);
	printf("libevent %s\n", event_get_version());
	printf("libcurl %s%s%s%s\n", cv->version, cv->ssl_version ? " (" : "",
	    cv->ssl_version ? cv->ssl_version : "", cv->ssl_version ? ")" :
	    "");
	printf("libyaml %s\n", yaml_get_version_string());
	printf("cJSON %s\n", cJSON_Version());
	printf("libmnl %s (build)\n", YAIM_LIBMNL_VERSION[0] ?
	    YAIM_LIBMNL_VERSION : "unknown");
	printf("libcap-ng %s (build)\n", YAIM_LIBCAPNG_VERSION[0] ?
	    YAIM_LIBCAPNG_VERSION : "unknown");
	/* 150008 is 15.8; before 10, 90624 is 9.6.24 */
	if (pq >= 100000)
		printf("libpq %d.%d\n", pq / 10000, pq % 10000);
	else
		printf("libpq %d.%d.%d\n", pq / 10000, pq / 100 % 100, pq % 100);
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
	const char		*child = NULL;
	char			*config = NULL;
	int			 ch, rc;

	memset(&opts, 0, sizeof(opts));
	opts.config = YAIM_DEFAULT_CONFIG;
	while ((ch = getopt_long(argc, argv, "df:hnVvP:", longopts,
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
		case 'P':
			child = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	proctitle_init(argc, argv);
	if (child != NULL) {
		if (strcmp(child, "checker") == 0)
			checker_main(opts.debug, opts.verbose);
		else if (strcmp(child, "dcs") == 0)
			dcs_main(opts.debug, opts.verbose);
		usage();
	}
	rc = parent_main(&opts);
	free(config);
	return rc;
}
