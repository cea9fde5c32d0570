/*
 * The bytes of the peer channel (DESIGN.md section 10a): encoding,
 * parsing and authentication of one UDP datagram, the replay window and
 * the receive token bucket.  Pure: no I/O, no clock (times are passed
 * in), no randomness.  Datagrams come from the network and are hostile:
 * any bytes, any length.
 *
 * A datagram, all integers big-endian:
 *
 *	off  len  field
 *	0    2    magic "YP"
 *	2    1    version (PEER_WIRE_VERSION)
 *	3    1    type, 1..PEER_TYPE_MAX (meaning: the protocol rule's)
 *	4    1    length s of the sender's node name, 1..63
 *	5    1    length d of the destination's node name, 1..63
 *	6    2    length p of the payload, 0..PEER_PAYLOAD_MAX
 *	8    8    the sender's etcd lease ID (0: none), int64
 *	16   8    the sender's boot epoch, != 0
 *	24   8    sequence number, != 0, rising within an epoch
 *	32   8    the sender's send time (its own clock; opaque to others)
 *	40   8    echo: the last send time the sender received from the
 *		  destination (0: none)
 *	48   s    sender name, d destination name, p payload
 *	...  32   HMAC-SHA256 of every byte before it, keyed with the
 *		  cluster key
 */
#ifndef YAIM_DCS_PEER_WIRE_H
#define YAIM_DCS_PEER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define PEER_WIRE_MAGIC0	'Y'
#define PEER_WIRE_MAGIC1	'P'
#define PEER_WIRE_VERSION	1
#define PEER_WIRE_HEADER	48
#define PEER_WIRE_MAC		32
#define PEER_PAYLOAD_MAX	256
#define PEER_NAME_MAX		(CFG_NAME_MAX - 1)		/* 63 */
/* The largest valid datagram is 462 bytes; anything above this is cut. */
#define PEER_WIRE_MAX		512
#define PEER_TYPE_MAX		31
#define PEER_KEY_MIN		32	/* bytes of cluster key */
#define PEER_KEY_MAX		64

/*
 * Message types the protocol rule is expected to use.  The wire checks
 * only the range; the payload of each is the rule's business.
 */
enum peer_type {
	PEER_HEARTBEAT = 1,	/* I am alive; payload: my state */
	PEER_PROMISE_REQ,	/* please promise not to take my addresses */
	PEER_PROMISE_GRANT,	/* promised until; payload: duration */
	PEER_REACH_ETCD,	/* no promise: I reach etcd, go and renew */
	PEER_LEAVE		/* graceful leave: I hold nothing any more */
};

struct peer_msg {
	uint8_t		 type;
	char		 sender[CFG_NAME_MAX];	/* NUL-terminated */
	char		 dest[CFG_NAME_MAX];	/* NUL-terminated */
	int64_t		 lease;
	uint64_t	 epoch;
	uint64_t	 seq;
	uint64_t	 sent_ms;
	uint64_t	 echo_ms;
	size_t		 payload_len;
	uint8_t		 payload[PEER_PAYLOAD_MAX];
};

/* Why a datagram was dropped.  PEER_OK is not a drop. */
enum peer_drop {
	PEER_OK = 0,
	PEER_DROP_SHORT,	/* shorter than header and MAC */
	PEER_DROP_OVERSIZE,	/* longer than PEER_WIRE_MAX */
	PEER_DROP_MAGIC,	/* not ours at all */
	PEER_DROP_VERSION,	/* another version of the protocol */
	PEER_DROP_MALFORMED,	/* lengths, names, type, zero seq/epoch */
	PEER_DROP_NO_KEY,	/* we have no cluster key yet */
	PEER_DROP_AUTH,		/* the HMAC does not match: forged */
	PEER_DROP_NOT_FOR_US,	/* destination is another node */
	PEER_DROP_SELF,		/* claims to come from us */
	PEER_DROP_UNKNOWN,	/* sender is not in the peer table */
	PEER_DROP_OLD_EPOCH,	/* from an earlier boot of the sender */
	PEER_DROP_REPLAY,	/* sequence number seen, or too old */
	PEER_DROP_RATE,		/* the sender's token bucket is empty */
	PEER_DROP_MAX
};

const char	*peer_drop_name(enum peer_drop);

/*
 * Encode m (sender, dest valid node names; type in range; payload_len
 * bounded; epoch and seq not 0) and sign it with key.  Returns the
 * datagram's length, or 0 if m is not valid or out is too small.
 */
size_t		 peer_wire_encode(const struct peer_msg *m,
		    const uint8_t *key, size_t keylen, uint8_t *out,
		    size_t outlen);
/*
 * Parse the structure of buf[0 .. len-1] into *m without looking at the
 * MAC: enough to find the sender before spending an HMAC on it.
 * Returns PEER_OK or the reason.  *m is filled only on PEER_OK.
 */
enum peer_drop	 peer_wire_parse(const uint8_t *buf, size_t len,
		    struct peer_msg *m);
/* Check the MAC of a datagram peer_wire_parse() accepted: PEER_OK,
 * PEER_DROP_NO_KEY (keylen 0) or PEER_DROP_AUTH.  Constant time. */
enum peer_drop	 peer_wire_verify(const uint8_t *buf, size_t len,
		    const uint8_t *key, size_t keylen);
/* parse, then verify; and the destination must be me (a C string). */
enum peer_drop	 peer_wire_decode(const uint8_t *buf, size_t len,
		    const uint8_t *key, size_t keylen, const char *me,
		    struct peer_msg *m);

/*
 * Replay protection per sender: the highest sequence number seen in the
 * sender's current epoch and a window of the PEER_REPLAY_WINDOW below
 * it.  A later epoch starts afresh; an earlier one is dropped.  Call
 * only with authenticated messages: an accepted one is recorded.
 */
#define PEER_REPLAY_WINDOW	64
struct peer_replay {
	uint64_t	 epoch;		/* 0: nothing seen yet */
	uint64_t	 top;		/* highest seq seen */
	uint64_t	 seen;		/* bit i: top - i seen */
};
enum peer_drop	 peer_replay_check(struct peer_replay *, uint64_t epoch,
		    uint64_t seq);

/*
 * A token bucket: rate tokens per second, at most burst stored.  Returns
 * 1 and takes a token if one is there at now_ms, else 0.  A clock that
 * goes backwards refills nothing.
 */
struct peer_bucket {
	uint64_t	 last_ms;
	uint64_t	 millitokens;	/* tokens * 1000 */
	int		 started;
};
int		 peer_bucket_take(struct peer_bucket *, uint64_t now_ms,
		    uint32_t rate, uint32_t burst);

/*
 * The cluster key from its text form (base64, as in etcd and in
 * peer-key-file; surrounding white space ignored): PEER_KEY_MIN ..
 * PEER_KEY_MAX bytes into key.  Returns the key's length, or -1 and
 * why in err.
 */
int		 peer_key_parse(const char *text, size_t len,
		    uint8_t key[PEER_KEY_MAX], char *err, size_t errlen);

#endif
