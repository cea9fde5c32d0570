/*
 * yaimctl: control a running yaimd over its control socket (yaimctl(8),
 * DESIGN.md section 13).  One request, its answer, exit: 0 when it
 * succeeded, 1 on any error.  Links libc and yaimd's pure message code
 * only (common/ctl.c, common/imsg_wire.c, common/proto.c, common/addr.c).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "imsg.h"
#include "proto.h"

/* A reply may wait for a reload (name resolution, the interface). */
#define REPLY_TIMEOUT_MS	60000
#define STATUS_MAX_IPS		100000

struct opts {
	int		 json;
	const char	*socket;
};

/* The reply so far. */
struct answer {
	struct ctl_node		 node;
	int			 have_node;
	struct ctl_pool_ip	*ips;
	size_t			 n_ips, cap;
	struct ctl_result	*results;
	size_t			 n_results;
	struct ctl_end		 end;
};

#ifndef YAIM_VERSION
#define YAIM_VERSION	"unknown"
#endif

#define USAGE	"usage: yaimctl [-hjV] [-s socket] command [argument ...]\n" \
		"commands: status, pool add IP..., pool del IP..., drain, " \
		"undrain,\n" \
		"          reload, log verbose|brief, metrics\n"

static void __attribute__((noreturn))
usage(void)
{
	fputs(USAGE, stderr);
	exit(1);
}

static void __attribute__((noreturn))
help(void)
{
	fputs(USAGE, stdout);
	printf("  -h, --help         print this help and exit\n"
	    "  -j                 print status as JSON\n"
	    "  -s socket          talk to the yaimd of socket instead of %s\n"
	    "  -V, --version      print the version and exit\n"
	    "See yaimctl(8).\n", YAIM_DEFAULT_CONTROL_SOCKET);
	exit(0);
}

/* yaimctl links no library but libc: the version is all there is. */
static void __attribute__((noreturn))
version(void)
{
	printf("yaimctl %s\n", YAIM_VERSION);
	exit(0);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	 ap;

	fputs("yaimctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		die("%s: socket path too long", path);
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			die("yaimd is not running: %s: %s", path,
			    strerror(errno));
		die("cannot connect to yaimd: %s: %s", path,
		    strerror(errno));
	}
	return fd;
}

/*
 * Why sending failed, or NULL.  yaimd may have answered already (too
 * many clients, permission denied) and closed: that answer is read next.
 */
static const char	*send_error;

static void
send_all(int fd, const uint8_t *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			send_error = n == 0 ? "short write" : strerror(errno);
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void
send_request(int fd, uint32_t type, const void *data, size_t len)
{
	static uint8_t	 buf[CTL_REQUEST_MAX];
	size_t		 n;

	if ((n = imsg_encode(buf, sizeof(buf), type, 0, (uint32_t)getpid(),
	    data, len)) == 0 || n > CTL_REQUEST_MAX)
		die("request too large");
	send_all(fd, buf, n);
}

static void
keep(struct answer *a, const struct ctl_reply *r)
{
	struct ctl_pool_ip	*ips;
	struct ctl_result	*res;

	switch (r->type) {
	case IMSG_CTL_NODE:
		a->node = r->u.node;
		a->have_node = 1;
		break;
	case IMSG_CTL_IP:
		if (a->n_ips >= STATUS_MAX_IPS)
			die("more than %d pool entries", STATUS_MAX_IPS);
		if (a->n_ips == a->cap) {
			a->cap = a->cap ? a->cap * 2 : 64;
			if ((ips = reallocarray(a->ips, a->cap,
			    sizeof(*ips))) == NULL)
				die("out of memory");
			a->ips = ips;
		}
		a->ips[a->n_ips++] = r->u.ip;
		break;
	case IMSG_CTL_RESULT:
		if (a->n_results >= CTL_POOL_MAX)
			die("more results than addresses asked for");
		res = reallocarray(a->results, a->n_results + 1, sizeof(*res));
		if (res == NULL)
			die("out of memory");
		a->results = res;
		a->results[a->n_results++] = r->u.result;
		break;
	case IMSG_CTL_TEXT:
		/* the metrics, as they come: terminated within the field */
		fputs(r->u.text.text, stdout);
		break;
	default:
		break;
	}
}

/* Read messages until IMSG_CTL_END. */
static void
read_answer(int fd, struct answer *a)
{
	static uint8_t		 buf[IMSG_HEADER_SIZE + CTL_MSG_MAX + 1];
	size_t			 len = 0, consumed;
	struct pollfd		 pfd;
	struct ctl_reply	 r;
	struct imsg		 m;
	enum imsg_parse_result	 pr;
	ssize_t			 n;
	char			 err[160];

	for (;;) {
		pr = imsg_parse(buf, len, &m, &consumed, err, sizeof(err));
		if (pr == IMSG_PARSE_ERROR)
			die("bad answer from yaimd: %s", err);
		if (pr == IMSG_PARSE_OK) {
			if (ctl_reply_parse(&m, &r, err, sizeof(err)) == -1)
				die("bad answer from yaimd: %s", err);
			if (r.type == IMSG_CTL_END) {
				a->end = r.u.end;
				return;
			}
			keep(a, &r);
			memmove(buf, buf + consumed, len - consumed);
			len -= consumed;
			continue;
		}
		if (len == sizeof(buf))
			die("bad answer from yaimd: a message too large");
		pfd.fd = fd;
		pfd.events = POLLIN;
		if ((n = poll(&pfd, 1, REPLY_TIMEOUT_MS)) == -1) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (n == 0)
			die("no answer from yaimd within %d seconds",
			    REPLY_TIMEOUT_MS / 1000);
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 && send_error != NULL)
			die("sending the request: %s", send_error);
		if (n == -1)
			die("reading the answer: %s", strerror(errno));
		if (n == 0)
			die("yaimd closed the connection without an answer");
		len += (size_t)n;
	}
}

