/*
 * responder: the cluster lab's service.  Listens on a TCP port on every
 * address of its network namespace (so also on VIPs added later), writes
 * "<name>\n" to each connection and closes it.  The client probe learns
 * from the answer which node holds the VIP it connected to.
 *
 * usage: responder -n name [-p port] [-t seconds]
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* One dual-stack socket; an IPv4-only socket when IPv6 is off. */
static int
listen_any(int port)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;
	int fd, one = 1, zero = 0;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd != -1) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		sin6.sin6_addr = in6addr_any;
		if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0 &&
		    listen(fd, 512) == 0)
			return fd;
		close(fd);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 512) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char *argv[])
{
	struct sigaction sa;
	struct pollfd pfd;
	const char *name = NULL;
	char answer[128];
	long port = 7, maxtime = 86400;
	time_t deadline;
	size_t len;
	unsigned long served = 0;
	int ch, fd, c;

	while ((ch = getopt(argc, argv, "n:p:t:")) != -1) {
		switch (ch) {
		case 'n':
			name = optarg;
			break;
		case 'p':
			port = strtol(optarg, NULL, 10);
			break;
		case 't':
			maxtime = strtol(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (name == NULL || optind != argc || port < 1 || port > 65535 ||
	    maxtime < 1)
		goto usage;
	len = (size_t)snprintf(answer, sizeof(answer), "%s\n", name);
	if (len >= sizeof(answer)) {
		fprintf(stderr, "responder: name too long\n");
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((fd = listen_any((int)port)) == -1) {
		fprintf(stderr, "responder: %s: listen on port %ld: %s\n",
		    __func__, port, strerror(errno));
		return 1;
	}
	deadline = time(NULL) + maxtime;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (!stop && time(NULL) < deadline) {
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		/* Drain the backlog; a fresh socket always takes one line. */
		while ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
			if (write(c, answer, len) == (ssize_t)len)
				served++;
			close(c);
		}
	}
	fprintf(stderr, "responder %s: served %lu\n", name, served);
	return 0;
usage:
	fprintf(stderr, "usage: responder -n name [-p port] [-t seconds]\n");
	return 2;
}
