/*
 * The command table and what every command shares: global options, exit
 * codes, output helpers. One file per command (cmd-*.c), as in tmux.
 */
#ifndef KR_CLI_CLI_H
#define KR_CLI_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* Exit codes, the same for every command (shared/DESIGN.md). */
enum {
	KR_EXIT_OK = 0,
	KR_EXIT_ERROR = 1,
	KR_EXIT_CHANGES = 2, /* plan: changes pending */
	KR_EXIT_PARTIAL = 3, /* some hosts failed, others succeeded */
	KR_EXIT_USAGE = 64,
};

struct kr_globals {
	const char *config; /* -c, default "config/deploy.yml" */
	const char *destination; /* -d (the last one given) */
	const char *
		destinations[16]; /* every -d, in order (watch takes several) */
	size_t ndestinations;
	const char *app_version; /* --app-version */
	const char *state_path; /* --state */
	bool json; /* --json */
	bool color; /* stdout is a terminal, NO_COLOR unset, no --no-color */
	int verbosity; /* 0 normal, >0 -v, <0 -q */
};

#define KR_CMD_JSON 0x1 /* the command has machine output (--json) */
#define KR_CMD_DESTINATIONS 0x2 /* the command takes -d more than once */

struct kr_cmd_entry {
	const char *name;
	const char *summary; /* one line for --help */
	const char *usage; /* "kreconcile NAME [options]" plus option lines */
	unsigned flags;
	/*
	 * What shell completion offers after the command name (kreconcile
	 * completion, cmd-completion.c), space-separated: "--flag";
	 * "-o|--out=FILE", an option and its aliases taking a value (FILE and
	 * DIR complete paths, DEST destinations, any other upper-case word
	 * nothing); "--opt=word",
	 * that literal word; "a|b|c", one operand out of these words; "FILE",
	 * a path operand. NULL: nothing beyond the global options.
	 */
	const char *complete;
	/* argv[0] is the command name; global options are already removed. */
	int (*exec)(const struct kr_globals *g, int argc, char **argv);
};

extern const struct kr_cmd_entry kr_cmd_validate_entry;
extern const struct kr_cmd_entry kr_cmd_config_entry;
extern const struct kr_cmd_entry kr_cmd_refresh_entry;
extern const struct kr_cmd_entry kr_cmd_status_entry;
extern const struct kr_cmd_entry kr_cmd_plan_entry;
extern const struct kr_cmd_entry kr_cmd_apply_entry;
extern const struct kr_cmd_entry kr_cmd_lock_entry;
extern const struct kr_cmd_entry kr_cmd_watch_entry;
extern const struct kr_cmd_entry kr_cmd_history_entry;
extern const struct kr_cmd_entry kr_cmd_completion_entry;

/* main.c's command table, NULL-terminated. */
extern const struct kr_cmd_entry *const *const kr_cmd_table;

/* Print "kreconcile: <msg>" to stderr (errors) or progress (unless -q). */
void kr_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kr_cli_progress(const struct kr_globals *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Report a usage error for cmd and return KR_EXIT_USAGE. */
int kr_cli_usage(const struct kr_cmd_entry *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
