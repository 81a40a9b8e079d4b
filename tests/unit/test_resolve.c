/*
 * Unit tests for the per-host resolution (state/resolve.c, state/desired.c):
 * names, labels, env merge with tags, env files, accessories on other hosts
 * than the app, destinations, the version, and the JSON form without secrets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "reconciler/load.h"
#include <jansson.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/error.h"
#include "common/hash.h"
#include "state/config.h"
#include "state/desired.h"
#include "state/envfile.h"
#include "state/secrets.h"

#define FIX KR_FIXTURES "/config"
#define V "0123456789abcdef0123456789abcdef01234567"

static void
print_diags(const struct kr_diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		char *s = kr_diag_format(&d->v[i]);

		print_error("%s\n", s);
		free(s);
	}
}

/* Load the fixture's config and secrets and resolve at version V. */
static struct kr_desired *
resolve(const char *name, const char *dest, bool skip_secrets)
{
	struct kr_config_load_opts lo = { .destination = dest };
	struct kr_secrets_opts so = { .command_timeout = 5, .run_commands = 1 };
	struct kr_resolve_opts ro = { .version = V,
		.version_source = "test",
		.skip_secrets = skip_secrets };
	struct kr_diags d = { 0 };
	struct kr_config *c = NULL;
	struct kr_kvlist secrets = { 0 };
	struct kr_desired *out = NULL;
	char *path = kr_xasprintf("%s/%s/config/deploy.yml", FIX, name);
	char *spath = kr_xasprintf("%s/%s/.kamal/secrets", FIX, name);
	char *base = kr_xasprintf("%s/%s", FIX, name);

	ro.base_dir = base;
	if (kr_config_load(&c, &d, path, &lo) != 0) {
		print_diags(&d);
		fail_msg("%s: config did not load", name);
	}
	if (!skip_secrets &&
		kr_secrets_load_path(&secrets, &d, spath, dest, &so) != 0) {
		print_diags(&d);
		fail_msg("%s: secrets did not load", name);
	}
	if (kr_desired_resolve(
		    &out, &d, c, skip_secrets ? NULL : &secrets, &ro) != 0) {
		print_diags(&d);
		fail_msg("%s: did not resolve: %s", name, kr_error_last());
	}
	assert_int_equal(d.n, 0);
	kr_kvlist_release(&secrets);
	kr_config_free(c);
	free(path);
	free(spath);
	free(base);
	return out;
}

static void
assert_env_file(
	const struct kr_env_file *ef, const char *path, const char *const *kv)
{
	struct kr_kvlist want = { 0 };
	struct kr_buf b = KR_BUF_INIT;
	char sha[KR_SHA256_HEX];
	size_t n = 0;

	assert_string_equal(ef->path, path);
	for (; kv[0]; kv += 2, n++) {
		assert_true(n < ef->secrets.n);
		assert_string_equal(ef->secrets.v[n].key, kv[0]);
		assert_string_equal(ef->secrets.v[n].value, kv[1]);
		kr_kvlist_append(&want, kv[0], kv[1]);
	}
	assert_int_equal(ef->secrets.n, n);
	assert_int_equal(kr_envfile_render(&b, &want), 0);
	assert_string_equal(ef->content, b.ptr);
	kr_sha256_hex(sha, b.ptr, b.len);
	assert_string_equal(ef->sha256, sha);
	kr_buf_release(&b);
	kr_kvlist_release(&want);
}

static void
assert_kv(const struct kr_kvlist *kv, const char *const *want)
{
	size_t n = 0;

	for (; want[0]; want += 2, n++) {
		if (n >= kv->n)
			fail_msg("missing %s", want[0]);
		assert_string_equal(kv->v[n].key, want[0]);
		assert_string_equal(kv->v[n].value, want[1]);
	}
	assert_int_equal(kv->n, n);
}

static void
assert_sv(const struct kr_strvec *sv, const char *const *want)
{
	size_t n = 0;

	for (; want[0]; want++, n++) {
		if (n >= sv->n)
			fail_msg("missing %s", want[0]);
		assert_string_equal(sv->v[n], want[0]);
	}
	assert_int_equal(sv->n, n);
}

