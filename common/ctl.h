/*
 * The control protocol's messages (common/proto.h, IMSG_CTL_REQ_* and
 * the replies), checked and printed.  Pure: no I/O, no libevent, no
 * logging; used by dcs (requests in, replies out), by yaimctl (requests
 * out, replies in) and by the fuzzer.  The framing is common/imsg.h's.
 */
#ifndef YAIM_CTL_H
#define YAIM_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "imsg.h"
#include "proto.h"

/* A request from a client, checked: its type and payload. */
struct ctl_request {
	uint32_t		 type;		/* IMSG_CTL_REQ_* */
	size_t			 n_ips;		/* POOL_ADD, POOL_DEL */
	const struct ctl_ip	*ips;		/* into the message */
	struct ctl_log		 log;		/* LOG */
};

/*
 * A request as it came off the socket: a known type with exactly its
 * payload (pool: 1..CTL_POOL_MAX NUL-terminated entries; log: 0 or 1),
 * and no file descriptor.  0, or -1 and why in err.  The IPs themselves
 * are checked one by one with ctl_ip_check, so that each gets an answer.
 */
int	ctl_request_parse(const struct imsg *, struct ctl_request *,
	    char *err, size_t errlen);
/*
 * One IP of a pool request: an IPv4 or IPv6 address in canonical form
 * (the form of the ips/ keys).  0 and the address in *a, or -1 and why
 * (with the canonical spelling when there is one) in why.
 */
int	ctl_ip_check(const struct ctl_ip *, struct yaim_addr *a, char *why,
	    size_t whylen);

/* A reply from dcs, checked; which member is set follows type. */
struct ctl_reply {
	uint32_t		 type;		/* IMSG_CTL_NODE .. END */
	union {
		struct ctl_node		node;
		struct ctl_pool_ip	ip;
		struct ctl_result	result;
		struct ctl_end		end;
		struct ctl_text		text;
	} u;
};

/*
 * A reply: a known type, exactly its payload, every string terminated
 * within its field.  0, or -1 and why in err.
 */
int	ctl_reply_parse(const struct imsg *, struct ctl_reply *, char *err,
	    size_t errlen);

/*
 * in as the inside of a JSON string (no quotes): '"', '\\' and every
 * byte outside printable ASCII escaped as \uXXXX (bytes >= 0x80 as
 * U+0080..U+00FF), so the result is valid JSON whatever in holds.
 * Writes at most outlen bytes, NUL included, and never half an escape;
 * returns the length the whole escaping needs (as snprintf does).
 */
size_t	ctl_json_escape(const char *in, char *out, size_t outlen);

/* "verbose", "brief": 1, 0; anything else -1. */
int	ctl_log_level(const char *);

#endif
