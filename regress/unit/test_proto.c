/*
 * The message catalogue's own checks (common/proto.c): IMSG_NETWORKS
 * payloads, every field at and past its limits.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include "proto.h"

static int	 failures;

static void
expect(const struct imsg_networks *nw, int want, const char *what)
{
	char	 err[128] = "";
	int	 got = imsg_networks_check(nw, err, sizeof(err));

	if (got != want || (got == -1 && err[0] == '\0')) {
		printf("%s: got %d (%s), want %d\n", what, got, err, want);
		failures++;
	}
}

static struct imsg_networks
one(const char *prefix)
{
	struct imsg_networks	 nw;

	memset(&nw, 0, sizeof(nw));
	if (yaim_prefix_parse(prefix, &nw.net[0]) == -1) {
		printf("cannot parse %s\n", prefix);
		failures++;
	}
	nw.n = 1;
	nw.complete = 1;
	return nw;
}

int
main(void)
{
	struct imsg_networks	 nw;
	uint32_t		 i;

	memset(&nw, 0, sizeof(nw));
	expect(&nw, 0, "empty, incomplete");
	nw.complete = 1;
	expect(&nw, 0, "empty, complete");
	nw.complete = 2;
	expect(&nw, -1, "complete 2");

	nw = one("198.18.0.0/24");
	expect(&nw, 0, "one v4");
	nw = one("2001:db8::/32");
	expect(&nw, 0, "one v6");
	nw = one("198.18.0.0/24");
	nw.net[0].prefixlen = 33;
	expect(&nw, -1, "v4 /33");
	nw = one("2001:db8::/32");
	nw.net[0].prefixlen = 129;
	expect(&nw, -1, "v6 /129");
	nw = one("198.18.0.0/24");
	nw.net[0].af = 0;
	expect(&nw, -1, "family 0");
	nw = one("198.18.0.0/24");
	nw.net[0].pad[1] = 1;
	expect(&nw, -1, "pad byte");
	nw = one("198.18.0.0/24");
	nw.net[0].addr[4] = 1;
	expect(&nw, -1, "v4 with bytes past 4");
	nw = one("198.18.0.0/24");
	nw.net[1].af = AF_INET;
	expect(&nw, -1, "entry past n not zero");
	nw = one("198.18.0.0/24");
	nw.n = 0;
	expect(&nw, -1, "n 0 with an entry");

	memset(&nw, 0, sizeof(nw));
	for (i = 0; i < IMSG_NETWORKS_MAX; i++) {
		nw.net[i].af = AF_INET;
		nw.net[i].prefixlen = 32;
		nw.net[i].addr[3] = (uint8_t)i;
	}
	nw.n = IMSG_NETWORKS_MAX;
	nw.complete = 1;
	expect(&nw, 0, "full");
	nw.n = IMSG_NETWORKS_MAX + 1;
	expect(&nw, -1, "n past the maximum");

	if (strcmp(imsg_type_name(IMSG_NETWORKS), "IMSG_NETWORKS") != 0) {
		printf("imsg_type_name(IMSG_NETWORKS)\n");
		failures++;
	}
	if (failures != 0) {
		printf("%d failures\n", failures);
		return 1;
	}
	printf("test_proto: all passed\n");
	return 0;
}
