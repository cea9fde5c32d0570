/*
 * Internal interface between the check engine (checks.c) and the check
 * kinds (http.c, tcp.c, pg.c).  Not for use outside checker/.
 */
#ifndef YAIM_CHECKS_INT_H
#define YAIM_CHECKS_INT_H

#include <stdint.h>
#include <time.h>

#include <event2/event.h>

#include "config.h"
#include "proto.h"

struct check_run {
	uint32_t		 idx;
	struct check_conf	 conf;		/* private copy */
	struct event_base	*base;
	struct event		*tick;		/* next run */
	struct event		*deadline;	/* end of this run */
	int			 running;
	uint32_t		 seq;
	struct timespec		 started;	/* CLOCK_MONOTONIC */
	uint32_t		 retry_num;	/* postgres: attempts */
	uint32_t		 retry_after_ms;
	uint8_t			*ca;		/* http: CA bundle, or NULL */
	size_t			 ca_len;
	void			*kstate;	/* the kind's per-run state */
};

/*
 * A kind starts a run and later calls check_done exactly once, unless the
 * engine cancels it first (timeout or stop).  cancel frees all per-run
 * state and must not call check_done.
 */
struct check_kind_ops {
	const char	*name;		/* "http", also the text prefix */
	int		(*start)(struct check_run *);
	void		(*cancel)(struct check_run *);
};

/* Called by a kind when a run ends.  fmt is the human text after "kind: ". */
void	check_done(struct check_run *, uint32_t reason, int32_t detail,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

extern const struct check_kind_ops	check_kind_http;
extern const struct check_kind_ops	check_kind_tcp;
extern const struct check_kind_ops	check_kind_pg;

/* http.c: the shared curl multi handle on the engine's event base. */
int	http_engine_init(struct event_base *);
void	http_engine_free(void);

/* Milliseconds since the run started. */
uint32_t check_elapsed_ms(const struct check_run *);

#endif
