/*
 * The peer channel's bytes: round trips, every rejection reason, the
 * replay window, HMAC tampering (every byte and every bit), the token
 * bucket and the key's text form.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "dcs/peer_wire.h"

static int	 failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("line %d: failed: %s\n", __LINE__, #cond);	\
		failures++;						\
	}								\
} while (0)

static uint8_t	 key[32], key2[32];

static void
sample(struct peer_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = PEER_HEARTBEAT;
	strcpy(m->sender, "node-a");
	strcpy(m->dest, "node-b");
	m->lease = 0x694d7a1b2c3d4e5fLL;
	m->epoch = 1764690000123ULL;
	m->seq = 42;
	m->sent_ms = 123456789;
	m->echo_ms = 987654321;
	m->payload_len = 3;
	memcpy(m->payload, "\x01\x00\xff", 3);
}

static void
test_round_trip(void)
{
	struct peer_msg	 m, got;
	uint8_t		 buf[PEER_WIRE_MAX];
	size_t		 n, p;

	sample(&m);
	n = peer_wire_encode(&m, key, sizeof(key), buf, sizeof(buf));
	CHECK(n == PEER_WIRE_HEADER + 6 + 6 + 3 + PEER_WIRE_MAC);
	CHECK(peer_wire_decode(buf, n, key, sizeof(key), "node-b", &got) ==
	    PEER_OK);
	CHECK(got.type == m.type && got.lease == m.lease &&
	    got.epoch == m.epoch && got.seq == m.seq &&
	    got.sent_ms == m.sent_ms && got.echo_ms == m.echo_ms &&
	    got.payload_len == 3 && memcmp(got.payload, m.payload, 3) == 0 &&
	    strcmp(got.sender, "node-a") == 0 &&
	    strcmp(got.dest, "node-b") == 0);
	/* the byte layout is the documented one */
	CHECK(buf[0] == 'Y' && buf[1] == 'P' && buf[2] == 1 && buf[3] == 1 &&
	    buf[4] == 6 && buf[5] == 6 && buf[6] == 0 && buf[7] == 3);
	CHECK(buf[31] == 42 && buf[8] == 0x69);
	CHECK(memcmp(buf + 48, "node-anode-b", 12) == 0);

	/* every payload length and the longest names */
	for (p = 0; p <= PEER_PAYLOAD_MAX; p++) {
		sample(&m);
		memset(m.sender, 'x', PEER_NAME_MAX);
		m.sender[PEER_NAME_MAX] = '\0';
		memset(m.dest, 'y', PEER_NAME_MAX);
		m.dest[PEER_NAME_MAX] = '\0';
		m.payload_len = p;
		memset(m.payload, (int)p, p);
		n = peer_wire_encode(&m, key, sizeof(key), buf, sizeof(buf));
		CHECK(n == PEER_WIRE_HEADER + 2 * PEER_NAME_MAX + p +
		    PEER_WIRE_MAC && n <= PEER_WIRE_MAX);
		CHECK(peer_wire_decode(buf, n, key, sizeof(key), m.dest,
		    &got) == PEER_OK && got.payload_len == p &&
		    memcmp(got.payload, m.payload, p) == 0);
	}
	/* a 64-byte key works too */
	{
		uint8_t	 k64[64];

		memset(k64, 7, sizeof(k64));
		sample(&m);
		n = peer_wire_encode(&m, k64, sizeof(k64), buf, sizeof(buf));
		CHECK(n > 0 && peer_wire_decode(buf, n, k64, sizeof(k64),
		    "node-b", &got) == PEER_OK);
	}
}

static void
test_encode_refuses(void)
{
	struct peer_msg	 m;
	uint8_t		 buf[PEER_WIRE_MAX];

	sample(&m);
	CHECK(peer_wire_encode(&m, key, sizeof(key), buf, 50) == 0);
	CHECK(peer_wire_encode(&m, key, 16, buf, sizeof(buf)) == 0);
	m.type = 0;
	CHECK(peer_wire_encode(&m, key, sizeof(key), buf, sizeof(buf)) == 0);
	m.type = PEER_TYPE_MAX + 1;
	CHECK(peer_wire_encode(&m, key, sizeof(key), buf, sizeof(buf)) == 0);
	sample(&m);
	m.payload_len = PEER_PAYLOAD_MAX + 1;
	CHECK(peer_wire_encode(&m, key, sizeof(key), buf, sizeof(buf)) == 0);
	sample(&m);
	m.seq = 0;
	CHECK(peer_wire_encode(&m, key, sizeof(key), buf, sizeof(buf)) == 0);
	sample(&m);
	m.epoch = 0;
	CHECK(peer_wire_encode(&m, key, sizeof(key), buf, sizeof(buf)) == 0);
	sample(&m);
	strcpy(m.sender, "a b");
	CHECK(peer_wire_encode(&m, key, sizeof(key), buf, sizeof(buf)) == 0);
	sample(&m);
	m.dest[0] = '\0';
	CHECK(peer_wire_encode(&m, key, sizeof(key), buf, sizeof(buf)) == 0);
}

