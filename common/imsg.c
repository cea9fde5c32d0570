/*
 * imsg-style framing over non-blocking socketpairs, driven by libevent.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "log.h"
#include "proto.h"

#define IMSG_READ_CHUNK	65536
/* once more than this of rbuf was touched, the empty part is given back */
#define IMSG_RBUF_KEEP	65536
#define IMSG_MAX_QUEUED	(64 * IMSG_MAX_SIZE)	/* a stuck peer is fatal */

static void	imsgev_handler(int, short, void *);

static void
imsgev_update(struct imsgev *iev)
{
	short	 want = EV_READ | EV_PERSIST;

	if (iev->wq_head != NULL)
		want |= EV_WRITE;
	if (iev->ev != NULL && want == iev->events)
		return;
	if (iev->ev != NULL)
		event_free(iev->ev);
	iev->events = want;
	iev->ev = event_new(iev->base, iev->fd, want, imsgev_handler, iev);
	if (iev->ev == NULL || event_add(iev->ev, NULL) == -1)
		fatalx("%s: cannot register event for %s", __func__,
		    iev->peer);
}

int
imsgev_init(struct imsgev *iev, struct event_base *base, int fd,
    int allow_fds, const char *peer, imsg_dispatch_fn dispatch,
    imsg_eof_fn eof, void *arg)
{
	int	 flags;

	memset(iev, 0, sizeof(*iev));
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return -1;
	if ((iev->rbuf = malloc(IMSG_MAX_SIZE + IMSG_READ_CHUNK)) == NULL)
		return -1;
	iev->fd = fd;
	/* for the header only (nobody reads it): no getpid() per message */
	iev->pid = (uint32_t)getpid();
	iev->allow_fds = allow_fds;
	iev->peer = peer;
	iev->base = base;
	iev->dispatch = dispatch;
	iev->eof = eof;
	iev->arg = arg;
	imsgev_update(iev);
	return 0;
}

static void
fdq_push(struct imsgev *iev, int fd)
{
	struct imsg_fdq	*q, **tail;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		fatal("%s", __func__);
	q->fd = fd;
	for (tail = &iev->fdq_head; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = q;
}

static int
fdq_pop(struct imsgev *iev)
{
	struct imsg_fdq	*q = iev->fdq_head;
	int		 fd;

	if (q == NULL)
		return -1;
	iev->fdq_head = q->next;
	fd = q->fd;
	free(q);
	return fd;
}

/* Read once.  Returns bytes read, 0 on EOF, -1 on EAGAIN. */
static ssize_t
imsgev_read(struct imsgev *iev)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;
	ssize_t		 n;
	int		 fd;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = iev->rbuf + iev->rlen;
	iov.iov_len = IMSG_MAX_SIZE + IMSG_READ_CHUNK - iev->rlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = &cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	do {
		n = recvmsg(iev->fd, &msg, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -1;
		fatal("%s: read from %s", __func__, iev->peer);
	}
	if (msg.msg_flags & MSG_CTRUNC)
		fatalx("%s: control data from %s truncated (more than one fd "
		    "per message?)", __func__, iev->peer);
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len != CMSG_LEN(sizeof(int)))
			fatalx("%s: unexpected control message from %s",
			    __func__, iev->peer);
		memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
		if (!iev->allow_fds)
			fatalx("%s: %s sent a file descriptor on a channel "
			    "that does not accept them", __func__, iev->peer);
		fdq_push(iev, fd);
	}
	iev->rlen += (size_t)n;
	if (iev->rlen > iev->rhigh)
		iev->rhigh = iev->rlen;
	return n;
}

void
heap_trim(void)
{
#ifdef __GLIBC__
	/* madvise and brk: allowed in every sandbox (common/sandbox.c) */
	(void)malloc_trim(0);
#endif
}

/*
 * Give back the pages of rbuf that a large message (the config, about
 * 110 kB) touched and that now hold nothing: otherwise they stay resident
 * for the life of the process (bench/results, footprint).  The buffer is
 * ours, so zero-filled pages on the next touch are fine.
 */
static void
rbuf_release(struct imsgev *iev)
{
	uintptr_t	 pg = (uintptr_t)sysconf(_SC_PAGESIZE), from, to;

	if (iev->rhigh <= IMSG_RBUF_KEEP)
		return;
	from = ((uintptr_t)iev->rbuf + iev->rlen + pg - 1) & ~(pg - 1);
	to = ((uintptr_t)iev->rbuf + iev->rhigh) & ~(pg - 1);
	if (to > from)
		(void)madvise((void *)from, to - from, MADV_DONTNEED);
	iev->rhigh = iev->rlen;
}

static void
imsgev_dispatch_buffer(struct imsgev *iev)
{
	struct imsg			 imsg;
	enum imsg_parse_result		 r;
	size_t				 consumed, off = 0;
	uint32_t			 rawtype;
	char				 err[128];

	for (;;) {
		r = imsg_parse(iev->rbuf + off, iev->rlen - off, &imsg,
		    &consumed, err, sizeof(err));
		if (r == IMSG_PARSE_ERROR)
			fatalx("%s: malformed message from %s: %s", __func__,
			    iev->peer, err);
		if (r == IMSG_PARSE_NEED_MORE)
			break;
		memcpy(&rawtype, iev->rbuf + off, sizeof(rawtype));
		if (rawtype & IMSG_FLAG_FD) {
			if ((imsg.fd = fdq_pop(iev)) == -1)
				fatalx("%s: %s: message %s announces a file "
				    "descriptor that did not arrive", __func__,
				    iev->peer, imsg_type_name(imsg.hdr.type));
		}
		off += consumed;
		iev->dispatch(iev, &imsg, iev->arg);
		if (iev->rbuf == NULL)		/* cleared by the handler */
			return;
	}
	if (off > 0) {
		memmove(iev->rbuf, iev->rbuf + off, iev->rlen - off);
		iev->rlen -= off;
		rbuf_release(iev);
	}
}

