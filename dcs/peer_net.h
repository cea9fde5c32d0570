/*
 * The peer channel's I/O in dcs (DESIGN.md section 10a): the UDP socket
 * the parent bound (IMSG_PEER_SOCKET), a bounded table of peers learnt
 * from etcd (<prefix>peers/<nodename>), sending signed messages, and
 * receiving: every datagram is parsed, its sender looked up, rate-limited,
 * authenticated and checked against replay before the engine sees it.
 * Whatever fails is dropped and counted by reason, with rate-limited log
 * lines, and never reaches the engine.
 *
 * One channel per process (module state, like the engine).  Until
 * peer_net_set_recv() names a receiver, authenticated messages are
 * counted and dropped, so dcs runs with the socket and no protocol.
 */
#ifndef YAIM_DCS_PEER_NET_H
#define YAIM_DCS_PEER_NET_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "dcs/peer_wire.h"

struct event_base;

#define PEER_NET_MAX		64	/* peers in the table */
#define PEER_NET_RATE		200	/* datagrams/s from one peer */
#define PEER_NET_BURST		100
#define PEER_NET_RATE_ALL	5000	/* datagrams/s before any check */
#define PEER_NET_BURST_ALL	1000
#define PEER_NET_LOG_MS		10000	/* one log line per reason */

/* An authenticated, fresh message from a known peer. */
typedef void	(*peer_net_recv_fn)(const struct peer_msg *, void *arg);

struct peer_net_stats {
	uint64_t	 drops[PEER_DROP_MAX];	/* [PEER_OK] unused */
	uint64_t	 accepted;	/* handed to the receiver */
	uint64_t	 unhandled;	/* valid, but no receiver yet */
	uint64_t	 sent;
	uint64_t	 send_failed;
	size_t		 peers;
};

/*
 * Take over fd (from IMSG_PEER_SOCKET; closed by peer_net_stop) and start
 * reading.  me is this node's name.  Returns 0, or -1 (logged).
 */
int	peer_net_start(struct event_base *, int fd,
	    const struct imsg_peer_socket *, const char *me);
void	peer_net_stop(void);
int	peer_net_running(void);
/* What this node publishes as <prefix>peers/<me>: "addr:port" or
 * "[v6]:port" into buf; 0, or -1 when there is nothing to publish. */
int	peer_net_my_address(char *buf, size_t len);

/* The cluster key (copied; the old one is wiped).  keylen 0 forgets. */
void	peer_net_set_key(const uint8_t *key, size_t keylen);
int	peer_net_has_key(void);
/* Our etcd lease, carried in every message from now on (0: none). */
void	peer_net_set_lease(int64_t lease);
void	peer_net_set_recv(peer_net_recv_fn, void *arg);

/*
 * The table, from <prefix>peers/<name> keys: add or move a peer.  A new
 * lease (the peer started again) resets its replay window.  Returns 0,
 * or -1 when the table is full, the name is ours or invalid, or the
 * address family cannot be reached on our socket (logged).
 */
int	peer_net_peer_set(const char *name, const struct yaim_addr *,
	    uint16_t port, int64_t lease);
void	peer_net_peer_del(const char *name);
void	peer_net_peer_clear(void);

/*
 * Sign and send one message to a peer in the table.  The sequence
 * number, epoch, lease, send time and echo are filled in here.  Returns
 * 0, or -1 (no key, unknown peer, payload too long, send failed).
 */
int	peer_net_send(const char *dest, uint8_t type, const void *payload,
	    size_t len);
/* The same to every peer; returns how many were sent. */
size_t	peer_net_send_all(uint8_t type, const void *payload, size_t len);

void	peer_net_stats(struct peer_net_stats *);

/*
 * Glue for the engine's view of etcd (one call in its key switch): a put
 * or delete of <prefix>peers/<name> (KEY_PEER) updates the table, with
 * the kv's lease; a put of <prefix>peer-key (KEY_PEER_KEY) sets the key
 * unless peer-key-file pinned it.  Bad values are logged and ignored.
 * Returns 1 if ki was one of these kinds, else 0.
 */
struct key_info;
struct etcd_kv;
int	peer_net_etcd_key(const struct key_info *, const struct etcd_kv *,
	    int put);
/* peer-key-file is in force: etcd's key is not used (dcs/dcs.c). */
void	peer_net_pin_key(int pinned);

#endif
