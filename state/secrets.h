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

#include "common/buf.h"
#include "common/diag.h"
#include "common/vec.h"

struct kr_secrets_opts {
	int command_timeout;	/* seconds for each $(command); default 30 */
	int run_commands;	/* 0: leave $(...) unexpanded (--skip-secrets) */
	/*
	 * Optional, additive fields (leave zero for the defaults).
	 * run: replaces the /bin/sh runner (tests, fuzzing); same contract
	 * as kr_secrets_run_command. warnings: when set, lines that dotenv
	 * silently skips (not KEY=value, not a comment) are reported here;
	 * they are never errors, since Kamal accepts such files.
	 */
	int (*run)(struct kr_buf *out, struct kr_buf *why, const char *command,
		int timeout, void *arg);
	void *run_arg;
	struct kr_diags *warnings;
};

/*
 * Parse one file's text into `out` (keys set in order; a later key replaces
 * an earlier one). `file` names the file in diagnostics. Returns 0, or
 * KR_ECONFIG with every problem added to `diags` (`out` then untouched).
 * opts may be NULL: 30 s timeout, commands run. Diagnostics never hold a
 * secret value; columns count characters.
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

/*
 * The same with Kamal's `secrets_path` setting itself (default
 * ".kamal/secrets"): reads `secrets_path`-common, then `secrets_path` or
 * `secrets_path`.<destination>. Each file is parsed on its own, as Kamal
 * does (Dotenv.parse per file): $VAR sees earlier keys of the same file
 * only, then the process environment. Later files win. `out` is written
 * only on success.
 */
int kr_secrets_load_path(struct kr_kvlist *out, struct kr_diags *diags,
	const char *secrets_path, const char *destination,
	const struct kr_secrets_opts *opts);

/* The files kr_secrets_load_path reads, in order (for "not found in ..."). */
void kr_secrets_filenames(struct kr_strvec *out, const char *secrets_path,
	const char *destination);

/*
 * The default $(command) runner: `command` runs through /bin/sh (passed in
 * the environment, not argv, so it stays out of `ps`) in its own process
 * group with stdin inherited. Appends its standard output to `out` and
 * returns 0 when it exits 0; otherwise returns KR_ERROR (KR_ETIMEOUT after
 * `timeout` seconds, when the whole group is killed) with a reason in `why`
 * ("exited with status 3: <first stderr line>"), which may hold command
 * output and must be redacted by the caller.
 */
int kr_secrets_run_command(struct kr_buf *out, struct kr_buf *why,
	const char *command, int timeout, void *arg);

#endif
