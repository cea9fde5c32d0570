/*
 * postgres checks: libpq driven by libevent (PQconnectStartParams /
 * PQconnectPoll, then PQsendQuery), always over TCP to the address the
 * parent resolved, since the chroot has no socket directory.  The first
 * field of the first row is compared with the expected text.
 *
 * A failed connection attempt is retried retry_num times, retry_after
 * apart, as etcd requests are; each attempt has the check's timeout.  A
 * query that ran and gave the wrong answer is not retried.  Within an
 * attempt, the addresses of a host name are tried in the parent's
 * (getaddrinfo's) order, each but the last for its share of the time
 * left, as tcp checks do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "clock.h"
#include "log.h"
#include "checker/checks_int.h"

/*
 * A result is read one row at a time (PQsetSingleRowMode), so libpq holds
 * one row, not the whole answer: only the first row's first value counts,
 * and a server that keeps sending rows is cut off after PG_MAX_ROWS.  One
 * huge row is bounded by the checker's RLIMIT_DATA (libpq then fails the
 * query as out of memory).  DESIGN.md section 11.
 */
#define PG_MAX_ROWS	1000

enum pg_phase {
	PG_CONNECTING,
	PG_FLUSHING,
	PG_READING
};

struct pg_run {
	PGconn		*conn;
	struct event	*ev;		/* on PQsocket(conn) */
	struct event	*timer;		/* attempt timeout, or retry wait */
	enum pg_phase	 phase;
	uint32_t	 attempt;
	struct timespec	 attempt_start;	/* CLOCK_MONOTONIC */
	uint32_t	 cur;		/* index into addr[] */
	uint32_t	 n_addr;	/* copied: a new resolution may come */
	struct yaim_addr addr[CFG_MAX_RESOLVED];
	int		 waiting_retry;
	int		 have_result;
	uint32_t	 rows;		/* single-row results seen */
	uint32_t	 reason;	/* of the query, once known */
	char		 got[64];
	char		 err[96];
};

static void	pg_attempt(struct check_run *);
static void	pg_connect_addr(struct check_run *);
static void	pg_socket_event(evutil_socket_t, short, void *);

static void
pg_close(struct pg_run *p)
{
	if (p->ev != NULL)
		event_free(p->ev);
	p->ev = NULL;
	if (p->conn != NULL)
		PQfinish(p->conn);
	p->conn = NULL;
}

static void
pg_cancel(struct check_run *r)
{
	struct pg_run	*p = r->kstate;

	if (p == NULL)
		return;
	pg_close(p);
	if (p->timer != NULL)
		event_free(p->timer);
	free(p);
	r->kstate = NULL;
}

/* First line of libpq's message, without the "connection to ..." noise. */
static void
pg_errtext(PGconn *conn, char *buf, size_t len)
{
	const char	*m = conn ? PQerrorMessage(conn) : "out of memory";
	const char	*s;
	size_t		 n;

	if ((s = strstr(m, "failed: ")) != NULL)
		m = s + strlen("failed: ");
	n = strcspn(m, "\n");
	snprintf(buf, len, "%.*s", (int)n, m);
}

static int
pg_wait(struct check_run *r, short what)
{
	struct pg_run	*p = r->kstate;
	int		 fd = PQsocket(p->conn);

	/* libpq may change sockets between polls: follow it */
	if (p->ev != NULL)
		event_free(p->ev);
	p->ev = NULL;
	if (fd < 0)
		return -1;
	p->ev = event_new(r->base, fd, what, pg_socket_event, r);
	if (p->ev == NULL || event_add(p->ev, NULL) == -1)
		return -1;
	return 0;
}

static void
pg_timer_add(struct pg_run *p, uint32_t ms)
{
	struct timeval	 tv = ms_to_tv(ms);

	evtimer_add(p->timer, &tv);
}

