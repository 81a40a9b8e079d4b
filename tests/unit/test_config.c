/*
 * Unit tests for the configuration model (state/config.c): every key and
 * default, destination merges, and every kind of error with its position.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/diag.h"
#include "common/error.h"
#include "state/config.h"

#define FIX KR_FIXTURES "/config"

/* Lines 1-8; tests append from line 9 on. */
static const char base[] = "service: app\n"
			   "image: acme/app\n"
			   "servers:\n"
			   "  - 10.0.0.1\n"
			   "registry:\n"
			   "  server: localhost:5000\n"
			   "builder:\n"
			   "  arch: amd64\n";

static struct kr_config *
load_fixture(const char *name, const char *dest)
{
	struct kr_config_load_opts o = { .destination = dest };
	struct kr_diags d = { 0 };
	struct kr_config *c = NULL;
	char *path = NULL;
	size_t i;

	path = kr_xasprintf("%s/%s/config/deploy.yml", FIX, name);
	if (kr_config_load(&c, &d, path, &o) != 0) {
		for (i = 0; i < d.n; i++) {
			char *s = kr_diag_format(&d.v[i]);

			print_error("%s\n", s);
			free(s);
		}
		fail_msg("%s did not load", name);
	}
	kr_diags_release(&d);
	free(path);
	return c;
}

/* Load base + extra; return the diagnostics (sorted). */
static int
load_text(struct kr_config **out, struct kr_diags *d, const char *text)
{
	int rc = kr_config_load_text(
		out, d, "deploy.yml", text, strlen(text), NULL, NULL, 0, NULL);

	kr_diags_sort(d);
	return rc;
}

static void
expect_one(const char *extra, int line, int col, const char *needle)
{
	struct kr_diags d = { 0 };
	struct kr_config *c = NULL;
	char *text = NULL;
	size_t i;

	text = kr_xasprintf("%s%s", base, extra);
	assert_int_equal(load_text(&c, &d, text), KR_ECONFIG);
	assert_null(c);
	if (d.n != 1 || d.v[0].line != line || d.v[0].col != col ||
		!strstr(d.v[0].msg, needle)) {
		for (i = 0; i < d.n; i++) {
			char *s = kr_diag_format(&d.v[i]);

			print_error("got: %s\n", s);
			free(s);
		}
		fail_msg("expected one error at %d:%d containing '%s'", line,
			col, needle);
	}
	kr_diags_release(&d);
	free(text);
}

static void
test_minimal_defaults(void **state)
{
	struct kr_config *c = load_fixture("minimal", NULL);

	assert_string_equal(c->service, "hello");
	assert_string_equal(c->image, "acme/hello");
	assert_int_equal(c->nroles, 1);
	assert_true(c->servers_is_list);
	assert_string_equal(c->roles[0].name, "web");
	assert_int_equal(c->roles[0].nhosts, 1);
	assert_string_equal(c->roles[0].hosts[0].host, "192.0.2.10");
	assert_string_equal(kr_config_primary_role(c), "web");
	assert_int_equal(kr_config_retain_containers(c), 5);
	assert_int_equal(kr_config_readiness_delay(c), 7);
	assert_int_equal(kr_config_deploy_timeout(c), 30);
	assert_int_equal(kr_config_drain_timeout(c), 30);
	assert_string_equal(kr_config_ssh_user(c), "root");
	assert_int_equal(kr_config_ssh_port(c), 22);
	assert_string_equal(kr_config_secrets_path(c), ".kamal/secrets");
	assert_int_equal(kr_config_app_port(&c->proxy), 80);
	assert_true(kr_config_role_proxied(c, &c->roles[0]));
	assert_int_equal(c->prune, KR_TRI_UNSET);
	assert_null(c->known_hosts);
	assert_int_equal(c->nsecret_refs, 0);
	assert_int_equal(strlen(c->sha256), 64);
	kr_config_free(c);
}

