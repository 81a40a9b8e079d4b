/*
 * .kamal/secrets with the rules Kamal 2 applies: the dotenv gem's parser
 * (Dotenv::Parser, dotenv 3.x) with Kamal's own command substitution
 * (Kamal::Secrets::Dotenv::InlineCommandSubstitution), one file at a time.
 *
 * The parser follows dotenv's LINE regexp by hand. Matches are searched at
 * line starts; a match is
 *
 *   \s* (export\s+)? KEY ( (\s*=\s*? | :\s+?) VALUE? )? \s* (#.*)? $
 *
 * KEY = [A-Za-z0-9_.]+, VALUE = \s*'..' | \s*".." (a quote preceded by a
 * backslash does not end it) | [^#\n]+. Text that never matches is skipped
 * silently, as dotenv does (reported as warnings when asked). Because every
 * piece of the regexp is greedy or fails fast, the backtracking search
 * reduces to: the longest key; `=` after optional blanks, or `:` and one
 * blank; a quoted value when a quote follows the blanks and some closing
 * quote lets the rest of the line be blanks and a comment (the first
 * unescaped quote is tried first, then escaped ones from last to first);
 * else the unquoted text up to `#` or newline.
 *
 * Each value is then, as Dotenv::Parser#parse_value does: stripped; if it
 * starts and ends with the same quote, unquoted; in double quotes `\n` and
 * `\r` are kept as backslash sequences (dotenv 3's default; they become a
 * newline and a carriage return when DOTENV_LINEBREAK_MODE=legacy is set
 * earlier in the file or in the environment); unless single-quoted, a
 * backslash before any character but `$` is dropped, then $(command)
 * substitutions run, then $VAR / ${VAR} substitutions (earlier key of the
 * same file, else the process environment, else empty; `\$` escapes).
 *
 * Where kreconcile differs from Kamal: a command that exits non-zero, times
 * out or writes a NUL byte is an error (Kamal's backticks ignore the exit
 * status); a file holding a NUL byte is an error; text that is not UTF-8
 * is an error here as it is in Kamal (Ruby raises), with a position;
 * `kamal secrets ...` commands run through /bin/sh (Kamal calls itself
 * in-process with --inline), and the output of `kamal secrets fetch` is then shell-escaped
 * the way --inline does, so `$(kamal secrets extract KEY $SECRETS)` works.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "state/secrets.h"

extern char **environ;

#define MAX_FILE	(1u << 20)	/* one secrets file */
#define MAX_VALUE	(1u << 20)	/* one value after substitutions */
#define MAX_TOTAL	(16u << 20)	/* all values of one file */
#define MAX_OUTPUT	(1u << 20)	/* stdout of one command */
#define MAX_STDERR	(64u << 10)
#define MAX_WHY		200		/* stderr shown in a message */
#define DEFAULT_TIMEOUT	30

struct parser {
	const char *file;
	const char *s;		/* text with line ends normalized to \n */
	size_t len;
	struct kr_kvlist hash;	/* this file's keys so far */
	const struct kr_kvlist *earlier;	/* for redaction only */
	struct kr_diags *diags;
	struct kr_diags *warnings;
	int timeout;
	int run_commands;
	int (*run)(struct kr_buf *, struct kr_buf *, const char *, int, void *);
	void *run_arg;
	size_t total;
	/* line/column cursor */
	size_t cur_pos, cur_line, cur_bol;
};

struct line_match {
	size_t start;		/* first character of the key or `export` */
	size_t key, key_len;
	int export;
	int has_value;
	size_t val, val_len;	/* the raw VALUE group */
	size_t end;
};

static void
wipe(void *p, size_t n)
{
	volatile unsigned char *q = p;

	while (n--)
		*q++ = 0;
}

static void
buf_wipe_release(struct kr_buf *b)
{
	wipe(b->ptr, b->len);
	kr_buf_release(b);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
		c == '\r';
}

static int
is_key(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '.';
}

static int
is_name(char c)
{
	return is_key(c) && c != '.';
}

/*
 * Offset of the first byte that is not valid UTF-8, or n. Ruby refuses to
 * run a regexp over such a string, so Kamal fails on it too.
 */
