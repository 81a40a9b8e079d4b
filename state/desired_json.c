/*
 * The desired model's JSON form (see desired.h): what `kreconcile config
 * --json` prints. Every secret value is replaced by "(sensitive)", only the
 * hashes of secret-bearing contents appear.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/error.h"
#include "state/desired.h"

static json_t *
str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
strvec_json(const struct kr_strvec *v)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

static json_t *
kv_json(const struct kr_kvlist *kv)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < kv->n; i++)
		json_object_set_new(o, kv->v[i].key, str_or_null(kv->v[i].value));
	return o;
}

/* Secret keys with their values hidden; content only as a hash. */
static json_t *
env_file_json(const struct kr_env_file *ef)
{
	json_t *o = json_object(), *keys = json_object();
	size_t i;

	json_object_set_new(o, "path", str_or_null(ef->path));
	for (i = 0; i < ef->secrets.n; i++)
		json_object_set_new(keys, ef->secrets.v[i].key,
			ef->secrets.v[i].value ? json_string(KR_SENSITIVE) : json_null());
	json_object_set_new(o, "secrets", keys);
	json_object_set_new(o, "sha256", ef->content ? json_string(ef->sha256) :
		json_null());
	return o;
}

static json_t *
logging_json(const struct kr_logging *l)
{
	json_t *o = json_object();

	json_object_set_new(o, "driver", str_or_null(l->driver));
	json_object_set_new(o, "options", kv_json(&l->options));
	return o;
}

