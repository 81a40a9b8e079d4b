/*
 * Env file bytes as Kamal writes them (Kamal::EnvFile in
 * lib/kamal/env_file.rb): the value is split into runs of ASCII and non-ASCII
 * characters; non-ASCII runs are kept as they are, each ASCII run goes through
 * Ruby's String#dump with the surrounding quotes removed, then every `\"`
 * becomes `"` and every
 * `\#` becomes `#` (two textual substitutions on the dumped run, in that order,
 * exactly as Kamal's gsub calls do).
 *
 * String#dump on ASCII (Ruby's rb_str_dump): `"` and `\` get a backslash, `#`
 * gets one when followed by `$`, `@` or `{`, \n \r \t \f \v \b \a and ESC are
 * written as \n \r \t \f \v \b \a \e, other bytes outside 0x20..0x7E as \xNN
 * (upper-case hex), everything else as is.
 *
 * Kamal's scan raises on a value that is not valid UTF-8 (Ruby refuses to run
 * a regexp over a broken string), so no env file exists for such a value:
 * kr_envfile_escape refuses it too rather than invent bytes.
 */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/quote.h"
#include "state/envfile.h"

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Copy s to out, dropping every backslash that directly precedes `c`. */
static int
unescape_one(struct kr_buf *out, const char *s, size_t n, char c)
{
	size_t i;
	int err = 0;

	for (i = 0; i < n && err == 0; i++) {
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == c)
			continue;
		err = kr_buf_putc(out, s[i]);
	}
	return err;
}

/*
 * One ASCII run: dump, then gsub(/\\"/, '"'), then gsub(/\\#/, '#'). The
 * substitutions are textual, so a value holding a backslash before `#`
 * loses one of its two dumped backslashes, as it does in Kamal.
 */
static int
escape_ascii(struct kr_buf *out, const char *s, size_t n)
{
	struct kr_buf a = KR_BUF_INIT, b = KR_BUF_INIT;
	int err;

	if ((err = kr_ruby_dump_ascii(&a, s, n)) < 0)
		goto out;
	if ((err = unescape_one(&b, a.ptr, a.len, '"')) < 0)
		goto out;
	kr_buf_reset(&a);
	if ((err = unescape_one(&a, b.ptr, b.len, '#')) < 0)
		goto out;
	err = kr_buf_put(out, a.ptr, a.len);
out:
	/* These hold secret bytes. */
	memset(a.ptr, 0, a.len);
	memset(b.ptr, 0, b.len);
	kr_buf_release(&a);
	kr_buf_release(&b);
	return err;
}

int
kr_envfile_escape(struct kr_buf *out, const char *value)
{
	const unsigned char *s = (const unsigned char *)value;
	size_t n = strlen(value), i = 0, j, len;
	size_t start = out->len;
	int err = 0;

	/* Ruby checks the whole string before the scan starts. */
	for (j = 0; j < n; j += len) {
		if ((len = utf8_len(s + j, n - j)) == 0) {
			kr_error_set(KR_EINVAL,
				"value is not valid UTF-8 (byte %zu); Kamal "
				"cannot write it to an env file either",
				j + 1);
			return KR_EINVAL;
		}
	}
	while (i < n && err == 0) {
		j = i;
		if (s[i] < 0x80) {
			while (j < n && s[j] < 0x80)
				j++;
			err = escape_ascii(out, value + i, j - i);
		} else {
			while (j < n && s[j] >= 0x80)
				j++;
			err = kr_buf_put(out, value + i, j - i);
		}
		i = j;
	}
	if (err < 0) {
		memset(out->ptr + start, 0, out->len - start);
		kr_buf_truncate(out, start);
	}
	return err;
}

int
kr_envfile_render(struct kr_buf *out, const struct kr_kvlist *secrets)
{
	size_t start = out->len, i;
	int err = 0;

	for (i = 0; i < secrets->n && err == 0; i++) {
		const struct kr_kv *kv = &secrets->v[i];

		if ((err = kr_buf_puts(out, kv->key)) < 0 ||
			(err = kr_buf_putc(out, '=')) < 0)
			break;
		if ((err = kr_envfile_escape(out, kv->value ? kv->value : "")) <
			0) {
			char why[256];

			snprintf(why, sizeof(why), "%s", kr_error_last());
			kr_error_set(err, "secret '%s': %s", kv->key, why);
			break;
		}
		err = kr_buf_putc(out, '\n');
	}
	if (err == 0 && secrets->n == 0)
		err = kr_buf_putc(out, '\n');
	if (err < 0) {
		memset(out->ptr + start, 0, out->len - start);
		kr_buf_truncate(out, start);
	}
	return err;
}
