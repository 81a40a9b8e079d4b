/*
 * `proxy` (root, role or accessory): kamal-proxy's routing, ssl,
 * healthcheck, buffering, logging and `run` options.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/config.h"
#include "state/config_int.h"

static bool
valid_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	       inet_pton(AF_INET6, s, buf) == 1;
}

static void
split_commas(struct kr_strvec *out, const char *s)
{
	const char *p = s, *c;

	while ((c = strchr(p, ','))) {
		kr_strvec_push_owned(out, kr_xstrndup(p, (size_t)(c - p)));
		p = c + 1;
	}
	kr_strvec_push(out, p);
}

void
kr_cfg_proxy_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *path, struct kr_config_proxy *p)
{
	static const char *const keys[] = { "host", "hosts", "app_port", "ssl",
		"ssl_redirect", "forward_headers", "response_timeout",
		"path_prefix", "path_prefixes", "strip_path_prefix",
		"healthcheck", "buffering", "logging", "run", NULL };
	static const char *const hc_keys[] = { "interval", "path", "timeout",
		NULL };
	const struct kr_yaml_node *hl;
	static const char *const buf_keys[] = { "requests", "responses",
		"max_request_body", "max_response_body", "memory", NULL };
	static const char *const log_keys[] = { "request_headers",
		"response_headers", NULL };
	static const char *const run_keys[] = { "http_port", "https_port",
		"metrics_port", "debug", "log_max_size", "publish", "bind_ips",
		"registry", "repository", "version", "options", NULL };
	const struct kr_yaml_node *v, *ssl;
	char *sp, *host;
	size_t i;

	p->app_port = p->response_timeout = -1;
	p->healthcheck_interval = p->healthcheck_timeout = -1;
	p->buffering_max_request_body = p->buffering_max_response_body = -1;
	p->buffering_memory = -1;
	p->run_http_port = p->run_https_port = p->run_metrics_port = -1;
	p->ssl = p->ssl_redirect = p->forward_headers = KR_TRI_UNSET;
	p->strip_path_prefix = p->buffering_requests = KR_TRI_UNSET;
	p->buffering_responses = p->run_debug = p->run_publish = KR_TRI_UNSET;
	if (!n)
		return;
	if (n->type != KR_YAML_MAP) {
		kr_cfg_type_error(x, n, path, "a map");
		return;
	}
	kr_cfg_check_keys(x, n, path, "proxy", keys, false);
	if (kr_yaml_get(n, "host") && kr_yaml_get(n, "hosts"))
		kr_cfg_err(x, kr_yaml_get_key(n, "hosts"),
			"'%s': specify one of 'host' or 'hosts', not both",
			path);
	if ((host = kr_cfg_get_str(x, n, "host", path))) {
		split_commas(&p->hosts, host);
		free(host);
	}
	if ((hl = kr_yaml_get(n, "hosts")) && hl->type == KR_YAML_SEQ) {
		size_t h;

		/* Kamal checks any `hosts` list as servers: a one-pair map
		 * passes, and is joined into --host as Ruby prints it */
		for (h = 0; h < hl->n; h++) {
			const struct kr_yaml_node *e = hl->v[h];
			char *s, *ep;

			if (e->type == KR_YAML_MAP && e->n == 1) {
				s = kr_cfg_ruby_to_s(e);
				kr_cfg_warn(x, e,
					"'%s/hosts/%zu' is a map: like Kamal, "
					"kreconcile uses '%s' as the host name",
					path, h, s);
				kr_strvec_push_owned(&p->hosts, s);
				continue;
			}
			ep = kr_xasprintf("%s/hosts/%zu", path, h);
			if ((s = kr_cfg_str_node(x, e, ep)))
				kr_strvec_push_owned(&p->hosts, s);
			free(ep);
		}
	} else {
		kr_cfg_get_str_list(x, n, "hosts", path, &p->hosts);
	}
	p->app_port = kr_cfg_get_int(x, n, "app_port", path);
	if ((ssl = kr_yaml_get(n, "ssl"))) {
		bool b;

		sp = kr_cfg_sub(path, "ssl");
		if (kr_yaml_to_bool(ssl, &b)) {
			p->ssl = b ? KR_TRI_TRUE : KR_TRI_FALSE;
		} else if (ssl->type == KR_YAML_MAP) {
			p->ssl = KR_TRI_TRUE; /* Kamal checks no other keys here
					       */
			p->ssl_certificate_pem =
				kr_cfg_get_str(x, ssl, "certificate_pem", sp);
			p->ssl_private_key_pem =
				kr_cfg_get_str(x, ssl, "private_key_pem", sp);
			if (!p->ssl_certificate_pem != !p->ssl_private_key_pem)
				kr_cfg_err(x, ssl,
					"'%s' needs both certificate_pem and "
					"private_key_pem",
					sp);
			if (p->ssl_certificate_pem)
				kr_cfg_add_secret_ref(x, p->ssl_certificate_pem,
					sp,
					kr_yaml_get(ssl, "certificate_pem"));
			if (p->ssl_private_key_pem)
				kr_cfg_add_secret_ref(x, p->ssl_private_key_pem,
					sp,
					kr_yaml_get(ssl, "private_key_pem"));
		} else {
			kr_cfg_type_error(x, ssl, sp, "a boolean or a map");
		}
		free(sp);
		if (p->ssl == KR_TRI_TRUE && !p->hosts.n)
			kr_cfg_err(x, ssl, "'%s': automatic ssl needs a host",
				path);
	}
	p->ssl_redirect = kr_cfg_get_bool(x, n, "ssl_redirect", path);
	p->forward_headers = kr_cfg_get_bool(x, n, "forward_headers", path);
	p->response_timeout = kr_cfg_get_int(x, n, "response_timeout", path);
	if ((host = kr_cfg_get_str(x, n, "path_prefix", path))) {
		split_commas(&p->path_prefixes, host);
		free(host);
	}
	if (kr_yaml_get(n, "path_prefixes")) {
		kr_strvec_release(&p->path_prefixes);
		kr_cfg_get_str_list(
			x, n, "path_prefixes", path, &p->path_prefixes);
	}
	p->strip_path_prefix = kr_cfg_get_bool(x, n, "strip_path_prefix", path);
	if ((v = kr_cfg_get_map(x, n, "healthcheck", path))) {
		sp = kr_cfg_sub(path, "healthcheck");
		kr_cfg_check_keys(x, v, sp, "healthcheck", hc_keys, false);
		p->healthcheck_interval = kr_cfg_get_int(x, v, "interval", sp);
		p->healthcheck_path = kr_cfg_get_str(x, v, "path", sp);
		p->healthcheck_timeout = kr_cfg_get_int(x, v, "timeout", sp);
		free(sp);
	}
	if ((v = kr_cfg_get_map(x, n, "buffering", path))) {
		sp = kr_cfg_sub(path, "buffering");
		kr_cfg_check_keys(x, v, sp, "buffering", buf_keys, false);
		p->buffering_requests = kr_cfg_get_bool(x, v, "requests", sp);
		p->buffering_responses = kr_cfg_get_bool(x, v, "responses", sp);
		p->buffering_max_request_body =
			kr_cfg_get_int(x, v, "max_request_body", sp);
		p->buffering_max_response_body =
			kr_cfg_get_int(x, v, "max_response_body", sp);
		p->buffering_memory = kr_cfg_get_int(x, v, "memory", sp);
		free(sp);
	}
	if ((v = kr_cfg_get_map(x, n, "logging", path))) {
		sp = kr_cfg_sub(path, "logging");
		kr_cfg_check_keys(x, v, sp, "proxy-logging", log_keys, false);
		kr_cfg_get_str_list(x, v, "request_headers", sp,
			&p->logging_request_headers);
		kr_cfg_get_str_list(x, v, "response_headers", sp,
			&p->logging_response_headers);
		free(sp);
	}
	if ((v = kr_cfg_get_map(x, n, "run", path))) {
		sp = kr_cfg_sub(path, "run");
		p->has_run = true;
		kr_cfg_check_keys(x, v, sp, "run", run_keys, false);
		p->run_http_port = kr_cfg_get_int(x, v, "http_port", sp);
		p->run_https_port = kr_cfg_get_int(x, v, "https_port", sp);
		p->run_metrics_port = kr_cfg_get_int(x, v, "metrics_port", sp);
		p->run_debug = kr_cfg_get_bool(x, v, "debug", sp);
		p->run_log_max_size = kr_cfg_get_str(x, v, "log_max_size", sp);
		p->run_publish = kr_cfg_get_bool(x, v, "publish", sp);
		kr_cfg_get_str_list(x, v, "bind_ips", sp, &p->run_bind_ips);
		for (i = 0; i < p->run_bind_ips.n; i++)
			if (!valid_ip(p->run_bind_ips.v[i]))
				kr_cfg_err(x, kr_yaml_get(v, "bind_ips"),
					"'%s/bind_ips': invalid IP address "
					"'%s'",
					sp, p->run_bind_ips.v[i]);
		p->run_registry = kr_cfg_get_str(x, v, "registry", sp);
		p->run_repository = kr_cfg_get_str(x, v, "repository", sp);
		p->run_version = kr_cfg_get_str(x, v, "version", sp);
		kr_cfg_options_node(
			x, v, "options", sp, &p->run_args, NULL, false);
		if (p->run_publish == KR_TRI_FALSE &&
			(p->run_bind_ips.n || p->run_http_port >= 0 ||
				p->run_https_port >= 0))
			kr_cfg_err(x, v,
				"'%s': http_port, https_port and bind_ips "
				"cannot be "
				"set when publish is false",
				sp);
		free(sp);
	}
}
