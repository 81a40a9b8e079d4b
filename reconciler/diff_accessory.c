/*
 * Accessory containers in the diff: plan one accessory on a host (create,
 * replace on a changed definition or file, start when stopped) and the
 * accessories on the host the configuration does not put there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reconciler/defhash.h"
#include "reconciler/diff_int.h"

static bool
desired_has_accessory(const struct kr_desired *d, const char *container)
{
	size_t i, j;

	for (i = 0; i < d->nhosts; i++)
		for (j = 0; j < d->hosts[i].naccessories; j++)
			if (str_eq(d->hosts[i].accessories[j].container,
				    container))
				return true;
	return false;
}

static bool
host_has_accessory(const struct kr_host *h, const char *container)
{
	size_t i;

	for (i = 0; h && i < h->naccessories; i++)
		if (str_eq(h->accessories[i].container, container))
			return true;
	return false;
}

struct kr_change *
kr_diff_plan_accessory(struct hctx *hc, const struct kr_accessory *acc,
	const struct env_cmp *ec)
{
	const struct dctx *dc = hc->dc;
	const struct kr_obs_container *oc = NULL;
	struct kr_strvec phrases = { 0 };
	struct kr_buf why = KR_BUF_INIT;
	char defhash[KR_SHA256_HEX];
	const char *hash;
	struct kr_change *c;
	bool differs, env_changed;
	size_t i;

	kr_defhash_accessory(defhash, acc);
	for (i = 0; i < hc->oh->ncontainers; i++)
		if (str_eq(cname(&hc->oh->containers[i]), acc->container))
			oc = &hc->oh->containers[i];
	c = kr_plan_add_change(
		hc->acc, KR_CHANGE_ACCESSORY, acc->name, KR_ACTION_NOOP);
	c->accessory = acc;
	c->env_file = &acc->env_file;
	memcpy(c->defhash, defhash, sizeof(defhash));
	kr_diff_acc_attrs(c, acc, oc, hc->oh, defhash, &phrases);
	kr_diff_env_age(&phrases, ec, &acc->env_file, oc);
	if (!oc) {
		c->action = KR_ACTION_CREATE;
		c->status = KR_STATUS_PLANNED;
		kr_change_set_reason(
			c, "no container '%s' on this host", acc->container);
		kr_diff_need_image(hc, c, acc->image);
		goto out;
	}
	hash = label(oc, KR_DEFHASH_LABEL);
	env_changed = ec && ec->of && ec->content_differs;
	if (hash)
		differs = strcmp(hash, defhash) != 0;
	else
		differs = env_changed || phrases.n > 0;
	if (kr_diff_digest_changed(hc, c, oc, acc->image, &phrases))
		differs = true;
	/* the host's copy of a file changed: drift, whatever the label says */
	for (i = 0; i < acc->nfiles; i++) {
		const struct kr_obs_file *of =
			kr_diff_find_file(hc->oh, acc->files[i].host_path);

		if (!of || strcmp(of->sha256, acc->files[i].sha256) != 0)
			differs = true;
	}
	if (differs) {
		if (env_changed)
			kr_buf_puts(&why, ec->reason);
		kr_diff_join_reason(&why, &phrases);
		if (!why.len)
			kr_diff_put_defhash_changed(&why, hash, defhash);
	}
	if (why.len) {
		c->action = KR_ACTION_REPLACE;
		if (!is_running(oc)) {
			kr_buf_puts(&why, "; ");
			kr_diff_put_drift(&why, dc, oc);
		}
		kr_strvec_push(&c->containers, cid(oc));
	} else if (!is_running(oc)) {
		/* a replacement removes the old container first (same name) */
		if (!kr_diff_plan_start(c, &why, dc, oc))
			kr_strvec_push(&c->containers, cid(oc));
	}
	kr_diff_finish_change(hc, c, &why, acc->image);
out:
	kr_buf_release(&why);
	kr_strvec_release(&phrases);
	return c;
}

void
kr_diff_plan_removed_accessories(struct hctx *hc)
{
	const struct dctx *dc = hc->dc;
	size_t i, n = strlen(dc->d->service) + 1;

	for (i = 0; i < hc->oh->ncontainers; i++) {
		const struct kr_obs_container *oc = &hc->oh->containers[i];
		struct kr_change *c;
		char *why;

		if (!kr_diff_is_accessory(dc, oc) ||
			host_has_accessory(hc->h, cname(oc)))
			continue;
		c = kr_plan_add_change(hc->acc, KR_CHANGE_ACCESSORY,
			cname(oc) + n, KR_ACTION_NOOP);
		kr_strvec_push(&c->containers, cid(oc));
		kr_change_attr(c, "name", cname(oc), NULL);
		kr_change_attr(c, "image", oc->image ? oc->image : "", NULL);
		kr_change_attr(c, "state", oc->state ? oc->state : "", NULL);
		why = kr_diff_removal_words(hc, "accessory", cname(oc) + n,
			desired_has_accessory(dc->d, cname(oc)));
		if (dc->prune) {
			char *w = kr_xasprintf("%s; its directories and files "
					       "are kept",
				why);

			free(why);
			why = w;
		}
		kr_diff_mark_removal(hc, c, why);
		free(why);
	}
}
