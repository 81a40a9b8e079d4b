/*
 * Unit tests of the Docker observe driver (drivers/docker.c) and the
 * observed model's JSON (state/observed_json.c): parsing observe output
 * recorded from the test bed and from hosts without a usable docker
 * (tests/fixtures/observed/, see its README), secret masking, framing
 * errors, the fingerprint, JSON round trips, and the whole script run
 * through the local transport against a stand-in `docker` command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/error.h"
#include "common/hash.h"
#include "drivers/docker.h"
#include "state/desired.h"

#define NONCE "fixture0nonce000"
#define IMAGE_ID  \
	"sha256:" \
	"087059de7aa243ac965827192a00d777f08eba226138e821d0c6b4e39f8e19aa"
#define DIGEST               \
	"198.18.0.1:5000/"   \
	"sample-app@sha256:" \
	"5b8f4fa7435e1c9a3fb6232de88ad5b1d656b1c375fe12abf55f3960f48707d6"

/* What the fixture's host was given (tests/fixtures/observed/README.md). */
static const char web_env[] = "DATABASE_URL=postgres://sample:hunter2-web@db/"
			      "x\nSECRET_KEY_BASE=s3cr3t-base\\nline2\n";
static const char db_env[] = "POSTGRES_PASSWORD=pg-hunter2\n";
static const char my_cnf[] = "[mysqld]\nmax_connections=10\n";
static const char *const secret_values[] = {
	"hunter2",
	"s3cr3t",
	"tok-secret",
	"pg-hunter2",
	"line2",
};

/* The scope the recorder used (tests/fixtures/observed/record.c). */
struct fixture_scope {
	struct kr_strvec db_data;
	struct kr_strvec sensitive;
	struct kr_docker_accessory acc;
	struct kr_docker_scope scope;
};

static void
scope_init(struct fixture_scope *s)
{
	memset(s, 0, sizeof(*s));
	kr_strvec_push(&s->db_data, "krobs-db/data");
	kr_strvec_push(&s->sensitive, "STAGING_TOKEN");
	s->acc.name = "db";
	s->acc.container = "krobs-db";
	s->acc.data_dirs = &s->db_data;
	s->scope.service = "krobs";
	s->scope.accessories = &s->acc;
	s->scope.naccessories = 1;
	s->scope.proxy_container = "krobs-proxy";
	s->scope.sensitive_keys = &s->sensitive;
}

static void
scope_release(struct fixture_scope *s)
{
	kr_strvec_release(&s->db_data);
	kr_strvec_release(&s->sensitive);
}

static char *
load(const char *name, size_t *len)
{
	char *path = kr_xasprintf("%s/observed/%s", KR_FIXTURES, name);
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = kr_xmalloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	free(path);
	*len = (size_t)n;
	return buf;
}

static int
parse_fixture(struct kr_observed_host *h, const char *name,
	const struct kr_docker_scope *scope)
{
	size_t len;
	char *text = load(name, &len);
	int rc = kr_docker_parse(h, "198.18.0.12", scope, NONCE, text, len);

	free(text);
	return rc;
}

static const struct kr_obs_container *
must_container(const struct kr_observed_host *h, const char *name)
{
	const struct kr_obs_container *c = kr_observed_container(h, name);

	if (!c)
		fail_msg("no container '%s'", name);
	return c;
}

static void
assert_no_secret_in(const char *text)
{
	size_t i;

	for (i = 0; i < sizeof(secret_values) / sizeof(secret_values[0]); i++)
		if (strstr(text, secret_values[i]))
			fail_msg("secret '%s' survived parsing",
				secret_values[i]);
}