static void
test_dokuya_two_hosts(void **state)
{
	struct kr_desired *d;
	const struct kr_host *app_host, *db_host;
	const struct kr_app *a;
	const struct kr_accessory *pg;

	setenv("KAMAL_REGISTRY_PASSWORD", "registry-from-env", 1);
	setenv("XAI_API_KEY", "xai-from-env", 1);
	d = resolve("dokuya", NULL, false);
	assert_int_equal(d->nhosts, 2);
	assert_string_equal(d->image, "docker.io/shuirong/dokuya");
	assert_string_equal(d->registry.username, "shuirong");
	assert_string_equal(d->registry.password, "registry-from-env");
	assert_string_equal(d->lock_host, "194.195.83.189");

	/* the app host: "root@" stripped, root from the entry */
	app_host = kr_desired_host(d, "194.195.83.189");
	assert_non_null(app_host);
	assert_null(kr_desired_host(d, "root@194.195.83.189"));
	assert_string_equal(app_host->user, "root");
	assert_int_equal(app_host->port, 22);
	assert_int_equal(app_host->napps, 1);
	assert_int_equal(app_host->naccessories, 0);
	a = &app_host->apps[0];
	assert_string_equal(a->name, "dokuya-web-" V);
	assert_string_equal(a->image, "docker.io/shuirong/dokuya:" V);
	assert_kv(&a->labels, (const char *const[]){ "service", "dokuya",
				      "role", "web", "destination", "", NULL });
	assert_kv(&a->env,
		(const char *const[]){ "KAMAL_CONTAINER_NAME", "dokuya-web-" V,
			"KAMAL_VERSION", V, "KAMAL_HOST", "194.195.83.189",
			"PHX_HOST", "0.0.0.0", NULL });
	assert_env_file(&a->env_file, ".kamal/apps/dokuya/env/roles/web.env",
		(const char *const[]){ "XAI_API_KEY", "xai-from-env",
			"DATABASE_URL",
			"postgres://"
			"postgres:fixture-db-password@185.194.123.12:5432/"
			"production_db",
			NULL });
	assert_true(a->proxy);
	assert_int_equal(a->proxy_config.app_port, 80);
	assert_string_equal(a->network, "kamal");
	assert_string_equal(a->restart, "unless-stopped");
	assert_null(a->logging.driver);
	assert_kv(&a->logging.options,
		(const char *const[]){ "max-size", "10m", NULL });
	assert_null(a->cmd);
	assert_int_equal(a->stop_timeout, 0);

	/* Postgres on the other host, no app there */
	db_host = kr_desired_host(d, "185.194.123.12");
	assert_non_null(db_host);
	assert_int_equal(db_host->napps, 0);
	assert_int_equal(db_host->roles.n, 0);
	assert_int_equal(db_host->naccessories, 1);
	assert_string_equal(db_host->user, "root");
	pg = &db_host->accessories[0];
	assert_string_equal(pg->name, "postgres");
	assert_string_equal(pg->container, "dokuya-postgres");
	assert_string_equal(pg->image, "postgres:15");
	assert_sv(&pg->ports,
		(const char *const[]){ "127.0.0.1:5432:5432", NULL });
	assert_kv(&pg->labels,
		(const char *const[]){ "service", "dokuya-postgres", NULL });
	assert_kv(
		&pg->env, (const char *const[]){ "KAMAL_HOST", "185.194.123.12",
				  "POSTGRES_USER", "postgres", "POSTGRES_DB",
				  "production_db", NULL });
	assert_env_file(&pg->env_file,
		".kamal/apps/dokuya/env/accessories/postgres.env",
		(const char *const[]){
			"POSTGRES_PASSWORD", "fixture-db-password", NULL });
	assert_sv(&pg->directories,
		(const char *const[]){
			"dokuya-postgres/data:/var/lib/postgresql/data",
			NULL });
	assert_string_equal(pg->network, "kamal");
	assert_string_equal(pg->restart, "unless-stopped");
	kr_desired_free(d);
}

