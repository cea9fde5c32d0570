/*
 * Base64 as etcd's JSON gateway spells keys and values.  Apart from
 * etcd_json.c, which needs cJSON, because the parent decodes the peer key
 * file with it (peer_key_parse) and must not map cJSON (DESIGN.md
 * section 1).
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "dcs/etcd_json.h"

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
etcd_base64_encode(const void *in, size_t len, char *out)
{
	const unsigned char	*p = in;
	size_t			 i, o = 0;
	uint32_t		 v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		out[o++] = b64chars[v >> 6 & 63];
		out[o++] = b64chars[v & 63];
	}
	if (i < len) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		out[o++] = i + 1 < len ? b64chars[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
etcd_base64_decode(const char *in, size_t len, char *out)
{
	size_t		i, o = 0, pad = 0;
	int		d[4], k;
	uint32_t	v;

	if (len % 4 != 0 || len > LONG_MAX / 2)
		return -1;
	if (len > 0 && in[len - 1] == '=')
		pad = (len > 1 && in[len - 2] == '=') ? 2 : 1;
	for (i = 0; i < len; i += 4) {
		int last = i + 4 == len;

		for (k = 0; k < 4; k++) {
			if (last && k >= 4 - (int)pad) {
				if (in[i + k] != '=')
					return -1;
				d[k] = 0;
			} else if ((d[k] = b64val(in[i + k])) < 0)
				return -1;
		}
		v = (uint32_t)d[0] << 18 | (uint32_t)d[1] << 12 |
		    (uint32_t)d[2] << 6 | (uint32_t)d[3];
		out[o++] = (char)(v >> 16);
		if (!last || pad < 2)
			out[o++] = (char)(v >> 8 & 0xff);
		if (!last || pad < 1)
			out[o++] = (char)(v & 0xff);
		/* unused bits must be zero: one spelling per value */
		if (last && pad == 2 && (v & 0xffff) != 0)
			return -1;
		if (last && pad == 1 && (v & 0xff) != 0)
			return -1;
	}
	out[o] = '\0';
	return (long)o;
}
