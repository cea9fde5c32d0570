/*
 * probe: the cluster lab's client.  Runs in the client namespace and, every
 * period, opens a TCP connection to each VIP; the responder behind it
 * answers with its node's name.  So the probe sees, per VIP, who answers
 * and when nobody does.  Attempts overlap (one fails only after the
 * timeout, -w, default 100 ms) and their results count in start order, at
 * their start time: the resolution is the period.
 *
 * Faults are announced with marks: a line "<epoch_ms> <label>" appended to
 * the mark file (-m), or SIGUSR1 (a mark "usr1" at once).  A mark opens a
 * window per VIP that lasts until the next mark or the end of the run.
 * For each window the probe prints one line:
 *
 *	outage mark=N label=L vip=IP from=A to=B status=S outage_ms=X
 *	    gap_ms=G fails=F oks=O flaps=K
 *
 * status is "unaffected" (same node throughout, no failure), "moved" (a
 * new node answered with no failure in between), "recovered" (failures,
 * then a success: outage_ms is the time from the mark to that success) or
 * "down" (no success since the first failure: outage_ms is the window's
 * length so far).  gap_ms is the part of it the client saw failing: from
 * the first failure to the recovery (a rebalance: the node's start-up
 * before the move is not an outage).  flaps counts successes by a node
 * that had answered earlier in the window after another node took over:
 * an A, B, A.
 * Window 0 starts with the probe, labelled "start".
 *
 * At the end: one "vip ..." line per VIP, then
 *	probe: vips=V marks=M attempts=A ok=O fail=F max_outage_ms=X down=D
 *	    flaps=K
 *
 * usage: probe [-v ip] ... [-f vipfile] [-p port] [-i ms] [-w ms]
 *	  [-t seconds] [-m markfile] [-l timeline]
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_VIPS	1024
#define MAX_NODES	64
#define NAME_LEN	64
#define MAX_MARKS	1024
#define RING		64	/* attempts in flight per VIP */

struct window {
	int		 mark;
	int		 old;		/* node answering before, -1 none */
	int		 last;		/* last node that answered */
	int		 saw_fail;
	int64_t		 first_fail;	/* ms, of the first failure */
	int		 newn;		/* node of the recovery, -1 none */
	int64_t		 recovered;	/* ms, 0 = not yet */
	int		 moved;
	unsigned long	 fails, oks, flaps;
	uint64_t	 seen;		/* nodes that answered this window */
};

struct attempt {
	int		 fd;
	int		 connected;
	int		 done;
	int		 ok;
	int64_t		 started;	/* realtime ms */
	int64_t		 started_mono;	/* monotonic ms, for the timeout */
	char		 buf[NAME_LEN];	/* the answer, or why it failed */
	size_t		 buflen;
};

struct vip {
	char		 text[INET6_ADDRSTRLEN];
	struct sockaddr_storage ss;
	socklen_t	 sslen;
	int		 active;	/* in -v or the current -f file */
	int		 explicit;
	/* attempts in flight, oldest first: results count in start order */
	struct attempt	 ring[RING];
	unsigned int	 head, count;
	/* history */
	int		 last_ok;	/* node of the last success, -1 none */
	char		 status[NAME_LEN + 8];	/* for the timeline */
	unsigned long	 oks, fails, flaps;
	struct window	 w;
};

struct mark {
	int64_t		 t;
	char		 label[NAME_LEN];
};

static struct vip	 vips[MAX_VIPS];
static int		 n_vips;
static char		 nodes[MAX_NODES][NAME_LEN];
static int		 n_nodes;
static struct mark	 marks[MAX_MARKS];
static int		 n_marks;
static int		 port = 7;
static const char	*vipfile, *markfile;
static off_t		 mark_off;
static struct timespec	 vipfile_mtime;
static off_t		 vipfile_size = -1;
static FILE		*timeline;
static int		 epfd;
static volatile sig_atomic_t stop, usr1;
static unsigned long	 attempts, total_ok, total_fail, total_flaps;
static unsigned long	 windows_down;
static int64_t		 max_outage;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		usr1 = 1;
	else
		stop = 1;
}

