/*
 * The field-by-field comparison of one app or accessory container with its
 * Kamal definition: an attribute per field (image, cmd, options, labels,
 * env, env file, network, restart, ports, volumes, directories, files,
 * logging, state, defhash) and a phrase per defining field that differs.
 * What is compared is documented in docs/diff.md.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/quote.h"
#include "reconciler/defhash.h"
#include "reconciler/diff_int.h"

static void
collapse_ws(struct kr_buf *b, const char *s)
{
	bool space = false;

	for (; s && *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n') {
			space = b->len > 0;
			continue;
		}
		if (space)
			kr_buf_putc(b, ' ');
		space = false;
		kr_buf_putc(b, *s);
	}
}

static bool
cmd_eq(const char *a, const char *b)
{
	struct kr_buf x = KR_BUF_INIT, y = KR_BUF_INIT;
	bool eq;

	collapse_ws(&x, a);
	collapse_ws(&y, b);
	eq = strcmp(x.ptr, y.ptr) == 0;
	kr_buf_release(&x);
	kr_buf_release(&y);
	return eq;
}

static void
push_changed_keys(struct kr_strvec *phrases, const char *what,
	const struct kr_strvec *keys)
{
	struct kr_buf b = KR_BUF_INIT;

	if (!keys->n)
		return;
	kr_buf_printf(&b, "%s changed: ", what);
	kr_diff_put_key_list(&b, keys);
	kr_strvec_push_owned(phrases, kr_buf_detach(&b, NULL));
}

/*
 * A map compared as a subset: every desired key must be in the container
 * with the same value; keys the container has beyond those (set by the
 * image, or by Docker) are not compared. One attribute per desired key.
 */
static void
map_attrs(struct kr_change *c, const char *prefix, const struct kr_kvlist *want,
	const struct kr_kvlist *have, struct kr_strvec *changed, unsigned flags)
{
	size_t i;

	for (i = 0; i < want->n; i++) {
		char *name = kr_xasprintf("%s.%s", prefix, want->v[i].key);
		const char *before =
			have ? kr_kvlist_get(have, want->v[i].key) : NULL;
		struct kr_attr *a = kr_change_attr(
			c, name, have ? before : NULL, want->v[i].value);

		a->flags |= flags;
		if (have && a->changed)
			kr_strvec_push(changed, want->v[i].key);
		free(name);
	}
}

/*
 * Clear env: each desired key compared with what the container got from
 * Kamal's escaping of the value (kr_kamal_value_template): a `${...}` the
 * host's shell expanded matches any text; a blank value is passed as a
 * bare --env KEY (not set), so it is shown, never compared.
 */
static void
env_attrs(struct kr_change *c, const struct kr_kvlist *want,
	const struct kr_kvlist *have, struct kr_strvec *changed)
{
	struct kr_buf t = KR_BUF_INIT, shown = KR_BUF_INIT;
	size_t i;

	for (i = 0; i < want->n; i++) {
		const char *key = want->v[i].key, *v = want->v[i].value;
		const char *before = have ? kr_kvlist_get(have, key) : NULL;
		bool blank = kr_kamal_blank(v);
		char *name = kr_xasprintf("env.%s", key);
		struct kr_attr *a;

		kr_buf_reset(&t);
		kr_buf_reset(&shown);
		if (blank) {
			kr_buf_puts(&shown, "(unset)");
		} else {
			kr_kamal_value_template(&t, v);
			kr_kamal_template_text(&shown, t.ptr);
		}
		a = kr_change_attr(c, name,
			have ? (before ? before : "(unset)") : NULL, shown.ptr);
		a->flags |= KR_ATTR_FORCES;
		if (have)
			a->changed =
				!blank && !(before && kr_kamal_template_match(
							      t.ptr, before));
		if (a->changed)
			kr_strvec_push(changed, key);
		free(name);
	}
	kr_buf_release(&t);
	kr_buf_release(&shown);
}