static void
test_all_keys(void **state)
{
	struct kr_config *c = load_fixture("all-keys", NULL);
	const struct kr_config_role *w;
	const struct kr_config_accessory *a;
	size_t i;

	assert_string_equal(c->service, "everything");
	assert_string_equal(kr_kvlist_get(&c->labels, "my-label"), "my-value");
	assert_string_equal(
		c->volumes.v[0], "/path/on/host:/path/in/container:ro");
	assert_string_equal(c->registry.server, "registry.example.com");
	assert_string_equal(c->registry.username, "acme");
	assert_string_equal(
		c->registry.password_secret, "KAMAL_REGISTRY_PASSWORD");
	assert_null(c->registry.password);

	w = kr_config_role(c, "workers");
	assert_non_null(w);
	assert_int_equal(w->nhosts, 2);
	assert_string_equal(w->hosts[1].entry, "app@172.1.0.4:2222");
	assert_string_equal(w->hosts[1].host, "172.1.0.4");
	assert_string_equal(w->hosts[1].user, "app");
	assert_int_equal(w->hosts[1].port, 2222);
	assert_string_equal(w->hosts[1].tags.v[0], "experiment1");
	assert_string_equal(w->cmd, "bin/jobs");
	assert_int_equal(w->stop_timeout, 30);
	/* options flattened like Kamal's optionize */
	{
		static const char *const want[] = { "--memory", "2g", "--cpus",
			"4", "--privileged", "--add-host",
			"a.internal:10.0.0.1", "--add-host",
			"b.internal:10.0.0.2" };

		assert_int_equal(w->args.n, 9);
		for (i = 0; i < 9; i++)
			assert_string_equal(w->args.v[i], want[i]);
	}
	assert_null(w->restart);
	assert_true(w->has_logging);
	assert_string_equal(w->logging.driver, "json-file");
	assert_string_equal(
		kr_kvlist_get(&w->logging.options, "max-size"), "100m");
	assert_int_equal(w->proxy_mode, KR_ROLE_PROXY_MAP);
	assert_int_equal(w->proxy.app_port, 4000);
	assert_string_equal(kr_kvlist_get(&w->labels, "role-label"), "workers");
	assert_string_equal(kr_kvlist_get(&w->env.clear, "QUEUE"), "default");
	assert_string_equal(w->asset_path, "/public");

	assert_string_equal(kr_kvlist_get(&c->env.clear, "DB_USER"), "app");
	assert_string_equal(c->env.secret.v[0], "DB_PASSWORD");
	assert_int_equal(c->env.ntags, 1);
	assert_string_equal(c->env.tags[0].name, "experiment1");
	assert_string_equal(
		kr_kvlist_get(&c->env.tags[0].env.clear, "EXPERIMENT"), "on");

	assert_string_equal(c->asset_path, "/path/to/assets");
	assert_string_equal(c->hooks_path, "/user_home/kamal/hooks");
	assert_null(c->hooks_output);
	assert_string_equal(
		kr_kvlist_get(&c->hooks_output_map, "pre-deploy"), "verbose");
	assert_string_equal(c->secrets_path, ".kamal/secrets");
	assert_string_equal(c->error_pages_path, "public");
	assert_int_equal(c->require_destination, KR_TRI_FALSE);
	assert_string_equal(kr_config_primary_role(c), "workers");
	assert_int_equal(c->allow_empty_roles, KR_TRI_TRUE);
	assert_int_equal(kr_config_retain_containers(c), 3);
	assert_string_equal(c->minimum_version, "1.3.0");
	assert_int_equal(kr_config_readiness_delay(c), 4);
	assert_int_equal(kr_config_deploy_timeout(c), 10);
	assert_int_equal(kr_config_drain_timeout(c), 11);
	assert_int_equal(c->stop_timeout, 12);
	assert_string_equal(c->run_directory, "/etc/kamal");

	assert_string_equal(kr_config_ssh_user(c), "app");
	assert_int_equal(kr_config_ssh_port(c), 2222);
	assert_string_equal(c->ssh.proxy, "root@proxy-host");
	assert_string_equal(c->ssh.proxy_command, "ssh -W %h:%p user@proxy");
	assert_string_equal(c->ssh.log_level, "debug");
	assert_int_equal(c->ssh.keys_only, KR_TRI_FALSE);
	assert_string_equal(c->ssh.keys.v[0], "~/.ssh/id.pem");
	assert_string_equal(c->ssh.key_data.v[0], "SSH_PRIVATE_KEY");
	assert_string_equal(c->ssh.config_list.v[0], "~/.ssh/myconfig");
	assert_int_equal(c->ssh.forward_agent, KR_TRI_FALSE);

	assert_string_equal(c->builder.arch.v[0], "amd64");
	assert_string_equal(c->builder.remote, "ssh://docker@docker-builder");
	assert_int_equal(c->builder.local, KR_TRI_TRUE);
	assert_string_equal(c->builder.pack_builder, "heroku/builder:24");
	assert_int_equal(c->builder.pack_buildpacks.n, 2);
	assert_string_equal(c->builder.cache_type, "registry");
	assert_string_equal(c->builder.cache_options, "mode=max");
	assert_string_equal(c->builder.cache_image, "kamal-app-build-cache");
	assert_string_equal(c->builder.context, ".");
	assert_string_equal(c->builder.dockerfile, "Dockerfile.production");
	assert_string_equal(c->builder.target, "production");
	assert_string_equal(
		kr_kvlist_get(&c->builder.args, "ENVIRONMENT"), "production");
	assert_string_equal(c->builder.secrets.v[0], "SECRET1");
	assert_string_equal(c->builder.ssh, "default=$SSH_AUTH_SOCK");
	assert_string_equal(c->builder.driver, "docker");
	assert_string_equal(c->builder.provenance, "mode=max");
	assert_string_equal(c->builder.sbom, "true");

	assert_int_equal(c->naccessories, 2);
	a = &c->accessories[0];
	assert_string_equal(a->name, "mysql");
	assert_string_equal(a->service, "mysql");
	assert_string_equal(a->image, "mysql:8.0");
	assert_true(a->registry.present);
	assert_string_equal(a->registry.server, "registry.example.com");
	assert_int_equal(a->on, KR_ACC_ON_HOSTS);
	assert_int_equal(a->nhosts, 2);
	assert_string_equal(a->hosts[1].host, "mysql-db2");
	assert_string_equal(a->cmd, "bin/mysqld");
	assert_string_equal(a->port, "127.0.0.1:3306:3306");
	assert_string_equal(kr_kvlist_get(&a->labels, "app"), "myapp");
	assert_string_equal(a->restart, "always");
	assert_int_equal(a->args.n, 2);
	assert_string_equal(a->args.v[0], "--cpus");
	assert_string_equal(kr_kvlist_get(&a->env.clear, "MYSQL_USER"), "app");
	assert_string_equal(a->env.secret.v[0], "MYSQL_ROOT_PASSWORD");
	assert_int_equal(a->nfiles, 2);
	assert_string_equal(a->files[0].local, "config/my.cnf");
	assert_string_equal(a->files[0].remote, "/etc/mysql/my.cnf");
	assert_string_equal(a->files[1].mode, "0600");
	assert_string_equal(a->files[1].owner, "mysql:mysql");
	assert_int_equal(a->ndirectories, 2);
	assert_string_equal(a->directories[0].local, "mysql-logs");
	assert_string_equal(a->directories[1].options, "z");
	assert_string_equal(
		a->volumes.v[0], "/path/to/mysql-logs:/var/log/mysql");
	assert_string_equal(a->network, "custom");
	assert_true(a->has_proxy);
	assert_string_equal(a->proxy.hosts.v[0], "mysql.example.com");
	assert_int_equal(c->accessories[1].on, KR_ACC_ON_TAG);
	assert_string_equal(c->accessories[1].on_names.v[0], "experiment1");

	assert_true(c->has_proxy);
	assert_int_equal(c->proxy.hosts.n, 2);
	assert_int_equal(kr_config_app_port(&c->proxy), 3000);
	assert_int_equal(c->proxy.ssl, KR_TRI_TRUE);
	assert_string_equal(c->proxy.ssl_certificate_pem, "CERTIFICATE_PEM");
	assert_string_equal(c->proxy.ssl_private_key_pem, "PRIVATE_KEY_PEM");
	assert_int_equal(c->proxy.ssl_redirect, KR_TRI_FALSE);
	assert_int_equal(c->proxy.forward_headers, KR_TRI_TRUE);
	assert_int_equal(c->proxy.response_timeout, 10);
	assert_int_equal(c->proxy.path_prefixes.n, 2);
	assert_int_equal(c->proxy.strip_path_prefix, KR_TRI_FALSE);
	assert_int_equal(c->proxy.healthcheck_interval, 3);
	assert_string_equal(c->proxy.healthcheck_path, "/health");
	assert_int_equal(c->proxy.healthcheck_timeout, 3);
	assert_int_equal(c->proxy.buffering_requests, KR_TRI_TRUE);
	assert_int_equal(c->proxy.buffering_max_request_body, 40000000);
	assert_int_equal(c->proxy.buffering_max_response_body, 0);
	assert_int_equal(c->proxy.buffering_memory, 2000000);
	assert_int_equal(c->proxy.logging_request_headers.n, 2);
	assert_string_equal(
		c->proxy.logging_response_headers.v[0], "X-Request-ID");
	assert_true(c->proxy.has_run);
	assert_int_equal(c->proxy.run_http_port, 8080);
	assert_int_equal(c->proxy.run_https_port, 8443);
	assert_int_equal(c->proxy.run_metrics_port, 9090);
	assert_int_equal(c->proxy.run_debug, KR_TRI_TRUE);
	assert_string_equal(c->proxy.run_log_max_size, "30m");
	assert_int_equal(c->proxy.run_publish, KR_TRI_TRUE);
	assert_string_equal(c->proxy.run_bind_ips.v[0], "0.0.0.0");
	assert_string_equal(c->proxy.run_registry, "registry:4443");
	assert_string_equal(c->proxy.run_repository, "myrepo/kamal-proxy");
	assert_string_equal(c->proxy.run_version, "v0.8.0");
	assert_string_equal(c->proxy.run_args.v[0], "--memory");

	assert_int_equal(c->sshkit_max_concurrent_starts, 10);
	assert_int_equal(c->sshkit_pool_idle_timeout, 300);
	assert_int_equal(c->sshkit_dns_retries, 3);
	assert_string_equal(c->boot_limit, "25%");
	assert_int_equal(c->boot_wait, 10);
	assert_int_equal(c->boot_parallel_roles, KR_TRI_TRUE);
	assert_string_equal(c->logging.driver, "json-file");
	assert_string_equal(
		c->output_otel_endpoint, "http://otel-gateway:4318");
	assert_string_equal(c->output_file_path, "/var/log/kamal/");
	assert_int_equal(c->naliases, 1);
	assert_string_equal(c->aliases[0].name, "console");
	assert_string_equal(c->known_hosts, "/etc/kreconcile/known_hosts");
	assert_int_equal(c->prune, KR_TRI_FALSE);

	/* every secret name the config references, in order of appearance */
	{
		static const char *const want[] = { "KAMAL_REGISTRY_PASSWORD",
			"DB_PASSWORD", "KAMAL_REGISTRY_PASSWORD",
			"MYSQL_ROOT_PASSWORD", "CERTIFICATE_PEM",
			"PRIVATE_KEY_PEM" };

		assert_int_equal(c->nsecret_refs, 6);
		for (i = 0; i < 6; i++)
			assert_string_equal(c->secret_refs[i].name, want[i]);
	}
	kr_config_free(c);
}

