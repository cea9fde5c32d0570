/*
 * The bytes of the peer channel.  Pure; see peer_wire.h for the layout.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "dcs/etcd_json.h"
#include "dcs/keys.h"
#include "dcs/peer_wire.h"

static const char *drop_names[PEER_DROP_MAX] = {
	[PEER_OK] = "ok",
	[PEER_DROP_SHORT] = "too short",
	[PEER_DROP_OVERSIZE] = "too long",
	[PEER_DROP_MAGIC] = "not a yaim peer message",
	[PEER_DROP_VERSION] = "unknown version",
	[PEER_DROP_MALFORMED] = "malformed",
	[PEER_DROP_NO_KEY] = "no cluster key yet",
	[PEER_DROP_AUTH] = "bad HMAC (forged or another key)",
	[PEER_DROP_NOT_FOR_US] = "addressed to another node",
	[PEER_DROP_SELF] = "claims to come from this node",
	[PEER_DROP_UNKNOWN] = "unknown sender",
	[PEER_DROP_OLD_EPOCH] = "from an earlier boot of the sender",
	[PEER_DROP_REPLAY] = "replayed",
	[PEER_DROP_RATE] = "over the sender's rate limit",
};

const char *
peer_drop_name(enum peer_drop d)
{
	if ((unsigned int)d >= PEER_DROP_MAX)
		return "unknown reason";
	return drop_names[d];
}

static void
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	int	 i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static int
mac(const uint8_t *key, size_t keylen, const uint8_t *buf, size_t len,
    uint8_t out[PEER_WIRE_MAC])
{
	unsigned int	 n = 0;

	if (HMAC(EVP_sha256(), key, (int)keylen, buf, len, out, &n) == NULL ||
	    n != PEER_WIRE_MAC)
		return -1;
	return 0;
}

size_t
peer_wire_encode(const struct peer_msg *m, const uint8_t *key,
    size_t keylen, uint8_t *out, size_t outlen)
{
	size_t	 s, d, total;

	s = strnlen(m->sender, sizeof(m->sender));
	d = strnlen(m->dest, sizeof(m->dest));
	if (!keys_valid_nodename(m->sender, s) ||
	    !keys_valid_nodename(m->dest, d) || m->type == 0 ||
	    m->type > PEER_TYPE_MAX || m->payload_len > PEER_PAYLOAD_MAX ||
	    m->epoch == 0 || m->seq == 0 || keylen < PEER_KEY_MIN ||
	    keylen > PEER_KEY_MAX)
		return 0;
	total = PEER_WIRE_HEADER + s + d + m->payload_len + PEER_WIRE_MAC;
	if (outlen < total)
		return 0;
	out[0] = PEER_WIRE_MAGIC0;
	out[1] = PEER_WIRE_MAGIC1;
	out[2] = PEER_WIRE_VERSION;
	out[3] = m->type;
	out[4] = (uint8_t)s;
	out[5] = (uint8_t)d;
	put_u16(out + 6, (uint16_t)m->payload_len);
	put_u64(out + 8, (uint64_t)m->lease);
	put_u64(out + 16, m->epoch);
	put_u64(out + 24, m->seq);
	put_u64(out + 32, m->sent_ms);
	put_u64(out + 40, m->echo_ms);
	memcpy(out + PEER_WIRE_HEADER, m->sender, s);
	memcpy(out + PEER_WIRE_HEADER + s, m->dest, d);
	if (m->payload_len > 0)
		memcpy(out + PEER_WIRE_HEADER + s + d, m->payload,
		    m->payload_len);
	if (mac(key, keylen, out, total - PEER_WIRE_MAC,
	    out + total - PEER_WIRE_MAC) == -1)
		return 0;
	return total;
}

enum peer_drop
peer_wire_parse(const uint8_t *buf, size_t len, struct peer_msg *m)
{
	size_t	 s, d, p;

	if (len > PEER_WIRE_MAX)
		return PEER_DROP_OVERSIZE;
	if (len < PEER_WIRE_HEADER + 2 + PEER_WIRE_MAC)
		return PEER_DROP_SHORT;
	if (buf[0] != PEER_WIRE_MAGIC0 || buf[1] != PEER_WIRE_MAGIC1)
		return PEER_DROP_MAGIC;
	if (buf[2] != PEER_WIRE_VERSION)
		return PEER_DROP_VERSION;
	s = buf[4];
	d = buf[5];
	p = get_u16(buf + 6);
	if (buf[3] == 0 || buf[3] > PEER_TYPE_MAX || p > PEER_PAYLOAD_MAX ||
	    PEER_WIRE_HEADER + s + d + p + PEER_WIRE_MAC != len)
		return PEER_DROP_MALFORMED;
	if (!keys_valid_nodename((const char *)buf + PEER_WIRE_HEADER, s) ||
	    !keys_valid_nodename((const char *)buf + PEER_WIRE_HEADER + s, d))
		return PEER_DROP_MALFORMED;
	memset(m, 0, sizeof(*m));
	m->type = buf[3];
	m->lease = (int64_t)get_u64(buf + 8);
	m->epoch = get_u64(buf + 16);
	m->seq = get_u64(buf + 24);
	m->sent_ms = get_u64(buf + 32);
	m->echo_ms = get_u64(buf + 40);
	if (m->epoch == 0 || m->seq == 0)
		return PEER_DROP_MALFORMED;
	memcpy(m->sender, buf + PEER_WIRE_HEADER, s);
	memcpy(m->dest, buf + PEER_WIRE_HEADER + s, d);
	m->payload_len = p;
	if (p > 0)
		memcpy(m->payload, buf + PEER_WIRE_HEADER + s + d, p);
	return PEER_OK;
}

enum peer_drop
peer_wire_verify(const uint8_t *buf, size_t len, const uint8_t *key,
    size_t keylen)
{
	uint8_t	 want[PEER_WIRE_MAC];
	int	 same;

	if (keylen == 0)
		return PEER_DROP_NO_KEY;
	if (len < PEER_WIRE_MAC || mac(key, keylen, buf, len - PEER_WIRE_MAC,
	    want) == -1)
		return PEER_DROP_AUTH;
	same = CRYPTO_memcmp(want, buf + len - PEER_WIRE_MAC,
	    PEER_WIRE_MAC) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return same ? PEER_OK : PEER_DROP_AUTH;
}

enum peer_drop
peer_wire_decode(const uint8_t *buf, size_t len, const uint8_t *key,
    size_t keylen, const char *me, struct peer_msg *m)
{
	enum peer_drop	 r;

	if ((r = peer_wire_parse(buf, len, m)) != PEER_OK)
		return r;
	if ((r = peer_wire_verify(buf, len, key, keylen)) != PEER_OK)
		return r;
	/* Only after the MAC: what a forger writes here means nothing. */
	if (strcmp(m->dest, me) != 0)
		return PEER_DROP_NOT_FOR_US;
	if (strcmp(m->sender, me) == 0)
		return PEER_DROP_SELF;
	return PEER_OK;
}

