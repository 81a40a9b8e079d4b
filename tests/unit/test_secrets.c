/*
 * Unit tests of state/secrets.c: every dotenv rule Kamal 2 applies to
 * .kamal/secrets, table-driven. The expectations come from the dotenv gem's
 * own parser spec (spec/dotenv/parser_spec.rb, dotenv 3.x), from Kamal's
 * secrets tests, and from working the LINE regexp by hand for the edges
 * (quoted values on the next line, `${VAR` without a brace, ...); each
 * edge says where it comes from. Commands run through the real /bin/sh
 * unless a case needs a fake runner to observe what would be run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "state/secrets.h"

struct pcase {
	const char *name;
	const char *text;
	const char *expect[13];	/* key, value, ..., NULL: exact and in order */
};

static const struct pcase cases[] = {
	/* dotenv spec */
	{ "unquoted", "FOO=bar", { "FOO", "bar" } },
	{ "space after =", "FOO= bar", { "FOO", "bar" } },
	{ "escaped space", "FOO=bar\\ bar", { "FOO", "bar bar" } },
	{ "space before =", "FOO =bar", { "FOO", "bar" } },
	{ "leading spaces", "  FOO=bar", { "FOO", "bar" } },
	{ "trailing spaces", "FOO=bar  ", { "FOO", "bar" } },
	{ "double quoted", "FOO=\"bar\"", { "FOO", "bar" } },
	{ "double quoted, spaces after", "FOO=\"bar\"  ", { "FOO", "bar" } },
	{ "single quoted", "FOO='bar'", { "FOO", "bar" } },
	{ "single quoted, spaces after", "FOO='bar'  ", { "FOO", "bar" } },
	{ "escaped double quote", "FOO=\"escaped\\\"bar\"",
		{ "FOO", "escaped\"bar" } },
	{ "empty", "FOO=", { "FOO", "" } },
	{ "variable", "FOO=test\nBAR=$FOO", { "FOO", "test", "BAR", "test" } },
	{ "braced variable", "FOO=test\nBAR=${FOO}bar",
		{ "FOO", "test", "BAR", "testbar" } },
	{ "variable from the environment", "BAR=$KR_T_ENV", { "BAR", "test" } },
	{ "file key beats the environment", "KR_T_ENV=file\nBAR=${KR_T_ENV}",
		{ "KR_T_ENV", "file", "BAR", "file" } },
	{ "undefined variable", "BAR=$KR_T_UNDEFINED_XYZ", { "BAR", "" } },
	{ "variable in double quotes", "FOO=test\nBAR=\"quote $FOO\"",
		{ "FOO", "test", "BAR", "quote test" } },
	{ "no variables in single quotes", "BAR='quote $FOO'",
		{ "BAR", "quote $FOO" } },
	{ "escaped variable", "FOO=\"foo\\$BAR\"", { "FOO", "foo$BAR" } },
	{ "escaped braced variable", "FOO=\"foo\\${BAR}\"",
		{ "FOO", "foo${BAR}" } },
	{ "escaped and not", "FOO=test\nBAR=\"foo\\${FOO} ${FOO}\"",
		{ "FOO", "test", "BAR", "foo${FOO} test" } },
	{ "yaml style", "OPTION_A: 1", { "OPTION_A", "1" } },
	{ "export", "export OPTION_A=2", { "OPTION_A", "2" } },
	{ "export line after the key", "OPTION_A=2\nexport OPTION_A",
		{ "OPTION_A", "2" } },
	{ "\\n kept in double quotes (dotenv 3)", "FOO=\"bar\\nbaz\"",
		{ "FOO", "bar\\nbaz" } },
	{ "\\\\n in double quotes", "FOO=\"bar\\\\nbaz\"",
		{ "FOO", "bar\\nbaz" } },
	{ "legacy linebreak mode from the file",
		"DOTENV_LINEBREAK_MODE=legacy\nFOO=\"bar\\nbaz\\rfizz\"",
		{ "DOTENV_LINEBREAK_MODE", "legacy", "FOO", "bar\nbaz\rfizz" } },
	{ "legacy: \\\\n pairs as Ruby's gsubs do",
		"DOTENV_LINEBREAK_MODE=legacy\nFOO=\"a\\\\nb\"",
		{ "DOTENV_LINEBREAK_MODE", "legacy", "FOO", "a\nb" } },
	{ "dot in key", "FOO.BAR=foobar", { "FOO.BAR", "foobar" } },
	{ "strips unquoted", "foo=bar ", { "foo", "bar" } },
	{ "not an assignment", "lol$wut", { NULL } },
	{ "empty lines", "\n \t  \nfoo=bar\n \nfizz=buzz",
		{ "foo", "bar", "fizz", "buzz" } },
	{ "empty lines inside quotes", "FOO=\"a\n\nb\n\nc\"",
		{ "FOO", "a\n\nb\n\nc" } },
	{ "inline comment", "foo=bar # this is foo", { "foo", "bar" } },
	{ "# in double quotes", "foo=\"bar#baz\" # comment",
		{ "foo", "bar#baz" } },
	{ "# in double quotes after spaces", "foo= \"bar#baz\" # comment",
		{ "foo", "bar#baz" } },
	{ "# in single quotes", "foo='ba#r'  ", { "foo", "ba#r" } },
	{ "comment lines", "\n\n\n # HERE GOES FOO \nfoo=bar",
		{ "foo", "bar" } },
	{ "commented out variable", "# HELLO=world\n", { NULL } },
	{ "keys without values",
		"DATABASE_PASSWORD=\nDATABASE_USERNAME=root\nDATABASE_HOST=/tmp/mysql.sock",
		{ "DATABASE_PASSWORD", "", "DATABASE_USERNAME", "root",
		  "DATABASE_HOST", "/tmp/mysql.sock" } },
	{ "multi-line single quotes",
		"OPTION_A=first line\nexport OPTION_B='line 1\nline 2\nline 3'\n"
		"OPTION_C=\"last line\"\nOPTION_ESCAPED='line one\nthis is \\'quoted\\'\none more line'",
		{ "OPTION_A", "first line", "OPTION_B", "line 1\nline 2\nline 3",
		  "OPTION_C", "last line",
		  "OPTION_ESCAPED", "line one\nthis is \\'quoted\\'\none more line" } },
	{ "multi-line double quotes",
		"OPTION_B=\"line 1\nline 2\"\nOPTION_ESCAPED=\"line one\nthis is \\\"quoted\\\"\none more line\"",
		{ "OPTION_B", "line 1\nline 2",
		  "OPTION_ESCAPED", "line one\nthis is \"quoted\"\none more line" } },
	{ "command", "echo=$(echo hello)", { "echo", "hello" } },
	{ "nested commands",
		"echo=$(echo \"$(echo \"$(echo \"$(echo hello)\")\")\")",
		{ "echo", "hello" } },
	{ "escaped command", "echo=escaped-\\$(echo hello)",
		{ "echo", "escaped-$(echo hello)" } },
	{ "quotes inside a command",
		"interp=$(echo \"Quotes won't be a problem\")",
		{ "interp", "Quotes won't be a problem" } },
	{ "parentheses from a variable in a command",
		"FOO='passwo(rd'\nBAR=$(echo '$FOO')",
		{ "FOO", "passwo(rd", "BAR", "passwo(rd" } },
	{ "command, variable, command", "FOO=$(echo bar)\nBAR=$(echo $FOO)",
		{ "FOO", "bar", "BAR", "bar" } },
	{ "lone CR ends a line", "FOO=bar\rbaz=fbb",
		{ "FOO", "bar", "baz", "fbb" } },
	{ "CRLF", "FOO=bar\r\nbaz=fbb\r\n", { "FOO", "bar", "baz", "fbb" } },
	{ "\\r kept in double quotes", "FOO=\"bar\\rbaz\"",
		{ "FOO", "bar\\rbaz" } },
	{ "lone and escaped $", "FOO=\"bar\\$ \\$\\$\"", { "FOO", "bar$ $$" } },
	{ "lone $", "FOO=\"bar $ \"", { "FOO", "bar $ " } },
	{ "variable inside a command",
		"VAR1=var1\ninterp=$(echo \"VAR1 is $VAR1\")",
		{ "VAR1", "var1", "interp", "VAR1 is var1" } },

	/* Edges worked out from the LINE regexp and parse_value. */
	{ "# ends an unquoted value even without a space", "A=abc#def",
		{ "A", "abc" } },
	{ "two comments", "A=1 # c # d", { "A", "1" } },
	{ "single quotes keep backslashes", "A='a\\nb\\$c\\\\'",
		{ "A", "a\\nb\\$c\\\\" } },
	{ "unquoted \\n loses its backslash", "A=a\\nb", { "A", "anb" } },
	{ "text after a closing quote: unquoted", "A='abc' xyz",
		{ "A", "'abc' xyz" } },
	{ "escaped single quote does not close", "A='it\\'s'",
		{ "A", "it\\'s" } },
	{ "two double-quoted words", "A=\"a\" \"b\"", { "A", "a\" \"b" } },
	{ "unterminated double quote", "A=\"x\nB=2",
		{ "A", "\"x", "B", "2" } },
	{ "quoted value on the line after =", "KEY=\n'foo'",
		{ "KEY", "foo" } },
	{ "export with a tab", "export\tFOO=1", { "FOO", "1" } },
	{ "export as a key", "export=1", { "export", "1" } },
	{ "redefined key keeps its place", "B=1\nA=2\nB=3",
		{ "B", "3", "A", "2" } },
	{ "yaml style needs a blank after :", "A:b\nC: d", { "C", "d" } },
	{ "unclosed brace", "A=x\nB=${A", { "A", "x", "B", "x" } },
	{ "closing brace without opening is eaten", "A=x\nB=$A}",
		{ "A", "x", "B", "x" } },
	{ "empty braces stay", "B=${}", { "B", "${}" } },
	{ "no shell defaults", "B=\"${KR_T_UNDEFINED_XYZ:-d}\"",
		{ "B", ":-d}" } },
	{ "\\\\$A unescapes to \\$A, then to $A", "A=x\nB=\\\\$A",
		{ "A", "x", "B", "$A" } },
	{ "names stop at a dot", "A=x\nB=$A.y", { "A", "x", "B", "x.y" } },
	{ "names are case-insensitive", "a=1\nB=$a", { "a", "1", "B", "1" } },
	{ "non-ASCII key is skipped", "\xc3\x89=1\nA=2", { "A", "2" } },
	{ "byte order mark", "\xef\xbb\xbf" "A=1", { "A", "1" } },
	{ "variables not expanded twice", "KR_T_QA=$KR_T_QB\nKR_T_QB=$KR_T_QA",
		{ "KR_T_QA", "", "KR_T_QB", "" } },
	{ "value with = signs", "URL=postgres://u:p@h/db?x=1",
		{ "URL", "postgres://u:p@h/db?x=1" } },
	{ "single-quoted command is literal", "A='$(touch /nonexistent/x)'",
		{ "A", "$(touch /nonexistent/x)" } },
	{ "escaped command in unquoted value", "A=\\$(echo hi)",
		{ "A", "$(echo hi)" } },
	{ "empty $() is not a command", "A=$()", { "A", "$()" } },
	{ "unbalanced command stays", "A=\"$(echo\"", { "A", "$(echo" } },
	{ "command output keeps inner spaces", "A=$(printf ' a  b ')",
		{ "A", " a  b " } },
	{ "chomp removes one newline", "A=\"$(printf 'x\\n\\n')\"",
		{ "A", "x\n" } },
	{ "hostile value, single-quoted", "A='; rm -rf / && `id` $(id) \"'",
		{ "A", "; rm -rf / && `id` $(id) \"" } },
	{ "non-ASCII value", "A=\"h\xc3\xa9llo \xe6\x97\xa5\"",
		{ "A", "h\xc3\xa9llo \xe6\x97\xa5" } },
};

