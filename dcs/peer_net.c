/*
 * The peer channel's I/O in dcs.  See peer_net.h.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "dcs/etcd.h"
#include "dcs/keys.h"
#include "dcs/peer_net.h"

#define READS_PER_EVENT	64	/* datagrams read per wake-up */

struct peer {
	int			 used;
	char			 name[CFG_NAME_MAX];
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int64_t			 lease;
	struct peer_replay	 replay;
	struct peer_bucket	 bucket;
	uint64_t		 echo;	/* its last send time we accepted */
};

struct droplog {
	uint64_t	 pending;	/* since the last line */
	uint64_t	 last_ms;
	int		 logged;
};

static struct {
	struct event		*ev;
	int			 fd;
	int			 family;
	struct imsg_peer_socket	 info;
	char			 me[CFG_NAME_MAX];
	uint8_t			 key[PEER_KEY_MAX];
	size_t			 keylen;
	int64_t			 lease;
	uint64_t		 epoch;
	uint64_t		 seq;
	struct peer		 peers[PEER_NET_MAX];
	struct peer_bucket	 all;
	struct droplog		 droplog[PEER_DROP_MAX];
	struct peer_net_stats	 st;
	peer_net_recv_fn	 recv;
	void			*arg;
	int			 pinned;
	int			 full_warned;
} N = { .fd = -1 };

static void	peer_net_read(int, short, void *);

static struct peer *
peer_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < PEER_NET_MAX; i++)
		if (N.peers[i].used && strcmp(N.peers[i].name, name) == 0)
			return &N.peers[i];
	return NULL;
}

static const char *
sa_ntop(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in	*sin = (const void *)ss;
	const struct sockaddr_in6	*sin6 = (const void *)ss;
	char				 a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET)
		snprintf(buf, len, "%s:%u", inet_ntop(AF_INET, &sin->sin_addr,
		    a, sizeof(a)), ntohs(sin->sin_port));
	else if (ss->ss_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", inet_ntop(AF_INET6,
		    &sin6->sin6_addr, a, sizeof(a)), ntohs(sin6->sin6_port));
	else
		snprintf(buf, len, "unknown");
	return buf;
}

/*
 * Count a drop; log the first of each reason at once, then at most one
 * line per PEER_NET_LOG_MS with how many there were since.  A flood of
 * forgeries must not become a flood of log lines.
 */
static void
drop(enum peer_drop why, const struct sockaddr_storage *from)
{
	struct droplog	*d = &N.droplog[why];
	uint64_t	 now = mono_ms();
	char		 buf[INET6_ADDRSTRLEN + 16];

	N.st.drops[why]++;
	d->pending++;
	if (d->logged && now - d->last_ms < PEER_NET_LOG_MS)
		return;
	log_warnx("peer channel: dropped %llu datagram(s) %s, the last from "
	    "%s (%llu so far)", (unsigned long long)d->pending,
	    peer_drop_name(why), sa_ntop(from, buf, sizeof(buf)),
	    (unsigned long long)N.st.drops[why]);
	d->pending = 0;
	d->last_ms = now;
	d->logged = 1;
}

static uint64_t
boot_epoch(void)
{
	struct timespec	 ts;
	uint64_t	 e;

	/*
	 * Wall-clock milliseconds: later boots of this node get a larger
	 * epoch, so the others drop replays of an earlier boot.  A clock
	 * set back across a restart is healed by the new lease (which
	 * resets the replay window, see peer_net_peer_set).
	 */
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		ts.tv_sec = 1, ts.tv_nsec = 0;
	e = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	return e == 0 ? 1 : e;
}

int
peer_net_start(struct event_base *base, int fd,
    const struct imsg_peer_socket *info, const char *me)
{
	int		 domain, type;
	socklen_t	 l = sizeof(domain);

	if (N.fd != -1) {
		log_warnx("%s: the peer channel is already running", __func__);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l) == -1 ||
	    (l = sizeof(type), getsockopt(fd, SOL_SOCKET, SO_TYPE, &type,
	    &l)) == -1 || type != SOCK_DGRAM ||
	    (domain != AF_INET && domain != AF_INET6)) {
		log_warnx("%s: the peer socket is not a UDP socket", __func__);
		return -1;
	}
	N.ev = event_new(base, fd, EV_READ | EV_PERSIST, peer_net_read, NULL);
	if (N.ev == NULL || event_add(N.ev, NULL) == -1) {
		log_warnx("%s: cannot watch the peer socket", __func__);
		if (N.ev != NULL)
			event_free(N.ev);
		N.ev = NULL;
		return -1;
	}
	N.fd = fd;
	N.family = domain;
	N.info = *info;
	snprintf(N.me, sizeof(N.me), "%s", me);
	N.epoch = boot_epoch();
	N.seq = 0;
	return 0;
}

void
peer_net_stop(void)
{
	if (N.ev != NULL)
		event_free(N.ev);
	N.ev = NULL;
	if (N.fd != -1)
		close(N.fd);
	N.fd = -1;
	peer_net_set_key(NULL, 0);
	peer_net_peer_clear();
}

