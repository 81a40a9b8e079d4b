/*
 * Accessories in the desired model: on which hosts each runs (Kamal's
 * order), its container, labels, env file, directories, and the files it
 * mounts (read from the project, .erb files rendered with the accessory's
 * env first).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/error.h"
#include "common/file.h"
#include "common/hash.h"
#include "state/config.h"
#include "state/desired.h"
#include "state/erb.h"
#include "state/resolve_int.h"

/* The accessory file at path (relative to base), bounded; NULL with the
 * reason in kr_error_last(). */
static char *
read_local(const char *base, const char *path, size_t *len)
{
	char *full = path[0] == '/' ? kr_xstrdup(path) :
				      kr_xasprintf("%s/%s", base, path);
	char *text = NULL;

	if (kr_file_read(&text, len, full, KR_FILE_MAX_ACCESSORY) != 0)
		text = NULL;
	free(full);
	return text;
}

/* ENV lookups in an accessory's .erb file see its env first (Kamal). */
struct acc_env {
	const struct kr_accessory *acc;
};

static const char *
acc_getenv(void *ctx, const char *name)
{
	const struct acc_env *e = ctx;
	const char *v = kr_kvlist_get(&e->acc->env, name);

	if (!v)
		v = kr_kvlist_get(&e->acc->env_file.secrets, name);
	return v ? v : getenv(name);
}

static size_t
suffix_len(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0 ? b : 0;
}

static void
acc_files(struct kr_resolve_ctx *x, struct kr_accessory *acc,
	const struct kr_config_accessory *ca)
{
	const char *base = x->o->base_dir ? x->o->base_dir : ".";
	size_t i;

	acc->files =
		kr_xcalloc(ca->nfiles ? ca->nfiles : 1, sizeof(*acc->files));
	for (i = 0; i < ca->nfiles; i++) {
		const struct kr_config_path *p = &ca->files[i];
		struct kr_acc_file *f = &acc->files[acc->nfiles];
		size_t len = 0;
		char *text = read_local(base, p->local, &len);

		if (!text) {
			kr_diags_add(x->diags, p->pos.file, p->pos.line,
				p->pos.col,
				"cannot read accessory file '%s': %s", p->local,
				kr_error_last());
			x->failed = true;
			continue;
		}
		if (suffix_len(p->local, "erb")) {
			struct kr_buf out = KR_BUF_INIT;
			struct acc_env e = { acc };

			if (kr_erb_render(&out, NULL, x->diags, p->local, text,
				    len, acc_getenv, &e) != 0)
				x->failed = true;
			kr_free_secret(text);
			text = kr_buf_detach(&out, &len);
		}
		f->local = kr_xstrdup(p->local);
		f->remote = kr_xstrdup(p->remote);
		/* Kamal: service_name + remote, under the SSH user's home */
		f->host_path = kr_xasprintf("%s%s%s", acc->container,
			p->remote[0] == '/' ? "" : "/", p->remote);
		kr_sha256_hex(f->sha256, text, len);
		f->content = text;
		f->mode = kr_xstrdup(p->mode ? p->mode : "755");
		f->options = p->options ? kr_xstrdup(p->options) : NULL;
		f->owner = p->owner ? kr_xstrdup(p->owner) : NULL;
		acc->nfiles++;
	}
}

/* "5432" → "5432:5432"; anything with a colon stays as written. */
static char *
normalise_port(const char *port)
{
	if (strchr(port, ':'))
		return kr_xstrdup(port);
	return kr_xasprintf("%s:%s", port, port);
}

