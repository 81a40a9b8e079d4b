/*
 * What the observe script looks at (see docker.h): the Kamal paths of a
 * service's env directory and deploy lock, and the scope built from the
 * desired model (every accessory with its data directories, the host's env
 * files, the secret key names to mask).
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "drivers/docker.h"
#include "state/desired.h"

char *
kr_docker_env_dir(const char *service, const char *destination)
{
	if (destination && *destination)
		return kr_xasprintf(
			".kamal/apps/%s-%s/env", service, destination);
	return kr_xasprintf(".kamal/apps/%s/env", service);
}

char *
kr_docker_lock_dir(const char *service, const char *destination)
{
	if (destination && *destination)
		return kr_xasprintf(".kamal/lock-%s-%s", service, destination);
	return kr_xasprintf(".kamal/lock-%s", service);
}

static void
add_secret_keys(struct kr_strvec *keys, const struct kr_env_file *f)
{
	size_t i;

	for (i = 0; i < f->secrets.n; i++)
		if (!kr_strvec_contains(keys, f->secrets.v[i].key))
			kr_strvec_push(keys, f->secrets.v[i].key);
}

void
kr_docker_scope_from_desired(struct kr_docker_scope_buf *out,
	const struct kr_desired *d, const struct kr_host *h)
{
	size_t i, j, k, n = 0, max = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < d->nhosts; i++)
		max += d->hosts[i].naccessories + d->hosts[i].napps;
	out->clear = kr_xcalloc(max ? max : 1, sizeof(*out->clear));
	for (i = 0; i < d->nhosts; i++) {
		const struct kr_host *dh = &d->hosts[i];

		for (j = 0; j < dh->napps; j++)
			out->clear[out->scope.nclear++] =
				(struct kr_docker_clear){
					.role = dh->apps[j].role,
					.env = &dh->apps[j].env,
				};
		for (j = 0; j < dh->naccessories; j++)
			out->clear[out->scope.nclear++] =
				(struct kr_docker_clear){
					.container =
						dh->accessories[j].container,
					.env = &dh->accessories[j].env,
				};
	}
	out->accessories = kr_xcalloc(max ? max : 1, sizeof(*out->accessories));
	out->data_dirs = kr_xcalloc(max ? max : 1, sizeof(*out->data_dirs));
	for (i = 0; i < d->nhosts; i++) {
		const struct kr_host *dh = &d->hosts[i];

		for (j = 0; j < dh->napps; j++)
			add_secret_keys(
				&out->sensitive_keys, &dh->apps[j].env_file);
		for (j = 0; j < dh->naccessories; j++) {
			const struct kr_accessory *a = &dh->accessories[j];

			add_secret_keys(&out->sensitive_keys, &a->env_file);
			for (k = 0; k < n; k++)
				if (strcmp(out->accessories[k].name, a->name) ==
					0)
					break;
			if (k < n)
				continue;
			for (k = 0; k < a->directories.n; k++) {
				const char *dir = a->directories.v[k];
				const char *colon = strchr(dir, ':');

				kr_strvec_push_owned(&out->data_dirs[n],
					colon ? kr_xstrndup(dir,
							(size_t)(colon - dir)) :
						kr_xstrdup(dir));
			}
			out->accessories[n].name = a->name;
			out->accessories[n].container = a->container;
			out->accessories[n].data_dirs = &out->data_dirs[n];
			n++;
		}
	}
	for (i = 0; h && i < h->napps; i++)
		if (h->apps[i].env_file.path)
			kr_strvec_push(
				&out->env_files, h->apps[i].env_file.path);
	for (i = 0; h && i < h->naccessories; i++)
		if (h->accessories[i].env_file.path)
			kr_strvec_push(&out->env_files,
				h->accessories[i].env_file.path);
	out->scope.service = d->service;
	out->scope.destination = d->destination;
	out->scope.accessories = out->accessories;
	out->scope.naccessories = n;
	out->scope.env_files = &out->env_files;
	out->scope.sensitive_keys = &out->sensitive_keys;
	out->scope.clear = out->clear;
}

void
kr_docker_scope_buf_release(struct kr_docker_scope_buf *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->scope.naccessories; i++)
		kr_strvec_release(&b->data_dirs[i]);
	free(b->data_dirs);
	free(b->accessories);
	kr_strvec_release(&b->env_files);
	kr_strvec_release(&b->sensitive_keys);
	free(b->clear);
	memset(b, 0, sizeof(*b));
}
