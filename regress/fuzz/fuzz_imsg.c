/*
 * libFuzzer harness for the imsg decoder: arbitrary bytes must decode
 * into well-formed messages or be rejected, never misread.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imsg	 m;
	size_t		 off = 0, used;
	char		 err[128];

	for (;;) {
		switch (imsg_parse(data + off, size - off, &m, &used, err,
		    sizeof(err))) {
		case IMSG_PARSE_OK:
			if (used < IMSG_HEADER_SIZE || used > size - off ||
			    m.datalen != used - IMSG_HEADER_SIZE ||
			    (m.hdr.type & IMSG_FLAG_FD) || m.hdr.type == 0)
				abort();
			if (m.datalen)
				(void)((const volatile uint8_t *)m.data)
				    [m.datalen - 1];
			off += used;
			break;
		case IMSG_PARSE_NEED_MORE:
			return 0;
		case IMSG_PARSE_ERROR:
			if (err[0] == '\0')
				abort();
			return 0;
		}
	}
}
