/*
 * vipmon: the cluster lab's invariant monitor.
 *
 * Runs in the root namespace with one NETLINK_ROUTE socket per node
 * namespace and samples every node's addresses every few milliseconds.
 * For each watched VIP it records who holds it; a VIP held by two
 * namespaces at once is an OVERLAP, printed at once, and makes the exit
 * status 1.
 *
 * An address counts as held only while its link is up and running: a
 * crashed node's link is down, and its stale addresses serve nobody.
 *
 * A sample is not atomic: namespaces are dumped one after the other.  So a
 * candidate overlap between an earlier-dumped namespace A and a later one B
 * is confirmed by dumping A again: if A still has the address, A held it
 * both before and after B was seen with it.  An unconfirmed candidate (A
 * released it in between, i.e. a move faster than one dump) is printed as
 * SUSPECT and fails only with -S.
 *
 * usage: vipmon -n [label=]netns ... [-v ip] [-f file] [-N net/len]
 *	  [-i ms] [-t seconds] [-l translog] [-A] [-S]
 */
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#define MAX_NS		64	/* holders are a uint64_t bit mask */
#define MAX_VIPS	4096
#define MAX_NETS	16
#define MAX_UPLINKS	256
#define LABEL_MAX	64

struct nsmon {
	char		 label[LABEL_MAX];
	char		 name[NAME_MAX];
	struct mnl_socket *nl;
	unsigned int	 portid;
	unsigned int	 seq;
	int		 n_up;
	int		 up[MAX_UPLINKS];	/* ifindexes that are up+running */
};

struct vip {
	int		 family;
	uint8_t		 addr[16];
	char		 text[INET6_ADDRSTRLEN];
	int		 explicit;	/* named with -v */
	int		 infile;	/* listed in the -f file */
	uint64_t	 seen;		/* this sample, before confirmation */
	uint64_t	 reseen;	/* the confirmation dump */
	uint64_t	 holders;	/* confirmed holders, this sample */
	uint64_t	 last;		/* holders at the previous sample */
	int		 started;	/* has a previous sample */
	int		 overlapping;
	int64_t		 unheld_since;	/* ms, 0 = held */
	int64_t		 max_unheld;
	unsigned long	 changes;
};

struct net {
	int		 family;
	uint8_t		 addr[16];
	int		 plen;
};

static struct nsmon	 nss[MAX_NS];
static int		 n_ns;
static struct vip	 vips[MAX_VIPS];
static int		 n_vips;
static struct net	 nets[MAX_NETS];
static int		 n_nets;
static const char	*vipfile;
static struct timespec	 vipfile_mtime;
static off_t		 vipfile_size = -1;
static FILE		*translog;
static int		 count_down_links;
static int		 strict;
static volatile sig_atomic_t stop;

static unsigned long	 samples, overlaps, overlap_samples, suspects;

