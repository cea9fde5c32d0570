/*
 * The notify hook queue (parent/notify.h, DESIGN.md section 14).
 *
 * One FIFO of at most NOTIFY_QUEUE_MAX events.  An event runs when no
 * hook of its key (its address, or the node) is running and no earlier
 * event of its key is still queued, and fewer than NOTIFY_PARALLEL_MAX
 * hooks run: so one address's events run in order, one at a time, and a
 * slow hook of one address holds back only that address's events.
 * Events are only queued here; hooks are started from a libevent
 * callback once the netlink work that caused them is over.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "proto.h"
#include "parent/exec.h"
#include "parent/notify.h"

struct notify_item {
	uint32_t	 event;
	struct yaim_addr key;		/* af 0: the node */
};

struct notify_slot {
	int		 busy;
	struct notify_item it;
	uint64_t	 started_ms;
};

static struct notify_state {
	struct event_base	*base;
	struct event		*kick_ev;
	int			 on;		/* notify-command set */
	int			 leaving;	/* releases may use the reserve */
	int			 stopped;	/* no more events: the drain */
	uint32_t		 timeout_ms;	/* notify-timeout */
	struct notify_item	 q[NOTIFY_QUEUE_MAX + NOTIFY_EXIT_RESERVE];
	size_t			 nq;
	struct notify_slot	 run[NOTIFY_PARALLEL_MAX];
	struct notify_stats	 st;
	uint64_t		 dropped_logged;
	uint64_t		 last_log_ms;
	void			(*changed)(void);
} nt;

static const char *names[NOTIFY_EVENT_MAX] = {
	[NOTIFY_TAKE] = "take",
	[NOTIFY_RELEASE] = "release",
	[NOTIFY_FENCE] = "fence",
	[NOTIFY_HEALTHY] = "healthy",
	[NOTIFY_UNHEALTHY] = "unhealthy",
};

const char *
notify_event_name(uint32_t e)
{
	return e < NOTIFY_EVENT_MAX ? names[e] : "unknown";
}

static void
changed(void)
{
	if (nt.changed != NULL)
		nt.changed();
}

static int
same_key(const struct yaim_addr *a, const struct yaim_addr *b)
{
	if (a->af == 0 || b->af == 0)
		return a->af == b->af;
	return yaim_addr_cmp(a, b) == 0;
}

static void	kick(void);

static void
describe(uint32_t reason, int32_t detail, char *buf, size_t len)
{
	switch (reason) {
	case HR_KILLED_TIMEOUT:
		snprintf(buf, len, "killed at notify-timeout");
		break;
	case HR_EXIT_STATUS:
		snprintf(buf, len, "exit status %d", (int)detail);
		break;
	case HR_SIGNALED:
		snprintf(buf, len, "killed by signal %d", (int)detail);
		break;
	default:
		snprintf(buf, len, "%s %d", health_reason_name(reason),
		    (int)detail);
	}
}

static void
hook_done(uint32_t reason, int32_t detail, const char *out, void *arg)
{
	struct notify_slot	*s = arg;
	char			 buf[YAIM_ADDRSTRLEN], line[128], why[64];
	const char		*ip;
	uint64_t		 ms = mono_ms() - s->started_ms;

	ip = s->it.key.af == 0 ? "" : yaim_addr_ntop(&s->it.key, buf,
	    sizeof(buf));
	nt.st.runs[s->it.event]++;
	if (reason != HR_OK) {
		nt.st.failures[s->it.event]++;
		if (reason == HR_KILLED_TIMEOUT)
			nt.st.timeouts++;
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(out, "\n"),
		    out);
		describe(reason, detail, why, sizeof(why));
		log_warnx("notify %s%s%s: %s after %" PRIu64 " ms%s%s",
		    names[s->it.event], *ip ? " " : "", ip, why, ms,
		    *line ? ": " : "", line);
	} else
		log_debug("notify %s%s%s: ok after %" PRIu64 " ms",
		    names[s->it.event], *ip ? " " : "", ip, ms);
	s->busy = 0;
	nt.st.running--;
	changed();
	kick();
}

/* May queue entry i run now?  Not if its key runs or waits earlier. */
static int
runnable(size_t i)
{
	size_t	 j;

	for (j = 0; j < NOTIFY_PARALLEL_MAX; j++)
		if (nt.run[j].busy && same_key(&nt.run[j].it.key,
		    &nt.q[i].key))
			return 0;
	for (j = 0; j < i; j++)
		if (same_key(&nt.q[j].key, &nt.q[i].key))
			return 0;
	return 1;
}

static struct notify_slot *
free_slot(void)
{
	size_t	 j;

	for (j = 0; j < NOTIFY_PARALLEL_MAX; j++)
		if (!nt.run[j].busy)
			return &nt.run[j];
	return NULL;
}

static void
start(struct notify_slot *s, const struct notify_item *it)
{
	char		 buf[YAIM_ADDRSTRLEN], err[512];
	const char	*extra[2];
	size_t		 n = 1;

	extra[0] = names[it->event];
	if (it->key.af != 0)
		extra[n++] = yaim_addr_ntop(&it->key, buf, sizeof(buf));
	s->it = *it;
	s->busy = 1;
	s->started_ms = mono_ms();
	nt.st.running++;
	if (exec_hook(extra, n, hook_done, s, err, sizeof(err)) == 0)
		return;
	log_warnx("notify %s%s%s: %s", extra[0], n > 1 ? " " : "",
	    n > 1 ? extra[1] : "", err);
	s->busy = 0;
	nt.st.running--;
	nt.st.runs[it->event]++;
	nt.st.failures[it->event]++;
}