/* A connection attempt failed: try again or give up. */
static void
pg_attempt_failed(struct check_run *r, uint32_t reason, const char *why)
{
	struct pg_run	*p = r->kstate;
	uint32_t	 attempts = r->retry_num + 1;

	pg_close(p);
	if (p->attempt < attempts) {
		log_debug("check %s: attempt %u of %u: %s", r->conf.name,
		    p->attempt, attempts, why);
		p->waiting_retry = 1;
		pg_timer_add(p, r->retry_after_ms);
		return;
	}
	pg_cancel(r);
	if (reason == HR_TIMEOUT)
		check_done(r, HR_TIMEOUT, 0, "connect timeout after %u ms",
		    r->conf.timeout_ms);
	else if (reason == HR_REFUSED)
		check_done(r, HR_REFUSED, 0, "connect refused");
	else
		check_done(r, reason, 0, "%s", why);
}

/* This address failed: the next one of the attempt, or the attempt fails. */
static void
pg_addr_failed(struct check_run *r, uint32_t reason, const char *why)
{
	struct pg_run	*p = r->kstate;
	char		 a[YAIM_ADDRSTRLEN];

	if (p->cur + 1 >= p->n_addr) {
		pg_attempt_failed(r, reason, why);
		return;
	}
	log_debug("check %s: %s port %u: %s; trying the next address",
	    r->conf.name, yaim_addr_ntop(&p->addr[p->cur], a, sizeof(a)),
	    (unsigned int)(r->conf.pg_port ? r->conf.pg_port : 5432), why);
	pg_close(p);
	evtimer_del(p->timer);
	p->cur++;
	pg_connect_addr(r);
}

static void
pg_finish_query(struct check_run *r)
{
	struct pg_run	*p = r->kstate;
	char		 got[sizeof(p->got)], err[sizeof(p->err)];
	uint32_t	 reason = p->reason;

	snprintf(got, sizeof(got), "%s", p->got);
	snprintf(err, sizeof(err), "%s", p->err);
	pg_cancel(r);
	if (reason == HR_OK)
		check_done(r, HR_OK, 0, "query result %s", got);
	else if (reason == HR_QUERY_MISMATCH)
		check_done(r, HR_QUERY_MISMATCH, 0, "query result mismatch "
		    "(got %s, expected %.40s)", got, r->conf.pg_expected);
	else if (reason == HR_TIMEOUT)
		check_done(r, HR_TIMEOUT, 0, "query timeout after %u ms",
		    r->conf.timeout_ms);
	else
		check_done(r, HR_QUERY_ERROR, 0, "query error: %s", err);
}

static void
pg_take_result(struct check_run *r, PGresult *res)
{
	struct pg_run	*p = r->kstate;
	const char	*m;

	if (PQresultStatus(res) == PGRES_SINGLE_TUPLE && ++p->rows >
	    PG_MAX_ROWS) {
		p->reason = HR_QUERY_ERROR;
		snprintf(p->err, sizeof(p->err), "more than %d rows",
		    PG_MAX_ROWS);
	}
	if (p->have_result)
		return;
	p->have_result = 1;
	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_SINGLE_TUPLE) {
		p->reason = HR_QUERY_ERROR;
		m = PQresultErrorMessage(res);
		snprintf(p->err, sizeof(p->err), "%.*s",
		    (int)strcspn(m, "\n"), m);
		return;
	}
	if (PQntuples(res) < 1 || PQnfields(res) < 1) {
		p->reason = HR_QUERY_ERROR;
		snprintf(p->err, sizeof(p->err), "no rows");
		return;
	}
	snprintf(p->got, sizeof(p->got), "%s", PQgetisnull(res, 0, 0) ?
	    "NULL" : PQgetvalue(res, 0, 0));
	p->reason = strcmp(PQgetisnull(res, 0, 0) ? "" :
	    PQgetvalue(res, 0, 0), r->conf.pg_expected) == 0 ? HR_OK :
	    HR_QUERY_MISMATCH;
}