/* Sign buf again after a change, so that the structure decides. */
static void
resign(uint8_t *buf, size_t n)
{
	unsigned int	 l;

	HMAC(EVP_sha256(), key, sizeof(key), buf, n - PEER_WIRE_MAC,
	    buf + n - PEER_WIRE_MAC, &l);
}

/* Change one byte of a valid datagram; sign it again if sign. */
static enum peer_drop
mutate(size_t off, uint8_t val, int sign)
{
	struct peer_msg	 m, got;
	uint8_t		 buf[PEER_WIRE_MAX + 8];
	size_t		 n;

	sample(&m);
	n = peer_wire_encode(&m, key, sizeof(key), buf, sizeof(buf));
	buf[off] = val;
	if (sign)
		resign(buf, n);
	return peer_wire_decode(buf, n, key, sizeof(key), "node-b", &got);
}

static void
test_rejections(void)
{
	struct peer_msg	 m, got;
	uint8_t		 buf[PEER_WIRE_MAX * 2];
	size_t		 n, i, len;
	int		 bit;

	sample(&m);
	n = peer_wire_encode(&m, key, sizeof(key), buf, sizeof(buf));

	/* lengths */
	for (len = 0; len < PEER_WIRE_HEADER + 2 + PEER_WIRE_MAC; len++)
		CHECK(peer_wire_decode(buf, len, key, sizeof(key), "node-b",
		    &got) == PEER_DROP_SHORT);
	CHECK(peer_wire_decode(buf, PEER_WIRE_MAX + 1, key, sizeof(key),
	    "node-b", &got) == PEER_DROP_OVERSIZE);
	CHECK(peer_wire_decode(buf, n - 1, key, sizeof(key), "node-b", &got)
	    == PEER_DROP_MALFORMED);
	CHECK(peer_wire_decode(buf, n + 1, key, sizeof(key), "node-b", &got)
	    == PEER_DROP_MALFORMED);

	/* structure, each with a valid MAC, so that parsing decides */
	CHECK(mutate(0, 'X', 1) == PEER_DROP_MAGIC);
	CHECK(mutate(1, 'X', 1) == PEER_DROP_MAGIC);
	CHECK(mutate(2, 2, 1) == PEER_DROP_VERSION);
	CHECK(mutate(2, 0, 1) == PEER_DROP_VERSION);
	CHECK(mutate(3, 0, 1) == PEER_DROP_MALFORMED);
	CHECK(mutate(3, PEER_TYPE_MAX + 1, 1) == PEER_DROP_MALFORMED);
	CHECK(mutate(3, PEER_TYPE_MAX, 1) == PEER_OK);
	CHECK(mutate(4, 0, 1) == PEER_DROP_MALFORMED);
	CHECK(mutate(4, 7, 1) == PEER_DROP_MALFORMED);
	CHECK(mutate(5, 0, 1) == PEER_DROP_MALFORMED);
	CHECK(mutate(6, 1, 1) == PEER_DROP_MALFORMED);
	CHECK(mutate(7, 4, 1) == PEER_DROP_MALFORMED);
	CHECK(mutate(23, 0, 1) == PEER_OK);	/* epoch still != 0 */
	CHECK(mutate(48, ' ', 1) == PEER_DROP_MALFORMED);
	CHECK(mutate(48, '/', 1) == PEER_DROP_MALFORMED);
	CHECK(mutate(54, '\0', 1) == PEER_DROP_MALFORMED);
	{
		/* seq 0 and epoch 0 */
		struct peer_msg	 z;
		uint8_t		 b2[PEER_WIRE_MAX];
		size_t		 k;

		sample(&z);
		k = peer_wire_encode(&z, key, sizeof(key), b2, sizeof(b2));
		memset(b2 + 24, 0, 8);
		resign(b2, k);
		CHECK(peer_wire_decode(b2, k, key, sizeof(key), "node-b", &got)
		    == PEER_DROP_MALFORMED);
		k = peer_wire_encode(&z, key, sizeof(key), b2, sizeof(b2));
		memset(b2 + 16, 0, 8);
		resign(b2, k);
		CHECK(peer_wire_decode(b2, k, key, sizeof(key), "node-b", &got)
		    == PEER_DROP_MALFORMED);
	}

	/* tampering: any changed bit past the parsed structure is caught */
	for (i = 0; i < n; i++) {
		for (bit = 0; bit < 8; bit++) {
			enum peer_drop	 r;

			sample(&m);
			peer_wire_encode(&m, key, sizeof(key), buf,
			    sizeof(buf));
			buf[i] ^= (uint8_t)(1 << bit);
			r = peer_wire_decode(buf, n, key, sizeof(key),
			    "node-b", &got);
			if (r == PEER_OK) {
				printf("flipping bit %d of byte %zu went "
				    "unnoticed\n", bit, i);
				failures++;
			}
		}
	}

	/* keys */
	sample(&m);
	n = peer_wire_encode(&m, key, sizeof(key), buf, sizeof(buf));
	CHECK(peer_wire_decode(buf, n, NULL, 0, "node-b", &got) ==
	    PEER_DROP_NO_KEY);
	CHECK(peer_wire_decode(buf, n, key2, sizeof(key2), "node-b", &got) ==
	    PEER_DROP_AUTH);
	CHECK(peer_wire_decode(buf, n, key, sizeof(key), "node-c", &got) ==
	    PEER_DROP_NOT_FOR_US);
	strcpy(m.dest, "node-a");
	n = peer_wire_encode(&m, key, sizeof(key), buf, sizeof(buf));
	CHECK(peer_wire_decode(buf, n, key, sizeof(key), "node-a", &got) ==
	    PEER_DROP_SELF);
	/* the MAC decides before the destination: a forger learns nothing */
	buf[n - 1] ^= 1;
	CHECK(peer_wire_decode(buf, n, key, sizeof(key), "node-c", &got) ==
	    PEER_DROP_AUTH);
	/* garbage of every size is dropped, never accepted */
	for (len = 0; len <= sizeof(buf); len++) {
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)(i * 7 + len);
		CHECK(peer_wire_decode(buf, len, key, sizeof(key), "node-b",
		    &got) != PEER_OK);
	}
	for (i = 0; i <= PEER_DROP_MAX; i++)
		CHECK(peer_drop_name((enum peer_drop)i) != NULL);
}