/* The fields an app and an accessory share. `oc` NULL: a create. */
struct fields {
	const char *image;
	const char *cmd;
	const struct kr_strvec *args;
	const struct kr_strvec *volumes;
	const struct kr_kvlist *labels;
	const struct kr_kvlist *env;
	const struct kr_env_file *env_file;
	const char *network;
	const char *restart;
};

static void
common_attrs(struct kr_change *c, const struct fields *f,
	const struct kr_obs_container *oc, struct kr_strvec *phrases,
	bool image_phrase, const char *image_suffix)
{
	struct kr_strvec changed = { 0 };
	struct kr_attr *a;
	size_t i;

	a = kr_change_attr(c, "image", oc ? oc->image : NULL, f->image);
	a->flags |= KR_ATTR_FORCES;
	if (oc && a->changed && image_phrase)
		kr_strvec_push_owned(
			phrases, kr_xasprintf("image %s → %s%s",
					 oc->image ? oc->image : "(none)",
					 f->image, image_suffix));
	if (f->cmd) {
		a = kr_change_attr(
			c, "cmd", oc ? (oc->cmd ? oc->cmd : "") : NULL, f->cmd);
		a->flags |= KR_ATTR_FORCES;
		if (oc)
			a->changed = !cmd_eq(oc->cmd, f->cmd);
		if (oc && a->changed)
			kr_strvec_push(phrases, "cmd changed");
	}
	if (f->args->n)
		/* the words as given; each known option compared below */
		kr_change_attr_list(c, "options", oc ? f->args : NULL, f->args);
	kr_diff_options_attrs(c, f->args, oc, phrases);
	map_attrs(c, "labels", f->labels, oc ? &oc->labels : NULL, &changed,
		KR_ATTR_FORCES);
	push_changed_keys(phrases, "labels", &changed);
	kr_strvec_release(&changed);
	env_attrs(c, f->env, oc ? &oc->env : NULL, &changed);
	push_changed_keys(phrases, "clear env", &changed);
	kr_strvec_release(&changed);
	if (f->env_file && f->env_file->path) {
		kr_change_attr(c, "env_file", oc ? f->env_file->path : NULL,
			f->env_file->path);
		/* keys of the env file the container does not have: it was
		 * started before they were added */
		for (i = 0; oc && i < f->env_file->secrets.n; i++)
			if (!kr_kvlist_get(
				    &oc->env, f->env_file->secrets.v[i].key))
				kr_strvec_push(&changed,
					f->env_file->secrets.v[i].key);
		if (changed.n) {
			struct kr_buf b = KR_BUF_INIT;

			kr_buf_puts(&b, "container env lacks ");
			kr_diff_put_key_list(&b, &changed);
			kr_buf_puts(&b, " (env file changed since it started)");
			kr_strvec_push_owned(phrases, kr_buf_detach(&b, NULL));
		}
		kr_strvec_release(&changed);
	}
	if (f->network) {
		const char *before = NULL;

		if (oc && kr_strvec_contains(&oc->networks, f->network))
			before = f->network;
		else if (oc)
			before = oc->networks.n ? oc->networks.v[0] : "";
		a = kr_change_attr(c, "network", before, f->network);
		a->flags |= KR_ATTR_FORCES;
		if (oc && a->changed)
			kr_strvec_push_owned(
				phrases, kr_xasprintf("network %s → %s", before,
						 f->network));
	}
	if (f->restart) {
		a = kr_change_attr(c, "restart",
			oc ? (oc->restart ? oc->restart : "") : NULL,
			f->restart);
		a->flags |= KR_ATTR_FORCES;
		if (oc && a->changed)
			kr_strvec_push_owned(phrases,
				kr_xasprintf("restart policy %s → %s",
					oc->restart ? oc->restart : "(none)",
					f->restart));
	}
}

static void
volumes_attr(struct kr_change *c, const char *name,
	const struct kr_strvec *specs, bool home,
	const struct kr_obs_container *oc, bool *used, bool extras,
	struct kr_strvec *phrases, const char *phrase)
{
	struct kr_strvec before = { 0 };
	struct kr_attr *a;