static void
usage(void)
{
	fprintf(stderr, "usage: vipmon -n [label=]netns ... [-v ip] [-f file]"
	    " [-N net/len] [-i ms] [-t seconds] [-l translog] [-A] [-S]\n");
	exit(2);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
parse_ip(const char *s, int *family, uint8_t *addr)
{
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

static void
add_net(const char *arg)
{
	char buf[128], *slash, *end;
	long plen;
	struct net *n;

	if (n_nets == MAX_NETS) {
		fprintf(stderr, "vipmon: %s: too many -N networks\n", __func__);
		exit(2);
	}
	n = &nets[n_nets];
	snprintf(buf, sizeof(buf), "%s", arg);
	if ((slash = strchr(buf, '/')) == NULL)
		goto bad;
	*slash++ = '\0';
	if (parse_ip(buf, &n->family, n->addr) == -1)
		goto bad;
	errno = 0;
	plen = strtol(slash, &end, 10);
	if (errno || *end != '\0' || plen < 0 ||
	    plen > (n->family == AF_INET ? 32 : 128))
		goto bad;
	n->plen = (int)plen;
	n_nets++;
	return;
bad:
	fprintf(stderr, "vipmon: %s: bad network \"%s\" (want addr/len)\n",
	    __func__, arg);
	exit(2);
}

static int
in_net(const struct net *n, int family, const uint8_t *addr)
{
	int full = n->plen / 8, rest = n->plen % 8;

	if (family != n->family)
		return 0;
	if (memcmp(addr, n->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((addr[full] ^ n->addr[full]) & (0xff << (8 - rest))) == 0;
}

static int
in_any_net(int family, const uint8_t *addr)
{
	int i;

	for (i = 0; i < n_nets; i++)
		if (in_net(&nets[i], family, addr))
			return 1;
	return 0;
}

static struct vip *
find_vip(int family, const uint8_t *addr)
{
	int i, len = family == AF_INET ? 4 : 16;

	for (i = 0; i < n_vips; i++)
		if (vips[i].family == family &&
		    memcmp(vips[i].addr, addr, len) == 0)
			return &vips[i];
	return NULL;
}

static struct vip *
add_vip(int family, const uint8_t *addr)
{
	struct vip *v;

	if ((v = find_vip(family, addr)) != NULL)
		return v;
	if (n_vips == MAX_VIPS) {
		fprintf(stderr, "vipmon: %s: more than %d VIPs\n", __func__,
		    MAX_VIPS);
		return NULL;
	}
	v = &vips[n_vips++];
	memset(v, 0, sizeof(*v));
	v->family = family;
	memcpy(v->addr, addr, family == AF_INET ? 4 : 16);
	inet_ntop(family, addr, v->text, sizeof(v->text));
	return v;
}

static int
vip_active(const struct vip *v)
{
	return v->explicit || v->infile || in_any_net(v->family, v->addr);
}

/* Re-read the VIP file when its mtime or size changed. */
static void
reload_vipfile(void)
{
	struct stat st;
	FILE *f;
	char line[256], *p;
	int i, family;
	uint8_t addr[16];

	if (vipfile == NULL)
		return;
	if (stat(vipfile, &st) == -1) {
		if (vipfile_size != -1)
			for (i = 0; i < n_vips; i++)
				vips[i].infile = 0;
		vipfile_size = -1;
		return;
	}
	if (st.st_size == vipfile_size &&
	    st.st_mtim.tv_sec == vipfile_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == vipfile_mtime.tv_nsec)
		return;
	if ((f = fopen(vipfile, "r")) == NULL)
		return;
	vipfile_size = st.st_size;
	vipfile_mtime = st.st_mtim;
	for (i = 0; i < n_vips; i++)
		vips[i].infile = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, " \t\r\n#")] = '\0';
		p = line;
		if (*p == '\0')
			continue;
		if (parse_ip(p, &family, addr) == -1) {
			fprintf(stderr, "vipmon: %s: %s: not an IP: \"%s\"\n",
			    __func__, vipfile, p);
			continue;
		}
		struct vip *v = add_vip(family, addr);
		if (v != NULL)
			v->infile = 1;
	}
	fclose(f);
}

static void
open_ns(const char *arg)
{
	struct nsmon *ns;
	const char *eq;
	char path[PATH_MAX];
	int self, target;

	if (n_ns == MAX_NS) {
		fprintf(stderr, "vipmon: %s: more than %d namespaces\n",
		    __func__, MAX_NS);
		exit(2);
	}
	ns = &nss[n_ns];
	if ((eq = strchr(arg, '=')) != NULL) {
		snprintf(ns->label, sizeof(ns->label), "%.*s",
		    (int)(eq - arg), arg);
		snprintf(ns->name, sizeof(ns->name), "%s", eq + 1);
	} else {
		snprintf(ns->label, sizeof(ns->label), "%s", arg);
		snprintf(ns->name, sizeof(ns->name), "%s", arg);
	}
	snprintf(path, sizeof(path), "/var/run/netns/%s", ns->name);
	if ((self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) == -1 ||
	    (target = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "vipmon: %s: open %s: %s\n", __func__, path,
		    strerror(errno));
		exit(2);
	}
	if (setns(target, CLONE_NEWNET) == -1) {
		fprintf(stderr, "vipmon: %s: setns %s: %s\n", __func__,
		    ns->name, strerror(errno));
		exit(2);
	}
	ns->nl = mnl_socket_open(NETLINK_ROUTE);
	if (ns->nl == NULL || mnl_socket_bind(ns->nl, 0, MNL_SOCKET_AUTOPID)) {
		fprintf(stderr, "vipmon: %s: netlink in %s: %s\n", __func__,
		    ns->name, strerror(errno));
		exit(2);
	}
	if (setns(self, CLONE_NEWNET) == -1) {
		fprintf(stderr, "vipmon: %s: setns back: %s\n", __func__,
		    strerror(errno));
		exit(2);
	}
	close(self);
	close(target);
	ns->portid = mnl_socket_get_portid(ns->nl);
	ns->seq = 1;
	n_ns++;
}

struct dumpctx {
	struct nsmon	*ns;
	int		 bit;
	int		 reseen;	/* fill vip->reseen, not vip->seen */
};

static int
link_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dumpctx *ctx = arg;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	unsigned int want = IFF_UP | IFF_RUNNING;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if ((ifi->ifi_flags & want) == want && ctx->ns->n_up < MAX_UPLINKS)
		ctx->ns->up[ctx->ns->n_up++] = ifi->ifi_index;
	return MNL_CB_OK;
}

