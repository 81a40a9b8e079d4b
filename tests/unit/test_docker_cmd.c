/*
 * Tests of the docker command builders (drivers/docker_cmd.c). Each command
 * line is run by a real /bin/sh in which `docker` is a function printing its
 * arguments NUL-separated, so the test sees exactly the argv docker would
 * get: hostile values must arrive as single, unchanged words and run
 * nothing.
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

#include "common/buf.h"
#include "common/error.h"
#include "drivers/docker_cmd.h"
#include "drivers/transport.h"

#define HOSTILE                                                      \
	"it's \"q\" $(touch %s/pwned-a) `touch %s/pwned-b` ; touch " \
	"%s/pwned-c & | > < \\ end\nline2 $HOME"
/* What a container gets from HOSTILE as a clear env value passed the way
 * Kamal 2.12 passes it: the newline arrives as the two bytes \n. */
#define HOSTILE_ENV                                                  \
	"it's \"q\" $(touch %s/pwned-a) `touch %s/pwned-b` ; touch " \
	"%s/pwned-c & | > < \\ end\\nline2 $HOME"

static char tmpdir[4096] = "/tmp/kr-test-docker-cmd-XXXXXX";

/* Run `cmd` with a fake docker; argv words (after "docker") into out. */
static void
run_argv(struct kr_strvec *out, const char *cmd)
{
	struct kr_transport *t = NULL;
	struct kr_transport_opts o = { .host = "localhost" };
	struct kr_exec_result r;
	struct kr_buf full = KR_BUF_INIT;
	size_t i, start = 0;

	kr_buf_printf(&full,
		"cd '%s' || exit 9\n"
		"docker() { for a in \"$@\"; do printf '%%s\\0' \"$a\"; done; "
		"}\n"
		"%s\n",
		tmpdir, cmd);
	assert_int_equal(kr_transport_local.connect(&t, &o), 0);
	kr_exec_result_init(&r, 0);
	assert_int_equal(t->vt->exec(t, full.ptr, NULL, 0, &r), 0);
	if (r.status != 0)
		fprintf(stderr, "command failed: %s\n%s\n", cmd, r.err.ptr);
	assert_int_equal(r.status, 0);
	for (i = 0; i < r.out.len; i++)
		if (r.out.ptr[i] == '\0') {
			kr_strvec_push(out, r.out.ptr + start);
			start = i + 1;
		}
	kr_exec_result_release(&r);
	kr_transport_close(t);
	kr_buf_release(&full);
}

/* A fake docker whose inspect finds nothing (prints nothing for it). */
#define NOTHING_FAKE                                        \
	"docker() { case $2 in inspect) return 1 ;; esac; " \
	"for a in \"$@\"; do printf '%s\\0' \"$a\"; done; }\n"

static char *
hostile(void)
{
	return kr_xasprintf(HOSTILE, tmpdir, tmpdir, tmpdir);
}

static void
assert_not_pwned(void)
{
	const char *s[] = { "a", "b", "c" };

	for (size_t i = 0; i < 3; i++) {
		char *p = kr_xasprintf("%s/pwned-%s", tmpdir, s[i]);

		assert_int_not_equal(access(p, F_OK), 0);
		free(p);
	}
}

static void
assert_words(const struct kr_strvec *got, const char *const *want)
{
	size_t n = 0;

	while (want[n])
		n++;
	for (size_t i = 0; i < got->n && i < n; i++)
		if (strcmp(got->v[i], want[i]) != 0) {
			fprintf(stderr, "word %zu: got '%s', want '%s'\n", i,
				got->v[i], want[i]);
			fail();
		}
	assert_int_equal(got->n, n);
}

