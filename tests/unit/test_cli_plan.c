/*
 * The parts of the plan command that need neither host nor registry: which
 * credentials go with which image, when an image need not be looked up
 * (some host already runs that exact reference), the atomic write of a
 * saved plan, and --refresh's values. cli/cmd-plan.c (with the CLI's run
 * helpers and reconciler/hosts.c, for its static functions) is compiled
 * into this test; the CLI's print helpers are test doubles that print nothing.
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

#include "cli/cmd-plan.c"
#include "cli/run.c"
#include "reconciler/hosts.c"

void
kr_cli_error(const char *fmt, ...)
{
	(void)fmt;
}

void
kr_cli_progress(const struct kr_globals *g, const char *fmt, ...)
{
	(void)g;
	(void)fmt;
}

int
kr_cli_usage(const struct kr_cmd_entry *cmd, const char *fmt, ...)
{
	(void)cmd;
	(void)fmt;
	return KR_EXIT_USAGE;
}

/* The credentials image_auth picks for image under registry server. */
static const char *
user_for(const char *server, const char *image)
{
	struct kr_desired d = { 0 };
	struct kr_registry_ref ref;
	struct kr_registry_auth auth;
	static char user[64];

	d.registry.server = (char *)server;
	d.registry.username = (char *)"acme";
	d.registry.password = (char *)"pw";
	assert_int_equal(kr_registry_ref_parse(&ref, NULL, image), 0);
	image_auth(&auth, &d, &ref);
	kr_registry_ref_release(&ref);
	if (!auth.username) {
		assert_null(auth.password);
		return NULL;
	}
	assert_string_equal(auth.password, "pw");
	snprintf(user, sizeof(user), "%s", auth.username);
	return user;
}

static void
test_image_auth(void **state)
{
	(void)state;
	assert_string_equal(user_for("ghcr.io", "ghcr.io/acme/app:v1"), "acme");
	assert_string_equal(
		user_for("198.18.0.1:5000", "198.18.0.1:5000/sample-app:v1"),
		"acme");
	/* another registry, or Docker Hub, gets no credentials */
	assert_null(user_for("ghcr.io", "postgres:16"));
	assert_null(user_for("ghcr.io", "quay.io/acme/app:v1"));
	assert_null(user_for("198.18.0.1:5000", "198.18.0.1:5001/x:v1"));
	/* no registry.server: Docker Hub is the configured registry */
	assert_string_equal(user_for(NULL, "acme/app:v1"), "acme");
	assert_string_equal(user_for(NULL, "docker.io/acme/app:v1"), "acme");
	assert_null(user_for(NULL, "ghcr.io/acme/app:v1"));
}

static void
test_image_on_a_host(void **state)
{
	struct kr_obs_container c1 = { .image = (char *)"reg/app:v1" };
	struct kr_obs_container c2 = { .image = (char *)"reg/db:15" };
	struct kr_observed_host hosts[2] = { 0 };
	struct kr_hosts h = { .hosts = hosts, .n = 2 };

	(void)state;
	hosts[0].status = KR_OBS_OK;
	hosts[0].containers = &c1;
	hosts[0].ncontainers = 1;
	hosts[1].status = KR_OBS_FAILED; /* what it held is not known now */
	hosts[1].containers = &c2;
	hosts[1].ncontainers = 1;
	assert_true(image_on_a_host(&h, "reg/app:v1"));
	assert_false(image_on_a_host(&h, "reg/app:v2"));
	assert_false(image_on_a_host(&h, "reg/app"));
	assert_false(image_on_a_host(&h, "reg/db:15"));
	hosts[1].status = KR_OBS_OK;
	assert_true(image_on_a_host(&h, "reg/db:15"));
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = kr_xcalloc(1, 4096);

	assert_non_null(f);
	assert_true(fread(buf, 1, 4095, f) > 0);
	fclose(f);
	return buf;
}

static void
test_save_atomic(void **state)
{
	char dir[] = "/tmp/kr-test-cli-plan-XXXXXX";
	char *path, *text, *cmd, *missing;
	struct stat st;
	FILE *ls;
	char line[256];
	int entries = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = kr_xasprintf("%s/plan.json", dir);
	assert_int_equal(save_atomic(path, "{\"a\":1}\n", 8), 0);
	text = slurp(path);
	assert_string_equal(text, "{\"a\":1}\n");
	free(text);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* replaced whole */
	assert_int_equal(save_atomic(path, "{}\n", 3), 0);
	text = slurp(path);
	assert_string_equal(text, "{}\n");
	free(text);
	/* no temporary file left beside it */
	cmd = kr_xasprintf("ls -A '%s'", dir);
	ls = popen(cmd, "r");
	assert_non_null(ls);
	while (fgets(line, sizeof(line), ls)) {
		assert_string_equal(line, "plan.json\n");
		entries++;
	}
	pclose(ls);
	assert_int_equal(entries, 1);
	free(cmd);
	/* a directory that does not exist: an error naming the path */
	missing = kr_xasprintf("%s/no/such/dir/plan.json", dir);
	assert_int_equal(save_atomic(missing, "{}", 2), KR_EIO);
	assert_non_null(strstr(kr_error_last(), missing));
	free(missing);
	cmd = kr_xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
}

static void
test_parse_bool(void **state)
{
	bool b = false;

	(void)state;
	assert_int_equal(parse_bool(&b, NULL), 0); /* --refresh alone */
	assert_true(b);
	assert_int_equal(parse_bool(&b, "false"), 0);
	assert_false(b);
	assert_int_equal(parse_bool(&b, "true"), 0);
	assert_true(b);
	assert_int_equal(parse_bool(&b, "0"), 0);
	assert_false(b);
	assert_int_equal(parse_bool(&b, "maybe"), -1);
	assert_false(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_auth),
		cmocka_unit_test(test_image_on_a_host),
		cmocka_unit_test(test_save_atomic),
		cmocka_unit_test(test_parse_bool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
