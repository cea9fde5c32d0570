/*
 * libFuzzer harness for the control protocol (common/ctl.c): the input
 * is a stream of yaimctl requests as dcs reads them off the control
 * socket, each framed by common/imsg_wire.c; every message is also fed
 * to the reply parser (yaimctl's side), and the bytes to the JSON
 * escaper.  Invariants: what the parsers accept is what they promise.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "imsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_request(const struct imsg *m)
{
	struct ctl_request	 req;
	struct yaim_addr	 a;
	char			 err[160], why[128], back[YAIM_ADDRSTRLEN];
	size_t			 i;

	if (ctl_request_parse(m, &req, err, sizeof(err)) == -1) {
		if (err[0] == '\0')
			abort();
		return;
	}
	if (req.type < IMSG_CTL_REQ_STATUS || req.type > IMSG_CTL_REQ_METRICS)
		abort();
	if (req.type == IMSG_CTL_REQ_POOL_ADD ||
	    req.type == IMSG_CTL_REQ_POOL_DEL) {
		if (req.n_ips < 1 || req.n_ips > CTL_POOL_MAX)
			abort();
		for (i = 0; i < req.n_ips; i++) {
			if (memchr(req.ips[i].text, '\0',
			    sizeof(req.ips[i].text)) == NULL)
				abort();
			if (ctl_ip_check(&req.ips[i], &a, why,
			    sizeof(why)) == -1) {
				if (why[0] == '\0')
					abort();
				continue;
			}
			/* accepted: the canonical form, written back */
			if (!yaim_addr_valid(&a) || yaim_addr_ntop(&a, back,
			    sizeof(back)) == NULL ||
			    strcmp(back, req.ips[i].text) != 0)
				abort();
		}
	} else if (req.n_ips != 0)
		abort();
	if (req.type == IMSG_CTL_REQ_LOG && req.log.verbose > 1)
		abort();
}

static void
check_reply(const struct imsg *m)
{
	struct ctl_reply	 r;
	char			 err[160];

	if (ctl_reply_parse(m, &r, err, sizeof(err)) == -1)
		return;
	switch (r.type) {
	case IMSG_CTL_NODE:
		if (strlen(r.u.node.nodename) >= sizeof(r.u.node.nodename))
			abort();
		break;
	case IMSG_CTL_END:
		if (r.u.end.ok > 1 ||
		    strlen(r.u.end.text) >= sizeof(r.u.end.text))
			abort();
		break;
	case IMSG_CTL_TEXT:
		if (strlen(r.u.text.text) >= sizeof(r.u.text.text))
			abort();
		break;
	case IMSG_CTL_IP:
	case IMSG_CTL_RESULT:
		break;
	default:
		abort();
	}
}

static void
check_json(const uint8_t *data, size_t size)
{
	char	 in[512], out[64], big[512 * 6 + 1];
	size_t	 n = size < sizeof(in) - 1 ? size : sizeof(in) - 1, need, i;

	memcpy(in, data, n);
	in[n] = '\0';
	need = ctl_json_escape(in, big, sizeof(big));
	if (need != strlen(big))
		abort();
	for (i = 0; big[i] != '\0'; i++)
		if ((unsigned char)big[i] < 0x20 || (unsigned char)big[i] >= 0x7f)
			abort();
	/* short output: a prefix, never half an escape */
	if (ctl_json_escape(in, out, sizeof(out)) != need ||
	    strncmp(out, big, strlen(out)) != 0 || strlen(out) >= sizeof(out))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imsg	 m;
	size_t		 off = 0, consumed;
	char		 err[128];
	int		 i;

	check_json(data, size);
	for (i = 0; i < 1000 && off < size; i++) {
		if (imsg_parse(data + off, size - off, &m, &consumed, err,
		    sizeof(err)) != IMSG_PARSE_OK)
			break;
		if (consumed < IMSG_HEADER_SIZE || consumed > size - off)
			abort();
		check_request(&m);
		check_reply(&m);
		off += consumed;
	}
	return 0;
}
