/*
 * libFuzzer harness for the yaim.yml loader.  Any input must either
 * load or fail with a "name:line:column: message" error, never crash,
 * leak or leave a secret behind on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct yaim_config	 conf;
	char				 err[1024];
	FILE				*fp;

	if (config_load_buffer("fuzz.yml", data, size, &conf, err,
	    sizeof(err)) == -1) {
		if (strncmp(err, "fuzz.yml:", 9) != 0)
			abort();
		if (conf.etcd_password[0] != '\0')
			abort();
		return 0;
	}
	/* Printing must work on anything that loads. */
	if ((fp = fopen("/dev/null", "w")) != NULL) {
		config_print(fp, &conf);
		fclose(fp);
	}
	config_scrub_for(&conf, "checker");
	config_wipe(&conf);
	return 0;
}
