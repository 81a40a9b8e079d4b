/*
 * From a validated struct kr_config and the secrets to the per-host desired
 * model (state/desired.h), following what Kamal 2 does on each host: the
 * container names, labels, env merge (root → role → each tag of the host),
 * env file paths and bytes, the docker run options and the proxy settings
 * of each app. Accessories are resolved in resolve_accessory.c, the version
 * to deploy chosen in resolve_version.c.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/error.h"
#include "common/hash.h"
#include "state/config.h"
#include "state/desired.h"
#include "state/envfile.h"
#include "state/resolve_int.h"

/* service[-destination] */
char *
kr_resolve_service_and_dest(const struct kr_config *c)
{
	return c->destination ?
		       kr_xasprintf("%s-%s", c->service, c->destination) :
		       kr_xstrdup(c->service);
}

static struct kr_host *
host_get(struct kr_resolve_ctx *x, const struct kr_config_host *ch)
{
	struct kr_desired *d = x->d;
	struct kr_host *h;
	size_t i;
	int port;

	for (i = 0; i < d->nhosts; i++)
		if (strcmp(d->hosts[i].name, ch->host) == 0)
			return &d->hosts[i];
	d->hosts = kr_xrealloc(d->hosts, (d->nhosts + 1) * sizeof(*d->hosts));
	h = &d->hosts[d->nhosts++];
	memset(h, 0, sizeof(*h));
	h->name = kr_xstrdup(ch->host);
	/* net-ssh takes the user of "user@host" over ssh/user (SSHKit) */
	h->user = kr_xstrdup(ch->user ? ch->user : kr_config_ssh_user(x->c));
	port = kr_config_ssh_port(x->c);
	h->port = ch->port ? ch->port : port;
	return h;
}

void
kr_resolve_env_file_fill(struct kr_resolve_ctx *x, struct kr_env_file *ef,
	const char *path, const struct kr_strvec *secret_keys)
{
	struct kr_buf b = KR_BUF_INIT;
	size_t i;
	bool complete = true;

	ef->path = kr_xstrdup(path);
	for (i = 0; i < secret_keys->n; i++) {
		/* "NAME" or "NAME:SECRET_NAME" (Kamal's aliased secrets) */
		const char *k = secret_keys->v[i], *colon = strchr(k, ':');
		char *name = colon ? kr_xstrndup(k, (size_t)(colon - k)) :
				     kr_xstrdup(k);
		const char *value = x->secrets ?
					    kr_kvlist_get(x->secrets,
						    colon ? colon + 1 : k) :
					    NULL;

		if (!value)
			complete = false;
		kr_kvlist_set(&ef->secrets, name, value);
		free(name);
	}
	if (!complete) {
		if (!x->o->skip_secrets)
			x->failed =
				true; /* reported by kr_config_check_secrets */
		return;
	}
	if (kr_envfile_render(&b, &ef->secrets) != 0) {
		kr_diags_add(x->diags, x->c->file, 0, 0,
			"cannot render '%s': %s", path, kr_error_last());
		x->failed = true;
		kr_buf_release(&b);
		return;
	}
	kr_sha256_hex(ef->sha256, b.ptr, b.len);
	ef->content = kr_buf_detach(&b, NULL);
}

/* Ruby's Array#|: append what is not there yet. */
static void
union_into(struct kr_strvec *dst, const struct kr_strvec *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		if (!kr_strvec_contains(dst, src->v[i]))
			kr_strvec_push(dst, src->v[i]);
}

static const struct kr_config_env *
env_tag(const struct kr_config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->env.ntags; i++)
		if (strcmp(c->env.tags[i].name, name) == 0)
			return &c->env.tags[i].env;
	return NULL;
}

/* Logging args as Kamal's Logging#args: root deep-merged with the role's. */
void
kr_resolve_logging_fill(struct kr_logging *out,
	const struct kr_config_logging *root,
	const struct kr_config_logging *role)
{
	const char *driver = role && role->driver ? role->driver : root->driver;

	kr_kvlist_copy(&out->options, &root->options);
	if (role)
		kr_kvlist_copy(&out->options, &role->options);
	if (driver && *driver)
		out->driver = kr_xstrdup(driver);
	if (!out->driver && !out->options.n)
		kr_kvlist_append(&out->options, "max-size", "10m");
}

static void
set_str(char **dst, const char *src)
{
	if (!src)
		return;
	free(*dst);
	*dst = kr_xstrdup(src);
}

/* proxy.run of q over what p holds (Kamal deep-merges a role's proxy over
 * the root one). */