static size_t
utf8_invalid_at(const unsigned char *s, size_t n)
{
	size_t i = 0, len, k;
	unsigned int cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			len = 2;
			cp = s[i] & 0x1f;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			len = 3;
			cp = s[i] & 0x0f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			len = 4;
			cp = s[i] & 0x07;
		} else {
			return i;
		}
		if (n - i < len)
			return i;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += len;
	}
	return n;
}

static void
linecol(struct parser *p, size_t pos, int *line, int *col)
{
	size_t i;

	if (pos < p->cur_pos) {
		p->cur_pos = 0;
		p->cur_line = 1;
		p->cur_bol = 0;
	}
	for (; p->cur_pos < pos && p->cur_pos < p->len; p->cur_pos++) {
		if (p->s[p->cur_pos] == '\n') {
			p->cur_line++;
			p->cur_bol = p->cur_pos + 1;
		}
	}
	/* Columns count characters, as libyaml's do, not bytes. */
	*line = (int)p->cur_line;
	*col = 1;
	for (i = p->cur_bol; i < pos && i < p->len; i++)
		if (((unsigned char)p->s[i] & 0xc0) != 0x80)
			(*col)++;
}

static size_t
skip_space(const struct parser *p, size_t i)
{
	while (i < p->len && is_space(p->s[i]))
		i++;
	return i;
}

/* \s* (#.*)? ($|\z) from q: the end of the match, or (size_t)-1. */
static size_t
match_tail(const struct parser *p, size_t q)
{
	size_t k = skip_space(p, q), e;

	for (e = k;; e--) {
		if (e < p->len && p->s[e] == '#') {
			while (e < p->len && p->s[e] != '\n')
				e++;
			return e;
		}
		if (e == p->len || p->s[e] == '\n')
			return e;
		if (e == q)
			return (size_t)-1;
	}
}

/*
 * A quoted VALUE whose opening quote is at w: try the closing quotes in
 * the regexp engine's order. Returns 1 and sets *vend and *end on success.
 */
static int
match_quoted(const struct parser *p, size_t w, size_t *vend, size_t *end)
{
	char q = p->s[w];
	size_t i, hard = (size_t)-1, t;

	for (i = w + 1; i < p->len; i++) {
		if (p->s[i] == q && (i == w + 1 || p->s[i - 1] != '\\')) {
			hard = i;
			break;
		}
	}
	if (hard != (size_t)-1 && (t = match_tail(p, hard + 1)) != (size_t)-1) {
		*vend = hard + 1;
		*end = t;
		return 1;
	}
	/* Escaped quotes, last first. */
	for (i = hard != (size_t)-1 ? hard : p->len; i > w + 1; i--) {
		size_t c = i - 1;

		if (c > w + 1 && p->s[c] == q && p->s[c - 1] == '\\' &&
		    (t = match_tail(p, c + 1)) != (size_t)-1) {
			*vend = c + 1;
			*end = t;
			return 1;
		}
	}
	return 0;
}

/* Everything after KEY, which starts at k0. */
static int
match_after_key(const struct parser *p, size_t k0, struct line_match *m)
{
	size_t k = k0, i, v, w, e, vend, end;

	while (k < p->len && is_key(p->s[k]))
		k++;
	m->key = k0;
	m->key_len = k - k0;
	m->has_value = 0;

	i = skip_space(p, k);
	if (i < p->len && p->s[i] == '=')
		v = i + 1;
	else if (k + 1 < p->len && p->s[k] == ':' && is_space(p->s[k + 1]))
		v = k + 2;
	else
		goto no_separator;

	w = skip_space(p, v);
	if (w < p->len && (p->s[w] == '\'' || p->s[w] == '"') &&
	    match_quoted(p, w, &vend, &end)) {
		m->has_value = 1;
		m->val = v;
		m->val_len = vend - v;
		m->end = end;
		return 1;
	}
	if (v < p->len && p->s[v] != '#' && p->s[v] != '\n') {
		for (e = v; e < p->len && p->s[e] != '#' && p->s[e] != '\n'; e++)
			;
		m->has_value = 1;
		m->val = v;
		m->val_len = e - v;
		m->end = match_tail(p, e);
		return 1;
	}
	m->end = match_tail(p, v);	/* always matches here */
	return 1;

no_separator:
	if ((m->end = match_tail(p, k)) == (size_t)-1)
		return 0;
	return 1;
}

