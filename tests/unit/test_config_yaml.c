/* Unit tests for the YAML node tree (state/yaml.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/diag.h"
#include "state/yaml.h"

static struct kr_yaml_node *
parse_ok(const char *text)
{
	struct kr_diags d = { 0 };
	struct kr_yaml_node *n = NULL;

	assert_int_equal(
		kr_yaml_parse(&n, &d, "t.yml", text, strlen(text), NULL, NULL),
		0);
	assert_int_equal(d.n, 0);
	kr_diags_release(&d);
	return n;
}

static void
test_positions(void **state)
{
	struct kr_yaml_node *n = parse_ok("a: 1\nb:\n  c: [x, \"y\"]\n");
	struct kr_yaml_node *b = kr_yaml_get(n, "b"), *c = kr_yaml_get(b, "c");

	assert_int_equal(n->type, KR_YAML_MAP);
	assert_int_equal(kr_yaml_get_key(n, "b")->line, 2);
	assert_int_equal(kr_yaml_get_key(n, "b")->col, 1);
	assert_int_equal(b->line, 3);
	assert_int_equal(b->col, 3);
	assert_int_equal(c->type, KR_YAML_SEQ);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->v[1]->line, 3);
	assert_int_equal(c->v[1]->col, 10);
	assert_false(c->v[1]->plain);
	assert_true(c->v[0]->plain);
	kr_yaml_free(n);
}

static void
test_kinds(void **state)
{
	static const struct {
		const char *text;
		enum kr_yaml_kind kind;
		const char *str;
	} cases[] = {
		{ "v: 42", KR_YK_INT, "42" },
		{ "v: 1_000", KR_YK_INT, "1000" },
		{ "v: 40_000_000", KR_YK_INT, "40000000" },
		{ "v: 0x1F", KR_YK_INT, "31" },
		{ "v: 010", KR_YK_INT, "8" },
		{ "v: -7", KR_YK_INT, "-7" },
		{ "v: 1:30", KR_YK_INT, "90" },
		{ "v: \"42\"", KR_YK_STR, "42" },
		{ "v: yes", KR_YK_BOOL, "true" },
		{ "v: Off", KR_YK_BOOL, "false" },
		{ "v: TRUE", KR_YK_BOOL, "true" },
		{ "v: 'on'", KR_YK_STR, "on" },
		{ "v: 1.5", KR_YK_FLOAT, "1.5" },
		{ "v: .inf", KR_YK_FLOAT, ".inf" },
		{ "v: ~", KR_YK_NULL, "" },
		{ "v:", KR_YK_NULL, "" },
		{ "v: null", KR_YK_NULL, "" },
		{ "v: :verbose", KR_YK_STR, "verbose" },
		{ "v: 127.0.0.1:5432:5432", KR_YK_STR, "127.0.0.1:5432:5432" },
		{ "v: 8080:80", KR_YK_STR, "8080:80" },
		{ "v: 0.0.0.0", KR_YK_STR, "0.0.0.0" },
		{ "v: 25%", KR_YK_STR, "25%" },
		{ "v: !!str 5", KR_YK_STR, "5" },
		{ "v: amd64", KR_YK_STR, "amd64" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kr_yaml_node *n = parse_ok(cases[i].text);
		struct kr_yaml_node *v = kr_yaml_get(n, "v");
		char *s = kr_yaml_to_string(v);

		if (kr_yaml_kind(v) != cases[i].kind || strcmp(s, cases[i].str))
			fail_msg("'%s': kind %d string '%s'", cases[i].text,
				kr_yaml_kind(v), s);
		free(s);
		kr_yaml_free(n);
	}
}

static void
test_anchors_and_merge_keys(void **state)
{
	struct kr_yaml_node *n = parse_ok("base: &b\n  x: 1\n  y: 2\n"
					  "more: &m\n  z: 3\n"
					  "one:\n  <<: *b\n  y: 20\n"
					  "two:\n  <<: [*b, *m]\n"
					  "first:\n  y: 0\n  <<: *b\n"
					  "list: &l [a, b]\n"
					  "copy: *l\n");
	struct kr_yaml_node *one = kr_yaml_get(n, "one");
	struct kr_yaml_node *two = kr_yaml_get(n, "two");
	struct kr_yaml_node *first = kr_yaml_get(n, "first");

	assert_string_equal(kr_yaml_get(one, "x")->value, "1");
	assert_string_equal(kr_yaml_get(one, "y")->value, "20");
	assert_null(kr_yaml_get(one, "<<"));
	assert_int_equal(two->n, 3);
	assert_string_equal(kr_yaml_get(two, "z")->value, "3");
	/* Psych merges where the << stands: it overrides earlier keys */
	assert_string_equal(kr_yaml_get(first, "y")->value, "2");
	/* merged values keep the anchor's position */
	assert_int_equal(kr_yaml_get(one, "x")->line, 2);
	assert_int_equal(kr_yaml_get(n, "copy")->n, 2);
	kr_yaml_free(n);
}

static void
test_duplicate_keys_last_wins(void **state)
{
	struct kr_yaml_node *n = parse_ok("a: 1\nb: 2\na: 3\n");

	assert_int_equal(n->n, 2);
	assert_string_equal(kr_yaml_get(n, "a")->value, "3");
	assert_string_equal(n->v[0]->value, "a"); /* keeps its first place */
	kr_yaml_free(n);
}

