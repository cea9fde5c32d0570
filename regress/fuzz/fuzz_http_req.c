/*
 * libFuzzer harness for the metrics listener's request parser
 * (dcs/http_req.c): any bytes, at any length.  Invariants: a verdict of
 * the set; TOO_LARGE only at HTTP_REQ_MAX bytes or more, MORE only below
 * it; GET /metrics only for a request that starts so; a verdict other
 * than MORE does not change when bytes are appended (the listener
 * answers on the first one); the metrics text of an empty snapshot
 * renders the same into any room.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dcs/http_req.h"
#include "dcs/metrics.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		 text[65536], cut[256];
	struct metrics_snap	 s;
	char			*more;
	enum http_verdict	 v, w;
	size_t			 n;

	v = http_req_parse((const char *)data, size);
	switch (v) {
	case HTTP_MORE:
		if (size >= HTTP_REQ_MAX)
			abort();
		break;
	case HTTP_TOO_LARGE:
		if (size < HTTP_REQ_MAX)
			abort();
		break;
	case HTTP_METRICS:
		if (size < 14 || memcmp(data, "GET /metrics", 12) != 0)
			abort();
		break;
	case HTTP_BAD:
	case HTTP_NOT_FOUND:
	case HTTP_METHOD:
		break;
	default:
		abort();
	}
	if (v != HTTP_MORE && v != HTTP_TOO_LARGE && size < HTTP_REQ_MAX &&
	    (more = malloc(size + 1)) != NULL) {
		memcpy(more, data, size);
		more[size] = 'x';
		w = http_req_parse(more, size + 1);
		free(more);
		if (w != v)
			abort();
	}
	/* the renderer: cut anywhere, never past the room */
	memset(&s, 0, sizeof(s));
	if (size >= sizeof(s.parent))
		memcpy(&s.parent, data, sizeof(s.parent));
	n = metrics_render(&s, text, sizeof(text));
	if (n >= sizeof(text) || strlen(text) != n)
		abort();
	if (metrics_render(&s, cut, size % sizeof(cut)) != n)
		abort();
	if (size % sizeof(cut) > 0 && strncmp(cut, text, size % sizeof(cut) -
	    1) != 0)
		abort();
	return 0;
}
