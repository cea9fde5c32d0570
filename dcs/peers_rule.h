/*
 * The peer rule: when a node may hold its addresses, promise, revoke a
 * peer's lease and claim, with peers and failsafe on (DESIGN.md section
 * 10, which gives the argument for every bound used here).
 *
 * Pure: no I/O, no clock, no randomness.  One struct prule per node; the
 * caller (the dcs engine) feeds it events stamped with its own monotonic
 * milliseconds `now` (mono_ms(); never decreasing between calls) and
 * asks it for decisions.  regress/unit/test_peers_sim.c drives it with a
 * randomized simulator of nodes, clocks, etcd and the network.
 *
 * Events (call them as they happen, in any order that respects now):
 *   prule_lease_granted(lease, sent)
 *				a grant, sent at `sent` (our clock),
 *				succeeded: lease is our current lease now.
 *   prule_etcd_ok(lease, sent)	a keepalive of lease sent at `sent`
 *				succeeded (ignored unless lease is the
 *				current one or the one we hold on).
 *   prule_lease_lost()		the current lease is gone (keepalive
 *				answered "not found", our node key vanished,
 *				we revoked it).  Holdings stay on it until
 *				re-marked.
 *   prule_marked(lease, n)	every one of the n addresses the parent
 *				holds is now marked on lease (after each
 *				claim and release, after re-marking on a new
 *				lease, after a fence with n = 0).
 *   prule_full_read()		the view was (re)built from a full read, not
 *				from the watch: lease ends may have been
 *				missed, so claims wait W.
 *   prule_view_node(name, member, lease, freed)
 *				a node as the view now shows it: member key
 *				`<prefix>members/<name>` present or not, its
 *				live lease (from its lease-bound keys; 0 for
 *				none), and how many marks vanished together
 *				with a lease that ended in this update (0 for
 *				marks deleted while their lease lived: a
 *				graceful release).  Call it for self too
 *				(member = registered).
 *   prule_recv(from, msg)	an authenticated heartbeat from a peer.
 *				A request is granted only while we are not
 *				connected, and not to a peer that has said
 *				"not connected" in every message for P while
 *				a keepalive of ours sent after that succeeded
 *				(cut from etcd alone: our late keepalives
 *				must not keep it holding; DESIGN.md 10.2).
 *   prule_revoked(name)	our revoke of name's lease succeeded (also
 *				when etcd said the lease was gone).
 *
 * Output:
 *   prule_send(to, msg)	the heartbeat to send to `to` now (send one
 *				to every peer every heartbeat interval).
 *   prule_hold_until()		the local monotonic time until which this
 *				node may hold its addresses: the parent drops
 *				every address when it passes.  It can move
 *				backwards (a newly heard node cuts a hold on
 *				promises short): always send the latest.
 *   prule_may_claim()		whether a claim txn may be sent now (the txn
 *				must also compare our lease, our member key
 *				and the IP's mark as our view has it).
 *   prule_may_revoke(name)	whether name's lease may be revoked now:
 *				it is silent, we hear a majority of the
 *				nodes with a live lease (DESIGN.md 10.2
 *				item 4), and no lease of it has ended
 *				since we last heard it.
 *   prule_ready()		the join rule is met (publish the node key
 *				only then, so that the others do not assign
 *				IPs to a node that must not claim yet).
 *   prule_connected()		etcd answered recently (K/2).
 *   prule_next_change()	the next local time at which an answer may
 *				change without an event: arm a timer for it.
 *
 * Setting up: prule_defaults() fills the defaults of DESIGN.md 10.4
 * (wait_ms = prule_min_wait()); prule_init(conf, self, now) at start.
 * prule_tick(now) re-evaluates (call it from the prule_next_change timer).
 *
 * What the engine must do around it (DESIGN.md 10.2):
 *   - keepalive every K/4 without waiting for earlier answers;
 *   - send the parent prule_hold_until() after every event (it may go
 *     down); after it passes, drop everything, prule_marked(lease, 0),
 *     and start over on a new lease;
 *   - create <prefix>members/<self> before the first claim; the claim txn
 *     compares it, puts the mark on our lease, and fails if the IP's mark
 *     changed since the view we decided on (persistent marks compared by
 *     mod_revision, DESIGN.md 10.2 item 5);
 *   - release: parent first, then delete the mark comparing its
 *     revision; never a claim and a release of one IP in flight at once;
 *   - graceful leave: delete the marks and the member key, then revoke;
 *   - lease lost while holding: new lease, re-mark every held address
 *     (create-if-absent), drop those that fail, then prule_marked();
 *   - freed for prule_view_node: marks on the node's old lease that are
 *     gone in the same update as the lease (count them conservatively:
 *     when unsure, say 1).
 *
 * struct prule is caller-allocated (about 10 kB) but private: read it
 * only through the functions.  Peers are named; the table is bounded (PRULE_PEERS_MAX) and names are
 * compared with strcmp.  prule_recv and prule_view_node return -1 (EINVAL
 * or ENOSPC) for a bad name or a full table, and then change nothing.
 */
#ifndef YAIM_DCS_PEERS_RULE_H
#define YAIM_DCS_PEERS_RULE_H

#include <stddef.h>
#include <stdint.h>

#define PRULE_PEERS_MAX		64
#define PRULE_NAME_MAX		64	/* with the NUL, as CFG_NAME_MAX */
#define PRULE_NEVER		UINT64_MAX