static void
test_multi_roles_and_tags(void **state)
{
	struct kr_desired *d = resolve("multi", NULL, false);
	const struct kr_host *h1, *h2, *h3;
	const struct kr_app *web, *jobs;

	/* roles sorted (jobs, web), hosts in order of appearance */
	assert_int_equal(d->nhosts, 3);
	assert_string_equal(d->hosts[0].name, "10.0.0.3");
	assert_string_equal(d->hosts[1].name, "10.0.0.1");
	assert_string_equal(d->hosts[2].name, "10.0.0.2");
	assert_string_equal(d->image, "ghcr.io/acme/shop");
	assert_string_equal(d->lock_host, "10.0.0.1");
	assert_true(d->prune);
	assert_string_equal(d->known_hosts, "config/known_hosts");

	h1 = kr_desired_host(d, "10.0.0.1");
	web = &h1->apps[0];
	assert_string_equal(web->image, "ghcr.io/acme/shop:" V);
	assert_kv(&web->labels,
		(const char *const[]){ "service", "shop", "role", "web",
			"destination", "", "team", "payments", NULL });
	/* merge key <<: *common, then the root's own keys */
	assert_kv(&web->env,
		(const char *const[]){ "KAMAL_CONTAINER_NAME", "shop-web-" V,
			"KAMAL_VERSION", V, "KAMAL_HOST", "10.0.0.1",
			"LOG_LEVEL", "info", "REGION", "eu", "DB_HOST",
			"10.0.1.5", NULL });
	assert_env_file(&web->env_file, ".kamal/apps/shop/env/roles/web.env",
		(const char *const[]){ "RAILS_MASTER_KEY",
			"fixture-master-common", "DB_PASSWORD",
			"fixture-main-db", NULL });
	assert_sv(&web->volumes,
		(const char *const[]){
			"/srv/shop/storage:/rails/storage", NULL });
	assert_true(web->proxy);
	assert_sv(&web->proxy_config.hosts,
		(const char *const[]){ "shop.example.com", NULL });
	assert_int_equal(web->proxy_config.app_port, 3000);
	assert_string_equal(web->proxy_config.healthcheck_path, "/up");

	/* a tag of the host adds its env */
	h2 = kr_desired_host(d, "10.0.0.2");
	assert_sv(&h2->tags, (const char *const[]){ "monitoring", NULL });
	assert_string_equal(
		kr_kvlist_get(&h2->apps[0].env, "LOG_LEVEL"), "debug");

	/* root -> role -> each tag, clear and secret */
	h3 = kr_desired_host(d, "10.0.0.3");
	assert_sv(&h3->roles, (const char *const[]){ "jobs", NULL });
	assert_sv(&h3->tags,
		(const char *const[]){ "monitoring", "replica", NULL });
	jobs = &h3->apps[0];
	assert_string_equal(jobs->name, "shop-jobs-" V);
	assert_kv(&jobs->env,
		(const char *const[]){ "KAMAL_CONTAINER_NAME", "shop-jobs-" V,
			"KAMAL_VERSION", V, "KAMAL_HOST", "10.0.0.3",
			"LOG_LEVEL", "debug", "REGION", "us", "DB_HOST",
			"10.0.1.6", NULL });
	assert_env_file(&jobs->env_file, ".kamal/apps/shop/env/roles/jobs.env",
		(const char *const[]){ "RAILS_MASTER_KEY",
			"fixture-master-common", "DB_PASSWORD",
			"fixture-main-db", "JOBS_TOKEN", "fixture-jobs",
			"READONLY_PASSWORD", "fixture-readonly", NULL });
	assert_kv(
		&jobs->labels, (const char *const[]){ "service", "shop", "role",
				       "jobs", "destination", "", "team",
				       "payments", "queue", "default", NULL });
	assert_sv(&jobs->args,
		(const char *const[]){ "--memory", "2g", "--cpus", "2", NULL });
	assert_string_equal(jobs->restart, "always");
	assert_string_equal(jobs->cmd, "bin/jobs");
	assert_int_equal(jobs->stop_timeout, 45);
	assert_false(jobs->proxy);
	assert_string_equal(jobs->logging.driver, "json-file");
	assert_kv(&jobs->logging.options,
		(const char *const[]){ "max-size", "50m", NULL });

	/* redis runs on the jobs role's host */
	assert_int_equal(h3->naccessories, 1);
	assert_string_equal(h3->accessories[0].container, "shop-redis");
	assert_sv(&h3->accessories[0].ports,
		(const char *const[]){ "6379:6379", NULL });
	assert_sv(&h3->accessories[0].args,
		(const char *const[]){ "--memory", "512m", NULL });
	assert_string_equal(
		h3->accessories[0].cmd, "redis-server --appendonly yes");
	assert_env_file(&h3->accessories[0].env_file,
		".kamal/apps/shop/env/accessories/redis.env",
		(const char *const[]){ NULL });
	assert_string_equal(h3->accessories[0].env_file.content, "\n");
	assert_int_equal(h1->naccessories, 0);
	kr_desired_free(d);
}

