/* The shared loading step of every run (see load.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "drivers/git.h"
#include "reconciler/load.h"
#include "state/secrets.h"

int
kr_load_version(char **out, char **source, const char *app_version,
	const char *config_file)
{
	const char *env = getenv("VERSION");
	char *dir, *slash, *head = NULL;

	if (app_version && *app_version) {
		*out = kr_xstrdup(app_version);
		*source = kr_xstrdup("--app-version");
		return 0;
	}
	if (env && *env) {
		*out = kr_xstrdup(env);
		*source = kr_xstrdup("$VERSION");
		return 0;
	}
	dir = kr_xstrdup(config_file ? config_file : "");
	slash = strrchr(dir, '/');
	if (slash) {
		slash[slash == dir ? 1 : 0] = '\0';
	} else {
		free(dir);
		dir = kr_xstrdup(".");
	}
	if (kr_git_head(&head, dir) < 0) {
		kr_error_set(KR_ENOTFOUND,
			"no version to deploy: give "
			"--app-version or set VERSION, or keep the "
			"configuration "
			"in a git repository with a commit ('%s' is not in "
			"one)",
			dir);
		free(dir);
		return KR_ENOTFOUND;
	}
	free(dir);
	*out = head;
	*source = kr_xstrdup("git HEAD");
	return 0;
}

int
kr_load(struct kr_loaded *out, struct kr_diags *diags,
	const struct kr_source *src, unsigned flags)
{
	struct kr_diags warnings = { 0 };
	struct kr_config_load_opts lo = { .destination = src->destination,
		.partial = true };
	struct kr_secrets_opts so = { .command_timeout = 30,
		.run_commands = 1 };
	struct kr_resolve_opts ro = { 0 };
	bool skip = flags & KR_LOAD_SKIP_SECRETS;
	char *version = NULL, *source = NULL;
	int rc, sr;

	memset(out, 0, sizeof(*out));
	lo.warnings = &warnings;
	rc = kr_config_load(&out->config, diags, src->config, &lo);
	kr_diags_sort(&warnings);
	out->warnings = warnings;
	if (!out->config)
		return rc ? rc : KR_ECONFIG;
	if (!skip) {
		struct kr_buf where = KR_BUF_INIT;
		const char *spath = kr_config_secrets_path(out->config);
		size_t i;

		kr_secrets_filenames(
			&out->secret_files, spath, src->destination);
		for (i = 0; i < out->secret_files.n; i++)
			kr_buf_printf(&where, "%s%s",
				i ? (i + 1 == out->secret_files.n ? " or " :
								    ", ") :
				    "",
				out->secret_files.v[i]);
		sr = kr_secrets_load_path(
			&out->secrets, diags, spath, src->destination, &so);
		if (sr && !rc)
			rc = sr;
		/* when a secrets file failed, its keys are unknown: do not
		 * report every name as missing on top of that failure */
		if (!sr &&
			kr_config_check_secrets(
				out->config, &out->secrets, where.ptr, diags) &&
			!rc)
			rc = KR_ECONFIG;
		kr_buf_release(&where);
	}
	if (rc)
		return rc;

	if (kr_load_version(&version, &source, src->app_version, src->config) !=
		0) {
		if (!(flags & KR_LOAD_ANY_VERSION))
			return KR_ENOTFOUND;
		version = kr_xstrdup("unknown");
		source = kr_xstrdup("none");
	}
	ro.version = version;
	ro.version_source = source;
	ro.skip_secrets = skip;
	rc = kr_desired_resolve(&out->desired, diags, out->config,
		skip ? NULL : &out->secrets, &ro);
	free(version);
	free(source);
	return rc;
}

void
kr_loaded_release(struct kr_loaded *l)
{
	kr_config_free(l->config);
	kr_kvlist_release(&l->secrets);
	kr_strvec_release(&l->secret_files);
	kr_desired_free(l->desired);
	kr_diags_release(&l->warnings);
	memset(l, 0, sizeof(*l));
}

static void
add_env_secrets(struct kr_kvlist *out, const struct kr_env_file *ef)
{
	size_t i;

	for (i = 0; i < ef->secrets.n; i++)
		if (ef->secrets.v[i].value && *ef->secrets.v[i].value)
			kr_kvlist_append(out, ef->secrets.v[i].key,
				ef->secrets.v[i].value);
}

/* A key_data entry is a secret's name, or (deprecated) the key itself. */
bool
kr_load_is_inline_key(const char *s)
{
	return strstr(s, "-----BEGIN") != NULL;
}

void
kr_load_secret_values(struct kr_kvlist *out, const struct kr_loaded *l)
{
	const struct kr_desired *d = l->desired;
	size_t i, j;

	if (d) {
		for (i = 0; i < d->nhosts; i++) {
			for (j = 0; j < d->hosts[i].napps; j++)
				add_env_secrets(
					out, &d->hosts[i].apps[j].env_file);
			for (j = 0; j < d->hosts[i].naccessories; j++)
				add_env_secrets(out,
					&d->hosts[i].accessories[j].env_file);
		}
		if (d->registry.password && *d->registry.password)
			kr_kvlist_append(
				out, "registry/password", d->registry.password);
	}
	if (!l->config)
		return;
	for (i = 0; i < l->config->ssh.key_data.n; i++) {
		const char *name = l->config->ssh.key_data.v[i];
		const char *v = kr_load_is_inline_key(name) ?
					name :
					kr_kvlist_get(&l->secrets, name);

		if (v && *v)
			kr_kvlist_append(out, "ssh/key_data", v);
	}
}