static int
setup(void **state)
{
	setenv("KR_T_ENV", "test", 1);
	unsetenv("DOTENV_LINEBREAK_MODE");
	unsetenv("KR_T_UNDEFINED_XYZ");
	return 0;
}

static int
parse(struct kr_kvlist *out, struct kr_diags *d, const char *text,
	const struct kr_secrets_opts *o)
{
	return kr_secrets_parse(out, d, "secrets", text, strlen(text), o);
}

static void
test_table(void **state)
{
	struct kr_secrets_opts o = { .command_timeout = 10, .run_commands = 1 };
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		struct kr_kvlist kv = { 0 };
		struct kr_diags d = { 0 };
		int rc = parse(&kv, &d, c->text, &o);

		if (rc != 0 || d.n) {
			print_error("case '%s': rc %d, %zu diags, first: %s\n",
				c->name, rc, d.n, d.n ? d.v[0].msg : "");
			fail();
		}
		for (k = 0; c->expect[2 * k]; k++) {
			if (k >= kv.n || strcmp(kv.v[k].key, c->expect[2 * k]) ||
			    strcmp(kv.v[k].value, c->expect[2 * k + 1])) {
				print_error("case '%s': pair %zu is '%s'='%s', want '%s'='%s'\n",
					c->name, k, k < kv.n ? kv.v[k].key : "(none)",
					k < kv.n ? kv.v[k].value : "",
					c->expect[2 * k], c->expect[2 * k + 1]);
				fail();
			}
		}
		if (kv.n != k) {
			print_error("case '%s': %zu keys, want %zu\n", c->name,
				kv.n, k);
			fail();
		}
		kr_kvlist_release(&kv);
		kr_diags_release(&d);
	}
}

