/*
 * The desired model's lifecycle (see desired.h): finding a host, and
 * releasing every part of the model. Its JSON form is in desired_json.c.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/desired.h"

struct kr_host *
kr_desired_host(const struct kr_desired *d, const char *name)
{
	size_t i;

	for (i = 0; d && name && i < d->nhosts; i++)
		if (strcmp(d->hosts[i].name, name) == 0)
			return &d->hosts[i];
	return NULL;
}

static void
env_file_release(struct kr_env_file *ef)
{
	free(ef->path);
	kr_kvlist_release(&ef->secrets);
	kr_free_secret(ef->content);
}

static void
proxy_release(struct kr_app_proxy *p)
{
	kr_strvec_release(&p->hosts);
	free(p->healthcheck_path);
	kr_strvec_release(&p->path_prefixes);
	kr_strvec_release(&p->log_request_headers);
	kr_strvec_release(&p->log_response_headers);
	free(p->run_log_max_size);
	kr_strvec_release(&p->run_bind_ips);
	free(p->run_registry);
	free(p->run_repository);
	free(p->run_version);
	kr_strvec_release(&p->run_args);
	free(p->tls_cert_path);
	free(p->tls_key_path);
	free(p->tls_cert_container);
	free(p->tls_key_container);
	if (p->tls_cert_pem)
		memset(p->tls_cert_pem, 0, strlen(p->tls_cert_pem));
	if (p->tls_key_pem)
		memset(p->tls_key_pem, 0, strlen(p->tls_key_pem));
	free(p->tls_cert_pem);
	free(p->tls_key_pem);
}

static void
app_release(struct kr_app *a)
{
	free(a->role);
	free(a->name);
	free(a->image);
	free(a->version);
	kr_kvlist_release(&a->labels);
	kr_kvlist_release(&a->env);
	env_file_release(&a->env_file);
	kr_strvec_release(&a->volumes);
	kr_strvec_release(&a->args);
	free(a->cmd);
	free(a->logging.driver);
	kr_kvlist_release(&a->logging.options);
	free(a->network);
	free(a->restart);
	proxy_release(&a->proxy_config);
	free(a->hostname_prefix);
}

static void
accessory_release(struct kr_accessory *acc)
{
	proxy_release(&acc->proxy_config);
	size_t k;

	free(acc->name);
	free(acc->container);
	free(acc->image);
	kr_strvec_release(&acc->ports);
	free(acc->cmd);
	kr_kvlist_release(&acc->labels);
	kr_kvlist_release(&acc->env);
	env_file_release(&acc->env_file);
	kr_strvec_release(&acc->directories);
	for (k = 0; k < acc->nfiles; k++) {
		free(acc->files[k].local);
		free(acc->files[k].remote);
		free(acc->files[k].host_path);
		kr_free_secret(acc->files[k].content);
		free(acc->files[k].mode);
		free(acc->files[k].options);
		free(acc->files[k].owner);
	}
	free(acc->files);
	kr_strvec_release(&acc->volumes);
	kr_strvec_release(&acc->args);
	free(acc->network);
	free(acc->restart);
	free(acc->logging.driver);
	kr_kvlist_release(&acc->logging.options);
	kr_strvec_release(&acc->directory_modes);
}

void
kr_desired_free(struct kr_desired *d)
{
	size_t i, j;

	if (!d)
		return;
	for (i = 0; i < d->nhosts; i++) {
		struct kr_host *h = &d->hosts[i];

		for (j = 0; j < h->napps; j++)
			app_release(&h->apps[j]);
		for (j = 0; j < h->naccessories; j++)
			accessory_release(&h->accessories[j]);
		free(h->apps);
		free(h->accessories);
		free(h->name);
		free(h->user);
		kr_strvec_release(&h->roles);
		kr_strvec_release(&h->tags);
	}
	free(d->hosts);
	free(d->service);
	free(d->destination);
	free(d->image);
	free(d->version);
	free(d->version_source);
	free(d->registry.server);
	free(d->registry.username);
	kr_free_secret(d->registry.password);
	free(d->primary_role);
	free(d->lock_host);
	free(d->known_hosts);
	free(d);
}
