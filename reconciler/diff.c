/*
 * The diff engine (see diff.h, docs/diff.md): for each host, compare the
 * desired model with the observed snapshot and append changes to a plan in
 * dependency order. Pure: the only inputs are the arguments.
 *
 * Each host is worked out in three scratch plans (env files, accessories,
 * apps), because what is planned for the apps decides the registry login
 * and whether an env file change must wait for an image; then network,
 * login, env, accessory and app changes are moved into the plan in order.
 * This file is that host-level ordering; the parts it calls are listed in
 * diff_int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reconciler/diff_int.h"

static const char *
registry_name(const struct kr_desired *d)
{
	return d->registry.server && *d->registry.server ? d->registry.server :
							   "docker.io";
}

/* The registry host an image reference names ("docker.io" when none). */
static bool
image_in_registry(const char *ref, const char *registry)
{
	const char *slash = strchr(ref, '/');
	size_t n;

	if (!slash) {
		return strcmp(registry, "docker.io") == 0;
	}
	n = (size_t)(slash - ref);
	if (memchr(ref, '.', n) || memchr(ref, ':', n) ||
		(n == 9 && strncmp(ref, "localhost", 9) == 0))
		return strlen(registry) == n && strncmp(ref, registry, n) == 0;
	return strcmp(registry, "docker.io") == 0;
}

static void
plan_host(struct kr_plan *p, const struct dctx *dc, const char *name,
	const struct kr_host *h, const struct kr_observed_host *oh)
{
	struct kr_plan_host *ph = kr_plan_add_host(p, name);
	struct hctx hc = { .dc = dc, .name = name, .h = h, .oh = oh };
	struct kr_strvec nets = { 0 }, logins = { 0 };
	struct env_cmp *app_ec = NULL, *acc_ec = NULL;
	struct kr_change **app_env = NULL, **app_chg = NULL, **acc_env = NULL;
	const char *reg = registry_name(dc->d);
	size_t i;

	ph->configured = h != NULL;
	if (!oh) {
		ph->status = KR_OBS_FAILED;
		ph->error = kr_xstrdup("host was not observed");
		return;
	}
	memcpy(ph->fingerprint, oh->fingerprint, KR_SHA256_HEX);
	ph->fingerprint[KR_SHA256_HEX - 1] = '\0';
	if (oh->status != KR_OBS_OK) {
		ph->status = oh->status;
		ph->error = kr_xstrdup(oh->error ? oh->error : "no details");
		return;
	}
	hc.env = kr_plan_new(NULL, dc->prune);
	hc.acc = kr_plan_new(NULL, dc->prune);
	hc.app = kr_plan_new(NULL, dc->prune);
	kr_plan_add_host(hc.env, name);
	kr_plan_add_host(hc.acc, name);
	kr_plan_add_host(hc.app, name);

	if (h) {
		app_ec = kr_xcalloc(h->napps + 1, sizeof(*app_ec));
		acc_ec = kr_xcalloc(h->naccessories + 1, sizeof(*acc_ec));
		app_env = kr_xcalloc(h->napps + 1, sizeof(*app_env));
		app_chg = kr_xcalloc(h->napps + 1, sizeof(*app_chg));
		acc_env = kr_xcalloc(h->naccessories + 1, sizeof(*acc_env));
		for (i = 0; i < h->naccessories; i++)
			if (h->accessories[i].env_file.path)
				acc_env[i] = kr_diff_plan_env(&hc,
					"accessories", h->accessories[i].name,
					&h->accessories[i].env_file,
					&acc_ec[i]);
		for (i = 0; i < h->napps; i++)
			if (h->apps[i].env_file.path)
				app_env[i] = kr_diff_plan_env(&hc, "roles",
					h->apps[i].role, &h->apps[i].env_file,
					&app_ec[i]);
		for (i = 0; i < h->naccessories; i++) {
			struct kr_change *c =
				kr_diff_plan_accessory(&hc, &h->accessories[i],
					acc_env[i] ? &acc_ec[i] : NULL);

			/* an env file waits with the container reading it */
			if (c->status == KR_STATUS_WAITING && acc_env[i] &&
				acc_env[i]->status == KR_STATUS_PLANNED) {
				acc_env[i]->status = KR_STATUS_WAITING;
				acc_env[i]->image = kr_xstrdup(c->image);
			}
		}
		for (i = 0; i < h->napps; i++) {
			app_chg[i] =
				kr_diff_plan_app(&hc, &h->apps[i], &app_ec[i]);
			if (app_chg[i]->status == KR_STATUS_WAITING &&
				app_env[i] &&
				app_env[i]->status == KR_STATUS_PLANNED) {
				app_env[i]->status = KR_STATUS_WAITING;
				app_env[i]->image =
					kr_xstrdup(app_chg[i]->image);
			}
		}
		for (i = 0; i < h->naccessories; i++) {
			const char *n = h->accessories[i].network;

			if (n && !kr_strvec_contains(&nets, n))
				kr_strvec_push(&nets, n);
		}
		for (i = 0; i < h->napps; i++) {
			const char *n = h->apps[i].network;

			if (n && !kr_strvec_contains(&nets, n))
				kr_strvec_push(&nets, n);
		}
	}
	kr_diff_plan_removed_env(&hc);
	kr_diff_plan_removed_accessories(&hc);
	kr_diff_plan_removed_routes(&hc);
	kr_diff_plan_removed_apps(&hc);
	kr_diff_plan_routes(&hc);

	/* networks first, in the order the containers name them */
	for (i = 0; i < nets.n; i++) {
		bool have = kr_strvec_contains(&oh->networks, nets.v[i]);
		struct kr_change *c = kr_plan_add_change(p, KR_CHANGE_NETWORK,
			nets.v[i], have ? KR_ACTION_NOOP : KR_ACTION_CREATE);

		kr_change_attr(c, "name", have ? nets.v[i] : NULL, nets.v[i]);
		if (!have)
			kr_change_set_reason(
				c, "network '%s' does not exist", nets.v[i]);
	}
	/* a login when a planned change pulls from the configured registry
	 * (app images always do, whatever their reference looks like) */
	for (i = 0; i < hc.pulls.n; i++) {
		bool app_image = false;
		size_t j;

		for (j = 0; h && j < h->napps; j++)
			if (str_eq(h->apps[j].image, hc.pulls.v[i]))
				app_image = true;
		if (app_image || image_in_registry(hc.pulls.v[i], reg))
			kr_strvec_push(&logins, hc.pulls.v[i]);
	}
	if (logins.n && dc->d->registry.username) {
		struct kr_buf why = KR_BUF_INIT;
		struct kr_change *c = kr_plan_add_change(
			p, KR_CHANGE_LOGIN, reg, KR_ACTION_RUN);

		kr_change_attr(c, "server", NULL, reg);
		kr_change_attr(c, "username", NULL, dc->d->registry.username);
		kr_change_attr_sensitive(c, "password", false, true, true);
		kr_buf_puts(&why, "to pull ");
		kr_diff_put_key_list(&why, &logins);
		kr_diff_set_reason_buf(c, &why);
	}
	kr_diff_plan_proxy(p, &hc);
	kr_plan_move_changes(p, hc.env);
	kr_plan_move_changes(p, hc.acc);
	kr_plan_move_changes(p, hc.app);
	for (i = 0; h && i < h->napps; i++)
		kr_diff_env_cmp_release(&app_ec[i]);
	for (i = 0; h && i < h->naccessories; i++)
		kr_diff_env_cmp_release(&acc_ec[i]);
	free(app_ec);
	free(acc_ec);
	free(app_env);
	free(app_chg);
	free(acc_env);
	kr_strvec_release(&nets);
	kr_strvec_release(&logins);
	kr_strvec_release(&hc.pulls);
}

