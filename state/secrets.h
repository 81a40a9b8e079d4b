/*
 * Reading .kamal/secrets files with Kamal's dotenv rules (shared/KAMAL.md):
 * KEY=value, `export `, comments, quotes, escapes, CRLF, $VAR/${VAR} from
 * earlier keys then the process environment, $(command) through /bin/sh with
 * a timeout. Values are secrets: they live in memory only, never in a
 * diagnostic, log or file.
 */
#ifndef KR_STATE_SECRETS_H
#define KR_STATE_SECRETS_H

#include <stddef.h>

#include "common/diag.h"
#include "common/vec.h"

struct kr_secrets_opts {
	int command_timeout;	/* seconds for each $(command); default 30 */
	int run_commands;	/* 0: leave $(...) unexpanded (--skip-secrets) */
};

/*
 * Parse one file's text into `out` (keys set in order; a later key replaces
 * an earlier one). `file` names the file in diagnostics. Returns 0, or
 * KR_ECONFIG with every problem added to `diags`.
 */
int kr_secrets_parse(struct kr_kvlist *out, struct kr_diags *diags,
	const char *file, const char *text, size_t len,
	const struct kr_secrets_opts *opts);

/*
 * Load the secrets Kamal would: `dir`/secrets-common then `dir`/secrets, or
 * `dir`/secrets.<destination> when destination is set. `dir` is the
 * secrets_path's directory (default ".kamal"); missing files are skipped.
 */
int kr_secrets_load(struct kr_kvlist *out, struct kr_diags *diags,
	const char *dir, const char *destination,
	const struct kr_secrets_opts *opts);

#endif
