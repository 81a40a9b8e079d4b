/* Unit tests for the ERB subset (state/erb.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/diag.h"
#include "state/erb.h"

/* A fixed environment: HOST=db.internal, EMPTY="", MULTI="a\nb". */
static const char *
fake_env(void *ctx, const char *name)
{
	if (strcmp(name, "HOST") == 0)
		return "db.internal";
	if (strcmp(name, "EMPTY") == 0)
		return "";
	if (strcmp(name, "MULTI") == 0)
		return "a\nb";
	return NULL;
}

static int
render(const char *in, char **out, struct kr_diags *d)
{
	struct kr_buf b = KR_BUF_INIT;
	int rc = kr_erb_render(
		&b, NULL, d, "deploy.yml", in, strlen(in), fake_env, NULL);

	*out = kr_buf_detach(&b, NULL);
	return rc;
}

static void
test_accepted_forms(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "h: <%= ENV[\"HOST\"] %>", "h: db.internal" },
		{ "h: <%= ENV['HOST'] %>", "h: db.internal" },
		{ "h: <%=ENV[\"HOST\"]%>", "h: db.internal" },
		{ "h: <%= ENV[\"NOPE\"] %>.", "h: ." },
		{ "h: <%= ENV.fetch(\"HOST\") %>", "h: db.internal" },
		{ "h: <%= ENV.fetch('NOPE', 'dflt') %>", "h: dflt" },
		{ "h: <%= ENV.fetch(\"HOST\", \"dflt\") %>", "h: db.internal" },
		{ "h: <%= ENV[\"NOPE\"] || \"dflt\" %>", "h: dflt" },
		{ "h: <%= ENV[\"HOST\"] || 'dflt' %>", "h: db.internal" },
		/* Ruby's "" is truthy: an empty variable beats the default */
		{ "h: <%= ENV[\"EMPTY\"] || \"dflt\" %>", "h: " },
		{ "h: <%= ENV.fetch(\"NOPE\", \"a\\\"b\") %>", "h: a\"b" },
		{ "lit: <%% not a tag %>", "lit: <% not a tag %>" },
		{ "no tags at all\n", "no tags at all\n" },
		/* quotes inside #{} (Ruby allows them), a template of comments
		 */
		{ "h: <%= \"#{ENV[\"HOST\"]}-#{ENV.fetch(\"NOPE\") { \"}\" "
		  "}}\" %>",
			"h: db.internal-}" },
		{ "<%# only a comment %>", "" },
		{ "a: <%= ENV['HOST'] %> b: <%= ENV['HOST'] %>",
			"a: db.internal b: db.internal" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kr_diags d = { 0 };
		char *out;
		int rc = render(cases[i].in, &out, &d);

		if (rc != 0 || d.n || strcmp(out, cases[i].out) != 0)
			fail_msg("'%s' -> rc %d '%s' (%s)", cases[i].in, rc,
				out, d.n ? d.v[0].msg : "");
		free(out);
		kr_diags_release(&d);
	}
}

/* Forms only Ruby renders: without Ruby, an error at the tag naming it. */
static void
test_rejected_forms(void **state)
{
	static const char *const cases[] = {
		"<%= 1 + 1 %>",
		"<%= [1, 2].map { |x| x * 2 }.join %>",
		"<%= ENV[\"A\"].split(\",\").first %>",
		"<%= x %>",
		"<% require \"json\" %>",
		"<%= ENV.fetch(\"A\") do 'x' end %>",
		"<%= `hostname`.lines.first %>",
		"<%= ENV.fetch(\"A\", \"b\" %>",
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kr_diags d = { 0 };
		char *in = NULL, *out;
		int rc;

		in = malloc(strlen(cases[i]) + 16);
		strcpy(in, "a: 1\nkey: ");
		strcat(in, cases[i]);
		rc = render(in, &out, &d);
		if (rc == 0 || d.n != 1)
			fail_msg("'%s' was accepted", cases[i]);
		assert_int_equal(d.v[0].line, 2);
		assert_int_equal(d.v[0].col, 6);
		assert_non_null(strstr(d.v[0].msg, "needs Ruby"));
		/* kr_erb_render never hands a file to Ruby */
		assert_non_null(strstr(d.v[0].msg, "not handed to Ruby"));
		/* the message names the expression as written */
		assert_non_null(strstr(d.v[0].msg, cases[i]));
		free(in);
		free(out);
		kr_diags_release(&d);
	}
}