static void
test_full_host(void **state)
{
	struct fixture_scope fs;
	struct kr_observed_host h;
	const struct kr_obs_container *c;
	const char *names[] = { "krobs-db", "krobs-proxy",
		"krobs-web-staging-v1", "krobs-web-v0", "krobs-web-v1",
		"krobs-worker-v1" };
	size_t i;

	scope_init(&fs);
	assert_int_equal(parse_fixture(&h, "bed-full.out", &fs.scope), 0);
	assert_int_equal(h.status, KR_OBS_OK);
	assert_null(h.error);
	assert_string_equal(h.name, "198.18.0.12");
	assert_string_equal(h.docker_version, "20.10.24+dfsg1");
	assert_true(kr_strvec_contains(&h.networks, "kamal"));
	assert_true(kr_strvec_contains(&h.networks, "none"));

	/* Every container of the service, in name order; not krother's. */
	assert_int_equal(h.ncontainers, 6);
	for (i = 0; i < 6; i++)
		assert_string_equal(h.containers[i].name, names[i]);
	assert_null(kr_observed_container(&h, "krother-web-v1"));

	c = must_container(&h, "krobs-web-v1");
	assert_int_equal(strlen(c->id), 64);
	assert_string_equal(c->image, "198.18.0.1:5000/sample-app:v1");
	assert_string_equal(c->image_id, IMAGE_ID);
	assert_int_equal(c->repo_digests.n, 1);
	assert_string_equal(c->repo_digests.v[0], DIGEST);
	assert_string_equal(kr_kvlist_get(&c->labels, "service"), "krobs");
	assert_string_equal(kr_kvlist_get(&c->labels, "role"), "web");
	assert_string_equal(kr_kvlist_get(&c->labels, "destination"), "");
	assert_non_null(kr_kvlist_get(&c->labels, "kreconcile.sha256"));
	assert_string_equal(
		kr_kvlist_get(&c->env, "DATABASE_URL"), KR_SENSITIVE);
	assert_string_equal(
		kr_kvlist_get(&c->env, "SECRET_KEY_BASE"), KR_SENSITIVE);
	assert_string_equal(kr_kvlist_get(&c->env, "SAMPLE_MESSAGE"), "hello");
	assert_string_equal(kr_kvlist_get(&c->env, "KAMAL_VERSION"), "v1");
	assert_string_equal(
		kr_kvlist_get(&c->env, "KAMAL_HOST"), "198.18.0.13");
	assert_string_equal(c->cmd, "/app/start");
	assert_string_equal(c->restart, "unless-stopped");
	assert_string_equal(c->log_driver, "json-file");
	assert_string_equal(kr_kvlist_get(&c->log_opts, "max-size"), "10m");
	assert_int_equal(c->networks.n, 1);
	assert_string_equal(c->networks.v[0], "kamal");
	assert_string_equal(c->state, "running");
	assert_string_equal(c->health, "starting");
	assert_int_equal(c->created, 1795675552); /* 2026-11-26T06:45:52.144Z */
	assert_true(c->started >= c->created);
	assert_int_equal(c->finished, 0); /* Go's zero time */
	assert_int_equal(c->ports.n, 0);
	/* the fields docker run options set, as compact JSON; null ones
	 * left out */
	assert_string_equal(
		kr_kvlist_get(&c->run_opts, "HostConfig.Memory"), "0");
	assert_string_equal(
		kr_kvlist_get(&c->run_opts, "HostConfig.ShmSize"), "67108864");
	assert_string_equal(kr_kvlist_get(&c->run_opts, "HostConfig.IpcMode"),
		"\"private\"");
	assert_null(kr_kvlist_get(&c->run_opts, "HostConfig.CapAdd"));

	c = must_container(&h, "krobs-web-v0");
	assert_string_equal(c->state, "exited");
	assert_int_equal(c->exit_code, 0);
	assert_int_equal(c->created, 1795675551);
	assert_true(c->finished >= c->started && c->finished > 0);

	/* Own env file missing: every env file's keys are masked. */
	c = must_container(&h, "krobs-worker-v1");
	assert_string_equal(c->cmd, "/app/start worker");
	assert_string_equal(kr_kvlist_get(&c->labels, "role"), "worker");
	assert_string_equal(
		kr_kvlist_get(&c->env, "DATABASE_URL"), KR_SENSITIVE);
	assert_string_equal(
		kr_kvlist_get(&c->env, "SECRET_KEY_BASE"), KR_SENSITIVE);

	/* Another destination: env file out of scope; sensitive_keys masked. */
	c = must_container(&h, "krobs-web-staging-v1");
	assert_string_equal(
		kr_kvlist_get(&c->labels, "destination"), "staging");
	assert_string_equal(
		kr_kvlist_get(&c->env, "STAGING_TOKEN"), KR_SENSITIVE);
	assert_string_equal(
		kr_kvlist_get(&c->env, "DATABASE_URL"), KR_SENSITIVE);
	assert_string_equal(
		kr_kvlist_get(&c->env, "KAMAL_DESTINATION"), "staging");

	c = must_container(&h, "krobs-db");
	assert_string_equal(kr_kvlist_get(&c->labels, "service"), "krobs-db");
	assert_string_equal(
		kr_kvlist_get(&c->env, "POSTGRES_PASSWORD"), KR_SENSITIVE);
	assert_string_equal(kr_kvlist_get(&c->env, "POSTGRES_USER"), "sample");
	assert_int_equal(c->ports.n, 1);
	assert_string_equal(c->ports.v[0], "127.0.0.1:15432:5432/tcp");
	assert_int_equal(c->nmounts, 2);
	for (i = 0; i < c->nmounts; i++) {
		assert_string_equal(c->mounts[i].type, "bind");
		assert_true(c->mounts[i].rw);
		assert_true(
			strcmp(c->mounts[i].destination,
				"/var/lib/postgresql/data") == 0 ||
			strcmp(c->mounts[i].destination, "/etc/my.cnf") == 0);
	}

	c = must_container(&h, "krobs-proxy");
	assert_int_equal(c->ports.n, 1);
	assert_string_equal(c->ports.v[0], "18080:80/tcp");
	assert_int_equal(c->log_opts.n, 0);

	kr_observed_host_release(&h);
	scope_release(&fs);
}