static void
test_replay(void)
{
	struct peer_replay	 r;
	uint64_t		 s;

	memset(&r, 0, sizeof(r));
	CHECK(peer_replay_check(&r, 0, 1) == PEER_DROP_MALFORMED);
	CHECK(peer_replay_check(&r, 10, 0) == PEER_DROP_MALFORMED);
	CHECK(peer_replay_check(&r, 10, 100) == PEER_OK);
	CHECK(peer_replay_check(&r, 10, 100) == PEER_DROP_REPLAY);
	/* reordering inside the window is fine, once */
	CHECK(peer_replay_check(&r, 10, 99) == PEER_OK);
	CHECK(peer_replay_check(&r, 10, 99) == PEER_DROP_REPLAY);
	CHECK(peer_replay_check(&r, 10, 100 - PEER_REPLAY_WINDOW + 1) ==
	    PEER_OK);
	CHECK(peer_replay_check(&r, 10, 100 - PEER_REPLAY_WINDOW) ==
	    PEER_DROP_REPLAY);
	CHECK(peer_replay_check(&r, 10, 1) == PEER_DROP_REPLAY);
	/* a jump forward beyond the window forgets the old bits */
	CHECK(peer_replay_check(&r, 10, 1000) == PEER_OK);
	CHECK(peer_replay_check(&r, 10, 999) == PEER_OK);
	CHECK(peer_replay_check(&r, 10, 100) == PEER_DROP_REPLAY);
	CHECK(peer_replay_check(&r, 10, UINT64_MAX) == PEER_OK);
	CHECK(peer_replay_check(&r, 10, UINT64_MAX) == PEER_DROP_REPLAY);
	/* epochs */
	CHECK(peer_replay_check(&r, 9, 5000) == PEER_DROP_OLD_EPOCH);
	CHECK(peer_replay_check(&r, 11, 1) == PEER_OK);
	CHECK(peer_replay_check(&r, 10, UINT64_MAX - 1) ==
	    PEER_DROP_OLD_EPOCH);
	CHECK(peer_replay_check(&r, 11, 1) == PEER_DROP_REPLAY);
	/* in order, every seq once; each exactly once */
	memset(&r, 0, sizeof(r));
	for (s = 1; s < 1000; s++)
		CHECK(peer_replay_check(&r, 1, s) == PEER_OK);
	for (s = 1; s < 1000; s++)
		CHECK(peer_replay_check(&r, 1, s) == PEER_DROP_REPLAY);
	/* backwards inside the window: all fresh once */
	memset(&r, 0, sizeof(r));
	for (s = 64; s >= 1; s--)
		CHECK(peer_replay_check(&r, 1, s) == PEER_OK);
	for (s = 1; s <= 64; s++)
		CHECK(peer_replay_check(&r, 1, s) == PEER_DROP_REPLAY);
}

