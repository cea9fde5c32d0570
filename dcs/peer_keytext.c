/*
 * The peer key's text form.  Apart from peer_wire.c, which needs
 * OpenSSL's HMAC, because the parent checks the key file with it and
 * must not map libcrypto (DESIGN.md section 1).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dcs/etcd_json.h"
#include "dcs/peer_wire.h"

int
peer_key_parse(const char *text, size_t len, uint8_t key[PEER_KEY_MAX],
    char *err, size_t errlen)
{
	char	 buf[(PEER_KEY_MAX + 2) / 3 * 4 + 1];
	char	 out[sizeof(buf) / 4 * 3 + 1];
	long	 n;

	while (len > 0 && isspace((unsigned char)*text)) {
		text++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	if (len >= sizeof(buf)) {
		snprintf(err, errlen, "the key is longer than %d bytes",
		    PEER_KEY_MAX);
		return -1;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	n = etcd_base64_decode(buf, len, out);
	explicit_bzero(buf, sizeof(buf));
	if (n < 0) {
		snprintf(err, errlen, "the key is not base64");
		return -1;
	}
	if (n < PEER_KEY_MIN || n > PEER_KEY_MAX) {
		explicit_bzero(out, sizeof(out));
		snprintf(err, errlen, "the key has %ld bytes, not %d..%d", n,
		    PEER_KEY_MIN, PEER_KEY_MAX);
		return -1;
	}
	memcpy(key, out, (size_t)n);
	explicit_bzero(out, sizeof(out));
	return (int)n;
}
