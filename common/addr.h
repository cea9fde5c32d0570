/*
 * The fixed-size address form used in config and in every message between
 * processes.  Pure helpers only: no I/O.
 */
#ifndef YAIM_ADDR_H
#define YAIM_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define YAIM_ADDRSTRLEN	INET6_ADDRSTRLEN

struct yaim_addr {
	uint8_t		af;		/* AF_INET or AF_INET6 */
	uint8_t		prefixlen;	/* 0..32 or 0..128; 0 = unspecified */
	uint8_t		pad[2];		/* must be zero */
	uint8_t		addr[16];	/* network order, v4 in the first 4 */
};

/*
 * Parse text into a. Returns 0 on success.  With canonical_only the text
 * must equal inet_ntop(inet_pton(text)), as the etcd key layout demands.
 */
int		 yaim_addr_parse(const char *text, struct yaim_addr *a,
		    int canonical_only);
/* Parse "addr/len" (len optional: full length). */
int		 yaim_prefix_parse(const char *text, struct yaim_addr *p);
const char	*yaim_addr_ntop(const struct yaim_addr *, char *buf,
		    size_t len);
/*
 * a as text, for messages: in one of four static buffers in turn, so
 * that up to four may appear in one log line.  Not for keeping.
 */
const char	*ntop(const struct yaim_addr *a);
int		 yaim_addr_cmp(const struct yaim_addr *,
		    const struct yaim_addr *);
/* 1 if a lies inside prefix p (p->prefixlen bits), else 0. */
int		 yaim_addr_in_prefix(const struct yaim_addr *a,
		    const struct yaim_addr *p);
/* 1 if the bytes form a well-formed yaim_addr (af, prefixlen, pad). */
int		 yaim_addr_valid(const struct yaim_addr *);
/*
 * "010.0.0.07" as "10.0.0.7" in out, for an error that suggests the
 * canonical spelling: 0, or -1 if text is no dotted quad.
 */
int		 yaim_addr_v4_unzero(const char *text, char *out,
		    size_t outlen);

#endif