static void
app_init(struct kr_app *a, const char *value)
{
	memset(a, 0, sizeof(*a));
	a->role = kr_xstrdup("web");
	a->name = kr_xstrdup("app-web-v1");
	a->image = kr_xstrdup("ghcr.io/acme/app:v1");
	a->version = kr_xstrdup("v1");
	kr_kvlist_append(&a->labels, "service", "app");
	kr_kvlist_append(&a->labels, "role", "web");
	kr_kvlist_append(&a->labels, "destination", "");
	kr_kvlist_append(&a->labels, "note", value);
	kr_kvlist_append(&a->env, "KAMAL_CONTAINER_NAME", "app-web-v1");
	kr_kvlist_append(&a->env, "MSG", value);
	a->env_file.path = kr_xstrdup(".kamal/apps/app/env/roles/web.env");
	kr_strvec_push(&a->volumes, "/data/x y:/data");
	kr_strvec_push(&a->volumes,
		"$PWD/.kamal/apps/app/assets/volumes/web-v1:/public/assets");
	kr_strvec_push(&a->args, "--cap-add");
	kr_strvec_push(&a->args, value);
	a->cmd = kr_xstrdup(
		"bin/jobs --queue 'a b' \"c\\\"d\" e\\ f $(not run)");
	kr_kvlist_append(&a->logging.options, "max-size", "10m");
	a->network = kr_xstrdup("kamal");
	a->restart = kr_xstrdup("unless-stopped");
}

static void
app_release(struct kr_app *a)
{
	free(a->role);
	free(a->name);
	free(a->image);
	free(a->version);
	kr_kvlist_release(&a->labels);
	kr_kvlist_release(&a->env);
	free(a->env_file.path);
	kr_strvec_release(&a->volumes);
	kr_strvec_release(&a->args);
	free(a->cmd);
	kr_kvlist_release(&a->logging.options);
	free(a->network);
	free(a->restart);
}

static void
test_app_run_argv(void **state)
{
	struct kr_strvec w = { 0 };
	struct kr_buf cmd = KR_BUF_INIT;
	struct kr_app a;
	char *v = hostile();
	char *msg = kr_xasprintf("MSG=" HOSTILE_ENV, tmpdir, tmpdir, tmpdir);
	char *note = kr_xasprintf("note=%s", v);
	char *envfile =
		kr_xasprintf("%s/.kamal/apps/app/env/roles/web.env", tmpdir);
	char *assets = kr_xasprintf("%s/.kamal/apps/app/assets/volumes/web-v1:"
				    "/public/assets",
		tmpdir);
	const char *want[] = { "run", "--detach", "--restart", "unless-stopped",
		"--name", "app-web-v1", "--network", "kamal", "--hostname",
		"h1-0123456789ab", "--env", "KAMAL_CONTAINER_NAME=app-web-v1",
		"--env", msg, "--env-file", envfile, "--log-opt",
		"max-size=10m", "--volume", "/data/x y:/data", "--volume",
		assets, "--label", "service=app", "--label", "role=web",
		"--label", "destination=", "--label", note, "--label",
		"kreconcile.defhash=abc", "--cap-add", v, "ghcr.io/acme/app:v1",
		"bin/jobs", "--queue", "a b", "c\"d", "e f", "$(not", "run)",
		NULL };

	(void)state;
	app_init(&a, v);
	assert_int_equal(kr_docker_cmd_app_run(&cmd, &a, a.name,
				 "kreconcile.defhash=abc", "h1-0123456789ab"),
		0);
	run_argv(&w, cmd.ptr);
	assert_words(&w, want);
	assert_not_pwned();
	kr_strvec_release(&w);
	kr_buf_release(&cmd);
	app_release(&a);
	free(v);
	free(msg);
	free(note);
	free(envfile);
	free(assets);
}