static void
test_full_host_files_and_lock(void **state)
{
	struct fixture_scope fs;
	struct kr_observed_host h;
	const struct kr_obs_file *f;
	char sha[KR_SHA256_HEX];

	scope_init(&fs);
	assert_int_equal(parse_fixture(&h, "bed-full.out", &fs.scope), 0);

	f = kr_observed_file(&h, ".kamal/apps/krobs/env/roles/web.env");
	assert_non_null(f);
	assert_true(f->is_env);
	assert_false(f->is_dir);
	assert_string_equal(f->mode, "600");
	kr_sha256_hex(sha, web_env, strlen(web_env));
	assert_string_equal(f->sha256, sha);
	assert_int_equal(f->keys.n, 2);
	assert_string_equal(f->keys.v[0], "DATABASE_URL");
	assert_string_equal(f->keys.v[1], "SECRET_KEY_BASE");
	assert_int_equal(f->mtime, 1764403200); /* stat -c %Y */

	f = kr_observed_file(&h, ".kamal/apps/krobs/env/accessories/db.env");
	assert_non_null(f);
	kr_sha256_hex(sha, db_env, strlen(db_env));
	assert_string_equal(f->sha256, sha);
	assert_int_equal(f->keys.n, 1);

	/* Accessory files hashed; its data directory listed, never walked. */
	f = kr_observed_file(&h, "krobs-db/etc/my.cnf");
	assert_non_null(f);
	assert_false(f->is_env);
	assert_string_equal(f->mode, "755");
	kr_sha256_hex(sha, my_cnf, strlen(my_cnf));
	assert_string_equal(f->sha256, sha);
	f = kr_observed_file(&h, "krobs-db/data");
	assert_non_null(f);
	assert_true(f->is_dir);
	assert_string_equal(f->sha256, "");
	assert_non_null(kr_observed_file(&h, "krobs-db"));
	assert_null(kr_observed_file(&h, "krobs-db/data/PG_VERSION"));
	assert_int_equal(h.nfiles, 6);

	assert_true(h.lock.held);
	assert_string_equal(h.lock.details,
		"Locked by: Ada Lovelace at 2026-11-26T06:50:00Z\nVersion: v2\n"
		"Message: fixture recording");
	kr_observed_host_release(&h);
	scope_release(&fs);
}

static void
test_no_secret_survives(void **state)
{
	struct fixture_scope fs;
	struct kr_observed_host h;
	size_t len, i, j;
	char *raw = load("bed-full.out", &len), *dump;

	/* The recording holds them (docker inspect shows env)... */
	assert_non_null(strstr(raw, "hunter2-web"));
	assert_non_null(strstr(raw, "tok-secret"));
	free(raw);
	/* ...the parsed model and its JSON do not. */
	scope_init(&fs);
	assert_int_equal(parse_fixture(&h, "bed-full.out", &fs.scope), 0);
	for (i = 0; i < h.ncontainers; i++)
		for (j = 0; j < h.containers[i].env.n; j++)
			assert_no_secret_in(h.containers[i].env.v[j].value);
	dump = kr_observed_host_dump(&h);
	assert_no_secret_in(dump);
	assert_non_null(strstr(dump, KR_SENSITIVE));
	free(dump);
	kr_observed_host_release(&h);

	/* Without sensitive_keys, a clear env value stays (it is not a secret).
	 */
	fs.scope.sensitive_keys = NULL;
	assert_int_equal(parse_fixture(&h, "bed-full.out", &fs.scope), 0);
	assert_string_equal(
		kr_kvlist_get(&must_container(&h, "krobs-web-staging-v1")->env,
			"STAGING_TOKEN"),
		"tok-secret");
	kr_observed_host_release(&h);
	scope_release(&fs);
}

static void
test_empty_host(void **state)
{
	struct kr_docker_scope scope = { .service = "krnone" };
	struct kr_observed_host h;

	assert_int_equal(parse_fixture(&h, "bed-empty.out", &scope), 0);
	assert_int_equal(h.status, KR_OBS_OK);
	assert_int_equal(h.ncontainers, 0);
	assert_int_equal(h.nfiles, 0);
	assert_false(h.lock.held);
	assert_null(h.lock.details);
	assert_int_equal(h.networks.n, 2);
	kr_observed_host_release(&h);
}

/* kamal-proxy v0.9.2's state file, as the bed's kamal-proxy saved it after
 * `kamal-proxy deploy sample-web --target=bf765557dbab:80 --host=a.test
 * --host=b.test --health-check-path=/up --buffer-requests --buffer-responses
 * --log-request-header=Cache-Control --log-request-header=User-Agent
 * --target-timeout=12s`. */
