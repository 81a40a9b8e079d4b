/*
 * Releasing struct kr_config: one _release per part of the model, and
 * kr_config_free.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/config.h"
#include "state/config_int.h"

void
kr_cfg_host_release(struct kr_config_host *h)
{
	free(h->entry);
	free(h->host);
	free(h->user);
	kr_strvec_release(&h->tags);
	free(h->pos.file);
}

static void
env_release(struct kr_config_env *e)
{
	size_t i;

	kr_kvlist_release(&e->clear);
	kr_strvec_release(&e->secret);
	for (i = 0; i < e->ntags; i++) {
		free(e->tags[i].name);
		env_release(&e->tags[i].env);
	}
	free(e->tags);
	memset(e, 0, sizeof(*e));
}

static void
logging_release(struct kr_config_logging *l)
{
	free(l->driver);
	kr_kvlist_release(&l->options);
}

static void
proxy_release(struct kr_config_proxy *p)
{
	kr_strvec_release(&p->hosts);
	free(p->ssl_certificate_pem);
	free(p->ssl_private_key_pem);
	kr_strvec_release(&p->path_prefixes);
	free(p->healthcheck_path);
	kr_strvec_release(&p->logging_request_headers);
	kr_strvec_release(&p->logging_response_headers);
	free(p->run_log_max_size);
	kr_strvec_release(&p->run_bind_ips);
	free(p->run_registry);
	free(p->run_repository);
	free(p->run_version);
	kr_strvec_release(&p->run_args);
}

static void
registry_release(struct kr_config_registry *r)
{
	free(r->server);
	free(r->username);
	free(r->username_secret);
	kr_free_secret(r->password);
	free(r->password_secret);
}

static void
role_release(struct kr_config_role *r)
{
	size_t i;

	free(r->name);
	for (i = 0; i < r->nhosts; i++)
		kr_cfg_host_release(&r->hosts[i]);
	free(r->hosts);
	free(r->cmd);
	kr_strvec_release(&r->args);
	free(r->restart);
	logging_release(&r->logging);
	proxy_release(&r->proxy);
	kr_kvlist_release(&r->labels);
	env_release(&r->env);
	free(r->asset_path);
	free(r->pos.file);
}

static void
path_release(struct kr_config_path *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].local);
		free(p[i].remote);
		free(p[i].mode);
		free(p[i].owner);
		free(p[i].options);
		free(p[i].pos.file);
	}
	free(p);
}

static void
accessory_release(struct kr_config_accessory *a)
{
	size_t i;

	free(a->name);
	free(a->service);
	free(a->image);
	registry_release(&a->registry);
	for (i = 0; i < a->nhosts; i++)
		kr_cfg_host_release(&a->hosts[i]);
	free(a->hosts);
	kr_strvec_release(&a->on_names);
	free(a->cmd);
	free(a->port);
	kr_kvlist_release(&a->labels);
	kr_strvec_release(&a->args);
	free(a->restart);
	env_release(&a->env);
	path_release(a->files, a->nfiles);
	path_release(a->directories, a->ndirectories);
	kr_strvec_release(&a->volumes);
	free(a->network);
	proxy_release(&a->proxy);
	free(a->pos.file);
}

static void
builder_release(struct kr_config_builder *b)
{
	kr_strvec_release(&b->arch);
	free(b->remote);
	free(b->pack_builder);
	kr_strvec_release(&b->pack_buildpacks);
	free(b->cache_type);
	free(b->cache_options);
	free(b->cache_image);
	free(b->context);
	free(b->dockerfile);
	free(b->target);
	kr_kvlist_release(&b->args);
	kr_strvec_release(&b->secrets);
	free(b->ssh);
	free(b->driver);
	free(b->provenance);
	free(b->sbom);
}

static void
ssh_release(struct kr_config_ssh *s)
{
	free(s->user);
	free(s->port);
	free(s->proxy);
	free(s->proxy_command);
	free(s->log_level);
	kr_strvec_release(&s->keys);
	kr_strvec_release(&s->key_data);
	free(s->config);
	kr_strvec_release(&s->config_list);
}

void
kr_config_free(struct kr_config *c)
{
	size_t i;

	if (!c)
		return;
	free(c->file);
	free(c->destination);
	free(c->dest_file);
	kr_yaml_free(c->root);
	free(c->service);
	free(c->image);
	kr_kvlist_release(&c->labels);
	kr_strvec_release(&c->volumes);
	registry_release(&c->registry);
	for (i = 0; i < c->nroles; i++)
		role_release(&c->roles[i]);
	free(c->roles);
	env_release(&c->env);
	free(c->asset_path);
	free(c->hooks_path);
	free(c->hooks_output);
	kr_kvlist_release(&c->hooks_output_map);
	free(c->secrets_path);
	free(c->error_pages_path);
	free(c->primary_role);
	free(c->minimum_version);
	free(c->run_directory);
	ssh_release(&c->ssh);
	builder_release(&c->builder);
	for (i = 0; i < c->naccessories; i++)
		accessory_release(&c->accessories[i]);
	free(c->accessories);
	proxy_release(&c->proxy);
	free(c->boot_limit);
	logging_release(&c->logging);
	free(c->output_otel_endpoint);
	free(c->output_file_path);
	for (i = 0; i < c->naliases; i++) {
		free(c->aliases[i].name);
		free(c->aliases[i].command);
	}
	free(c->aliases);
	free(c->known_hosts);
	free(c->watch.repo);
	free(c->watch.branch);
	free(c->watch.path);
	free(c->watch.interval);
	free(c->watch.drift_interval);
	free(c->watch.image_wait);
	free(c->watch.backoff_max);
	free(c->watch.listen);
	free(c->watch.log_format);
	free(c->watch.pos.file);
	for (i = 0; i < c->nsecret_refs; i++) {
		free(c->secret_refs[i].name);
		free(c->secret_refs[i].context);
		free(c->secret_refs[i].pos.file);
	}
	free(c->secret_refs);
	free(c);
}