/* Deliberately broken rules, for the simulator's self-test only. */
#define PRULE_BROKEN_RECV_TIME	0x01	/* promise counted from receipt */
#define PRULE_BROKEN_PROMISE_CONNECTED 0x02 /* promise while connected */
#define PRULE_BROKEN_NO_WAIT	0x04	/* claim at once after a lease end */
#define PRULE_BROKEN_JOINER	0x08	/* joiner ignores unacked members */
#define PRULE_BROKEN_CLAIM_PROMISED 0x10 /* claim with promises out */
#define PRULE_BROKEN_NO_CUTBACK	0x20	/* new node does not cut a hold */
#define PRULE_BROKEN_NO_SCALE	0x40	/* no clock rate scaling */
#define PRULE_BROKEN_RESTART	0x80	/* restart forgets its promises */
#define PRULE_BROKEN_NO_QUORUM	0x100	/* revoke without hearing a majority */

struct prule_conf {
	uint32_t	hold_ms;	/* K: hold past the last good
					   keepalive's send time */
	uint32_t	promise_ms;	/* P: promise length, our clock */
	uint32_t	peer_timeout_ms; /* silence before a revoke */
	uint32_t	wait_ms;	/* W: claim delay after a lease end;
					   >= K(1+rho)/(1-rho) + margin */
	uint32_t	failsafe_max_ms; /* F: hold past K at most this */
	uint32_t	rho_ppm;	/* clock rate bound, 10000 = 1 % */
	uint32_t	margin_ms;	/* slack on every bound */
	int		failsafe;	/* 0: never hold past K nor promise */
	unsigned	broken;		/* PRULE_BROKEN_*, tests only */
};

/* A heartbeat's content; the wire layer adds name, MAC and replay guard. */
struct prule_msg {
	uint64_t	lease;		/* sender's current lease, 0 none */
	uint64_t	sent;		/* sender's clock when sent */
	uint64_t	echo;		/* `sent` of the latest message the
					   sender got from the receiver, 0 */
	uint32_t	promise_ms;	/* promise granted on that message */
	uint8_t		want_promise;	/* sender asks for promises */
	uint8_t		connected;	/* sender reaches etcd */
};

struct prule_peer {
	char		name[PRULE_NAME_MAX];
	int		member;		/* member key in the view */
	uint64_t	lease;		/* live lease in the view, 0 none */
	uint64_t	msg_lease;	/* lease in its last message, 0 */
	uint64_t	ended_lease;	/* last lease seen ending */
	uint64_t	heard;		/* our clock at its last message */
	uint64_t	echoed;		/* the latest send time of ours it
					   echoed, our clock, 0 none */
	uint64_t	changed;	/* our clock when its lease changed */
	uint64_t	freed_at;	/* our clock when a lease of it ended
					   taking marks with it (or its past
					   became unknown): the join rule's
					   J counts from here */
	uint64_t	req_sent;	/* its `sent` to echo, 0 none */
	uint32_t	req_granted;	/* what we promised on req_sent */
	uint64_t	promised_until;	/* our promise to it, our clock */
	uint64_t	promise_valid;	/* its promise to us, our clock */
	uint64_t	cut_since;	/* our clock at the first of its
					   messages in a row saying it does
					   not reach etcd, 0 none */
	int		acked;		/* it echoed a message of ours sent
					   with our current lease */
	int		spent;		/* a lease of it ended while it was
					   silent to us: revoke no other
					   until we hear it again */
};

struct prule {
	struct prule_conf conf;
	char		self[PRULE_NAME_MAX];
	uint64_t	started;	/* our clock at prule_init */
	uint64_t	cur_lease;	/* 0 none */
	uint64_t	cur_since;	/* our clock when it became current:
					   messages sent since carry it */
	uint64_t	cur_ok;		/* send time of its last success */
	uint64_t	hold_lease;	/* the lease our holdings are on */
	size_t		nheld;
	uint64_t	etcd_until;	/* E: hold on etcd alone */
	uint64_t	hold_until;	/* last answer, for lapse detection */
	int		lapsed;		/* hold passed; no promises until a
					   new keepalive */
	int		viewed;		/* a view was given */
	int		registered;	/* our member key is in the view */
	uint64_t	gate;		/* no claim before (W after ends) */
	struct prule_peer peers[PRULE_PEERS_MAX];
	size_t		npeers;
};

void	 prule_init(struct prule *, const struct prule_conf *,
	    const char *self, uint64_t now);
void	 prule_etcd_ok(struct prule *, uint64_t now, uint64_t lease,
	    uint64_t sent);
void	 prule_lease_granted(struct prule *, uint64_t now, uint64_t lease,
	    uint64_t sent);
void	 prule_lease_lost(struct prule *, uint64_t now);
void	 prule_marked(struct prule *, uint64_t now, uint64_t lease,
	    size_t nheld);
void	 prule_full_read(struct prule *, uint64_t now);
int	 prule_view_node(struct prule *, uint64_t now, const char *name,
	    int member, uint64_t lease, size_t freed);
int	 prule_recv(struct prule *, uint64_t now, const char *from,
	    const struct prule_msg *);
void	 prule_revoked(struct prule *, uint64_t now, const char *name);
void	 prule_tick(struct prule *, uint64_t now);

void	 prule_send(struct prule *, uint64_t now, const char *to,
	    struct prule_msg *);
uint64_t prule_hold_until(const struct prule *);
int	 prule_may_claim(const struct prule *, uint64_t now);
int	 prule_may_revoke(const struct prule *, uint64_t now,
	    const char *name);
int	 prule_ready(const struct prule *, uint64_t now);
int	 prule_connected(const struct prule *, uint64_t now);
uint64_t prule_next_change(const struct prule *, uint64_t now);

/* The defaults of DESIGN.md section 10, and W derived from K, rho, margin. */
void	 prule_defaults(struct prule_conf *);
uint32_t prule_min_wait(const struct prule_conf *);

#endif