/* Parse text expected to fail; returns the formatted first diagnostic. */
static char *
parse_error(const char *text, const struct kr_secrets_opts *o, size_t *ndiags)
{
	struct kr_kvlist kv = { 0 };
	struct kr_diags d = { 0 };
	char *msg;

	kr_kvlist_set(&kv, "PRE", "existing");
	assert_int_equal(parse(&kv, &d, text, o), KR_ECONFIG);
	assert_true(d.n >= 1);
	/* Nothing is written on failure. */
	assert_int_equal(kv.n, 1);
	msg = kr_diag_format(&d.v[0]);
	if (ndiags)
		*ndiags = d.n;
	kr_kvlist_release(&kv);
	kr_diags_release(&d);
	return msg;
}

static void
test_export_unset(void **state)
{
	char *msg = parse_error("OPTION_A=2\nexport OH_NO_NOT_SET", NULL, NULL);

	assert_string_equal(msg,
		"secrets:2:1: 'export OH_NO_NOT_SET' names a variable not set earlier in the file");
	free(msg);
	/* `export KEY=` with nothing after = is the same form in dotenv. */
	msg = parse_error("  export FOO=", NULL, NULL);
	assert_string_equal(msg,
		"secrets:1:3: 'export FOO' names a variable not set earlier in the file");
	free(msg);
}