static const char *
node_name(int i)
{
	return i < 0 ? "-" : nodes[i];
}

static int
node_index(const char *name)
{
	int i;

	for (i = 0; i < n_nodes; i++)
		if (strcmp(nodes[i], name) == 0)
			return i;
	if (n_nodes == MAX_NODES)
		return MAX_NODES - 1;	/* lumped together, still counted */
	snprintf(nodes[n_nodes], NAME_LEN, "%s", name);
	return n_nodes++;
}

static void
window_open(struct vip *v, int mark)
{
	memset(&v->w, 0, sizeof(v->w));
	v->w.mark = mark;
	v->w.old = v->last_ok;
	v->w.last = v->last_ok;
	v->w.newn = -1;
	if (v->last_ok >= 0)
		v->w.seen = UINT64_C(1) << v->last_ok;
}

static void
window_close(struct vip *v, int64_t end)
{
	const struct window *w = &v->w;
	const struct mark *m = &marks[w->mark];
	const char *status;
	int64_t outage = 0, gap = 0;
	int to = w->last;

	if (w->recovered != 0) {
		status = "recovered";
		outage = w->recovered - m->t;
		to = w->newn;
		if (w->saw_fail)
			gap = w->recovered - w->first_fail;
	} else if (w->saw_fail || (w->old < 0 && w->oks == 0)) {
		status = "down";
		outage = end - m->t;
		to = -1;
		if (w->saw_fail)
			gap = end - w->first_fail;
		if (w->mark > 0)
			windows_down++;
	} else if (w->moved)
		status = "moved";
	else
		status = "unaffected";
	if (outage < 0)
		outage = 0;
	if (w->mark > 0 && outage > max_outage)
		max_outage = outage;
	printf("outage mark=%d label=%s vip=%s from=%s to=%s status=%s"
	    " outage_ms=%lld gap_ms=%lld fails=%lu oks=%lu flaps=%lu\n",
	    w->mark, m->label, v->text, node_name(w->old), node_name(to),
	    status, (long long)outage, (long long)gap, w->fails, w->oks,
	    w->flaps);
}

static void
add_mark(int64_t t, const char *label)
{
	int i;

	if (n_marks == MAX_MARKS) {
		fprintf(stderr, "probe: %s: too many marks\n", __func__);
		return;
	}
	marks[n_marks].t = t;
	snprintf(marks[n_marks].label, NAME_LEN, "%s", label);
	for (i = 0; i < n_vips; i++) {
		if (!vips[i].active)
			continue;
		window_close(&vips[i], t);
		window_open(&vips[i], n_marks);
	}
	n_marks++;
}

/* Read new complete lines "<epoch_ms> <label>" from the mark file. */
static void
read_marks(void)
{
	char buf[4096], *line, *nl, *end;
	ssize_t n;
	long long t;
	int fd;

	if (markfile == NULL || (fd = open(markfile, O_RDONLY)) == -1)
		return;
	n = pread(fd, buf, sizeof(buf) - 1, mark_off);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (line = buf; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		mark_off += nl - line + 1;
		t = strtoll(line, &end, 10);
		if (end == line || t <= 0) {
			t = now_ms();
			end = line;
		}
		end += strspn(end, " \t");
		end[strcspn(end, " \t\r")] = '\0';
		add_mark(t, *end ? end : "mark");
	}
}

static int
parse_vip(struct vip *v, const char *s)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&v->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&v->ss;

	memset(&v->ss, 0, sizeof(v->ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		v->sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		v->sslen = sizeof(*sin6);
	} else
		return -1;
	snprintf(v->text, sizeof(v->text), "%s", s);
	return 0;
}

static struct vip *
add_vip(const char *s)
{
	struct vip tmp, *v;
	int i;

	if (parse_vip(&tmp, s) == -1) {
		fprintf(stderr, "probe: %s: not an IP: \"%s\"\n", __func__, s);
		return NULL;
	}
	for (i = 0; i < n_vips; i++)
		if (strcmp(vips[i].text, tmp.text) == 0)
			return &vips[i];
	if (n_vips == MAX_VIPS) {
		fprintf(stderr, "probe: %s: too many VIPs\n", __func__);
		return NULL;
	}
	v = &vips[n_vips++];
	memset(v, 0, sizeof(*v));
	parse_vip(v, s);
	v->last_ok = -1;
	v->active = 0;
	return v;
}

