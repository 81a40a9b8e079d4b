/*
 * Reading the observed snapshot for the diff: which containers are this
 * service's apps and accessories (by Kamal's labels and names), which is
 * newest, what version an app container runs, and the host's files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reconciler/diff_int.h"

/* An app container of this service and destination (any role). */
bool
kr_diff_is_app(const struct dctx *dc, const struct kr_obs_container *oc)
{
	const char *dest = label(oc, "destination");

	return str_eq(label(oc, "service"), dc->d->service) &&
	       label(oc, "role") && str_eq(dest ? dest : "", dc->dest);
}

/* An accessory of this service: labelled service=<its own name>, no role. */
bool
kr_diff_is_accessory(const struct dctx *dc, const struct kr_obs_container *oc)
{
	const char *svc = label(oc, "service");
	size_t n = strlen(dc->d->service);

	if (!svc || label(oc, "role") || strcmp(svc, cname(oc)) != 0)
		return false;
	if (strcmp(cname(oc), "kamal-proxy") == 0)
		return false;
	return strncmp(svc, dc->d->service, n) == 0 && svc[n] == '-';
}

/* a is newer than b: created, then started, then name. */
bool
kr_diff_newer(
	const struct kr_obs_container *a, const struct kr_obs_container *b)
{
	if (a->created != b->created)
		return a->created > b->created;
	if (a->started != b->started)
		return a->started > b->started;
	return strcmp(cname(a), cname(b)) > 0;
}

/* The observed file at path (relative to home), or NULL. */
const struct kr_obs_file *
kr_diff_find_file(const struct kr_observed_host *oh, const char *path)
{
	size_t i;

	for (i = 0; path && i < oh->nfiles; i++)
		if (str_eq(oh->files[i].path, path))
			return &oh->files[i];
	return NULL;
}

const char *
kr_diff_mode_digits(const char *m)
{
	if (!m)
		return "";
	while (m[0] == '0' && m[1])
		m++;
	return m;
}

bool
kr_diff_ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

int
kr_diff_str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}
