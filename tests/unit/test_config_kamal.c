/*
 * Where kreconcile's validation was brought in line with Kamal 2.12's (the
 * verdicts themselves are in test_kamal_verdicts.c): what the accepted forms
 * become in the model, and the warnings and messages they give.
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
#include "common/vec.h"
#include "state/config.h"

#define BASE                                                      \
	"service: app\nimage: me/app\nregistry:\n  username: u\n" \
	"  password: [ KAMAL_REGISTRY_PASSWORD ]\nbuilder:\n  arch: amd64\n"

static int
load(struct kr_config **c, struct kr_diags *d, struct kr_diags *w,
	const char *text)
{
	struct kr_config_load_opts o = { 0 };

	o.ruby = "";
	o.warnings = w;
	return kr_config_load_text(c, d, "config/deploy.yml", text,
		strlen(text), NULL, NULL, 0, &o);
}

/* A map under options: accepted with a warning, passed on as Kamal does. */
static void
test_options_map_value(void **state)
{
	struct kr_diags d = { 0 }, w = { 0 };
	struct kr_config *c = NULL;
	const struct kr_config_role *r;

	assert_int_equal(
		load(&c, &d, &w,
			BASE "servers:\n  web:\n"
			     "    hosts: [ 10.0.0.1 ]\n    options:\n"
			     "      log-opt: { max-size: 10m, max-file: 3 }\n"
			     "      init: true\n"),
		0);
	assert_non_null(r = kr_config_role(c, "web"));
	/* Kamal 2.12's docker run for this config (kamal-eval): ... --log-opt
	 * "[\"max-size\", \"10m\"]" --log-opt "[\"max-file\", 3]" --init */
	assert_int_equal(r->args.n, 5);
	assert_string_equal(r->args.v[0], "--log-opt");
	assert_string_equal(r->args.v[1], "[\"max-size\", \"10m\"]");
	assert_string_equal(r->args.v[2], "--log-opt");
	assert_string_equal(r->args.v[3], "[\"max-file\", 3]");
	assert_string_equal(r->args.v[4], "--init");
	assert_int_equal(w.n, 1);
	assert_int_equal(w.v[0].line, 12);
	assert_non_null(strstr(w.v[0].msg, "servers/web/options/log-opt"));
	kr_config_free(c);
	kr_diags_release(&d);
	kr_diags_release(&w);
}

/* A number in a role's host list: dropped with a warning, as by Kamal. */
static void
test_non_string_host(void **state)
{
	struct kr_diags d = { 0 }, w = { 0 };
	struct kr_config *c = NULL;
	const struct kr_config_role *r;
	size_t i;
	bool found = false;

	assert_int_equal(load(&c, &d, &w,
				 BASE "servers:\n  - 10.0.0.1\n"
				      "  - 1234\n"),
		0);
	assert_non_null(r = kr_config_role(c, "web"));
	assert_int_equal(r->nhosts, 1);
	assert_string_equal(r->hosts[0].host, "10.0.0.1");
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.v[0].msg, "Kamal ignores it"));
	kr_config_free(c);
	c = NULL;
	kr_diags_release(&d);
	kr_diags_release(&w);

	/* alone, the role has no hosts: Kamal's "No servers specified" */
	assert_int_not_equal(load(&c, &d, &w, BASE "servers:\n  - 1234\n"), 0);
	for (i = 0; i < d.n; i++)
		found |= strstr(d.v[i].msg, "no servers") != NULL ||
			 strstr(d.v[i].msg, "No servers") != NULL ||
			 strstr(d.v[i].msg, "no hosts") != NULL;
	if (!found)
		fail_msg("'%s'", d.n ? d.v[0].msg : "(none)");
	kr_config_free(c);
	kr_diags_release(&d);
	kr_diags_release(&w);
}

static void
expect_error(const char *text, int line, const char *needle)
{
	struct kr_diags d = { 0 };
	struct kr_config *c = NULL;
	size_t i;

	assert_int_not_equal(load(&c, &d, NULL, text), 0);
	for (i = 0; i < d.n; i++)
		if (strstr(d.v[i].msg, needle)) {
			assert_int_equal(d.v[i].line, line);
			break;
		}
	if (i == d.n)
		fail_msg("no '%s' in '%s'", needle, d.n ? d.v[0].msg : "");
	kr_config_free(c);
	kr_diags_release(&d);
}

static void
test_kamal_rejections(void **state)
{
	expect_error("service: 123\nimage: a\nregistry:\n  username: u\n"
		     "  password: p\nbuilder:\n  arch: amd64\nservers: [ a ]\n",
		1, "'service' should be a string");
	expect_error("service: a\nimage: a\nregistry:\n  server: 5000\n"
		     "  username: u\n  password: p\nbuilder:\n  arch: amd64\n"
		     "servers: [ a ]\n",
		4, "'registry/server' should be a string");
	expect_error(BASE "servers: [ a ]\nminimum_version: 2.13.0\n", 9,
		"minimum required is 2.13.0");
	expect_error(
		BASE "servers: [ a ]\nssh:\n  config: 5\n", 10, "ssh/config");
}

static void
test_minimum_version_accepted(void **state)
{
	static const char *const ok[] = { "2.12.0", "2.12", "2.0", "1.9.2",
		"2.12.0.rc1", NULL };
	size_t i;

	for (i = 0; ok[i]; i++) {
		char text[512];
		struct kr_diags d = { 0 };
		struct kr_config *c = NULL;

		snprintf(text, sizeof(text),
			BASE "servers: [ a ]\n"
			     "minimum_version: \"%s\"\n",
			ok[i]);
		if (load(&c, &d, NULL, text) != 0)
			fail_msg("%s: %s", ok[i], d.n ? d.v[0].msg : "");
		kr_config_free(c);
		kr_diags_release(&d);
	}
}

/* Lists and maps where Kamal prints them with Ruby's to_s. */
static void
test_ruby_printed_values(void **state)
{
	struct kr_diags d = { 0 }, w = { 0 };
	struct kr_config *c = NULL;
	const struct kr_config_role *r;

	assert_int_equal(
		load(&c, &d, &w,
			BASE "servers:\n  web:\n"
			     "    hosts: [ 10.0.0.1 ]\n    options:\n"
			     "      add-host: [ a:1.2.3.4, { b: c } ]\n"
			     "logging:\n  options:\n    max-size: [ 10m ]\n"
			     "proxy:\n  hosts: [ a.example.com, { "
			     "b.example.com: c } ]\n"
			     "hooks_output: 1\n"),
		0);
	assert_non_null(r = kr_config_role(c, "web"));
	assert_int_equal(r->args.n, 4);
	assert_string_equal(r->args.v[1], "a:1.2.3.4");
	assert_string_equal(r->args.v[3], "{\"b\"=>\"c\"}");
	assert_string_equal(
		kr_kvlist_get(&c->logging.options, "max-size"), "[\"10m\"]");
	assert_int_equal(c->proxy.hosts.n, 2);
	assert_string_equal(c->proxy.hosts.v[1], "{\"b.example.com\"=>\"c\"}");
	assert_null(c->hooks_output);
	assert_int_equal(w.n, 4);
	kr_config_free(c);
	kr_diags_release(&d);
	kr_diags_release(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_map_value),
		cmocka_unit_test(test_non_string_host),
		cmocka_unit_test(test_kamal_rejections),
		cmocka_unit_test(test_minimum_version_accepted),
		cmocka_unit_test(test_ruby_printed_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
