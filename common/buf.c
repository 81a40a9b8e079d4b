/* The growable, capped byte buffer (see buf.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"

char kr_buf__empty[1];

void
kr_buf_init(struct kr_buf *b, size_t max)
{
	b->ptr = kr_buf__empty;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

void
kr_buf_release(struct kr_buf *b)
{
	if (b->alloc)
		free(b->ptr);
	kr_buf_init(b, b->max);
}

void
kr_buf_reset(struct kr_buf *b)
{
	kr_buf_truncate(b, 0);
}

char *
kr_buf_detach(struct kr_buf *b, size_t *len_out)
{
	char *p = b->alloc ? b->ptr : kr_xstrdup("");

	if (len_out)
		*len_out = b->len;
	kr_buf_init(b, b->max);
	return p;
}

static int
grow(struct kr_buf *b, size_t extra)
{
	size_t want, n;

	if (extra > (size_t)-1 - b->len - 1)
		goto toobig;
	want = b->len + extra + 1;
	if (b->max && want - 1 > b->max)
		goto toobig;
	if (want <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 64;
	while (n < want)
		n = n > ((size_t)-1) / 2 ? want : n * 2;
	if (b->alloc) {
		b->ptr = kr_xrealloc(b->ptr, n);
	} else {
		b->ptr = kr_xmalloc(n);
		b->ptr[0] = '\0';
	}
	b->alloc = n;
	return 0;
toobig:
	kr_error_set(KR_EINVAL, "output larger than %zu bytes", b->max);
	return KR_EINVAL;
}

int
kr_buf_put(struct kr_buf *b, const void *data, size_t len)
{
	int err;

	if (len == 0)
		return 0;
	if ((err = grow(b, len)) < 0)
		return err;
	memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int
kr_buf_puts(struct kr_buf *b, const char *s)
{
	return kr_buf_put(b, s, strlen(s));
}

int
kr_buf_putc(struct kr_buf *b, char c)
{
	return kr_buf_put(b, &c, 1);
}

int
kr_buf_vprintf(struct kr_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, err;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0) {
		kr_error_set(KR_EINVAL, "bad format string");
		return KR_EINVAL;
	}
	if ((err = grow(b, (size_t)n)) < 0)
		return err;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
kr_buf_printf(struct kr_buf *b, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = kr_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return err;
}

void
kr_buf_truncate(struct kr_buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	if (b->alloc)
		b->ptr[len] = '\0';
}
