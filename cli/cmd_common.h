/*
 * What the command files (cli/cmd-*.c) share beyond cli/hosts.h: the
 * --accept-new-host-keys option, the usage errors of an option getopt did
 * not take, the name a deploy lock and the audit log give the person
 * running the command, and a JSON document printed on stdout. The option
 * helpers are inline so a test that compiles one command file needs nothing
 * more than cli/hosts.c.
 */
#ifndef KR_CLI_CMD_COMMON_H
#define KR_CLI_CMD_COMMON_H

#include <getopt.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "state/desired.h"

/* getopt_long's value for --accept-new-host-keys; a command's own long
 * options take the values after it. */
#define KR_CLI_OPT_ACCEPT_NEW 256

/* The option's row in a command's struct option table. */
#define KR_CLI_OPTION_ACCEPT_NEW                           \
	{                                                  \
		"accept-new-host-keys", no_argument, NULL, \
			KR_CLI_OPT_ACCEPT_NEW              \
	}

/*
 * The usage error for what getopt_long returned for an option the command
 * did not take: ':' (its value is missing, with a leading ':' in the
 * optstring) or anything else (unknown). Returns KR_EXIT_USAGE.
 */
static inline int
kr_cli_opt_error(const struct kr_cmd_entry *cmd, int c, char **argv)
{
	if (c == ':')
		return kr_cli_usage(
			cmd, "option '%s' needs a value", argv[optind - 1]);
	return kr_cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
}

/* The usage error for an argument left after the options and operands
 * (argv[optind]); KR_EXIT_USAGE, or 0 when there is none. */
static inline int
kr_cli_opt_no_more(const struct kr_cmd_entry *cmd, int argc, char **argv)
{
	if (optind < argc)
		return kr_cli_usage(
			cmd, "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* Who takes or releases the deploy lock: $KR_PERFORMER when set, else
 * user@host. Caller frees. */
char *kr_cli_performer(void);

/* Print root indented (2, keys in order) and a newline on stdout. Borrows
 * root. */
void kr_cli_json_print(const json_t *root);

#endif
