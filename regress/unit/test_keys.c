/*
 * The etcd key parser (dcs/keys.c): every kind, every reason, canonical
 * spellings, embedded NULs and lengths at the edges.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcs/keys.h"

static int	 failures;

#define P	"/service/yaim/"

static void
expect(const char *key, size_t len, enum key_kind kind, const char *detail,
    int line)
{
	struct key_info	 ki;
	char		 buf[YAIM_ADDRSTRLEN];
	char		 both[CFG_NAME_MAX + YAIM_ADDRSTRLEN + 2];
	const char	*got = "";

	if (keys_parse(P, key, len, &ki) != ki.kind) {
		printf("line %d: return value differs from ki.kind\n", line);
		failures++;
	}
	switch (ki.kind) {
	case KEY_NODE:
	case KEY_PEER:
	case KEY_MEMBER:
		got = ki.node;
		break;
	case KEY_POOL:
	case KEY_MARK:
		got = yaim_addr_ntop(&ki.addr, buf, sizeof(buf));
		break;
	case KEY_REFUSED:
		snprintf(both, sizeof(both), "%s %s", ki.node,
		    yaim_addr_ntop(&ki.addr, buf, sizeof(buf)));
		got = both;
		break;
	case KEY_BAD:
		got = ki.canonical[0] != '\0' ? ki.canonical : ki.why;
		break;
	default:
		break;
	}
	if (ki.kind != kind || strcmp(got, detail) != 0) {
		printf("line %d: key \"%.*s\": got kind %d \"%s\", want kind "
		    "%d \"%s\"\n", line, (int)len, key, ki.kind, got, kind,
		    detail);
		failures++;
	}
}

#define E(key, kind, detail) expect(key, strlen(key), kind, detail, __LINE__)

/* Peer values: what parses, and every way not to. */
static void
pv(const char *v, size_t len, const char *want_addr, int want_port,
    int line)
{
	struct yaim_addr	 a;
	uint16_t		 port = 0;
	const char		*why = NULL;
	char			 buf[YAIM_ADDRSTRLEN];
	int			 r;

	r = keys_parse_peer_value(v, len, &a, &port, &why);
	if (want_addr == NULL) {
		if (r != -1 || why == NULL || why[0] == '\0') {
			printf("line %d: \"%.*s\" accepted or no reason\n",
			    line, (int)len, v);
			failures++;
		}
		return;
	}
	if (r != 0 || strcmp(yaim_addr_ntop(&a, buf, sizeof(buf)),
	    want_addr) != 0 || port != want_port) {
		printf("line %d: \"%.*s\": got %d %s port %u (%s)\n", line,
		    (int)len, v, r, r == 0 ? buf : "-", port, why);
		failures++;
	}
}

#define PV(v, a, p)	pv(v, strlen(v), a, p, __LINE__)

static void
test_peer_values(void)
{
	PV("10.0.0.1:7405", "10.0.0.1", 7405);
	PV("[2001:db8::1]:1", "2001:db8::1", 1);
	PV("[::ffff:10.0.0.1]:65535", "::ffff:10.0.0.1", 65535);
	PV("10.0.0.1:65536", NULL, 0);
	PV("10.0.0.1:0", NULL, 0);
	PV("10.0.0.1:07405", NULL, 0);
	PV("10.0.0.1:+1", NULL, 0);
	PV("10.0.0.1:", NULL, 0);
	PV("10.0.0.1", NULL, 0);
	PV(":7405", NULL, 0);
	PV("[]:7405", NULL, 0);
	PV("2001:db8::1:7405", NULL, 0);	/* v6 needs [] */
	PV("[10.0.0.1]:7405", NULL, 0);		/* v4 does not */
	PV("[2001:DB8::1]:7405", NULL, 0);	/* canonical only */
	PV("010.0.0.1:7405", NULL, 0);
	PV("host.example:7405", NULL, 0);
	PV("", NULL, 0);
	PV("[2001:db8::1:7405", NULL, 0);
	PV("10.0.0.1:7405 ", NULL, 0);
	pv("10.0.0.1:74\0005", 9, NULL, 0, __LINE__);
	pv("10.0.0.1:7405x", 13, "10.0.0.1", 7405, __LINE__);
}