/* dotenv's LINE regexp at a line start. */
static int
match_line(const struct parser *p, size_t pos, struct line_match *m)
{
	size_t b = skip_space(p, pos), q;

	memset(m, 0, sizeof(*m));
	m->start = b;
	if (p->len - b > 6 && memcmp(p->s + b, "export", 6) == 0 &&
	    is_space(p->s[b + 6])) {
		q = skip_space(p, b + 6);
		if (q < p->len && is_key(p->s[q]) && match_after_key(p, q, m)) {
			m->export = 1;
			return 1;
		}
	}
	if (b < p->len && is_key(p->s[b]))
		return match_after_key(p, b, m);
	return 0;
}

/* Lines between matches that are neither blank nor comments. */
static void
warn_skipped(struct parser *p, size_t from, size_t to)
{
	size_t i = from;
	int line, col;

	while (i < to) {
		size_t eol = i, b;

		while (eol < to && p->s[eol] != '\n')
			eol++;
		b = i;
		while (b < eol && is_space(p->s[b]))
			b++;
		if (b < eol && p->s[b] != '#' && p->warnings) {
			linecol(p, b, &line, &col);
			kr_diags_add(p->warnings, p->file, line, col,
				"line ignored: not KEY=value (dotenv skips it)");
		}
		i = eol + 1;
	}
}

static void
diag_value(struct parser *p, size_t pos, const char *key, const char *why)
{
	int line, col;

	linecol(p, pos, &line, &col);
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
	buf_wipe_release(t);
	*t = r;
	return 0;
}