/* Start what may run, in queue order; bounded by the queue's size. */
static void
dispatch(evutil_socket_t fd, short what, void *arg)
{
	struct notify_slot	*s;
	struct notify_item	 it;
	size_t			 i = 0;

	(void)fd;
	(void)what;
	(void)arg;
	while (i < nt.nq && (s = free_slot()) != NULL) {
		if (!runnable(i)) {
			i++;
			continue;
		}
		it = nt.q[i];
		nt.nq--;
		memmove(&nt.q[i], &nt.q[i + 1], (nt.nq - i) * sizeof(nt.q[0]));
		start(s, &it);
	}
	nt.st.queued = (uint32_t)nt.nq;
	changed();
}

static void
kick(void)
{
	if (nt.kick_ev != NULL)
		event_active(nt.kick_ev, EV_TIMEOUT, 0);
}

void
notify_init(struct event_base *base, const struct yaim_config *conf)
{
	nt.base = base;
	if (nt.kick_ev == NULL &&
	    (nt.kick_ev = event_new(base, -1, 0, dispatch, NULL)) == NULL)
		fatalx("%s: event_new", __func__);
	nt.on = conf->notify_argc > 0;
	nt.timeout_ms = conf->notify_timeout_ms;
	if (!nt.on && nt.nq > 0) {
		log_info("notify-command removed: dropping %zu queued events",
		    nt.nq);
		nt.nq = 0;
		nt.st.queued = 0;
		changed();
	}
}

static void
overflow(enum notify_event e, const struct yaim_addr *a)
{
	char		 buf[YAIM_ADDRSTRLEN];
	uint64_t	 now = mono_ms();

	nt.st.dropped++;
	if (nt.last_log_ms != 0 && now - nt.last_log_ms < NOTIFY_LOG_MS)
		return;
	log_warnx("notify: queue full (%d events waiting); dropped %s%s%s "
	    "and %" PRIu64 " events in all", NOTIFY_QUEUE_MAX, names[e],
	    a != NULL ? " " : "", a != NULL ? yaim_addr_ntop(a, buf,
	    sizeof(buf)) : "", nt.st.dropped);
	nt.last_log_ms = now;
}

void
notify_event(enum notify_event e, const struct yaim_addr *a)
{
	struct notify_item	*it;

	if (!nt.on || nt.stopped || e >= NOTIFY_EVENT_MAX)
		return;
	/*
	 * Leaving, the held set only shrinks: one release per address fits
	 * in the reserve, so that none of them is dropped.
	 */
	if (nt.nq >= NOTIFY_QUEUE_MAX && !(nt.leaving && e == NOTIFY_RELEASE &&
	    nt.nq < NOTIFY_QUEUE_MAX + NOTIFY_EXIT_RESERVE)) {
		overflow(e, a);
		changed();
		return;
	}
	it = &nt.q[nt.nq++];
	memset(it, 0, sizeof(*it));
	it->event = e;
	if (a != NULL)
		it->key = *a;
	nt.st.queued = (uint32_t)nt.nq;
	kick();
}

void
notify_leaving(void)
{
	nt.leaving = 1;
}

/* Append "event[ ip]" to buf as far as it fits; 0 once it did not. */
static int
name_item(char *buf, size_t len, const struct notify_item *it)
{
	char	 a[YAIM_ADDRSTRLEN];
	size_t	 used = strlen(buf);
	int	 n;

	n = snprintf(buf + used, len - used, "%s%s%s%s", *buf ? ", " : "",
	    names[it->event], it->key.af != 0 ? " " : "", it->key.af != 0 ?
	    yaim_addr_ntop(&it->key, a, sizeof(a)) : "");
	if (n < 0 || (size_t)n >= len - used) {
		buf[used] = '\0';
		return 0;
	}
	return 1;
}

/* What the drain's bound cut short, named as far as one line allows. */
static void
log_unfinished(uint32_t bound_ms)
{
	char	 killed[256], left[512];
	size_t	 i, named = 0;

	killed[0] = left[0] = '\0';
	for (i = 0; i < NOTIFY_PARALLEL_MAX; i++)
		if (nt.run[i].busy)
			(void)name_item(killed, sizeof(killed), &nt.run[i].it);
	for (i = 0; i < nt.nq && name_item(left, sizeof(left), &nt.q[i]); i++)
		named++;
	log_warnx("notify: exiting after %u ms of hooks: killing %u running "
	    "(%s), %zu not run%s%s%s", bound_ms, nt.st.running,
	    *killed ? killed : "none", nt.nq, nt.nq > 0 ? " (" : "", left,
	    nt.nq > named ? ", ...)" : nt.nq > 0 ? ")" : "");
}

void
notify_drain(void)
{
	uint32_t	 bound = nt.timeout_ms < NOTIFY_DRAIN_MAX_MS ?
			    nt.timeout_ms : NOTIFY_DRAIN_MAX_MS;
	uint64_t	 until = mono_ms() + bound;
	uint32_t	 i;

	nt.stopped = 1;
	if (nt.nq > 0 || nt.st.running > 0)
		log_info("notify: %zu hooks queued and %u running at exit; "
		    "waiting at most %u ms", nt.nq, nt.st.running, bound);
	/* each round reaps one or takes a step: bounded by time and count */
	for (i = 0; i < NOTIFY_DRAIN_ROUNDS; i++) {
		dispatch(-1, 0, NULL);
		if (nt.nq == 0 && nt.st.running == 0)
			return;
		if (mono_ms() >= until || exec_wait(until) == -1)
			break;
	}
	log_unfinished(bound);
	nt.nq = 0;
	nt.st.queued = 0;
}

void
notify_get_stats(struct notify_stats *st)
{
	*st = nt.st;
}

void
notify_on_change(void (*fn)(void))
{
	nt.changed = fn;
}
