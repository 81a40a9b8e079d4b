/*
 * Test fixtures for the diff, defhash and plan tests: build a desired model
 * and observed hosts in C, the way the config resolver and the Docker
 * driver would fill them (these tests do not depend on those modules), and
 * free them again with the models' own kr_desired_free and
 * kr_observed_host_release. Header-only; included by test_diff.c and
 * friends.
 */
#ifndef KR_TESTS_DIFF_FIXTURE_H
#define KR_TESTS_DIFF_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/hash.h"
#include "reconciler/defhash.h"
#include "state/desired.h"
#include "state/observed.h"

#define FX_IMAGE "ghcr.io/acme/app"
#define FX_V1 "1a2b3c4d5e6f708192a3b4c5d6e7f80912345678"
#define FX_V2 "3f4e5d6c7b8a99887766554433221100ffeeddcc"
#define FX_NOW ((time_t)1800000000)

/* ----------------------------------------------------------- desired */

static inline void
fx_env_file(struct kr_env_file *ef, const char *path, const char *const *kv)
{
	struct kr_buf b = KR_BUF_INIT;

	ef->path = kr_xstrdup(path);
	for (; kv && kv[0]; kv += 2) {
		kr_kvlist_set(&ef->secrets, kv[0], kv[1]);
		kr_buf_printf(&b, "%s=%s\n", kv[0], kv[1]);
	}
	if (!b.len)
		kr_buf_putc(&b, '\n');
	kr_sha256_hex(ef->sha256, b.ptr, b.len);
	ef->content = kr_buf_detach(&b, NULL);
}

static inline struct kr_desired *
fx_desired(const char *version)
{
	struct kr_desired *d = kr_xcalloc(1, sizeof(*d));

	d->service = kr_xstrdup("app");
	d->image = kr_xstrdup(FX_IMAGE);
	d->version = kr_xstrdup(version);
	d->registry.server = kr_xstrdup("ghcr.io");
	d->registry.username = kr_xstrdup("acme");
	d->registry.password = kr_xstrdup("registry-password-secret");
	d->primary_role = kr_xstrdup("web");
	kr_sha256_hex(d->config_sha256, "deploy.yml", 10);
	return d;
}

static inline struct kr_host *
fx_host(struct kr_desired *d, const char *name)
{
	struct kr_host *h;

	d->hosts = kr_xrealloc(d->hosts, (d->nhosts + 1) * sizeof(*d->hosts));
	h = &d->hosts[d->nhosts++];
	memset(h, 0, sizeof(*h));
	h->name = kr_xstrdup(name);
	h->user = kr_xstrdup("root");
	h->port = 22;
	return h;
}

/* An app of `role` at the model's version; kv: secret KEY, value pairs. */
static inline struct kr_app *
fx_app(struct kr_desired *d, struct kr_host *h, const char *role,
	const char *const *secrets)
{
	struct kr_app *a;
	char *path;

	h->apps = kr_xrealloc(h->apps, (h->napps + 1) * sizeof(*h->apps));
	a = &h->apps[h->napps++];
	memset(a, 0, sizeof(*a));
	kr_strvec_push(&h->roles, role);
	a->role = kr_xstrdup(role);
	a->version = kr_xstrdup(d->version);
	a->name = kr_xasprintf("%s-%s-%s", d->service, role, d->version);
	a->image = kr_xasprintf("%s:%s", d->image, d->version);
	kr_kvlist_append(&a->labels, "service", d->service);
	kr_kvlist_append(&a->labels, "role", role);
	kr_kvlist_append(&a->labels, "destination", "");
	kr_kvlist_append(&a->env, "RAILS_ENV", "production");
	kr_kvlist_append(&a->env, "KAMAL_CONTAINER_NAME", a->name);
	kr_kvlist_append(&a->env, "KAMAL_VERSION", d->version);
	path = kr_xasprintf(
		".kamal/apps/%s/env/roles/%s.env", d->service, role);
	fx_env_file(&a->env_file, path, secrets);
	free(path);
	kr_strvec_push(&a->volumes, "/data/storage:/rails/storage");
	a->network = kr_xstrdup("kamal");
	a->restart = kr_xstrdup("unless-stopped");
	kr_kvlist_append(&a->logging.options, "max-size", "10m");
	a->proxy = strcmp(role, "web") == 0;
	/* the resolver's "unset" values: Kamal's and kamal-proxy's defaults */
	a->proxy_config.app_port = 80;
	a->proxy_config.strip_path_prefix = a->proxy_config.forward_headers =
		-1;
	a->proxy_config.ssl_redirect = -1;
	a->proxy_config.buffer_requests = a->proxy_config.buffer_responses = -1;
	a->proxy_config.buffer_memory = a->proxy_config.max_request_body = -1;
	a->proxy_config.max_response_body = -1;
	return a;
}

static inline void
fx_app_set_cmd(struct kr_app *a, const char *cmd)
{
	free(a->cmd);
	a->cmd = cmd ? kr_xstrdup(cmd) : NULL;
}

