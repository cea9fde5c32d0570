/*
 * The watch stream splitter (etcd_json.h): a stream of JSON objects cut
 * into whole objects, bounded.  Pure: no I/O, fuzzed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcs/etcd_json.h"

void
etcd_splitter_init(struct etcd_splitter *s, size_t max)
{
	memset(s, 0, sizeof(*s));
	s->max = max;
}

void
etcd_splitter_free(struct etcd_splitter *s)
{
	free(s->buf);
	etcd_splitter_init(s, s->max);
}

static int
split_fail(struct etcd_splitter *s, char *err, size_t errlen,
    const char *what)
{
	s->failed = 1;
	snprintf(err, errlen, "watch stream: %s", what);
	return -1;
}

static int
split_hold(struct etcd_splitter *s, char c)
{
	char	*n;
	size_t	 ncap;

	if (s->len == s->cap) {
		ncap = s->cap ? s->cap * 2 : 4096;
		if (ncap > s->max)
			ncap = s->max;
		if ((n = realloc(s->buf, ncap)) == NULL)
			return -1;
		s->buf = n;
		s->cap = ncap;
	}
	s->buf[s->len++] = c;
	return 0;
}

/* Track strings and nesting; returns 1 when c closed the object. */
static int
split_scan(struct etcd_splitter *s, char c)
{
	if (s->in_string) {
		if (s->escape)
			s->escape = 0;
		else if (c == '\\')
			s->escape = 1;
		else if (c == '"')
			s->in_string = 0;
		return 0;
	}
	if (c == '"')
		s->in_string = 1;
	else if (c == '{' || c == '[')
		s->depth++;
	else if (c == '}' || c == ']')
		s->depth--;
	return s->depth == 0;
}

int
etcd_splitter_feed(struct etcd_splitter *s, const char *data, size_t len,
    int (*cb)(const char *, size_t, void *), void *arg, char *err,
    size_t errlen)
{
	size_t	i, objlen;
	int	rc;

	if (s->failed)
		return split_fail(s, err, errlen, "failed before");
	for (i = 0; i < len; i++) {
		char c = data[i];

		if (s->len == 0) {
			if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
				continue;
			if (c != '{')
				return split_fail(s, err, errlen,
				    "junk between objects");
		}
		if (s->len >= s->max)
			return split_fail(s, err, errlen,
			    "object longer than the limit");
		if (split_hold(s, c) == -1)
			return split_fail(s, err, errlen, "out of memory");
		if (!split_scan(s, c))
			continue;
		objlen = s->len;
		s->len = 0;
		s->in_string = s->escape = 0;
		s->depth = 0;
		if ((rc = cb(s->buf, objlen, arg)) != 0)
			return rc;
	}
	return 0;
}