static void
test_dokuya(void **state)
{
	struct kr_config *c = load_fixture("dokuya", NULL);

	assert_string_equal(c->roles[0].hosts[0].entry, "root@194.195.83.189");
	assert_string_equal(c->roles[0].hosts[0].host, "194.195.83.189");
	assert_string_equal(c->roles[0].hosts[0].user, "root");
	assert_int_equal(c->naccessories, 1);
	assert_string_equal(c->accessories[0].hosts[0].host, "185.194.123.12");
	assert_string_equal(c->accessories[0].port, "127.0.0.1:5432:5432");
	assert_int_equal(c->naliases, 2);
	assert_string_equal(c->aliases[0].command,
		"app exec --interactive --reuse \"bash\"");
	assert_int_equal(c->nsecret_refs, 4);
	kr_config_free(c);
}

static void
test_destination_merge(void **state)
{
	struct kr_config *c = load_fixture("multi", "staging");
	const struct kr_config_role *web = kr_config_role(c, "web");
	const struct kr_config_role *jobs = kr_config_role(c, "jobs");

	assert_string_equal(c->destination, "staging");
	assert_non_null(strstr(c->dest_file, "deploy.staging.yml"));
	/* lists are replaced, maps merged */
	assert_int_equal(web->nhosts, 1);
	assert_string_equal(web->hosts[0].host, "10.9.0.1");
	assert_int_equal(jobs->nhosts, 1);
	assert_string_equal(jobs->hosts[0].host, "10.9.0.2");
	assert_string_equal(jobs->cmd, "bin/jobs"); /* kept from the base */
	assert_string_equal(kr_kvlist_get(&c->env.clear, "REGION"), "staging");
	assert_string_equal(kr_kvlist_get(&c->env.clear, "LOG_LEVEL"), "info");
	assert_string_equal(
		kr_kvlist_get(&c->env.clear, "DB_HOST"), "10.0.1.5");
	assert_string_equal(c->proxy.hosts.v[0], "staging.shop.example.com");
	assert_int_equal(kr_config_app_port(&c->proxy), 3000);
	/* roles come sorted by name, as Kamal sorts them */
	assert_string_equal(c->roles[0].name, "jobs");
	assert_string_equal(c->roles[1].name, "web");
	assert_int_equal(c->prune, KR_TRI_TRUE);
	kr_config_free(c);

	c = load_fixture("multi", NULL);
	assert_int_equal(kr_config_role(c, "web")->nhosts, 2);
	assert_string_equal(kr_kvlist_get(&c->env.clear, "REGION"), "eu");
	assert_string_equal(kr_config_role(c, "jobs")->restart, "always");
	assert_false(kr_config_role_proxied(c, kr_config_role(c, "jobs")));
	kr_config_free(c);
}