int
main(void)
{
	char	 longname[200];
	char	 nul[64];

	E(P "nodes/a", KEY_NODE, "a");
	E(P "nodes/node-1.example_x", KEY_NODE, "node-1.example_x");
	E(P "nodes/", KEY_BAD, "not a node name of 1..63 characters of "
	    "[A-Za-z0-9._-]");
	E(P "nodes/a b", KEY_BAD, "not a node name of 1..63 characters of "
	    "[A-Za-z0-9._-]");
	E(P "nodes/a/b", KEY_BAD, "unexpected path below a node key");
	memset(longname, 'x', sizeof(longname));
	memcpy(longname, P "nodes/", strlen(P "nodes/"));
	longname[strlen(P "nodes/") + 63] = '\0';
	E(longname, KEY_NODE, longname + strlen(P "nodes/"));
	longname[strlen(P "nodes/") + 63] = 'x';
	longname[strlen(P "nodes/") + 65] = '\0';
	E(longname, KEY_BAD, "not a node name of 1..63 characters of "
	    "[A-Za-z0-9._-]");

	E(P "ips/10.0.0.7", KEY_POOL, "10.0.0.7");
	E(P "ips/2001:db8::7", KEY_POOL, "2001:db8::7");
	E(P "ips/10.0.0.7/marked", KEY_MARK, "10.0.0.7");
	E(P "ips/2001:db8::7/marked", KEY_MARK, "2001:db8::7");
	E(P "ips/2001:DB8::7", KEY_BAD, "2001:db8::7");
	E(P "ips/2001:db8:0::7", KEY_BAD, "2001:db8::7");
	E(P "ips/2001:DB8::7/marked", KEY_BAD, "2001:db8::7");
	E(P "ips/::ffff:10.0.0.1", KEY_POOL, "::ffff:10.0.0.1");
	E(P "ips/10.0.0.256", KEY_BAD, "not an IP address");
	E(P "ips/10.0.0", KEY_BAD, "not an IP address");
	E(P "ips/host", KEY_BAD, "not an IP address");
	E(P "ips/", KEY_BAD, "empty IP address");
	E(P "ips//marked", KEY_BAD, "empty IP address");
	E(P "ips/10.0.0.7/", KEY_BAD, "unexpected path below an IP key");
	E(P "ips/10.0.0.7/markedx", KEY_BAD,
	    "unexpected path below an IP key");
	E(P "ips/10.0.0.7/marked/x", KEY_BAD,
	    "unexpected path below an IP key");
	E(P "ips/10.0.0.7/other", KEY_BAD, "unexpected path below an IP key");
	E(P "ips/x/other", KEY_BAD, "not an IP address");
	E(P "ips/10.0.0.7 ", KEY_BAD, "not an IP address");
	E(P "ips/10.0.0.70000000000000000000000000000000000000000000000000",
	    KEY_BAD, "not an IP address");

	/* inet_pton() rejects leading zeros; the decimal reading is shown. */
	E(P "ips/198.18.1.07", KEY_BAD, "198.18.1.7");
	E(P "ips/010.000.0.1/marked", KEY_BAD, "10.0.0.1");
	E(P "ips/10.0.0.00", KEY_BAD, "10.0.0.0");
	E(P "ips/10.0.0.0400", KEY_BAD, "not an IP address");
	E(P "ips/10.0.0.07.1", KEY_BAD, "not an IP address");
	E(P "ips/10..0.07", KEY_BAD, "not an IP address");
	E(P "ips/10.0.0.07.", KEY_BAD, "not an IP address");
	E(P "ips/0x0a.0.0.1", KEY_BAD, "not an IP address");

	E(P "refused/n1/10.0.0.7", KEY_REFUSED, "n1 10.0.0.7");
	E(P "refused/node-2/2001:db8::7", KEY_REFUSED, "node-2 2001:db8::7");
	E(P "refused/n1/2001:DB8::7", KEY_BAD, "2001:db8::7");
	E(P "refused/n1/10.0.0.07", KEY_BAD, "10.0.0.7");
	E(P "refused/n1/host", KEY_BAD, "not an IP address");
	E(P "refused/n1/", KEY_BAD, "empty IP address");
	E(P "refused/n1", KEY_BAD, "a refusal key needs <nodename>/<ip>");
	E(P "refused/", KEY_BAD, "a refusal key needs <nodename>/<ip>");
	E(P "refused//10.0.0.7", KEY_BAD, "not a node name of 1..63 "
	    "characters of [A-Za-z0-9._-]");
	E(P "refused/a b/10.0.0.7", KEY_BAD, "not a node name of 1..63 "
	    "characters of [A-Za-z0-9._-]");
	E(P "refused/n1/10.0.0.7/x", KEY_BAD,
	    "unexpected path below a refusal key");
	E(P "refusedx/n1/10.0.0.7", KEY_OTHER, "");

	E(P "peers/n1", KEY_PEER, "n1");
	E(P "peers/", KEY_BAD, "not a node name of 1..63 characters of "
	    "[A-Za-z0-9._-]");
	E(P "peers/n1/x", KEY_BAD, "unexpected path below a peer key");
	E(P "peersx/n1", KEY_OTHER, "");
	E(P "peer-key", KEY_PEER_KEY, "");
	E(P "peer-key/", KEY_OTHER, "");
	E(P "peer-keys", KEY_OTHER, "");
	E(P "peer", KEY_OTHER, "");

	E(P "members/n1", KEY_MEMBER, "n1");
	E(P "members/", KEY_BAD, "not a node name of 1..63 characters of "
	    "[A-Za-z0-9._-]");
	E(P "members/n1/x", KEY_BAD, "unexpected path below a member key");
	E(P "membersx/n1", KEY_OTHER, "");

	E(P "config", KEY_OTHER, "");
	E(P "nodesx", KEY_OTHER, "");
	E(P "ipsx/10.0.0.1", KEY_OTHER, "");
	E("/service/yaim", KEY_OUTSIDE, "");
	E("/service/other/ips/10.0.0.1", KEY_OUTSIDE, "");
	E("", KEY_OUTSIDE, "");

	/* A NUL inside the IP or the name: never taken as a shorter key. */
	snprintf(nul, sizeof(nul), "%sips/10.0.0.1", P);
	memcpy(nul + strlen(nul), "\0x", 3);
	expect(nul, strlen(P "ips/10.0.0.1") + 2, KEY_BAD,
	    "not an IP address", __LINE__);
	snprintf(nul, sizeof(nul), "%snodes/a", P);
	expect(nul, strlen(P "nodes/a") + 1, KEY_BAD,
	    "not a node name of 1..63 characters of [A-Za-z0-9._-]",
	    __LINE__);
	/* len shorter than the string: only len bytes count. */
	expect(P "ips/10.0.0.17", strlen(P "ips/10.0.0.1"), KEY_POOL,
	    "10.0.0.1", __LINE__);
	expect(P "ips/10.0.0.1", 3, KEY_OUTSIDE, "", __LINE__);
	expect(NULL, 0, KEY_OUTSIDE, "", __LINE__);

	test_peer_values();
	if (!keys_valid_nodename("n1", 2) || keys_valid_nodename("", 0) ||
	    keys_valid_nodename("a/b", 3) || keys_valid_nodename("a\0", 2)) {
		printf("keys_valid_nodename is wrong\n");
		failures++;
	}
	if (failures != 0) {
		printf("%d failures\n", failures);
		return 1;
	}
	printf("test_keys: all passed\n");
	return 0;
}