enum peer_drop
peer_replay_check(struct peer_replay *r, uint64_t epoch, uint64_t seq)
{
	uint64_t	 shift;

	if (epoch == 0 || seq == 0)
		return PEER_DROP_MALFORMED;
	if (epoch < r->epoch)
		return PEER_DROP_OLD_EPOCH;
	if (epoch > r->epoch) {
		r->epoch = epoch;
		r->top = seq;
		r->seen = 1;
		return PEER_OK;
	}
	if (seq > r->top) {
		shift = seq - r->top;
		r->seen = shift >= PEER_REPLAY_WINDOW ? 0 : r->seen << shift;
		r->seen |= 1;
		r->top = seq;
		return PEER_OK;
	}
	shift = r->top - seq;
	if (shift >= PEER_REPLAY_WINDOW || (r->seen & (1ULL << shift)))
		return PEER_DROP_REPLAY;
	r->seen |= 1ULL << shift;
	return PEER_OK;
}

int
peer_bucket_take(struct peer_bucket *b, uint64_t now_ms, uint32_t rate,
    uint32_t burst)
{
	uint64_t	 cap = (uint64_t)burst * 1000, add, elapsed;

	if (!b->started) {
		b->started = 1;
		b->millitokens = cap;
		b->last_ms = now_ms;
	}
	if (now_ms > b->last_ms) {
		/* rate tokens per second are rate millitokens per ms */
		elapsed = now_ms - b->last_ms;
		if (rate == 0)
			add = 0;
		else if (elapsed > cap / rate + 1)
			add = cap;
		else
			add = elapsed * rate;
		b->millitokens = b->millitokens + add > cap ? cap :
		    b->millitokens + add;
		b->last_ms = now_ms;
	}
	if (b->millitokens < 1000)
		return 0;
	b->millitokens -= 1000;
	return 1;
}
