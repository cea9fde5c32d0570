/*
 * Unit tests of the imsg framing: round trip, fd passing, partial reads
 * and writes, every kind of malformed header, exact-size accessor.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "imsg.h"
#include "log.h"
#include "proto.h"

#include "regress/unit/check.h"

struct rx {
	int		 count;
	uint32_t	 types[64];
	size_t		 lens[64];
	uint8_t		 first[64];
	uint64_t	 sum[64];	/* of every byte */
	int		 fds[64];
	int		 eof;
	int		 want;
	struct event_base *base;
};

static void
rx_dispatch(struct imsgev *iev, struct imsg *imsg, void *arg)
{
	struct rx	*rx = arg;

	(void)iev;
	if (rx->count < 64) {
		rx->types[rx->count] = imsg->hdr.type;
		rx->lens[rx->count] = imsg->datalen;
		rx->first[rx->count] = imsg->datalen ?
		    ((const uint8_t *)imsg->data)[imsg->datalen - 1] : 0;
		rx->fds[rx->count] = imsg->fd;
		for (size_t k = 0; k < imsg->datalen; k++)
			rx->sum[rx->count] +=
			    ((const uint8_t *)imsg->data)[k] * (k % 251 + 1);
	}
	rx->count++;
	if (rx->count >= rx->want)
		event_base_loopbreak(rx->base);
}

static void
rx_eof(struct imsgev *iev, void *arg)
{
	struct rx	*rx = arg;

	rx->eof = 1;
	imsgev_clear(iev);
	event_base_loopbreak(rx->base);
}

static void
test_parse_malformed(void)
{
	uint8_t			 buf[64];
	struct imsg_hdr		 h;
	struct imsg		 m;
	size_t			 used;
	char			 err[128];
	size_t			 i;

	/* truncated header: need more, for every prefix length */
	memset(&h, 0, sizeof(h));
	h.type = IMSG_HEALTH;
	h.len = sizeof(h) + 4;
	memcpy(buf, &h, sizeof(h));
	memset(buf + sizeof(h), 0xab, 4);
	for (i = 0; i < sizeof(h) + 4; i++)
		CHECK(imsg_parse(buf, i, &m, &used, err, sizeof(err)) ==
		    IMSG_PARSE_NEED_MORE);
	CHECK(imsg_parse(buf, sizeof(h) + 4, &m, &used, err, sizeof(err)) ==
	    IMSG_PARSE_OK);
	CHECK(used == sizeof(h) + 4 && m.datalen == 4 && m.fd == -1);

	/* length shorter than the header */
	for (i = 0; i < sizeof(h); i++) {
		h.len = (uint32_t)i;
		memcpy(buf, &h, sizeof(h));
		CHECK(imsg_parse(buf, sizeof(h), &m, &used, err,
		    sizeof(err)) == IMSG_PARSE_ERROR);
		CHECK(strstr(err, "shorter than header") != NULL);
	}
	/* oversized */
	h.len = IMSG_MAX_SIZE + 1;
	memcpy(buf, &h, sizeof(h));
	CHECK(imsg_parse(buf, sizeof(h), &m, &used, err, sizeof(err)) ==
	    IMSG_PARSE_ERROR);
	CHECK(strstr(err, "exceeds maximum") != NULL);
	h.len = 0xffffffffU;
	memcpy(buf, &h, sizeof(h));
	CHECK(imsg_parse(buf, sizeof(h), &m, &used, err, sizeof(err)) ==
	    IMSG_PARSE_ERROR);
	/* type zero, also with only the fd flag */
	h.len = sizeof(h);
	h.type = 0;
	memcpy(buf, &h, sizeof(h));
	CHECK(imsg_parse(buf, sizeof(h), &m, &used, err, sizeof(err)) ==
	    IMSG_PARSE_ERROR);
	h.type = IMSG_FLAG_FD;
	memcpy(buf, &h, sizeof(h));
	CHECK(imsg_parse(buf, sizeof(h), &m, &used, err, sizeof(err)) ==
	    IMSG_PARSE_ERROR);
	/* exact maximum is fine */
	h.type = IMSG_HEALTH;
	h.len = IMSG_MAX_SIZE;
	memcpy(buf, &h, sizeof(h));
	CHECK(imsg_parse(buf, sizeof(h), &m, &used, err, sizeof(err)) ==
	    IMSG_PARSE_NEED_MORE);
	/* encode refuses oversize and short buffers */
	CHECK(imsg_encode(buf, sizeof(buf), 1, 0, 0, buf,
	    IMSG_MAX_SIZE) == 0);
	CHECK(imsg_encode(buf, 8, 1, 0, 0, NULL, 0) == 0);
}