static const char proxy_state[] =
	"[{\"name\":\"sample-web\",\"options\":{\"hosts\":[\"a.test\",\"b."
	"test\"],"
	"\"path_prefixes\":[\"/"
	"\"],\"tls_enabled\":false,\"tls_certificate_path\":"
	"\"\",\"tls_private_key_path\":\"\",\"tls_redirect\":true,"
	"\"canonical_host\":\"\",\"acme_directory\":\"\",\"acme_cache_path\":"
	"\"/home/kamal-proxy/.config/kamal-proxy/"
	"certs\",\"error_page_path\":\"\","
	"\"strip_prefix\":true,\"writer_affinity_timeout\":1000000000,"
	"\"read_targets_accept_websockets\":false},\"target_options\":{"
	"\"health_check_config\":{\"path\":\"/up\",\"port\":0,\"interval\":"
	"1000000000,\"timeout\":5000000000,\"host\":\"\"},\"response_timeout\":"
	"12000000000,\"buffer_requests\":true,\"buffer_responses\":true,"
	"\"max_memory_buffer_size\":1048576,\"max_request_body_size\":0,"
	"\"max_response_body_size\":0,\"log_request_headers\":[\"Cache-"
	"Control\","
	"\"User-Agent\"],\"log_response_headers\":null,\"forward_headers\":"
	"true,"
	"\"scope_cookie_paths\":false},\"active_targets\":[\"bf765557dbab:80\"]"
	","
	"\"active_readers\":[],\"rollout_targets\":null,\"rollout_readers\":"
	"null,"
	"\"pause_controller\":{\"state\":0,\"stop_message\":\"\",\"fail_"
	"after\":0},"
	"\"rollout_controller\":null}]";

static void
test_proxy_routes(void **state)
{
	struct kr_docker_scope scope = { .service = "sample" };
	struct kr_observed_host h, back;
	const struct kr_obs_route *r;
	char *text, *dump;

	(void)state;
	text = kr_xasprintf("@@KR-" NONCE " begin 1\n@@KR-" NONCE
			    " docker 0\n20.10.24\n@@KR-" NONCE
			    " networks\nkamal\n@@KR-" NONCE
			    " routes 0\n%s\n@@KR-" NONCE
			    " lock none\n@@KR-" NONCE " end\n",
		proxy_state);
	assert_int_equal(
		kr_docker_parse(&h, "h", &scope, NONCE, text, strlen(text)), 0);
	assert_true(h.proxy.routes_known);
	assert_int_equal(h.proxy.nroutes, 1);
	r = kr_obs_proxy_route(&h.proxy, "sample-web");
	assert_non_null(r);
	assert_int_equal(r->targets.n, 1);
	assert_string_equal(r->targets.v[0], "bf765557dbab:80");
	assert_int_equal(r->hosts.n, 2);
	assert_string_equal(r->hosts.v[1], "b.test");
	assert_string_equal(r->path_prefixes.v[0], "/");
	assert_false(r->tls);
	assert_true(r->tls_redirect && r->strip_prefix && r->forward_headers);
	assert_true(r->buffer_requests && r->buffer_responses);
	assert_string_equal(r->health_check_path, "/up");
	assert_int_equal(r->health_check_interval_ms, 1000);
	assert_int_equal(r->health_check_timeout_ms, 5000);
	assert_int_equal(r->response_timeout_ms, 12000);
	assert_int_equal(r->buffer_memory, 1048576);
	assert_int_equal(r->log_request_headers.n, 2);
	assert_int_equal(r->log_response_headers.n, 0);
	/* the JSON form keeps it */
	dump = kr_observed_host_dump(&h);
	assert_int_equal(kr_observed_host_load(&back, dump, strlen(dump)), 0);
	r = kr_obs_proxy_route(&back.proxy, "sample-web");
	assert_non_null(r);
	assert_int_equal(r->response_timeout_ms, 12000);
	assert_string_equal(r->targets.v[0], "bf765557dbab:80");
	kr_observed_host_release(&back);
	free(dump);
	kr_observed_host_release(&h);
	free(text);

	/* a routes frame that is not "0" (the exec failed): unknown */
	text = kr_xasprintf(
		"@@KR-" NONCE " begin 1\n@@KR-" NONCE
		" docker 0\n20.10.24\n@@KR-" NONCE
		" routes 1\nError: No such container\n@@KR-" NONCE " end\n");
	assert_int_equal(
		kr_docker_parse(&h, "h", &scope, NONCE, text, strlen(text)), 0);
	assert_false(h.proxy.routes_known);
	assert_int_equal(h.proxy.nroutes, 0);
	kr_observed_host_release(&h);
	free(text);
}

