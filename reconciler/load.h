/*
 * What every run that needs the desired state does first: load deploy.yml
 * (with the destination's file), read the secrets files Kamal would read,
 * check every secret the configuration names, choose the version and
 * resolve the per-host model. All problems are collected in one kr_diags
 * so a caller can report them together, sorted.
 */
#ifndef KR_RECONCILER_LOAD_H
#define KR_RECONCILER_LOAD_H

#include "common/diag.h"
#include "common/vec.h"
#include "state/config.h"
#include "state/desired.h"

/* Where a run's configuration comes from (the CLI's global options, or a
 * watcher's checkout). Strings are borrowed. */
struct kr_source {
	const char *config; /* deploy.yml; default "config/deploy.yml" */
	const char *destination; /* NULL = none */
	const char *app_version; /* NULL = $VERSION, else the git HEAD */
	const char
		*state_path; /* NULL = .kreconcile/state.db beside the config */
};

#define KR_LOAD_SKIP_SECRETS \
	0x1 /* do not read secrets; names are not checked */
#define KR_LOAD_ANY_VERSION 0x2 /* no version is no error (validate) */

struct kr_loaded {
	struct kr_config *config; /* NULL when the config could not be read */
	struct kr_kvlist secrets; /* SECRET values; empty with SKIP_SECRETS */
	struct kr_strvec secret_files; /* the files read, in order */
	struct kr_desired *desired; /* NULL unless everything succeeded */
	/* what Kamal accepts and kreconcile passes on as Kamal does */
	struct kr_diags warnings;
};

/*
 * Returns 0 with everything filled in, or a negative KR_E* with the
 * problems in diags (config errors, secrets errors, missing secrets,
 * resolution errors) or, when there is no position to give (no version),
 * in kr_error_last(). `out` is always initialised; release it.
 */
int kr_load(struct kr_loaded *out, struct kr_diags *diags,
	const struct kr_source *src, unsigned flags);
void kr_loaded_release(struct kr_loaded *l);

/*
 * The version to deploy, as Kamal chooses it: app_version (--app-version),
 * else $VERSION, else the git HEAD of the repository holding config_file
 * (drivers/git.h). *out and *source are allocated. Returns KR_ENOTFOUND
 * with a clear message when none is available.
 */
int kr_load_version(char **out, char **source, const char *app_version,
	const char *config_file);

/*
 * The secret values of a loaded configuration, as kr_store_set_secrets
 * wants them: every env `secret:` value of every app and accessory env
 * file, the registry password and the ssh key_data keys. Not every line of
 * .kamal/secrets (a registry username may sit there and is no secret).
 * Keys name the secret (for messages). Appends to out.
 */
void kr_load_secret_values(struct kr_kvlist *out, const struct kr_loaded *l);

/* An ssh key_data entry that is the key itself (deprecated), not the name
 * of a secret holding it. */
bool kr_load_is_inline_key(const char *s);

#endif