static void
test_fetch_unset_names_variable(void **state)
{
	struct kr_diags d = { 0 };
	char *out;

	assert_int_not_equal(
		render("x: 1\ny: <%= ENV.fetch(\"DB_HOST\") %>\n", &out, &d),
		0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[0].col, 8); /* the ENV.fetch */
	assert_non_null(strstr(d.v[0].msg, "'DB_HOST'"));
	assert_non_null(strstr(d.v[0].msg, "KeyError"));
	free(out);
	kr_diags_release(&d);
}

static void
test_raise_reports_message_and_position(void **state)
{
	struct kr_diags d = { 0 };
	char *out;

	assert_int_not_equal(render("a: 1\n<% raise \"set DB_URL\" unless "
				    "ENV[\"DB_URL\"] %>\n",
				     &out, &d),
		0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[0].col, 4);
	assert_non_null(strstr(d.v[0].msg, "RuntimeError: set DB_URL"));
	free(out);
	kr_diags_release(&d);
	/* rescued, it is not an error */
	assert_int_equal(
		render("<% begin; raise \"x\"; rescue; end %>ok", &out, &d), 0);
	assert_string_equal(out, "ok");
	free(out);
	kr_diags_release(&d);
}

static void
test_every_error_reported(void **state)
{
	struct kr_diags d = { 0 };
	char *out;

	/* two constructs only Ruby runs; a comment is fine */
	assert_int_not_equal(
		render("a: <% x %>\nb: <%# y %>\nc: <%= z %>\n", &out, &d), 0);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.v[0].line, 1);
	assert_int_equal(d.v[1].line, 3);
	free(out);
	kr_diags_release(&d);
}

static void
test_unterminated(void **state)
{
	struct kr_diags d = { 0 };
	char *out;

	assert_int_not_equal(render("a: 1\nb: <%= ENV['X']\n", &out, &d), 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 2);
	assert_non_null(strstr(d.v[0].msg, "unterminated"));
	free(out);
	kr_diags_release(&d);
}

static void
test_position_map(void **state)
{
	struct kr_buf b = KR_BUF_INIT;
	struct kr_erb_map m = { 0 };
	struct kr_diags d = { 0 };
	/* the substitution is longer than the tag and holds a newline */
	const char *in = "a: <%= ENV['MULTI'] %> tail\nb: 1\n";
	int line, col;

	assert_int_equal(
		kr_erb_render(&b, &m, &d, "f", in, strlen(in), fake_env, NULL),
		0);
	assert_string_equal(b.ptr, "a: a\nb tail\nb: 1\n");
	/* "b: 1" is on output line 3, source line 2 */
	line = 3, col = 1;
	kr_erb_map_position(&m, &line, &col);
	assert_int_equal(line, 2);
	assert_int_equal(col, 1);
	/* " tail" after the substitution: output 2:2, source 1:23 */
	line = 2, col = 3;
	kr_erb_map_position(&m, &line, &col);
	assert_int_equal(line, 1);
	assert_int_equal(col, 24);
	/* inside the substituted value: the tag's position */
	line = 1, col = 5;
	kr_erb_map_position(&m, &line, &col);
	assert_int_equal(line, 1);
	assert_int_equal(col, 4);
	kr_erb_map_release(&m);
	kr_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted_forms),
		cmocka_unit_test(test_rejected_forms),
		cmocka_unit_test(test_fetch_unset_names_variable),
		cmocka_unit_test(test_raise_reports_message_and_position),
		cmocka_unit_test(test_every_error_reported),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_position_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