static void
check_no_docker(const char *fixture, const char *why)
{
	struct fixture_scope fs;
	struct kr_observed_host h;

	scope_init(&fs);
	assert_int_equal(parse_fixture(&h, fixture, &fs.scope), KR_EDOCKER);
	assert_int_equal(h.status, KR_OBS_NO_DOCKER);
	assert_non_null(h.error);
	if (!strstr(h.error, why))
		fail_msg("'%s' does not say '%s'", h.error, why);
	assert_non_null(strstr(kr_error_last(), why));
	assert_null(h.docker_version);
	assert_int_equal(h.ncontainers, 0);
	assert_false(h.lock.held);
	kr_observed_host_release(&h);
	scope_release(&fs);
}

static void
test_no_docker(void **state)
{
	check_no_docker("no-docker-missing.out", "docker: command not found");
	check_no_docker("no-docker-permission.out",
		"permission denied while trying to connect to the Docker "
		"daemon socket");
	check_no_docker(
		"no-docker-daemon-down.out", "Is the docker daemon running?");
}

/* Two lock frames (found by fuzz_observe): the second one's details
 * replace the first's, nothing leaks (LeakSanitizer in this build). */
static void
test_two_lock_frames(void **state)
{
	struct fixture_scope fs;
	struct kr_observed_host h;
	const char *text =
		"@@KR-" NONCE " begin 1\n@@KR-" NONCE " docker 0\n20.10\n"
		"@@KR-" NONCE " containers\n[]\n"
		"@@KR-" NONCE " lock held\nfirst\n"
		"@@KR-" NONCE " lock held\nsecond\n@@KR-" NONCE " end\n";

	(void)state;
	scope_init(&fs);
	assert_int_equal(
		kr_docker_parse(&h, "h", &fs.scope, NONCE, text, strlen(text)),
		0);
	assert_true(h.lock.held);
	assert_non_null(strstr(h.lock.details, "second"));
	kr_observed_host_release(&h);
	scope_release(&fs);
}

static void
test_framing_errors(void **state)
{
	struct fixture_scope fs;
	struct kr_observed_host h;
	size_t len;
	char *text = load("bed-full.out", &len);
	const char *bad_json =
		"@@KR-" NONCE " begin 1\n@@KR-" NONCE " docker 0\n20.10\n"
		"@@KR-" NONCE " containers\n[{\"Id\": \n@@KR-" NONCE " end\n";

	scope_init(&fs);
	/* Cut short: no end mark. */
	assert_int_equal(
		kr_docker_parse(&h, "h", &fs.scope, NONCE, text, len / 2),
		KR_EPARSE);
	assert_int_equal(h.status, KR_OBS_FAILED);
	assert_non_null(strstr(h.error, "ended early"));
	kr_observed_host_release(&h);

	/* Frames under another nonce are not ours (and cannot be forged). */
	assert_int_equal(kr_docker_parse(&h, "h", &fs.scope, "othernonce000000",
				 text, len),
		KR_EPARSE);
	assert_int_equal(h.status, KR_OBS_FAILED);
	assert_non_null(strstr(h.error, "not ours"));
	kr_observed_host_release(&h);

	/* Login banner instead of output. */
	assert_int_equal(
		kr_docker_parse(&h, "h", &fs.scope, NONCE,
			"This account is currently not available.\n", 41),
		KR_EPARSE);
	assert_non_null(strstr(h.error, "currently not available"));
	kr_observed_host_release(&h);

	assert_int_equal(kr_docker_parse(&h, "h", &fs.scope, NONCE, bad_json,
				 strlen(bad_json)),
		KR_EPARSE);
	assert_int_equal(h.status, KR_OBS_FAILED);
	assert_non_null(
		strstr(h.error, "cannot parse docker inspect output from 'h'"));
	kr_observed_host_release(&h);
	free(text);
	scope_release(&fs);
}

static void
test_fingerprint_and_json_round_trip(void **state)
{
	struct fixture_scope fs;
	struct kr_observed_host a, b, c;
	char *dump_a, *dump_b;
	char fp[KR_SHA256_HEX];
	json_t *j;

	scope_init(&fs);
	assert_int_equal(parse_fixture(&a, "bed-full.out", &fs.scope), 0);
	assert_int_equal(parse_fixture(&b, "bed-full.out", &fs.scope), 0);
	assert_int_equal(strlen(a.fingerprint), 64);
	assert_string_equal(a.fingerprint, b.fingerprint);
	/* observed_at is not part of the snapshot. */
	b.observed_at = 1234567890;
	kr_observed_host_fingerprint(&b, fp);
	assert_string_equal(fp, a.fingerprint);

	dump_a = kr_observed_host_dump(&b);
	j = json_loads(dump_a, 0, NULL);
	assert_non_null(j);
	assert_int_equal(
		json_integer_value(json_object_get(j, "format_version")),
		KR_OBSERVED_FORMAT_VERSION);
	assert_string_equal(
		json_string_value(json_object_get(j, "observed_at")),
		"2009-02-13T23:31:30Z");
	json_decref(j);
	assert_int_equal(kr_observed_host_load(&c, dump_a, strlen(dump_a)), 0);
	dump_b = kr_observed_host_dump(&c);
	assert_string_equal(dump_a, dump_b);
	kr_observed_host_fingerprint(&c, fp);
	assert_string_equal(fp, a.fingerprint);
	assert_int_equal(c.observed_at, 1234567890);

	/* Any change shows in the fingerprint. */
	free(c.containers[0].state);
	c.containers[0].state = kr_xstrdup("exited");
	kr_observed_host_fingerprint(&c, fp);
	assert_string_not_equal(fp, a.fingerprint);

	free(dump_a);
	free(dump_b);
	kr_observed_host_release(&a);
	kr_observed_host_release(&b);
	kr_observed_host_release(&c);
	scope_release(&fs);
}