static void
test_destination(void **state)
{
	struct kr_desired *d = resolve("multi", "staging", false);
	const struct kr_host *h;
	const struct kr_app *a;

	assert_string_equal(d->destination, "staging");
	assert_int_equal(d->nhosts, 2);
	h = kr_desired_host(d, "10.9.0.1");
	a = &h->apps[0];
	assert_string_equal(a->name, "shop-web-staging-" V);
	assert_string_equal(
		kr_kvlist_get(&a->labels, "destination"), "staging");
	assert_string_equal(
		kr_kvlist_get(&a->env, "KAMAL_DESTINATION"), "staging");
	assert_string_equal(kr_kvlist_get(&a->env, "REGION"), "staging");
	/* .kamal/secrets.staging replaces .kamal/secrets, after secrets-common
	 */
	assert_env_file(&a->env_file,
		".kamal/apps/shop-staging/env/roles/web.env",
		(const char *const[]){ "RAILS_MASTER_KEY",
			"fixture-master-staging", "DB_PASSWORD",
			"fixture-main-db-staging", NULL });
	assert_sv(&a->proxy_config.hosts,
		(const char *const[]){ "staging.shop.example.com", NULL });
	h = kr_desired_host(d, "10.9.0.2");
	assert_string_equal(h->accessories[0].env_file.path,
		".kamal/apps/shop-staging/env/accessories/redis.env");
	kr_desired_free(d);
}

static void
test_all_keys_hosts_and_files(void **state)
{
	struct kr_desired *d = resolve("all-keys", NULL, false);
	const struct kr_host *h;
	const struct kr_accessory *mysql;
	char sha[KR_SHA256_HEX];
	const char *cnf = "[mysqld]\nbind-address = 0.0.0.0\n";

	/* ssh/user and ssh/port apply unless the entry names its own */
	h = kr_desired_host(d, "172.1.0.3");
	assert_string_equal(h->user, "app");
	assert_int_equal(h->port, 2222);
	assert_string_equal(h->apps[0].name, "everything-workers-" V);
	/* role proxy map merged over the root one */
	assert_int_equal(h->apps[0].proxy_config.app_port, 4000);
	assert_string_equal(
		h->apps[0].proxy_config.healthcheck_path, "/health");
	assert_true(h->apps[0].proxy_config.ssl);
	/* the root's custom certificate, where Kamal writes it for the role,
	 * and the root's buffering for kamal-proxy deploy */
	assert_string_equal(h->apps[0].proxy_config.tls_cert_path,
		".kamal/proxy/apps-config/everything/tls/workers/cert.pem");
	assert_string_equal(h->apps[0].proxy_config.tls_key_container,
		"/home/kamal-proxy/.apps-config/everything/tls/workers/"
		"key.pem");
	assert_string_equal(
		h->apps[0].proxy_config.tls_cert_pem, "fixture-cert");
	assert_string_equal(h->apps[0].proxy_config.tls_key_pem, "fixture-key");
	assert_int_equal(h->apps[0].proxy_config.max_request_body, 40000000);
	assert_int_equal(h->apps[0].proxy_config.buffer_memory, 2000000);
	assert_int_equal(h->apps[0].proxy_config.buffer_requests, 1);
	/* proxy/run: how this host's kamal-proxy is booted */
	assert_true(h->apps[0].proxy_config.run);
	assert_int_equal(h->apps[0].proxy_config.run_http_port, 8080);
	assert_int_equal(h->apps[0].proxy_config.run_metrics_port, 9090);
	assert_int_equal(h->apps[0].proxy_config.run_debug, 1);
	assert_string_equal(h->apps[0].proxy_config.run_log_max_size, "30m");
	assert_string_equal(h->apps[0].proxy_config.run_version, "v0.8.0");
	assert_string_equal(
		h->apps[0].proxy_config.run_registry, "registry:4443");
	assert_true(h->apps[0].proxy_config.run_args.n >= 2);
	/* asset volume for a proxied role with asset_path */
	assert_string_equal(h->apps[0].volumes.v[1],
		"$PWD/.kamal/apps/everything/assets/volumes/workers-" V
		":/public");
	assert_int_equal(h->apps[0].stop_timeout, 30);
	h = kr_desired_host(d, "172.1.0.4");
	assert_string_equal(h->user, "app");
	assert_int_equal(h->port, 2222);
	assert_string_equal(kr_kvlist_get(&h->apps[0].env, "EXPERIMENT"), "on");
	/* redis follows the tag */
	assert_int_equal(h->naccessories, 1);
	assert_string_equal(h->accessories[0].name, "redis");

	h = kr_desired_host(d, "mysql-db2");
	mysql = &h->accessories[0];
	assert_string_equal(mysql->container, "mysql");
	assert_string_equal(mysql->image, "registry.example.com/mysql:8.0");
	assert_string_equal(mysql->restart, "always");
	assert_string_equal(mysql->network, "custom");
	assert_sv(&mysql->directories,
		(const char *const[]){ "mysql/mysql-logs:/var/log/mysql",
			"mysql/mysql-data:/var/lib/mysql:z", NULL });
	assert_int_equal(mysql->nfiles, 2);
	assert_string_equal(
		mysql->files[0].host_path, "mysql/etc/mysql/my.cnf");
	assert_string_equal(mysql->files[0].content, cnf);
	kr_sha256_hex(sha, cnf, strlen(cnf));
	assert_string_equal(mysql->files[0].sha256, sha);
	assert_string_equal(mysql->files[0].mode, "755");
	assert_string_equal(mysql->files[1].mode, "0600");
	assert_string_equal(mysql->files[1].owner, "mysql:mysql");
	assert_string_equal(mysql->logging.driver, "json-file");
	kr_desired_free(d);
}