static void
test_destination_errors_point_into_their_file(void **state)
{
	struct kr_config_load_opts o = { .destination = "staging" };
	struct kr_diags d = { 0 };
	struct kr_config *c = NULL;
	const char *dest = "env:\n  clear:\n    A: 1\nservers: 7\nprxy: {}\n";

	assert_int_equal(
		kr_config_load_text(&c, &d, "deploy.yml", base, strlen(base),
			"deploy.staging.yml", dest, strlen(dest), &o),
		KR_ECONFIG);
	kr_diags_sort(&d);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.v[0].file, "deploy.staging.yml");
	assert_int_equal(d.v[0].line, 4);
	assert_int_equal(d.v[0].col, 10);
	assert_non_null(
		strstr(d.v[0].msg, "'servers' should be a list or a map"));
	assert_int_equal(d.v[1].line, 5);
	assert_int_equal(d.v[1].col, 1);
	assert_non_null(strstr(d.v[1].msg, "did you mean 'proxy'?"));
	kr_diags_release(&d);

	/* an empty destination file changes nothing */
	assert_int_equal(kr_config_load_text(&c, &d, "deploy.yml", base,
				 strlen(base), "deploy.staging.yml", "", 0, &o),
		0);
	assert_string_equal(c->destination, "staging");
	assert_string_equal(c->service, "app");
	kr_config_free(c);
}

