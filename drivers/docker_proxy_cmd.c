/*
 * kamal-proxy command lines for apply, as Kamal 2.12 writes them
 * (lib/kamal/commands/proxy.rb, commands/app/proxy.rb,
 * configuration/proxy.rb's deploy_options): boot the proxy from the
 * host's boot config files, deploy a role's new container behind it,
 * remove a route, and tag the app image :latest. Every value from the
 * configuration goes through kr_shell_arg.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/quote.h"
#include "drivers/docker_cmd.h"

/* Kamal's default log request headers (Proxy::DEFAULT_LOG_REQUEST_HEADERS). */
static const char *const default_log_request_headers[] = { "Cache-Control",
	"Last-Modified", "User-Agent", NULL };

/* --NAME=VALUE, the value quoted. */
static void
opt(struct kr_buf *out, const char *name, const char *value)
{
	char *w = kr_xasprintf("--%s=%s", name, value);

	kr_shell_arg(out, w);
	free(w);
}

static void
opt_secs(struct kr_buf *out, const char *name, long long secs)
{
	char v[32];

	snprintf(v, sizeof(v), "%llds", secs);
	opt(out, name, v);
}

/* A boolean Kamal always passes: true as a bare flag, false as =false. */
static void
opt_bool(struct kr_buf *out, const char *name, bool value)
{
	if (value)
		kr_buf_printf(out, " --%s", name);
	else
		opt(out, name, "false");
}

int
kr_docker_cmd_proxy_deploy(struct kr_buf *out, const char *proxy,
	const char *route, const char *target_word,
	const struct kr_app_proxy *p, int deploy_timeout, int drain_timeout)
{
	size_t i;
	char v[32];

	kr_buf_puts(out, "docker exec");
	kr_shell_arg(out, proxy ? proxy : "kamal-proxy");
	kr_buf_puts(out, " kamal-proxy deploy");
	kr_shell_arg(out, route);
	/* the target is the caller's shell word (a variable holding the new
	 * container's id), then ":<app_port>" */
	kr_buf_printf(out, " --target=%s:%d", target_word,
		p->app_port > 0 ? p->app_port : 80);
	for (i = 0; i < p->hosts.n; i++)
		opt(out, "host", p->hosts.v[i]);
	if (p->ssl)
		kr_buf_puts(out, " --tls");
	if (p->tls_cert_container && p->tls_key_container) {
		opt(out, "tls-certificate-path", p->tls_cert_container);
		opt(out, "tls-private-key-path", p->tls_key_container);
	}
	opt_secs(out, "deploy-timeout",
		deploy_timeout > 0 ? deploy_timeout : 30);
	opt_secs(out, "drain-timeout", drain_timeout > 0 ? drain_timeout : 30);
	if (p->healthcheck_interval > 0)
		opt_secs(out, "health-check-interval", p->healthcheck_interval);
	if (p->healthcheck_timeout > 0)
		opt_secs(out, "health-check-timeout", p->healthcheck_timeout);
	if (p->healthcheck_path)
		opt(out, "health-check-path", p->healthcheck_path);
	if (p->response_timeout > 0)
		opt_secs(out, "target-timeout", p->response_timeout);
	opt_bool(out, "buffer-requests", p->buffer_requests != 0);
	opt_bool(out, "buffer-responses", p->buffer_responses != 0);
	if (p->buffer_memory >= 0) {
		snprintf(v, sizeof(v), "%lld", p->buffer_memory);
		opt(out, "buffer-memory", v);
	}
	if (p->max_request_body >= 0) {
		snprintf(v, sizeof(v), "%lld", p->max_request_body);
		opt(out, "max-request-body", v);
	}
	if (p->max_response_body >= 0) {
		snprintf(v, sizeof(v), "%lld", p->max_response_body);
		opt(out, "max-response-body", v);
	}
	for (i = 0; i < p->path_prefixes.n; i++)
		opt(out, "path-prefix", p->path_prefixes.v[i]);
	if (p->strip_path_prefix >= 0)
		opt_bool(out, "strip-path-prefix", p->strip_path_prefix);
	if (p->forward_headers >= 0)
		opt_bool(out, "forward-headers", p->forward_headers);
	if (p->ssl_redirect >= 0)
		opt_bool(out, "tls-redirect", p->ssl_redirect);
	if (p->log_request_headers.n)
		for (i = 0; i < p->log_request_headers.n; i++)
			opt(out, "log-request-header",
				p->log_request_headers.v[i]);
	else
		for (i = 0; default_log_request_headers[i]; i++)
			opt(out, "log-request-header",
				default_log_request_headers[i]);
	for (i = 0; i < p->log_response_headers.n; i++)
		opt(out, "log-response-header", p->log_response_headers.v[i]);
	return 0;
}

int
kr_docker_cmd_proxy_remove(
	struct kr_buf *out, const char *proxy, const char *route)
{
	kr_buf_puts(out, "docker exec");
	kr_shell_arg(out, proxy ? proxy : "kamal-proxy");
	kr_buf_puts(out, " kamal-proxy remove");
	return kr_shell_arg(out, route);
}

