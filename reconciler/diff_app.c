/*
 * App containers in the diff: plan one role's container on a host (create,
 * replace on a new version or definition, start when stopped, stop extra
 * running ones) and the roles on the host the configuration does not put
 * there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reconciler/defhash.h"
#include "reconciler/diff_int.h"

static bool
desired_has_role(const struct kr_desired *d, const char *role)
{
	size_t i, j;

	for (i = 0; i < d->nhosts; i++)
		for (j = 0; j < d->hosts[i].napps; j++)
			if (str_eq(d->hosts[i].apps[j].role, role))
				return true;
	return false;
}

static bool
host_has_role(const struct kr_host *h, const char *role)
{
	size_t i;

	for (i = 0; h && i < h->napps; i++)
		if (str_eq(h->apps[i].role, role))
			return true;
	return false;
}

/* Plan one role's app container. `ec` is its env file's comparison. */
struct kr_change *
kr_diff_plan_app(
	struct hctx *hc, const struct kr_app *a, const struct env_cmp *ec)
{
	const struct dctx *dc = hc->dc;
	const struct kr_obs_container *run = NULL, *last = NULL, *oc;
	struct kr_strvec phrases = { 0 }, others = { 0 };
	struct kr_buf why = KR_BUF_INIT;
	char defhash[KR_SHA256_HEX], s1[64], s2[64];
	const char *ov = NULL, *hash;
	bool differs, env_changed;
	struct kr_change *c;
	size_t i;

	kr_defhash_app(defhash, a);
	for (i = 0; i < hc->oh->ncontainers; i++) {
		oc = &hc->oh->containers[i];
		if (!kr_diff_is_app(dc, oc) ||
			!str_eq(label(oc, "role"), a->role))
			continue;
		if (is_running(oc) && (!run || kr_diff_newer(oc, run)))
			run = oc;
		if (!last || kr_diff_newer(oc, last))
			last = oc;
	}
	for (i = 0; i < hc->oh->ncontainers; i++) {
		oc = &hc->oh->containers[i];
		if (oc != run && kr_diff_is_app(dc, oc) && is_live(oc) &&
			str_eq(label(oc, "role"), a->role))
			kr_strvec_push(&others, cid(oc));
	}
	oc = run ? run : last;
	c = kr_plan_add_change(hc->app, KR_CHANGE_APP, a->role, KR_ACTION_NOOP);
	c->app = a;
	c->env_file = &a->env_file;
	memcpy(c->defhash, defhash, sizeof(defhash));
	kr_diff_app_attrs(c, a, oc, defhash, &phrases);
	kr_diff_env_age(&phrases, ec, &a->env_file, oc);
	if (!oc) {
		c->action = KR_ACTION_CREATE;
		c->status = KR_STATUS_PLANNED;
		kr_change_set_reason(c,
			"no container for role '%s' on this "
			"host",
			a->role);
		kr_diff_need_image(hc, c, a->image);
		goto out;
	}
	ov = kr_obs_app_version(oc, dc->d->service, a->role, dc->dest);
	env_changed = ec->of && ec->content_differs && a->env_file.path;
	hash = label(oc, KR_DEFHASH_LABEL);
	/*
	 * A labelled container says what it was started with: if that is
	 * the desired definition, a changed env file on the host only needs
	 * rewriting. Without the label the host's file is all we know.
	 */
	if (hash)
		differs = strcmp(hash, defhash) != 0;
	else
		differs = env_changed || phrases.n > 0;
	if (kr_diff_digest_changed(hc, c, oc, a->image, &phrases))
		differs = true;
	if (!str_eq(ov, a->version)) {
		kr_diff_short_version(s1, sizeof(s1), ov);
		kr_diff_short_version(s2, sizeof(s2), a->version);
		kr_buf_printf(&why, "version %s → %s", s1, s2);
	} else if (differs && env_changed) {
		kr_buf_puts(&why, ec->reason);
	} else if (differs) {
		if (!str_eq(oc->image, a->image))
			kr_buf_printf(&why, "image %s → %s",
				oc->image ? oc->image : "(none)", a->image);
		kr_diff_join_reason(&why, &phrases);
		if (!why.len)
			kr_diff_put_defhash_changed(&why, hash, defhash);
	}
	if (why.len) {
		/* a new container; the running ones stop once it is healthy */
		c->action = KR_ACTION_REPLACE;
		if (!run) {
			kr_buf_puts(&why, "; ");
			kr_diff_put_drift(&why, dc, oc);
		}
		if (run)
			kr_strvec_push(&c->containers, cid(run));
		kr_strvec_copy(&c->containers, &others);
	} else if (!run) {
		/* started in place, or replaced (the old one is not listed) */
		kr_diff_plan_start(c, &why, dc, oc);
	} else if (others.n) {
		c->action = KR_ACTION_UPDATE;
		kr_buf_printf(&why,
			"%zu other container%s of role '%s' still "
			"running (drift)",
			others.n, others.n == 1 ? "" : "s", a->role);
		kr_strvec_copy(&c->containers, &others);
	}
	kr_diff_finish_change(hc, c, &why, a->image);
out:
	kr_buf_release(&why);
	kr_strvec_release(&phrases);
	kr_strvec_release(&others);
	return c;
}

/* Roles on the host that are not desired there, sorted by name. */
void
kr_diff_plan_removed_apps(struct hctx *hc)
{
	const struct dctx *dc = hc->dc;
	struct kr_strvec roles = { 0 };
	size_t i, j;

	for (i = 0; i < hc->oh->ncontainers; i++) {
		const struct kr_obs_container *oc = &hc->oh->containers[i];
		const char *role = label(oc, "role");

		if (kr_diff_is_app(dc, oc) && !host_has_role(hc->h, role) &&
			!kr_strvec_contains(&roles, role))
			kr_strvec_push(&roles, role);
	}
	if (roles.n)
		qsort(roles.v, roles.n, sizeof(*roles.v), kr_diff_str_cmp);
	for (j = 0; j < roles.n; j++) {
		struct kr_change *c = kr_plan_add_change(
			hc->app, KR_CHANGE_APP, roles.v[j], KR_ACTION_NOOP);
		const struct kr_obs_container *newest = NULL;
		char *why;

		for (i = 0; i < hc->oh->ncontainers; i++) {
			const struct kr_obs_container *oc =
				&hc->oh->containers[i];

			if (!kr_diff_is_app(dc, oc) ||
				!str_eq(label(oc, "role"), roles.v[j]))
				continue;
			kr_strvec_push(&c->containers, cid(oc));
			if (!newest || kr_diff_newer(oc, newest))
				newest = oc;
		}
		kr_change_attr(c, "name", cname(newest), NULL);
		kr_change_attr(
			c, "image", newest->image ? newest->image : "", NULL);
		kr_change_attr(
			c, "state", newest->state ? newest->state : "", NULL);
		why = kr_diff_removal_words(hc, "role", roles.v[j],
			desired_has_role(dc->d, roles.v[j]));
		kr_diff_mark_removal(hc, c, why);
		free(why);
	}
	kr_strvec_release(&roles);
}
