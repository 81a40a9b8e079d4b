/*
 * POSIX single-quote quoting. Inside '...' every byte is literal except the
 * single quote itself, which is written as '\'' (close, escaped quote, open).
 * NUL cannot be passed through a shell word at all; strings stop at NUL.
 */
#include <string.h>

#include "common/quote.h"

int
kr_shell_quote(struct kr_buf *out, const char *s)
{
	int err;

	if ((err = kr_buf_putc(out, '\'')) < 0)
		return err;
	for (; *s; s++) {
		if (*s == '\'')
			err = kr_buf_puts(out, "'\\''");
		else
			err = kr_buf_putc(out, *s);
		if (err < 0)
			return err;
	}
	return kr_buf_putc(out, '\'');
}

int
kr_shell_arg(struct kr_buf *out, const char *s)
{
	int err;

	if ((err = kr_buf_putc(out, ' ')) < 0)
		return err;
	return kr_shell_quote(out, s);
}