static void
test_missing_destination_file(void **state)
{
	struct kr_config_load_opts o = { .destination = "nope" };
	struct kr_diags d = { 0 };
	struct kr_config *c = NULL;

	assert_int_equal(
		kr_config_load(&c, &d, FIX "/minimal/config/deploy.yml", &o),
		KR_ENOTFOUND);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].file, "deploy.nope.yml"));
	kr_diags_release(&d);
	assert_int_equal(
		kr_config_load(&c, &d, FIX "/nothing/deploy.yml", NULL),
		KR_ENOTFOUND);
	kr_diags_release(&d);
}

static void
test_errors_each_kind(void **state)
{
	expect_one("acessories:\n  db:\n    image: x\n    host: h\n", 9, 1,
		"unknown key 'acessories' (did you mean 'accessories'?)");
	expect_one("accessories:\n  db:\n    host: h\n", 11, 5,
		"'accessories/db/image' is required");
	expect_one("accessories:\n  db:\n    image: x\n", 11, 5,
		"specify exactly one of");
	expect_one(
		"accessories:\n  db:\n    image: x\n    host: h\n    prot: 1\n",
		13, 5,
		"unknown key 'prot' in 'accessories/db' (did you mean "
		"'port'?)");
	expect_one("traefik:\n  image: traefik\n", 9, 1,
		"'traefik' was removed in Kamal 2; use 'proxy'");
	expect_one("healthcheck:\n  path: /up\n", 9, 1,
		"'healthcheck' was removed in Kamal 2; use "
		"'proxy/healthcheck'");
	expect_one("stop_wait_time: 30\n", 9, 1,
		"'stop_wait_time' was removed in Kamal 2; use 'drain_timeout'");
	expect_one("retain_containers: \"5\"\n", 9, 20,
		"'retain_containers' should be an integer, not a string");
	expect_one("retain_containers: 0\n", 9, 20, "at least 1");
	expect_one(
		"labels: [a]\n", 9, 9, "'labels' should be a map, not a list");
	expect_one("accessories:\n  db:\n    image: x\n    host: h\n    role: "
		   "web\n",
		13, 5, "(found several)");
	expect_one("accessories:\n  db:\n    image: x\n    role: nope\n", 12,
		11, "unknown role 'nope'");
	expect_one("env:\n  clear:\n    A: [1]\n", 11, 8,
		"'env/clear/A' should be a string, not a list");
	expect_one("env:\n  clear: {}\n  secrets: [A]\n", 11, 3,
		"unknown key 'secrets' in 'env' (did you mean 'secret'?)");
	expect_one("primary_role: jobs\n", 9, 15,
		"the primary role 'jobs' is not defined");
	expect_one(
		"proxy:\n  ssl: true\n", 10, 8, "automatic ssl needs a host");
	expect_one(
		"aliases:\n  Deploy2: deploy\n", 10, 3, "invalid alias name");
	expect_one("aliases:\n  deploy: deploy\n", 10, 3,
		"conflicts with a built-in command");
	expect_one("x-kreconcile:\n  prune: maybe\n", 10, 10,
		"'x-kreconcile/prune' should be a boolean, not a string");
	expect_one("x-kreconcile:\n  known_host: x\n", 10, 3,
		"did you mean 'known_hosts'?");
	expect_one("x-anything:\n  whatever: [1, 2]\nlogging:\n  drivr: x\n",
		12, 3,
		"unknown key 'drivr' in 'logging' (did you mean 'driver'?)");
	expect_one(
		"ssh:\n  port: http\n", 10, 9, "'ssh/port' should be a port");
	expect_one("require_destination: true\n", 9, 22,
		"a destination is required");
	expect_one("boot:\n  wait: soon\n", 10, 9,
		"'boot/wait' should be an integer");
	expect_one(
		"hooks_output: loud\n", 9, 15, "invalid hooks_output 'loud'");
	expect_one("builder:\n  arch: amd64\n  cache:\n    type: s3\n", 12, 11,
		"'builder/cache/type' should be gha or registry");
	expect_one("builder:\n  arch: amd64\n  multiarch: false\n", 11, 3,
		"'builder/multiarch' was removed in Kamal 2; use 'arch'");
	expect_one("registry:\n  server: ghcr.io\n  username: u\n  password: "
		   "[A, B]\n",
		12, 13, "should be a string or a list with one string");
	expect_one(
		"servers:\n  - a\n  - b\nproxy:\n  host: x.com\n  ssl: true\n",
		10, 3, "ssl is only supported on a single server");
	expect_one("servers:\n  web: [a]\n  api:\n    hosts: [b]\n    proxy:\n"
		   "      host: x.com\n      ssl: true\nproxy:\n  host: x.com\n"
		   "  ssl: true\n",
		10, 3, "cannot share the same host for ssl");
}

