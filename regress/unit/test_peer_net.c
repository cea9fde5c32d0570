/*
 * dcs/peer_net on loopback: one channel (an IPv6 socket bound to
 * ::ffff:127.0.0.1, as the parent's wildcard socket serves IPv4 peers)
 * against a plain IPv4 socket that plays the peer "pb" with peer_wire.
 * Sending, receiving, the echo, every drop that needs the table or the
 * key, the replay reset on a new lease, the rate limit, the table bound.
 * Traffic stays on 127.0.0.1.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "dcs/etcd.h"
#include "dcs/keys.h"
#include "dcs/peer_net.h"

static int			 failures;
static struct event_base	*base;
static int			 pb;		/* the peer's socket */
static struct sockaddr_in	 pa_addr;	/* where the channel is */
static uint8_t			 key[32], other_key[32];
static struct peer_msg		 last;
static int			 received;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("line %d: failed: %s\n", __LINE__, #cond);	\
		failures++;						\
	}								\
} while (0)

static void
on_recv(const struct peer_msg *m, void *arg)
{
	(void)arg;
	last = *m;
	received++;
}

/* Run the loop until the channel has read what is queued. */
static void
settle(void)
{
	int	 i;

	for (i = 0; i < 20; i++) {
		usleep(2000);
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
}

static void
pb_send(const char *sender, const char *dest, uint64_t epoch, uint64_t seq,
    uint64_t sent, const uint8_t *k)
{
	struct peer_msg	 m;
	uint8_t		 buf[PEER_WIRE_MAX];
	size_t		 n;

	memset(&m, 0, sizeof(m));
	m.type = PEER_HEARTBEAT;
	snprintf(m.sender, sizeof(m.sender), "%s", sender);
	snprintf(m.dest, sizeof(m.dest), "%s", dest);
	m.lease = 77;
	m.epoch = epoch;
	m.seq = seq;
	m.sent_ms = sent;
	n = peer_wire_encode(&m, k, 32, buf, sizeof(buf));
	if (n == 0 || sendto(pb, buf, n, 0, (struct sockaddr *)&pa_addr,
	    sizeof(pa_addr)) != (ssize_t)n) {
		printf("pb_send failed\n");
		exit(1);
	}
}

/* The next datagram the channel sent to pb, decoded; -1 if none. */
static int
pb_recv(struct peer_msg *m)
{
	struct pollfd	 pfd = { pb, POLLIN, 0 };
	uint8_t		 buf[PEER_WIRE_MAX + 1];
	ssize_t		 n;

	if (poll(&pfd, 1, 1000) != 1 ||
	    (n = recv(pb, buf, sizeof(buf), 0)) <= 0)
		return -1;
	return peer_wire_decode(buf, (size_t)n, key, sizeof(key), "pb", m) ==
	    PEER_OK ? 0 : -1;
}

static uint64_t
drops(enum peer_drop d)
{
	struct peer_net_stats	 st;

	peer_net_stats(&st);
	return st.drops[d];
}

static int
channel_socket(void)
{
	struct sockaddr_in6	 sin6;
	socklen_t		 l = sizeof(sin6);
	int			 fd, off = 0;

	if ((fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6.sin6_addr);
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin6, &l) == -1) {
		close(fd);
		return -1;
	}
	memset(&pa_addr, 0, sizeof(pa_addr));
	pa_addr.sin_family = AF_INET;
	pa_addr.sin_port = sin6.sin6_port;
	pa_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return fd;
}

