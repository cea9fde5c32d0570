/*
 * The control protocol's messages, checked (common/ctl.h).  Requests
 * come from any local user the socket's mode lets in, so every check is
 * on untrusted bytes.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "ctl.h"

static int
err_out(char *err, size_t errlen, const char *what, const struct imsg *m)
{
	snprintf(err, errlen, "%s: %s with %zu bytes", what,
	    imsg_type_name(m->hdr.type), m->datalen);
	return -1;
}

static int
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static int
pool_parse(const struct imsg *m, struct ctl_request *req, char *err,
    size_t errlen)
{
	const struct ctl_ip	*ips = m->data;
	size_t			 i, n;

	if (m->datalen == 0 || m->datalen % sizeof(struct ctl_ip) != 0)
		return err_out(err, errlen, "not a list of addresses", m);
	n = m->datalen / sizeof(struct ctl_ip);
	if (n > CTL_POOL_MAX) {
		snprintf(err, errlen, "%zu addresses in one request, more "
		    "than %d", n, CTL_POOL_MAX);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!terminated(ips[i].text, sizeof(ips[i].text))) {
			snprintf(err, errlen, "address %zu is not terminated",
			    i + 1);
			return -1;
		}
	req->ips = ips;
	req->n_ips = n;
	return 0;
}

int
ctl_request_parse(const struct imsg *m, struct ctl_request *req, char *err,
    size_t errlen)
{
	memset(req, 0, sizeof(*req));
	req->type = m->hdr.type;
	if (m->fd != -1) {
		snprintf(err, errlen, "%s came with a file descriptor",
		    imsg_type_name(m->hdr.type));
		return -1;
	}
	switch (m->hdr.type) {
	case IMSG_CTL_REQ_STATUS:
	case IMSG_CTL_REQ_DRAIN:
	case IMSG_CTL_REQ_UNDRAIN:
	case IMSG_CTL_REQ_RELOAD:
	case IMSG_CTL_REQ_METRICS:
		if (m->datalen != 0)
			return err_out(err, errlen, "not empty", m);
		return 0;
	case IMSG_CTL_REQ_POOL_ADD:
	case IMSG_CTL_REQ_POOL_DEL:
		return pool_parse(m, req, err, errlen);
	case IMSG_CTL_REQ_LOG:
		if (m->datalen != sizeof(req->log))
			return err_out(err, errlen, "wrong size", m);
		memcpy(&req->log, m->data, sizeof(req->log));
		if (req->log.verbose > 1) {
			snprintf(err, errlen, "log level %u is not 0 or 1",
			    req->log.verbose);
			return -1;
		}
		return 0;
	default:
		snprintf(err, errlen, "%s is not a request",
		    imsg_type_name(m->hdr.type));
		return -1;
	}
}

int
ctl_ip_check(const struct ctl_ip *ip, struct yaim_addr *a, char *why,
    size_t whylen)
{
	char			 canon[YAIM_ADDRSTRLEN];
	struct yaim_addr	 b;

	if (!terminated(ip->text, sizeof(ip->text))) {
		snprintf(why, whylen, "not an IP address");
		return -1;
	}
	if (yaim_addr_parse(ip->text, a, 1) == 0)
		return 0;
	if (yaim_addr_parse(ip->text, &b, 0) == 0)
		yaim_addr_ntop(&b, canon, sizeof(canon));
	else if (yaim_addr_v4_unzero(ip->text, canon, sizeof(canon)) == -1 ||
	    yaim_addr_parse(canon, &b, 1) == -1) {
		snprintf(why, whylen, "not an IP address");
		return -1;
	}
	snprintf(why, whylen, "not in canonical form (write %s)", canon);
	return -1;
}

static int
reply_size(const struct imsg *m, void *dst, size_t len, char *err,
    size_t errlen)
{
	if (m->datalen != len)
		return err_out(err, errlen, "wrong size", m);
	memcpy(dst, m->data, len);
	return 0;
}

#define TERM(f)	terminated((f), sizeof(f))

int
ctl_reply_parse(const struct imsg *m, struct ctl_reply *r, char *err,
    size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->type = m->hdr.type;
	if (m->fd != -1) {
		snprintf(err, errlen, "%s came with a file descriptor",
		    imsg_type_name(m->hdr.type));
		return -1;
	}
	switch (m->hdr.type) {
	case IMSG_CTL_NODE:
		if (reply_size(m, &r->u.node, sizeof(r->u.node), err,
		    errlen) == -1)
			return -1;
		if (TERM(r->u.node.nodename) && TERM(r->u.node.prefix) &&
		    TERM(r->u.node.endpoint) && TERM(r->u.node.state) &&
		    TERM(r->u.node.health_text))
			return 0;
		break;
	case IMSG_CTL_IP:
		if (reply_size(m, &r->u.ip, sizeof(r->u.ip), err,
		    errlen) == -1)
			return -1;
		if (TERM(r->u.ip.ip) && TERM(r->u.ip.holder) &&
		    TERM(r->u.ip.local) && TERM(r->u.ip.refused_by))
			return 0;
		break;
	case IMSG_CTL_RESULT:
		if (reply_size(m, &r->u.result, sizeof(r->u.result), err,
		    errlen) == -1)
			return -1;
		if (TERM(r->u.result.ip) && TERM(r->u.result.text) &&
		    r->u.result.ok <= 1)
			return 0;
		break;
	case IMSG_CTL_END:
		if (reply_size(m, &r->u.end, sizeof(r->u.end), err,
		    errlen) == -1)
			return -1;
		if (TERM(r->u.end.text) && r->u.end.ok <= 1)
			return 0;
		break;
	case IMSG_CTL_TEXT:
		if (reply_size(m, &r->u.text, sizeof(r->u.text), err,
		    errlen) == -1)
			return -1;
		if (TERM(r->u.text.text))
			return 0;
		break;
	default:
		snprintf(err, errlen, "%s is not a reply",
		    imsg_type_name(m->hdr.type));
		return -1;
	}
	snprintf(err, errlen, "%s: a string is not terminated or a flag is "
	    "not 0 or 1", imsg_type_name(m->hdr.type));
	return -1;
}

size_t
ctl_json_escape(const char *in, char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*s = (const unsigned char *)in;
	char			 e[7];
	size_t			 need = 0, n, o = 0;

	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			e[0] = '\\';
			e[1] = (char)*s;
			n = 2;
		} else if (*s < 0x20 || *s >= 0x7f) {
			memcpy(e, "\\u00", 4);
			e[4] = hex[*s >> 4];
			e[5] = hex[*s & 0xf];
			n = 6;
		} else {
			e[0] = (char)*s;
			n = 1;
		}
		if (outlen > 0 && o == need && o + n < outlen) {
			memcpy(out + o, e, n);
			o += n;
		}
		need += n;
	}
	if (outlen > 0)
		out[o] = '\0';
	return need;
}

int
ctl_log_level(const char *s)
{
	if (strcmp(s, "verbose") == 0)
		return 1;
	if (strcmp(s, "brief") == 0)
		return 0;
	return -1;
}