static void
test_host_listed_twice(void **state)
{
	struct kr_config *c = NULL;
	struct kr_diags d = { 0 };
	struct kr_desired *out = NULL;
	struct kr_resolve_opts ro = { .version = V, .skip_secrets = true };
	const char *text = "service: s\nimage: i\nregistry:\n  server: "
			   "localhost:5000\nbuilder:\n  arch: amd64\nservers:\n"
			   "  - a\n  - root@a\n  - a:22\n";

	assert_int_equal(kr_config_load_text(&c, &d, "deploy.yml", text,
				 strlen(text), NULL, NULL, 0, NULL),
		0);
	assert_int_equal(kr_desired_resolve(&out, &d, c, NULL, &ro), 0);
	assert_int_equal(out->nhosts, 1);
	assert_int_equal(out->hosts[0].napps, 1);
	kr_desired_free(out);
	kr_config_free(c);
}

static void
test_skip_secrets(void **state)
{
	struct kr_desired *d = resolve("dokuya", NULL, true);
	const struct kr_app *a = &kr_desired_host(d, "194.195.83.189")->apps[0];

	assert_int_equal(a->env_file.secrets.n, 2);
	assert_null(a->env_file.secrets.v[0].value);
	assert_null(a->env_file.content);
	assert_null(d->registry.password);
	kr_desired_free(d);
}

static void
test_missing_secret_fails(void **state)
{
	struct kr_config *c = NULL;
	struct kr_diags d = { 0 };
	struct kr_kvlist s = { 0 };
	struct kr_desired *out = NULL;
	struct kr_resolve_opts ro = { .version = V };

	assert_int_equal(
		kr_config_load(&c, &d, FIX "/dokuya/config/deploy.yml", NULL),
		0);
	kr_kvlist_set(&s, "XAI_API_KEY", "x");
	assert_int_equal(kr_desired_resolve(&out, &d, c, &s, &ro), KR_ECONFIG);
	assert_null(out);
	/* without a version nothing resolves */
	ro.version = NULL;
	assert_int_equal(kr_desired_resolve(&out, &d, c, &s, &ro), KR_EINVAL);
	kr_kvlist_release(&s);
	kr_diags_release(&d);
	kr_config_free(c);
}