static void
test_errors_in_roles(void **state)
{
	struct kr_diags d = { 0 };
	struct kr_config *c = NULL;
	const char *text = "service: app\n" /* 1 */
			   "image: acme/app\n" /* 2 */
			   "registry:\n" /* 3 */
			   "  server: localhost:5000\n" /* 4 */
			   "builder:\n" /* 5 */
			   "  arch: amd64\n" /* 6 */
			   "servers:\n" /* 7 */
			   "  web:\n" /* 8 */
			   "    hosts:\n" /* 9 */
			   "      - a: t1\n" /* 10 */
			   "        b: t2\n" /* 11 */
			   "      - user@\n" /* 12 */
			   "    traefik: true\n" /* 13 */
			   "    labels:\n" /* 14 */
			   "      service: x\n" /* 15 */
			   "    options:\n" /* 16 */
			   "      restart: sometimes\n" /* 17 */
			   "    env:\n" /* 18 */
			   "      tags:\n" /* 19 */
			   "        t1: {A: b}\n" /* 20 */
			   "  jobs: []\n"; /* 21 */
	static const struct {
		int line, col;
		const char *needle;
	} want[] = {
		{ 8, 3, "no servers specified for the primary role 'web'" },
		{ 10, 9, "multiple hosts found" },
		{ 12, 9, "invalid host 'user@'" },
		{ 13, 5, "'servers/web/traefik' was removed in Kamal 2" },
		{ 15, 7, "reserved labels" },
		{ 17, 16, "should be no, always, unless-stopped" },
		{ 19, 7, "tags are only allowed in the root env" },
		{ 21, 3, "no servers specified for the role 'jobs'" },
	};
	size_t i;

	assert_int_equal(load_text(&c, &d, text), KR_ECONFIG);
	for (i = 0; i < d.n && i < sizeof(want) / sizeof(want[0]); i++) {
		char *s = kr_diag_format(&d.v[i]);

		if (d.v[i].line != want[i].line || d.v[i].col != want[i].col ||
			!strstr(d.v[i].msg, want[i].needle))
			fail_msg("error %zu: got '%s', want %d:%d '%s'", i, s,
				want[i].line, want[i].col, want[i].needle);
		free(s);
	}
	assert_int_equal(d.n, sizeof(want) / sizeof(want[0]));
	kr_diags_release(&d);
}

