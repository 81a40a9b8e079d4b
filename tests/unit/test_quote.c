/*
 * Unit tests of common/quote.c, the one shell-quoting function, against a
 * real shell: for each hostile string s, `/bin/sh -c "printf %s <quoted>"`
 * must print exactly the bytes of s, and `set -- <quoted>; echo $#` must
 * see one word.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/quote.h"

static const char *hostile[] = {
	"",
	"plain",
	"two words",
	"'",
	"''",
	"it's",
	"'\\''",
	"\"",
	"\"$HOME\"",
	"$HOME",
	"${HOME}",
	"$(id)",
	"`id`",
	"; rm -rf /nonexistent",
	"a && b || c",
	"a | b > /tmp/kr-quote-should-not-exist",
	"a\nb",
	"\n",
	"trailing newline\n",
	"\t tab \t",
	"*",
	"?",
	"[a-z]*",
	"~",
	"~root",
	"-n",
	"-e",
	"--",
	"-",
	"!",
	"!!",
	"#not a comment",
	"a #b",
	"\\",
	"\\\\",
	"\\n",
	"a\\",
	"{a,b}",
	"%s%n%x",
	"\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x83",
	"\xff\xfe invalid UTF-8 \x80",
	"\x01\x02\x1b[31m\x7f",
	"IFS= x",
	"a=b",
};

/* Run `/bin/sh -c script` and collect its standard output. */
static int
run_sh(const char *script, struct kr_buf *out)
{
	int fds[2], status;
	pid_t pid;
	char chunk[4096];
	ssize_t n;

	if (pipe(fds) < 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		kr_buf_put(out, chunk, (size_t)n);
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
check_one(const char *s)
{
	struct kr_buf cmd = KR_BUF_INIT, out = KR_BUF_INIT;

	kr_buf_puts(&cmd, "printf %s");
	assert_int_equal(kr_shell_arg(&cmd, s), 0);
	assert_int_equal(run_sh(cmd.ptr, &out), 0);
	if (out.len != strlen(s) || memcmp(out.ptr, s, out.len) != 0) {
		print_error("quoting '%s' printed '%s'\n", s, out.ptr);
		fail();
	}

	kr_buf_reset(&cmd);
	kr_buf_reset(&out);
	kr_buf_puts(&cmd, "set --");
	assert_int_equal(kr_shell_arg(&cmd, s), 0);
	kr_buf_puts(&cmd, "; echo $#");
	assert_int_equal(run_sh(cmd.ptr, &out), 0);
	assert_string_equal(out.ptr, "1\n");

	kr_buf_release(&cmd);
	kr_buf_release(&out);
}

static void
test_hostile(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		check_one(hostile[i]);
	/* No redirection inside a quoted word ever ran. */
	assert_int_equal(access("/tmp/kr-quote-should-not-exist", F_OK), -1);
}

static void
test_every_byte(void **state)
{
	char s[256];
	int i;

	for (i = 1; i < 256; i++)
		s[i - 1] = (char)i;
	s[255] = '\0';
	check_one(s);
}

static void
test_very_long(void **state)
{
	/* Stays under Linux's 128 KiB limit for one argv string. */
	size_t n = 20000, i;
	char *s = kr_xmalloc(n + 1);

	for (i = 0; i < n; i++)
		s[i] = "a'b\"c$`\\ \n*;"[i % 13];
	s[n] = '\0';
	check_one(s);
	free(s);
}

static void
test_exact_form(void **state)
{
	struct kr_buf b = KR_BUF_INIT;

	/* The documented form, so that reviewers can read command lines. */
	assert_int_equal(kr_shell_quote(&b, "it's"), 0);
	assert_string_equal(b.ptr, "'it'\\''s'");
	kr_buf_reset(&b);
	assert_int_equal(kr_shell_quote(&b, ""), 0);
	assert_string_equal(b.ptr, "''");
	kr_buf_reset(&b);
	assert_int_equal(kr_shell_arg(&b, "x"), 0);
	assert_string_equal(b.ptr, " 'x'");
	kr_buf_release(&b);
}

static void
test_cap_reported(void **state)
{
	struct kr_buf b = KR_BUF_INIT;

	b.max = 4;
	assert_true(kr_shell_quote(&b, "abcdef") < 0);
	kr_buf_release(&b);
}

/*
 * Kamal 2.12's Kamal::Utils.escape_shell_value of each value, as Kamal
 * itself printed it (Ruby 3.1, basecamp/kamal lib/kamal/utils.rb): the
 * text kr_shell_kamal_value must produce byte for byte.
 */
static const char *const kamal_escaped[][2] = {
	{ "hello", "\"hello\"" },
	{ "${HOME}/x", "\"${HOME}/x\"" },
	{ "$HOME and $$", "\"\\$HOME and \\$\\$\"" },
	{ "a\nb", "\"a\\nb\"" },
	{ "a\tb", "\"a\\tb\"" },
	{ "#{x} #$y #@z", "\"\\#{x} \\#\\$y \\#@z\"" },
	{ "say \"hi\" it's", "\"say \\\"hi\\\" it's\"" },
	{ "C:\\path\\n", "\"C:\\\\path\\\\n\"" },
	{ "`id` $(id)", "\"\\`id\\` \\$(id)\"" },
	{ "h\xc3\xa9llo w\xc3\xb6rld ${HOME}\xc3\xa9",
		"\"h\"\xc3\xa9\"llo w\"\xc3\xb6\"rld ${HOME}\"\xc3\xa9" },
	{ "5432", "\"5432\"" },
	{ "\x1b\x01\x7f", "\"\\e\\x01\\x7F\"" },
	{ "${X:=$(touch /tmp/kr-quote-pwned)}",
		"\"${X:=\\$(touch /tmp/kr-quote-pwned)}\"" },
	{ "${X", "\"\\${X\"" },
	{ "a${}b", "\"a${}b\"" },
	{ "${A:-${B}}", "\"${A:-${B}}\"" },
	{ "$${X}", "\"\\$${X}\"" },
	{ "\\${X}", "\"\\\\${X}\"" },
	{ "${\xc3\xa9}", "\"\\${\"\xc3\xa9\"}\"" },
	{ "${X}`touch /tmp/kr-quote-pwned`",
		"\"${X}\\`touch /tmp/kr-quote-pwned\\`\"" },
	{ "${X:-\"q\"}", "\"${X:-\\\"q\\\"}\"" },
	{ "}${X}{", "\"}${X}{\"" },
	{ "#{${X}}", "\"\\#{${X}}\"" },
	{ "\xc3\xa9${HOME}\xc3\xa9$HOME",
		"\xc3\xa9\"${HOME}\"\xc3\xa9\"\\$HOME\"" },
};

static void
test_kamal_exact(void **state)
{
	struct kr_buf b = KR_BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kamal_escaped) / sizeof(kamal_escaped[0]); i++) {
		kr_buf_reset(&b);
		assert_int_equal(
			kr_shell_kamal_value(&b, kamal_escaped[i][0]), 0);
		if (strcmp(b.ptr, kamal_escaped[i][1]) != 0) {
			print_error("kamal escape of '%s': got '%s', want "
				    "'%s'\n",
				kamal_escaped[i][0], b.ptr,
				kamal_escaped[i][1]);
			fail();
		}
	}
	kr_buf_release(&b);
}

