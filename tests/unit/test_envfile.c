/*
 * Unit tests of state/envfile.c: the env file bytes Kamal writes. The first
 * cases are Kamal's own test/env_file_test.rb; the escapes are Ruby's
 * String#dump rules (rb_str_dump) followed by Kamal's two gsubs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/error.h"
#include "state/envfile.h"

struct ecase {
	const char *value;
	const char *escaped;
};

static const struct ecase cases[] = {
	/* Kamal's env_file_test.rb */
	{ "bar", "bar" },
	{ "#$foo", "#$foo" },
	{ "#{bar}", "#{bar}" },
	{ "\xe4\xbd\xa0\xe5\xa5\xbd means hello, \"\xe6\xac\xa2\xe8\xbf\x8e\" means welcome, that's simple! \xf0\x9f\x98\x83 {smile}",
	  "\xe4\xbd\xa0\xe5\xa5\xbd means hello, \"\xe6\xac\xa2\xe8\xbf\x8e\" means welcome, that's simple! \xf0\x9f\x98\x83 {smile}" },
	{ "hello\\nthere", "hello\\\\nthere" },
	{ "hello\nthere", "hello\\nthere" },
	/* String#dump's named escapes */
	{ "a\tb", "a\\tb" },
	{ "a\rb", "a\\rb" },
	{ "\f\v\b\a\x1b", "\\f\\v\\b\\a\\e" },
	/* other control bytes and DEL as upper-case \xNN */
	{ "\x01\x1f\x7f", "\\x01\\x1F\\x7F" },
	{ "back\\slash", "back\\\\slash" },
	{ "trailing\\", "trailing\\\\" },
	{ "say \"hi\"", "say \"hi\"" },
	{ "#@x #x ##{", "#@x #x ##{" },
	/*
	 * Kamal's gsubs work on the dumped text: `\\"` from a backslash
	 * before a quote loses nothing, but a backslash before a plain `#`
	 * dumps as `\\#` and the second gsub eats one backslash.
	 */
	{ "\\\"", "\\\\\"" },
	{ "\\#{x}", "\\\\#{x}" },
	{ "\\#x", "\\#x" },
	{ "'single' $HOME `id` $(id)", "'single' $HOME `id` $(id)" },
	{ "", "" },
	/* non-ASCII runs are kept; ASCII around them is escaped */
	{ "\xc3\xa9\n\xc3\xa9\t", "\xc3\xa9\\n\xc3\xa9\\t" },
	{ "#\xc3\xa9{", "#\xc3\xa9{" },
};

static void
test_escape_table(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kr_buf b = KR_BUF_INIT;

		assert_int_equal(kr_envfile_escape(&b, cases[i].value), 0);
		if (strcmp(b.ptr, cases[i].escaped) != 0) {
			print_error("case %zu: got '%s', want '%s'\n", i, b.ptr,
				cases[i].escaped);
			fail();
		}
		kr_buf_release(&b);
	}
}

static void
test_invalid_utf8_refused(void **state)
{
	static const char *bad[] = {
		"\xff", "a\x80", "\xc3", "\xc0\xaf", "\xe0\x80\xaf",
		"\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80",
		"ok \xe6\x97",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kr_buf b = KR_BUF_INIT;

		kr_buf_puts(&b, "keep");
		assert_int_equal(kr_envfile_escape(&b, bad[i]), KR_EINVAL);
		assert_string_equal(b.ptr, "keep");
		assert_non_null(strstr(kr_error_last(), "not valid UTF-8"));
		kr_buf_release(&b);
	}
}

static void
test_render(void **state)
{
	struct kr_kvlist kv = { 0 };
	struct kr_buf b = KR_BUF_INIT;

	kr_kvlist_append(&kv, "foo", "bar");
	kr_kvlist_append(&kv, "baz", "haz");
	kr_kvlist_append(&kv, "MULTI", "line 1\nline \"2\"\\");
	kr_kvlist_append(&kv, "NONE", NULL);
	assert_int_equal(kr_envfile_render(&b, &kv), 0);
	assert_string_equal(b.ptr,
		"foo=bar\nbaz=haz\nMULTI=line 1\\nline \"2\"\\\\\nNONE=\n");
	kr_buf_release(&b);
	kr_kvlist_release(&kv);
}

static void
test_render_empty(void **state)
{
	struct kr_kvlist kv = { 0 };
	struct kr_buf b = KR_BUF_INIT;

	assert_int_equal(kr_envfile_render(&b, &kv), 0);
	assert_string_equal(b.ptr, "\n");
	kr_buf_release(&b);
}

static void
test_render_refuses_bad_value(void **state)
{
	struct kr_kvlist kv = { 0 };
	struct kr_buf b = KR_BUF_INIT;

	kr_buf_puts(&b, "#head\n");
	kr_kvlist_append(&kv, "GOOD", "x");
	kr_kvlist_append(&kv, "BAD", "\xfe");
	assert_int_equal(kr_envfile_render(&b, &kv), KR_EINVAL);
	/* Nothing half-written is left, and the key is named. */
	assert_string_equal(b.ptr, "#head\n");
	assert_non_null(strstr(kr_error_last(), "secret 'BAD'"));
	kr_buf_release(&b);
	kr_kvlist_release(&kv);
}

static void
test_render_capped(void **state)
{
	struct kr_kvlist kv = { 0 };
	struct kr_buf b = KR_BUF_INIT;

	b.max = 8;
	kr_kvlist_append(&kv, "KEY", "long value");
	assert_true(kr_envfile_render(&b, &kv) < 0);
	assert_int_equal(b.len, 0);
	kr_buf_release(&b);
	kr_kvlist_release(&kv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_table),
		cmocka_unit_test(test_invalid_utf8_refused),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_render_empty),
		cmocka_unit_test(test_render_refuses_bad_value),
		cmocka_unit_test(test_render_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
