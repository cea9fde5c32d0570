/*
 * The one HTTP request dcs's metrics listener understands, GET /metrics,
 * parsed from untrusted bytes.  Pure: no I/O, no allocation; fuzzed
 * (regress/fuzz/fuzz_http_req.c) and unit-tested (test_metrics.c).
 */
#ifndef YAIM_DCS_HTTP_REQ_H
#define YAIM_DCS_HTTP_REQ_H

#include <stddef.h>

#define HTTP_REQ_MAX	4096	/* request line and headers, bytes */

enum http_verdict {
	HTTP_MORE = 0,		/* no end of headers yet: read on */
	HTTP_METRICS = 200,	/* GET /metrics (a query string ignored) */
	HTTP_BAD = 400,		/* malformed */
	HTTP_NOT_FOUND = 404,	/* well-formed, another path */
	HTTP_METHOD = 405,	/* well-formed, not GET */
	HTTP_TOO_LARGE = 431	/* no end of headers in HTTP_REQ_MAX */
};

/*
 * What buf (len bytes, not NUL-terminated, may hold anything) asks for.
 * The request line is "METHOD SP target SP HTTP/1.0|1.1", lines end in
 * CRLF or LF, header names are tokens, no folded lines, no body
 * (Content-Length other than 0, or Transfer-Encoding: 400).
 */
enum http_verdict	http_req_parse(const char *buf, size_t len);
/* The status line's reason phrase: "OK", "Bad Request", ... */
const char		*http_reason(int status);

#endif