static void
pg_read(struct check_run *r)
{
	struct pg_run	*p = r->kstate;
	PGresult	*res;

	if (!PQconsumeInput(p->conn)) {
		if (!p->have_result) {
			p->have_result = 1;
			p->reason = HR_QUERY_ERROR;
			pg_errtext(p->conn, p->err, sizeof(p->err));
		}
		pg_finish_query(r);
		return;
	}
	while (!PQisBusy(p->conn)) {
		if ((res = PQgetResult(p->conn)) == NULL) {
			pg_finish_query(r);
			return;
		}
		pg_take_result(r, res);
		PQclear(res);
		if (p->rows > PG_MAX_ROWS) {
			/* no need to read the rest: the connection goes */
			pg_finish_query(r);
			return;
		}
	}
	if (pg_wait(r, EV_READ) == -1)
		pg_finish_query(r);
}

static void
pg_flush(struct check_run *r)
{
	struct pg_run	*p = r->kstate;
	int		 rc = PQflush(p->conn);

	if (rc == 0) {
		p->phase = PG_READING;
		if (pg_wait(r, EV_READ) == -1)
			pg_finish_query(r);
		return;
	}
	if (rc == 1 && pg_wait(r, EV_READ | EV_WRITE) == 0)
		return;
	p->have_result = 1;
	p->reason = HR_QUERY_ERROR;
	pg_errtext(p->conn, p->err, sizeof(p->err));
	pg_finish_query(r);
}

static void
pg_connected(struct check_run *r)
{
	struct pg_run	*p = r->kstate;
	char		 a[YAIM_ADDRSTRLEN];

	log_debug("check %s: connected to %s port %u", r->conf.name,
	    yaim_addr_ntop(&p->addr[p->cur], a, sizeof(a)),
	    (unsigned int)(r->conf.pg_port ? r->conf.pg_port : 5432));
	/* the attempt timer now bounds the query */
	evtimer_del(p->timer);
	pg_timer_add(p, r->conf.timeout_ms);
	p->rows = 0;
	if (PQsetnonblocking(p->conn, 1) != 0 ||
	    !PQsendQuery(p->conn, r->conf.pg_query) ||
	    !PQsetSingleRowMode(p->conn)) {
		p->have_result = 1;
		p->reason = HR_QUERY_ERROR;
		pg_errtext(p->conn, p->err, sizeof(p->err));
		pg_finish_query(r);
		return;
	}
	p->phase = PG_FLUSHING;
	pg_flush(r);
}

static void
pg_poll(struct check_run *r)
{
	struct pg_run	*p = r->kstate;
	char		 why[96];

	switch (PQconnectPoll(p->conn)) {
	case PGRES_POLLING_READING:
		if (pg_wait(r, EV_READ) == 0)
			return;
		break;
	case PGRES_POLLING_WRITING:
		if (pg_wait(r, EV_WRITE) == 0)
			return;
		break;
	case PGRES_POLLING_OK:
		pg_connected(r);
		return;
	default:
		break;
	}
	pg_errtext(p->conn, why, sizeof(why));
	pg_addr_failed(r, strstr(why, "Connection refused") ?
	    HR_REFUSED : HR_CONNECT, why);
}

static void
pg_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct check_run	*r = arg;
	struct pg_run		*p = r->kstate;

	(void)fd;
	switch (p->phase) {
	case PG_CONNECTING:
		pg_poll(r);
		break;
	case PG_FLUSHING:
		if ((what & EV_READ) && !PQconsumeInput(p->conn)) {
			p->have_result = 1;
			p->reason = HR_QUERY_ERROR;
			pg_errtext(p->conn, p->err, sizeof(p->err));
			pg_finish_query(r);
			return;
		}
		pg_flush(r);
		break;
	case PG_READING:
		pg_read(r);
		break;
	}
}

static void
pg_timer_event(evutil_socket_t fd, short what, void *arg)
{
	struct check_run	*r = arg;
	struct pg_run		*p = r->kstate;

	(void)fd;
	(void)what;
	if (p->waiting_retry) {
		p->waiting_retry = 0;
		pg_attempt(r);
	} else if (p->phase == PG_CONNECTING)
		pg_addr_failed(r, HR_TIMEOUT, "connect timeout");
	else {
		p->have_result = 1;
		p->reason = HR_TIMEOUT;
		pg_finish_query(r);
	}
}