static void
redact(struct parser *p, struct kr_buf *why, const struct kr_strvec *used)
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
		buf_wipe_release(&detail);
		kr_buf_puts(&detail, "(output hidden: it holds a secret value)");
	}
	kr_buf_put(why, detail.ptr, detail.len);
	buf_wipe_release(&detail);
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
 * Dotenv::Substitutions::Variable: (\\)?\$(?!\()\{?([A-Z0-9_]+)?\}? case-
 * insensitively; the value of an earlier key, else the environment, else
 * "". Values looked up are recorded in `used` when it is set.
 */
static int
subst_variables(struct parser *p, struct kr_buf *out, const char *v, size_t n,
	struct kr_strvec *used)
{
	size_t i = 0, j, name, name_len;
	int err = 0;

	while (i < n && err == 0) {
		int esc = v[i] == '\\' && i + 1 < n && v[i + 1] == '$';
		size_t d = esc ? i + 1 : i;

		if (v[d] != '$' || (d + 1 < n && v[d + 1] == '(')) {
			err = kr_buf_putc(out, v[i++]);
			continue;
		}
		j = d + 1;
		if (j < n && v[j] == '{')
			j++;
		name = j;
		while (j < n && is_name(v[j]))
			j++;
		name_len = j - name;
		if (j < n && v[j] == '}')
			j++;
		if (esc || name_len == 0) {
			err = kr_buf_put(out, v + d, j - d);
		} else {
			char *key = kr_xstrndup(v + name, name_len);
			const char *val = kr_kvlist_get(&p->hash, key);

			if (!val)
				val = getenv(key);
			if (val) {
				err = kr_buf_puts(out, val);
				if (used && *val)
					kr_strvec_push(used, val);
			}
			free(key);
		}
		i = j;
	}
	return err;
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
	while (is_space(*c))
		c++;
	if (strncmp(c, "kamal", 5) != 0)
		return 0;
	for (c += 5; is_space(*c); c++)
		;
	if (strncmp(c, "secrets", 7) != 0 || !is_space(c[7]))
		return 0;
	for (c += 7; is_space(*c); c++)
		;
	return strncmp(c, "fetch", 5) == 0 && (c[5] == '\0' || is_space(c[5]));
}

static int
run_one(struct parser *p, struct kr_buf *out, const char *cmd, size_t cmd_len,
	const char *key, size_t pos)
{
	struct kr_buf text = KR_BUF_INIT, res = KR_BUF_INIT, why = KR_BUF_INIT;
	struct kr_strvec used = { 0 };
	int err;

	if ((err = subst_variables(p, &text, cmd, cmd_len, &used)) < 0)
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
	buf_wipe_release(&text);
	buf_wipe_release(&res);
	buf_wipe_release(&why);
	for (size_t i = 0; i < used.n; i++)
		wipe(used.v[i], strlen(used.v[i]));
	kr_strvec_release(&used);
	return err;
}

/* Kamal's InlineCommandSubstitution.call. */
static int
subst_commands(struct parser *p, struct kr_buf *out, const char *v, size_t n,
	const char *key, size_t pos)
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

/* Dotenv::Parser#parse_value. `pos` locates the value for diagnostics. */
static int
parse_value(struct parser *p, struct kr_buf *out, const char *raw, size_t n,
	const char *key, size_t pos)
{
	struct kr_buf a = KR_BUF_INIT, b = KR_BUF_INIT;
	const char *mode;
	char q = 0;
	size_t i;
	int err = 0, legacy = 0;

	a.max = b.max = MAX_VALUE;
	while (n && is_space(*raw)) {
		raw++;
		n--;
		pos++;
	}
	while (n && is_space(raw[n - 1]))
		n--;
	if (n >= 2 && (raw[0] == '\'' || raw[0] == '"') && raw[n - 1] == raw[0]) {
		q = raw[0];
		raw++;
		n -= 2;
		pos++;
	}
	if (q == '\'')
		return kr_buf_put(out, raw, n);

	/*
	 * expand_newlines (double quotes only): gsub('\n', ...) then
	 * gsub('\r', ...). In dotenv 3's default mode the replacement is
	 * `\\n`, which the unescape pass turns back into `\n`.
	 */
	if (q == '"') {
		mode = kr_kvlist_get(&p->hash, "DOTENV_LINEBREAK_MODE");
		if (!mode)
			mode = getenv("DOTENV_LINEBREAK_MODE");
		legacy = mode && strcmp(mode, "legacy") == 0;
		for (i = 0; i < n && err == 0; i++) {
			if (raw[i] == '\\' && i + 1 < n &&
			    (raw[i + 1] == 'n' || raw[i + 1] == 'r')) {
				if (legacy)
					err = kr_buf_putc(&a, raw[i + 1] == 'n' ?
						'\n' : '\r');
				else
					err = kr_buf_put(&a, "\\\\", 2) < 0 ? KR_EINVAL :
						kr_buf_putc(&a, raw[i + 1]);
				i++;
			} else {
				err = kr_buf_putc(&a, raw[i]);
			}
		}
	} else {
		err = kr_buf_put(&a, raw, n);
	}
	if (err < 0)
		goto out;
	/* unescape_characters: gsub(/\\([^$])/, '\1') */
	for (i = 0; i < a.len && err == 0; i++) {
		if (a.ptr[i] == '\\' && i + 1 < a.len && a.ptr[i + 1] != '$')
			i++;
		err = kr_buf_putc(&b, a.ptr[i]);
	}
	if (err < 0)
		goto out;
	kr_buf_reset(&a);
	if ((err = subst_commands(p, &a, b.ptr, b.len, key, pos)) < 0)
		goto out;
	err = subst_variables(p, out, a.ptr, a.len, NULL);
out:
	buf_wipe_release(&a);
	buf_wipe_release(&b);
	return err;
}

/* One matched line: an `export KEY` check or an assignment. */
static int
assign(struct parser *p, const struct line_match *m)
{
	struct kr_buf v = KR_BUF_INIT;
	char *key = kr_xstrndup(p->s + m->key, m->key_len);
	size_t nd = p->diags->n, at = m->has_value ? m->val : m->key;
	int err = 0, line, col;

	if (m->export && !m->has_value) {
		if (!kr_kvlist_get(&p->hash, key)) {
			linecol(p, m->start, &line, &col);
			kr_diags_add(p->diags, p->file, line, col,
				"'export %s' names a variable not set earlier in the file",
				key);
			err = KR_ECONFIG;
		}
		goto out;
	}
	v.max = MAX_VALUE;
	err = parse_value(p, &v, m->has_value ? p->s + m->val : "",
		m->has_value ? m->val_len : 0, key, at);
	if (err < 0 && p->diags->n == nd) {
		/* A failed command has said why; anything else is size. */
		linecol(p, at, &line, &col);
		kr_diags_add(p->diags, p->file, line, col,
			"value of '%s' is longer than %u bytes", key, MAX_VALUE);
	}
	if (err == 0 &&
	    utf8_invalid_at((const unsigned char *)v.ptr, v.len) < v.len) {
		linecol(p, at, &line, &col);
		kr_diags_add(p->diags, p->file, line, col,
			"value of '%s' is not valid UTF-8 (from a command or the environment)",
			key);
		err = KR_ECONFIG;
	}
	if (err == 0 && (p->total += v.len) > MAX_TOTAL) {
		linecol(p, m->key, &line, &col);
		kr_diags_add(p->diags, p->file, line, col,
			"values up to '%s' exceed %u bytes in all", key, MAX_TOTAL);
		err = KR_ECONFIG;
	}
	if (err == 0)
		kr_kvlist_set(&p->hash, key, v.ptr);
out:
	buf_wipe_release(&v);
	free(key);
	return err < 0 ? KR_ECONFIG : 0;
}

/* Dotenv::Parser#call: scan for LINE matches at line starts. */
static int
parse_text(struct parser *p)
{
	struct line_match m;
	size_t pos = 0, last = 0;
	int err = 0;

	while (pos < p->len) {
		if ((pos > 0 && p->s[pos - 1] != '\n') || !match_line(p, pos, &m)) {
			while (pos < p->len && p->s[pos] != '\n')
				pos++;
			pos++;
			continue;
		}
		warn_skipped(p, last, m.start);
		if (assign(p, &m) < 0)
			err = KR_ECONFIG;
		pos = last = m.end;
	}
	warn_skipped(p, last, p->len);
	return err;
}

static int
parse_file(struct kr_kvlist *out, struct kr_diags *diags, const char *file,
	const char *text, size_t len, const struct kr_secrets_opts *opts,
	const struct kr_kvlist *earlier)
{
	struct parser p;
	struct kr_buf norm = KR_BUF_INIT;
	const char *nul;
	size_t i, ndiags = diags->n;
	int err;

	memset(&p, 0, sizeof(p));
	p.file = file;
	p.diags = diags;
	p.timeout = opts && opts->command_timeout > 0 ?
		opts->command_timeout : DEFAULT_TIMEOUT;
	p.run_commands = opts ? opts->run_commands : 1;
	p.run = opts && opts->run ? opts->run : kr_secrets_run_command;
	p.run_arg = opts ? opts->run_arg : NULL;
	p.warnings = opts ? opts->warnings : NULL;
	p.earlier = earlier;
	p.cur_line = 1;

	/* File.open(..., "rb:bom|utf-8") drops a byte order mark. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	/* gsub(/\r\n?/, "\n") */
	for (i = 0; i < len; i++) {
		if (text[i] == '\r') {
			kr_buf_putc(&norm, '\n');
			if (i + 1 < len && text[i + 1] == '\n')
				i++;
		} else {
			kr_buf_putc(&norm, text[i]);
		}
	}
	p.s = norm.ptr;
	p.len = norm.len;
	if ((nul = memchr(p.s, '\0', p.len)) != NULL) {
		int line, col;

		linecol(&p, (size_t)(nul - p.s), &line, &col);
		kr_diags_add(diags, file, line, col,
			"file holds a NUL byte; secrets files are text");
		err = KR_ECONFIG;
		goto out;
	}
	if ((i = utf8_invalid_at((const unsigned char *)p.s, p.len)) < p.len) {
		int line, col;

		linecol(&p, i, &line, &col);
		kr_diags_add(diags, file, line, col,
			"file is not valid UTF-8 (Kamal cannot read it either)");
		err = KR_ECONFIG;
		goto out;
	}
	err = parse_text(&p);
	if (err == 0 && diags->n != ndiags)
		err = KR_ECONFIG;
	if (err == 0)
		kr_kvlist_copy(out, &p.hash);
	else
		kr_error_set(KR_ECONFIG, "%s: secrets file has errors", file);
out:
	kr_kvlist_release(&p.hash);
	buf_wipe_release(&norm);
	return err;
}

int
kr_secrets_parse(struct kr_kvlist *out, struct kr_diags *diags,
	const char *file, const char *text, size_t len,
	const struct kr_secrets_opts *opts)
{
	return parse_file(out, diags, file, text, len, opts, out);
}

void
kr_secrets_filenames(struct kr_strvec *out, const char *secrets_path,
	const char *destination)
{
	if (!secrets_path || !*secrets_path)
		secrets_path = ".kamal/secrets";
	kr_strvec_push_owned(out, kr_xasprintf("%s-common", secrets_path));
	if (destination && *destination)
		kr_strvec_push_owned(out, kr_xasprintf("%s.%s", secrets_path,
			destination));
	else
		kr_strvec_push(out, secrets_path);
}

/* Read a whole file; 1 when it does not exist or is a directory. */
static int
read_file(struct kr_buf *out, struct kr_diags *diags, const char *path)
{
	struct stat st;
	char chunk[4096];
	ssize_t n;
	int fd, err = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 1;
		kr_diags_add(diags, path, 0, 0, "cannot open: %s",
			strerror(errno));
		return KR_EIO;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return 1;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			kr_diags_add(diags, path, 0, 0, "cannot read: %s",
				strerror(errno));
			err = KR_EIO;
			break;
		}
		if (n == 0)
			break;
		if (kr_buf_put(out, chunk, (size_t)n) < 0) {
			kr_diags_add(diags, path, 0, 0,
				"file is larger than %u bytes", MAX_FILE);
			err = KR_EIO;
			break;
		}
	}
	wipe(chunk, sizeof(chunk));
	close(fd);
	return err;
}