static int
link_is_up(const struct nsmon *ns, int ifindex)
{
	int i;

	if (count_down_links || ns->n_up == MAX_UPLINKS)
		return 1;
	for (i = 0; i < ns->n_up; i++)
		if (ns->up[i] == ifindex)
			return 1;
	return 0;
}

static int
addr_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type == IFA_LOCAL || type == IFA_ADDRESS)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int
addr_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dumpctx *ctx = arg;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = { NULL };
	const struct nlattr *a;
	struct vip *v;
	int len;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return MNL_CB_OK;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb);
	/* IPv4: IFA_LOCAL is ours (IFA_ADDRESS may be a peer). */
	a = tb[IFA_LOCAL] != NULL ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (a == NULL)
		return MNL_CB_OK;
	len = ifa->ifa_family == AF_INET ? 4 : 16;
	if (mnl_attr_get_payload_len(a) < len)
		return MNL_CB_OK;
	if (!link_is_up(ctx->ns, (int)ifa->ifa_index))
		return MNL_CB_OK;
	v = find_vip(ifa->ifa_family, mnl_attr_get_payload(a));
	if (v == NULL && in_any_net(ifa->ifa_family, mnl_attr_get_payload(a)))
		v = add_vip(ifa->ifa_family, mnl_attr_get_payload(a));
	if (v == NULL)
		return MNL_CB_OK;
	if (ctx->reseen)
		v->reseen |= UINT64_C(1) << ctx->bit;
	else
		v->seen |= UINT64_C(1) << ctx->bit;
	return MNL_CB_OK;
}

/*
 * One dump, its replies walked by hand: libmnl's mnl_cb_run() gives up
 * with EINTR on a reply marked NLM_F_DUMP_INTR (addresses changed during
 * the dump, as they do all the time here), before reaching NLMSG_DONE.
 * Returns 0, 1 if the dump was interrupted (redo it), -1 on error.
 */
static int
dump(struct nsmon *ns, int type, mnl_cb_t cb, struct dumpctx *ctx)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtgenmsg *rt;
	unsigned int seq = ++ns->seq;
	ssize_t n;
	int len, intr = 0;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtgen_family = AF_UNSPEC;
	if (mnl_socket_sendto(ns->nl, nlh, nlh->nlmsg_len) < 0) {
		fprintf(stderr, "vipmon: %s: send to %s: %s\n", __func__,
		    ns->name, strerror(errno));
		return -1;
	}
	for (;;) {
		n = mnl_socket_recvfrom(ns->nl, buf, sizeof(buf));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "vipmon: %s: recv from %s: %s\n",
			    __func__, ns->name, strerror(errno));
			return -1;
		}
		len = (int)n;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
		    nlh = mnl_nlmsg_next(nlh, &len)) {
			if (!mnl_nlmsg_seq_ok(nlh, seq) ||
			    !mnl_nlmsg_portid_ok(nlh, ns->portid))
				continue;	/* a reply to an older dump */
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = 1;
			if (nlh->nlmsg_type == NLMSG_DONE)
				return intr;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				fprintf(stderr, "vipmon: %s: dump of %s "
				    "failed\n", __func__, ns->name);
				return -1;
			}
			if (cb(nlh, ctx) == MNL_CB_ERROR)
				return -1;
		}
	}
}