static void
proxy_run_fill(struct kr_app_proxy *p, const struct kr_config_proxy *q)
{
	p->run = true;
	if (q->run_http_port >= 0)
		p->run_http_port = (int)q->run_http_port;
	if (q->run_https_port >= 0)
		p->run_https_port = (int)q->run_https_port;
	if (q->run_metrics_port >= 0)
		p->run_metrics_port = (int)q->run_metrics_port;
	if (q->run_debug != KR_TRI_UNSET)
		p->run_debug = q->run_debug;
	if (q->run_publish != KR_TRI_UNSET)
		p->run_publish = q->run_publish;
	set_str(&p->run_log_max_size, q->run_log_max_size);
	if (q->run_bind_ips.n) {
		kr_strvec_release(&p->run_bind_ips);
		kr_strvec_copy(&p->run_bind_ips, &q->run_bind_ips);
	}
	set_str(&p->run_registry, q->run_registry);
	set_str(&p->run_repository, q->run_repository);
	set_str(&p->run_version, q->run_version);
	if (q->run_args.n) {
		kr_strvec_release(&p->run_args);
		kr_strvec_copy(&p->run_args, &q->run_args);
	}
}

/*
 * A custom certificate (ssl: {certificate_pem, private_key_pem}, the role's
 * over the root's): where Kamal writes it and the PEMs from the secrets.
 */
static void
proxy_tls_fill(struct kr_resolve_ctx *x, struct kr_app *a,
	const struct kr_config_proxy *role, const char *sd)
{
	const struct kr_config_proxy *q =
		role && role->ssl_certificate_pem && role->ssl_private_key_pem ?
			role :
			&x->c->proxy;
	struct kr_app_proxy *p = &a->proxy_config;
	const char *v;

	if (!q->ssl_certificate_pem || !q->ssl_private_key_pem)
		return;
	p->tls_cert_path = kr_xasprintf(
		".kamal/proxy/apps-config/%s/tls/%s/cert.pem", sd, a->role);
	p->tls_key_path = kr_xasprintf(
		".kamal/proxy/apps-config/%s/tls/%s/key.pem", sd, a->role);
	p->tls_cert_container = kr_xasprintf(
		"/home/kamal-proxy/.apps-config/%s/tls/%s/cert.pem", sd,
		a->role);
	p->tls_key_container =
		kr_xasprintf("/home/kamal-proxy/.apps-config/%s/tls/%s/key.pem",
			sd, a->role);
	if (x->secrets &&
		(v = kr_kvlist_get(x->secrets, q->ssl_certificate_pem)))
		p->tls_cert_pem = kr_xstrdup(v);
	if (x->secrets &&
		(v = kr_kvlist_get(x->secrets, q->ssl_private_key_pem)))
		p->tls_key_pem = kr_xstrdup(v);
}

static void
proxy_fill(struct kr_app_proxy *p, const struct kr_config_proxy *root,
	const struct kr_config_proxy *role)
{
	const struct kr_config_proxy *v[2] = { root, role };
	size_t i;

	p->app_port = 80;
	p->strip_path_prefix = p->forward_headers = p->ssl_redirect = -1;
	p->buffer_requests = p->buffer_responses = -1;
	p->buffer_memory = p->max_request_body = p->max_response_body = -1;
	p->run_http_port = p->run_https_port = p->run_metrics_port = -1;
	p->run_debug = p->run_publish = -1;
	for (i = 0; i < 2; i++) {
		const struct kr_config_proxy *q = v[i];

		if (!q)
			continue;
		if (q->hosts.n) {
			kr_strvec_release(&p->hosts);
			kr_strvec_copy(&p->hosts, &q->hosts);
		}
		if (q->app_port > 0)
			p->app_port = kr_config_app_port(q);
		if (q->ssl != KR_TRI_UNSET)
			p->ssl = q->ssl == KR_TRI_TRUE;
		if (q->healthcheck_path) {
			free(p->healthcheck_path);
			p->healthcheck_path = kr_xstrdup(q->healthcheck_path);
		}
		if (q->healthcheck_interval >= 0)
			p->healthcheck_interval = (int)q->healthcheck_interval;
		if (q->healthcheck_timeout >= 0)
			p->healthcheck_timeout = (int)q->healthcheck_timeout;
		if (q->path_prefixes.n) {
			kr_strvec_release(&p->path_prefixes);
			kr_strvec_copy(&p->path_prefixes, &q->path_prefixes);
		}
		if (q->strip_path_prefix != KR_TRI_UNSET)
			p->strip_path_prefix = q->strip_path_prefix;
		if (q->forward_headers != KR_TRI_UNSET)
			p->forward_headers = q->forward_headers;
		if (q->ssl_redirect != KR_TRI_UNSET)
			p->ssl_redirect = q->ssl_redirect;
		if (q->response_timeout >= 0)
			p->response_timeout = (int)q->response_timeout;
		if (q->buffering_requests != KR_TRI_UNSET)
			p->buffer_requests = q->buffering_requests;
		if (q->buffering_responses != KR_TRI_UNSET)
			p->buffer_responses = q->buffering_responses;
		if (q->buffering_memory >= 0)
			p->buffer_memory = q->buffering_memory;
		if (q->buffering_max_request_body >= 0)
			p->max_request_body = q->buffering_max_request_body;
		if (q->buffering_max_response_body >= 0)
			p->max_response_body = q->buffering_max_response_body;
		if (q->logging_request_headers.n) {
			kr_strvec_release(&p->log_request_headers);
			kr_strvec_copy(&p->log_request_headers,
				&q->logging_request_headers);
		}
		if (q->logging_response_headers.n) {
			kr_strvec_release(&p->log_response_headers);
			kr_strvec_copy(&p->log_response_headers,
				&q->logging_response_headers);
		}
		if (q->has_run)
			proxy_run_fill(p, q);
	}
}