	if (!oc) {
		if (specs->n)
			kr_change_attr_list(c, name, NULL, specs);
		return;
	}
	kr_diff_mounts_before(&before, specs, home, oc, used);
	if (extras)
		kr_diff_mounts_extra(&before, oc, used);
	if (specs->n || before.n) {
		a = kr_change_attr_list(c, name, &before, specs);
		a->flags |= KR_ATTR_FORCES;
		if (a->changed)
			kr_strvec_push(phrases, phrase);
	}
	kr_strvec_release(&before);
}

/* Published ports (an accessory's port, --publish options) as sets. */
static void
ports_attr(struct kr_change *c, const struct kr_strvec *ports,
	const struct kr_strvec *args, const struct kr_obs_container *oc,
	struct kr_strvec *phrases)
{
	struct kr_strvec all = { 0 }, want = { 0 }, have = { 0 };
	struct kr_attr *a;

	kr_strvec_copy(&all, ports);
	kr_diff_options_publish(&all, args);
	kr_diff_ports_set(&want, &all);
	if (oc)
		kr_diff_ports_set(&have, &oc->ports);
	if (want.n || have.n) {
		a = kr_change_attr_list(c, "ports", oc ? &have : NULL, &want);
		a->flags |= KR_ATTR_FORCES;
		if (oc && a->changed)
			kr_strvec_push(phrases, "ports changed");
	}
	kr_strvec_release(&all);
	kr_strvec_release(&want);
	kr_strvec_release(&have);
}

static void
tail_attrs(struct kr_change *c, const struct kr_obs_container *oc,
	const char *defhash)
{
	kr_change_attr(c, "state", oc ? (oc->state ? oc->state : "") : NULL,
		"running");
	kr_change_attr(
		c, "defhash", oc ? label(oc, KR_DEFHASH_LABEL) : NULL, defhash);
}

/* The log driver only when configured; options as a subset. */
static void
logging_attrs(struct kr_change *c, const struct kr_logging *lg,
	const struct kr_obs_container *oc, struct kr_strvec *phrases)
{
	struct kr_strvec changed = { 0 };
	struct kr_attr *at;

	if (lg->driver) {
		at = kr_change_attr(c, "log_driver",
			oc ? (oc->log_driver ? oc->log_driver : "") : NULL,
			lg->driver);
		at->flags |= KR_ATTR_FORCES;
		if (oc && at->changed)
			kr_strvec_push(&changed, "driver");
	}
	map_attrs(c, "log_opts", &lg->options, oc ? &oc->log_opts : NULL,
		&changed, KR_ATTR_FORCES);
	push_changed_keys(phrases, "logging", &changed);
	kr_strvec_release(&changed);
}

/* App fields; pushes a phrase per differing defining field except image. */
void
kr_diff_app_attrs(struct kr_change *c, const struct kr_app *a,
	const struct kr_obs_container *oc, const char *defhash,
	struct kr_strvec *phrases)
{
	struct fields f = {
		.image = a->image,
		.cmd = a->cmd,
		.args = &a->args,
		.volumes = &a->volumes,
		.labels = &a->labels,
		.env = &a->env,
		.env_file = &a->env_file,
		.network = a->network,
		.restart = a->restart,
	};
	bool *used = NULL;

	kr_change_attr(c, "name", oc ? cname(oc) : NULL, a->name);
	common_attrs(c, &f, oc, phrases, false, "");
	{
		static const struct kr_strvec none = { 0 };

		ports_attr(c, &none, &a->args, oc, phrases);
	}
	if (oc)
		used = kr_xcalloc(oc->nmounts + 1, sizeof(*used));
	volumes_attr(c, "volumes", &a->volumes, false, oc, used, true, phrases,
		"volumes changed");
	free(used);
	logging_attrs(c, &a->logging, oc, phrases);
	tail_attrs(c, oc, defhash);
}

