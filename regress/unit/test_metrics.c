/*
 * dcs/metrics.c: the Prometheus text of a snapshot (every family with
 * HELP and TYPE first, names, histograms cumulative, cut short safely),
 * and dcs/http_req.c: what the metrics listener answers to a request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dcs/http_req.h"
#include "dcs/metrics.h"

static char	 out[65536];

static int
has(const char *line)
{
	const char	*p = out;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == out || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

/* Every sample's family has its TYPE earlier; names are yaim_ ones. */
static void
check_structure(void)
{
	char	*copy, *line, *save, typed[200][96];
	size_t	 ntyped = 0, i, n;
	int	 found;

	copy = strdup(out);
	CHECK(copy != NULL);
	if (copy == NULL)
		return;
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# TYPE ", 7) == 0) {
			n = strcspn(line + 7, " ");
			CHECK(ntyped < 200 && n < 96);
			if (ntyped < 200 && n < 96) {
				memcpy(typed[ntyped], line + 7, n);
				typed[ntyped++][n] = '\0';
			}
			if (strcmp(line + 7 + n, " counter") == 0)
				CHECK(n > 6 && strncmp(line + 7 + n - 6,
				    "_total", 6) == 0, "%s", line);
			continue;
		}
		if (line[0] == '#')
			continue;
		CHECK(strncmp(line, "yaim_", 5) == 0, "%s", line);
		for (found = 0, i = 0; i < ntyped && !found; i++) {
			n = strlen(typed[i]);
			found = strncmp(line, typed[i], n) == 0 &&
			    (line[n] == ' ' || line[n] == '{' ||
			    strncmp(line + n, "_bucket{", 8) == 0 ||
			    strncmp(line + n, "_sum{", 5) == 0 ||
			    strncmp(line + n, "_count{", 7) == 0);
		}
		CHECK(found, "no TYPE before %s", line);
	}
	free(copy);
}

static void
test_render(void)
{
	struct metrics_snap	 s;
	size_t			 n, m;
	char			 small[100];

	memset(&s, 0, sizeof(s));
	s.node.healthy = 1;
	snprintf(s.node.state, sizeof(s.node.state), "in");
	s.node.n_held = 3;
	s.node.n_pool = 7;
	s.node.ttl_left_ms = 2345;
	s.node.fence_left_ms = -1;
	s.eng.claims = 5;
	s.eng.claims_lost = 2;
	s.eng.watch_restarts = 1;
	s.eng.fences = 4;
	s.etcd.requests[2] = 3;		/* txn */
	s.etcd.bucket[2][0] = 1;	/* <= 5 ms */
	s.etcd.bucket[2][4] = 1;	/* <= 100 ms */
	s.etcd.sum_ms[2] = 6100;	/* and one beyond 5 s */
	s.etcd.errors[2][0] = 1;
	s.peer_running = 1;
	s.peer.sent = 11;
	s.peer.drops[PEER_DROP_AUTH] = 9;
	s.parent.takes = 8;
	s.parent.fences = 1;
	s.parent.health_transitions = 2;
	s.parent.notify_runs[0] = 6;
	s.parent.notify_failures[1] = 1;
	s.parent.notify_dropped = 12;
	s.parent.notify_on = 1;
	n = metrics_render(&s, out, sizeof(out));
	CHECK(n > 0 && n < sizeof(out) && strlen(out) == n);
	CHECK(out[n - 1] == '\n');
	CHECK(has("yaim_healthy 1"));
	CHECK(has("yaim_in_cluster 1"));
	CHECK(has("yaim_addresses_held 3"));
	CHECK(has("yaim_pool_addresses 7"));
	CHECK(has("yaim_lease_ttl_remaining_seconds 2.345"));
	CHECK(has("yaim_fence_remaining_seconds -1"));
	CHECK(has("yaim_fences_total{by=\"dcs\"} 4"));
	CHECK(has("yaim_fences_total{by=\"parent\"} 1"));
	CHECK(has("yaim_claim_races_lost_total 2"));
	CHECK(has("yaim_watch_restarts_total 1"));
	CHECK(has("yaim_etcd_requests_total{kind=\"txn\"} 3"));
	CHECK(has("yaim_etcd_request_errors_total{kind=\"txn\","
	    "error=\"error\"} 1"));
	CHECK(has("yaim_etcd_request_duration_seconds_bucket{kind=\"txn\","
	    "le=\"0.005\"} 1"));
	CHECK(has("yaim_etcd_request_duration_seconds_bucket{kind=\"txn\","
	    "le=\"0.050\"} 1"));
	CHECK(has("yaim_etcd_request_duration_seconds_bucket{kind=\"txn\","
	    "le=\"0.100\"} 2"));
	CHECK(has("yaim_etcd_request_duration_seconds_bucket{kind=\"txn\","
	    "le=\"5.000\"} 2"));
	CHECK(has("yaim_etcd_request_duration_seconds_bucket{kind=\"txn\","
	    "le=\"+Inf\"} 3"));
	CHECK(has("yaim_etcd_request_duration_seconds_sum{kind=\"txn\"} "
	    "6.100"));
	CHECK(has("yaim_etcd_request_duration_seconds_count{kind=\"txn\"} 3"));
	CHECK(has("# TYPE yaim_etcd_request_duration_seconds histogram"));
	CHECK(has("yaim_peer_messages_sent_total 11"));
	CHECK(has("yaim_peer_messages_dropped_total{reason=\"auth\"} 9"));
	CHECK(has("yaim_address_takes_total 8"));
	CHECK(has("yaim_health_transitions_total 2"));
	CHECK(has("yaim_notify_runs_total{event=\"take\"} 6"));
	CHECK(has("yaim_notify_failures_total{event=\"release\"} 1"));
	CHECK(has("yaim_notify_dropped_total 12"));
	CHECK(has("# TYPE yaim_notify_runs_total counter"));
	CHECK(strstr(out, "watch\"") == NULL, "watches are not requests");
	check_structure();
	/* the same snapshot, the same text: pure */
	m = metrics_render(&s, small, sizeof(small));
	CHECK(m == n, "the length needed does not depend on the room");
	CHECK(strlen(small) == sizeof(small) - 1);
	CHECK(strncmp(small, out, sizeof(small) - 1) == 0);
	CHECK(metrics_render(&s, NULL, 0) == n);
	CHECK(metrics_stats_check(&s.parent) == 0);
	s.parent.healthy = 2;
	CHECK(metrics_stats_check(&s.parent) == -1);
}