/*
 * What the shell makes of Kamal's escaping, for every hostile string and
 * the `${` forms: one word, nothing run, and the value the template says
 * (with X unset, HOME=/h: the expansions match the template's wildcards).
 */
static void
check_kamal(const char *s)
{
	struct kr_buf cmd = KR_BUF_INIT, out = KR_BUF_INIT, t = KR_BUF_INIT;
	struct kr_buf text = KR_BUF_INIT;

	if (kr_kamal_blank(s) || strstr(s, "${}"))
		return; /* a bare --env KEY; "${}" is sh's own error */
	kr_buf_puts(&cmd, "unset X A B; HOME=/h; printf %s ");
	assert_int_equal(kr_shell_kamal_value(&cmd, s), 0);
	assert_int_equal(run_sh(cmd.ptr, &out), 0);
	assert_int_equal(kr_kamal_value_template(&t, s), 0);
	if (!kr_kamal_template_match(t.ptr, out.ptr)) {
		print_error("kamal value '%s' printed '%s', template '%s'\n", s,
			out.ptr, t.ptr);
		fail();
	}
	if (!strchr(t.ptr, KR_KAMAL_EXP_OPEN)) {
		kr_kamal_template_text(&text, t.ptr);
		assert_string_equal(out.ptr, text.ptr);
	}
	kr_buf_reset(&cmd);
	kr_buf_reset(&out);
	kr_buf_puts(&cmd, "set -- ");
	assert_int_equal(kr_shell_kamal_value(&cmd, s), 0);
	kr_buf_puts(&cmd, "; echo $#");
	assert_int_equal(run_sh(cmd.ptr, &out), 0);
	assert_string_equal(out.ptr, "1\n");
	kr_buf_release(&cmd);
	kr_buf_release(&out);
	kr_buf_release(&t);
	kr_buf_release(&text);
}

