/*
 * ERB as Kamal renders it: the fixtures of tests/fixtures/erb (templates and
 * the output Ruby's ERB gave for them, see its README) rendered with and
 * without Ruby, the hand-over to Ruby (render once, errors, ENV changes,
 * timeout, nothing in argv) and the Kamal 1 hint of an unrenderable file.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/diag.h"
#include "state/config.h"
#include "state/erb.h"

#define ERB_DIR KR_FIXTURES "/erb"

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct kr_buf b = KR_BUF_INIT;
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		kr_buf_put(&b, chunk, n);
	fclose(f);
	return kr_buf_detach(&b, NULL);
}

/* The environment the fixtures were recorded with (README). */
static void
fixture_env(const char *name)
{
	static const char *const unset[] = { "NOPE", "NOPE2", "NEWV",
		"FROM_DOTENV", "RBENV_VERSION", "rvm_ruby_string", "PORT",
		NULL };
	size_t i;

	for (i = 0; unset[i]; i++)
		unsetenv(unset[i]);
	setenv("HOST", "db.internal", 1);
	setenv("EMPTY", "", 1);
	if (strcmp(name, "rails8-ruby-version-rbenv") == 0)
		setenv("RBENV_VERSION", "3.3.6", 1);
}

static int
render_file(const char *path, const char *ruby, char **out, struct kr_diags *d,
	size_t *nsegs)
{
	struct kr_erb_opts o = { 0 };
	struct kr_erb_map m = { 0 };
	struct kr_buf b = KR_BUF_INIT;
	char *text = slurp(path);
	int rc;

	assert_non_null(text);
	o.dir = ERB_DIR "/app";
	o.trim = true;
	o.ruby = ruby;
	o.timeout = 20;
	rc = kr_erb_render_opts(&b, &m, d, path, text, strlen(text), &o);
	*out = kr_buf_detach(&b, NULL);
	if (nsegs)
		*nsegs = m.n;
	kr_erb_map_release(&m);
	free(text);
	return rc;
}

static bool
have_ruby(void)
{
	char *r = NULL;
	const char *path = getenv("PATH");
	struct kr_buf b = KR_BUF_INIT;
	bool found = false;

	(void)r;
	if (!path)
		return false;
	kr_buf_puts(&b, path);
	for (char *p = strtok(b.ptr, ":"); p && !found; p = strtok(NULL, ":")) {
		char *cand = NULL;

		if (asprintf(&cand, "%s/ruby", p) > 0) {
			found = access(cand, X_OK) == 0;
			free(cand);
		}
	}
	kr_buf_release(&b);
	return found;
}

/* Each NAME.yml of dir with its NAME.out; calls fn for each. */
static void
each_fixture(const char *dir,
	void (*fn)(const char *name, const char *yml, const char *expected))
{
	char path[4096];
	DIR *dp;
	struct dirent *de;
	size_t count = 0;

	snprintf(path, sizeof(path), "%s/%s", ERB_DIR, dir);
	assert_non_null(dp = opendir(path));
	while ((de = readdir(dp))) {
		size_t n = strlen(de->d_name);
		char yml[8192], outp[8192], name[256];
		char *expected;

		if (n < 5 || strcmp(de->d_name + n - 4, ".yml") != 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(n - 4), de->d_name);
		snprintf(yml, sizeof(yml), "%s/%s", path, de->d_name);
		snprintf(outp, sizeof(outp), "%s/%s.out", path, name);
		assert_non_null(expected = slurp(outp));
		fixture_env(name);
		fn(name, yml, expected);
		free(expected);
		count++;
	}
	closedir(dp);
	assert_true(count >= 4);
}

static void
form_builtin(const char *name, const char *yml, const char *expected)
{
	struct kr_diags d = { 0 };
	char *out;
	size_t nsegs = 0;
	int rc = render_file(yml, "", &out, &d, &nsegs);

	if (rc != 0 || strcmp(out, expected) != 0)
		fail_msg("%s: rc %d, got '%s', Ruby gave '%s' (%s)", name, rc,
			out, expected, d.n ? d.v[0].msg : "");
	free(out);
	kr_diags_release(&d);
}