static void
activate(struct vip *v)
{
	if (v->active)
		return;
	v->active = 1;
	window_open(v, n_marks - 1);
}

/* Re-read the VIP file when it changed: new VIPs start at once. */
static void
reload_vipfile(void)
{
	struct stat st;
	FILE *f;
	char line[256];
	int i, wanted[MAX_VIPS];
	struct vip *v;

	if (vipfile == NULL || stat(vipfile, &st) == -1)
		return;
	if (st.st_size == vipfile_size &&
	    st.st_mtim.tv_sec == vipfile_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == vipfile_mtime.tv_nsec)
		return;
	if ((f = fopen(vipfile, "r")) == NULL)
		return;
	vipfile_size = st.st_size;
	vipfile_mtime = st.st_mtim;
	memset(wanted, 0, sizeof(wanted));
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, " \t\r\n#")] = '\0';
		if (line[0] == '\0')
			continue;
		if ((v = add_vip(line)) != NULL)
			wanted[v - vips] = 1;
	}
	fclose(f);
	for (i = 0; i < n_vips; i++) {
		v = &vips[i];
		if (wanted[i] || v->explicit)
			activate(v);
		else
			v->active = 0;	/* left the pool: no verdict */
	}
}

static void
log_status(struct vip *v, int64_t t, const char *status)
{
	if (strcmp(v->status, status) == 0)
		return;
	snprintf(v->status, sizeof(v->status), "%s", status);
	if (timeline != NULL)
		fprintf(timeline, "%lld %s %s\n", (long long)t, v->text,
		    status);
}

static void
record_fail(struct vip *v, int64_t t, const char *why)
{
	char status[NAME_LEN + 8];

	total_fail++;
	v->fails++;
	snprintf(status, sizeof(status), "-%s", why);
	log_status(v, t, status);
	if (t < marks[v->w.mark].t)
		return;		/* started before the mark: old window */
	v->w.fails++;
	if (v->w.recovered == 0 && !v->w.saw_fail) {
		v->w.saw_fail = 1;
		v->w.first_fail = t;
	}
}

static void
record_ok(struct vip *v, int64_t t, const char *name)
{
	struct window *w = &v->w;
	int n = node_index(name);
	uint64_t bit = UINT64_C(1) << n;

	total_ok++;
	v->oks++;
	log_status(v, t, nodes[n]);
	if (t < marks[w->mark].t) {
		/* started before the mark: evidence of who held it then */
		if (w->oks == 0 && w->fails == 0) {
			w->old = w->last = n;
			w->seen = bit;
		}
		v->last_ok = n;
		return;
	}
	w->oks++;
	if (n != w->last && (w->seen & bit)) {
		w->flaps++;
		v->flaps++;
		total_flaps++;
	}
	if (w->recovered == 0) {
		if (w->saw_fail || w->old < 0) {
			w->recovered = t;
			w->newn = n;
		} else if (n != w->old)
			w->moved = 1;
	}
	w->seen |= bit;
	w->last = n;
	v->last_ok = n;
}

/* VIP index + 1, slot and fd: a stale event of a closed fd is ignored. */
static uint64_t
event_key(const struct vip *v, const struct attempt *a)
{
	return (uint64_t)(v - vips + 1) << 8 | (uint64_t)(a - v->ring) |
	    (uint64_t)(uint32_t)a->fd << 32;
}

/* Results count in the order the attempts started. */
static void
drain(struct vip *v)
{
	struct attempt *a;

	while (v->count > 0 && (a = &v->ring[v->head])->done) {
		if (a->ok)
			record_ok(v, a->started, a->buf);
		else
			record_fail(v, a->started, a->buf);
		v->head = (v->head + 1) % RING;
		v->count--;
	}
}

/*
 * Close with a reset: no TIME_WAIT on either side, which thousands of
 * connections a second would otherwise pile up in the responder's netns.
 */