static void
test_time_parse(void **state)
{
	time_t t;
	char buf[32];

	assert_int_equal(
		kr_obs_time_parse(&t, "2026-11-26T06:45:52.144192706Z"), 0);
	assert_int_equal(t, 1795675552);
	assert_int_equal(kr_obs_time_parse(&t, "2026-11-26T07:45:52+01:00"), 0);
	assert_int_equal(t, 1795675552);
	assert_int_equal(
		kr_obs_time_parse(&t, "2026-11-26T05:15:52.5-01:30"), 0);
	assert_int_equal(t, 1795675552);
	assert_int_equal(kr_obs_time_parse(&t, "0001-01-01T00:00:00Z"), 0);
	assert_int_equal(t, 0);
	assert_int_equal(kr_obs_time_parse(&t, ""), 0);
	assert_int_equal(t, 0);
	assert_int_equal(kr_obs_time_parse(&t, "yesterday"), KR_EPARSE);
	assert_int_equal(
		kr_obs_time_parse(&t, "2026-11-26T06:45:52"), KR_EPARSE);
	kr_obs_time_format(buf, 1795675552);
	assert_string_equal(buf, "2026-11-26T06:45:52Z");
	kr_obs_time_format(buf, 0);
	assert_string_equal(buf, "");
}

static void
test_json_rejects(void **state)
{
	struct kr_observed_host h;

	const char *v99 =
		"{\"format_version\": 99, \"name\": \"x\", \"status\": \"ok\"}";
	const char *fine = "{\"format_version\": 1, \"name\": \"x\", "
			   "\"status\": \"fine\"}";
	const char *ok = "{\"format_version\": 1, \"name\": \"x\", \"status\": "
			 "\"unreachable\","
			 " \"error\": \"no route\"}";

	assert_int_equal(kr_observed_host_load(&h, "{", 1), KR_EPARSE);
	assert_non_null(strstr(kr_error_last(), "observed state: 1:"));
	assert_int_equal(
		kr_observed_host_load(&h, v99, strlen(v99)), KR_EPARSE);
	assert_non_null(strstr(kr_error_last(), "format_version 99"));
	assert_int_equal(
		kr_observed_host_load(&h, fine, strlen(fine)), KR_EPARSE);
	assert_non_null(strstr(kr_error_last(), "'status'"));
	/* The smallest valid form: a host that could not be reached. */
	assert_int_equal(kr_observed_host_load(&h, ok, strlen(ok)), 0);
	assert_int_equal(h.status, KR_OBS_UNREACHABLE);
	assert_string_equal(h.error, "no route");
	assert_int_equal(h.ncontainers, 0);
	kr_observed_host_release(&h);
}

/*
 * The whole script through the local transport, with a stand-in `docker`
 * first on PATH (it answers the few subcommands the script uses) and real
 * files in a temporary HOME: one exec, filtering, hashing, masking, lock.
 */
static const char fake_docker[] =
	"#!/bin/sh\n"
	"case \"$1 $2\" in\n"
	"'version --format') echo 24.0.7 ;;\n"
	"'network ls') printf 'bridge\\nkamal\\n' ;;\n"
	"'ps -a') printf 'aaa\\tkrobs-web-v9\\tkrobs\\nbbb\\tunrelated\\t\\n"
	"ccc\\tkrobs-db\\tkrobs-db\\n' ;;\n"
	"'inspect --type')\n"
	"\tshift 3; sep='['\n"
	"\tfor id; do\n"
	"\t\tif [ $id = aaa ]; then n=krobs-web-v9; s=krobs; else n=krobs-db; "
	"s=krobs-db; fi\n"
	"\t\tprintf '%s{\"Id\": \"%s\", \"Name\": \"/%s\",\\n  \"Image\": "
	"\"sha256:%s\",\\n' \"$sep\" $id $n $id\n"
	"\t\tprintf '\"Config\": {\"Image\": \"img:v9\", \"Env\": "
	"[\"DATABASE_URL=pg://u:hunter2@x\", '\n"
	"\t\tprintf '\"POSTGRES_PASSWORD=pg-hunter2\", \"CLEAR=1\"], "
	"\"Labels\": {\"service\": \"%s\", '  $s\n"
	"\t\tprintf '\"role\": \"web\"}}, \"State\": {\"Status\": "
	"\"running\"}}\\n'\n"
	"\t\tsep=,\n"
	"\tdone\n"
	"\techo ']' ;;\n"
	"'image inspect') shift 4; for i; do echo \"$i "
	"[\\\"img@sha256:d1\\\"]\"; done ;;\n"
	"*) echo \"fake docker: unexpected $*\" >&2; exit 1 ;;\n"
	"esac\n";

