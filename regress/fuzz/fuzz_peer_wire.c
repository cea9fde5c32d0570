/*
 * libFuzzer harness for the peer channel's parser: any bytes as a
 * datagram.  Whatever parses must encode back to the same bytes (with
 * the fuzzer's key, so that seeds signed with it get past the MAC), and
 * the replay window and the key parser must hold up to any input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dcs/peer_wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The seeds in corpus/fuzz_peer_wire are signed with 32 bytes of 'k'. */
static const uint8_t	 fuzz_key[32] = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";

static void
check_datagram(const uint8_t *data, size_t size)
{
	struct peer_msg		 m, m2;
	uint8_t			 out[PEER_WIRE_MAX];
	size_t			 n;
	enum peer_drop		 r;

	r = peer_wire_parse(data, size, &m);
	if (r >= PEER_DROP_MAX)
		abort();
	if (r != PEER_OK)
		return;
	if (strlen(m.sender) == 0 || strlen(m.dest) == 0 ||
	    m.payload_len > PEER_PAYLOAD_MAX || m.seq == 0 || m.epoch == 0)
		abort();
	/* What parses re-encodes to the same bytes but the MAC. */
	n = peer_wire_encode(&m, fuzz_key, sizeof(fuzz_key), out, sizeof(out));
	if (n != size || memcmp(out, data, n - PEER_WIRE_MAC) != 0)
		abort();
	r = peer_wire_decode(data, size, fuzz_key, sizeof(fuzz_key), m.dest,
	    &m2);
	if (r != PEER_OK && r != PEER_DROP_AUTH && r != PEER_DROP_SELF)
		abort();
	if (r == PEER_OK && memcmp(data, out, size) != 0)
		abort();
	if (peer_wire_decode(out, n, fuzz_key, sizeof(fuzz_key), m.dest,
	    &m2) != (strcmp(m.sender, m.dest) == 0 ? PEER_DROP_SELF :
	    PEER_OK))
		abort();
}

/* Input as a sequence of (epoch, seq) pairs: no seq is accepted twice. */
static void
check_replay(const uint8_t *data, size_t size)
{
	struct peer_replay	 r;
	uint64_t		 e, s, accepted[64];
	size_t			 i, j, na = 0;

	memset(&r, 0, sizeof(r));
	for (i = 0; i + 4 <= size && na < 64; i += 4) {
		e = 1 + (data[i] & 3);
		s = ((uint64_t)data[i + 1] << 16 | data[i + 2] << 8 |
		    data[i + 3]) % 200;
		if (peer_replay_check(&r, e, s) != PEER_OK)
			continue;
		for (j = 0; j < na; j++)
			if (accepted[j] == (e << 32 | s))
				abort();
		accepted[na++] = e << 32 | s;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t	 key[PEER_KEY_MAX];
	char	 err[128];
	int	 n;

	check_datagram(data, size);
	check_replay(data, size);
	n = peer_key_parse((const char *)data, size, key, err, sizeof(err));
	if (n != -1 && (n < PEER_KEY_MIN || n > PEER_KEY_MAX))
		abort();
	return 0;
}