static uint16_t
peer_socket(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 l = sizeof(sin);

	if ((pb = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(pb, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(pb, (struct sockaddr *)&sin, &l) == -1)
		return 0;
	return ntohs(sin.sin_port);
}

static void
test_table(void)
{
	struct yaim_addr	 a;
	char			 name[16];
	int			 i, ok = 0;

	yaim_addr_parse("127.0.0.1", &a, 1);
	for (i = 0; i < PEER_NET_MAX + 5; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		if (peer_net_peer_set(name, &a, 9, 1) == 0)
			ok++;
	}
	/* pb is in the table already */
	CHECK(ok == PEER_NET_MAX - 1);
	CHECK(peer_net_peer_set("pa", &a, 9, 1) == -1);	/* ourselves */
	CHECK(peer_net_peer_set("a b", &a, 9, 1) == -1);
	for (i = 0; i < PEER_NET_MAX + 5; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		peer_net_peer_del(name);
	}
}

static int
etcd_event(const char *k, const char *v, int64_t lease, int put)
{
	struct key_info	 ki;
	struct etcd_kv	 kv;

	memset(&kv, 0, sizeof(kv));
	kv.key = k;
	kv.key_len = strlen(k);
	kv.value = v;
	kv.value_len = strlen(v);
	kv.lease = lease;
	keys_parse("/p/", k, kv.key_len, &ki);
	return peer_net_etcd_key(&ki, &kv, put);
}

/* The engine's glue: peers/ keys fill the table, peer-key the key. */
static void
test_etcd_glue(uint16_t port)
{
	struct peer_net_stats	 st;
	struct peer_msg		 m;
	char			 v[32];
	/* base64 of 32 bytes of 0x11, the test's key */
	const char		*k11 = "ERERERERERERERERERERERERERERERERERERERERERE=";

	peer_net_stats(&st);
	CHECK(st.peers == 0);
	CHECK(etcd_event("/p/nodes/pb", "healthy", 5, 1) == 0);
	snprintf(v, sizeof(v), "127.0.0.1:%u", port);
	CHECK(etcd_event("/p/peers/pb", v, 9, 1) == 1);
	CHECK(etcd_event("/p/peers/pa", "127.0.0.1:1", 9, 1) == 1);
	CHECK(etcd_event("/p/peers/px", "nonsense", 9, 1) == 1);
	peer_net_stats(&st);
	CHECK(st.peers == 1);
	/* etcd's key: a bad one is ignored, a good one taken */
	peer_net_set_key(NULL, 0);
	CHECK(etcd_event("/p/peer-key", "AAECAw==", 0, 1) == 1);
	CHECK(!peer_net_has_key());
	CHECK(etcd_event("/p/peer-key", k11, 0, 1) == 1);
	CHECK(peer_net_has_key());
	CHECK(peer_net_send("pb", PEER_HEARTBEAT, NULL, 0) == 0);
	CHECK(pb_recv(&m) == 0);
	/* pinned by peer-key-file: etcd's key is not used */
	peer_net_pin_key(1);
	CHECK(etcd_event("/p/peer-key", "IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=",
	    0, 1) == 1);
	CHECK(peer_net_send("pb", PEER_HEARTBEAT, NULL, 0) == 0);
	CHECK(pb_recv(&m) == 0);
	peer_net_pin_key(0);
	CHECK(etcd_event("/p/peers/pb", "", 0, 0) == 1);
	peer_net_stats(&st);
	CHECK(st.peers == 0);
}

int
main(void)
{
	struct imsg_peer_socket	 info;
	struct peer_net_stats	 st;
	struct yaim_addr	 lo;
	struct peer_msg		 m;
	char			 buf[64];
	uint16_t		 port;
	int			 fd, i;

	log_init(1, LOG_DAEMON);
	memset(key, 0x11, sizeof(key));
	memset(other_key, 0x22, sizeof(other_key));
	if ((base = event_base_new()) == NULL || (fd = channel_socket()) == -1 ||
	    (port = peer_socket()) == 0) {
		printf("SKIP: no loopback sockets\n");
		return 77;
	}
	memset(&info, 0, sizeof(info));
	yaim_addr_parse("127.0.0.1", &info.addr, 1);
	info.port = ntohs(pa_addr.sin_port);
	info.wildcard = 1;
	CHECK(peer_net_start(base, fd, &info, "pa") == 0);
	CHECK(peer_net_running());
	CHECK(peer_net_my_address(buf, sizeof(buf)) == 0);
	CHECK(strncmp(buf, "127.0.0.1:", 10) == 0);
	yaim_addr_parse("127.0.0.1", &lo, 1);
	CHECK(peer_net_peer_set("pb", &lo, port, 5) == 0);

	/* no key: nothing goes out, and what comes in is not trusted */
	CHECK(peer_net_send("pb", PEER_HEARTBEAT, "x", 1) == -1);
	pb_send("pb", "pa", 100, 1, 5, key);
	settle();
	CHECK(drops(PEER_DROP_NO_KEY) == 1);

	peer_net_set_key(key, sizeof(key));
	peer_net_set_lease(0x1234);
	/* no receiver yet: valid messages are counted, not handed on */
	pb_send("pb", "pa", 100, 2, 6, key);
	settle();
	peer_net_stats(&st);
	CHECK(st.unhandled == 1 && st.accepted == 0);
	peer_net_set_recv(on_recv, NULL);

	/* out: signed, to pb (v4-mapped from our IPv6 socket) */
	CHECK(peer_net_send("pb", PEER_PROMISE_REQ, "xyz", 3) == 0);
	CHECK(pb_recv(&m) == 0);
	CHECK(m.type == PEER_PROMISE_REQ && strcmp(m.sender, "pa") == 0 &&
	    m.lease == 0x1234 && m.seq == 1 && m.echo_ms == 6 &&
	    m.payload_len == 3 && memcmp(m.payload, "xyz", 3) == 0);
	CHECK(peer_net_send("nobody", PEER_HEARTBEAT, NULL, 0) == -1);
	CHECK(peer_net_send("pb", PEER_HEARTBEAT, buf,
	    PEER_PAYLOAD_MAX + 1) == -1);

	/* in: handed on; the echo follows what we accepted */
	pb_send("pb", "pa", 100, 3, 777, key);
	settle();
	CHECK(received == 1 && last.sent_ms == 777 && last.lease == 77 &&
	    strcmp(last.sender, "pb") == 0);
	CHECK(peer_net_send_all(PEER_HEARTBEAT, NULL, 0) == 1);
	CHECK(pb_recv(&m) == 0 && m.echo_ms == 777 && m.seq == 2);

	/* drops */
	pb_send("pb", "pa", 100, 3, 777, key);
	pb_send("pb", "pa", 100, 4, 1, other_key);
	pb_send("pc", "pa", 100, 1, 1, key);
	pb_send("pb", "pz", 100, 5, 1, key);
	pb_send("pb", "pa", 99, 50, 1, key);
	pb_send("pa", "pa", 100, 6, 1, key);
	settle();
	CHECK(drops(PEER_DROP_REPLAY) == 1);
	CHECK(drops(PEER_DROP_AUTH) == 1);
	CHECK(drops(PEER_DROP_UNKNOWN) == 1);
	CHECK(drops(PEER_DROP_NOT_FOR_US) == 1);
	CHECK(drops(PEER_DROP_OLD_EPOCH) == 1);
	CHECK(drops(PEER_DROP_SELF) == 1);
	CHECK(received == 1);
	memset(buf, 'Y', sizeof(buf));
	{
		uint8_t	 big[600];

		memset(big, 'Y', sizeof(big));
		sendto(pb, big, sizeof(big), 0, (struct sockaddr *)&pa_addr,
		    sizeof(pa_addr));
		settle();
		CHECK(drops(PEER_DROP_OVERSIZE) == 1);
	}

	/* pb started again (new lease): its earlier epoch is welcome */
	CHECK(peer_net_peer_set("pb", &lo, port, 6) == 0);
	pb_send("pb", "pa", 99, 1, 1, key);
	settle();
	CHECK(received == 2);
	CHECK(peer_net_send("pb", PEER_HEARTBEAT, NULL, 0) == 0);
	CHECK(pb_recv(&m) == 0 && m.echo_ms == 1);

	/* a burst beyond the peer's bucket */
	for (i = 0; i < 3 * PEER_NET_BURST; i++)
		pb_send("pb", "pa", 99, 2 + (uint64_t)i, 1, key);
	for (i = 0; i < 10; i++)
		settle();
	CHECK(drops(PEER_DROP_RATE) > 0);
	CHECK(received >= 2 + PEER_NET_BURST / 2 &&
	    received < 2 + 3 * PEER_NET_BURST);

	test_table();
	peer_net_peer_del("pb");
	pb_send("pb", "pa", 99, 1000, 1, key);
	settle();
	CHECK(drops(PEER_DROP_UNKNOWN) == 2);

	test_etcd_glue(port);
	peer_net_stop();
	CHECK(!peer_net_running());
	close(pb);
	event_base_free(base);
	if (failures) {
		printf("%d failure(s)\n", failures);
		return 1;
	}
	printf("test_peer_net: ok\n");
	return 0;
}
