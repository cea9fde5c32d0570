/*
 * yaim.yml from a file or from memory: the YAML document (one, nested no
 * deeper than CFG_DEPTH_MAX, within CFG_FILE_MAX bytes) handed to
 * load_top(), and the wiping of secrets in the config and in libyaml's
 * buffers.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "config_int.h"

static void
wipe_document(yaml_document_t *doc)
{
	yaml_node_t	*n;

	for (n = doc->nodes.start; n < doc->nodes.top; n++)
		if (n->type == YAML_SCALAR_NODE)
			explicit_bzero(n->data.scalar.value,
			    n->data.scalar.length);
}

static void
wipe_parser(yaml_parser_t *p)
{
	if (p->buffer.start != NULL)
		explicit_bzero(p->buffer.start, p->buffer.end - p->buffer.start);
	if (p->raw_buffer.start != NULL)
		explicit_bzero(p->raw_buffer.start,
		    p->raw_buffer.end - p->raw_buffer.start);
}

/* libyaml's reader errors carry an offset, not a mark. */
static yaml_mark_t
offset_mark(const uint8_t *buf, size_t len, size_t off)
{
	yaml_mark_t	 m = { 0, 0, 0 };
	size_t		 i;

	for (i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			m.line++;
			m.column = 0;
		} else if ((buf[i] & 0xc0) != 0x80)
			m.column++;
	}
	return m;
}

static int
yaml_failure(struct ctx *c, yaml_parser_t *p, const uint8_t *buf, size_t len)
{
	yaml_mark_t	 m = p->problem_mark;
	const char	*problem = p->problem ? p->problem : "YAML error";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return cfg_error(c, m, "out of memory");
	case YAML_READER_ERROR:
		return cfg_error(c, offset_mark(buf, len, p->problem_offset),
		    "%s", problem);
	default:
		if (p->context != NULL)
			return cfg_error(c, m, "%s %s", problem, p->context);
		return cfg_error(c, m, "%s", problem);
	}
}

/*
 * libyaml's scanner is quadratic in the flow nesting depth ("[[[[..."):
 * a first pass over the events refuses deep nesting, having read only
 * a few tokens of it, before the document is composed.
 */
static int
check_depth(struct ctx *c, const uint8_t *buf, size_t len)
{
	yaml_parser_t	 parser;
	yaml_event_t	 ev;
	int		 depth = 0, rv = -1, done = 0;

	if (!yaml_parser_initialize(&parser))
		return cfg_error(c, (yaml_mark_t){ 0, 0, 0 }, "out of memory");
	yaml_parser_set_input_string(&parser, buf, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			yaml_failure(c, &parser, buf, len);
			goto out;
		}
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > CFG_DEPTH_MAX)
				done = -1;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_SCALAR_EVENT:
			explicit_bzero(ev.data.scalar.value,
			    ev.data.scalar.length);
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		if (done == -1)
			cfg_error(c, ev.start_mark,
			    "nested deeper than %d levels", CFG_DEPTH_MAX);
		yaml_event_delete(&ev);
	}
	if (done == 1)
		rv = 0;
 out:
	wipe_parser(&parser);
	yaml_parser_delete(&parser);
	return rv;
}

static int
parse_document(struct ctx *c, const uint8_t *buf, size_t len)
{
	yaml_parser_t	 parser;
	yaml_document_t	 doc, extra;
	yaml_node_t	*root, *n;
	int		 rv = -1;

	if (check_depth(c, buf, len) == -1)
		return -1;
	if (!yaml_parser_initialize(&parser))
		return cfg_error(c, (yaml_mark_t){ 0, 0, 0 }, "out of memory");
	yaml_parser_set_input_string(&parser, buf, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_failure(c, &parser, buf, len);
		goto out;
	}
	c->doc = &doc;
	if ((root = yaml_document_get_root_node(&doc)) == NULL)
		cfg_error(c, (yaml_mark_t){ 0, 0, 0 }, "the file is empty");
	else if (load_top(c, root) == 0) {
		/* A second document would be silently ignored: refuse it. */
		if (!yaml_parser_load(&parser, &extra))
			yaml_failure(c, &parser, buf, len);
		else {
			if ((n = yaml_document_get_root_node(&extra)) != NULL)
				cfg_error(c, n->start_mark,
				    "only one YAML document is allowed");
			else
				rv = 0;
			wipe_document(&extra);
			yaml_document_delete(&extra);
		}
	}
	c->doc = NULL;
	wipe_document(&doc);
	yaml_document_delete(&doc);
 out:
	wipe_parser(&parser);
	yaml_parser_delete(&parser);
	return rv;
}