/* "[ip:]port:inner", an IPv6 address in brackets. */
static void
publish(struct kr_buf *out, const char *ip, int port, int inner)
{
	char *w;

	if (ip && strchr(ip, ':') && ip[0] != '[')
		w = kr_xasprintf("[%s]:%d:%d", ip, port, inner);
	else if (ip)
		w = kr_xasprintf("%s:%d:%d", ip, port, inner);
	else
		w = kr_xasprintf("%d:%d", port, inner);
	kr_buf_puts(out, " --publish");
	kr_shell_arg(out, w);
	free(w);
}

/*
 * Kamal's run command with proxy/run in the config (Proxy::Run): the
 * config volume, the apps-config volume, publish (each bind IP), log
 * max-size, --expose of the metrics port, run.options, the image and
 * `kamal-proxy run [--debug] [--metrics-port=N]`.
 */
static void
proxy_run(struct kr_buf *out, const struct kr_app_proxy *p)
{
	size_t i, nb = p->run_bind_ips.n ? p->run_bind_ips.n : 1;
	char *img;

	kr_buf_puts(out, "docker run --name kamal-proxy --network kamal "
			 "--detach --restart unless-stopped --volume "
			 "kamal-proxy-config:/home/kamal-proxy/.config/"
			 "kamal-proxy --volume \"$PWD\"/.kamal/proxy/"
			 "apps-config:/home/kamal-proxy/.apps-config");
	for (i = 0; p->run_publish != 0 && i < nb; i++) {
		const char *ip =
			p->run_bind_ips.n ? p->run_bind_ips.v[i] : NULL;

		publish(out, ip, p->run_http_port >= 0 ? p->run_http_port : 80,
			80);
		publish(out, ip,
			p->run_https_port >= 0 ? p->run_https_port : 443, 443);
	}
	if (!p->run_log_max_size || *p->run_log_max_size) {
		char *w = kr_xasprintf("max-size=%s",
			p->run_log_max_size ? p->run_log_max_size : "10m");

		kr_buf_puts(out, " --log-opt");
		kr_shell_arg(out, w);
		free(w);
	}
	if (p->run_metrics_port >= 0)
		kr_buf_printf(out, " --expose=%d", p->run_metrics_port);
	for (i = 0; i < p->run_args.n; i++)
		kr_shell_arg(out, p->run_args.v[i]);
	img = kr_docker_proxy_image(p);
	kr_shell_arg(out, img);
	free(img);
	kr_buf_puts(out, " kamal-proxy run");
	if (p->run_debug == 1)
		kr_buf_puts(out, " --debug");
	if (p->run_metrics_port >= 0)
		kr_buf_printf(out, " --metrics-port=%d", p->run_metrics_port);
}

char *
kr_docker_proxy_image(const struct kr_app_proxy *p)
{
	if (!p || !p->run)
		return kr_xstrdup("basecamp/kamal-proxy:" KR_PROXY_MIN_VERSION);
	return kr_xasprintf("%s%s%s:%s", p->run_registry ? p->run_registry : "",
		p->run_registry ? "/" : "",
		p->run_repository ? p->run_repository : "basecamp/kamal-proxy",
		p->run_version ? p->run_version : KR_PROXY_MIN_VERSION);
}

/*
 * Kamal's `proxy boot`: the apps-config directory, then `docker container
 * start kamal-proxy ||` the run command: from proxy/run when the config
 * has it (p->run), else the one that reads the boot config files `kamal
 * proxy boot_config set` writes under .kamal/proxy/ (defaults: publish 80
 * and 443, log max-size 10m, basecamp/kamal-proxy at the minimum version;
 * constant text).
 */
int
kr_docker_cmd_proxy_boot(struct kr_buf *out, const struct kr_app_proxy *p)
{
	if (p && p->run) {
		kr_buf_puts(out, "mkdir -p .kamal/proxy/apps-config && { "
				 "docker container start kamal-proxy || ");
		proxy_run(out, p);
		return kr_buf_puts(out, "; }");
	}
	return kr_buf_puts(out,
		"mkdir -p .kamal/proxy/apps-config && { docker container start "
		"kamal-proxy || echo \"$(cat .kamal/proxy/options 2> /dev/null "
		"|| echo \"--publish 80:80 --publish 443:443 --log-opt "
		"max-size=10m\") $(cat .kamal/proxy/image 2> /dev/null || echo "
		"\"basecamp/kamal-proxy\"):$(cat .kamal/proxy/image_version 2> "
		"/dev/null || echo \"" KR_PROXY_MIN_VERSION "\") $(cat "
		".kamal/proxy/run_command 2> /dev/null || echo \"\")\" | xargs "
		"docker run --name kamal-proxy --network kamal --detach "
		"--restart unless-stopped --volume "
		"kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy "
		"--volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/"
		".apps-config; }");
}

int
kr_docker_cmd_tag(struct kr_buf *out, const char *src, const char *dst)
{
	kr_buf_puts(out, "docker tag");
	kr_shell_arg(out, src);
	return kr_shell_arg(out, dst);
}