static void
attempt_end(struct attempt *a, int ok, const char *result)
{
	struct linger lg = { 1, 0 };

	if (a->fd != -1) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, a->fd, NULL);
		setsockopt(a->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(a->fd);
	}
	a->fd = -1;
	a->done = 1;
	a->ok = ok;
	if (result != a->buf)
		snprintf(a->buf, sizeof(a->buf), "%s", result);
}

static const char *
errname(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return "refused";
	case EHOSTUNREACH:
		return "hostunreach";
	case ENETUNREACH:
		return "netunreach";
	case ETIMEDOUT:
		return "timeout";
	case ECONNRESET:
		return "reset";
	default:
		return "error";
	}
}

static void
attempt_start(struct vip *v)
{
	struct epoll_event ev;
	struct attempt *a;

	if (v->count == RING)
		return;		/* all slots waiting: skip this period */
	a = &v->ring[(v->head + v->count++) % RING];
	memset(a, 0, sizeof(*a));
	attempts++;
	a->started = now_ms();
	a->started_mono = mono_ms();
	a->fd = socket(v->ss.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd == -1) {
		attempt_end(a, 0, "socket");
		return;
	}
	if (connect(a->fd, (struct sockaddr *)&v->ss, v->sslen) == -1 &&
	    errno != EINPROGRESS) {
		attempt_end(a, 0, errname(errno));
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	ev.data.u64 = event_key(v, a);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, a->fd, &ev) == -1)
		attempt_end(a, 0, "epoll");
}

static void
attempt_event(struct vip *v, struct attempt *a)
{
	struct epoll_event ev;
	socklen_t len = sizeof(int);
	ssize_t n;
	int err = 0;

	if (!a->connected) {
		if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			attempt_end(a, 0, errname(err));
			return;
		}
		a->connected = 1;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.u64 = event_key(v, a);
		epoll_ctl(epfd, EPOLL_CTL_MOD, a->fd, &ev);
	}
	for (;;) {
		n = read(a->fd, a->buf + a->buflen,
		    sizeof(a->buf) - 1 - a->buflen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1) {
			attempt_end(a, 0, errname(errno));
			return;
		}
		a->buflen += (size_t)n;
		a->buf[a->buflen] = '\0';
		if (n == 0 || memchr(a->buf, '\n', a->buflen) != NULL ||
		    a->buflen == sizeof(a->buf) - 1) {
			a->buf[strcspn(a->buf, "\r\n")] = '\0';
			if (a->buf[0] == '\0')
				attempt_end(a, 0, "empty");
			else
				attempt_end(a, 1, a->buf);
			return;
		}
	}
}

static void
tick(int64_t timeout)
{
	int64_t m = mono_ms();
	unsigned int j;
	int i;

	read_marks();
	if (usr1) {
		usr1 = 0;
		add_mark(now_ms(), "usr1");
	}
	reload_vipfile();
	for (i = 0; i < n_vips; i++) {
		struct vip *v = &vips[i];

		for (j = 0; j < v->count; j++) {
			struct attempt *a = &v->ring[(v->head + j) % RING];

			if (!a->done && m - a->started_mono >= timeout)
				attempt_end(a, 0, "timeout");
		}
		drain(v);
		if (v->active)
			attempt_start(v);
	}
}

static void
finish(void)
{
	int64_t t = now_ms();
	int i, n = 0;

	for (i = 0; i < n_vips; i++) {
		struct vip *v = &vips[i];

		if (!v->active)
			continue;
		n++;
		window_close(v, t);
	}
	for (i = 0; i < n_vips; i++) {
		struct vip *v = &vips[i];

		if (!v->active)
			continue;
		printf("vip %s ok=%lu fail=%lu last=%s flaps=%lu\n", v->text,
		    v->oks, v->fails, node_name(v->last_ok), v->flaps);
	}
	printf("probe: vips=%d marks=%d attempts=%lu ok=%lu fail=%lu"
	    " max_outage_ms=%lld down=%lu flaps=%lu\n", n, n_marks - 1,
	    attempts, total_ok, total_fail, (long long)max_outage,
	    windows_down, total_flaps);
}