void
kr_resolve_proxy_fill(struct kr_app_proxy *p,
	const struct kr_config_proxy *root, const struct kr_config_proxy *role)
{
	proxy_fill(p, root, role);
}

static void
app_add(struct kr_resolve_ctx *x, struct kr_host *h,
	const struct kr_config_role *r, const struct kr_config_host *entry)
{
	const struct kr_config *c = x->c;
	struct kr_desired *d = x->d;
	struct kr_config_env merged_secret = { 0 };
	struct kr_app *a;
	char *sd = kr_resolve_service_and_dest(c), *path;
	size_t i;

	for (i = 0; i < h->napps; i++) {
		if (strcmp(h->apps[i].role, r->name) == 0) {
			/* the host listed twice in a role: one container */
			free(sd);
			return;
		}
	}
	h->apps = kr_xrealloc(h->apps, (h->napps + 1) * sizeof(*h->apps));
	a = &h->apps[h->napps++];
	memset(a, 0, sizeof(*a));
	if (!kr_strvec_contains(&h->roles, r->name))
		kr_strvec_push(&h->roles, r->name);
	union_into(&h->tags, &entry->tags);

	a->role = kr_xstrdup(r->name);
	a->version = kr_xstrdup(d->version);
	a->name = c->destination ?
			  kr_xasprintf("%s-%s-%s-%s", c->service, r->name,
				  c->destination, d->version) :
			  kr_xasprintf(
				  "%s-%s-%s", c->service, r->name, d->version);
	a->image = kr_xasprintf("%s:%s", d->image, d->version);

	kr_kvlist_append(&a->labels, "service", c->service);
	kr_kvlist_append(&a->labels, "role", r->name);
	kr_kvlist_append(&a->labels, "destination",
		c->destination ? c->destination : "");
	kr_kvlist_copy(&a->labels, &c->labels);
	kr_kvlist_copy(&a->labels, &r->labels);

	/* docker run order: the KAMAL_* variables, then the merged clear env */
	kr_kvlist_append(&a->env, "KAMAL_CONTAINER_NAME", a->name);
	kr_kvlist_append(&a->env, "KAMAL_VERSION", d->version);
	kr_kvlist_append(&a->env, "KAMAL_HOST", h->name);
	if (c->destination)
		kr_kvlist_append(&a->env, "KAMAL_DESTINATION", c->destination);
	kr_kvlist_copy(&a->env, &c->env.clear);
	union_into(&merged_secret.secret, &c->env.secret);
	if (r->has_env) {
		kr_kvlist_copy(&a->env, &r->env.clear);
		union_into(&merged_secret.secret, &r->env.secret);
	}
	for (i = 0; i < entry->tags.n; i++) {
		const struct kr_config_env *t = env_tag(c, entry->tags.v[i]);

		if (!t)
			continue; /* Kamal ignores tags without env */
		kr_kvlist_copy(&a->env, &t->clear);
		union_into(&merged_secret.secret, &t->secret);
	}
	path = kr_xasprintf(".kamal/apps/%s/env/roles/%s.env", sd, r->name);
	kr_resolve_env_file_fill(x, &a->env_file, path, &merged_secret.secret);
	free(path);
	kr_strvec_release(&merged_secret.secret);

	kr_strvec_copy(&a->volumes, &c->volumes);
	a->proxy = kr_config_role_proxied(c, r);
	{
		const char *asset =
			r->asset_path ? r->asset_path : c->asset_path;

		if (asset && *asset && a->proxy) {
			/* Kamal's asset volume: <asset_path>[:options] */
			const char *colon = strchr(asset, ':');
			char *cpath = colon ? kr_xstrndup(asset,
						      (size_t)(colon - asset)) :
					      kr_xstrdup(asset);

			kr_strvec_push_owned(&a->volumes,
				kr_xasprintf("$PWD/.kamal/apps/%s/assets/"
					     "volumes/%s-%s:%s%s%s",
					sd, r->name, d->version, cpath,
					colon ? ":" : "",
					colon ? colon + 1 : ""));
			free(cpath);
		}
	}
	kr_strvec_copy(&a->args, &r->args);
	a->cmd = r->cmd ? kr_xstrdup(r->cmd) : NULL;
	kr_resolve_logging_fill(
		&a->logging, &c->logging, r->has_logging ? &r->logging : NULL);
	a->network = kr_xstrdup("kamal");
	a->restart = kr_xstrdup(r->restart ? r->restart : "unless-stopped");
	if (r->stop_timeout >= 0)
		a->stop_timeout = (int)r->stop_timeout;
	else if (c->stop_timeout >= 0)
		a->stop_timeout = (int)c->stop_timeout;
	else if (!a->proxy)
		a->stop_timeout = kr_config_drain_timeout(c);
	if (a->proxy)
		proxy_fill(&a->proxy_config, &c->proxy,
			r->proxy_mode == KR_ROLE_PROXY_MAP ? &r->proxy : NULL);
	if (a->proxy)
		proxy_tls_fill(x, a,
			r->proxy_mode == KR_ROLE_PROXY_MAP ? &r->proxy : NULL,
			sd);
	{
		size_t n = strlen(h->name) > 51 ? 51 : strlen(h->name);

		if (n && h->name[n - 1] == '.')
			n--;
		a->hostname_prefix = kr_xstrndup(h->name, n);
	}
	free(sd);
}

