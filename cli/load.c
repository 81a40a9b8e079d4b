/* The shared loading step of the commands (see load.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/load.h"
#include "common/buf.h"
#include "common/error.h"
#include "state/secrets.h"

void
kr_cli_print_diags(struct kr_diags *d)
{
	size_t i;

	kr_diags_sort(d);
	for (i = 0; i < d->n; i++) {
		char *s = kr_diag_format(&d->v[i]);

		fprintf(stderr, "%s\n", s);
		free(s);
	}
}

int
kr_cli_load(struct kr_loaded *out, struct kr_diags *diags,
	const struct kr_globals *g, unsigned flags)
{
	struct kr_config_load_opts lo = { .destination = g->destination,
		.partial = true };
	struct kr_secrets_opts so = { .command_timeout = 30, .run_commands = 1 };
	struct kr_resolve_opts ro = { 0 };
	bool skip = flags & KR_LOAD_SKIP_SECRETS;
	char *version = NULL, *source = NULL;
	int rc, src;

	memset(out, 0, sizeof(*out));
	rc = kr_config_load(&out->config, diags, g->config, &lo);
	if (!out->config)
		return rc ? rc : KR_ECONFIG;
	if (!skip) {
		struct kr_buf where = KR_BUF_INIT;
		const char *spath = kr_config_secrets_path(out->config);
		size_t i;

		kr_secrets_filenames(&out->secret_files, spath, g->destination);
		for (i = 0; i < out->secret_files.n; i++)
			kr_buf_printf(&where, "%s%s", i ? (i + 1 == out->secret_files.n ?
				" or " : ", ") : "", out->secret_files.v[i]);
		src = kr_secrets_load_path(&out->secrets, diags, spath,
			g->destination, &so);
		if (src && !rc)
			rc = src;
		/* when a secrets file failed, its keys are unknown: do not
		 * report every name as missing on top of that failure */
		if (!src && kr_config_check_secrets(out->config, &out->secrets,
			where.ptr, diags) && !rc)
			rc = KR_ECONFIG;
		kr_buf_release(&where);
	}
	if (rc)
		return rc;

	if (kr_desired_version(&version, &source, g->app_version,
		g->config) != 0) {
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
	memset(l, 0, sizeof(*l));
}