static void
form_with_ruby(const char *name, const char *yml, const char *expected)
{
	struct kr_diags d = { 0 };
	char *out;
	size_t nsegs = 0;
	int rc = render_file(yml, NULL, &out, &d, &nsegs);

	if (rc != 0 || strcmp(out, expected) != 0)
		fail_msg("%s: rc %d, got '%s', Ruby gave '%s' (%s)", name, rc,
			out, expected, d.n ? d.v[0].msg : "");
	free(out);
	kr_diags_release(&d);
	/*
	 * Rendered here, not by Ruby: a "ruby" that always fails changes
	 * nothing. Only RUBY_ENGINE & co go to an installed Ruby, which
	 * knows them.
	 */
	if (strcmp(name, "rails8-ruby-version-rbenv") == 0)
		return;
	fixture_env(name);
	rc = render_file(yml, "/bin/false", &out, &d, &nsegs);
	if (rc != 0 || strcmp(out, expected) != 0)
		fail_msg("%s was handed to Ruby (rc %d)", name, rc);
	free(out);
	kr_diags_release(&d);
}

/* The forms kreconcile renders itself give Ruby's output, Ruby or not. */
static void
test_forms_without_ruby(void **state)
{
	each_fixture("forms", form_builtin);
}

static void
test_forms_with_ruby_installed(void **state)
{
	if (!have_ruby()) {
		fprintf(stderr, "skipped: no ruby on PATH\n");
		skip();
	}
	each_fixture("forms", form_with_ruby);
}

static void
ruby_only_with(const char *name, const char *yml, const char *expected)
{
	struct kr_diags d = { 0 };
	char *out;
	int rc = render_file(yml, NULL, &out, &d, NULL);

	if (strcmp(name, "rails8-ruby-version") == 0) {
		/* depends on the installed Ruby: check the shape */
		if (rc != 0 || strncmp(out, "r: ruby-", 8) != 0)
			fail_msg("%s: rc %d, got '%s'", name, rc, out);
	} else if (rc != 0 || strcmp(out, expected) != 0) {
		fail_msg("%s: rc %d, got '%s', Ruby gave '%s' (%s)", name, rc,
			out, expected, d.n ? d.v[0].msg : "");
	}
	free(out);
	kr_diags_release(&d);
}

static void
test_ruby_only_with_ruby(void **state)
{
	if (!have_ruby()) {
		fprintf(stderr, "skipped: no ruby on PATH\n");
		skip();
	}
	each_fixture("ruby-only", ruby_only_with);
}

static void
ruby_only_without(const char *name, const char *yml, const char *expected)
{
	struct kr_diags d = { 0 };
	char *out;
	int rc = render_file(yml, NULL, &out, &d, NULL);

	(void)expected;
	if (rc == 0 || d.n == 0)
		fail_msg("%s rendered without Ruby: '%s'", name, out);
	if (!strstr(d.v[0].msg, "install Ruby"))
		fail_msg("%s: '%s'", name, d.v[0].msg);
	/* the line of the expression, never the <%% line */
	if (strcmp(name, "escape-stays-text") == 0)
		assert_int_equal(d.v[0].line, 2);
	assert_true(d.v[0].line >= 1 && d.v[0].col >= 1);
	free(out);
	kr_diags_release(&d);
}

/* Ruby hidden from PATH, as on a machine without it. */
static void
test_ruby_only_without_ruby(void **state)
{
	char *path = strdup(getenv("PATH") ? getenv("PATH") : "");

	setenv("PATH", "/nonexistent-kr-test", 1);
	each_fixture("ruby-only", ruby_only_without);
	setenv("PATH", path, 1);
	free(path);
}

static int
render_ruby(const char *text, char **out, struct kr_diags *d, int timeout)
{
	struct kr_erb_opts o = { 0 };
	struct kr_buf b = KR_BUF_INIT;
	int rc;

	o.trim = true;
	o.timeout = timeout;
	rc = kr_erb_render_opts(
		&b, NULL, d, "deploy.yml", text, strlen(text), &o);
	*out = kr_buf_detach(&b, NULL);
	return rc;
}

static void
test_ruby_details(void **state)
{
	struct kr_diags d = { 0 };
	char *out;

	if (!have_ruby()) {
		fprintf(stderr, "skipped: no ruby on PATH\n");
		skip();
	}
	/* Ruby's exception, named */
	assert_int_not_equal(
		render_ruby("a: <%= [].fetch(3) %>\n", &out, &d, 20), 0);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "IndexError"));
	free(out);
	kr_diags_release(&d);

	/* ENV changes reach the rest of the run, as in Kamal's process */
	unsetenv("KR_ERB_FROM_RUBY");
	assert_int_equal(render_ruby("<% ENV['KR_ERB_FROM_RUBY'] = [7].first"
				     ".to_s %>a: 1\n",
				 &out, &d, 20),
		0);
	assert_string_equal(out, "a: 1\n");
	assert_non_null(getenv("KR_ERB_FROM_RUBY"));
	assert_string_equal(getenv("KR_ERB_FROM_RUBY"), "7");
	free(out);

	/* the template is not in Ruby's argv */
	assert_int_equal(render_ruby("<%# KRSECRETMARK %>a: <%= File.read("
				     "\"/proc/#{Process.pid}/"
				     "cmdline\").include?(\"KRSECRET\" + "
				     "\"MARK\") %>\n",
				 &out, &d, 20),
		0);
	assert_string_equal(out, "a: false\n");
	free(out);

	/* a timeout kills it */
	assert_int_not_equal(
		render_ruby("a: <%= sleep 5 %>\n", &out, &d, 1), 0);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "timed out"));
	free(out);
	kr_diags_release(&d);
}