static inline struct kr_accessory *
fx_accessory(struct kr_desired *d, struct kr_host *h, const char *name,
	const char *image, const char *const *secrets)
{
	struct kr_accessory *acc;
	char *path;

	h->accessories = kr_xrealloc(h->accessories,
		(h->naccessories + 1) * sizeof(*h->accessories));
	acc = &h->accessories[h->naccessories++];
	memset(acc, 0, sizeof(*acc));
	acc->name = kr_xstrdup(name);
	acc->container = kr_xasprintf("%s-%s", d->service, name);
	acc->image = kr_xstrdup(image);
	kr_strvec_push(&acc->ports, "127.0.0.1:5432:5432");
	kr_kvlist_append(&acc->labels, "service", acc->container);
	kr_kvlist_append(&acc->env, "POSTGRES_USER", "app");
	path = kr_xasprintf(
		".kamal/apps/%s/env/accessories/%s.env", d->service, name);
	fx_env_file(&acc->env_file, path, secrets);
	free(path);
	path = kr_xasprintf("%s:/var/lib/postgresql/data", "app-db/data");
	kr_strvec_push_owned(&acc->directories, path);
	acc->network = kr_xstrdup("kamal");
	acc->restart = kr_xstrdup("unless-stopped");
	return acc;
}

static inline void
fx_env_file_release(struct kr_env_file *ef)
{
	free(ef->path);
	kr_kvlist_release(&ef->secrets);
	kr_free_secret(ef->content);
}

/* The model is the library's: state/desired.c releases it. */
static inline void
fx_desired_free(struct kr_desired *d)
{
	kr_desired_free(d);
}

/* ---------------------------------------------------------- observed */

static inline struct kr_observed_host *
fx_observed(size_t n)
{
	return kr_xcalloc(n ? n : 1, sizeof(struct kr_observed_host));
}

static inline void
fx_obs_init(struct kr_observed_host *oh, const char *name)
{
	memset(oh, 0, sizeof(*oh));
	oh->name = kr_xstrdup(name);
	oh->status = KR_OBS_OK;
	oh->docker_version = kr_xstrdup("27.3.1");
	kr_strvec_push(&oh->networks, "bridge");
	kr_strvec_push(&oh->networks, "kamal");
	oh->observed_at = FX_NOW;
	kr_sha256_hex(oh->fingerprint, name, strlen(name));
}

static inline struct kr_obs_container *
fx_obs_container(struct kr_observed_host *oh)
{
	struct kr_obs_container *c;

	oh->containers = kr_xrealloc(oh->containers,
		(oh->ncontainers + 1) * sizeof(*oh->containers));
	c = &oh->containers[oh->ncontainers++];
	memset(c, 0, sizeof(*c));
	return c;
}

static inline struct kr_obs_file *
fx_obs_file(struct kr_observed_host *oh, const char *path, const char *sha256,
	const struct kr_kvlist *keys)
{
	struct kr_obs_file *f;
	size_t i;

	oh->files =
		kr_xrealloc(oh->files, (oh->nfiles + 1) * sizeof(*oh->files));
	f = &oh->files[oh->nfiles++];
	memset(f, 0, sizeof(*f));
	f->path = kr_xstrdup(path);
	strcpy(f->sha256, sha256 ? sha256 : "");
	f->mode = kr_xstrdup("600");
	for (i = 0; keys && i < keys->n; i++)
		kr_strvec_push(&f->keys, keys->v[i].key);
	f->is_env = keys != NULL;
	f->is_dir = sha256 == NULL;
	return f;
}

static inline void
fx_obs_mount(struct kr_obs_container *c, const char *type, const char *src,
	const char *dst, bool rw)
{
	struct kr_obs_mount *m;

	c->mounts =
		kr_xrealloc(c->mounts, (c->nmounts + 1) * sizeof(*c->mounts));
	m = &c->mounts[c->nmounts++];
	memset(m, 0, sizeof(*m));
	m->type = kr_xstrdup(type);
	m->source = kr_xstrdup(src);
	m->destination = kr_xstrdup(dst);
	m->mode = kr_xstrdup(rw ? "" : "ro");
	m->rw = rw;
}

/* Kamal-like docker inspect view of what `a` defines, plus what the image
 * adds (PATH, an anonymous volume); labelled with the defhash if asked. */
/* kamal-proxy v0.9.2 running, routing `route` to target ("id:port") with
 * the options Kamal deploys by default. */