/* Milliseconds left of the attempt's timeout (at least 1). */
static uint32_t
pg_attempt_left(const struct check_run *r)
{
	const struct pg_run	*p = r->kstate;
	struct timespec		 now;
	int64_t			 ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)(now.tv_sec - p->attempt_start.tv_sec) * 1000 +
	    (now.tv_nsec - p->attempt_start.tv_nsec) / 1000000;
	if (ms < 0)
		ms = 0;
	return ms >= r->conf.timeout_ms ? 1 :
	    r->conf.timeout_ms - (uint32_t)ms;
}

static void
pg_connect_addr(struct check_run *r)
{
	const struct check_conf	*c = &r->conf;
	struct pg_run		*p = r->kstate;
	const char		*kw[12], *val[12];
	char			 port[8], why[96], addr[YAIM_ADDRSTRLEN];
	uint32_t		 left = pg_attempt_left(r);
	int			 n = 0;

	snprintf(port, sizeof(port), "%u",
	    (unsigned int)(c->pg_port ? c->pg_port : 5432));
	yaim_addr_ntop(&p->addr[p->cur], addr, sizeof(addr));
	kw[n] = "hostaddr"; val[n++] = addr;
	kw[n] = "port"; val[n++] = port;
	if (c->pg_host[0] && strcmp(c->pg_host, addr) != 0) {
		/* for TLS server name checks only; no lookup happens */
		kw[n] = "host"; val[n++] = c->pg_host;
	}
	if (c->pg_user[0]) {
		kw[n] = "user"; val[n++] = c->pg_user;
	}
	if (c->pg_password[0]) {
		kw[n] = "password"; val[n++] = c->pg_password;
	}
	if (c->pg_dbname[0]) {
		kw[n] = "dbname"; val[n++] = c->pg_dbname;
	}
	/* GSSAPI would read Kerberos files; nothing else here reads files */
	kw[n] = "gssencmode"; val[n++] = "disable";
	kw[n] = "application_name"; val[n++] = "yaimd";
	kw[n] = NULL; val[n] = NULL;

	p->phase = PG_CONNECTING;
	p->have_result = 0;
	/* every address but the last gets its share of the time left */
	pg_timer_add(p, p->cur + 1 < p->n_addr ?
	    left / (p->n_addr - p->cur) + 1 : left);
	p->conn = PQconnectStartParams(kw, val, 0);
	if (p->conn == NULL || PQstatus(p->conn) == CONNECTION_BAD) {
		pg_errtext(p->conn, why, sizeof(why));
		pg_addr_failed(r, HR_CONNECT, why);
		return;
	}
	/* as if PQconnectPoll had said "writing" */
	if (pg_wait(r, EV_WRITE) == -1)
		pg_addr_failed(r, HR_CONNECT, "no socket");
}

static void
pg_attempt(struct check_run *r)
{
	struct pg_run	*p = r->kstate;

	p->attempt++;
	p->cur = 0;
	clock_gettime(CLOCK_MONOTONIC, &p->attempt_start);
	pg_connect_addr(r);
}

static int
pg_start(struct check_run *r)
{
	struct pg_run	*p;

	if (r->conf.n_addr == 0 || r->conf.n_addr > CFG_MAX_RESOLVED) {
		log_warnx("%s: check %s: \"%s\" has no resolved address",
		    __func__, r->conf.name, r->conf.pg_host);
		return -1;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->n_addr = r->conf.n_addr;
	memcpy(p->addr, r->conf.addr, sizeof(p->addr));
	if ((p->timer = evtimer_new(r->base, pg_timer_event, r)) == NULL) {
		free(p);
		return -1;
	}
	r->kstate = p;
	pg_attempt(r);
	return 0;
}

const struct check_kind_ops check_kind_pg = {
	.name = "postgres",
	.start = pg_start,
	.cancel = pg_cancel
};
