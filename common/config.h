/*
 * yaim.yml, parsed with libyaml in the parent only.  The children receive
 * this struct over imsg (IMSG_CFG_MAIN), with secrets they do not need
 * wiped, so it holds only fixed-size fields.
 */
#ifndef YAIM_CONFIG_H
#define YAIM_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "addr.h"

#define YAIM_DEFAULT_CONFIG	"yaim.yml"
#define YAIM_DEFAULT_USER	"_yaimd"
#define YAIM_DEFAULT_CHROOT	"/var/empty/yaimd"
#define YAIM_DEFAULT_PEER_PORT	7405	/* see yaim.yml(5) */
#define YAIM_DEFAULT_CONTROL_SOCKET	"/run/yaimd.sock"
#define YAIM_DEFAULT_NOTIFY_TIMEOUT	10000	/* ms, see yaim.yml(5) */
#define CFG_SUN_PATH_MAX	108	/* sizeof(sockaddr_un.sun_path) */

#define CFG_MAX_ENDPOINTS	16
#define CFG_MAX_CHECKS		8
#define CFG_MAX_NETWORKS	32
#define CFG_MAX_ARGS		16
#define CFG_NAME_MAX		64	/* node names, check names */
#define CFG_STR_MAX		256
#define CFG_URL_MAX		1024
#define CFG_PATH_MAX		512
#define CFG_IFNAME_MAX		16	/* IFNAMSIZ */
#define CFG_LABEL_MAX		16	/* "<iface>:<label>" incl. NUL */
/*
 * Addresses kept for one resolved host name: the first ones in
 * getaddrinfo's order.  A CURLOPT_RESOLVE entry carries as many; its
 * room: a host name, the port and CFG_MAX_RESOLVED bracketed IPv6
 * addresses with their commas.
 */
#define CFG_MAX_RESOLVED	8
#define CFG_RESOLVE_MAX		(CFG_STR_MAX + 8 + \
				    CFG_MAX_RESOLVED * (YAIM_ADDRSTRLEN + 3))

/*
 * Where a value stands in the file (1-based, libyaml's start mark); 0:0
 * when it was not in the file.  Checks done after loading (name
 * resolution, the interface) point their errors there.
 */
struct cfg_pos {
	uint32_t	line;
	uint32_t	col;
};

/* Room for config_where()'s "file:line:column: ". */
#define CFG_WHERE_MAX		(CFG_PATH_MAX + 32)

enum check_kind {
	CHECK_NONE = 0,
	CHECK_HTTP,		/* http:// and https:// */
	CHECK_TCP,
	CHECK_POSTGRES,
	CHECK_EXEC
};

struct check_conf {
	char		name[CFG_NAME_MAX];	/* default "<kind>#<index>" */
	uint32_t	kind;			/* enum check_kind */
	uint32_t	interval_ms;		/* default: interval */
	uint32_t	timeout_ms;		/* default: see yaim.yml(5) */
	uint32_t	rise;
	uint32_t	fall;

	/* http */
	char		http_url[CFG_URL_MAX];
	uint32_t	http_expected_code;
	char		http_expected_contains[CFG_STR_MAX * 4];
	char		http_host_header[CFG_STR_MAX];
	char		http_ca_file[CFG_PATH_MAX];	/* parent only */
	uint32_t	http_tls_verify;		/* default 1 */
	uint32_t	http_max_body;			/* bytes */
	/* "host:port:addr[,addr...]" for CURLOPT_RESOLVE, filled by parent */
	char		http_resolve[CFG_RESOLVE_MAX];

	/* tcp */
	char		tcp_host[CFG_STR_MAX];
	uint16_t	tcp_port;

	/* postgres: always TCP, the chroot has no socket directory */
	char		pg_host[CFG_STR_MAX];
	uint16_t	pg_port;
	char		pg_user[CFG_NAME_MAX];
	char		pg_password[CFG_STR_MAX];	/* secret */
	char		pg_dbname[CFG_NAME_MAX];
	char		pg_query[CFG_URL_MAX];
	char		pg_expected[CFG_STR_MAX];

	/* exec: run by the parent only; wiped before sending to children */
	uint32_t	exec_argc;
	char		exec_argv[CFG_MAX_ARGS][CFG_STR_MAX];
	uint32_t	exec_max_output;		/* bytes */

	/*
	 * tcp and postgres: tcp-host or postgres-host resolved by the
	 * parent, in getaddrinfo's order (a literal: itself); tried in turn.
	 */
	uint32_t	n_addr;
	struct yaim_addr addr[CFG_MAX_RESOLVED];

	/* the http-url, tcp-host or postgres-host value */
	struct cfg_pos	host_pos;
};

struct yaim_config {
	char		file[CFG_PATH_MAX];