static void
test_accessory_run_argv(void **state)
{
	struct kr_strvec w = { 0 };
	struct kr_buf cmd = KR_BUF_INIT;
	struct kr_accessory acc;
	struct kr_acc_file f = { 0 };
	char *v = hostile();
	char *pw = kr_xasprintf(
		"POSTGRES_DB=" HOSTILE_ENV, tmpdir, tmpdir, tmpdir);
	char *data =
		kr_xasprintf("%s/app-db/data:/var/lib/postgresql/data", tmpdir);
	char *conf =
		kr_xasprintf("%s/app-db/etc/my.cnf:/etc/my.cnf:ro", tmpdir);
	char *envfile = kr_xasprintf("%s/.kamal/apps/app/env/accessories/"
				     "db.env",
		tmpdir);
	const char *want[] = { "run", "--name", "app-db", "--detach",
		"--restart", "unless-stopped", "--network", "kamal",
		"--log-opt", "max-size=10m", "--publish", "127.0.0.1:5432:5432",
		"--env", "KAMAL_HOST=h1", "--env", pw, "--env-file", envfile,
		"--volume", "app-data:/data", "--volume", conf, "--volume",
		data, "--volume", "/srv/abs:/abs", "--label", "service=app-db",
		"--label", "kreconcile.defhash=def", "postgres:16", "postgres",
		"-c", "max_connections=10", NULL };

	(void)state;
	memset(&acc, 0, sizeof(acc));
	acc.name = "db";
	acc.container = "app-db";
	acc.image = "postgres:16";
	kr_strvec_push(&acc.ports, "127.0.0.1:5432:5432");
	acc.cmd = "postgres -c max_connections=10";
	kr_kvlist_append(&acc.labels, "service", "app-db");
	kr_kvlist_append(&acc.env, "KAMAL_HOST", "h1");
	kr_kvlist_append(&acc.env, "POSTGRES_DB", v);
	acc.env_file.path = ".kamal/apps/app/env/accessories/db.env";
	kr_strvec_push(
		&acc.directories, "app-db/data:/var/lib/postgresql/data");
	kr_strvec_push(&acc.directories, "/srv/abs:/abs");
	kr_strvec_push(&acc.volumes, "app-data:/data");
	f.host_path = "app-db/etc/my.cnf";
	f.remote = "/etc/my.cnf";
	f.options = "ro";
	acc.files = &f;
	acc.nfiles = 1;
	acc.network = "kamal";
	acc.restart = "unless-stopped";
	kr_kvlist_append(&acc.logging.options, "max-size", "10m");
	assert_int_equal(kr_docker_cmd_accessory_run(
				 &cmd, &acc, "kreconcile.defhash=def"),
		0);
	run_argv(&w, cmd.ptr);
	assert_words(&w, want);
	assert_not_pwned();
	kr_strvec_release(&w);
	kr_buf_release(&cmd);
	kr_strvec_release(&acc.ports);
	kr_kvlist_release(&acc.labels);
	kr_kvlist_release(&acc.env);
	kr_strvec_release(&acc.directories);
	kr_strvec_release(&acc.volumes);
	kr_kvlist_release(&acc.logging.options);
	free(v);
	free(pw);
	free(data);
	free(conf);
	free(envfile);
}

static void
test_login_password_not_in_argv(void **state)
{
	struct kr_strvec w = { 0 };
	struct kr_buf cmd = KR_BUF_INIT;
	const char *want[] = { "login", "reg.example:5000", "-u", "a'b $(x)",
		"--password-stdin", NULL };
	const char *hub[] = { "login", "-u", "me", "--password-stdin", NULL };

	(void)state;
	assert_int_equal(
		kr_docker_cmd_login(&cmd, "reg.example:5000", "a'b $(x)"), 0);
	run_argv(&w, cmd.ptr);
	assert_words(&w, want);
	kr_strvec_release(&w);
	kr_buf_reset(&cmd);
	assert_int_equal(kr_docker_cmd_login(&cmd, NULL, "me"), 0);
	run_argv(&w, cmd.ptr);
	assert_words(&w, hub);
	kr_strvec_release(&w);
	kr_buf_release(&cmd);
}

