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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_very_long),
		cmocka_unit_test(test_exact_form),
		cmocka_unit_test(test_cap_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