static void
write_file(const char *path, const char *content, int mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	chmod(path, (mode_t)mode);
}

static void
test_observe_local_one_exec(void **state)
{
	char dir[] = "/tmp/kr-test-observe-XXXXXX";
	struct fixture_scope fs;
	struct kr_transport_opts opts = { .host = "localhost" };
	struct kr_transport *t = NULL;
	struct kr_observed_host h;
	const struct kr_obs_container *c;
	char *p, *old_path = kr_xstrdup(getenv("PATH")), *old_home, *cmd;
	const char *home_env = getenv("HOME");
	char sha[KR_SHA256_HEX];

	old_home = kr_xstrdup(home_env ? home_env : "/");
	assert_non_null(mkdtemp(dir));
	cmd = kr_xasprintf("mkdir -p '%s/bin' '%s/.kamal/apps/krobs/env/roles' "
			   "'%s/.kamal/apps/krobs/env/accessories' "
			   "'%s/krobs-db/data/base' "
			   "'%s/.kamal/lock-krobs'",
		dir, dir, dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	p = kr_xasprintf("%s/bin/docker", dir);
	write_file(p, fake_docker, 0755);
	free(p);
	p = kr_xasprintf("%s/.kamal/apps/krobs/env/roles/web.env", dir);
	write_file(p, "DATABASE_URL=pg://u:hunter2@x\n", 0600);
	free(p);
	p = kr_xasprintf("%s/.kamal/apps/krobs/env/accessories/db.env", dir);
	write_file(p, db_env, 0600);
	free(p);
	p = kr_xasprintf("%s/krobs-db/data/base/1", dir);
	write_file(p, "data", 0600);
	free(p);
	p = kr_xasprintf("%s/.kamal/lock-krobs/details", dir);
	/* base64 of "Locked by: me at now\nVersion: v9\nMessage: x" */
	write_file(p,
		"TG9ja2VkIGJ5OiBtZSBhdCBub3cKVmVyc2lvbjogdjkKTWVzc2FnZTogeA=="
		"\n",
		0644);
	free(p);
	p = kr_xasprintf("%s/bin:%s", dir, old_path);
	setenv("PATH", p, 1);
	setenv("HOME", dir, 1);
	free(p);

	scope_init(&fs);
	assert_int_equal(kr_transport_connect(&t, &opts), 0);
	assert_int_equal(kr_docker_observe(&h, t, &fs.scope), 0);
	assert_int_equal(t->exec_count, 1);
	kr_transport_close(t);
	setenv("PATH", old_path, 1);
	setenv("HOME", old_home, 1);

	if (h.status != KR_OBS_OK)
		fail_msg("observe failed: %s", h.error);
	assert_string_equal(h.docker_version, "24.0.7");
	assert_true(h.observed_at > 0);
	assert_int_equal(strlen(h.fingerprint), 64);
	assert_int_equal(h.ncontainers, 2);
	assert_null(kr_observed_container(&h, "unrelated"));
	c = must_container(&h, "krobs-web-v9");
	assert_string_equal(
		kr_kvlist_get(&c->env, "DATABASE_URL"), KR_SENSITIVE);
	/* Not in web.env and not a named secret: left as it is. */
	assert_string_equal(
		kr_kvlist_get(&c->env, "POSTGRES_PASSWORD"), "pg-hunter2");
	assert_string_equal(kr_kvlist_get(&c->env, "CLEAR"), "1");
	assert_int_equal(c->repo_digests.n, 1);
	assert_string_equal(c->repo_digests.v[0], "img@sha256:d1");
	c = must_container(&h, "krobs-db");
	assert_string_equal(
		kr_kvlist_get(&c->env, "POSTGRES_PASSWORD"), KR_SENSITIVE);
	kr_sha256_hex(sha, db_env, strlen(db_env));
	assert_string_equal(
		kr_observed_file(&h, ".kamal/apps/krobs/env/accessories/db.env")
			->sha256,
		sha);
	assert_true(kr_observed_file(&h, "krobs-db/data")->is_dir);
	assert_null(kr_observed_file(&h, "krobs-db/data/base"));
	assert_true(h.lock.held);
	assert_string_equal(h.lock.details,
		"Locked by: me at now\nVersion: v9\nMessage: x");
	kr_observed_host_release(&h);

	cmd = kr_xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(old_path);
	free(old_home);
	scope_release(&fs);
}

static void
test_observe_all_reports_each_host(void **state)
{
	struct fixture_scope fs;
	struct kr_observe_job jobs[2];

	scope_init(&fs);
	memset(jobs, 0, sizeof(jobs));
	jobs[0].opts.host = "-bad";
	jobs[0].scope = &fs.scope;
	jobs[1].opts.host = "localhost";
	jobs[1].scope = &fs.scope;
	/* Host 1 fails to connect; host 2 runs (docker or not) in one exec. */
	assert_true(kr_docker_observe_all(jobs, 2, 0, NULL, NULL) >= 1);
	assert_int_equal(jobs[0].result.status, KR_OBS_UNREACHABLE);
	assert_non_null(strstr(jobs[0].result.error, "starts with '-'"));
	assert_int_equal(jobs[0].execs, 0);
	assert_int_equal(jobs[1].execs, 1);
	assert_true(jobs[1].result.status == KR_OBS_OK ||
		    jobs[1].result.status == KR_OBS_NO_DOCKER);
	kr_observed_host_release(&jobs[0].result);
	kr_observed_host_release(&jobs[1].result);
	scope_release(&fs);
}

static void
test_scope_from_desired(void **state)
{
	struct kr_app app;
	struct kr_accessory acc;
	struct kr_host hosts[2];
	struct kr_desired d;
	struct kr_docker_scope_buf sb;
	struct kr_observed_host h;

	memset(&app, 0, sizeof(app));
	memset(&acc, 0, sizeof(acc));
	memset(hosts, 0, sizeof(hosts));
	memset(&d, 0, sizeof(d));
	app.role = "web";
	app.env_file.path = ".kamal/apps/krobs/env/roles/web.env";
	kr_kvlist_set(&app.env_file.secrets, "DATABASE_URL", "x");
	acc.name = "db";
	acc.container = "krobs-db";
	kr_strvec_push(
		&acc.directories, "krobs-db/data:/var/lib/postgresql/data");
	kr_kvlist_set(&acc.env_file.secrets, "POSTGRES_PASSWORD", "y");
	hosts[0].name = "198.18.0.11";
	hosts[0].apps = &app;
	hosts[0].napps = 1;
	hosts[1].name = "198.18.0.12";
	hosts[1].accessories = &acc;
	hosts[1].naccessories = 1;
	d.service = "krobs";
	d.hosts = hosts;
	d.nhosts = 2;

	/* Host 1 runs no accessory, yet its scope looks for db's leftovers. */
	kr_docker_scope_from_desired(&sb, &d, &hosts[0]);
	assert_string_equal(sb.scope.service, "krobs");
	assert_null(sb.scope.destination);
	assert_int_equal(sb.scope.naccessories, 1);
	assert_string_equal(sb.scope.accessories[0].name, "db");
	assert_string_equal(sb.scope.accessories[0].container, "krobs-db");
	assert_int_equal(sb.scope.accessories[0].data_dirs->n, 1);
	assert_string_equal(
		sb.scope.accessories[0].data_dirs->v[0], "krobs-db/data");
	assert_int_equal(sb.env_files.n, 1);
	assert_true(kr_strvec_contains(&sb.sensitive_keys, "DATABASE_URL"));
	assert_true(
		kr_strvec_contains(&sb.sensitive_keys, "POSTGRES_PASSWORD"));
	assert_int_equal(sb.sensitive_keys.n, 2);

	/* The parser keeps what the script selected; masking follows the scope.
	 */
	assert_int_equal(parse_fixture(&h, "bed-full.out", &sb.scope), 0);
	assert_int_equal(h.ncontainers, 6);
	assert_string_equal(
		kr_kvlist_get(&must_container(&h, "krobs-web-staging-v1")->env,
			"DATABASE_URL"),
		KR_SENSITIVE);
	assert_string_equal(kr_kvlist_get(&must_container(&h, "krobs-db")->env,
				    "POSTGRES_PASSWORD"),
		KR_SENSITIVE);
	assert_true(kr_observed_file(&h, "krobs-db/data")->is_dir);
	kr_observed_host_release(&h);

	kr_docker_scope_buf_release(&sb);
	kr_kvlist_release(&app.env_file.secrets);
	kr_kvlist_release(&acc.env_file.secrets);
	kr_strvec_release(&acc.directories);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_host),
		cmocka_unit_test(test_full_host_files_and_lock),
		cmocka_unit_test(test_no_secret_survives),
		cmocka_unit_test(test_empty_host),
		cmocka_unit_test(test_proxy_routes),
		cmocka_unit_test(test_no_docker),
		cmocka_unit_test(test_framing_errors),
		cmocka_unit_test(test_two_lock_frames),
		cmocka_unit_test(test_fingerprint_and_json_round_trip),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_json_rejects),
		cmocka_unit_test(test_observe_local_one_exec),
		cmocka_unit_test(test_observe_all_reports_each_host),
		cmocka_unit_test(test_scope_from_desired),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
