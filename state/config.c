/*
 * deploy.yml → struct kr_config (see config.h): loading (read the base and
 * destination files, render the ERB subset, parse the YAML, deep-merge), then
 * the walk over the merged tree (config_root.c) that both checks every key
 * against Kamal 2's schema and fills the typed model. Each problem is added
 * to the diagnostics with the position of the node at fault, and the walk
 * goes on, so one run reports everything.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "common/hash.h"
#include "state/config.h"
#include "state/config_int.h"

/*
 * The directory Kamal runs in for this file: the app root, which holds
 * config/. Kamal runs where `kamal` is started, which is that root for
 * config/deploy.yml; for a file elsewhere it is the current directory.
 */
static char *
app_root(const char *file)
{
	const char *slash = strrchr(file, '/');
	size_t n;

	if (!slash)
		return NULL;
	n = (size_t)(slash - file);
	if (n >= 6 && memcmp(slash - 6, "config", 6) == 0 &&
		(n == 6 || slash[-7] == '/'))
		return n == 6 ? NULL : kr_xstrndup(file, n - 7 ? n - 7 : 1);
	return NULL;
}

/* Render and parse one file; NULL on errors (in diags). */
static struct kr_yaml_node *
load_one(struct kr_diags *d, const char *file, const char *text, size_t len,
	const struct kr_config_load_opts *opts, struct kr_sha256 *h)
{
	struct kr_buf out = KR_BUF_INIT;
	struct kr_erb_map map = { 0 };
	struct kr_erb_opts eo = { 0 };
	struct kr_yaml_node *root = NULL;
	char *dir = NULL;
	int rc;

	eo.getenv_fn = opts ? opts->getenv_fn : NULL;
	eo.getenv_ctx = opts ? opts->getenv_ctx : NULL;
	eo.trim = true;
	eo.ruby = opts ? opts->ruby : NULL;
	eo.timeout = opts ? opts->erb_timeout : 0;
	eo.no_commands = opts && opts->erb_no_commands;
	eo.dir = dir = app_root(file);
	rc = kr_erb_render_opts(&out, &map, d, file, text, len, &eo);
	free(dir);
	if (rc != 0)
		kr_cfg_kamal1_hint(d, file, text, len);
	kr_sha256_field(h, file);
	kr_sha256_update(h, out.ptr, out.len);
	if (rc == 0 && memchr(out.ptr, '\0', out.len)) {
		kr_diags_add(d, file, 0, 0, "file contains a NUL byte");
		rc = KR_ECONFIG;
	}
	if (rc == 0)
		kr_yaml_parse(&root, d, file, out.ptr, out.len,
			kr_erb_map_position, &map);
	kr_erb_map_release(&map);
	kr_buf_release(&out);
	return root;
}

int
kr_config_load_text(struct kr_config **out, struct kr_diags *diags,
	const char *file, const char *text, size_t len, const char *dest_file,
	const char *dest_text, size_t dest_len,
	const struct kr_config_load_opts *opts)
{
	struct kr_config *c = kr_xcalloc(1, sizeof(*c));
	struct kr_yaml_node *root = NULL, *dest = NULL;
	struct kr_sha256 h;
	struct kr_cfg_ctx x = { diags, c, opts ? opts->warnings : NULL };
	size_t before = diags->n;
	int rc = KR_ECONFIG;

	c->file = kr_xstrdup(file);
	if (opts && opts->destination)
		c->destination = kr_xstrdup(opts->destination);
	if (dest_file)
		c->dest_file = kr_xstrdup(dest_file);
	/* Kamal: ENV["KAMAL_DESTINATION"] = destination, before rendering */
	if (!opts || !opts->getenv_fn) {
		if (opts && opts->destination)
			setenv("KAMAL_DESTINATION", opts->destination, 1);
		else
			unsetenv("KAMAL_DESTINATION");
	}
	kr_sha256_init(&h);
	root = load_one(diags, file, text, len, opts, &h);
	if (dest_text)
		dest = load_one(
			diags, dest_file, dest_text, dest_len, opts, &h);
	kr_sha256_final(&h, c->sha256);
	if (!root || (dest_text && !dest))
		goto out;
	if (root->type != KR_YAML_MAP) {
		kr_cfg_err(&x, root,
			"the configuration should be a map of keys, not %s",
			kr_yaml_kind_name(kr_yaml_kind(root)));
		goto out;
	}
	if (dest) {
		if (dest->type != KR_YAML_MAP &&
			!(dest->type == KR_YAML_NULL)) {
			kr_cfg_err(&x, dest,
				"the destination configuration should be a map "
				"of keys, not %s",
				kr_yaml_kind_name(kr_yaml_kind(dest)));
			goto out;
		}
		if (dest->type == KR_YAML_MAP) {
			kr_yaml_deep_merge(&root, dest);
			dest = NULL;
		}
	}
	c->root = root;
	root = NULL;
	kr_cfg_root_node(&x, c->root);
	kr_cfg_check_roles(&x, c->root);
	if (diags->n == before || (opts && opts->partial)) {
		rc = diags->n == before ? 0 : KR_ECONFIG;
		*out = c;
		c = NULL;
	}
out:
	kr_yaml_free(root);
	kr_yaml_free(dest);
	kr_config_free(c);
	if (rc)
		kr_error_set(rc, "'%s' is not a valid configuration", file);
	return rc;
}

/* config/deploy.yml → config/deploy.staging.yml (Ruby's sub_ext). */
static char *
dest_path(const char *file, const char *dest)
{
	const char *slash = strrchr(file, '/');
	const char *dot = strrchr(slash ? slash + 1 : file, '.');

	if (!dot || dot == (slash ? slash + 1 : file))
		return kr_xasprintf("%s.%s.yml", file, dest);
	return kr_xasprintf("%.*s.%s.yml", (int)(dot - file), file, dest);
}

int
kr_config_load(struct kr_config **out, struct kr_diags *diags, const char *file,
	const struct kr_config_load_opts *opts)
{
	char *text = NULL, *dtext = NULL, *dfile = NULL;
	size_t len = 0, dlen = 0;
	int rc;

	if ((rc = kr_file_read(&text, &len, file, KR_FILE_MAX_CONFIG)) != 0) {
		kr_diags_add(diags, file, 0, 0, "%s",
			rc == KR_ENOTFOUND ? "configuration file not found" :
					     kr_error_last());
		kr_error_set(rc, "cannot read '%s'", file);
		return rc;
	}
	if (opts && opts->destination && !kr_cfg_name_ok(opts->destination)) {
		char *e = kr_cfg_escaped(opts->destination);

		kr_diags_add(diags, file, 0, 0,
			"invalid destination '%s': use "
			"only letters, digits, '_', '.' and '-', and no '-' "
			"first",
			e);
		kr_error_set(KR_ECONFIG, "invalid destination '%s'", e);
		free(e);
		rc = KR_ECONFIG;
		goto out;
	}
	if (opts && opts->destination) {
		dfile = dest_path(file, opts->destination);
		if ((rc = kr_file_read(
			     &dtext, &dlen, dfile, KR_FILE_MAX_CONFIG)) != 0) {
			kr_diags_add(diags, dfile, 0, 0, "%s",
				rc == KR_ENOTFOUND ?
					"destination configuration file not "
					"found" :
					kr_error_last());
			kr_error_set(rc, "cannot read '%s'", dfile);
			goto out;
		}
	}
	rc = kr_config_load_text(
		out, diags, file, text, len, dfile, dtext, dlen, opts);
out:
	free(text);
	free(dtext);
	free(dfile);
	return rc;
}