/* ---- printing ---- */

static void
json_str(const char *s)
{
	char	 buf[4096];
	size_t	 need;
	char	*big;

	need = ctl_json_escape(s, buf, sizeof(buf));
	if (need < sizeof(buf)) {
		printf("\"%s\"", buf);
		return;
	}
	if ((big = malloc(need + 1)) == NULL)
		die("out of memory");
	ctl_json_escape(s, big, need + 1);
	printf("\"%s\"", big);
	free(big);
}

/* A string, or null when empty. */
static void
json_str_or_null(const char *s)
{
	if (*s == '\0')
		printf("null");
	else
		json_str(s);
}

static void
json_ms_or_null(int64_t ms)
{
	if (ms < 0)
		printf("null");
	else
		printf("%" PRId64, ms);
}

static void
json_lease(int64_t lease)
{
	if (lease == 0)
		printf("null");
	else
		printf("\"%" PRIx64 "\"", (uint64_t)lease);
}

/* "a,b,c" as a JSON array. */
static void
json_list(const char *s)
{
	char		 item[sizeof(((struct ctl_pool_ip *)0)->refused_by)];
	const char	*comma;
	size_t		 n;
	int		 first = 1;

	printf("[");
	while (*s != '\0') {
		comma = strchr(s, ',');
		n = comma != NULL ? (size_t)(comma - s) : strlen(s);
		if (n >= sizeof(item))
			n = sizeof(item) - 1;
		memcpy(item, s, n);
		item[n] = '\0';
		printf("%s", first ? "" : ", ");
		json_str(item);
		first = 0;
		s += n + (comma != NULL);
	}
	printf("]");
}

static void
print_status_json(const struct answer *a)
{
	const struct ctl_node	*n = &a->node;
	size_t			 i;

	printf("{\n  \"node\": {\n    \"name\": ");
	json_str(n->nodename);
	printf(",\n    \"state\": ");
	json_str(n->state);
	printf(",\n    \"healthy\": %s,\n    \"health_reason\": ",
	    n->healthy ? "true" : "false");
	json_str(health_reason_name(n->health_reason));
	printf(",\n    \"health_text\": ");
	json_str(n->health_text);
	printf(",\n    \"drained\": %s,\n    \"link_up\": %s,\n"
	    "    \"lease\": ", n->drained ? "true" : "false",
	    n->link_up ? "true" : "false");
	json_lease(n->lease);
	printf(",\n    \"lease_ttl_s\": %" PRId64 ",\n    \"ttl_left_ms\": ",
	    n->lease_ttl_s);
	json_ms_or_null(n->ttl_left_ms);
	printf(",\n    \"fence_left_ms\": ");
	json_ms_or_null(n->fence_left_ms);
	printf(",\n    \"etcd_endpoint\": ");
	json_str_or_null(n->endpoint);
	printf(",\n    \"prefix\": ");
	json_str(n->prefix);
	printf(",\n    \"pool_size\": %u,\n    \"held\": %u\n  },\n"
	    "  \"pool\": [", n->n_pool, n->n_held);
	for (i = 0; i < a->n_ips; i++) {
		const struct ctl_pool_ip	*ip = &a->ips[i];

		printf("%s\n    {\"ip\": ", i ? "," : "");
		json_str(ip->ip);
		printf(", \"in_pool\": %s, \"holder\": ", ip->in_pool ?
		    "true" : "false");
		json_str_or_null(ip->holder);
		printf(", \"held_ms\": ");
		json_ms_or_null(ip->held_ms);
		printf(", \"mark_lease\": ");
		json_lease(ip->mark_lease);
		printf(", \"local\": ");
		json_str_or_null(ip->local);
		printf(", \"refusals\": %u, \"refused_by\": ", ip->n_refused);
		json_list(ip->refused_by);
		printf("}");
	}
	printf("%s]\n}\n", a->n_ips ? "\n  " : "");
}