	/* dcs, the spec's keys */
	char		dcs_type[16];		/* "etcd" (v3) or "etcd2" */
	char		dcs_namespace[CFG_STR_MAX];
	char		dcs_clustername[CFG_STR_MAX];
	char		prefix[CFG_STR_MAX * 2 + 4];	/* "/ns/cluster/" */
	uint32_t	n_endpoints;
	char		endpoints[CFG_MAX_ENDPOINTS][CFG_URL_MAX / 2];
	uint32_t	interval_ms;
	uint32_t	ttl_ms;
	uint32_t	retry_num;
	uint32_t	retry_after_ms;
	char		etcd_user[CFG_NAME_MAX];
	char		etcd_password[CFG_STR_MAX];	/* secret: dcs only */
	char		etcd_ca_file[CFG_PATH_MAX];	/* parent only */
	char		etcd_cert_file[CFG_PATH_MAX];	/* parent only */
	char		etcd_key_file[CFG_PATH_MAX];	/* parent only */
	uint32_t	etcd_timeout_ms;		/* per request */
	/* "host:port:addr[,addr...]" for CURLOPT_RESOLVE, filled by parent */
	uint32_t	n_etcd_resolve;
	char		etcd_resolve[CFG_MAX_ENDPOINTS][CFG_RESOLVE_MAX];
	uint32_t	fence_margin_ms;
	/* how often the parent resolves the host names again */
	uint32_t	resolve_interval_ms;

	/* node identity and privileges */
	char		nodename[CFG_NAME_MAX];		/* default: hostname */
	char		user[CFG_NAME_MAX];
	char		chroot[CFG_PATH_MAX];
	/*
	 * Filled by the parent (getpwnam) so that children open no file:
	 * one identity per role (privsep.h's PRIVSEP_ROLE_*), and in the
	 * copy a child receives, its own role's in user_uid/user_gid.
	 */
	uint32_t	user_uid;
	uint32_t	user_gid;
	uint32_t	role_uid[3];
	uint32_t	role_gid[3];

	/* the control socket (DESIGN.md section 13); "" = none */
	char		control_socket[CFG_SUN_PATH_MAX];
	char		control_group[CFG_NAME_MAX];	/* "" = root only */
	uint32_t	control_gid;			/* filled by parent */

	/* interface */
	char		interface[CFG_IFNAME_MAX];
	char		label[CFG_LABEL_MAX];		/* "" = no label */
	uint8_t		netmask;			/* IPv4 prefix length */
	uint8_t		netmask6;			/* IPv6 prefix length */
	uint32_t	n_networks;			/* 0 = interface's */
	struct yaim_addr networks[CFG_MAX_NETWORKS];
	uint32_t	garp_count;
	uint32_t	garp_interval_ms;
	uint32_t	garp_refresh_ms;		/* 0 = off */

	/* peers (DESIGN.md section 10a) */
	uint32_t	peers;				/* 0 or 1 */
	uint32_t	failsafe;			/* 0 or 1 */
	struct yaim_addr peer_address;			/* af 0: interface */
	uint16_t	peer_port;
	char		peer_key_file[CFG_PATH_MAX];	/* parent only */
	uint32_t	peer_interval_ms;
	uint32_t	peer_timeout_ms;
	/* events (DESIGN.md section 14) */
	uint32_t	notify_argc;			/* 0 = no hook */
	char		notify_argv[CFG_MAX_ARGS][CFG_STR_MAX];	/* parent only */
	uint32_t	notify_timeout_ms;
	char		metrics_listen[CFG_STR_MAX];	/* "" = off */
	struct yaim_addr metrics_addr;			/* from metrics_listen */
	uint16_t	metrics_port;

	/* health checks: the flat spec keys form checks[0] */
	uint32_t	n_checks;
	struct check_conf checks[CFG_MAX_CHECKS];

	/* positions of values checked after loading, see config_where() */
	struct cfg_pos	endpoint_pos[CFG_MAX_ENDPOINTS];
	struct cfg_pos	interface_pos;
	struct cfg_pos	label_pos;
	struct cfg_pos	netmask_pos;
	struct cfg_pos	netmask6_pos;
	struct cfg_pos	peer_key_file_pos;
	struct cfg_pos	control_group_pos;
};

/*
 * Load and validate a file.  On error returns -1 and writes
 * "file:line:column: message" into err.
 */
int	config_load(const char *path, struct yaim_config *, char *err,
	    size_t errlen);
/* The same from memory (used by the fuzzer and unit tests). */
int	config_load_buffer(const char *name, const uint8_t *buf, size_t len,
	    struct yaim_config *, char *err, size_t errlen);
/*
 * The prefix of an error about a value found after loading: into buf
 * (CFG_WHERE_MAX), "file:line:column: ", or "file: " when pos is 0:0, or
 * "" for a config not loaded from a file.  Returns buf.
 */
const char *config_where(const struct yaim_config *, struct cfg_pos pos,
	    char *buf, size_t len);
/*
 * etcd_password set and an http:// endpoint: 1 with the warning (naming
 * the endpoint) in buf, else 0.  See DESIGN.md section 11.
 */
int	config_password_warning(const struct yaim_config *, char *buf,
	    size_t len);
/*
 * metrics-listen: "a.b.c.d:port" or "[v6]:port", an address literal and
 * a port 1..65535.  NULL and *a, *port filled, or what is wrong.
 */
const char *config_parse_listen(const char *, struct yaim_addr *a,
	    uint16_t *port);
/* Print the effective config as YAML, secrets masked. */
void	config_print(FILE *, const struct yaim_config *);
/* dcs-type etcd2: the v2 keys API (DESIGN.md section 15). */
int	conf_dcs_v2(const struct yaim_config *);
/* "http", "tcp", ... as yaim.yml(5) spells the check's type. */
const char *config_check_kind_name(uint32_t kind);
/* Wipe the fields a given child must not see ("checker" or "dcs"). */
void	config_scrub_for(struct yaim_config *, const char *child);
/* Wipe every secret (explicit_bzero). */
void	config_wipe(struct yaim_config *);

#endif