static void
test_required_keys(void **state)
{
	struct kr_diags d = { 0 };
	struct kr_config *c = NULL;

	assert_int_equal(load_text(&c, &d, "servers:\n  - a\n"), KR_ECONFIG);
	/* service, registry, image, builder: all at the document start */
	assert_int_equal(d.n, 4);
	assert_int_equal(d.v[0].line, 1);
	assert_int_equal(d.v[0].col, 1);
	kr_diags_release(&d);

	/* a local registry needs no credentials, and image defaults to service
	 */
	assert_int_equal(load_text(&c, &d,
				 "service: s\nservers: [a]\n"
				 "registry:\n  server: "
				 "localhost:5000\nbuilder:\n  arch: arm64\n"),
		0);
	assert_string_equal(c->image, "s");
	kr_config_free(c);

	/* a remote registry needs username and password */
	assert_int_equal(load_text(&c, &d,
				 "service: s\nimage: i\nservers: [a]\n"
				 "registry:\n  server: ghcr.io\nbuilder:\n  "
				 "arch: arm64\n"),
		KR_ECONFIG);
	assert_int_equal(d.n, 2);
	assert_non_null(strstr(d.v[0].msg, "'registry/username' is required"));
	kr_diags_release(&d);
}

static void
test_service_name(void **state)
{
	struct kr_diags d = { 0 };
	struct kr_config *c = NULL;
	const char *text = "service: my app\nimage: i\nservers: [a]\n"
			   "registry:\n  server: localhost:5000\nbuilder:\n  "
			   "arch: arm64\n";

	assert_int_equal(load_text(&c, &d, text), KR_ECONFIG);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 1);
	assert_int_equal(d.v[0].col, 10);
	assert_non_null(strstr(d.v[0].msg, "invalid service name 'my app'"));
	kr_diags_release(&d);
	/* case-insensitive, like Kamal's /^[a-z0-9_-]+$/i */
	assert_int_equal(load_text(&c, &d,
				 "service: My_App-2\nimage: i\n"
				 "servers: [a]\nregistry:\n  server: "
				 "localhost:5000\nbuilder:\n"
				 "  arch: arm64\n"),
		0);
	kr_config_free(c);
}

/* count diagnostics holding needle */
static size_t
count_msgs(const struct kr_diags *d, const char *needle)
{
	size_t i, n = 0;

	for (i = 0; i < d->n; i++)
		if (strstr(d->v[i].msg, needle))
			n++;
	return n;
}

/* Names that end up in container names, paths and plan lines: Docker's
 * name characters only, so a newline cannot spoof a plan line; an ssh user
 * with ';' is refused here, not at connect time (issue 9, item 8). */
static void
test_names(void **state)
{
	struct kr_diags d = { 0 };
	struct kr_config *c = NULL;
	struct kr_config_load_opts o = { .destination = "prod\n  + fake" };
	const char *text =
		"service: app\nimage: i\nprimary_role: job.v2\n"
		"servers:\n  \"web\\n  + role \":\n    hosts: [10.0.0.1]\n"
		"  job.v2:\n    hosts: [10.0.0.2]\n"
		"registry:\n  server: localhost:5000\nbuilder:\n  arch: arm64\n"
		"ssh:\n  user: root;id\n"
		"accessories:\n  \"d b\":\n    image: pg\n    host: 10.0.0.1\n";
	char *path;

	(void)state;
	assert_int_equal(load_text(&c, &d, text), KR_ECONFIG);
	assert_int_equal(
		count_msgs(&d, "invalid role name 'web\\n  + role '"), 1);
	assert_int_equal(count_msgs(&d, "invalid accessory name 'd b'"), 1);
	assert_int_equal(count_msgs(&d, "invalid ssh user 'root;id'"), 1);
	assert_int_equal(count_msgs(&d, "job.v2"), 0);
	assert_int_equal(d.n, 3);
	kr_diags_release(&d);

	/* a Latin-1 byte: its own position, not 1:1 */
	expect_one("env:\n  clear:\n    A: caf\xe9\n", 11, 11, "byte 0xe9");

	path = kr_xasprintf("%s/minimal/config/deploy.yml", FIX);
	assert_int_equal(kr_config_load(&c, &d, path, &o), KR_ECONFIG);
	assert_int_equal(
		count_msgs(&d, "invalid destination 'prod\\n  + fake'"), 1);
	kr_diags_release(&d);
	free(path);
}