static int
dump_ns(int i, int reseen)
{
	struct dumpctx ctx = { &nss[i], i, reseen };
	int j, tries, rc = 1;

	/* An interrupted dump may have missed or kept an address: redo it
	 * from scratch (bounded; the last one counts as it is). */
	for (tries = 0; tries < 10 && rc == 1; tries++) {
		for (j = 0; j < n_vips; j++) {
			if (reseen)
				vips[j].reseen &= ~(UINT64_C(1) << i);
			else
				vips[j].seen &= ~(UINT64_C(1) << i);
		}
		nss[i].n_up = 0;
		rc = 0;
		if (!count_down_links)
			rc = dump(&nss[i], RTM_GETLINK, link_cb, &ctx);
		if (rc == 0)
			rc = dump(&nss[i], RTM_GETADDR, addr_cb, &ctx);
	}
	return rc == -1 ? -1 : 0;
}

static int
highest_bit(uint64_t m)
{
	return 63 - __builtin_clzll(m);
}

static void
holders_text(uint64_t m, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	if (m == 0) {
		snprintf(buf, len, "-");
		return;
	}
	for (i = 0; i < n_ns && off < len; i++)
		if (m & (UINT64_C(1) << i))
			off += snprintf(buf + off, len - off, "%s%s",
			    off ? "," : "", nss[i].label);
}

static void
print_overlap(const char *what, int64_t t, const struct vip *v, uint64_t m)
{
	int i;

	printf("%s %lld %s", what, (long long)t, v->text);
	for (i = 0; i < n_ns; i++)
		if (m & (UINT64_C(1) << i))
			printf(" %s", nss[i].label);
	printf("\n");
	fflush(stdout);
}

/*
 * A candidate overlap: confirm by re-dumping every holder but the one
 * dumped last (namespaces are dumped in index order).
 */
static void
confirm(struct vip *v, uint64_t *redumped)
{
	int last = highest_bit(v->seen), i;
	uint64_t confirmed = UINT64_C(1) << last;

	for (i = 0; i < last; i++) {
		if (!(v->seen & (UINT64_C(1) << i)))
			continue;
		if (!(*redumped & (UINT64_C(1) << i))) {
			if (dump_ns(i, 1) == -1)
				continue;
			*redumped |= UINT64_C(1) << i;
		}
		if (v->reseen & (UINT64_C(1) << i))
			confirmed |= UINT64_C(1) << i;
	}
	v->holders = confirmed;
}

static void
evaluate(struct vip *v, int64_t t)
{
	char buf[512];
	int n = __builtin_popcountll(v->holders);

	if (n > 1) {
		overlap_samples++;
		if (!v->overlapping) {
			overlaps++;
			v->overlapping = 1;
			print_overlap("OVERLAP", t, v, v->holders);
		}
	} else
		v->overlapping = 0;
	if (__builtin_popcountll(v->seen) > 1 && n < 2) {
		suspects++;
		print_overlap("SUSPECT", t, v, v->seen);
	}
	if (n == 0 && v->unheld_since == 0)
		v->unheld_since = t;
	if (n > 0 && v->unheld_since != 0) {
		if (t - v->unheld_since > v->max_unheld)
			v->max_unheld = t - v->unheld_since;
		v->unheld_since = 0;
	}
	if (!v->started || v->holders != v->last) {
		if (v->started)
			v->changes++;
		holders_text(v->holders, buf, sizeof(buf));
		if (translog != NULL)
			fprintf(translog, "%lld %s %s\n", (long long)t,
			    v->text, buf);
		v->started = 1;
		v->last = v->holders;
	}
}

static int
sample(void)
{
	int64_t t = now_ms();
	uint64_t redumped = 0;
	int i;

	reload_vipfile();
	for (i = 0; i < n_ns; i++)
		if (dump_ns(i, 0) == -1)
			return -1;
	for (i = 0; i < n_vips; i++) {
		struct vip *v = &vips[i];

		if (!vip_active(v))
			continue;
		v->holders = v->seen;
		if (__builtin_popcountll(v->seen) > 1)
			confirm(v, &redumped);
		evaluate(v, t);
	}
	samples++;
	return 0;
}

