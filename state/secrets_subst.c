/*
 * Kamal's $(command) substitution in secrets values
 * (Kamal::Secrets::Dotenv::InlineCommandSubstitution): finding the balanced
 * command, running it (kr_secrets_run_command or the caller's runner),
 * chomping its output, shell-escaping the output of `kamal secrets fetch`
 * as --inline does, and reporting a failed command with every known secret
 * value redacted from its error text.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/secrets_int.h"

static void
diag_value(struct kr_secrets_parser *p, size_t pos, const char *key,
	const char *why)
{
	int line, col;

	kr_dotenv_linecol(p, pos, &line, &col);
	kr_diags_add(p->diags, p->file, line, col,
		"command in '%s' failed: %s", key, why);
}

/*
 * Hide every known value inside a command's error text: long values are
 * replaced, and a text holding a short one (which replacing would leave
 * readable) is dropped whole.
 */
static int
redact_one(struct kr_buf *t, const char *v)
{
	struct kr_buf r = KR_BUF_INIT;
	size_t n, i;

	if (!v || !*v || !strstr(t->ptr, v))
		return 0;
	n = strlen(v);
	if (n < 4)
		return -1;
	for (i = 0; i < t->len;) {
		if (strncmp(t->ptr + i, v, n) == 0) {
			kr_buf_puts(&r, "(sensitive)");
			i += n;
		} else {
			kr_buf_putc(&r, t->ptr[i++]);
		}
	}
	kr_secrets_buf_wipe_release(t);
	*t = r;
	return 0;
}

static void
redact(struct kr_secrets_parser *p, struct kr_buf *why,
	const struct kr_strvec *used)
{
	struct kr_buf detail = KR_BUF_INIT;
	const char *sep = strstr(why->ptr, ": ");
	size_t i;
	int hide = 0;

	/*
	 * `why` is "reason" or "reason: detail"; the detail is command
	 * output. Long values are blanked anywhere; a short one found in the
	 * detail hides the whole detail.
	 */
	if (sep) {
		size_t at = (size_t)(sep - why->ptr) + 2;

		kr_buf_put(&detail, why->ptr + at, why->len - at);
		kr_buf_truncate(why, at);
	}
	for (i = 0; i < p->hash.n && !hide; i++)
		hide = redact_one(&detail, p->hash.v[i].value) < 0;
	for (i = 0; p->earlier && i < p->earlier->n && !hide; i++)
		hide = redact_one(&detail, p->earlier->v[i].value) < 0;
	for (i = 0; i < used->n && !hide; i++)
		hide = redact_one(&detail, used->v[i]) < 0;
	if (hide) {
		kr_secrets_buf_wipe_release(&detail);
		kr_buf_puts(&detail, "(output hidden: it holds a secret value)");
	}
	kr_buf_put(why, detail.ptr, detail.len);
	kr_secrets_buf_wipe_release(&detail);
	for (i = 0; i < p->hash.n; i++)
		if (p->hash.v[i].value && strlen(p->hash.v[i].value) >= 4)
			redact_one(why, p->hash.v[i].value);
	for (i = 0; i < used->n; i++)
		if (strlen(used->v[i]) >= 4)
			redact_one(why, used->v[i]);
	/* Keep messages one printable line of bounded length. */
	for (i = 0; i < why->len; i++)
		if ((unsigned char)why->ptr[i] < 0x20 || why->ptr[i] == 0x7f)
			why->ptr[i] = '?';
	if (why->len > MAX_WHY) {
		kr_buf_truncate(why, MAX_WHY);
		kr_buf_puts(why, "...");
	}
}

/*
 * The end of a balanced \( (?:\\.|[^()\\]|\g<cmd>)+ \) group starting at
 * v[i] == '(', or (size_t)-1. Every alternative starts with a different
 * character, so the regexp cannot backtrack into another split; nesting is
 * tracked with a depth count instead of recursion.
 */
static size_t
command_end(const char *v, size_t n, size_t i)
{
	size_t depth = 1;
	int nonempty = 0;

	for (i++; i < n; i++) {
		char c = v[i];

		if (c == '\\') {
			if (i + 1 >= n || v[i + 1] == '\n')
				return (size_t)-1;
			i++;
			nonempty = 1;
		} else if (c == '(') {
			depth++;
			nonempty = 0;
		} else if (c == ')') {
			if (!nonempty)
				return (size_t)-1;
			if (--depth == 0)
				return i + 1;
			nonempty = 1;
		} else {
			nonempty = 1;
		}
	}
	return (size_t)-1;
}

