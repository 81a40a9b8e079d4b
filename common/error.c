/*
 * The per-thread last error and the allocation wrappers. Out of memory is
 * not a recoverable condition for a command-line tool: we abort loudly.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

static _Thread_local char last_msg[2048];
static _Thread_local int last_code;

void
kr_error_set(int code, const char *fmt, ...)
{
	char tmp[sizeof(last_msg)];
	va_list ap;

	/* formatted aside first: the arguments may be kr_error_last() */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	memcpy(last_msg, tmp, sizeof(tmp));
	last_code = code;
}

const char *
kr_error_last(void)
{
	return last_msg;
}

int
kr_error_last_code(void)
{
	return last_code;
}

void
kr_error_clear(void)
{
	last_msg[0] = '\0';
	last_code = KR_OK;
}

static void
oom(size_t n)
{
	fprintf(stderr, "kreconcile: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
kr_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *
kr_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *
kr_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *
kr_xstrdup(const char *s)
{
	return kr_xstrndup(s, strlen(s));
}

char *
kr_xstrndup(const char *s, size_t n)
{
	char *p = kr_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
kr_xasprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	p = kr_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