static void
summary(void)
{
	int64_t t = now_ms();
	char buf[512];
	int i;

	for (i = 0; i < n_vips; i++) {
		struct vip *v = &vips[i];
		int64_t unheld = v->max_unheld;

		if (!vip_active(v))
			continue;
		if (v->unheld_since != 0 && t - v->unheld_since > unheld)
			unheld = t - v->unheld_since;
		holders_text(v->holders, buf, sizeof(buf));
		printf("vip %s holder=%s changes=%lu max_unheld_ms=%lld"
		    " unheld_now=%d\n", v->text, buf, v->changes,
		    (long long)unheld, v->unheld_since != 0);
	}
	printf("vipmon: samples=%lu overlaps=%lu overlap_samples=%lu"
	    " suspects=%lu\n", samples, overlaps, overlap_samples, suspects);
	fflush(stdout);
}

static int
make_timer(long interval_ms)
{
	struct itimerspec its;
	int fd;

	if ((fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC)) == -1) {
		fprintf(stderr, "vipmon: %s: timerfd: %s\n", __func__,
		    strerror(errno));
		exit(2);
	}
	its.it_interval.tv_sec = interval_ms / 1000;
	its.it_interval.tv_nsec = (interval_ms % 1000) * 1000000;
	its.it_value = its.it_interval;
	if (timerfd_settime(fd, 0, &its, NULL) == -1) {
		fprintf(stderr, "vipmon: %s: timerfd_settime: %s\n", __func__,
		    strerror(errno));
		exit(2);
	}
	return fd;
}

static long
parse_num(const char *s, long min, long max, const char *what)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || *end != '\0' || n < min || n > max) {
		fprintf(stderr, "vipmon: bad %s \"%s\" (%ld..%ld)\n", what, s,
		    min, max);
		exit(2);
	}
	return n;
}

int
main(int argc, char *argv[])
{
	struct sigaction sa;
	long interval = 5, maxtime = 3600;
	int64_t deadline;
	uint64_t ticks;
	int ch, tfd, family, failed = 0;
	uint8_t addr[16];
	struct vip *v;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((ch = getopt(argc, argv, "ASf:i:l:N:n:t:v:")) != -1) {
		switch (ch) {
		case 'A':
			count_down_links = 1;
			break;
		case 'S':
			strict = 1;
			break;
		case 'f':
			vipfile = optarg;
			break;
		case 'i':
			interval = parse_num(optarg, 1, 1000, "interval");
			break;
		case 'l':
			if ((translog = fopen(optarg, "a")) == NULL) {
				fprintf(stderr, "vipmon: %s: %s\n", optarg,
				    strerror(errno));
				exit(2);
			}
			setvbuf(translog, NULL, _IOLBF, 0);
			break;
		case 'N':
			add_net(optarg);
			break;
		case 'n':
			open_ns(optarg);
			break;
		case 't':
			maxtime = parse_num(optarg, 1, 86400, "time limit");
			break;
		case 'v':
			if (parse_ip(optarg, &family, addr) == -1) {
				fprintf(stderr, "vipmon: not an IP: \"%s\"\n",
				    optarg);
				exit(2);
			}
			if ((v = add_vip(family, addr)) == NULL)
				exit(2);
			v->explicit = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || n_ns == 0 ||
	    (n_vips == 0 && n_nets == 0 && vipfile == NULL))
		usage();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: read() returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	tfd = make_timer(interval);
	printf("vipmon: started namespaces=%d interval_ms=%ld\n", n_ns,
	    interval);
	deadline = now_ms() + maxtime * 1000;
	while (!stop && now_ms() < deadline) {
		if (sample() == -1) {
			failed = 1;
			break;
		}
		if (read(tfd, &ticks, sizeof(ticks)) == -1 && errno != EINTR) {
			fprintf(stderr, "vipmon: timerfd read: %s\n",
			    strerror(errno));
			break;
		}
	}
	summary();
	if (failed)
		return 2;
	if (overlaps > 0 || (strict && suspects > 0))
		return 1;
	return 0;
}
