/*
 * A growable byte buffer with an optional size cap (git's strbuf with curl's
 * dynbuf limit). `ptr` is never NULL and always NUL-terminated; a buffer that
 * would grow past `max` refuses with KR_EINVAL, so remote output cannot grow
 * without bound.
 */
#ifndef KR_COMMON_BUF_H
#define KR_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct kr_buf {
	char *ptr;
	size_t len;
	size_t alloc;	/* 0 while ptr points at the shared empty string */
	size_t max;	/* 0 = unlimited */
};

#define KR_BUF_INIT { kr_buf__empty, 0, 0, 0 }
extern char kr_buf__empty[];

void kr_buf_init(struct kr_buf *b, size_t max);
void kr_buf_release(struct kr_buf *b);
void kr_buf_reset(struct kr_buf *b);
/* Take ownership of the contents (never NULL); the buffer is reset. */
char *kr_buf_detach(struct kr_buf *b, size_t *len_out);

int kr_buf_put(struct kr_buf *b, const void *data, size_t len);
int kr_buf_puts(struct kr_buf *b, const char *s);
int kr_buf_putc(struct kr_buf *b, char c);
int kr_buf_printf(struct kr_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int kr_buf_vprintf(struct kr_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Shorten to len bytes (len <= b->len). */
void kr_buf_truncate(struct kr_buf *b, size_t len);

#endif
