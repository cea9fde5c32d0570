/*
 * imsg-style framing between yaimd processes (our own code, modelled on
 * OpenBSD's imsg(3)).
 *
 * Every message is a header {type, len, peerid, pid} of four host-order
 * u32 followed by len - sizeof(header) bytes of payload.  The top bit of
 * type marks a message that carries one file descriptor (SCM_RIGHTS);
 * only channels that opt in with allow_fds accept it.
 */
#ifndef YAIM_IMSG_H
#define YAIM_IMSG_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#define IMSG_HEADER_SIZE	sizeof(struct imsg_hdr)
#define IMSG_MAX_SIZE		(1024 * 1024)	/* header included */
#define IMSG_FLAG_FD		0x80000000U
#define IMSG_TYPE_MASK		0x7fffffffU

struct imsg_hdr {
	uint32_t	type;
	uint32_t	len;
	uint32_t	peerid;
	uint32_t	pid;
};

struct imsg {
	struct imsg_hdr	 hdr;		/* type has IMSG_FLAG_FD removed */
	int		 fd;		/* -1 unless the message carried one */
	const void	*data;
	size_t		 datalen;
};

/* Pure decoder used by the reader and the fuzzer: no I/O. */
enum imsg_parse_result {
	IMSG_PARSE_NEED_MORE = 0,
	IMSG_PARSE_OK = 1,
	IMSG_PARSE_ERROR = -1
};
enum imsg_parse_result imsg_parse(const uint8_t *buf, size_t buflen,
		    struct imsg *out, size_t *consumed, char *err,
		    size_t errlen);
/* Encode a header + payload into out (len >= IMSG_HEADER_SIZE+datalen). */
size_t		 imsg_encode(uint8_t *out, size_t outlen, uint32_t type,
		    uint32_t peerid, uint32_t pid, const void *data,
		    size_t datalen);

struct imsgev;
typedef void	(*imsg_dispatch_fn)(struct imsgev *, struct imsg *, void *);
typedef void	(*imsg_eof_fn)(struct imsgev *, void *);

struct imsg_wbuf {
	struct imsg_wbuf	*next;
	uint8_t			*buf;
	size_t			 len;
	size_t			 off;
	int			 fd;	/* sent with the first byte, then closed */
};

struct imsg_fdq {
	struct imsg_fdq		*next;
	int			 fd;
};

struct imsgev {
	int			 fd;
	int			 allow_fds;
	const char		*peer;		/* for log messages */
	struct event		*ev;
	struct event_base	*base;
	short			 events;
	uint8_t			*rbuf;
	size_t			 rlen;
	size_t			 rhigh;		/* most of rbuf touched */
	uint32_t		 pid;		/* getpid() at init */
	struct imsg_wbuf	*wq_head;
	struct imsg_wbuf	*wq_tail;
	size_t			 wq_bytes;
	struct imsg_fdq		*fdq_head;	/* received, not yet claimed */
	imsg_dispatch_fn	 dispatch;
	imsg_eof_fn		 eof;
	void			*arg;
};

/*
 * Give the heap's free pages back to the kernel (after the config, the
 * largest thing a process allocates, has been copied and freed).
 */
void	 heap_trim(void);

/* Set fd non-blocking and start reading.  Returns -1 on error. */
int	 imsgev_init(struct imsgev *, struct event_base *, int fd,
	    int allow_fds, const char *peer, imsg_dispatch_fn, imsg_eof_fn,
	    void *arg);
/* Queue a message; fd may be -1.  Returns -1 (errno set) on error. */
int	 imsgev_compose(struct imsgev *, uint32_t type, uint32_t peerid,
	    int fd, const void *data, size_t datalen);
/* Write as much as possible now, blocking up to timeout_ms for the rest. */
int	 imsgev_flush(struct imsgev *, int timeout_ms);
void	 imsgev_clear(struct imsgev *);

/*
 * Copy exactly len payload bytes into dst.  A payload of any other size is
 * a protocol violation: it logs the type, the peer and both sizes and
 * returns -1.
 */
int	 imsg_get_exact(const struct imsgev *, const struct imsg *,
	    void *dst, size_t len);

#endif
