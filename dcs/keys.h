/*
 * The etcd key layout of DESIGN.md section 3, parsed.  Pure: no I/O, no
 * clock.  Keys come from etcd and are untrusted: any bytes, any length.
 *
 *   <prefix>nodes/<nodename>	KEY_NODE
 *   <prefix>ips/<ip>		KEY_POOL	(ip in canonical form)
 *   <prefix>ips/<ip>/marked	KEY_MARK
 *   <prefix>refused/<nodename>/<ip>	KEY_REFUSED	(see yaimd.8)
 *   <prefix>peers/<nodename>	KEY_PEER	(value "addr:port")
 *   <prefix>peer-key		KEY_PEER_KEY	(the cluster key, base64)
 *   <prefix>members/<nodename>	KEY_MEMBER	(no lease; DESIGN.md 10.1)
 *
 * Anything else under <prefix>ips/, <prefix>nodes/, <prefix>refused/,
 * <prefix>peers/ or <prefix>members/ is KEY_BAD with a reason (and, for
 * an IP written in a non-canonical way, its canonical spelling).  Keys
 * under the prefix but outside those are KEY_OTHER (left for later
 * versions, ignored quietly); keys outside the prefix are KEY_OUTSIDE.
 */
#ifndef YAIM_DCS_KEYS_H
#define YAIM_DCS_KEYS_H

#include <stddef.h>

#include "addr.h"
#include "config.h"

enum key_kind {
	KEY_OUTSIDE = 0,
	KEY_OTHER,
	KEY_NODE,
	KEY_POOL,
	KEY_MARK,
	KEY_REFUSED,
	KEY_PEER,
	KEY_PEER_KEY,
	KEY_MEMBER,
	KEY_BAD
};

struct key_info {
	enum key_kind		 kind;
	/* KEY_NODE, KEY_REFUSED, KEY_PEER, KEY_MEMBER: the node name */
	char			 node[CFG_NAME_MAX];
	/* KEY_POOL, KEY_MARK, KEY_REFUSED */
	struct yaim_addr	 addr;
	/* KEY_BAD: why, a static string */
	const char		*why;
	/* KEY_BAD for a non-canonical IP: the canonical form, else "" */
	char			 canonical[YAIM_ADDRSTRLEN];
};

#define KEYS_MARK_SUFFIX	"/marked"
#define KEYS_NODES_DIR		"nodes/"
#define KEYS_IPS_DIR		"ips/"
#define KEYS_REFUSED_DIR	"refused/"
#define KEYS_PEERS_DIR		"peers/"
#define KEYS_PEER_KEY		"peer-key"
#define KEYS_MEMBERS_DIR	"members/"

/*
 * Classify key[0 .. len-1] (may hold NULs) under prefix (a C string
 * ending in '/').  Always fills *ki and returns ki->kind.
 */
enum key_kind	keys_parse(const char *prefix, const char *key, size_t len,
		    struct key_info *ki);

/* 1 if name is a usable node name: 1..CFG_NAME_MAX-1 bytes, printable
 * ASCII, no '/' and no space. */
int		keys_valid_nodename(const char *name, size_t len);

/*
 * The value of a KEY_PEER: "a.b.c.d:port" or "[v6]:port", the address in
 * canonical form, the port 1..65535 in decimal without leading zeros.
 * Untrusted bytes (may hold NULs).  0, or -1 with *why a static string.
 */
int		keys_parse_peer_value(const char *value, size_t len,
		    struct yaim_addr *addr, uint16_t *port, const char **why);

#endif