struct req_case {
	const char	*req;
	int		 want;
};

static void
test_http(void)
{
	static const struct req_case cases[] = {
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_METRICS },
		{ "GET /metrics HTTP/1.0\r\n\r\n", HTTP_METRICS },
		{ "GET /metrics HTTP/1.0\n\n", HTTP_METRICS },
		{ "GET /metrics?a=b HTTP/1.1\r\n\r\n", HTTP_METRICS },
		{ "GET /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
		    HTTP_METRICS },
		{ "GET /metrics HTTP/1.1\r\nX: a\tb \r\n\r\n", HTTP_METRICS },
		{ "GET / HTTP/1.1\r\n\r\n", HTTP_NOT_FOUND },
		{ "GET /metricsx HTTP/1.1\r\n\r\n", HTTP_NOT_FOUND },
		{ "GET /metrics/ HTTP/1.1\r\n\r\n", HTTP_NOT_FOUND },
		{ "GET * HTTP/1.1\r\n\r\n", HTTP_NOT_FOUND },
		{ "POST /metrics HTTP/1.1\r\n\r\n", HTTP_METHOD },
		{ "HEAD /metrics HTTP/1.1\r\n\r\n", HTTP_METHOD },
		{ "get /metrics HTTP/1.1\r\n\r\n", HTTP_METHOD },
		{ "GET /metrics HTTP/2.0\r\n\r\n", HTTP_BAD },
		{ "GET /metrics HTTP/1.1 \r\n\r\n", HTTP_BAD },
		{ "GET  /metrics HTTP/1.1\r\n\r\n", HTTP_BAD },
		{ "GET /metrics\r\n\r\n", HTTP_BAD },
		{ "\r\n\r\n", HTTP_BAD },
		{ "G(T /metrics HTTP/1.1\r\n\r\n", HTTP_BAD },
		{ "GET /metrics HTTP/1.1\r\nNo colon\r\n\r\n", HTTP_BAD },
		{ "GET /metrics HTTP/1.1\r\n: empty\r\n\r\n", HTTP_BAD },
		{ "GET /metrics HTTP/1.1\r\nA b: c\r\n\r\n", HTTP_BAD },
		{ "GET /metrics HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", HTTP_BAD },
		{ "GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
		    HTTP_BAD },
		{ "GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
		    HTTP_BAD },
		{ "GET /metrics HTTP/1.1\r\n", HTTP_MORE },
		{ "GET /met", HTTP_MORE },
		{ "", HTTP_MORE },
	};
	static char	 big[HTTP_REQ_MAX + 10];
	size_t		 i;
	int		 v;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = http_req_parse(cases[i].req, strlen(cases[i].req));
		CHECK(v == cases[i].want, "%zu: %d, not %d", i, v,
		    cases[i].want);
	}
	/* a NUL in the target: not visible */
	CHECK(http_req_parse("GET /me\0rics HTTP/1.1\r\n\r\n", 25) ==
	    HTTP_BAD);
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	CHECK(http_req_parse(big, HTTP_REQ_MAX - 1) == HTTP_MORE);
	CHECK(http_req_parse(big, HTTP_REQ_MAX) == HTTP_TOO_LARGE);
	CHECK(http_req_parse(big, sizeof(big)) == HTTP_TOO_LARGE);
	/* the end of headers beyond the bound does not count */
	memcpy(big + HTTP_REQ_MAX + 2, "\r\n\r\n", 4);
	CHECK(http_req_parse(big, HTTP_REQ_MAX + 6) == HTTP_TOO_LARGE);
	CHECK_STR(http_reason(405), "Method Not Allowed");
}

int
main(void)
{
	test_render();
	test_http();
	printf("test_metrics: %d checks, %d failed\n", check_count,
	    check_failures);
	return check_failures != 0;
}