int
peer_net_running(void)
{
	return N.fd != -1;
}

int
peer_net_my_address(char *buf, size_t len)
{
	char	 a[YAIM_ADDRSTRLEN];
	int	 n;

	if (N.fd == -1 || N.info.addr.af == 0)
		return -1;
	yaim_addr_ntop(&N.info.addr, a, sizeof(a));
	n = snprintf(buf, len, N.info.addr.af == AF_INET6 ? "[%s]:%u" :
	    "%s:%u", a, N.info.port);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

void
peer_net_set_key(const uint8_t *key, size_t keylen)
{
	explicit_bzero(N.key, sizeof(N.key));
	N.keylen = 0;
	if (key == NULL || keylen < PEER_KEY_MIN || keylen > PEER_KEY_MAX)
		return;
	memcpy(N.key, key, keylen);
	N.keylen = keylen;
}

int
peer_net_has_key(void)
{
	return N.keylen > 0;
}

void
peer_net_set_lease(int64_t lease)
{
	N.lease = lease;
}

void
peer_net_set_recv(peer_net_recv_fn fn, void *arg)
{
	N.recv = fn;
	N.arg = arg;
}

/* addr:port as a sockaddr our socket can send to (v4-mapped on v6). */
static int
to_sockaddr(const struct yaim_addr *a, uint16_t port,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (N.family == AF_INET) {
		if (a->af != AF_INET)
			return -1;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->addr, 4);
		*len = sizeof(*sin);
		return 0;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	if (a->af == AF_INET) {
		/* a socket bound to an IPv6 address cannot reach IPv4 */
		if (!N.info.wildcard)
			return -1;
		sin6->sin6_addr.s6_addr[10] = 0xff;
		sin6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&sin6->sin6_addr.s6_addr[12], a->addr, 4);
	} else
		memcpy(&sin6->sin6_addr, a->addr, 16);
	*len = sizeof(*sin6);
	return 0;
}

int
peer_net_peer_set(const char *name, const struct yaim_addr *a,
    uint16_t port, int64_t lease)
{
	struct peer	*p;
	size_t		 i;
	char		 buf[YAIM_ADDRSTRLEN];

	if (!keys_valid_nodename(name, strlen(name)) ||
	    strcmp(name, N.me) == 0)
		return -1;
	if ((p = peer_find(name)) == NULL) {
		for (i = 0; i < PEER_NET_MAX && N.peers[i].used; i++)
			;
		if (i == PEER_NET_MAX) {
			/* once until a place frees up, not per etcd event */
			if (!N.full_warned)
				log_warnx("peer channel: more than %d peers, "
				    "ignoring %s and any more", PEER_NET_MAX,
				    name);
			N.full_warned = 1;
			return -1;
		}
		p = &N.peers[i];
		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%s", name);
		p->used = 1;
		p->lease = lease;
		N.st.peers++;
	}
	if (to_sockaddr(a, port, &p->ss, &p->sslen) == -1) {
		log_warnx("peer channel: cannot reach %s at %s from a socket "
		    "of the other address family", name, yaim_addr_ntop(a,
		    buf, sizeof(buf)));
		peer_net_peer_del(name);
		return -1;
	}
	if (p->lease != lease) {
		/* Started again: its epoch may be anything, its echo stale. */
		memset(&p->replay, 0, sizeof(p->replay));
		p->echo = 0;
		p->lease = lease;
	}
	return 0;
}

void
peer_net_peer_del(const char *name)
{
	struct peer	*p;

	if ((p = peer_find(name)) == NULL)
		return;
	memset(p, 0, sizeof(*p));
	N.st.peers--;
	N.full_warned = 0;
}

void
peer_net_peer_clear(void)
{
	memset(N.peers, 0, sizeof(N.peers));
	N.st.peers = 0;
	N.full_warned = 0;
}

static int
send_to(struct peer *p, uint8_t type, const void *payload, size_t len)
{
	struct peer_msg	 m;
	uint8_t		 buf[PEER_WIRE_MAX];
	size_t		 n;

	if (N.fd == -1 || N.keylen == 0 || len > PEER_PAYLOAD_MAX)
		return -1;
	memset(&m, 0, sizeof(m));
	m.type = type;
	snprintf(m.sender, sizeof(m.sender), "%s", N.me);
	snprintf(m.dest, sizeof(m.dest), "%s", p->name);
	m.lease = N.lease;
	m.epoch = N.epoch;
	m.seq = ++N.seq;
	m.sent_ms = mono_ms();
	m.echo_ms = p->echo;
	m.payload_len = len;
	if (len > 0)
		memcpy(m.payload, payload, len);
	n = peer_wire_encode(&m, N.key, N.keylen, buf, sizeof(buf));
	explicit_bzero(&m, sizeof(m));
	if (n == 0)
		return -1;
	if (sendto(N.fd, buf, n, MSG_DONTWAIT, (struct sockaddr *)&p->ss,
	    p->sslen) != (ssize_t)n) {
		N.st.send_failed++;
		return -1;
	}
	N.st.sent++;
	return 0;
}

