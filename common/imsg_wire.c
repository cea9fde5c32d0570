/*
 * The imsg framing itself (common/imsg.h), pure: no I/O, no libevent, no
 * logging, so that yaimctl can link it alone.
 */
#include <stdio.h>
#include <string.h>

#include "imsg.h"
#include "proto.h"

enum imsg_parse_result
imsg_parse(const uint8_t *buf, size_t buflen, struct imsg *out,
    size_t *consumed, char *err, size_t errlen)
{
	struct imsg_hdr	 hdr;

	*consumed = 0;
	if (buflen < IMSG_HEADER_SIZE)
		return IMSG_PARSE_NEED_MORE;
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.len < IMSG_HEADER_SIZE) {
		snprintf(err, errlen, "message length %u shorter than header",
		    hdr.len);
		return IMSG_PARSE_ERROR;
	}
	if (hdr.len > IMSG_MAX_SIZE) {
		snprintf(err, errlen, "message length %u exceeds maximum %u",
		    hdr.len, (unsigned int)IMSG_MAX_SIZE);
		return IMSG_PARSE_ERROR;
	}
	if ((hdr.type & IMSG_TYPE_MASK) == IMSG_NONE) {
		snprintf(err, errlen, "message type 0 is invalid");
		return IMSG_PARSE_ERROR;
	}
	if (buflen < hdr.len)
		return IMSG_PARSE_NEED_MORE;
	out->hdr = hdr;
	out->hdr.type = hdr.type & IMSG_TYPE_MASK;
	out->fd = -1;
	out->datalen = hdr.len - IMSG_HEADER_SIZE;
	out->data = out->datalen ? buf + IMSG_HEADER_SIZE : NULL;
	*consumed = hdr.len;
	return IMSG_PARSE_OK;
}

size_t
imsg_encode(uint8_t *out, size_t outlen, uint32_t type, uint32_t peerid,
    uint32_t pid, const void *data, size_t datalen)
{
	struct imsg_hdr	 hdr;

	if (datalen > IMSG_MAX_SIZE - IMSG_HEADER_SIZE ||
	    outlen < IMSG_HEADER_SIZE + datalen)
		return 0;
	hdr.type = type;
	hdr.len = (uint32_t)(IMSG_HEADER_SIZE + datalen);
	hdr.peerid = peerid;
	hdr.pid = pid;
	memcpy(out, &hdr, sizeof(hdr));
	if (datalen)
		memcpy(out + IMSG_HEADER_SIZE, data, datalen);
	return hdr.len;
}