static int
imsgev_write(struct imsgev *iev)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct imsg_wbuf	*wb;
	struct msghdr		 msg;
	struct iovec		 iov;
	ssize_t			 n;

	while ((wb = iev->wq_head) != NULL) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = wb->buf + wb->off;
		iov.iov_len = wb->len - wb->off;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (wb->fd != -1 && wb->off == 0) {
			struct cmsghdr	*cmsg;

			memset(&cmsgbuf, 0, sizeof(cmsgbuf));
			msg.msg_control = &cmsgbuf.buf;
			msg.msg_controllen = sizeof(cmsgbuf.buf);
			cmsg = CMSG_FIRSTHDR(&msg);
			cmsg->cmsg_len = CMSG_LEN(sizeof(int));
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(cmsg), &wb->fd, sizeof(int));
		}
		n = sendmsg(iev->fd, &msg, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		if (wb->fd != -1) {
			close(wb->fd);
			wb->fd = -1;
		}
		wb->off += (size_t)n;
		iev->wq_bytes -= (size_t)n;
		if (wb->off < wb->len)
			continue;
		iev->wq_head = wb->next;
		if (iev->wq_head == NULL)
			iev->wq_tail = NULL;
		/* a config message carries secrets: none left in the heap */
		explicit_bzero(wb->buf, wb->len);
		free(wb->buf);
		if (wb->len > IMSG_RBUF_KEEP)
			heap_trim();
		free(wb);
	}
	return 0;
}

static void
imsgev_handler(int fd, short events, void *arg)
{
	struct imsgev	*iev = arg;
	ssize_t		 n;

	(void)fd;
	if (events & EV_WRITE) {
		if (imsgev_write(iev) == -1) {
			if (errno == EPIPE || errno == ECONNRESET) {
				iev->eof(iev, iev->arg);
				return;
			}
			fatal("%s: write to %s", __func__, iev->peer);
		}
	}
	if (events & EV_READ) {
		n = imsgev_read(iev);
		if (n == 0) {
			iev->eof(iev, iev->arg);
			return;
		}
		if (n > 0) {
			imsgev_dispatch_buffer(iev);
			if (iev->rbuf == NULL)
				return;
		}
	}
	imsgev_update(iev);
}

int
imsgev_compose(struct imsgev *iev, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t datalen)
{
	struct imsg_wbuf	*wb;
	size_t			 len = IMSG_HEADER_SIZE + datalen;

	if (datalen > IMSG_MAX_SIZE - IMSG_HEADER_SIZE) {
		errno = EMSGSIZE;
		return -1;
	}
	if (iev->wq_bytes + len > IMSG_MAX_QUEUED) {
		errno = ENOBUFS;
		return -1;
	}
	if ((wb = calloc(1, sizeof(*wb))) == NULL)
		return -1;
	if ((wb->buf = malloc(len)) == NULL) {
		free(wb);
		return -1;
	}
	if (fd != -1)
		type |= IMSG_FLAG_FD;
	wb->len = imsg_encode(wb->buf, len, type, peerid, iev->pid,
	    data, datalen);
	wb->fd = fd;
	if (iev->wq_tail != NULL)
		iev->wq_tail->next = wb;
	else
		iev->wq_head = wb;
	iev->wq_tail = wb;
	iev->wq_bytes += len;
	if (iev->ev != NULL)
		imsgev_update(iev);
	return 0;
}

int
imsgev_flush(struct imsgev *iev, int timeout_ms)
{
	struct pollfd	 pfd;

	while (iev->wq_head != NULL) {
		if (imsgev_write(iev) == -1)
			return -1;
		if (iev->wq_head == NULL)
			break;
		pfd.fd = iev->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return -1;
	}
	return 0;
}

void
imsgev_clear(struct imsgev *iev)
{
	struct imsg_wbuf	*wb;
	int			 fd;

	if (iev->ev != NULL)
		event_free(iev->ev);
	iev->ev = NULL;
	while ((wb = iev->wq_head) != NULL) {
		iev->wq_head = wb->next;
		if (wb->fd != -1)
			close(wb->fd);
		/* a config message carries secrets: none left in the heap */
		explicit_bzero(wb->buf, wb->len);
		free(wb->buf);
		free(wb);
	}
	iev->wq_tail = NULL;
	iev->wq_bytes = 0;
	while ((fd = fdq_pop(iev)) != -1)
		close(fd);
	free(iev->rbuf);
	iev->rbuf = NULL;
	iev->rlen = 0;
	if (iev->fd != -1)
		close(iev->fd);
	iev->fd = -1;
}

int
imsg_get_exact(const struct imsgev *iev, const struct imsg *imsg, void *dst,
    size_t len)
{
	if (imsg->datalen != len) {
		log_warnx("%s: %s sent %s with %zu bytes of payload, expected "
		    "%zu", __func__, iev != NULL ? iev->peer : "peer",
		    imsg_type_name(imsg->hdr.type), imsg->datalen, len);
		return -1;
	}
	if (len)
		memcpy(dst, imsg->data, len);
	return 0;
}