static json_t *
tri_json(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

static json_t *
app_json(const struct kr_app *a)
{
	json_t *o = json_object();

	json_object_set_new(o, "role", json_string(a->role));
	json_object_set_new(o, "name", json_string(a->name));
	json_object_set_new(o, "image", json_string(a->image));
	json_object_set_new(o, "version", json_string(a->version));
	json_object_set_new(o, "labels", kv_json(&a->labels));
	json_object_set_new(o, "env", kv_json(&a->env));
	json_object_set_new(o, "env_file", env_file_json(&a->env_file));
	json_object_set_new(o, "volumes", strvec_json(&a->volumes));
	json_object_set_new(o, "options", strvec_json(&a->args));
	json_object_set_new(o, "cmd", str_or_null(a->cmd));
	json_object_set_new(o, "logging", logging_json(&a->logging));
	json_object_set_new(o, "network", str_or_null(a->network));
	json_object_set_new(o, "restart", str_or_null(a->restart));
	json_object_set_new(o, "stop_timeout", a->stop_timeout ?
		json_integer(a->stop_timeout) : json_null());
	if (a->proxy) {
		const struct kr_app_proxy *p = &a->proxy_config;
		json_t *px = json_object();

		json_object_set_new(px, "hosts", strvec_json(&p->hosts));
		json_object_set_new(px, "app_port", json_integer(p->app_port));
		json_object_set_new(px, "ssl", json_boolean(p->ssl));
		json_object_set_new(px, "healthcheck_path",
			str_or_null(p->healthcheck_path));
		json_object_set_new(px, "healthcheck_interval",
			p->healthcheck_interval ? json_integer(p->healthcheck_interval) :
			json_null());
		json_object_set_new(px, "healthcheck_timeout",
			p->healthcheck_timeout ? json_integer(p->healthcheck_timeout) :
			json_null());
		json_object_set_new(px, "path_prefixes", strvec_json(&p->path_prefixes));
		json_object_set_new(px, "strip_path_prefix",
			tri_json(p->strip_path_prefix));
		json_object_set_new(px, "forward_headers", tri_json(p->forward_headers));
		json_object_set_new(px, "ssl_redirect", tri_json(p->ssl_redirect));
		json_object_set_new(px, "response_timeout", p->response_timeout ?
			json_integer(p->response_timeout) : json_null());
		json_object_set_new(o, "proxy", px);
	} else {
		json_object_set_new(o, "proxy", json_false());
	}
	return o;
}

static json_t *
accessory_json(const struct kr_accessory *acc)
{
	json_t *o = json_object(), *files = json_array();
	size_t i;

	json_object_set_new(o, "name", json_string(acc->name));
	json_object_set_new(o, "container", json_string(acc->container));
	json_object_set_new(o, "image", str_or_null(acc->image));
	json_object_set_new(o, "ports", strvec_json(&acc->ports));
	json_object_set_new(o, "cmd", str_or_null(acc->cmd));
	json_object_set_new(o, "labels", kv_json(&acc->labels));
	json_object_set_new(o, "env", kv_json(&acc->env));
	json_object_set_new(o, "env_file", env_file_json(&acc->env_file));
	json_object_set_new(o, "directories", strvec_json(&acc->directories));
	for (i = 0; i < acc->nfiles; i++) {
		const struct kr_acc_file *f = &acc->files[i];
		json_t *fo = json_object();

		json_object_set_new(fo, "local", str_or_null(f->local));
		json_object_set_new(fo, "remote", str_or_null(f->remote));
		json_object_set_new(fo, "host_path", str_or_null(f->host_path));
		json_object_set_new(fo, "sha256", json_string(f->sha256));
		json_object_set_new(fo, "mode", str_or_null(f->mode));
		json_object_set_new(fo, "options", str_or_null(f->options));
		json_object_set_new(fo, "owner", str_or_null(f->owner));
		json_array_append_new(files, fo);
	}
	json_object_set_new(o, "files", files);
	json_object_set_new(o, "volumes", strvec_json(&acc->volumes));
	json_object_set_new(o, "options", strvec_json(&acc->args));
	json_object_set_new(o, "network", str_or_null(acc->network));
	json_object_set_new(o, "restart", str_or_null(acc->restart));
	json_object_set_new(o, "logging", logging_json(&acc->logging));
	return o;
}

json_t *
kr_desired_to_json(const struct kr_desired *d)
{
	json_t *o = json_object(), *hosts = json_array(), *reg = json_object();
	size_t i, j;

	json_object_set_new(o, "format_version", json_string("1"));
	json_object_set_new(o, "service", json_string(d->service));
	json_object_set_new(o, "destination", str_or_null(d->destination));
	json_object_set_new(o, "image", json_string(d->image));
	json_object_set_new(o, "version", json_string(d->version));
	json_object_set_new(o, "version_source", str_or_null(d->version_source));
	json_object_set_new(reg, "server", str_or_null(d->registry.server));
	json_object_set_new(reg, "username", d->registry.username ?
		json_string(d->registry.username) : json_null());
	json_object_set_new(reg, "password", d->registry.password ?
		json_string(KR_SENSITIVE) : json_null());
	json_object_set_new(o, "registry", reg);
	json_object_set_new(o, "primary_role", str_or_null(d->primary_role));
	json_object_set_new(o, "lock_host", str_or_null(d->lock_host));
	json_object_set_new(o, "retain_containers",
		json_integer(d->retain_containers));
	json_object_set_new(o, "readiness_delay", json_integer(d->readiness_delay));
	json_object_set_new(o, "deploy_timeout", json_integer(d->deploy_timeout));
	json_object_set_new(o, "drain_timeout", json_integer(d->drain_timeout));
	json_object_set_new(o, "prune", json_boolean(d->prune));
	json_object_set_new(o, "known_hosts", str_or_null(d->known_hosts));
	json_object_set_new(o, "config_sha256", json_string(d->config_sha256));
	for (i = 0; i < d->nhosts; i++) {
		const struct kr_host *h = &d->hosts[i];
		json_t *ho = json_object(), *apps = json_array(), *accs = json_array();

		json_object_set_new(ho, "name", json_string(h->name));
		json_object_set_new(ho, "user", str_or_null(h->user));
		json_object_set_new(ho, "port", json_integer(h->port));
		json_object_set_new(ho, "roles", strvec_json(&h->roles));
		json_object_set_new(ho, "tags", strvec_json(&h->tags));
		for (j = 0; j < h->napps; j++)
			json_array_append_new(apps, app_json(&h->apps[j]));
		for (j = 0; j < h->naccessories; j++)
			json_array_append_new(accs, accessory_json(&h->accessories[j]));
		json_object_set_new(ho, "apps", apps);
		json_object_set_new(ho, "accessories", accs);
		json_array_append_new(hosts, ho);
	}
	json_object_set_new(o, "hosts", hosts);
	return o;
}
