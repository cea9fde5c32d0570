/*
 * GET /metrics, and nothing else (dcs/http_req.h).  Every byte is
 * untrusted; nothing here reads past len.
 */
#include <string.h>
#include <strings.h>

#include "dcs/http_req.h"

#define METHOD_MAX	16

/* RFC 9110 tchar */
static int
tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The end of headers: the offset just past the empty line, or 0. */
static size_t
headers_end(const char *b, size_t len)
{
	size_t	 i;

	for (i = 0; i + 1 < len; i++) {
		if (b[i] != '\n')
			continue;
		if (b[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && b[i + 1] == '\r' && b[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* One line from *pos to before its LF (a CR before it dropped). */
static int
next_line(const char *b, size_t end, size_t *pos, const char **line,
    size_t *llen)
{
	const char	*nl;
	size_t		 n;

	if (*pos >= end)
		return -1;
	if ((nl = memchr(b + *pos, '\n', end - *pos)) == NULL)
		return -1;
	n = (size_t)(nl - (b + *pos));
	*line = b + *pos;
	*pos += n + 1;
	if (n > 0 && (*line)[n - 1] == '\r')
		n--;
	*llen = n;
	return 0;
}

static int
visible(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* A header line: name ":" OWS value OWS; the body ones refused. */
static int
header_ok(const char *l, size_t n)
{
	const char	*colon, *v;
	size_t		 nlen, vlen, i;

	if ((colon = memchr(l, ':', n)) == NULL || colon == l)
		return 0;
	nlen = (size_t)(colon - l);
	for (i = 0; i < nlen; i++)
		if (!tchar((unsigned char)l[i]))
			return 0;
	v = colon + 1;
	vlen = n - nlen - 1;
	for (i = 0; i < vlen; i++)
		if (((unsigned char)v[i] < ' ' && v[i] != '\t') ||
		    (unsigned char)v[i] == 0x7f)
			return 0;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (nlen == 17 && strncasecmp(l, "transfer-encoding", 17) == 0)
		return 0;
	if (nlen == 14 && strncasecmp(l, "content-length", 14) == 0 &&
	    !(vlen == 1 && *v == '0'))
		return 0;
	return 1;
}

enum http_verdict
http_req_parse(const char *b, size_t len)
{
	const char	*l, *sp1, *sp2, *target;
	size_t		 end, pos = 0, n, mlen, tlen, plen, hdrs = 0;

	if (len > HTTP_REQ_MAX)
		len = HTTP_REQ_MAX;
	if ((end = headers_end(b, len)) == 0)
		return len >= HTTP_REQ_MAX ? HTTP_TOO_LARGE : HTTP_MORE;
	if (next_line(b, end, &pos, &l, &n) == -1)
		return HTTP_BAD;
	/* METHOD SP target SP version */
	if ((sp1 = memchr(l, ' ', n)) == NULL)
		return HTTP_BAD;
	mlen = (size_t)(sp1 - l);
	target = sp1 + 1;
	if ((sp2 = memchr(target, ' ', n - mlen - 1)) == NULL)
		return HTTP_BAD;
	tlen = (size_t)(sp2 - target);
	if (mlen == 0 || mlen > METHOD_MAX || tlen == 0 ||
	    !visible(l, mlen) || !visible(target, tlen))
		return HTTP_BAD;
	for (plen = 0; plen < mlen; plen++)
		if (!tchar((unsigned char)l[plen]))
			return HTTP_BAD;
	if (n - mlen - tlen - 2 != 8 || (memcmp(sp2 + 1, "HTTP/1.0", 8) != 0 &&
	    memcmp(sp2 + 1, "HTTP/1.1", 8) != 0))
		return HTTP_BAD;
	/* headers, up to the empty line */
	for (;;) {
		if (next_line(b, end, &pos, &l, &n) == -1)
			return HTTP_BAD;
		if (n == 0)
			break;
		if (*l == ' ' || *l == '\t' || !header_ok(l, n) ||
		    ++hdrs > 100)
			return HTTP_BAD;
	}
	if (mlen != 3 || memcmp(b, "GET", 3) != 0)
		return HTTP_METHOD;
	if (*target != '/')
		return HTTP_NOT_FOUND;
	for (plen = 0; plen < tlen && target[plen] != '?'; plen++)
		;
	if (plen == 8 && memcmp(target, "/metrics", 8) == 0)
		return HTTP_METRICS;
	return HTTP_NOT_FOUND;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}