static long
parse_num(const char *s, long min, long max, const char *what)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || *end != '\0' || n < min || n > max) {
		fprintf(stderr, "probe: bad %s \"%s\" (%ld..%ld)\n", what, s,
		    min, max);
		exit(2);
	}
	return n;
}

static void
usage(void)
{
	fprintf(stderr, "usage: probe [-v ip] ... [-f vipfile] [-p port]"
	    " [-i ms] [-w ms] [-t seconds] [-m markfile] [-l timeline]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct epoll_event evs[64], ev;
	struct itimerspec its;
	struct sigaction sa;
	const char *vipargs[MAX_VIPS];
	long period = 5, timeout = -1, maxtime = 3600;
	int64_t deadline;
	uint64_t ticks;
	int ch, tfd, i, n, n_vipargs = 0;
	struct vip *v;
	struct attempt *a;
	struct rlimit rl;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((ch = getopt(argc, argv, "f:i:l:m:p:t:v:w:")) != -1) {
		switch (ch) {
		case 'f':
			vipfile = optarg;
			break;
		case 'i':
			period = parse_num(optarg, 1, 1000, "period");
			break;
		case 'l':
			if ((timeline = fopen(optarg, "a")) == NULL) {
				fprintf(stderr, "probe: %s: %s\n", optarg,
				    strerror(errno));
				exit(2);
			}
			setvbuf(timeline, NULL, _IOLBF, 0);
			break;
		case 'm':
			markfile = optarg;
			break;
		case 'p':
			port = (int)parse_num(optarg, 1, 65535, "port");
			break;
		case 't':
			maxtime = parse_num(optarg, 1, 86400, "time limit");
			break;
		case 'v':
			if (n_vipargs == MAX_VIPS)
				usage();
			vipargs[n_vipargs++] = optarg;
			break;
		case 'w':
			timeout = parse_num(optarg, 1, 10000, "timeout");
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (n_vipargs == 0 && vipfile == NULL))
		usage();
	if (timeout == -1)
		timeout = 100;
	/* Up to RING sockets per VIP may be in flight during an outage. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	/* Window 0 and everything in the mark file so far: the past. */
	marks[0].t = now_ms();
	snprintf(marks[0].label, NAME_LEN, "start");
	n_marks = 1;
	if (markfile != NULL) {
		struct stat st;

		if (stat(markfile, &st) == 0)
			mark_off = st.st_size;
	}
	for (i = 0; i < n_vipargs; i++) {
		if ((v = add_vip(vipargs[i])) == NULL)
			exit(2);
		v->explicit = 1;
		activate(v);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (tfd = timerfd_create(CLOCK_MONOTONIC,
	    TFD_CLOEXEC | TFD_NONBLOCK)) == -1) {
		fprintf(stderr, "probe: epoll/timerfd: %s\n", strerror(errno));
		exit(2);
	}
	its.it_interval.tv_sec = period / 1000;
	its.it_interval.tv_nsec = (period % 1000) * 1000000;
	its.it_value = its.it_interval;
	timerfd_settime(tfd, 0, &its, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = 0;	/* the timer */
	epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);

	deadline = now_ms() + maxtime * 1000;
	reload_vipfile();
	for (i = 0, n = 0; i < n_vips; i++)
		n += vips[i].active;
	printf("probe: started vips=%d period_ms=%ld timeout_ms=%ld\n",
	    n, period, timeout);
	tick(timeout);
	while (!stop && now_ms() < deadline) {
		n = epoll_wait(epfd, evs, 64, 1000);
		if (n == -1 && errno != EINTR) {
			fprintf(stderr, "probe: epoll_wait: %s\n",
			    strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			uint64_t key = evs[i].data.u64;

			if (key == 0) {
				if (read(tfd, &ticks, sizeof(ticks)) > 0)
					tick(timeout);
				continue;
			}
			v = &vips[((key & 0xffffffff) >> 8) - 1];
			a = &v->ring[key & 0xff];
			if (!a->done && a->fd != -1 && key == event_key(v, a)) {
				attempt_event(v, a);
				drain(v);
			}
		}
	}
	read_marks();
	finish();
	return 0;
}