/*
 * A file not mounted as configured: the container's mount at its mount
 * point (now accounted for, not an extra volume) in another mode, or none.
 */
static void
file_mount_attr(struct kr_change *c, const struct kr_acc_file *af,
	const struct kr_obs_container *oc, bool *used,
	struct kr_strvec *phrases)
{
	const char *before = "(not mounted)";
	char *name = kr_xasprintf("mounts.%s", af->remote);
	struct kr_attr *a;
	size_t j;

	for (j = 0; j < oc->nmounts; j++) {
		const struct kr_obs_mount *om = &oc->mounts[j];

		if (!used[j] && om->destination &&
			strcmp(om->destination, af->remote) == 0) {
			used[j] = true;
			before = om->rw ? "rw" : "ro";
			break;
		}
	}
	a = kr_change_attr(c, name, before, af->options ? af->options : "rw");
	a->flags |= KR_ATTR_FORCES;
	a->changed = true;
	kr_strvec_push_owned(phrases,
		kr_xasprintf("file %s is mounted %s, "
			     "not %s",
			af->local, before, af->options ? af->options : "rw"));
	free(name);
}

/* Accessory fields, including its files' content on the host. */
void
kr_diff_acc_attrs(struct kr_change *c, const struct kr_accessory *acc,
	const struct kr_obs_container *oc, const struct kr_observed_host *oh,
	const char *defhash, struct kr_strvec *phrases)
{
	struct fields f = {
		.image = acc->image,
		.cmd = acc->cmd,
		.args = &acc->args,
		.volumes = &acc->volumes,
		.labels = &acc->labels,
		.env = &acc->env,
		.env_file = &acc->env_file,
		.network = acc->network,
		.restart = acc->restart,
	};
	struct kr_strvec fmounts = { 0 };
	bool *used = NULL;
	struct kr_attr *a;
	size_t i;

	kr_change_attr(c, "name", oc ? cname(oc) : NULL, acc->container);
	common_attrs(c, &f, oc, phrases, true, " forces replacement");
	ports_attr(c, &acc->ports, &acc->args, oc, phrases);
	if (oc)
		used = kr_xcalloc(oc->nmounts + 1, sizeof(*used));
	volumes_attr(c, "directories", &acc->directories, true, oc, used, false,
		phrases, "directories changed");
	for (i = 0; i < acc->nfiles; i++)
		kr_strvec_push_owned(&fmounts,
			kr_xasprintf("%s:%s%s%s", acc->files[i].host_path,
				acc->files[i].remote,
				acc->files[i].options ? ":" : "",
				acc->files[i].options ? acc->files[i].options :
							""));
	if (oc) {
		/* files are mounts too: mark them before looking for extras */
		struct kr_strvec matched = { 0 };

		kr_diff_mounts_before(&matched, &fmounts, true, oc, used);
		for (i = 0; i < acc->nfiles; i++)
			if (!kr_strvec_contains(&matched, fmounts.v[i]))
				file_mount_attr(
					c, &acc->files[i], oc, used, phrases);
		kr_strvec_release(&matched);
	}
	volumes_attr(c, "volumes", &acc->volumes, false, oc, used, true,
		phrases, "volumes changed");
	free(used);
	for (i = 0; i < acc->nfiles; i++) {
		const struct kr_acc_file *af = &acc->files[i];
		const struct kr_obs_file *of =
			kr_diff_find_file(oh, af->host_path);
		char *name = kr_xasprintf("files.%s", af->remote);

		a = kr_change_attr(c, name, oc ? (of ? of->sha256 : "") : NULL,
			af->sha256);
		a->flags |= KR_ATTR_FORCES;
		if (oc && a->changed)
			kr_strvec_push_owned(phrases,
				of ? kr_xasprintf("file %s content changed",
					     af->local) :
				     kr_xasprintf(
					     "file %s is missing on the host",
					     af->local));
		free(name);
	}
	logging_attrs(c, &acc->logging, oc, phrases);
	kr_strvec_release(&fmounts);
	tail_attrs(c, oc, defhash);
}
