/*
 * The peer channel's UDP socket.  The parent binds it because only it
 * knows the interface (and SO_BINDTODEVICE needs CAP_NET_RAW); dcs, in
 * its chroot, only reads and writes datagrams on it.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "blob.h"
#include "parent/peersock.h"
#include "dcs/peer_wire.h"

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND	78
#endif

static int
sock_error(int fd, char *err, size_t errlen, const char *what,
    const char *where)
{
	snprintf(err, errlen, "peer socket: %s %s: %s", what, where,
	    strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

/* peer-address: bound whether or not the address exists yet. */
static int
bind_address(const struct yaim_config *conf, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	const struct yaim_addr	*a = &conf->peer_address;
	char			 where[YAIM_ADDRSTRLEN + 16];
	char			 text[YAIM_ADDRSTRLEN];
	socklen_t		 len;
	int			 fd, on = 1;

	snprintf(where, sizeof(where), "%s port %u", yaim_addr_ntop(a, text,
	    sizeof(text)), conf->peer_port);
	memset(&ss, 0, sizeof(ss));
	if (a->af == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(conf->peer_port);
		memcpy(&sin->sin_addr, a->addr, 4);
		len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(conf->peer_port);
		memcpy(&sin6->sin6_addr, a->addr, 16);
		len = sizeof(*sin6);
	}
	fd = socket(a->af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return sock_error(-1, err, errlen, "socket for", where);
	if (a->af == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
	    &on, sizeof(on)) == -1)
		return sock_error(fd, err, errlen, "IPV6_V6ONLY on", where);
	if ((a->af == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &on,
	    sizeof(on)) : setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &on,
	    sizeof(on))) == -1)
		return sock_error(fd, err, errlen, "FREEBIND on", where);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1)
		return sock_error(fd, err, errlen, "cannot bind to", where);
	return fd;
}

/* The wildcard address of fd's family at port. */
static int
bind_any(int fd, uint16_t port)
{
	struct sockaddr_in6	 sin6;
	struct sockaddr_in	 sin;
	socklen_t		 dl;
	int			 domain, off = 0;

	dl = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dl) == -1)
		return -1;
	if (domain == AF_INET) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		sin.sin_addr.s_addr = htonl(INADDR_ANY);
		return bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	}
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) == -1)
		return -1;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(port);
	sin6.sin6_addr = in6addr_any;
	return bind(fd, (struct sockaddr *)&sin6, sizeof(sin6));
}

/*
 * No peer-address: any address, on the interface only, so that it works
 * before the interface has an address and whichever it gets.  One IPv6
 * socket takes IPv4 too (v4-mapped); without IPv6 in the kernel, IPv4.
 */
static int
bind_wildcard(const struct yaim_config *conf, char *err, size_t errlen)
{
	char	 where[64];
	int	 fd;

	snprintf(where, sizeof(where), "any address on %s port %u",
	    conf->interface, conf->peer_port);
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 && errno != EAFNOSUPPORT)
		return sock_error(-1, err, errlen, "socket for", where);
	if (fd == -1 && (fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return sock_error(-1, err, errlen, "socket for", where);
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, conf->interface,
	    (socklen_t)strlen(conf->interface)) == -1)
		return sock_error(fd, err, errlen, "SO_BINDTODEVICE for",
		    where);
	if (bind_any(fd, conf->peer_port) == -1)
		return sock_error(fd, err, errlen, "cannot bind to", where);
	return fd;
}

/* Worth publishing: not link-local (it needs a scope), not loopback. */
static int
usable(const struct sockaddr *sa, struct yaim_addr *out)
{
	const struct sockaddr_in	*sin = (const void *)sa;
	const struct sockaddr_in6	*sin6 = (const void *)sa;

	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const uint8_t	*b = (const uint8_t *)&sin->sin_addr;

		if (b[0] == 127 || (b[0] == 169 && b[1] == 254))
			return 0;
		out->af = AF_INET;
		out->prefixlen = 32;
		memcpy(out->addr, b, 4);
		return 1;
	}
	if (sa->sa_family == AF_INET6) {
		if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr) ||
		    IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
		    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			return 0;
		out->af = AF_INET6;
		out->prefixlen = 128;
		memcpy(out->addr, &sin6->sin6_addr, 16);
		return 1;
	}
	return 0;
}

/*
 * The interface's first own address, IPv4 first.  Called after netif_init
 * has removed our leftovers and before dcs can ask for any address, so
 * none of ours (the virtual IPs that move) can be taken for it.
 */
static void
interface_address(const char *ifname, struct yaim_addr *out)
{
	struct ifaddrs		*ifa, *i;
	struct yaim_addr	 a, v6;

	memset(out, 0, sizeof(*out));
	memset(&v6, 0, sizeof(v6));
	if (getifaddrs(&ifa) == -1)
		return;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || strcmp(i->ifa_name, ifname) != 0 ||
		    !usable(i->ifa_addr, &a))
			continue;
		if (a.af == AF_INET) {
			*out = a;
			break;
		}
		if (v6.af == 0)
			v6 = a;
	}
	freeifaddrs(ifa);
	if (out->af == 0)
		*out = v6;
}

int
peersock_open(const struct yaim_config *conf, struct imsg_peer_socket *info,
    char *err, size_t errlen)
{
	int	 fd;

	memset(info, 0, sizeof(*info));
	info->port = conf->peer_port;
	if (conf->peer_address.af != 0) {
		if ((fd = bind_address(conf, err, errlen)) == -1)
			return -1;
		info->addr = conf->peer_address;
		info->addr.prefixlen = conf->peer_address.af == AF_INET ?
		    32 : 128;
		return fd;
	}
	if ((fd = bind_wildcard(conf, err, errlen)) == -1)
		return -1;
	info->wildcard = 1;
	interface_address(conf->interface, &info->addr);
	return fd;
}

int
peersock_check_key(const struct yaim_config *conf,
    const struct yaim_blobs *blobs, char *err, size_t errlen)
{
	const struct yaim_blob	*b;
	uint8_t			 key[PEER_KEY_MAX];
	char			 why[96];
	int			 n;

	if (conf->peer_key_file[0] == '\0')
		return 0;
	if ((b = blobs_find(blobs, BLOB_PEER_KEY, 0)) == NULL) {
		snprintf(err, errlen, "%s: not read", conf->peer_key_file);
		return -1;
	}
	n = peer_key_parse((const char *)b->data, b->len, key, why,
	    sizeof(why));
	explicit_bzero(key, sizeof(key));
	if (n == -1) {
		snprintf(err, errlen, "%s: %s", conf->peer_key_file, why);
		return -1;
	}
	return 0;
}