int
config_load_buffer(const char *name, const uint8_t *buf, size_t len,
    struct yaim_config *conf, char *err, size_t errlen)
{
	struct ctx	 c;

	memset(&c, 0, sizeof(c));
	c.name = name;
	c.err = err;
	c.errlen = errlen;
	c.conf = conf;
	if (errlen > 0)
		err[0] = '\0';
	conf_defaults(conf);
	if (strlen(name) >= sizeof(conf->file)) {
		cfg_error(&c, (yaml_mark_t){ 0, 0, 0 },
		    "the file name is too long");
		goto fail;
	}
	strcpy(conf->file, name);
	if (len > CFG_FILE_MAX) {
		cfg_error(&c, (yaml_mark_t){ 0, 0, 0 },
		    "the file is larger than %d bytes", CFG_FILE_MAX);
		goto fail;
	}
	if (parse_document(&c, buf, len) == 0)
		return 0;
 fail:
	config_wipe(conf);
	return -1;
}

static int
read_file(const char *path, uint8_t **bufp, size_t *lenp, char *err,
    size_t errlen)
{
	struct stat	 st;
	uint8_t		*buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s:1:1: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CFG_FILE_MAX) {
		snprintf(err, errlen, "%s:1:1: %s", path, S_ISREG(st.st_mode) ?
		    "the file is too large" : "not a regular file");
		close(fd);
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s:1:1: out of memory", path);
		close(fd);
		return -1;
	}
	while (len <= (size_t)st.st_size &&
	    (n = read(fd, buf + len, (size_t)st.st_size + 1 - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s:1:1: %s", path,
			    strerror(errno));
			explicit_bzero(buf, len);
			free(buf);
			close(fd);
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	*bufp = buf;
	*lenp = len;
	return 0;
}

int
config_load(const char *path, struct yaim_config *conf, char *err,
    size_t errlen)
{
	uint8_t	*buf;
	size_t	 len;
	int	 rv;

	if (read_file(path, &buf, &len, err, errlen) == -1) {
		conf_defaults(conf);
		return -1;
	}
	rv = config_load_buffer(path, buf, len, conf, err, errlen);
	explicit_bzero(buf, len);
	free(buf);
	return rv;
}

/* Secrets and scrubbing */

void
config_wipe(struct yaim_config *conf)
{
	uint32_t	 i;

	explicit_bzero(conf->etcd_password, sizeof(conf->etcd_password));
	for (i = 0; i < CFG_MAX_CHECKS; i++)
		explicit_bzero(conf->checks[i].pg_password,
		    sizeof(conf->checks[i].pg_password));
}

/* What no child needs: file paths (TLS material goes as blobs), argv. */
static void
scrub_parent_only(struct yaim_config *conf)
{
	struct check_conf	*chk;
	uint32_t		 i;

	explicit_bzero(conf->etcd_ca_file, sizeof(conf->etcd_ca_file));
	explicit_bzero(conf->etcd_cert_file, sizeof(conf->etcd_cert_file));
	explicit_bzero(conf->etcd_key_file, sizeof(conf->etcd_key_file));
	explicit_bzero(conf->peer_key_file, sizeof(conf->peer_key_file));
	explicit_bzero(conf->notify_argv, sizeof(conf->notify_argv));
	for (i = 0; i < CFG_MAX_CHECKS; i++) {
		chk = &conf->checks[i];
		explicit_bzero(chk->http_ca_file, sizeof(chk->http_ca_file));
		explicit_bzero(chk->exec_argv, sizeof(chk->exec_argv));
	}
}

void
config_scrub_for(struct yaim_config *conf, const char *child)
{
	uint32_t	 i;

	scrub_parent_only(conf);
	if (strcmp(child, "checker") == 0)
		explicit_bzero(conf->etcd_password,
		    sizeof(conf->etcd_password));
	else if (strcmp(child, "dcs") == 0) {
		for (i = 0; i < CFG_MAX_CHECKS; i++)
			explicit_bzero(conf->checks[i].pg_password,
			    sizeof(conf->checks[i].pg_password));
	} else
		config_wipe(conf);	/* unknown: nothing secret leaves */
}