int
kr_secrets_load_path(struct kr_kvlist *out, struct kr_diags *diags,
	const char *secrets_path, const char *destination,
	const struct kr_secrets_opts *opts)
{
	struct kr_strvec files = { 0 };
	struct kr_kvlist all = { 0 };
	size_t i;
	int err = 0, r;

	kr_secrets_filenames(&files, secrets_path, destination);
	for (i = 0; i < files.n; i++) {
		struct kr_buf text = KR_BUF_INIT;
		struct kr_kvlist one = { 0 };

		text.max = MAX_FILE;
		r = read_file(&text, diags, files.v[i]);
		if (r == 0)
			r = parse_file(&one, diags, files.v[i], text.ptr,
				text.len, opts, &all);
		if (r < 0)
			err = KR_ECONFIG;
		else
			kr_kvlist_copy(&all, &one);
		kr_kvlist_release(&one);
		buf_wipe_release(&text);
	}
	if (err == 0)
		kr_kvlist_copy(out, &all);
	else
		kr_error_set(KR_ECONFIG, "secrets files have errors");
	kr_kvlist_release(&all);
	kr_strvec_release(&files);
	return err;
}

int
kr_secrets_load(struct kr_kvlist *out, struct kr_diags *diags,
	const char *dir, const char *destination,
	const struct kr_secrets_opts *opts)
{
	char *path = kr_xasprintf("%s/secrets", dir && *dir ? dir : ".kamal");
	int err;

	err = kr_secrets_load_path(out, diags, path, destination, opts);
	free(path);
	return err;
}