void
kr_diff_images(struct kr_strvec *out, const struct kr_desired *d)
{
	size_t i, j;

	for (i = 0; i < d->nhosts; i++)
		for (j = 0; j < d->hosts[i].napps; j++)
			if (d->hosts[i].apps[j].image &&
				!kr_strvec_contains(
					out, d->hosts[i].apps[j].image))
				kr_strvec_push(out, d->hosts[i].apps[j].image);
	for (i = 0; i < d->nhosts; i++)
		for (j = 0; j < d->hosts[i].naccessories; j++) {
			const char *img = d->hosts[i].accessories[j].image;

			if (img && !kr_strvec_contains(out, img))
				kr_strvec_push(out, img);
		}
}

static const struct kr_host *
desired_host(const struct kr_desired *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->nhosts; i++)
		if (str_eq(d->hosts[i].name, name))
			return &d->hosts[i];
	return NULL;
}

int
kr_diff_build(struct kr_plan **out, const struct kr_desired *d,
	const struct kr_observed_host *hosts, size_t nhosts,
	const struct kr_diff_opts *opts)
{
	static const struct kr_diff_opts defaults;
	struct dctx dc = { .d = d, .opts = opts ? opts : &defaults };
	struct kr_plan *p;
	size_t i, j;

	if (!d || !d->service || !*d->service) {
		kr_error_set(KR_EINVAL, "desired model has no service");
		return KR_EINVAL;
	}
	dc.prune = dc.opts->prune || d->prune;
	dc.dest = d->destination ? d->destination : "";
	if (*dc.dest)
		dc.env_dir = kr_xasprintf(
			".kamal/apps/%s-%s/env/", d->service, dc.dest);
	else
		dc.env_dir = kr_xasprintf(".kamal/apps/%s/env/", d->service);
	p = kr_plan_new(d, dc.prune);
	for (i = 0; i < d->nhosts; i++) {
		const struct kr_observed_host *oh = NULL;

		for (j = 0; j < nhosts; j++)
			if (str_eq(hosts[j].name, d->hosts[i].name))
				oh = &hosts[j];
		plan_host(p, &dc, d->hosts[i].name, &d->hosts[i], oh);
	}
	for (j = 0; j < nhosts; j++)
		if (hosts[j].name && !desired_host(d, hosts[j].name))
			plan_host(p, &dc, hosts[j].name, NULL, &hosts[j]);
	free(dc.env_dir);
	*out = p;
	return 0;
}