int
kr_desired_resolve(struct kr_desired **out, struct kr_diags *diags,
	const struct kr_config *c, const struct kr_kvlist *secrets,
	const struct kr_resolve_opts *opts)
{
	struct kr_desired *d = kr_xcalloc(1, sizeof(*d));
	struct kr_resolve_ctx x = { c, secrets, opts, diags, d, false };
	const struct kr_config_role *primary;
	size_t i, j;

	if (!opts || !opts->version || !*opts->version) {
		kr_desired_free(d);
		kr_error_set(KR_EINVAL,
			"no version to resolve the configuration at");
		return KR_EINVAL;
	}
	d->service = kr_xstrdup(c->service);
	d->destination = c->destination ? kr_xstrdup(c->destination) : NULL;
	d->image = c->registry.server ?
			   kr_xasprintf("%s/%s", c->registry.server, c->image) :
			   kr_xstrdup(c->image);
	d->version = kr_xstrdup(opts->version);
	d->version_source = kr_xstrdup(
		opts->version_source ? opts->version_source : "--app-version");
	d->registry.server =
		c->registry.server ? kr_xstrdup(c->registry.server) : NULL;
	if (c->registry.username)
		d->registry.username = kr_xstrdup(c->registry.username);
	else if (c->registry.username_secret && secrets &&
		 kr_kvlist_get(secrets, c->registry.username_secret))
		d->registry.username = kr_xstrdup(
			kr_kvlist_get(secrets, c->registry.username_secret));
	if (c->registry.password)
		d->registry.password = kr_xstrdup(c->registry.password);
	else if (c->registry.password_secret && secrets &&
		 kr_kvlist_get(secrets, c->registry.password_secret))
		d->registry.password = kr_xstrdup(
			kr_kvlist_get(secrets, c->registry.password_secret));
	d->primary_role = kr_xstrdup(kr_config_primary_role(c));
	d->retain_containers = kr_config_retain_containers(c);
	d->readiness_delay = kr_config_readiness_delay(c);
	d->deploy_timeout = kr_config_deploy_timeout(c);
	d->drain_timeout = kr_config_drain_timeout(c);
	d->prune = c->prune == KR_TRI_TRUE;
	d->known_hosts = c->known_hosts ? kr_xstrdup(c->known_hosts) : NULL;
	memcpy(d->config_sha256, c->sha256, sizeof(d->config_sha256));

	/* roles in Kamal's order (sorted by name), hosts as listed */
	for (i = 0; i < c->nroles; i++) {
		const struct kr_config_role *r = &c->roles[i];

		for (j = 0; j < r->nhosts; j++)
			app_add(&x, host_get(&x, &r->hosts[j]), r,
				&r->hosts[j]);
	}
	for (i = 0; i < c->naccessories; i++) {
		const struct kr_config_host **hs = NULL;
		size_t n = 0;

		kr_resolve_acc_hosts(&x, &c->accessories[i], &hs, &n);
		for (j = 0; j < n; j++)
			kr_resolve_acc_add(
				&x, host_get(&x, hs[j]), &c->accessories[i]);
		free(hs);
	}
	primary = kr_config_role(c, d->primary_role);
	if (primary && primary->nhosts)
		d->lock_host = kr_xstrdup(primary->hosts[0].host);
	if (x.failed) {
		kr_desired_free(d);
		kr_error_set(KR_ECONFIG, "cannot resolve the desired state");
		return KR_ECONFIG;
	}
	*out = d;
	return 0;
}
