/*
 * The etcd key layout, parsed.  Pure: no I/O, no clock.
 */
#include <string.h>

#include "dcs/keys.h"

#define NODES_DIR	KEYS_NODES_DIR
#define IPS_DIR		KEYS_IPS_DIR
#define REFUSED_DIR	KEYS_REFUSED_DIR
#define PEERS_DIR	KEYS_PEERS_DIR
#define MEMBERS_DIR	KEYS_MEMBERS_DIR
#define NAME_RULE	"not a node name of 1..63 characters of [A-Za-z0-9._-]"

int
keys_valid_nodename(const char *name, size_t len)
{
	size_t	 i;

	if (len == 0 || len >= CFG_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char	 ch = (unsigned char)name[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-')
			continue;
		return 0;
	}
	return 1;
}

static int
has_prefix(const char *s, size_t len, const char *p)
{
	size_t	 plen = strlen(p);

	return len >= plen && memcmp(s, p, plen) == 0;
}

static enum key_kind
bad(struct key_info *ki, const char *why)
{
	ki->kind = KEY_BAD;
	ki->why = why;
	return KEY_BAD;
}

/* nodes/<nodename>, peers/<nodename> and members/<nodename> */
static enum key_kind
parse_node(const char *rest, size_t len, enum key_kind kind,
    struct key_info *ki)
{
	if (memchr(rest, '/', len) != NULL)
		return bad(ki, kind == KEY_NODE ?
		    "unexpected path below a node key" : kind == KEY_PEER ?
		    "unexpected path below a peer key" :
		    "unexpected path below a member key");
	if (!keys_valid_nodename(rest, len))
		return bad(ki, NAME_RULE);
	memcpy(ki->node, rest, len);
	ki->node[len] = '\0';
	ki->kind = kind;
	return kind;
}

/* The IP part of an ips/ key: canonical, else say why. */
static enum key_kind
parse_ip(const char *text, size_t len, enum key_kind kind,
    struct key_info *ki)
{
	char			 buf[YAIM_ADDRSTRLEN + 1];
	struct yaim_addr	 a;

	if (len == 0)
		return bad(ki, "empty IP address");
	if (len >= sizeof(buf) || memchr(text, '\0', len) != NULL)
		return bad(ki, "not an IP address");
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (yaim_addr_parse(buf, &ki->addr, 1) == 0) {
		ki->kind = kind;
		return kind;
	}
	memset(&ki->addr, 0, sizeof(ki->addr));
	if (yaim_addr_parse(buf, &a, 0) == 0) {
		yaim_addr_ntop(&a, ki->canonical, sizeof(ki->canonical));
		return bad(ki, "IP address not in canonical form");
	}
	if (yaim_addr_v4_unzero(buf, ki->canonical, sizeof(ki->canonical)) ==
	    0 && yaim_addr_parse(ki->canonical, &a, 1) == 0)
		return bad(ki, "IP address not in canonical form");
	ki->canonical[0] = '\0';
	return bad(ki, "not an IP address");
}

static enum key_kind
parse_ips(const char *rest, size_t len, struct key_info *ki)
{
	const char	*slash;
	size_t		 iplen, sufflen = strlen(KEYS_MARK_SUFFIX);

	slash = memchr(rest, '/', len);
	if (slash == NULL)
		return parse_ip(rest, len, KEY_POOL, ki);
	iplen = (size_t)(slash - rest);
	if (len - iplen != sufflen ||
	    memcmp(slash, KEYS_MARK_SUFFIX, sufflen) != 0) {
		/* Still say what is wrong with the IP part, if anything. */
		if (parse_ip(rest, iplen, KEY_MARK, ki) == KEY_BAD)
			return KEY_BAD;
		memset(&ki->addr, 0, sizeof(ki->addr));
		return bad(ki, "unexpected path below an IP key");
	}
	return parse_ip(rest, iplen, KEY_MARK, ki);
}

/* refused/<nodename>/<ip> */
static enum key_kind
parse_refused(const char *rest, size_t len, struct key_info *ki)
{
	const char	*slash;
	size_t		 nlen;

	if ((slash = memchr(rest, '/', len)) == NULL)
		return bad(ki, "a refusal key needs <nodename>/<ip>");
	nlen = (size_t)(slash - rest);
	if (!keys_valid_nodename(rest, nlen))
		return bad(ki, NAME_RULE);
	memcpy(ki->node, rest, nlen);
	ki->node[nlen] = '\0';
	rest += nlen + 1;
	len -= nlen + 1;
	if (memchr(rest, '/', len) != NULL) {
		ki->node[0] = '\0';
		return bad(ki, "unexpected path below a refusal key");
	}
	if (parse_ip(rest, len, KEY_REFUSED, ki) == KEY_BAD)
		ki->node[0] = '\0';
	return ki->kind;
}

enum key_kind
keys_parse(const char *prefix, const char *key, size_t len,
    struct key_info *ki)
{
	size_t	 plen = strlen(prefix);

	memset(ki, 0, sizeof(*ki));
	ki->why = "";
	if (key == NULL || !has_prefix(key, len, prefix))
		return KEY_OUTSIDE;
	key += plen;
	len -= plen;
	if (has_prefix(key, len, NODES_DIR))
		return parse_node(key + strlen(NODES_DIR),
		    len - strlen(NODES_DIR), KEY_NODE, ki);
	if (has_prefix(key, len, PEERS_DIR))
		return parse_node(key + strlen(PEERS_DIR),
		    len - strlen(PEERS_DIR), KEY_PEER, ki);
	if (has_prefix(key, len, MEMBERS_DIR))
		return parse_node(key + strlen(MEMBERS_DIR),
		    len - strlen(MEMBERS_DIR), KEY_MEMBER, ki);
	if (len == strlen(KEYS_PEER_KEY) &&
	    memcmp(key, KEYS_PEER_KEY, len) == 0) {
		ki->kind = KEY_PEER_KEY;
		return KEY_PEER_KEY;
	}
	if (has_prefix(key, len, IPS_DIR))
		return parse_ips(key + strlen(IPS_DIR),
		    len - strlen(IPS_DIR), ki);
	if (has_prefix(key, len, REFUSED_DIR))
		return parse_refused(key + strlen(REFUSED_DIR),
		    len - strlen(REFUSED_DIR), ki);
	ki->kind = KEY_OTHER;
	return KEY_OTHER;
}

static int
parse_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (len == 0 || len > 5 || s[0] == '0')
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int
keys_parse_peer_value(const char *value, size_t len, struct yaim_addr *addr,
    uint16_t *port, const char **why)
{
	char		 buf[YAIM_ADDRSTRLEN + 1];
	const char	*colon, *a = value;
	size_t		 alen;

	*why = "not \"address:port\" or \"[address]:port\"";
	memset(addr, 0, sizeof(*addr));
	if (len == 0 || memchr(value, '\0', len) != NULL)
		return -1;
	/* the last colon: IPv6 addresses have their own, inside [] */
	for (colon = value + len - 1; colon > value && *colon != ':'; colon--)
		;
	if (*colon != ':')
		return -1;
	alen = (size_t)(colon - value);
	if (value[0] == '[') {
		if (alen < 2 || value[alen - 1] != ']')
			return -1;
		a++;
		alen -= 2;
	}
	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, a, alen);
	buf[alen] = '\0';
	if (yaim_addr_parse(buf, addr, 1) == -1 ||
	    (addr->af == AF_INET6) != (value[0] == '[')) {
		memset(addr, 0, sizeof(*addr));
		*why = "the address is not an IP address in canonical form "
		    "(IPv6 in [])";
		return -1;
	}
	if (parse_port(colon + 1, len - alen - (value[0] == '[' ? 2 : 0) - 1,
	    port) == -1) {
		memset(addr, 0, sizeof(*addr));
		*why = "the port is not a number of 1..65535";
		return -1;
	}
	*why = "";
	return 0;
}
