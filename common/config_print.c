/*
 * yaimd -n: the effective configuration, printed as YAML that
 * config_load() reads back to the same configuration (secrets aside).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "config.h"

static int
plain_ok(const char *s)
{
	static const char *reserved[] = { "true", "false", "yes", "no", "on",
	    "off", "null", "y", "n" };
	size_t	 i;

	if (!isalpha((unsigned char)*s) && *s != '/' && *s != '_')
		return 0;
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcasecmp(s, reserved[i]) == 0)
			return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("._/:@+=-", *s) == NULL)
			return 0;
	return 1;
}

/* A string as a YAML scalar the loader reads back unchanged. */
static void
print_scalar(FILE *fp, const char *s)
{
	if (plain_ok(s)) {
		fprintf(fp, "%s\n", s);
		return;
	}
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fputs("\"\n", fp);
}

static void
print_str(FILE *fp, const char *indent, const char *key, const char *s)
{
	fprintf(fp, "%s%s: ", indent, key);
	print_scalar(fp, s);
}

static void
print_item(FILE *fp, const char *indent, const char *s)
{
	fprintf(fp, "%s- ", indent);
	print_scalar(fp, s);
}

static void
print_secret(FILE *fp, const char *indent, const char *key, const char *s)
{
	fprintf(fp, "%s%s: \"%s\"\n", indent, key, *s ? "********" : "");
}

static void
print_check(FILE *fp, const struct check_conf *chk)
{
	const char	*in = "    ";
	uint32_t	 i;

	fprintf(fp, "  - name: ");
	print_scalar(fp, chk->name);
	fprintf(fp, "%stype: %s\n", in, 
	    config_check_kind_name(chk->kind));
	fprintf(fp, "%sinterval: %u\n%stimeout: %u\n%srise: %u\n%sfall: %u\n",
	    in, chk->interval_ms, in, chk->timeout_ms, in, chk->rise, in,
	    chk->fall);
	switch (chk->kind) {
	case CHECK_HTTP:
		print_str(fp, in, "http-url", chk->http_url);
		fprintf(fp, "%shttp-expected-code: %u\n", in,
		    chk->http_expected_code);
		print_str(fp, in, "http-expected-response-contains",
		    chk->http_expected_contains);
		print_str(fp, in, "http-host", chk->http_host_header);
		print_str(fp, in, "http-ca-file", chk->http_ca_file);
		fprintf(fp, "%shttp-tls-verify: %s\n", in,
		    chk->http_tls_verify ? "true" : "false");
		fprintf(fp, "%shttp-max-body: %u\n", in, chk->http_max_body);
		break;
	case CHECK_TCP:
		print_str(fp, in, "tcp-host", chk->tcp_host);
		fprintf(fp, "%stcp-port: %u\n", in, chk->tcp_port);
		break;
	case CHECK_POSTGRES:
		print_str(fp, in, "postgres-host", chk->pg_host);
		fprintf(fp, "%spostgres-port: %u\n", in, chk->pg_port);
		print_str(fp, in, "postgres-user", chk->pg_user);
		print_secret(fp, in, "postgres-password", chk->pg_password);
		print_str(fp, in, "postgres-dbname", chk->pg_dbname);
		print_str(fp, in, "postgres-query", chk->pg_query);
		print_str(fp, in, "postgres-expected", chk->pg_expected);
		break;
	case CHECK_EXEC:
		fprintf(fp, "%sexec-command:\n", in);
		for (i = 0; i < chk->exec_argc && i < CFG_MAX_ARGS; i++)
			print_item(fp, "      ", chk->exec_argv[i]);
		fprintf(fp, "%sexec-max-output: %u\n", in,
		    chk->exec_max_output);
		break;
	}
}

int
config_password_warning(const struct yaim_config *conf, char *buf,
    size_t len)
{
	uint32_t	 i, n = 0, first = 0;

	if (conf->etcd_password[0] == '\0')
		return 0;
	for (i = conf->n_endpoints; i-- > 0;)
		if (strncasecmp(conf->endpoints[i], "http://", 7) == 0) {
			n++;
			first = i;
		}
	if (n == 0)
		return 0;
	snprintf(buf, len, "etcd_password is sent in clear text to %s%s; "
	    "use https:// endpoints", conf->endpoints[first],
	    n > 1 ? " and other http:// endpoints" : "");
	return 1;
}