static void
test_small_commands(void **state)
{
	struct kr_strvec w = { 0 }, ids = { 0 };
	struct kr_buf cmd = KR_BUF_INIT;
	const char *stop[] = { "stop", "-t", "30", "id 1", "$(id2)", NULL };
	const char *stop0[] = { "stop", "id 1", "$(id2)", NULL };
	const char *ren[] = { "rename", "a'b", "a'b_replaced_01", NULL };
	const char *start[] = { "start", "`x`", NULL };
	const char *net[] = { "network", "create", "k'net", NULL };
	const char *pull[] = { "pull", "--quiet", "reg/app:$(v)", NULL };

	(void)state;
	kr_strvec_push(&ids, "id 1");
	kr_strvec_push(&ids, "$(id2)");
	kr_docker_cmd_stop(&cmd, &ids, 30);
	run_argv(&w, cmd.ptr);
	assert_words(&w, stop);
	kr_strvec_release(&w);
	kr_buf_reset(&cmd);
	kr_docker_cmd_stop(&cmd, &ids, 0);
	run_argv(&w, cmd.ptr);
	assert_words(&w, stop0);
	kr_strvec_release(&w);
	kr_buf_reset(&cmd);
	kr_docker_cmd_rename(&cmd, "a'b", "a'b_replaced_01");
	run_argv(&w, cmd.ptr);
	assert_words(&w, ren);
	kr_strvec_release(&w);
	kr_buf_reset(&cmd);
	kr_docker_cmd_start(&cmd, "`x`");
	run_argv(&w, cmd.ptr);
	assert_words(&w, start);
	kr_strvec_release(&w);
	kr_buf_reset(&cmd);
	/* network and pull ask first; a fake that has nothing creates */
	kr_buf_puts(&cmd, NOTHING_FAKE);
	kr_docker_cmd_network_create(&cmd, "k'net");
	run_argv(&w, cmd.ptr);
	assert_words(&w, net);
	kr_strvec_release(&w);
	kr_buf_reset(&cmd);
	kr_buf_puts(&cmd, NOTHING_FAKE);
	kr_docker_cmd_pull(&cmd, "reg/app:$(v)");
	run_argv(&w, cmd.ptr);
	assert_words(&w, pull);
	kr_strvec_release(&w);
	kr_buf_reset(&cmd);
	/* and a fake that has everything does nothing more */
	kr_docker_cmd_pull(&cmd, "reg/app:$(v)");
	run_argv(&w, cmd.ptr);
	assert_int_equal(w.n, 0);
	kr_strvec_release(&w);
	/* with the registry's digest: a host whose image under the tag has
	 * that repo digest pulls nothing; else it pulls the tag */
	{
		static const char *const pull_tag[] = { "pull", "--quiet",
			"reg:5000/a'pp:v1", NULL };

		kr_buf_reset(&cmd);
		kr_buf_puts(&cmd, "docker() { case $1 in image) [ \"$5\" = "
				  "'reg:5000/a'\\''pp:v1' ] && echo "
				  "'reg:5000/a'\\''pp@sha256:$(d)'; return;; "
				  "esac; for a in \"$@\"; do printf '%s\\0' "
				  "\"$a\"; done; }\n");
		kr_docker_cmd_pull_digest(
			&cmd, "reg:5000/a'pp:v1", "sha256:$(d)");
		run_argv(&w, cmd.ptr);
		assert_int_equal(w.n, 0);
		kr_strvec_release(&w);
		kr_buf_reset(&cmd);
		kr_buf_puts(&cmd, NOTHING_FAKE);
		kr_docker_cmd_pull_digest(
			&cmd, "reg:5000/a'pp:v1", "sha256:$(d)");
		run_argv(&w, cmd.ptr);
		assert_words(&w, pull_tag);
		kr_strvec_release(&w);
	}
	kr_strvec_release(&ids);
	kr_buf_release(&cmd);
}

static void
test_rm_only_existing(void **state)
{
	struct kr_strvec w = { 0 }, ids = { 0 };
	struct kr_buf cmd = KR_BUF_INIT, full = KR_BUF_INIT;
	/* inspect's output goes to /dev/null: only the rm is seen */
	const char *want[] = { "rm", "-f", "here x", NULL };

	(void)state;
	kr_strvec_push(&ids, "gone");
	kr_strvec_push(&ids, "here x");
	kr_docker_cmd_rm(&cmd, &ids);
	/* a fake whose inspect knows only "here x" */
	kr_buf_printf(&full,
		"docker() { for a in \"$@\"; do printf '%%s\\0' "
		"\"$a\"; done; [ \"$1\" != container ] || [ \"$3\" = 'here x' "
		"]; "
		"}\n%s",
		cmd.ptr);
	run_argv(&w, full.ptr);
	assert_words(&w, want);
	kr_strvec_release(&w);
	kr_strvec_release(&ids);
	kr_buf_release(&cmd);
	kr_buf_release(&full);
}

static void
test_cmd_words(void **state)
{
	struct kr_strvec w = { 0 };
	const char *want[] = { "a", "b c", "d\"e", "$f", "g h", "", "i\\j",
		"`k`", NULL };

	(void)state;
	assert_int_equal(
		kr_docker_cmd_words(&w,
			"  a 'b c'\t\"d\\\"e\" \"$f\" g\\ h '' 'i\\j' `k`  "),
		0);
	assert_words(&w, want);
	kr_strvec_release(&w);
	assert_int_equal(kr_docker_cmd_words(&w, "a 'b"), KR_EINVAL);
	assert_int_equal(w.n, 0);
	assert_int_equal(kr_docker_cmd_words(&w, "a \"b"), KR_EINVAL);
	assert_int_equal(kr_docker_cmd_words(&w, ""), 0);
	assert_int_equal(w.n, 0);
}