static void
test_missing_accessory_file(void **state)
{
	struct kr_config *c = NULL;
	struct kr_diags d = { 0 };
	struct kr_desired *out = NULL;
	struct kr_resolve_opts ro = {
		.version = V, .skip_secrets = true, .base_dir = "/nonexistent"
	};

	assert_int_equal(
		kr_config_load(&c, &d, FIX "/all-keys/config/deploy.yml", NULL),
		0);
	assert_int_equal(
		kr_desired_resolve(&out, &d, c, NULL, &ro), KR_ECONFIG);
	/* one per file (the accessory is on two hosts: reported once each) */
	assert_true(d.n >= 2);
	assert_non_null(strstr(d.v[0].msg, "cannot read accessory file "
					   "'config/my.cnf'"));
	assert_int_equal(d.v[0].line, 126);
	assert_int_equal(d.v[0].col, 9);
	kr_diags_release(&d);
	kr_config_free(c);
}

static void
test_version_sources(void **state)
{
	char *v = NULL, *src = NULL;
	char dir[] = "/tmp/kr-resolve-XXXXXX";
	char *cmd, *file;

	unsetenv("VERSION");
	assert_int_equal(kr_load_version(&v, &src, "abc", "x/deploy.yml"), 0);
	assert_string_equal(v, "abc");
	assert_string_equal(src, "--app-version");
	free(v);
	free(src);
	setenv("VERSION", "from-env", 1);
	assert_int_equal(kr_load_version(&v, &src, NULL, "x/deploy.yml"), 0);
	assert_string_equal(v, "from-env");
	assert_string_equal(src, "$VERSION");
	free(v);
	free(src);
	unsetenv("VERSION");

	assert_non_null(mkdtemp(dir));
	file = kr_xasprintf("%s/config/deploy.yml", dir);
	/* not a repository: a clear error */
	assert_int_equal(kr_load_version(&v, &src, NULL, file), KR_ENOTFOUND);
	assert_non_null(strstr(kr_error_last(), "--app-version"));
	if (system("git --version >/dev/null 2>&1") != 0) {
		print_message(
			"git is not installed: skipping the git HEAD case\n");
	} else {
		cmd = kr_xasprintf("cd %s && mkdir config && git init -q . && "
				   "git -c user.email=t@t -c user.name=t "
				   "commit -q --allow-empty "
				   "-m t",
			dir);
		assert_int_equal(system(cmd), 0);
		free(cmd);
		assert_int_equal(kr_load_version(&v, &src, NULL, file), 0);
		assert_int_equal(strlen(v), 40);
		assert_string_equal(src, "git HEAD");
		free(v);
		free(src);
	}
	cmd = kr_xasprintf("rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(file);
}

static void
test_json_hides_secrets(void **state)
{
	struct kr_desired *d;
	json_t *j;
	char *s;

	setenv("KAMAL_REGISTRY_PASSWORD", "registry-from-env", 1);
	setenv("XAI_API_KEY", "xai-from-env", 1);
	d = resolve("dokuya", NULL, false);
	j = kr_desired_to_json(d);
	s = json_dumps(j, JSON_SORT_KEYS);
	assert_non_null(s);
	assert_null(strstr(s, "registry-from-env"));
	assert_null(strstr(s, "xai-from-env"));
	assert_null(strstr(s, "fixture-db-password"));
	assert_non_null(strstr(s, "\"(sensitive)\""));
	assert_string_equal(
		json_string_value(json_object_get(j, "format_version")), "1");
	assert_int_equal(json_array_size(json_object_get(j, "hosts")), 2);
	free(s);
	json_decref(j);
	kr_desired_free(d);
	kr_desired_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dokuya_two_hosts),
		cmocka_unit_test(test_multi_roles_and_tags),
		cmocka_unit_test(test_destination),
		cmocka_unit_test(test_all_keys_hosts_and_files),
		cmocka_unit_test(test_host_listed_twice),
		cmocka_unit_test(test_skip_secrets),
		cmocka_unit_test(test_missing_secret_fails),
		cmocka_unit_test(test_missing_accessory_file),
		cmocka_unit_test(test_version_sources),
		cmocka_unit_test(test_json_hides_secrets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
