/*
 * The peer rule's revoke, step by step at fixed times (the randomized
 * simulator, test_peers_sim.c, checks safety; this checks two rules of
 * DESIGN.md 10.2 item 4 exactly): the witness asked for at once
 * (prule_witness_due, once per silence) lets a revoke follow within a
 * round trip; and a witness heard again after a gap of its own (a node
 * deaf to its peers that heals) does not count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcs/peers_rule.h"

#include "regress/unit/check.h"

#define T0	1000	/* prule_init */
#define STEADY	3000	/* past the restart wait (P + margin) */

static struct prule	 pr;

/* A heartbeat of `from` arriving at `now`, echoing our `echo`. */
static void
hb(uint64_t now, const char *from, uint64_t lease, uint64_t echo)
{
	struct prule_msg m;

	memset(&m, 0, sizeof(m));
	m.lease = lease;
	m.sent = now - 1;
	m.echo = echo;
	m.connected = 1;
	CHECK(prule_recv(&pr, now, from, &m) == 0);
}

/* We reach etcd: a keepalive sent now succeeded. */
static void
ka(uint64_t now)
{
	prule_etcd_ok(&pr, now, 0xa, now);
	prule_tick(&pr, now);
}

/* Nodes a (us), b and c, all heard every 50 ms until STEADY. */
static void
setup(void)
{
	struct prule_conf c;
	uint64_t	 t;

	prule_defaults(&c);
	prule_init(&pr, &c, "a", T0);
	prule_lease_granted(&pr, T0, 0xa, T0);
	CHECK(prule_view_node(&pr, T0, "a", 1, 0xa, 0) == 0);
	CHECK(prule_view_node(&pr, T0, "b", 1, 0xb, 0) == 0);
	CHECK(prule_view_node(&pr, T0, "c", 1, 0xc, 0) == 0);
	for (t = T0 + 50; t <= STEADY; t += 50) {
		ka(t);
		hb(t, "b", 0xb, t - 10);
		hb(t, "c", 0xc, t - 10);
	}
	CHECK(prule_connected(&pr, STEADY));
	CHECK(!prule_may_revoke(&pr, STEADY, "b"));
}

/* b crashes after STEADY; c goes on. */
static void
test_witness_ask(void)
{
	uint64_t	 t, due;

	setup();
	due = STEADY + pr.conf.peer_timeout_ms;
	for (t = STEADY + 50; t < due; t += 50) {
		ka(t);
		hb(t, "c", 0xc, t - 10);
		CHECK(!prule_witness_due(&pr, t), "asked at %llu",
		    (unsigned long long)t);
	}
	/* b silent for peer-timeout; c's last message came before that */
	ka(due);
	CHECK(!prule_may_revoke(&pr, due, "b"));
	CHECK(prule_witness_due(&pr, due));
	CHECK(!prule_witness_due(&pr, due), "asked twice for one silence");
	CHECK(!prule_witness_due(&pr, due + 1));
	/* c answers the ask at once: it echoes it, and it arrived after */
	hb(due + 2, "c", 0xc, due);
	CHECK(prule_may_revoke(&pr, due + 2, "b"));
	CHECK(!prule_may_revoke(&pr, due + 2, "c"));
	/* b heard again: the silence ends; a new one asks again */
	hb(due + 3, "b", 0xb, due);
	CHECK(!prule_may_revoke(&pr, due + 3, "b"));
	for (t = due + 50; t < due + 3 + pr.conf.peer_timeout_ms; t += 50) {
		ka(t);
		hb(t, "c", 0xc, t - 10);
	}
	ka(due + 3 + pr.conf.peer_timeout_ms);
	CHECK(prule_witness_due(&pr, due + 3 + pr.conf.peer_timeout_ms),
	    "a new silence asks again");
}

/* We hear nobody after STEADY (deaf), then c, then b again. */
static void
test_deaf_heal(void)
{
	uint64_t	 t, heal = STEADY + 2000;

	setup();
	for (t = STEADY + 50; t < heal; t += 50)
		ka(t);
	/* both silent: nobody to witness, so no revoke, but an ask */
	CHECK(!prule_may_revoke(&pr, heal - 10, "b"));
	CHECK(!prule_may_revoke(&pr, heal - 10, "c"));
	CHECK(prule_witness_due(&pr, heal - 10));
	/*
	 * c's first message after the heal echoes what c kept getting from
	 * us; b's is a few ms behind.  c was silent itself: no witness.
	 */
	ka(heal);
	hb(heal, "c", 0xc, heal - 10);
	CHECK(!prule_may_revoke(&pr, heal, "b"),
	    "revoked b on the first message of c after a gap");
	hb(heal + 20, "c", 0xc, heal + 10);
	CHECK(!prule_may_revoke(&pr, heal + 20, "b"));
	hb(heal + 30, "b", 0xb, heal + 10);
	CHECK(!prule_may_revoke(&pr, heal + 30, "b"));
	CHECK(!prule_may_revoke(&pr, heal + 30, "c"));
}

int
main(void)
{
	test_witness_ask();
	test_deaf_heal();
	if (check_failures) {
		printf("%d failure(s)\n", check_failures);
		return 1;
	}
	printf("test_peers_rule: ok\n");
	return 0;
}