/* Ruby's String#chomp with no argument. */
static void
chomp(struct kr_buf *b)
{
	if (b->len && b->ptr[b->len - 1] == '\n') {
		b->len--;
		if (b->len && b->ptr[b->len - 1] == '\r')
			b->len--;
	} else if (b->len && b->ptr[b->len - 1] == '\r') {
		b->len--;
	}
	if (b->alloc)
		b->ptr[b->len] = '\0';
}

/* Ruby's Shellwords.escape, one UTF-8 character at a time. */
static int
shell_escape(struct kr_buf *out, const char *s, size_t n)
{
	size_t i = 0, len;
	int err = 0;

	if (n == 0)
		return kr_buf_puts(out, "''");
	while (i < n && err == 0) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n') {
			err = kr_buf_puts(out, "'\n'");
			i++;
			continue;
		}
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("_-.,:+/@", c)) {
			err = kr_buf_putc(out, (char)c);
			i++;
			continue;
		}
		len = 1;
		if (c >= 0xc0)
			while (i + len < n && len < 4 &&
			    ((unsigned char)s[i + len] & 0xc0) == 0x80)
				len++;
		if ((err = kr_buf_putc(out, '\\')) == 0)
			err = kr_buf_put(out, s + i, len);
		i += len;
	}
	return err;
}

/* `kamal secrets fetch` when Kamal would inline it: \A\s*kamal\s*secrets\s+ */
static int
is_kamal_fetch(const char *c)
{
	while (kr_dotenv_is_space(*c))
		c++;
	if (strncmp(c, "kamal", 5) != 0)
		return 0;
	for (c += 5; kr_dotenv_is_space(*c); c++)
		;
	if (strncmp(c, "secrets", 7) != 0 || !kr_dotenv_is_space(c[7]))
		return 0;
	for (c += 7; kr_dotenv_is_space(*c); c++)
		;
	return strncmp(c, "fetch", 5) == 0 &&
	       (c[5] == '\0' || kr_dotenv_is_space(c[5]));
}

static int
run_one(struct kr_secrets_parser *p, struct kr_buf *out, const char *cmd,
	size_t cmd_len, const char *key, size_t pos)
{
	struct kr_buf text = KR_BUF_INIT, res = KR_BUF_INIT, why = KR_BUF_INIT;
	struct kr_strvec used = { 0 };
	int err;

	if ((err = kr_secrets_subst_variables(p, &text, cmd, cmd_len, &used)) <
		0)
		goto out;
	res.max = MAX_OUTPUT;
	err = p->run(&res, &why, text.ptr, p->timeout, p->run_arg);
	if (err == 0 && memchr(res.ptr, '\0', res.len)) {
		err = KR_EINVAL;
		kr_buf_reset(&why);
		kr_buf_puts(&why, "its output holds a NUL byte");
	}
	if (err < 0) {
		if (why.len == 0)
			kr_buf_puts(&why, kr_error_last());
		redact(p, &why, &used);
		diag_value(p, pos, key, why.ptr);
		err = KR_ECONFIG;
		goto out;
	}
	chomp(&res);
	if (is_kamal_fetch(text.ptr))
		err = shell_escape(out, res.ptr, res.len);
	else
		err = kr_buf_put(out, res.ptr, res.len);
out:
	kr_secrets_buf_wipe_release(&text);
	kr_secrets_buf_wipe_release(&res);
	kr_secrets_buf_wipe_release(&why);
	for (size_t i = 0; i < used.n; i++)
		kr_secrets_wipe(used.v[i], strlen(used.v[i]));
	kr_strvec_release(&used);
	return err;
}

/* Kamal's InlineCommandSubstitution.call. */
int
kr_secrets_subst_commands(struct kr_secrets_parser *p, struct kr_buf *out,
	const char *v, size_t n, const char *key, size_t pos)
{
	size_t i = 0, e;
	int err = 0;

	while (i < n && err == 0) {
		if (v[i] == '\\' && i + 2 < n && v[i + 1] == '$' &&
		    v[i + 2] == '(' && (e = command_end(v, n, i + 2)) != (size_t)-1) {
			err = kr_buf_put(out, v + i + 1, e - i - 1);
			i = e;
		} else if (v[i] == '$' && i + 1 < n && v[i + 1] == '(' &&
		    (e = command_end(v, n, i + 1)) != (size_t)-1) {
			if (p->run_commands)
				err = run_one(p, out, v + i + 2, e - i - 3, key, pos);
			else
				err = kr_buf_put(out, v + i, e - i);
			i = e;
		} else {
			err = kr_buf_putc(out, v[i++]);
		}
	}
	return err;
}