static void
test_nul_byte(void **state)
{
	struct kr_kvlist kv = { 0 };
	struct kr_diags d = { 0 };
	char *msg;

	assert_int_equal(kr_secrets_parse(&kv, &d, "s", "A=1\nB=x\0y", 9, NULL),
		KR_ECONFIG);
	assert_int_equal(d.n, 1);
	msg = kr_diag_format(&d.v[0]);
	assert_string_equal(msg, "s:2:4: file holds a NUL byte; secrets files are text");
	free(msg);
	assert_int_equal(kv.n, 0);
	kr_diags_release(&d);
}

static void
test_invalid_utf8(void **state)
{
	struct kr_secrets_opts o = { .command_timeout = 10, .run_commands = 1 };
	char *msg;

	/* Kamal fails on these too: Ruby will not run a regexp over them. */
	msg = parse_error("A=1\nB=ok \xc3\xa9 \xff\n", NULL, NULL);
	assert_string_equal(msg,
		"secrets:2:8: file is not valid UTF-8 (Kamal cannot read it either)");
	free(msg);
	msg = parse_error("A=\xed\xa0\x80", NULL, NULL);
	assert_string_equal(msg,
		"secrets:1:3: file is not valid UTF-8 (Kamal cannot read it either)");
	free(msg);
	msg = parse_error("A=x\n  B=$(printf '\\\\377')", &o, NULL);
	assert_string_equal(msg,
		"secrets:2:5: value of 'B' is not valid UTF-8 (from a command or the environment)");
	free(msg);
}

static void
test_command_fails(void **state)
{
	struct kr_secrets_opts o = { .command_timeout = 10, .run_commands = 1 };
	size_t n;
	char *msg;

	msg = parse_error("# x\nA=1\n  B=  $(echo oops >&2; echo second >&2; exit 3)",
		&o, &n);
	assert_string_equal(msg,
		"secrets:3:7: command in 'B' failed: exited with status 3: oops");
	assert_int_equal(n, 1);
	free(msg);

	/* Every failing command is reported, not only the first. */
	msg = parse_error("A=$(exit 1)\nB=$(exit 2)", &o, &n);
	assert_int_equal(n, 2);
	assert_string_equal(msg, "secrets:1:3: command in 'A' failed: exited with status 1");
	free(msg);

	msg = parse_error("A=$(kill -9 $$)", &o, NULL);
	assert_string_equal(msg, "secrets:1:3: command in 'A' failed: killed by signal 9");
	free(msg);

	msg = parse_error("A=$(printf 'a\\\\000b')", &o, NULL);
	assert_string_equal(msg,
		"secrets:1:3: command in 'A' failed: its output holds a NUL byte");
	free(msg);

	msg = parse_error("A=$(kr-no-such-command-xyz)", &o, NULL);
	assert_non_null(strstr(msg, "exited with status 127: "));
	assert_non_null(strstr(msg, "kr-no-such-command-xyz"));
	free(msg);
}