static void
test_home_path(void **state)
{
	struct kr_strvec w = { 0 };
	struct kr_buf cmd = KR_BUF_INIT;
	char *rel = kr_xasprintf("%s/a b/$(c)", tmpdir);

	(void)state;
	kr_buf_puts(&cmd, "docker");
	kr_buf_putc(&cmd, ' ');
	kr_docker_cmd_home_path(&cmd, "a b/$(c)");
	kr_buf_putc(&cmd, ' ');
	kr_docker_cmd_home_path(&cmd, "$PWD/a b/$(c)");
	kr_buf_putc(&cmd, ' ');
	kr_docker_cmd_home_path(&cmd, "/abs/'x'");
	run_argv(&w, cmd.ptr);
	assert_int_equal(w.n, 3);
	assert_string_equal(w.v[0], rel);
	assert_string_equal(w.v[1], rel);
	assert_string_equal(w.v[2], "/abs/'x'");
	kr_strvec_release(&w);
	kr_buf_release(&cmd);
	free(rel);
}

static int
setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	/* resolve symlinks so $PWD compares equal */
	{
		char *real = realpath(tmpdir, NULL);

		if (!real)
			return -1;
		snprintf(tmpdir, sizeof(tmpdir), "%s", real);
		free(real);
	}
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = kr_xasprintf("rm -rf '%s'", tmpdir);
	int rc;

	(void)state;
	rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

static void
expect_words(const struct kr_strvec *w, const char *const *want)
{
	size_t i;

	for (i = 0; want[i]; i++) {
		if (i >= w->n)
			fail_msg("word %zu missing (want '%s')", i, want[i]);
		assert_string_equal(w->v[i], want[i]);
	}
	assert_int_equal(w->n, i);
}

/* kamal-proxy deploy with Kamal's deploy_options: order, values as one
 * word each (a hostile host stays one word), booleans as Kamal writes. */
static void
test_proxy_deploy_argv(void **state)
{
	struct kr_app_proxy p = { 0 };
	struct kr_buf cmd = KR_BUF_INIT;
	struct kr_strvec w = { 0 };
	char *h = hostile(), *hw = kr_xasprintf("--host=%s", h);
	const char *const want[] = { "exec", "kamal-proxy", "kamal-proxy",
		"deploy", "app-web-staging", "--target=0123456789ab:3000",
		"--host=app.example.com", hw, "--tls", "--deploy-timeout=45s",
		"--drain-timeout=10s", "--health-check-interval=2s",
		"--health-check-path=/health", "--target-timeout=60s",
		"--buffer-requests=false", "--buffer-responses",
		"--max-response-body=1024", "--path-prefix=/api",
		"--strip-path-prefix=false", "--tls-redirect=false",
		"--log-request-header=X-Request-Id", NULL };

	(void)state;
	kr_strvec_push(&p.hosts, "app.example.com");
	kr_strvec_push(&p.hosts, h);
	p.app_port = 3000;
	p.ssl = true;
	p.healthcheck_path = "/health";
	p.healthcheck_interval = 2;
	p.response_timeout = 60;
	p.buffer_requests = 0;
	p.buffer_responses = -1;
	p.buffer_memory = p.max_request_body = -1;
	p.max_response_body = 1024;
	kr_strvec_push(&p.path_prefixes, "/api");
	p.strip_path_prefix = 0;
	p.forward_headers = -1;
	p.ssl_redirect = 0;
	kr_strvec_push(&p.log_request_headers, "X-Request-Id");
	kr_buf_puts(&cmd, "kr_tgt=0123456789ab\n");
	assert_int_equal(kr_docker_cmd_proxy_deploy(&cmd, NULL,
				 "app-web-staging", "\"$kr_tgt\"", &p, 45, 10),
		0);
	run_argv(&w, cmd.ptr);
	expect_words(&w, want);
	assert_not_pwned();
	kr_strvec_release(&w);
	kr_strvec_release(&p.hosts);
	kr_strvec_release(&p.path_prefixes);
	kr_strvec_release(&p.log_request_headers);
	kr_buf_release(&cmd);
	free(h);
	free(hw);
}