static void
test_kamal_hostile(void **state)
{
	char every[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		check_kamal(hostile[i]);
	for (i = 0; i < sizeof(kamal_escaped) / sizeof(kamal_escaped[0]); i++)
		check_kamal(kamal_escaped[i][0]);
	for (i = 1; i < 256; i++)
		every[i - 1] = (char)i;
	every[255] = '\0';
	check_kamal(every);
	assert_int_equal(access("/tmp/kr-quote-should-not-exist", F_OK), -1);
	assert_int_equal(access("/tmp/kr-quote-pwned", F_OK), -1);
}

/* What a Kamal-made container holds, and how it is matched. */
static void
test_kamal_template(void **state)
{
	struct kr_buf t = KR_BUF_INIT, x = KR_BUF_INIT;

	(void)state;
	assert_int_equal(kr_kamal_value_template(&t, "a\nb\t#{c} \"d\" \\"), 0);
	assert_string_equal(t.ptr, "a\\nb\\t\\#{c} \"d\" \\");
	kr_buf_reset(&t);
	assert_int_equal(kr_kamal_value_template(&t, "${HOME}/x $Y"), 0);
	assert_string_equal(t.ptr, "\001${HOME}\002/x $Y");
	assert_true(kr_kamal_template_match(t.ptr, "/root/x $Y"));
	assert_true(kr_kamal_template_match(t.ptr, "/x $Y"));
	assert_false(kr_kamal_template_match(t.ptr, "/root/y $Y"));
	assert_false(kr_kamal_template_match(t.ptr, "${HOME}/x"));
	kr_kamal_template_text(&x, t.ptr);
	assert_string_equal(x.ptr, "${HOME}/x $Y");
	kr_buf_reset(&t);
	/* nested: the outer expansion is one wildcard */
	assert_int_equal(kr_kamal_value_template(&t, "<${A:-${B}}>"), 0);
	assert_string_equal(t.ptr, "<\001${A:-${B}}\002>");
	assert_true(kr_kamal_template_match(t.ptr, "<anything}>"));
	assert_false(kr_kamal_template_match(t.ptr, "<x"));
	kr_buf_reset(&t);
	/* ${ without } in its run is escaped: literal */
	assert_int_equal(kr_kamal_value_template(&t, "${\xc3\xa9}"), 0);
	assert_string_equal(t.ptr, "${\xc3\xa9}");
	assert_true(kr_kamal_blank(""));
	assert_true(kr_kamal_blank(" \t\n\v\f\r"));
	assert_true(kr_kamal_blank("\xc2\xa0\xe3\x80\x80\xe2\x80\x8a"));
	assert_false(kr_kamal_blank("\xe2\x80\x8b")); /* zero-width space */
	assert_false(kr_kamal_blank(" x "));
	assert_false(kr_kamal_blank("false"));
	kr_buf_release(&t);
	kr_buf_release(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_very_long),
		cmocka_unit_test(test_exact_form),
		cmocka_unit_test(test_cap_reported),
		cmocka_unit_test(test_kamal_exact),
		cmocka_unit_test(test_kamal_hostile),
		cmocka_unit_test(test_kamal_template),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