/* Built-in: ENV writes reach backticks (the process environment). */
static void
test_builtin_env_reaches_commands(void **state)
{
	struct kr_diags d = { 0 };
	char *out;

	unsetenv("KR_ERB_CHILD");
	assert_int_equal(render_ruby("<% ENV[\"KR_ERB_CHILD\"] = \"seen\" %>"
				     "a: <%= `printf %s \"$KR_ERB_CHILD\"` %>",
				 &out, &d, 20),
		0);
	assert_string_equal(out, "a: seen");
	free(out);
	/* the command is not in the shell's argv, nor left in its env */
	assert_int_equal(
		render_ruby("a: <%= `tr '\\\\0' ' ' < /proc/$$/cmdline`"
			    " %>\nb: <%= `printf %s "
			    "\"${KR_ERB_COMMAND-unset}\"` %>",
			&out, &d, 20),
		0);
	assert_null(strstr(out, "proc"));
	assert_non_null(strstr(out, "b: unset"));
	free(out);
	kr_diags_release(&d);
}

/* A Kamal 1 file is named as such even when its ERB needs Ruby. */
static void
test_kamal1_hint_without_rendering(void **state)
{
	static const char text[] =
		"service: app\nimage: app\n"
		"traefik:\n  options: {}\nhealthcheck:\n  path: /up\n"
		"servers: [ <%= [1].map { '1.2.3.4' }.first %> ]\n";
	struct kr_config_load_opts o = { 0 };
	struct kr_config *c = NULL;
	struct kr_diags d = { 0 };
	size_t i, hints = 0;

	o.ruby = "";
	assert_int_not_equal(kr_config_load_text(&c, &d, "config/deploy.yml",
				     text, sizeof(text) - 1, NULL, NULL, 0, &o),
		0);
	for (i = 0; i < d.n; i++)
		if (strstr(d.v[i].msg, "removed in Kamal 2")) {
			hints++;
			assert_true(d.v[i].line == 3 || d.v[i].line == 5);
		}
	assert_int_equal(hints, 2);
	kr_config_free(c);
	kr_diags_release(&d);
}

/* no_commands: nothing runs, nothing is read. */
static void
test_no_commands(void **state)
{
	static const char *const cases[] = { "a: <%= `touch kr-erb-ran` %>",
		"a: <%= File.read(\"/etc/hostname\") %>",
		"<% require \"dotenv/load\" %>a: 1", "a: <%= [1].first %>" };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kr_erb_opts o = { 0 };
		struct kr_buf b = KR_BUF_INIT;
		struct kr_diags d = { 0 };

		o.no_commands = true;
		o.dir = "/nonexistent-kr-dir";
		assert_int_not_equal(kr_erb_render_opts(&b, NULL, &d, "f",
					     cases[i], strlen(cases[i]), &o),
			0);
		assert_int_equal(d.n, 1);
		kr_buf_release(&b);
		kr_diags_release(&d);
	}
}

/* YAML errors after trimmed tags point at the template's lines. */
static void
test_positions_after_trim(void **state)
{
	static const char text[] = "<%- if true -%>\nservice: a\n<%- end -%>\n"
				   "image: [b\n";
	struct kr_config_load_opts o = { 0 };
	struct kr_config *c = NULL;
	struct kr_diags d = { 0 };

	o.ruby = "";
	assert_int_not_equal(kr_config_load_text(&c, &d, "config/deploy.yml",
				     text, sizeof(text) - 1, NULL, NULL, 0, &o),
		0);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "invalid yaml"));
	/* the end of the template (line 5), not of the output (line 3) */
	assert_int_equal(d.v[0].line, 5);
	kr_config_free(c);
	kr_diags_release(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms_without_ruby),
		cmocka_unit_test(test_forms_with_ruby_installed),
		cmocka_unit_test(test_ruby_only_with_ruby),
		cmocka_unit_test(test_ruby_only_without_ruby),
		cmocka_unit_test(test_ruby_details),
		cmocka_unit_test(test_builtin_env_reaches_commands),
		cmocka_unit_test(test_kamal1_hint_without_rendering),
		cmocka_unit_test(test_positions_after_trim),
		cmocka_unit_test(test_no_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