/* The default runner. */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
kr_secrets_run_command(struct kr_buf *out, struct kr_buf *why,
	const char *command, int timeout, void *arg)
{
	static const char script[] =
		"eval \"unset KR_SECRETS_COMMAND\n$KR_SECRETS_COMMAND\"";
	struct kr_buf errb = KR_BUF_INIT;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	char **envp = NULL, *cmdvar = NULL;
	size_t nenv = 0, i;
	long long deadline;
	pid_t pid = -1;
	int status = 0, err = KR_ERROR, open_fds, timed_out = 0, too_big = 0;
	int tty = -1;
	sigset_t all, old;
	struct sigaction dfl;

	(void)arg;
	errb.max = MAX_STDERR;
	if (timeout <= 0)
		timeout = DEFAULT_TIMEOUT;

	/* Everything the child needs is built before fork. */
	while (environ && environ[nenv])
		nenv++;
	envp = kr_xcalloc(nenv + 2, sizeof(*envp));
	for (i = 0; i < nenv; i++)
		envp[i] = environ[i];
	cmdvar = kr_xasprintf("KR_SECRETS_COMMAND=%s", command);
	envp[nenv] = cmdvar;

	if (pipe(outp) < 0 || pipe(errp) < 0) {
		kr_buf_printf(why, "cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	fcntl(outp[0], F_SETFD, FD_CLOEXEC);
	fcntl(errp[0], F_SETFD, FD_CLOEXEC);

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	/*
	 * The command gets its own process group, so that a timeout can kill
	 * everything it started. When we own the terminal, the new group is
	 * made the foreground one while it runs, so that a password prompt
	 * (op, bw, lpass...) can still read from it, as under Kamal.
	 */
	if (isatty(0) && tcgetpgrp(0) == getpgrp())
		tty = 0;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		if (tty >= 0)
			tcsetpgrp(tty, getpid());
		sigaction(SIGPIPE, &dfl, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		close(outp[0]);
		close(errp[0]);
		close(outp[1]);
		close(errp[1]);
		execle("/bin/sh", "sh", "-c", script, (char *)NULL, envp);
		_exit(127);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		kr_buf_printf(why, "cannot start /bin/sh: %s", strerror(errno));
		goto out;
	}
	setpgid(pid, pid);
	if (tty >= 0)
		tcsetpgrp(tty, pid);
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;

	deadline = now_ms() + (long long)timeout * 1000;
	open_fds = 2;
	while (open_fds > 0) {
		struct pollfd pf[2];
		int np = 0, left = (int)(deadline - now_ms()), r;

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		if (outp[0] >= 0)
			pf[np++] = (struct pollfd){ .fd = outp[0], .events = POLLIN };
		if (errp[0] >= 0)
			pf[np++] = (struct pollfd){ .fd = errp[0], .events = POLLIN };
		r = poll(pf, (nfds_t)np, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		for (i = 0; i < (size_t)np; i++) {
			char chunk[4096];
			ssize_t n;
			int *fd;
			struct kr_buf *dst;

			if (!pf[i].revents)
				continue;
			fd = pf[i].fd == outp[0] ? &outp[0] : &errp[0];
			dst = fd == &outp[0] ? out : &errb;
			n = read(*fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(*fd);
				*fd = -1;
				open_fds--;
				continue;
			}
			if (kr_buf_put(dst, chunk, (size_t)n) < 0 && dst == out) {
				too_big = 1;
				open_fds = 0;
			}
			wipe(chunk, sizeof(chunk));
		}
	}
	/* Wait for the exit, still bounded by the deadline. */
	while (!timed_out && !too_big) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			kr_buf_printf(why, "cannot wait for /bin/sh: %s",
				strerror(errno));
			goto out;
		}
		if (now_ms() >= deadline) {
			timed_out = 1;
			break;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 5 * 1000000 }, NULL);
	}
	if (timed_out || too_big) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		pid = -1;
		if (timed_out) {
			kr_buf_printf(why, "timed out after %d s (process group killed)",
				timeout);
			err = KR_ETIMEOUT;
		} else {
			kr_buf_printf(why, "output is larger than %u bytes",
				MAX_OUTPUT);
		}
		goto out;
	}
	pid = -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		err = 0;
		goto out;
	}
	if (WIFSIGNALED(status))
		kr_buf_printf(why, "killed by signal %d", WTERMSIG(status));
	else
		kr_buf_printf(why, "exited with status %d", WEXITSTATUS(status));
	{
		size_t e = 0;

		while (e < errb.len && errb.ptr[e] != '\n')
			e++;
		if (e > 0) {
			kr_buf_puts(why, ": ");
			kr_buf_put(why, errb.ptr, e);
		}
	}
out:
	if (outp[0] >= 0)
		close(outp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (errp[0] >= 0)
		close(errp[0]);
	if (errp[1] >= 0)
		close(errp[1]);
	if (pid > 0) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (tty >= 0) {
		/* Take the terminal back; SIGTTOU would stop us otherwise. */
		sigemptyset(&all);
		sigaddset(&all, SIGTTOU);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		tcsetpgrp(tty, getpgrp());
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	buf_wipe_release(&errb);
	if (cmdvar)
		kr_free_secret(cmdvar);
	free(envp);
	if (err < 0 && out->len) {
		wipe(out->ptr, out->len);
		kr_buf_reset(out);
	}
	return err;
}
