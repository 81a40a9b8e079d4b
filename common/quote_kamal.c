/*
 * Clear env values on the command line as Kamal 2 passes them
 * (Kamal::Utils.escape_shell_value) and what a container gets from them.
 * A dedicated escaper beside kr_shell_quote: its output is text for a
 * POSIX shell, so it is tested with hostile input (tests/unit/test_quote.c)
 * against a real /bin/sh. Ruby's String#dump is here too, for the env
 * file bytes (state/envfile.c) and this escaper alike.
 *
 * Why it is safe: inside the double quotes String#dump leaves no bare `"`
 * or `\`, every backtick is escaped and every `$` too, except one starting
 * `${...}`, whose own text has the same escapes; so the shell may only
 * expand parameters. Bytes >= 0x80 are outside the quotes, where no byte
 * of that range means anything to sh.
 */
#include <string.h>

#include "common/quote.h"

int
kr_ruby_dump_ascii(struct kr_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;
	int err = 0;

	for (i = 0; i < n && err == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[5] = { '\\', 0, 0, 0, 0 };

		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '#':
			if (i + 1 < n && (s[i + 1] == '$' || s[i + 1] == '@' ||
						 s[i + 1] == '{'))
				esc[1] = '#';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\v':
			esc[1] = 'v';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\a':
			esc[1] = 'a';
			break;
		case 0x1b:
			esc[1] = 'e';
			break;
		default:
			if (c < 0x20 || c > 0x7e) {
				esc[1] = 'x';
				esc[2] = hex[c >> 4];
				esc[3] = hex[c & 0xf];
			}
			break;
		}
		if (esc[1])
			err = kr_buf_puts(out, esc);
		else
			err = kr_buf_putc(out, (char)c);
	}
	return err;
}

/* One ASCII run: "dump" with ` escaped and $ escaped unless ${...}. */
static int
kamal_ascii(struct kr_buf *out, const char *s, size_t n)
{
	struct kr_buf d = KR_BUF_INIT;
	size_t i;
	int err;

	if ((err = kr_buf_putc(&d, '"')) < 0 ||
		(err = kr_ruby_dump_ascii(&d, s, n)) < 0 ||
		(err = kr_buf_putc(&d, '"')) < 0)
		goto out;
	for (i = 0; i < d.len && err == 0; i++) {
		char c = d.ptr[i];

		if (c == '`')
			err = kr_buf_puts(out, "\\`");
		else if (c == '$' &&
			 !(i + 1 < d.len && d.ptr[i + 1] == '{' &&
				 memchr(d.ptr + i + 2, '}', d.len - i - 2)))
			err = kr_buf_puts(out, "\\$");
		else
			err = kr_buf_putc(out, c);
	}
out:
	memset(d.ptr, 0, d.len);
	kr_buf_release(&d);
	return err;
}

int
kr_shell_kamal_value(struct kr_buf *out, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, j, n = strlen(s);
	int err = 0;

	while (i < n && err == 0) {
		j = i;
		if (u[i] < 0x80) {
			while (j < n && u[j] < 0x80)
				j++;
			err = kamal_ascii(out, s + i, j - i);
		} else {
			while (j < n && u[j] >= 0x80)
				j++;
			err = kr_buf_put(out, s + i, j - i);
		}
		i = j;
	}
	return err;
}

/*
 * The end of the `${...}` starting at p[0] == '$' (index of its `}`),
 * nested unescaped `${` counted as the shell does; n when unclosed.
 */
static size_t
expansion_end(const char *p, size_t n)
{
	size_t i, depth = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\\' && i + 1 < n) {
			i++;
		} else if (p[i] == '$' && i + 1 < n && p[i + 1] == '{') {
			depth++;
			i++;
		} else if (p[i] == '}' && --depth == 0) {
			return i;
		}
	}
	return n;
}

int
kr_kamal_value_template(struct kr_buf *out, const char *s)
{
	struct kr_buf sh = KR_BUF_INIT;
	size_t i, e;
	bool quoted = false;
	int err;

	if ((err = kr_shell_kamal_value(&sh, s)) < 0)
		goto out;
	/* Read it back as sh does: quotes go, backslash escapes inside them
	 * drop their backslash, ${...} is marked, not expanded. */
	for (i = 0; i < sh.len && err == 0; i++) {
		char c = sh.ptr[i];

		if (c == '"') {
			quoted = !quoted;
		} else if (quoted && c == '\\' && i + 1 < sh.len &&
			   strchr("$`\"\\\n", sh.ptr[i + 1])) {
			err = kr_buf_putc(out, sh.ptr[++i]);
		} else if (quoted && c == '$' && i + 1 < sh.len &&
			   sh.ptr[i + 1] == '{') {
			e = expansion_end(sh.ptr + i, sh.len - i);
			if (i + e >= sh.len)
				e = sh.len - i - 1;
			if ((err = kr_buf_putc(out, KR_KAMAL_EXP_OPEN)) == 0 &&
				(err = kr_buf_put(out, sh.ptr + i, e + 1)) == 0)
				err = kr_buf_putc(out, KR_KAMAL_EXP_CLOSE);
			i += e;
		} else {
			err = kr_buf_putc(out, c);
		}
	}
out:
	memset(sh.ptr, 0, sh.len);
	kr_buf_release(&sh);
	return err;
}

int
kr_kamal_template_text(struct kr_buf *out, const char *tmpl)
{
	int err = 0;

	for (; *tmpl && err == 0; tmpl++)
		if (*tmpl != KR_KAMAL_EXP_OPEN && *tmpl != KR_KAMAL_EXP_CLOSE)
			err = kr_buf_putc(out, *tmpl);
	return err;
}

bool
kr_kamal_template_match(const char *t, const char *v)
{
	const char *star_t = NULL, *star_v = NULL;

	for (;;) {
		if (*t == KR_KAMAL_EXP_OPEN) {
			/* a wildcard: skip the expansion's text */
			while (*t && *t != KR_KAMAL_EXP_CLOSE)
				t++;
			if (*t)
				t++;
			star_t = t;
			star_v = v;
			continue;
		}
		if (*t && *t == *v) {
			t++;
			v++;
			continue;
		}
		if (!*t && !*v)
			return true;
		if (!star_t || !*star_v)
			return false;
		/* let the last wildcard take one more byte */
		t = star_t;
		v = ++star_v;
	}
}

/* Length of a Unicode space (Ruby's [[:space:]]) at s, 0 when none. */
static size_t
space_len(const unsigned char *s)
{
	if (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		return 1;
	if (s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
		return 2;
	if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
		return 3;
	if (s[0] == 0xe2 && s[1] == 0x80 &&
		((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 ||
			s[2] == 0xa9 || s[2] == 0xaf))
		return 3;
	if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)
		return 3;
	if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
		return 3;
	return 0;
}

bool
kr_kamal_blank(const char *s)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	size_t l;

	while (*u) {
		if ((l = space_len(u)) == 0)
			return false;
		u += l;
	}
	return true;
}