static void
setup_pair(struct event_base *base, struct imsgev *a, struct imsgev *b,
    struct rx *rxa, struct rx *rxb, int allow_fds)
{
	int	 sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1)
		fatal("socketpair");
	memset(rxa, 0, sizeof(*rxa));
	memset(rxb, 0, sizeof(*rxb));
	rxa->base = rxb->base = base;
	if (imsgev_init(a, base, sp[0], allow_fds, "a", rx_dispatch, rx_eof,
	    rxa) == -1 || imsgev_init(b, base, sp[1], allow_fds, "b",
	    rx_dispatch, rx_eof, rxb) == -1)
		fatal("imsgev_init");
}

static void
run_until(struct event_base *base)
{
	struct timeval	 tv = { 5, 0 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void
test_round_trip_and_partial_writes(void)
{
	struct event_base	*base = event_base_new();
	struct imsgev		 a, b;
	struct rx		 rxa, rxb;
	uint8_t			*big;
	size_t			 bigsz = IMSG_MAX_SIZE - IMSG_HEADER_SIZE;
	int			 i, sz = 4096;

	setup_pair(base, &a, &b, &rxa, &rxb, 0);
	/* Small buffers force short writes and partial reads. */
	setsockopt(a.fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(b.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	big = malloc(bigsz);
	memset(big, 0x5a, bigsz);
	big[bigsz - 1] = 0x77;
	CHECK(imsgev_compose(&a, IMSG_CFG_DONE, 0, -1, NULL, 0) == 0);
	CHECK(imsgev_compose(&a, IMSG_CFG_MAIN, 7, -1, big, bigsz) == 0);
	for (i = 0; i < 10; i++) {
		uint8_t	 v = (uint8_t)i;

		CHECK(imsgev_compose(&a, IMSG_HEALTH, 0, -1, &v, 1) == 0);
	}
	CHECK(imsgev_compose(&a, IMSG_HEALTH, 0, -1, big,
	    bigsz + 1) == -1 && errno == EMSGSIZE);
	rxb.want = 12;
	run_until(base);
	CHECK(rxb.count == 12);
	CHECK(rxb.types[0] == IMSG_CFG_DONE && rxb.lens[0] == 0);
	CHECK(rxb.types[1] == IMSG_CFG_MAIN && rxb.lens[1] == bigsz &&
	    rxb.first[1] == 0x77);
	for (i = 0; i < 10; i++)
		CHECK(rxb.types[2 + i] == IMSG_HEALTH &&
		    rxb.first[2 + i] == (uint8_t)i);
	/* EOF is reported */
	imsgev_clear(&a);
	rxb.want = 1000;
	run_until(base);
	CHECK(rxb.eof == 1);
	free(big);
	event_base_free(base);
}

static uint64_t
sum_of(const uint8_t *d, size_t n)
{
	uint64_t	 s = 0;
	size_t		 k;

	for (k = 0; k < n; k++)
		s += d[k] * (k % 251 + 1);
	return s;
}

/*
 * The receive buffer gives back the pages a large message touched once
 * it is empty (rbuf_release): the next large messages, and the small
 * ones after them, still arrive whole.
 */
static void
test_rbuf_release(void)
{
	struct event_base	*base = event_base_new();
	struct imsgev		 a, b;
	struct rx		 rxa, rxb;
	uint8_t			*big[2];
	size_t			 sz[2] = { 200000, 700001 };
	int			 i, k;

	setup_pair(base, &a, &b, &rxa, &rxb, 0);
	for (i = 0; i < 2; i++) {
		big[i] = malloc(sz[i]);
		for (size_t j = 0; j < sz[i]; j++)
			big[i][j] = (uint8_t)(j * 7 + (size_t)i);
	}
	for (k = 0; k < 3; k++) {
		for (i = 0; i < 2; i++)
			CHECK(imsgev_compose(&a, IMSG_CFG_MAIN, 0, -1, big[i],
			    sz[i]) == 0);
		CHECK(imsgev_compose(&a, IMSG_HEALTH, 0, -1, "x", 1) == 0);
		memset(&rxb.sum, 0, sizeof(rxb.sum));
		rxb.count = 0;
		rxb.want = 3;
		run_until(base);
		CHECK(rxb.count == 3);
		for (i = 0; i < 2; i++)
			CHECK(rxb.lens[i] == sz[i] &&
			    rxb.sum[i] == sum_of(big[i], sz[i]));
		CHECK(rxb.types[2] == IMSG_HEALTH && rxb.first[2] == 'x');
		/* empty again, and what was touched is given back */
		CHECK(b.rlen == 0 && b.rhigh == 0);
	}
	imsgev_clear(&a);
	imsgev_clear(&b);
	for (i = 0; i < 2; i++)
		free(big[i]);
	event_base_free(base);
}

static void
test_fd_passing(void)
{
	struct event_base	*base = event_base_new();
	struct imsgev		 a, b;
	struct rx		 rxa, rxb;
	int			 pfd[2];
	char			 c = 0;

	setup_pair(base, &a, &b, &rxa, &rxb, 1);
	if (pipe(pfd) == -1)
		fatal("pipe");
	CHECK(imsgev_compose(&a, IMSG_CFG_MAIN, 0, pfd[1], "x", 1) == 0);
	CHECK(imsgev_compose(&a, IMSG_CFG_DONE, 0, -1, NULL, 0) == 0);
	rxb.want = 2;
	run_until(base);
	CHECK(rxb.count == 2);
	CHECK(rxb.fds[0] >= 0 && rxb.fds[1] == -1);
	if (rxb.fds[0] >= 0) {
		CHECK(write(rxb.fds[0], "q", 1) == 1);
		CHECK(read(pfd[0], &c, 1) == 1 && c == 'q');
		close(rxb.fds[0]);
	}
	close(pfd[0]);
	imsgev_clear(&a);
	imsgev_clear(&b);
	event_base_free(base);
}

/* An fd on a channel that did not opt in must be fatal, in a child. */
static void
test_fd_refused(void)
{
	struct event_base	*base;
	struct imsgev		 a, b;
	struct rx		 rxa, rxb;
	int			 status, pfd[2];
	pid_t			 pid;

	if ((pid = fork()) == 0) {
		int	 null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		base = event_base_new();
		setup_pair(base, &a, &b, &rxa, &rxb, 0);
		if (pipe(pfd) == -1)
			_exit(3);
		imsgev_compose(&a, IMSG_CFG_MAIN, 0, pfd[1], "x", 1);
		rxb.want = 1;
		run_until(base);
		_exit(0);	/* not reached if the framing is right */
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
}

static void
test_get_exact(void)
{
	struct imsg	 m;
	uint32_t	 v = 0xdeadbeef, out = 0;

	memset(&m, 0, sizeof(m));
	m.hdr.type = IMSG_HEALTH;
	m.data = &v;
	m.datalen = sizeof(v);
	CHECK(imsg_get_exact(NULL, &m, &out, sizeof(out)) == 0 &&
	    out == 0xdeadbeef);
	CHECK(imsg_get_exact(NULL, &m, &out, sizeof(out) + 1) == -1);
	CHECK(imsg_get_exact(NULL, &m, &out, sizeof(out) - 1) == -1);
	m.datalen = 0;
	CHECK(imsg_get_exact(NULL, &m, NULL, 0) == 0);
}

int
main(void)
{
	log_init(1, 0);
	test_parse_malformed();
	test_round_trip_and_partial_writes();
	test_rbuf_release();
	test_fd_passing();
	test_fd_refused();
	test_get_exact();
	if (check_failures) {
		fprintf(stderr, "test_imsg: %d failures\n", check_failures);
		return 1;
	}
	printf("test_imsg: ok\n");
	return 0;
}