void
kr_resolve_acc_add(struct kr_resolve_ctx *x, struct kr_host *h,
	const struct kr_config_accessory *ca)
{
	const struct kr_config *c = x->c;
	struct kr_accessory *acc;
	char *sd, *path;
	size_t i;

	for (i = 0; i < h->naccessories; i++)
		if (strcmp(h->accessories[i].name, ca->name) == 0)
			return;
	h->accessories = kr_xrealloc(h->accessories,
		(h->naccessories + 1) * sizeof(*h->accessories));
	acc = &h->accessories[h->naccessories++];
	memset(acc, 0, sizeof(*acc));
	acc->name = kr_xstrdup(ca->name);
	acc->container = ca->service ?
				 kr_xstrdup(ca->service) :
				 kr_xasprintf("%s-%s", c->service, ca->name);
	acc->image =
		ca->registry.present && ca->registry.server ?
			kr_xasprintf("%s/%s", ca->registry.server, ca->image) :
			kr_xstrdup(ca->image);
	if (ca->port)
		kr_strvec_push_owned(&acc->ports, normalise_port(ca->port));
	acc->cmd = ca->cmd ? kr_xstrdup(ca->cmd) : NULL;
	kr_kvlist_append(&acc->labels, "service", acc->container);
	kr_kvlist_copy(&acc->labels, &ca->labels);
	kr_kvlist_append(&acc->env, "KAMAL_HOST", h->name);
	kr_kvlist_copy(&acc->env, &ca->env.clear);
	sd = kr_resolve_service_and_dest(c);
	path = kr_xasprintf(
		".kamal/apps/%s/env/accessories/%s.env", sd, ca->name);
	kr_resolve_env_file_fill(x, &acc->env_file, path, &ca->env.secret);
	free(path);
	free(sd);
	for (i = 0; i < ca->ndirectories; i++) {
		const struct kr_config_path *p = &ca->directories[i];
		const char *opt = p->options;

		/* relative: <service_name>/<local> under the home directory */
		if (p->local[0] == '/')
			kr_strvec_push_owned(&acc->directories,
				kr_xasprintf("%s:%s%s%s", p->local, p->remote,
					opt ? ":" : "", opt ? opt : ""));
		else
			kr_strvec_push_owned(&acc->directories,
				kr_xasprintf("%s/%s:%s%s%s", acc->container,
					p->local, p->remote, opt ? ":" : "",
					opt ? opt : ""));
		kr_strvec_push(&acc->directory_modes, p->mode ? p->mode : "");
	}
	acc_files(x, acc, ca);
	kr_strvec_copy(&acc->volumes, &ca->volumes);
	kr_strvec_copy(&acc->args, &ca->args);
	acc->network = kr_xstrdup(ca->network ? ca->network : "kamal");
	acc->restart = kr_xstrdup(ca->restart ? ca->restart : "unless-stopped");
	/* Kamal's accessory proxy stands alone (not merged with the root) */
	if (ca->has_proxy) {
		acc->proxy = true;
		kr_resolve_proxy_fill(&acc->proxy_config, &ca->proxy, NULL);
	}
	kr_resolve_logging_fill(&acc->logging, &c->logging, NULL);
}

/* The hosts an accessory runs on, in Kamal's order. */
void
kr_resolve_acc_hosts(struct kr_resolve_ctx *x,
	const struct kr_config_accessory *ca,
	const struct kr_config_host ***out, size_t *n)
{
	const struct kr_config *c = x->c;
	size_t i, j, k;

#define PUSH(hp)                                                    \
	do {                                                        \
		*out = kr_xrealloc(*out, (*n + 1) * sizeof(**out)); \
		(*out)[(*n)++] = (hp);                              \
	} while (0)

	switch (ca->on) {
	case KR_ACC_ON_HOST:
	case KR_ACC_ON_HOSTS:
		for (i = 0; i < ca->nhosts; i++)
			PUSH(&ca->hosts[i]);
		break;
	case KR_ACC_ON_ROLE:
	case KR_ACC_ON_ROLES:
		for (i = 0; i < ca->on_names.n; i++) {
			const struct kr_config_role *r =
				kr_config_role(c, ca->on_names.v[i]);

			for (j = 0; r && j < r->nhosts; j++)
				PUSH(&r->hosts[j]);
		}
		break;
	case KR_ACC_ON_TAG:
	case KR_ACC_ON_TAGS:
		/* Kamal looks for tags only when servers is a map of roles */
		if (c->servers_is_list)
			break;
		for (i = 0; i < ca->on_names.n; i++)
			for (j = 0; j < c->nroles; j++)
				for (k = 0; k < c->roles[j].nhosts; k++)
					if (kr_strvec_contains(
						    &c->roles[j].hosts[k].tags,
						    ca->on_names.v[i]))
						PUSH(&c->roles[j].hosts[k]);
		break;
	case KR_ACC_ON_NONE:
		break;
	}
#undef PUSH
}
