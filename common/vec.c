/* Ordered string and key/value lists (see vec.h). */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/vec.h"

static void *
grow(void *v, size_t *alloc, size_t need, size_t elem)
{
	size_t n;

	if (need <= *alloc)
		return v;
	n = *alloc ? *alloc * 2 : 8;
	while (n < need)
		n *= 2;
	v = kr_xrealloc(v, n * elem);
	*alloc = n;
	return v;
}

void
kr_strvec_push_owned(struct kr_strvec *sv, char *s)
{
	sv->v = grow(sv->v, &sv->alloc, sv->n + 2, sizeof(*sv->v));
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void
kr_strvec_push(struct kr_strvec *sv, const char *s)
{
	kr_strvec_push_owned(sv, kr_xstrdup(s));
}

bool
kr_strvec_contains(const struct kr_strvec *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

void
kr_strvec_copy(struct kr_strvec *dst, const struct kr_strvec *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		kr_strvec_push(dst, src->v[i]);
}

void
kr_strvec_release(struct kr_strvec *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

void
kr_kvlist_append(struct kr_kvlist *kv, const char *key, const char *value)
{
	kv->v = grow(kv->v, &kv->alloc, kv->n + 1, sizeof(*kv->v));
	kv->v[kv->n].key = kr_xstrdup(key);
	kv->v[kv->n].value = value ? kr_xstrdup(value) : NULL;
	kv->n++;
}

void
kr_kvlist_set(struct kr_kvlist *kv, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < kv->n; i++) {
		if (strcmp(kv->v[i].key, key) == 0) {
			kr_free_secret(kv->v[i].value);
			kv->v[i].value = value ? kr_xstrdup(value) : NULL;
			return;
		}
	}
	kr_kvlist_append(kv, key, value);
}

const char *
kr_kvlist_get(const struct kr_kvlist *kv, const char *key)
{
	size_t i;

	for (i = 0; i < kv->n; i++)
		if (strcmp(kv->v[i].key, key) == 0)
			return kv->v[i].value;
	return NULL;
}

bool
kr_kvlist_del(struct kr_kvlist *kv, const char *key)
{
	size_t i;

	for (i = 0; i < kv->n; i++) {
		if (strcmp(kv->v[i].key, key) == 0) {
			free(kv->v[i].key);
			kr_free_secret(kv->v[i].value);
			memmove(&kv->v[i], &kv->v[i + 1],
				(kv->n - i - 1) * sizeof(*kv->v));
			kv->n--;
			return true;
		}
	}
	return false;
}

void
kr_kvlist_copy(struct kr_kvlist *dst, const struct kr_kvlist *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		kr_kvlist_set(dst, src->v[i].key, src->v[i].value);
}

void
kr_kvlist_release(struct kr_kvlist *kv)
{
	size_t i;

	for (i = 0; i < kv->n; i++) {
		free(kv->v[i].key);
		kr_free_secret(kv->v[i].value);
	}
	free(kv->v);
	memset(kv, 0, sizeof(*kv));
}

void
kr_free_secret(char *s)
{
	volatile char *p = s;

	if (!s)
		return;
	while (*p)
		*p++ = '\0';
	free(s);
}