/*
 * The effective configuration, every default filled in, in the order
 * of yaim.yml(5).  The output is itself a valid configuration (with
 * the secrets replaced by asterisks).
 */
void
config_print(FILE *fp, const struct yaim_config *conf)
{
	char		 buf[YAIM_ADDRSTRLEN], warn[CFG_URL_MAX];
	uint32_t	 i;

	print_str(fp, "", "dcs-type", conf->dcs_type);
	print_str(fp, "", "dcs-namespace", conf->dcs_namespace);
	print_str(fp, "", "dcs-clustername", conf->dcs_clustername);
	fprintf(fp, "# prefix: %s\n", conf->prefix);
	fprintf(fp, "dcs-endpoints:\n");
	for (i = 0; i < conf->n_endpoints && i < CFG_MAX_ENDPOINTS; i++)
		print_item(fp, "  ", conf->endpoints[i]);
	fprintf(fp, "interval: %u\nttl: %u\nretry_num: %u\nretry_after: %u\n",
	    conf->interval_ms, conf->ttl_ms, conf->retry_num,
	    conf->retry_after_ms);
	print_str(fp, "", "etcd_user", conf->etcd_user);
	if (config_password_warning(conf, warn, sizeof(warn)))
		fprintf(fp, "# warning: %s\n", warn);
	print_secret(fp, "", "etcd_password", conf->etcd_password);
	print_str(fp, "", "etcd-ca-file", conf->etcd_ca_file);
	print_str(fp, "", "etcd-cert-file", conf->etcd_cert_file);
	print_str(fp, "", "etcd-key-file", conf->etcd_key_file);
	fprintf(fp, "etcd-timeout: %u\nfence-margin: %u\n",
	    conf->etcd_timeout_ms, conf->fence_margin_ms);
	fprintf(fp, "resolve-interval: %u\n", conf->resolve_interval_ms);
	print_str(fp, "", "nodename", conf->nodename);
	print_str(fp, "", "user", conf->user);
	print_str(fp, "", "chroot", conf->chroot);
	print_str(fp, "", "control-socket", conf->control_socket[0] == '\0' ?
	    "none" : conf->control_socket);
	print_str(fp, "", "control-group", conf->control_group);
	print_str(fp, "", "interface", conf->interface);
	print_str(fp, "", "label", conf->label);
	fprintf(fp, "netmask: %u\nnetmask6: %u\n", conf->netmask,
	    conf->netmask6);
	if (conf->n_networks == 0)
		fprintf(fp, "allowed-networks: []\n");
	else
		fprintf(fp, "allowed-networks:\n");
	for (i = 0; i < conf->n_networks && i < CFG_MAX_NETWORKS; i++)
		fprintf(fp, "  - %s/%u\n", ntop(&conf->networks[i]),
		    conf->networks[i].prefixlen);
	fprintf(fp, "garp-count: %u\ngarp-interval: %u\ngarp-refresh: %u\n",
	    conf->garp_count, conf->garp_interval_ms, conf->garp_refresh_ms);
	fprintf(fp, "peers: %s\nfailsafe: %s\n", conf->peers ? "yes" : "no",
	    conf->failsafe ? "yes" : "no");
	print_str(fp, "", "peer-address", conf->peer_address.af == 0 ? "" :
	    yaim_addr_ntop(&conf->peer_address, buf, sizeof(buf)));
	fprintf(fp, "peer-port: %u\n", conf->peer_port);
	print_str(fp, "", "peer-key-file", conf->peer_key_file);
	fprintf(fp, "peer-interval: %u\npeer-timeout: %u\n",
	    conf->peer_interval_ms, conf->peer_timeout_ms);
	if (conf->notify_argc == 0)
		fprintf(fp, "notify-command: []\n");
	else
		fprintf(fp, "notify-command:\n");
	for (i = 0; i < conf->notify_argc && i < CFG_MAX_ARGS; i++)
		print_item(fp, "  ", conf->notify_argv[i]);
	fprintf(fp, "notify-timeout: %u\n", conf->notify_timeout_ms);
	print_str(fp, "", "metrics-listen", conf->metrics_listen);
	fprintf(fp, "checks:\n");
	for (i = 0; i < conf->n_checks && i < CFG_MAX_CHECKS; i++)
		print_check(fp, &conf->checks[i]);
}