static void
test_bucket(void)
{
	struct peer_bucket	 b;
	int			 i, got;

	memset(&b, 0, sizeof(b));
	for (got = 0, i = 0; i < 100; i++)
		got += peer_bucket_take(&b, 1000, 10, 5);
	CHECK(got == 5);
	/* 100 ms at 10/s is one token */
	CHECK(peer_bucket_take(&b, 1100, 10, 5) == 1);
	CHECK(peer_bucket_take(&b, 1100, 10, 5) == 0);
	/* the clock going back refills nothing */
	CHECK(peer_bucket_take(&b, 500, 10, 5) == 0);
	CHECK(peer_bucket_take(&b, 1100, 10, 5) == 0);
	/* a long pause refills to burst, not beyond */
	for (got = 0, i = 0; i < 100; i++)
		got += peer_bucket_take(&b, UINT64_MAX / 2, 10, 5);
	CHECK(got == 5);
	/* huge rates do not overflow */
	memset(&b, 0, sizeof(b));
	for (got = 0, i = 0; i < 10; i++)
		got += peer_bucket_take(&b, 0, UINT32_MAX, 3);
	CHECK(got == 3);
	CHECK(peer_bucket_take(&b, UINT64_MAX, UINT32_MAX, 3) == 1);
	/* rate 0: the burst, then nothing */
	memset(&b, 0, sizeof(b));
	CHECK(peer_bucket_take(&b, 0, 0, 1) == 1);
	CHECK(peer_bucket_take(&b, 1000000, 0, 1) == 0);
}

static void
test_key_parse(void)
{
	uint8_t		 k[PEER_KEY_MAX];
	char		 err[128];
	const char	*k32 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

	CHECK(peer_key_parse(k32, strlen(k32), k, err, sizeof(err)) == 32);
	CHECK(k[0] == 0 && k[31] == 31);
	CHECK(peer_key_parse(" \n\tAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"
	    "Hh8=\n", 48, k, err, sizeof(err)) == 32);
	CHECK(peer_key_parse("AAECAw==", 8, k, err, sizeof(err)) == -1 &&
	    strstr(err, "has 4 bytes") != NULL);
	CHECK(peer_key_parse("not base64 at all!", 18, k, err, sizeof(err))
	    == -1 && strstr(err, "not base64") != NULL);
	CHECK(peer_key_parse("", 0, k, err, sizeof(err)) == -1);
	{
		char	 big[200];

		memset(big, 'A', sizeof(big));
		CHECK(peer_key_parse(big, sizeof(big), k, err, sizeof(err))
		    == -1 && strstr(err, "longer") != NULL);
		/* 86 characters and "==" are 64 bytes */
		memset(big, 'A', 88);
		big[86] = '=';
		big[87] = '=';
		CHECK(peer_key_parse(big, 88, k, err, sizeof(err)) == 64);
	}
}

int
main(void)
{
	memset(key, 0x5a, sizeof(key));
	memset(key2, 0x5b, sizeof(key2));
	test_round_trip();
	test_encode_refuses();
	test_rejections();
	test_replay();
	test_bucket();
	test_key_parse();
	if (failures) {
		printf("%d failure(s)\n", failures);
		return 1;
	}
	printf("test_peer_wire: ok\n");
	return 0;
}
