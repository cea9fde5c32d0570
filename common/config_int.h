/*
 * What the files of the config loader share (common/config*.c), never
 * included elsewhere.
 */
#ifndef YAIM_CONFIG_INT_H
#define YAIM_CONFIG_INT_H

#include <stddef.h>

#include <yaml.h>

#include "config.h"

#define CFG_FILE_MAX	(1024 * 1024)	/* a config is never this big */
#define CFG_DEPTH_MAX	16	/* ours needs 4 */

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* One load: where it reads, where the first error goes, what it fills. */
struct ctx {
	const char		*name;
	char			*err;
	size_t			 errlen;
	int			 failed;
	yaml_document_t		*doc;
	struct yaim_config	*conf;
	struct check_conf	*chk;		/* check being built */
	const char		*kindkey;	/* "checker-type" or "type" */
	yaml_mark_t		 chk_mark[CFG_MAX_CHECKS];
	yaml_mark_t		 name_mark[CFG_MAX_CHECKS];
	int			 has_name[CFG_MAX_CHECKS];
	/* the argv being built: an exec check's or notify-command */
	uint32_t		*argc;
	char			(*argv)[CFG_STR_MAX];
};

/* config.c */
int	cfg_error(struct ctx *, yaml_mark_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	conf_defaults(struct yaim_config *);
/* The top-level mapping of the document: the whole configuration. */
int	load_top(struct ctx *, yaml_node_t *);

/* config_valid.c: NULL when the string holds, else what is wrong */
int		 name_chars_ok(const char *, const char *extra);
/* "host" or "[v6]", then ":port" (need_port: required). */
const char	*check_hostport(const char *, size_t, int need_port);
/* The length of "http://" or "https://" at the start of u, else 0. */
int		 url_scheme(const char *u);
const char	*valid_path(const char *, size_t);
const char	*valid_control_socket(const char *, size_t);
const char	*valid_dcs_type(const char *, size_t);
const char	*valid_username(const char *, size_t);
const char	*valid_interface(const char *, size_t);
const char	*valid_http_url(const char *, size_t);
const char	*valid_header(const char *, size_t);
const char	*valid_host(const char *, size_t);
const char	*valid_listen(const char *, size_t);

#endif
