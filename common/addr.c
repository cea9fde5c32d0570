/*
 * Address helpers.  Pure: no I/O, no clock.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

static size_t
af_len(uint8_t af)
{
	return af == AF_INET ? 4 : af == AF_INET6 ? 16 : 0;
}

int
yaim_addr_parse(const char *text, struct yaim_addr *a, int canonical_only)
{
	char	 back[YAIM_ADDRSTRLEN];
	int	 af;

	memset(a, 0, sizeof(*a));
	if (text == NULL)
		return -1;
	af = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(af, text, a->addr) != 1)
		return -1;
	a->af = af;
	a->prefixlen = af == AF_INET ? 32 : 128;
	if (canonical_only) {
		if (inet_ntop(af, a->addr, back, sizeof(back)) == NULL ||
		    strcmp(back, text) != 0)
			return -1;
	}
	return 0;
}

int
yaim_prefix_parse(const char *text, struct yaim_addr *p)
{
	char		 buf[YAIM_ADDRSTRLEN + 8];
	char		*slash, *end;
	unsigned long	 len;

	if (text == NULL || strlen(text) >= sizeof(buf))
		return -1;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (yaim_addr_parse(buf, p, 0) == -1)
		return -1;
	if (slash == NULL)
		return 0;
	if (*slash < '0' || *slash > '9')
		return -1;
	len = strtoul(slash, &end, 10);
	if (*end != '\0' || len > (p->af == AF_INET ? 32UL : 128UL))
		return -1;
	p->prefixlen = (uint8_t)len;
	return 0;
}

const char *
yaim_addr_ntop(const struct yaim_addr *a, char *buf, size_t len)
{
	if (!yaim_addr_valid(a) ||
	    inet_ntop(a->af, a->addr, buf, (socklen_t)len) == NULL) {
		snprintf(buf, len, "<invalid>");
	}
	return buf;
}

const char *
ntop(const struct yaim_addr *a)
{
	static char	 bufs[4][YAIM_ADDRSTRLEN];
	static int	 i;

	i = (i + 1) % 4;
	return yaim_addr_ntop(a, bufs[i], sizeof(bufs[i]));
}

int
yaim_addr_cmp(const struct yaim_addr *a, const struct yaim_addr *b)
{
	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

int
yaim_addr_in_prefix(const struct yaim_addr *a, const struct yaim_addr *p)
{
	unsigned int	 bits = p->prefixlen, i;
	uint8_t		 mask;

	if (a->af != p->af || bits > af_len(p->af) * 8)
		return 0;
	for (i = 0; i < bits / 8; i++)
		if (a->addr[i] != p->addr[i])
			return 0;
	if (bits % 8) {
		mask = (uint8_t)(0xff << (8 - bits % 8));
		if ((a->addr[i] & mask) != (p->addr[i] & mask))
			return 0;
	}
	return 1;
}

int
yaim_addr_valid(const struct yaim_addr *a)
{
	size_t	 n = af_len(a->af), i;

	if (n == 0 || a->prefixlen > n * 8 || a->pad[0] || a->pad[1])
		return 0;
	for (i = n; i < sizeof(a->addr); i++)
		if (a->addr[i] != 0)
			return 0;
	return 1;
}

/*
 * "010.0.0.07": inet_pton() rejects leading zeros outright, so spell the
 * decimal reading out (inet_aton() would read them as octal, which is
 * surely not what an operator meant).  0, or -1 if text is no such thing.
 */
int
yaim_addr_v4_unzero(const char *text, char *out, size_t outlen)
{
	size_t	 o = 0, digits = 0;
	int	 dots = 0;

	for (; *text != '\0'; text++) {
		if (*text == '.') {
			if (digits == 0 || ++dots > 3)
				return -1;
			digits = 0;
		} else if (*text >= '0' && *text <= '9') {
			/* A part's leading zero before a digit adds nothing. */
			if (*text == '0' && digits == 0 &&
			    text[1] >= '0' && text[1] <= '9')
				continue;
			digits++;
		} else
			return -1;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = *text;
	}
	out[o] = '\0';
	return dots == 3 && digits > 0 ? 0 : -1;
}