static void
print_ms(char *buf, size_t len, int64_t ms)
{
	if (ms < 0)
		snprintf(buf, len, "-");
	else if (ms < 60000)
		snprintf(buf, len, "%.1fs", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", ms / 60000,
		    ms / 1000 % 60);
	else
		snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m", ms / 3600000,
		    ms / 60000 % 60);
}

static void
print_status_text(const struct answer *a)
{
	const struct ctl_node	*n = &a->node;
	char			 t1[32], t2[32], lease[24];
	size_t			 i;

	printf("node:      %s\n", n->nodename);
	printf("state:     %s%s\n", n->state, n->drained ? ", drained" : "");
	printf("health:    %s (%s: %s)\n", n->healthy ? "healthy" :
	    "unhealthy", health_reason_name(n->health_reason),
	    n->health_text);
	printf("drained:   %s\n", n->drained ? "yes" : "no");
	printf("link:      %s\n", n->link_up ? "up" : "down");
	if (n->lease != 0) {
		print_ms(t1, sizeof(t1), n->ttl_left_ms);
		print_ms(t2, sizeof(t2), n->fence_left_ms);
		printf("lease:     %" PRIx64 ", TTL %" PRId64 "s, %s left\n",
		    (uint64_t)n->lease, n->lease_ttl_s, t1);
		printf("fence in:  %s\n", t2);
	} else
		printf("lease:     none\nfence in:  -\n");
	printf("etcd:      %s\n", n->endpoint[0] ? n->endpoint : "-");
	printf("prefix:    %s\n", n->prefix);
	printf("pool:      %u address(es), %u held here\n", n->n_pool,
	    n->n_held);
	printf("\n%-15s %-7s %-7s %-16s %-8s %s\n", "IP", "HOLDER", "FOR",
	    "MARK", "HERE", "REFUSED");
	for (i = 0; i < a->n_ips; i++) {
		const struct ctl_pool_ip	*ip = &a->ips[i];

		print_ms(t1, sizeof(t1), ip->held_ms);
		if (ip->mark_lease != 0)
			snprintf(lease, sizeof(lease), "%" PRIx64,
			    (uint64_t)ip->mark_lease);
		else
			snprintf(lease, sizeof(lease), "-");
		printf("%-15s %-7s %-7s %-16s %-8s %s%s\n", ip->ip,
		    ip->holder[0] ? ip->holder : "-", t1, lease,
		    ip->local[0] ? ip->local : "-",
		    ip->refused_by[0] ? ip->refused_by : "-",
		    ip->in_pool ? "" : " (not in the pool)");
	}
}

/* Anything but status: the per-IP results, then the outcome. */
static int
print_outcome(const struct opts *o, const struct answer *a, uint32_t type)
{
	size_t	 i;
	int	 ok = a->end.ok;

	for (i = 0; i < a->n_results; i++)
		if (!a->results[i].ok)
			ok = 0;
	if (o->json) {
		printf("{\"ok\": %s, \"message\": ", ok ? "true" : "false");
		json_str(a->end.text);
		printf(", \"results\": [");
		for (i = 0; i < a->n_results; i++) {
			printf("%s{\"ip\": ", i ? ", " : "");
			json_str(a->results[i].ip);
			printf(", \"ok\": %s, \"message\": ",
			    a->results[i].ok ? "true" : "false");
			json_str(a->results[i].text);
			printf("}");
		}
		printf("]}\n");
		return ok ? 0 : 1;
	}
	for (i = 0; i < a->n_results; i++) {
		if (a->results[i].ok)
			printf("%s: %s\n", a->results[i].ip,
			    a->results[i].text);
		else
			fprintf(stderr, "yaimctl: %s: %s\n",
			    a->results[i].ip, a->results[i].text);
	}
	if (a->end.ok && a->end.text[0] != '\0')
		printf("%s\n", a->end.text);
	else if (!a->end.ok)
		fprintf(stderr, "yaimctl: %s%s\n", type == IMSG_CTL_REQ_RELOAD ?
		    "reload failed, keeping the old configuration: " : "",
		    a->end.text);
	return ok ? 0 : 1;
}