/* Poll until pid is gone or a zombie, for at most two seconds. */
static int
process_gone(long pid)
{
	char path[64], buf[256], *p;
	int i;

	for (i = 0; i < 200; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if (!(f = fopen(path, "r")))
			return 1;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (p && (p = strrchr(buf, ')')) && p[1] == ' ' && p[2] == 'Z')
			return 1;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000 }, NULL);
	}
	return 0;
}

static void
test_command_timeout_kills_group(void **state)
{
	struct kr_secrets_opts o = { .command_timeout = 1, .run_commands = 1 };
	char pidfile[] = "/tmp/kr-test-secrets-pid-XXXXXX";
	char *text, *msg;
	struct timespec a, b;
	long pid = 0;
	FILE *f;
	int fd;

	assert_true((fd = mkstemp(pidfile)) >= 0);
	close(fd);
	text = kr_xasprintf("A=$(sleep 30 & echo $! > %s; wait)", pidfile);
	clock_gettime(CLOCK_MONOTONIC, &a);
	msg = parse_error(text, &o, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_string_equal(msg,
		"secrets:1:3: command in 'A' failed: timed out after 1 s (process group killed)");
	assert_true(b.tv_sec - a.tv_sec < 5);
	assert_non_null(f = fopen(pidfile, "r"));
	assert_int_equal(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	assert_true(pid > 1);
	/* The background sleep was in the group and died with it. */
	assert_true(process_gone(pid));
	unlink(pidfile);
	free(text);
	free(msg);
}

static void
test_error_never_shows_secrets(void **state)
{
	struct kr_secrets_opts o = { .command_timeout = 10, .run_commands = 1 };
	char *msg;

	/* A value from the file. */
	msg = parse_error("A=hunter2secret\nB=$(echo \"no: $A\" >&2; exit 1)",
		&o, NULL);
	assert_null(strstr(msg, "hunter2secret"));
	assert_string_equal(msg,
		"secrets:2:3: command in 'B' failed: exited with status 1: no: (sensitive)");
	free(msg);

	/* A value from the environment substituted into the command. */
	setenv("KR_T_PW", "correct-horse", 1);
	msg = parse_error("B=$(echo $KR_T_PW >&2; exit 1)", &o, NULL);
	assert_null(strstr(msg, "correct-horse"));
	free(msg);

	/* A short value cannot be blanked out reliably: the line is hidden. */
	msg = parse_error("A=abc\nB=$(echo xabcx >&2; exit 1)", &o, NULL);
	assert_string_equal(msg,
		"secrets:2:3: command in 'B' failed: exited with status 1: (output hidden: it holds a secret value)");
	free(msg);

	/* Control characters do not reach the terminal. */
	msg = parse_error("B=$(printf '\\\\033[31mred\\\\r' >&2; exit 1)", &o, NULL);
	assert_null(strchr(msg, '\033'));
	assert_null(strchr(msg, '\r'));
	free(msg);
}

struct fake {
	char seen[8][256];
	int n;
	const char *reply;
	int fail;
};

static int
fake_run(struct kr_buf *out, struct kr_buf *why, const char *command,
	int timeout, void *arg)
{
	struct fake *f = arg;

	if (f->n < 8)
		snprintf(f->seen[f->n], sizeof(f->seen[0]), "%s", command);
	f->n++;
	if (f->fail) {
		kr_buf_puts(why, "exited with status 1");
		return KR_ERROR;
	}
	return kr_buf_puts(out, f->reply ? f->reply : "out\n");
}

static void
test_command_sees_substituted_text(void **state)
{
	struct fake f = { .reply = "$KR_T_ENV\n" };
	struct kr_secrets_opts o = { .run_commands = 1, .run = fake_run,
		.run_arg = &f };
	struct kr_kvlist kv = { 0 };
	struct kr_diags d = { 0 };

	assert_int_equal(parse(&kv, &d,
		"A=sec ret\nB=$(cmd $A ${A}x \\$A)\nC='$(no)'", &o), 0);
	assert_int_equal(f.n, 1);
	/* Variables are substituted in the command text before it runs. */
	assert_string_equal(f.seen[0], "cmd sec ret sec retx $A");
	/* The output goes through variable substitution, as in dotenv. */
	assert_string_equal(kr_kvlist_get(&kv, "B"), "test");
	kr_kvlist_release(&kv);
	kr_diags_release(&d);
}

static void
test_commands_not_run(void **state)
{
	struct fake f = { 0 };
	struct kr_secrets_opts o = { .run_commands = 0, .run = fake_run,
		.run_arg = &f };
	struct kr_kvlist kv = { 0 };
	struct kr_diags d = { 0 };

	assert_int_equal(parse(&kv, &d, "A=$(op read x)\nB=1", &o), 0);
	assert_int_equal(f.n, 0);
	assert_string_equal(kr_kvlist_get(&kv, "A"), "$(op read x)");
	assert_string_equal(kr_kvlist_get(&kv, "B"), "1");
	kr_kvlist_release(&kv);
	kr_diags_release(&d);
}

/* `kamal secrets fetch` through a fake, everything else through /bin/sh. */
static int
fake_kamal(struct kr_buf *out, struct kr_buf *why, const char *command,
	int timeout, void *arg)
{
	if (strncmp(command, "kamal secrets fetch", 19) == 0)
		return kr_buf_puts(out,
			"{\"DB\":\"p@ss w'rd$\\\"\",\"X\":\"\xc3\xa9\"}\n");
	return kr_secrets_run_command(out, why, command, timeout, NULL);
}

static void
test_kamal_fetch_is_shell_escaped(void **state)
{
	struct kr_secrets_opts o = { .command_timeout = 10, .run_commands = 1,
		.run = fake_kamal };
	struct kr_kvlist kv = { 0 };
	struct kr_diags d = { 0 };

	assert_int_equal(parse(&kv, &d,
		"SECRETS=$(kamal secrets fetch --adapter x --from y DB X)\n"
		"BACK=$(printf %s $SECRETS)", &o), 0);
	/*
	 * Shellwords.escape, as Kamal's --inline output; then dotenv's
	 * variable pass turns the escaped `\$` back into `$`, in Kamal too.
	 */
	assert_string_equal(kr_kvlist_get(&kv, "SECRETS"),
		"\\{\\\"DB\\\":\\\"p@ss\\ w\\'rd$\\\\\\\"\\\",\\\"X\\\":\\\"\\\xc3\xa9\\\"\\}");
	/* And the shell turns it back into the JSON. */
	assert_string_equal(kr_kvlist_get(&kv, "BACK"),
		"{\"DB\":\"p@ss w'rd$\\\"\",\"X\":\"\xc3\xa9\"}");
	kr_kvlist_release(&kv);
	kr_diags_release(&d);
}

static void
test_command_not_in_argv(void **state)
{
	struct kr_secrets_opts o = { .command_timeout = 10, .run_commands = 1 };
	struct kr_kvlist kv = { 0 };
	struct kr_diags d = { 0 };

	/*
	 * /proc/self/cmdline of the shell running the command: the command
	 * text (which may hold substituted secrets) is not in it, nor is the
	 * variable that carried it left in the command's environment.
	 */
	assert_int_equal(parse(&kv, &d,
		"A=$(tr '\\\\000' ' ' < /proc/$$/cmdline; echo \"[\\${KR_SECRETS_COMMAND-unset}]\")",
		&o), 0);
	assert_null(strstr(kr_kvlist_get(&kv, "A"), "cmdline"));
	assert_non_null(strstr(kr_kvlist_get(&kv, "A"), "[unset]"));
	kr_kvlist_release(&kv);
	kr_diags_release(&d);
}

static void
test_warnings(void **state)
{
	struct kr_diags w = { 0 };
	struct kr_secrets_opts o = { .warnings = &w };
	struct kr_kvlist kv = { 0 };
	struct kr_diags d = { 0 };
	char *msg;

	assert_int_equal(parse(&kv, &d,
		"# fine\nA=1\nFOO BAR=2\n\n  KEY-NAME=3\nB=2 # ok", &o), 0);
	assert_int_equal(kv.n, 2);
	assert_int_equal(w.n, 2);
	msg = kr_diag_format(&w.v[0]);
	assert_string_equal(msg, "secrets:3:1: line ignored: not KEY=value (dotenv skips it)");
	free(msg);
	msg = kr_diag_format(&w.v[1]);
	assert_string_equal(msg, "secrets:5:3: line ignored: not KEY=value (dotenv skips it)");
	free(msg);
	kr_diags_release(&w);
	kr_kvlist_release(&kv);
	kr_diags_release(&d);
}

static void
test_value_size_cap(void **state)
{
	struct kr_buf t = KR_BUF_INIT;
	struct kr_kvlist kv = { 0 };
	struct kr_diags d = { 0 };
	char *msg;
	int i;

	/* Each line multiplies the size by 64: the cap stops it. */
	kr_buf_puts(&t, "A0=0123456789abcdef\n");
	for (i = 1; i < 6; i++) {
		int k;

		kr_buf_printf(&t, "A%d=", i);
		for (k = 0; k < 64; k++)
			kr_buf_printf(&t, "$A%d", i - 1);
		kr_buf_putc(&t, '\n');
	}
	assert_int_equal(parse(&kv, &d, t.ptr, NULL), KR_ECONFIG);
	msg = kr_diag_format(&d.v[0]);
	assert_string_equal(msg, "secrets:4:4: value of 'A3' is longer than 1048576 bytes");
	free(msg);
	kr_diags_release(&d);
	kr_buf_release(&t);
}

/* Files for the loader. */

static char dir[] = "/tmp/kr-test-secrets-XXXXXX";

static void
put(const char *name, const char *text)
{
	char *path = kr_xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static int
setup_dir(void **state)
{
	setup(state);
	strcpy(dir, "/tmp/kr-test-secrets-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return 0;
}

static int
teardown_dir(void **state)
{
	char *cmd = kr_xasprintf("rm -rf '%s'", dir);
	int rc = system(cmd);

	free(cmd);
	return rc == 0 ? 0 : -1;
}

static void
test_load_order_and_destination(void **state)
{
	struct kr_kvlist kv = { 0 };
	struct kr_diags d = { 0 };

	put("secrets-common", "SECRET=GHI\nSECRET2=JKL\nCOMMON_ONLY=c\n");
	put("secrets", "SECRET=ABC\n");
	put("secrets.dest", "SECRET=DEF\nFROM_COMMON=$COMMON_ONLY\n");

	assert_int_equal(kr_secrets_load(&kv, &d, dir, NULL, NULL), 0);
	assert_string_equal(kr_kvlist_get(&kv, "SECRET"), "ABC");
	assert_string_equal(kr_kvlist_get(&kv, "SECRET2"), "JKL");
	/* Keys keep the order of their first appearance. */
	assert_string_equal(kv.v[0].key, "SECRET");
	kr_kvlist_release(&kv);

	assert_int_equal(kr_secrets_load(&kv, &d, dir, "dest", NULL), 0);
	assert_string_equal(kr_kvlist_get(&kv, "SECRET"), "DEF");
	assert_string_equal(kr_kvlist_get(&kv, "SECRET2"), "JKL");
	/* Kamal parses each file alone: no variables across files. */
	assert_string_equal(kr_kvlist_get(&kv, "FROM_COMMON"), "");
	kr_kvlist_release(&kv);

	/* An unknown destination reads only the common file. */
	assert_int_equal(kr_secrets_load(&kv, &d, dir, "nodest", NULL), 0);
	assert_string_equal(kr_kvlist_get(&kv, "SECRET"), "GHI");
	assert_int_equal(kv.n, 3);
	kr_kvlist_release(&kv);
	assert_int_equal(d.n, 0);
}

static void
test_load_custom_path_and_missing(void **state)
{
	struct kr_kvlist kv = { 0 };
	struct kr_diags d = { 0 };
	struct kr_strvec names = { 0 };
	char *path = kr_xasprintf("%s/custom", dir);
	char *sub = kr_xasprintf("%s/nothing-here/secrets", dir);

	put("custom", "SECRET=BASE\n");
	put("custom.prod", "SECRET=PROD\n");
	assert_int_equal(kr_secrets_load_path(&kv, &d, path, NULL, NULL), 0);
	assert_string_equal(kr_kvlist_get(&kv, "SECRET"), "BASE");
	kr_kvlist_release(&kv);
	assert_int_equal(kr_secrets_load_path(&kv, &d, path, "prod", NULL), 0);
	assert_string_equal(kr_kvlist_get(&kv, "SECRET"), "PROD");
	kr_kvlist_release(&kv);

	/* No files at all is not an error here; a missing name is, later. */
	assert_int_equal(kr_secrets_load_path(&kv, &d, sub, NULL, NULL), 0);
	assert_int_equal(kv.n, 0);
	assert_int_equal(d.n, 0);

	kr_secrets_filenames(&names, NULL, "staging");
	assert_int_equal(names.n, 2);
	assert_string_equal(names.v[0], ".kamal/secrets-common");
	assert_string_equal(names.v[1], ".kamal/secrets.staging");
	kr_strvec_release(&names);
	free(path);
	free(sub);
}

static void
test_load_reports_every_file(void **state)
{
	struct kr_kvlist kv = { 0 };
	struct kr_diags d = { 0 };
	char *a, *b, *want;

	kr_kvlist_set(&kv, "KEEP", "1");
	put("secrets-common", "A=1\nexport NOPE\n");
	put("secrets", "B=$(exit 4)\n");
	assert_int_equal(kr_secrets_load(&kv, &d, dir, NULL, NULL), KR_ECONFIG);
	assert_int_equal(d.n, 2);
	a = kr_diag_format(&d.v[0]);
	b = kr_diag_format(&d.v[1]);
	want = kr_xasprintf("%s/secrets-common:2:1: 'export NOPE' names a variable not set earlier in the file", dir);
	assert_string_equal(a, want);
	free(want);
	want = kr_xasprintf("%s/secrets:1:3: command in 'B' failed: exited with status 4", dir);
	assert_string_equal(b, want);
	free(want);
	/* `out` untouched on failure. */
	assert_int_equal(kv.n, 1);
	free(a);
	free(b);
	kr_kvlist_release(&kv);
	kr_diags_release(&d);
}

static void
test_load_redacts_earlier_files(void **state)
{
	struct kr_kvlist kv = { 0 };
	struct kr_diags d = { 0 };
	char *msg;

	put("secrets-common", "TOKEN=from-the-common-file\n");
	put("secrets", "B=$(echo bad from-the-common-file >&2; exit 1)\n");
	assert_int_equal(kr_secrets_load(&kv, &d, dir, NULL, NULL), KR_ECONFIG);
	assert_int_equal(d.n, 1);
	msg = kr_diag_format(&d.v[0]);
	assert_null(strstr(msg, "from-the-common-file"));
	assert_non_null(strstr(msg, "exited with status 1: bad (sensitive)"));
	free(msg);
	kr_diags_release(&d);
}

/*
 * The fuzzer's seed corpus, replayed in the ordinary (sanitizer) build so
 * that every seed is checked on each CI run, not only in fuzz runs.
 * Commands go to the fake runner: nothing from the corpus is executed.
 */
static void
test_fuzz_seeds(void **state)
{
	const char *dirname = KR_FIXTURES "/../fuzz/corpus/fuzz_secrets";
	DIR *dp = opendir(dirname);
	struct dirent *de;
	int seen = 0;

	assert_non_null(dp);
	while ((de = readdir(dp)) != NULL) {
		struct fake f = { 0 };
		struct kr_secrets_opts o = { .run_commands = 1, .run = fake_run,
			.run_arg = &f };
		struct kr_kvlist kv = { 0 };
		struct kr_diags d = { 0 };
		char *path, text[65536];
		size_t n;
		FILE *fp;
		int rc;

		if (de->d_name[0] == '.')
			continue;
		path = kr_xasprintf("%s/%s", dirname, de->d_name);
		assert_non_null(fp = fopen(path, "rb"));
		n = fread(text, 1, sizeof(text), fp);
		fclose(fp);
		rc = kr_secrets_parse(&kv, &d, de->d_name, text, n, &o);
		assert_true(rc == 0 || rc == KR_ECONFIG);
		assert_true((rc == 0) == (d.n == 0));
		kr_kvlist_release(&kv);
		kr_diags_release(&d);
		free(path);
		seen++;
	}
	closedir(dp);
	assert_true(seen >= 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_table, setup),
		cmocka_unit_test_setup(test_export_unset, setup),
		cmocka_unit_test_setup(test_nul_byte, setup),
		cmocka_unit_test_setup(test_invalid_utf8, setup),
		cmocka_unit_test_setup(test_command_fails, setup),
		cmocka_unit_test_setup(test_command_timeout_kills_group, setup),
		cmocka_unit_test_setup(test_error_never_shows_secrets, setup),
		cmocka_unit_test_setup(test_command_sees_substituted_text, setup),
		cmocka_unit_test_setup(test_commands_not_run, setup),
		cmocka_unit_test_setup(test_kamal_fetch_is_shell_escaped, setup),
		cmocka_unit_test_setup(test_command_not_in_argv, setup),
		cmocka_unit_test_setup(test_warnings, setup),
		cmocka_unit_test_setup(test_value_size_cap, setup),
		cmocka_unit_test_setup(test_fuzz_seeds, setup),
		cmocka_unit_test_setup_teardown(test_load_order_and_destination,
			setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_load_custom_path_and_missing,
			setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_load_reports_every_file,
			setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_load_redacts_earlier_files,
			setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
