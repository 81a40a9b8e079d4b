/*
 * Masking of the run's secret values in what apply hands back: the
 * output of each step (a failed container's log tail, docker's stderr)
 * and the hosts' error messages, before they are journaled or reach the
 * caller's progress callback. A value of 4 bytes or more is masked
 * wherever it appears; a shorter one only as a whole word, so a short
 * secret does not turn every message into noise.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "reconciler/apply_int.h"
#include "state/desired.h"

#define MASK_SHORT 4

static void
add_value(struct kr_strvec *out, const char *v)
{
	if (v && *v && !kr_strvec_contains(out, v))
		kr_strvec_push(out, v);
}

static int
longest_first(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

void
kr_apply_mask_collect(struct kr_strvec *out, const struct kr_desired *d)
{
	size_t i, j, k;

	add_value(out, d->registry.password);
	for (i = 0; i < d->nhosts; i++) {
		const struct kr_host *h = &d->hosts[i];

		for (j = 0; j < h->napps; j++)
			for (k = 0; k < h->apps[j].env_file.secrets.n; k++)
				add_value(out,
					h->apps[j].env_file.secrets.v[k].value);
		for (j = 0; j < h->naccessories; j++)
			for (k = 0; k < h->accessories[j].env_file.secrets.n;
				k++)
				add_value(out, h->accessories[j]
						       .env_file.secrets.v[k]
						       .value);
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), longest_first);
}

static bool
word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* The first occurrence of v in s that counts (see the top). */
static const char *
find(const char *s, const char *start, const char *v, size_t n)
{
	const char *p = start;

	while ((p = strstr(p, v))) {
		if (n >= MASK_SHORT ||
			((p == s || !word_char(p[-1])) && !word_char(p[n])))
			return p;
		p++;
	}
	return NULL;
}

void
kr_apply_mask(const struct kr_strvec *secrets, char **text)
{
	size_t i;

	if (!*text)
		return;
	for (i = 0; i < secrets->n; i++) {
		const char *v = secrets->v[i], *p, *from;
		size_t n = strlen(v);
		struct kr_buf b = KR_BUF_INIT;

		if (!(p = find(*text, *text, v, n)))
			continue;
		from = *text;
		do {
			kr_buf_put(&b, from, (size_t)(p - from));
			kr_buf_puts(&b, KR_SENSITIVE);
			from = p + n;
		} while ((p = find(*text, from, v, n)));
		kr_buf_puts(&b, from);
		kr_free_secret(*text);
		*text = kr_buf_detach(&b, NULL);
	}
}

void
kr_apply_mask_release(struct kr_strvec *secrets)
{
	for (size_t i = 0; i < secrets->n; i++)
		kr_free_secret(secrets->v[i]);
	free(secrets->v);
	memset(secrets, 0, sizeof(*secrets));
}
