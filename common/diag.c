/* The diagnostics list (see diag.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/error.h"

void
kr_diags_add(struct kr_diags *d, const char *file, int line, int col,
	const char *fmt, ...)
{
	struct kr_buf b = KR_BUF_INIT;
	struct kr_diag *x;
	va_list ap;

	if (d->n == d->alloc) {
		d->alloc = d->alloc ? d->alloc * 2 : 8;
		d->v = kr_xrealloc(d->v, d->alloc * sizeof(*d->v));
	}
	va_start(ap, fmt);
	kr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	x = &d->v[d->n++];
	x->file = kr_xstrdup(file ? file : "");
	x->line = line;
	x->col = col;
	x->msg = kr_buf_detach(&b, NULL);
}

static int
cmp(const void *a, const void *b)
{
	const struct kr_diag *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return 0;
}

void
kr_diags_sort(struct kr_diags *d)
{
	/* Insertion sort keeps equal elements in order; lists are short. */
	size_t i, j;

	for (i = 1; i < d->n; i++) {
		struct kr_diag t = d->v[i];

		for (j = i; j > 0 && cmp(&d->v[j - 1], &t) > 0; j--)
			d->v[j] = d->v[j - 1];
		d->v[j] = t;
	}
}

char *
kr_diag_format(const struct kr_diag *d)
{
	struct kr_buf b = KR_BUF_INIT;

	if (d->file[0])
		kr_buf_printf(&b, "%s:", d->file);
	if (d->line > 0) {
		kr_buf_printf(&b, "%d:", d->line);
		if (d->col > 0)
			kr_buf_printf(&b, "%d:", d->col);
	}
	if (b.len)
		kr_buf_putc(&b, ' ');
	kr_buf_puts(&b, d->msg);
	return kr_buf_detach(&b, NULL);
}

void
kr_diags_release(struct kr_diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}