static void
test_wrong_types(void **state)
{
	expect_one("servers: 42\n", 9, 10,
		"'servers' should be a list or a map, not an integer");
}

static void
test_yaml_and_erb_errors(void **state)
{
	struct kr_diags d = { 0 };
	struct kr_config *c = NULL;

	assert_int_equal(
		load_text(&c, &d, "service: a\nimage: [b\n"), KR_ECONFIG);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 3);
	assert_non_null(strstr(d.v[0].msg, "invalid yaml"));
	kr_diags_release(&d);

	assert_int_equal(
		load_text(&c, &d, "service: a\nimage: <% x %>\n"), KR_ECONFIG);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[0].col, 8);
	assert_non_null(strstr(d.v[0].msg, "<% x %>"));
	kr_diags_release(&d);

	assert_int_equal(load_text(&c, &d, "- a\n- b\n"), KR_ECONFIG);
	assert_non_null(strstr(d.v[0].msg, "should be a map of keys"));
	kr_diags_release(&d);
}

static const char *
env_fixed(void *ctx, const char *name)
{
	return strcmp(name, "APP_IMAGE") == 0 ? "acme/from-env" : NULL;
}

static void
test_erb_positions_map_back(void **state)
{
	struct kr_config_load_opts o = { .getenv_fn = env_fixed };
	struct kr_diags d = { 0 };
	struct kr_config *c = NULL;
	/* the ERB tag is longer than its value: later columns must not shift */
	const char *text = "service: app\n"
			   "image: <%= ENV['APP_IMAGE'] %>\n"
			   "servers:\n"
			   "  - 10.0.0.1\n"
			   "registry:\n"
			   "  server: localhost:5000\n"
			   "builder:\n"
			   "  arch: amd64\n"
			   "labels: {a: <%= ENV['APP_IMAGE'] %>, b: [x]}\n";

	assert_int_equal(kr_config_load_text(&c, &d, "deploy.yml", text,
				 strlen(text), NULL, NULL, 0, &o),
		KR_ECONFIG);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 9);
	assert_int_equal(d.v[0].col, 41);
	kr_diags_release(&d);
}

static void
test_check_secrets(void **state)
{
	struct kr_config *c = load_fixture("dokuya", NULL);
	struct kr_kvlist s = { 0 };
	struct kr_diags d = { 0 };

	kr_kvlist_set(&s, "KAMAL_REGISTRY_PASSWORD", "x");
	kr_kvlist_set(&s, "XAI_API_KEY", "x");
	kr_kvlist_set(&s, "POSTGRES_PASSWORD", "x");
	assert_int_equal(
		kr_config_check_secrets(c, &s, ".kamal/secrets", &d), 1);
	assert_int_equal(d.v[0].line, 20);
	assert_int_equal(d.v[0].col, 7);
	assert_non_null(strstr(d.v[0].msg, "secret 'DATABASE_URL'"));
	assert_non_null(strstr(d.v[0].msg, ".kamal/secrets"));
	kr_diags_release(&d);
	kr_kvlist_set(&s, "DATABASE_URL", "x");
	assert_int_equal(
		kr_config_check_secrets(c, &s, ".kamal/secrets", &d), 0);
	kr_kvlist_release(&s);
	kr_config_free(c);
}

static void
test_did_you_mean_distance(void **state)
{
	assert_int_equal(
		kr_config_edit_distance("acessories", "accessories"), 1);
	assert_int_equal(kr_config_edit_distance("", "abc"), 3);
	assert_int_equal(kr_config_edit_distance("kitten", "sitting"), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_dokuya),
		cmocka_unit_test(test_destination_merge),
		cmocka_unit_test(test_destination_errors_point_into_their_file),
		cmocka_unit_test(test_missing_destination_file),
		cmocka_unit_test(test_errors_each_kind),
		cmocka_unit_test(test_errors_in_roles),
		cmocka_unit_test(test_required_keys),
		cmocka_unit_test(test_service_name),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_yaml_and_erb_errors),
		cmocka_unit_test(test_erb_positions_map_back),
		cmocka_unit_test(test_check_secrets),
		cmocka_unit_test(test_did_you_mean_distance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
