/*
 * One secrets value, as Dotenv::Parser#parse_value makes it: stripped; if it
 * starts and ends with the same quote, unquoted; in double quotes `\n` and
 * `\r` are kept as backslash sequences (dotenv 3's default; they become a
 * newline and a carriage return when DOTENV_LINEBREAK_MODE=legacy is set
 * earlier in the file or in the environment); unless single-quoted, a
 * backslash before any character but `$` is dropped, then $(command)
 * substitutions run (secrets_subst.c), then $VAR / ${VAR} substitutions
 * (earlier key of the same file, else the process environment, else empty;
 * `\$` escapes).
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/secrets_int.h"

static int
is_name(char c)
{
	return kr_dotenv_is_key(c) && c != '.';
}

/*
 * Dotenv::Substitutions::Variable: (\\)?\$(?!\()\{?([A-Z0-9_]+)?\}? case-
 * insensitively; the value of an earlier key, else the environment, else
 * "". Values looked up are recorded in `used` when it is set.
 */
int
kr_secrets_subst_variables(struct kr_secrets_parser *p, struct kr_buf *out,
	const char *v, size_t n, struct kr_strvec *used)
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

/* Dotenv::Parser#parse_value. `pos` locates the value for diagnostics. */
int
kr_secrets_parse_value(struct kr_secrets_parser *p, struct kr_buf *out,
	const char *raw, size_t n, const char *key, size_t pos)
{
	struct kr_buf a = KR_BUF_INIT, b = KR_BUF_INIT;
	const char *mode;
	char q = 0;
	size_t i;
	int err = 0, legacy = 0;

	a.max = b.max = MAX_VALUE;
	while (n && kr_dotenv_is_space(*raw)) {
		raw++;
		n--;
		pos++;
	}
	while (n && kr_dotenv_is_space(raw[n - 1]))
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
	if ((err = kr_secrets_subst_commands(p, &a, b.ptr, b.len, key, pos)) <
		0)
		goto out;
	err = kr_secrets_subst_variables(p, out, a.ptr, a.len, NULL);
out:
	kr_secrets_buf_wipe_release(&a);
	kr_secrets_buf_wipe_release(&b);
	return err;
}
