/*
 * The observed model's lifecycle and lookups (see observed.h): releasing a
 * host, finding a container or file, recording a host that could not be
 * read, and the canonical order that fingerprints and JSON rely on.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "state/desired.h"
#include "state/observed.h"

void
kr_obs_container_release(struct kr_obs_container *c)
{
	size_t i;

	if (!c)
		return;
	free(c->id);
	free(c->name);
	free(c->image);
	free(c->image_id);
	kr_strvec_release(&c->repo_digests);
	kr_kvlist_release(&c->labels);
	kr_kvlist_release(&c->env);
	free(c->cmd);
	for (i = 0; i < c->nmounts; i++) {
		free(c->mounts[i].type);
		free(c->mounts[i].source);
		free(c->mounts[i].destination);
		free(c->mounts[i].mode);
	}
	free(c->mounts);
	kr_strvec_release(&c->ports);
	kr_strvec_release(&c->networks);
	free(c->restart);
	free(c->log_driver);
	kr_kvlist_release(&c->log_opts);
	kr_kvlist_release(&c->run_opts);
	free(c->state);
	free(c->health);
	memset(c, 0, sizeof(*c));
}

void
kr_obs_file_release(struct kr_obs_file *f)
{
	if (!f)
		return;
	free(f->path);
	free(f->mode);
	kr_strvec_release(&f->keys);
	memset(f, 0, sizeof(*f));
}

void
kr_observed_host_release(struct kr_observed_host *h)
{
	size_t i;

	if (!h)
		return;
	free(h->name);
	free(h->error);
	free(h->docker_version);
	kr_strvec_release(&h->networks);
	for (i = 0; i < h->ncontainers; i++)
		kr_obs_container_release(&h->containers[i]);
	free(h->containers);
	for (i = 0; i < h->nfiles; i++)
		kr_obs_file_release(&h->files[i]);
	free(h->files);
	free(h->lock.details);
	kr_obs_proxy_release(&h->proxy);
	memset(h, 0, sizeof(*h));
}

const struct kr_obs_container *
kr_observed_container(const struct kr_observed_host *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->ncontainers; i++)
		if (h->containers[i].name &&
			strcmp(h->containers[i].name, name) == 0)
			return &h->containers[i];
	return NULL;
}

const struct kr_obs_file *
kr_observed_file(const struct kr_observed_host *h, const char *path)
{
	size_t i;

	for (i = 0; i < h->nfiles; i++)
		if (h->files[i].path && strcmp(h->files[i].path, path) == 0)
			return &h->files[i];
	return NULL;
}

void
kr_observed_host_set_failure(struct kr_observed_host *h, const char *name,
	enum kr_obs_status status, const char *error)
{
	kr_observed_host_release(h);
	h->name = kr_xstrdup(name ? name : "");
	h->status = status;
	h->error =
		kr_xstrdup(error && *error ? error : "failed without a reason");
	h->observed_at = time(NULL);
}

const char *
kr_obs_status_name(enum kr_obs_status s)
{
	switch (s) {
	case KR_OBS_OK:
		return "ok";
	case KR_OBS_UNREACHABLE:
		return "unreachable";
	case KR_OBS_NO_DOCKER:
		return "no_docker";
	case KR_OBS_FAILED:
		return "failed";
	}
	return "failed";
}

static const char *
nz(const char *s)
{
	return s ? s : "";
}

static int
cmp_container(const void *a, const void *b)
{
	const struct kr_obs_container *x = a, *y = b;
	int c = strcmp(nz(x->name), nz(y->name));

	return c ? c : strcmp(nz(x->id), nz(y->id));
}

static int
cmp_file(const void *a, const void *b)
{
	const struct kr_obs_file *x = a, *y = b;

	return strcmp(nz(x->path), nz(y->path));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
kr_observed_host_sort(struct kr_observed_host *h)
{
	size_t i;

	if (h->ncontainers > 1)
		qsort(h->containers, h->ncontainers, sizeof(*h->containers),
			cmp_container);
	if (h->nfiles > 1)
		qsort(h->files, h->nfiles, sizeof(*h->files), cmp_file);
	if (h->networks.n > 1)
		qsort(h->networks.v, h->networks.n, sizeof(char *), cmp_str);
	for (i = 0; i < h->ncontainers; i++) {
		struct kr_obs_container *c = &h->containers[i];

		if (c->ports.n > 1)
			qsort(c->ports.v, c->ports.n, sizeof(char *), cmp_str);
		if (c->networks.n > 1)
			qsort(c->networks.v, c->networks.n, sizeof(char *),
				cmp_str);
		if (c->repo_digests.n > 1)
			qsort(c->repo_digests.v, c->repo_digests.n,
				sizeof(char *), cmp_str);
	}
}

const char *
kr_obs_app_version(const struct kr_obs_container *c, const char *service,
	const char *role, const char *dest)
{
	const char *n = c->name ? c->name : "", *v, *colon, *slash;
	size_t ls = strlen(service), lr = strlen(role);
	size_t ld = dest && *dest ? strlen(dest) + 1 : 0;

	/* "<service>-<role>[-<dest>]-<version>" */
	if (strncmp(n, service, ls) == 0 && n[ls] == '-' &&
		strncmp(n + ls + 1, role, lr) == 0 &&
		(!ld || (n[ls + 1 + lr] == '-' &&
				strncmp(n + ls + 2 + lr, dest, ld - 1) == 0)) &&
		n[ls + 1 + lr + ld] == '-' && n[ls + 2 + lr + ld])
		return n + ls + 2 + lr + ld;
	if ((v = kr_kvlist_get(&c->env, "KAMAL_VERSION")) && *v &&
		strcmp(v, KR_SENSITIVE) != 0)
		return v;
	if (!c->image)
		return NULL;
	colon = strrchr(c->image, ':');
	slash = strrchr(c->image, '/');
	if (colon && (!slash || colon > slash) && colon[1])
		return colon + 1;
	return NULL;
}
