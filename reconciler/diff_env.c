/*
 * Env files in the diff: compare a role's or accessory's env file with the
 * host's copy (content hash, mode, key names; never values), plan its
 * create or update, and plan the removal of env files nobody reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reconciler/defhash.h"
#include "reconciler/diff_int.h"

static void
env_compare(struct env_cmp *out, const struct kr_observed_host *oh,
	const struct kr_env_file *ef)
{
	struct kr_strvec added = { 0 }, removed = { 0 }, keys = { 0 };
	struct kr_buf b = KR_BUF_INIT;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->of = kr_diff_find_file(oh, ef->path);
	if (!out->of) {
		out->content_differs = true;
		out->reason = kr_xstrdup("env file does not exist on the host");
		return;
	}
	out->content_differs = strcmp(out->of->sha256, ef->sha256) != 0;
	out->mode_differs =
		strcmp(kr_diff_mode_digits(out->of->mode), "600") != 0;
	if (out->content_differs) {
		for (i = 0; i < ef->secrets.n; i++) {
			kr_strvec_push(&keys, ef->secrets.v[i].key);
			if (!kr_strvec_contains(
				    &out->of->keys, ef->secrets.v[i].key))
				kr_strvec_push(&added, ef->secrets.v[i].key);
		}
		for (i = 0; i < out->of->keys.n; i++)
			if (!kr_kvlist_get(&ef->secrets, out->of->keys.v[i]))
				kr_strvec_push(&removed, out->of->keys.v[i]);
		if (added.n || removed.n) {
			kr_buf_puts(&b, "env file differs:");
			for (i = 0; i < added.n; i++)
				kr_buf_printf(&b, "%s %s added", i ? "," : "",
					added.v[i]);
			for (i = 0; i < removed.n; i++)
				kr_buf_printf(&b, "%s %s removed",
					(i || added.n) ? "," : "",
					removed.v[i]);
		} else {
			/* same key names: which value changed cannot be told */
			kr_buf_puts(&b, "env file content changed (keys: ");
			kr_diff_put_key_list(&b, &keys);
			kr_buf_putc(&b, ')');
		}
	} else if (out->mode_differs) {
		kr_buf_printf(&b, "env file mode %s → 600",
			kr_diff_mode_digits(out->of->mode));
	}
	if (b.len)
		out->reason = kr_buf_detach(&b, NULL);
	kr_buf_release(&b);
	kr_strvec_release(&added);
	kr_strvec_release(&removed);
	kr_strvec_release(&keys);
}

void
kr_diff_env_cmp_release(struct env_cmp *e)
{
	free(e->reason);
}

static void
env_attrs(struct kr_change *c, const struct kr_env_file *ef,
	const struct env_cmp *ec)
{
	const struct kr_obs_file *of = ec ? ec->of : NULL;
	struct kr_strvec after_keys = { 0 };
	size_t i;

	for (i = 0; ef && i < ef->secrets.n; i++)
		kr_strvec_push(&after_keys, ef->secrets.v[i].key);
	kr_change_attr(c, "path", of ? of->path : NULL, ef ? ef->path : NULL);
	kr_change_attr(c, "mode", of ? kr_diff_mode_digits(of->mode) : NULL,
		ef ? "600" : NULL);
	kr_change_attr_list(
		c, "keys", of ? &of->keys : NULL, ef ? &after_keys : NULL);
	kr_change_attr(
		c, "sha256", of ? of->sha256 : NULL, ef ? ef->sha256 : NULL);
	kr_change_attr_sensitive(c, "content", of != NULL, ef != NULL,
		ec ? ec->content_differs : true);
	kr_strvec_release(&after_keys);
}

/* Plan one env file (app role or accessory). */
struct kr_change *
kr_diff_plan_env(struct hctx *hc, const char *kind, const char *name,
	const struct kr_env_file *ef, struct env_cmp *ec)
{
	char *sub = kr_xasprintf("%s/%s", kind, name);
	struct kr_change *c;
	enum kr_action act;

	env_compare(ec, hc->oh, ef);
	if (!ec->of)
		act = KR_ACTION_CREATE;
	else if (ec->content_differs || ec->mode_differs)
		act = KR_ACTION_UPDATE;
	else
		act = KR_ACTION_NOOP;
	c = kr_plan_add_change(hc->env, KR_CHANGE_ENV, sub, act);
	c->env_file = ef;
	c->path = kr_xstrdup(ef->path);
	if (ec->reason)
		c->reason = kr_xstrdup(ec->reason);
	env_attrs(c, ef, ec);
	free(sub);
	return c;
}

/* Env files under env/roles/ and env/accessories/ nobody here reads. */
void
kr_diff_plan_removed_env(struct hctx *hc)
{
	const struct dctx *dc = hc->dc;
	size_t i, j, n = strlen(dc->env_dir);

	for (i = 0; i < hc->oh->nfiles; i++) {
		const struct kr_obs_file *of = &hc->oh->files[i];
		const char *rest, *kind = NULL;
		char *name, *addr, *why;
		bool wanted = false;
		struct kr_change *c;

		if (!of->path || strncmp(of->path, dc->env_dir, n) != 0 ||
			!kr_diff_ends_with(of->path, ".env"))
			continue;
		rest = of->path + n;
		if (strncmp(rest, "roles/", 6) == 0)
			kind = "role";
		else if (strncmp(rest, "accessories/", 12) == 0)
			kind = "accessory";
		else
			continue;
		for (j = 0; hc->h && j < hc->h->napps; j++)
			if (str_eq(hc->h->apps[j].env_file.path, of->path))
				wanted = true;
		for (j = 0; hc->h && j < hc->h->naccessories; j++)
			if (str_eq(hc->h->accessories[j].env_file.path,
				    of->path))
				wanted = true;
		if (wanted)
			continue;
		addr = kr_xstrndup(rest, strlen(rest) - 4);
		name = kr_xstrdup(strchr(addr, '/') + 1);
		c = kr_plan_add_change(
			hc->env, KR_CHANGE_ENV, addr, KR_ACTION_NOOP);
		c->path = kr_xstrdup(of->path);
		env_attrs(c, NULL,
			&(struct env_cmp){ .of = of, .content_differs = true });
		why = kr_diff_removal_words(hc, kind, name, false);
		kr_diff_mark_removal(hc, c, why);
		free(why);
		free(name);
		free(addr);
	}
}

/*
 * A container Kamal made (no defhash label) read its env file when it was
 * created: a file written later (or missing, and written by this plan) holds
 * values it may not have, e.g. after a crash between rewriting the file and
 * recreating the container. Times are both the host's clock, in seconds.
 */
void
kr_diff_env_age(struct kr_strvec *phrases, const struct env_cmp *ec,
	const struct kr_env_file *ef, const struct kr_obs_container *oc)
{
	if (!oc || !ef->path || label(oc, KR_DEFHASH_LABEL))
		return;
	if (!ec || !ec->of)
		kr_strvec_push(phrases, "env file is missing on the host (what "
					"the container read is unknown)");
	else if (ec->of->mtime && oc->created && ec->of->mtime > oc->created)
		kr_strvec_push(phrases, "env file was written after the "
					"container was created (an interrupted "
					"deploy?)");
}