int
peer_net_send(const char *dest, uint8_t type, const void *payload,
    size_t len)
{
	struct peer	*p;

	if ((p = peer_find(dest)) == NULL)
		return -1;
	return send_to(p, type, payload, len);
}

size_t
peer_net_send_all(uint8_t type, const void *payload, size_t len)
{
	size_t	 i, n = 0;

	for (i = 0; i < PEER_NET_MAX; i++)
		if (N.peers[i].used && send_to(&N.peers[i], type, payload,
		    len) == 0)
			n++;
	return n;
}

void
peer_net_stats(struct peer_net_stats *st)
{
	*st = N.st;
}

/* One datagram, from parse to the receiver; the checks cheapest first. */
static enum peer_drop
handle(const uint8_t *buf, size_t len)
{
	struct peer_msg	 m;
	struct peer	*p;
	enum peer_drop	 r;
	uint64_t	 now = mono_ms();

	if (!peer_bucket_take(&N.all, now, PEER_NET_RATE_ALL,
	    PEER_NET_BURST_ALL))
		return PEER_DROP_RATE;
	if ((r = peer_wire_parse(buf, len, &m)) != PEER_OK)
		return r;
	if ((p = peer_find(m.sender)) == NULL)
		return strcmp(m.sender, N.me) == 0 ? PEER_DROP_SELF :
		    PEER_DROP_UNKNOWN;
	if ((r = peer_wire_decode(buf, len, N.key, N.keylen, N.me, &m)) !=
	    PEER_OK)
		return r;
	/*
	 * After the MAC, so that forgeries in a peer's name cannot use up
	 * its bucket; they are bounded by the bucket of all datagrams.
	 */
	if (!peer_bucket_take(&p->bucket, now, PEER_NET_RATE,
	    PEER_NET_BURST))
		return PEER_DROP_RATE;
	/* Authenticated: only now may it change what we remember. */
	if ((r = peer_replay_check(&p->replay, m.epoch, m.seq)) != PEER_OK)
		return r;
	p->echo = m.sent_ms;
	if (N.recv == NULL) {
		N.st.unhandled++;
		return PEER_OK;
	}
	N.st.accepted++;
	N.recv(&m, N.arg);
	return PEER_OK;
}

static void
peer_net_read(int fd, short events, void *arg)
{
	struct sockaddr_storage	 from;
	socklen_t		 fl;
	uint8_t			 buf[PEER_WIRE_MAX + 1];
	ssize_t			 n;
	enum peer_drop		 r;
	int			 i;

	(void)events; (void)arg;
	for (i = 0; i < READS_PER_EVENT; i++) {
		fl = sizeof(from);
		memset(&from, 0, sizeof(from));
		/* MSG_TRUNC: the real length, so that oversize is seen. */
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC,
		    (struct sockaddr *)&from, &fl);
		if (n == -1) {
			/* an ICMP error for an earlier send is no news */
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNREFUSED)
				log_warn("%s: recvfrom", __func__);
			return;
		}
		r = (size_t)n > PEER_WIRE_MAX ? PEER_DROP_OVERSIZE :
		    handle(buf, (size_t)n);
		if (r != PEER_OK)
			drop(r, &from);
	}
}

void
peer_net_pin_key(int pinned)
{
	N.pinned = pinned;
}

static void
etcd_peer_key(const struct etcd_kv *kv)
{
	uint8_t	 key[PEER_KEY_MAX];
	char	 why[96];
	int	 n;

	if (N.pinned)
		return;
	if ((n = peer_key_parse(kv->value, kv->value_len, key, why,
	    sizeof(why))) == -1) {
		log_warnx("peer channel: ignoring etcd key \"%.*s\": %s",
		    (int)kv->key_len, kv->key, why);
		return;
	}
	if ((size_t)n != N.keylen || memcmp(key, N.key, N.keylen) != 0) {
		if (N.keylen != 0)
			log_info("peer channel: the cluster key changed in "
			    "etcd");
		peer_net_set_key(key, (size_t)n);
	}
	explicit_bzero(key, sizeof(key));
}

int
peer_net_etcd_key(const struct key_info *ki, const struct etcd_kv *kv,
    int put)
{
	struct yaim_addr	 a;
	uint16_t		 port;
	const char		*why;

	switch (ki->kind) {
	case KEY_PEER_KEY:
		/* A deleted key keeps ours: the next one made is new. */
		if (put)
			etcd_peer_key(kv);
		return 1;
	case KEY_PEER:
		if (strcmp(ki->node, N.me) == 0)
			return 1;
		if (!put) {
			peer_net_peer_del(ki->node);
			return 1;
		}
		if (keys_parse_peer_value(kv->value, kv->value_len, &a, &port,
		    &why) == -1) {
			log_warnx("peer channel: ignoring etcd key \"%.*s\": "
			    "%s", (int)kv->key_len, kv->key, why);
			peer_net_peer_del(ki->node);
			return 1;
		}
		peer_net_peer_set(ki->node, &a, port, kv->lease);
		return 1;
	default:
		return 0;
	}
}