/* ---- commands ---- */

struct request {
	uint32_t	 type;
	struct ctl_ip	 ips[CTL_POOL_MAX];
	size_t		 n_ips;
	struct ctl_log	 log;
};

static void
parse_pool(int argc, char *argv[], struct request *req)
{
	int	 i;

	if (argc < 3)
		usage();
	if (strcmp(argv[1], "add") == 0)
		req->type = IMSG_CTL_REQ_POOL_ADD;
	else if (strcmp(argv[1], "del") == 0 ||
	    strcmp(argv[1], "delete") == 0)
		req->type = IMSG_CTL_REQ_POOL_DEL;
	else
		usage();
	if (argc - 2 > CTL_POOL_MAX)
		die("at most %d addresses at once", CTL_POOL_MAX);
	for (i = 2; i < argc; i++) {
		if (strlen(argv[i]) >= sizeof(req->ips[0].text))
			die("%s: not an IP address", argv[i]);
		memset(&req->ips[req->n_ips], 0, sizeof(req->ips[0]));
		memcpy(req->ips[req->n_ips].text, argv[i], strlen(argv[i]));
		req->n_ips++;
	}
}

static void
parse_command(int argc, char *argv[], struct request *req)
{
	int	 lvl;

	memset(req, 0, sizeof(*req));
	if (argc < 1)
		usage();
	if (strcmp(argv[0], "status") == 0 && argc == 1)
		req->type = IMSG_CTL_REQ_STATUS;
	else if (strcmp(argv[0], "pool") == 0)
		parse_pool(argc, argv, req);
	else if (strcmp(argv[0], "drain") == 0 && argc == 1)
		req->type = IMSG_CTL_REQ_DRAIN;
	else if (strcmp(argv[0], "undrain") == 0 && argc == 1)
		req->type = IMSG_CTL_REQ_UNDRAIN;
	else if (strcmp(argv[0], "reload") == 0 && argc == 1)
		req->type = IMSG_CTL_REQ_RELOAD;
	else if (strcmp(argv[0], "metrics") == 0 && argc == 1)
		req->type = IMSG_CTL_REQ_METRICS;
	else if (strcmp(argv[0], "log") == 0 && argc == 2 &&
	    (lvl = ctl_log_level(argv[1])) != -1) {
		req->type = IMSG_CTL_REQ_LOG;
		req->log.verbose = (uint32_t)lvl;
	} else
		usage();
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help",	no_argument,	NULL,	'h' },
		{ "version",	no_argument,	NULL,	'V' },
		{ NULL,		0,		NULL,	0 }
	};
	static struct request	 req;
	static struct answer	 a;
	struct opts		 o;
	int			 ch, fd;

	memset(&o, 0, sizeof(o));
	o.socket = YAIM_DEFAULT_CONTROL_SOCKET;
	while ((ch = getopt_long(argc, argv, "hjs:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			help();
		case 'V':
			version();
		case 'j':
			o.json = 1;
			break;
		case 's':
			o.socket = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	parse_command(argc, argv, &req);
	signal(SIGPIPE, SIG_IGN);

	fd = ctl_connect(o.socket);
	if (req.type == IMSG_CTL_REQ_POOL_ADD ||
	    req.type == IMSG_CTL_REQ_POOL_DEL)
		send_request(fd, req.type, req.ips, req.n_ips *
		    sizeof(req.ips[0]));
	else if (req.type == IMSG_CTL_REQ_LOG)
		send_request(fd, req.type, &req.log, sizeof(req.log));
	else
		send_request(fd, req.type, NULL, 0);
	read_answer(fd, &a);
	close(fd);

	if (req.type == IMSG_CTL_REQ_METRICS) {
		if (!a.end.ok)
			die("%s", a.end.text);
		if (fflush(stdout) == EOF)
			die("writing the metrics: %s", strerror(errno));
		return 0;
	}
	if (req.type != IMSG_CTL_REQ_STATUS)
		return print_outcome(&o, &a, req.type);
	if (!a.end.ok || !a.have_node)
		die("%s", a.end.text[0] ? a.end.text : "no status in the "
		    "answer");
	if (o.json)
		print_status_json(&a);
	else
		print_status_text(&a);
	return 0;
}