static void
test_syntax_error_position(void **state)
{
	struct kr_diags d = { 0 };
	struct kr_yaml_node *n = NULL;
	const char *text = "a: 1\nb: [1, 2\nc: 3\n";

	assert_int_not_equal(
		kr_yaml_parse(&n, &d, "x.yml", text, strlen(text), NULL, NULL),
		0);
	assert_null(n);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].file, "x.yml");
	assert_int_equal(d.v[0].line, 3);
	assert_int_equal(d.v[0].col, 2);
	assert_non_null(strstr(d.v[0].msg, "invalid yaml"));
	kr_diags_release(&d);
}

static void
test_unknown_alias(void **state)
{
	struct kr_diags d = { 0 };
	struct kr_yaml_node *n = NULL;
	const char *text = "a: 1\nb: *nope\n";

	assert_int_not_equal(
		kr_yaml_parse(&n, &d, "x.yml", text, strlen(text), NULL, NULL),
		0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[0].col, 4);
	assert_non_null(strstr(d.v[0].msg, "unknown alias '*nope'"));
	kr_diags_release(&d);
}

static void
test_billion_laughs_is_refused(void **state)
{
	struct kr_diags d = { 0 };
	struct kr_yaml_node *n = NULL;
	const char *text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
			   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
			   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
			   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";

	assert_int_not_equal(
		kr_yaml_parse(&n, &d, "x.yml", text, strlen(text), NULL, NULL),
		0);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "once aliases are expanded"));
	kr_diags_release(&d);

	/* a long plain list is no alias expansion: the message says so */
	{
		struct kr_buf big = KR_BUF_INIT;

		kr_buf_puts(&big, "l:\n");
		for (int i = 0; i < 200001; i++)
			kr_buf_puts(&big, "- x\n");
		assert_int_not_equal(kr_yaml_parse(&n, &d, "x.yml", big.ptr,
					     big.len, NULL, NULL),
			0);
		assert_int_equal(d.n, 1);
		assert_non_null(strstr(d.v[0].msg, "more than 200000 nodes"));
		assert_null(strstr(d.v[0].msg, "alias"));
		kr_diags_release(&d);
		kr_buf_release(&big);
	}
}

static void
test_deep_merge(void **state)
{
	struct kr_yaml_node *a = parse_ok(
		"servers:\n  web: [a]\n  jobs:\n    hosts: [b]\n    cmd: x\n"
		"env:\n  clear:\n    A: 1\n    B: 2\n");
	struct kr_yaml_node *b = parse_ok(
		"servers:\n  jobs:\n    hosts: [c]\nenv:\n  clear:\n    B: 3\n"
		"new: 1\n");
	struct kr_yaml_node *jobs, *clear;

	kr_yaml_deep_merge(&a, b);
	jobs = kr_yaml_get(kr_yaml_get(a, "servers"), "jobs");
	clear = kr_yaml_get(kr_yaml_get(a, "env"), "clear");
	assert_string_equal(kr_yaml_get(jobs, "cmd")->value, "x");
	assert_int_equal(kr_yaml_get(jobs, "hosts")->n, 1);
	assert_string_equal(kr_yaml_get(jobs, "hosts")->v[0]->value, "c");
	assert_string_equal(kr_yaml_get(clear, "A")->value, "1");
	assert_string_equal(kr_yaml_get(clear, "B")->value, "3");
	assert_non_null(kr_yaml_get(a, "new"));
	assert_int_equal(kr_yaml_get(kr_yaml_get(a, "servers"), "web")->n, 1);
	kr_yaml_free(a);
}

static void
test_empty_document(void **state)
{
	struct kr_yaml_node *n = parse_ok("");

	assert_int_equal(n->type, KR_YAML_NULL);
	kr_yaml_free(n);
	n = parse_ok("a: 1\n---\nb: 2\n");
	assert_non_null(kr_yaml_get(n, "a"));
	assert_null(kr_yaml_get(n, "b"));
	kr_yaml_free(n);
}

static void
shift(void *ctx, int *line, int *col)
{
	*line += 100;
	*col += 1000;
}

static void
test_posmap(void **state)
{
	struct kr_diags d = { 0 };
	struct kr_yaml_node *n = NULL;

	assert_int_equal(
		kr_yaml_parse(&n, &d, "x.yml", "a: 1\n", 5, shift, NULL), 0);
	assert_int_equal(kr_yaml_get(n, "a")->line, 101);
	assert_int_equal(kr_yaml_get(n, "a")->col, 1004);
	kr_yaml_free(n);
	assert_int_not_equal(
		kr_yaml_parse(&n, &d, "x.yml", "a: [\n", 5, shift, NULL), 0);
	assert_true(d.v[0].line > 100);
	kr_diags_release(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_anchors_and_merge_keys),
		cmocka_unit_test(test_duplicate_keys_last_wins),
		cmocka_unit_test(test_syntax_error_position),
		cmocka_unit_test(test_unknown_alias),
		cmocka_unit_test(test_billion_laughs_is_refused),
		cmocka_unit_test(test_deep_merge),
		cmocka_unit_test(test_empty_document),
		cmocka_unit_test(test_posmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
