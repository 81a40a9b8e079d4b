/*
 * Diagnostics: a list of "FILE:LINE:COLUMN: message" problems, so that
 * validation reports every problem rather than only the first.
 */
#ifndef KR_COMMON_DIAG_H
#define KR_COMMON_DIAG_H

#include <stddef.h>

struct kr_diag {
	char *file;	/* as the user named it, e.g. "config/deploy.yml" */
	int line;	/* 1-based; 0 when not known */
	int col;	/* 1-based; 0 when not known */
	char *msg;	/* lowercase, no full stop, no secret values */
};

struct kr_diags {
	struct kr_diag *v;
	size_t n;
	size_t alloc;
};

void kr_diags_add(struct kr_diags *d, const char *file, int line, int col,
	const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Sort by file, line, column (stable). */
void kr_diags_sort(struct kr_diags *d);
/* "file:line:col: msg" (parts omitted when unknown); caller frees. */
char *kr_diag_format(const struct kr_diag *d);
void kr_diags_release(struct kr_diags *d);

#endif