static inline void
fx_obs_proxy(struct kr_observed_host *oh, const char *route, const char *target)
{
	struct kr_obs_container *c = fx_obs_container(oh);
	struct kr_obs_route *r;

	c->id = kr_xstrdup("proxyc0ffee");
	c->name = kr_xstrdup("kamal-proxy");
	c->image = kr_xstrdup("basecamp/kamal-proxy:v0.9.2");
	c->state = kr_xstrdup("running");
	kr_strvec_push(&c->networks, "kamal");
	oh->proxy.version = kr_xstrdup("v0.9.2");
	oh->proxy.running = true;
	oh->proxy.routes_known = true;
	if (!route)
		return;
	oh->proxy.routes = kr_xcalloc(1, sizeof(*oh->proxy.routes));
	oh->proxy.nroutes = 1;
	r = &oh->proxy.routes[0];
	r->service = kr_xstrdup(route);
	kr_strvec_push(&r->targets, target);
	kr_strvec_push(&r->path_prefixes, "/");
	r->tls_redirect = r->strip_prefix = r->forward_headers = true;
	r->buffer_requests = r->buffer_responses = true;
	r->buffer_memory = 1048576;
	r->health_check_path = kr_xstrdup("/up");
	r->health_check_interval_ms = 1000;
	r->health_check_timeout_ms = 5000;
	r->response_timeout_ms = 30000;
	kr_strvec_push(&r->log_request_headers, "Cache-Control");
	kr_strvec_push(&r->log_request_headers, "Last-Modified");
	kr_strvec_push(&r->log_request_headers, "User-Agent");
}

static inline struct kr_obs_container *
fx_obs_app(struct kr_observed_host *oh, const struct kr_app *a, bool defhash,
	time_t created)
{
	struct kr_obs_container *c = fx_obs_container(oh);
	char hash[KR_SHA256_HEX];
	size_t i;

	c->id = kr_xasprintf("id-%s", a->name);
	c->name = kr_xstrdup(a->name);
	c->image = kr_xstrdup(a->image);
	c->image_id = kr_xstrdup("sha256:0123");
	kr_kvlist_copy(&c->labels, &a->labels);
	kr_kvlist_append(&c->labels, "org.opencontainers.image.source",
		"https://github.com/acme/app");
	if (defhash) {
		kr_defhash_app(hash, a);
		kr_kvlist_append(&c->labels, KR_DEFHASH_LABEL, hash);
	}
	kr_kvlist_append(&c->env, "PATH", "/usr/local/bin:/usr/bin:/bin");
	kr_kvlist_copy(&c->env, &a->env);
	for (i = 0; i < a->env_file.secrets.n; i++)
		kr_kvlist_set(
			&c->env, a->env_file.secrets.v[i].key, KR_SENSITIVE);
	c->cmd = a->cmd ? kr_xstrdup(a->cmd) : kr_xstrdup("./bin/rails server");
	fx_obs_mount(c, "bind", "/data/storage", "/rails/storage", true);
	fx_obs_mount(c, "volume", "/var/lib/docker/volumes/0a1b2c3d4e5f/_data",
		"/tmp/cache", true);
	kr_strvec_push(&c->networks, a->network);
	c->restart = kr_xstrdup(a->restart);
	c->log_driver = kr_xstrdup("json-file");
	kr_kvlist_copy(&c->log_opts, &a->logging.options);
	c->state = kr_xstrdup("running");
	c->created = created;
	c->started = created + 1;
	return c;
}

static inline struct kr_obs_container *
fx_obs_accessory(struct kr_observed_host *oh, const struct kr_accessory *acc,
	bool defhash, time_t created)
{
	struct kr_obs_container *c = fx_obs_container(oh);
	char hash[KR_SHA256_HEX];
	size_t i;

	c->id = kr_xasprintf("id-%s", acc->container);
	c->name = kr_xstrdup(acc->container);
	c->image = kr_xstrdup(acc->image);
	kr_kvlist_copy(&c->labels, &acc->labels);
	if (defhash) {
		kr_defhash_accessory(hash, acc);
		kr_kvlist_append(&c->labels, KR_DEFHASH_LABEL, hash);
	}
	kr_kvlist_append(&c->env, "PGDATA", "/var/lib/postgresql/data");
	kr_kvlist_copy(&c->env, &acc->env);
	for (i = 0; i < acc->env_file.secrets.n; i++)
		kr_kvlist_set(
			&c->env, acc->env_file.secrets.v[i].key, KR_SENSITIVE);
	c->cmd = acc->cmd ? kr_xstrdup(acc->cmd) : kr_xstrdup("postgres");
	fx_obs_mount(c, "bind", "/root/app-db/data", "/var/lib/postgresql/data",
		true);
	kr_strvec_push(&c->ports, "127.0.0.1:5432:5432/tcp");
	kr_strvec_push(&c->networks, acc->network);
	c->restart = kr_xstrdup(acc->restart);
	c->log_driver = kr_xstrdup("json-file");
	c->state = kr_xstrdup("running");
	c->created = created;
	c->started = created + 1;
	return c;
}

/* The env file on the host exactly as desired. */
static inline struct kr_obs_file *
fx_obs_env(struct kr_observed_host *oh, const struct kr_env_file *ef)
{
	return fx_obs_file(oh, ef->path, ef->sha256, &ef->secrets);
}

/* The hosts are the library's: state/observed.c releases them. */
static inline void
fx_observed_free(struct kr_observed_host *hosts, size_t n)
{
	size_t i;

	for (i = 0; hosts && i < n; i++)
		kr_observed_host_release(&hosts[i]);
	free(hosts);
}

#endif
