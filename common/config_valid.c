/*
 * The rules of single config values, as strings: NULL when the value
 * holds, else what is wrong with it.  No YAML, no I/O.
 */
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config_int.h"

int
name_chars_ok(const char *s, const char *extra)
{
	for (; *s != '\0'; s++)
		if (!isascii((unsigned char)*s) ||
		    (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL))
			return 0;
	return 1;
}

const char *
valid_path(const char *s, size_t size)
{
	(void)size;
	if (*s != '\0' && *s != '/')
		return "is not an absolute path";
	return NULL;
}

/* "none", or an absolute path that fits sun_path, naming no directory */
const char *
valid_control_socket(const char *s, size_t size)
{
	if (*s == '\0' || strcmp(s, "none") == 0)
		return NULL;
	if (*s != '/')
		return "is not an absolute path or none";
	if (strlen(s) >= size)
		return "is longer than 107 bytes (the limit of a socket path)";
	if (s[strlen(s) - 1] == '/')
		return "names a directory, not a socket";
	return NULL;
}

const char *
valid_dcs_type(const char *s, size_t size)
{
	(void)size;
	if (strcmp(s, "etcd") != 0 && strcmp(s, "etcd2") != 0)
		return "is not supported (etcd or etcd2)";
	return NULL;
}

/* System, etcd and PostgreSQL user names; too long: copy_str says so. */
const char *
valid_username(const char *s, size_t size)
{
	if (strlen(s) < size && !name_chars_ok(s, "._-@$"))
		return "has characters outside [A-Za-z0-9._@$-]";
	return NULL;
}

_Static_assert(CFG_IFNAME_MAX == 16, "the message says 15 characters");
_Static_assert(CFG_SUN_PATH_MAX == 108, "the message says 107 bytes");

const char *
valid_interface(const char *s, size_t size)
{
	if (strlen(s) >= size)
		return "is longer than 15 characters";
	/* The kernel's dev_valid_name(). */
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
	    strpbrk(s, "/: \t") != NULL)
		return "is not a valid interface name";
	return NULL;
}

/*
 * "host" or "[v6]" followed by ":port" (need_port: required).  Returns
 * NULL or the problem.
 */
const char *
check_hostport(const char *hp, size_t len, int need_port)
{
	char			 host[CFG_URL_MAX], *end;
	const char		*colon, *port = NULL;
	struct yaim_addr	 a;
	size_t			 hlen;
	unsigned long		 p;

	if (len >= sizeof(host))
		return "is too long";
	if (*hp == '[') {
		colon = memchr(hp, ']', len);
		if (colon == NULL)
			return "has an unterminated [";
		hlen = colon - hp - 1;
		memcpy(host, hp + 1, hlen);
		host[hlen] = '\0';
		if (yaim_addr_parse(host, &a, 0) == -1 || a.af != AF_INET6)
			return "has an invalid IPv6 address";
		colon++;
		if (colon < hp + len && *colon != ':')
			return "has junk after ]";
		if (colon < hp + len)
			port = colon + 1;
	} else {
		colon = memchr(hp, ':', len);
		hlen = colon ? (size_t)(colon - hp) : len;
		if (colon)
			port = colon + 1;
		memcpy(host, hp, hlen);
		host[hlen] = '\0';
		if (hlen == 0)
			return "has an empty host";
		if (!name_chars_ok(host, ".-_"))
			return "has an invalid host";
	}
	if (port == NULL)
		return need_port ? "has no port" : NULL;
	hlen = len - (port - hp);
	if (hlen == 0 || hlen > 5 || !isdigit((unsigned char)*port))
		return "has an invalid port";
	memcpy(host, port, hlen);
	host[hlen] = '\0';
	p = strtoul(host, &end, 10);
	if (*end != '\0' || p < 1 || p > 65535)
		return "has an invalid port";
	return NULL;
}

int
url_scheme(const char *u)
{
	if (strncmp(u, "http://", 7) == 0)
		return 7;
	if (strncmp(u, "https://", 8) == 0)
		return 8;
	return 0;
}

const char *
valid_http_url(const char *s, size_t size)
{
	size_t	 skip;

	(void)size;
	if ((skip = url_scheme(s)) == 0)
		return "does not start with http:// or https://";
	if (strchr(s, ' ') != NULL)
		return "contains a blank";
	return check_hostport(s + skip, strcspn(s + skip, "/?#"), 0);
}

/* A Host header: no blanks (the control characters are gone already). */
const char *
valid_header(const char *s, size_t size)
{
	(void)size;
	if (strpbrk(s, " /") != NULL)
		return "is not a host[:port]";
	return NULL;
}

/* A host name or an IP address literal; too long: copy_str says so. */
const char *
valid_host(const char *s, size_t size)
{
	struct yaim_addr	 a;

	if (strlen(s) < size && yaim_addr_parse(s, &a, 0) == -1 &&
	    (strchr(s, ':') != NULL || !name_chars_ok(s, ".-_")))
		return "is not a host name or an IP address";
	return NULL;
}

const char *
config_parse_listen(const char *s, struct yaim_addr *a, uint16_t *port)
{
	char		 host[YAIM_ADDRSTRLEN + 2], *end;
	const char	*colon;
	size_t		 hlen;
	unsigned long	 p;
	int		 bracket = *s == '[';

	if ((colon = strrchr(s, ':')) == NULL)
		return "is not address:port";
	hlen = (size_t)(colon - s);
	if (bracket) {
		if (hlen < 2 || s[hlen - 1] != ']')
			return "is not address:port ([address]:port for IPv6)";
		s++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return "is not address:port";
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (yaim_addr_parse(host, a, 0) == -1)
		return "does not start with an IP address (no host names)";
	if ((a->af == AF_INET6) != bracket)
		return "is not address:port ([address]:port for IPv6)";
	if (!isdigit((unsigned char)colon[1]) || strlen(colon + 1) > 5)
		return "has an invalid port";
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || p == 0 || p > 65535)
		return "has an invalid port (1..65535)";
	*port = (uint16_t)p;
	return NULL;
}

/* metrics-listen */
const char *
valid_listen(const char *s, size_t size)
{
	struct yaim_addr	 a;
	uint16_t		 port;

	if (*s == '\0' || strlen(s) >= size)
		return NULL;	/* off; or copy_str says it is too long */
	return config_parse_listen(s, &a, &port);
}