/* The proxy's boot: from proxy/run as Kamal's Proxy::Run builds it, and
 * (without it) Kamal's boot-config command with its defaults. */
static void
test_proxy_boot_argv(void **state)
{
	struct kr_app_proxy p = { 0 };
	struct kr_buf cmd = KR_BUF_INIT;
	struct kr_strvec w = { 0 };
	char *apps = kr_xasprintf(
		"%s/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config",
		tmpdir);
	const char *const want_run[] = { "run", "--name", "kamal-proxy",
		"--network", "kamal", "--detach", "--restart", "unless-stopped",
		"--volume",
		"kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy",
		"--volume", apps, "--publish", "10.0.0.5:8080:80", "--publish",
		"10.0.0.5:8443:443", "--publish", "[::1]:8080:80", "--publish",
		"[::1]:8443:443", "--log-opt", "max-size=30m", "--expose=9090",
		"--label", "custom.label=kamal-proxy",
		"registry:4443/myrepo/kamal-proxy:v0.9.3", "kamal-proxy", "run",
		"--debug", "--metrics-port=9090", NULL };
	const char *const want_default[] = { "run", "--name", "kamal-proxy",
		"--network", "kamal", "--detach", "--restart", "unless-stopped",
		"--volume",
		"kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy",
		"--volume", apps, "--publish", "80:80", "--publish", "443:443",
		"--log-opt", "max-size=10m", "basecamp/kamal-proxy:v0.9.2",
		NULL };
	/* `docker container start` finds no proxy: the run follows */
	const char *fake = "docker() { [ \"$1 $2\" = 'container start' ] && "
			   "return 1; for a in \"$@\"; do printf '%s\\0' "
			   "\"$a\"; done; }\n";

	(void)state;
	p.run = true;
	p.run_http_port = 8080;
	p.run_https_port = 8443;
	p.run_metrics_port = 9090;
	p.run_debug = 1;
	p.run_publish = -1;
	p.run_log_max_size = "30m";
	kr_strvec_push(&p.run_bind_ips, "10.0.0.5");
	kr_strvec_push(&p.run_bind_ips, "::1");
	p.run_registry = "registry:4443";
	p.run_repository = "myrepo/kamal-proxy";
	p.run_version = "v0.9.3";
	kr_strvec_push(&p.run_args, "--label");
	kr_strvec_push(&p.run_args, "custom.label=kamal-proxy");
	kr_buf_puts(&cmd, fake);
	assert_int_equal(kr_docker_cmd_proxy_boot(&cmd, &p), 0);
	run_argv(&w, cmd.ptr);
	expect_words(&w, want_run);
	kr_strvec_release(&w);
	kr_buf_reset(&cmd);
	kr_buf_puts(&cmd, fake);
	/* xargs runs docker from PATH: a fake one there too */
	kr_buf_puts(&cmd, "mkdir -p bin && printf '#!/bin/sh\\nfor a in "
			  "\"$@\"; do printf \"%%s\\\\0\" \"$a\"; done\\n' "
			  ">bin/docker && chmod 755 bin/docker && "
			  "PATH=\"$PWD/bin:$PATH\"\n");
	assert_int_equal(kr_docker_cmd_proxy_boot(&cmd, NULL), 0);
	run_argv(&w, cmd.ptr);
	expect_words(&w, want_default);
	kr_strvec_release(&w);
	kr_strvec_release(&p.run_bind_ips);
	kr_strvec_release(&p.run_args);
	kr_buf_release(&cmd);
	free(apps);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_app_run_argv),
		cmocka_unit_test(test_proxy_deploy_argv),
		cmocka_unit_test(test_proxy_boot_argv),
		cmocka_unit_test(test_accessory_run_argv),
		cmocka_unit_test(test_login_password_not_in_argv),
		cmocka_unit_test(test_small_commands),
		cmocka_unit_test(test_rm_only_existing),
		cmocka_unit_test(test_cmd_words),
		cmocka_unit_test(test_home_path),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
