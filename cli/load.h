/*
 * What every command that needs the desired state does first: load
 * deploy.yml (with -d's destination file), read the secrets files Kamal
 * would read, check every secret the configuration names, choose the
 * version and resolve the per-host model. All problems are collected in one
 * kr_diags so a command can print them together, sorted.
 */
#ifndef KR_CLI_LOAD_H
#define KR_CLI_LOAD_H

#include "cli/cli.h"
#include "common/diag.h"
#include "common/vec.h"
#include "state/config.h"
#include "state/desired.h"

#define KR_LOAD_SKIP_SECRETS 0x1	/* do not read secrets; names are not checked */
#define KR_LOAD_ANY_VERSION 0x2		/* no version is no error (validate) */

struct kr_loaded {
	struct kr_config *config;	/* NULL when the config could not be read */
	struct kr_kvlist secrets;	/* SECRET values; empty with SKIP_SECRETS */
	struct kr_strvec secret_files;	/* the files read, in order */
	struct kr_desired *desired;	/* NULL unless everything succeeded */
};

/*
 * Returns 0 with everything filled in, or a negative KR_E* with the
 * problems in diags (config errors, secrets errors, missing secrets,
 * resolution errors) or, when there is no position to give (no version),
 * in kr_error_last(). `out` is always initialised; release it.
 */
int kr_cli_load(struct kr_loaded *out, struct kr_diags *diags,
	const struct kr_globals *g, unsigned flags);
void kr_loaded_release(struct kr_loaded *l);

/* Sort and print each diagnostic as "FILE:LINE:COL: message" on stderr. */
void kr_cli_print_diags(struct kr_diags *d);

#endif
