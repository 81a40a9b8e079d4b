/*
 * kreconcile's entry point: global options, the command table, help and
 * version. Each command lives in its own cmd-*.c file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const struct kr_cmd_entry *const commands[] = {
	&kr_cmd_validate_entry,
	&kr_cmd_config_entry,
	&kr_cmd_refresh_entry,
	&kr_cmd_status_entry,
	&kr_cmd_plan_entry,
	&kr_cmd_apply_entry,
	&kr_cmd_lock_entry,
	&kr_cmd_watch_entry,
	&kr_cmd_history_entry,
	&kr_cmd_completion_entry,
	NULL,
};
const struct kr_cmd_entry *const *const kr_cmd_table = commands;

static const char global_help[] =
	"Global options:\n"
	"  -c, --config FILE      deploy configuration (default "
	"config/deploy.yml)\n"
	"  -d, --destination NAME merge config/deploy.NAME.yml, read "
	".kamal/secrets.NAME\n"
	"                         (watch: repeat it to reconcile several "
	"destinations)\n"
	"  -C DIR                 run as if started in DIR\n"
	"      --app-version V    version of the app to deploy (Kamal's "
	"--version);\n"
	"                         default $VERSION, else git HEAD of the "
	"config's repository\n"
	"      --state PATH       state database (default .kreconcile/state.db "
	"beside the config)\n"
	"      --json             machine-readable output, where a command has "
	"it\n"
	"      --no-color         no color even on a terminal (NO_COLOR is "
	"honoured too)\n"
	"  -v, --verbose          more detail; -q, --quiet less\n"
	"  -h, --help             this help; kreconcile help COMMAND for one "
	"command\n"
	"      --version          print kreconcile's version\n"
	"\n"
	"Exit codes:\n"
	"  0   success, or no changes\n"
	"  1   error\n"
	"  2   plan: changes pending (with --detailed-exitcode)\n"
	"  3   some hosts failed, others succeeded\n"
	"  64  usage error\n";

void
kr_cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("kreconcile: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
kr_cli_progress(const struct kr_globals *g, const char *fmt, ...)
{
	va_list ap;

	if (g->verbosity < 0)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
kr_cli_usage(const struct kr_cmd_entry *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("kreconcile: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd)
		fprintf(stderr, "usage: %s\n", cmd->usage);
	else
		fputs("usage: kreconcile [global options] COMMAND [options]\n"
		      "       kreconcile --help\n",
			stderr);
	return KR_EXIT_USAGE;
}

static void
print_help(FILE *f)
{
	size_t i;

	fputs("usage: kreconcile [global options] COMMAND [options]\n\n"
	      "GitOps for Kamal 2 deployments: reads config/deploy.yml and "
	      ".kamal/secrets,\ncompares them with what the hosts run, and "
	      "applies only the difference.\n\nCommands:\n",
		f);
	for (i = 0; commands[i]; i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name,
			commands[i]->summary);
	fprintf(f, "  %-10s %s\n\n", "help", "show help for a command");
	fputs(global_help, f);
}

static const struct kr_cmd_entry *
find_command(const char *name)
{
	size_t i;

	for (i = 0; commands[i]; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static int
help_command(const char *name)
{
	const struct kr_cmd_entry *cmd = find_command(name);

	if (!cmd)
		return kr_cli_usage(NULL, "unknown command '%s'", name);
	printf("kreconcile %s: %s\n\nusage: %s\n\n%s", cmd->name, cmd->summary,
		cmd->usage, global_help);
	return KR_EXIT_OK;
}

/*
 * Take the global options out of argv wherever they stand (before "--"),
 * leaving the command name and its own options in order.
 */
static int
parse_globals(
	struct kr_globals *g, int *argc, char **argv, bool *help, bool *version)
{
	int i, n = 1;
	bool no_color = false;

	for (i = 1; i < *argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;

#define TAKE(shortopt, longopt)                                   \
	(strcmp(a, shortopt) == 0 || strcmp(a, longopt) == 0 ||   \
		(strncmp(a, longopt "=", sizeof(longopt)) == 0 && \
			(val = a + sizeof(longopt))))
#define VALUE()                                                                \
	do {                                                                   \
		if (!val) {                                                    \
			if (i + 1 >= *argc)                                    \
				return kr_cli_usage(                           \
					NULL, "option '%s' needs a value", a); \
			val = argv[++i];                                       \
		}                                                              \
	} while (0)

		if (strcmp(a, "--") == 0) {
			for (; i < *argc; i++)
				argv[n++] = argv[i];
			break;
		} else if (TAKE("-c", "--config")) {
			VALUE();
			g->config = val;
		} else if (TAKE("-d", "--destination")) {
			VALUE();
			g->destination = val;
			if (g->ndestinations >=
				sizeof(g->destinations) /
					sizeof(g->destinations[0]))
				return kr_cli_usage(NULL, "too many -d");
			g->destinations[g->ndestinations++] = val;
		} else if (TAKE("-C", "--chdir")) {
			VALUE();
			if (chdir(val) < 0) {
				kr_cli_error("cannot change to '%s': %s", val,
					strerror(errno));
				return KR_EXIT_ERROR;
			}
		} else if (TAKE("--app-version", "--app-version")) {
			VALUE();
			g->app_version = val;
		} else if (TAKE("--state", "--state")) {
			VALUE();
			g->state_path = val;
		} else if (strcmp(a, "--json") == 0) {
			g->json = true;
		} else if (strcmp(a, "--no-color") == 0) {
			no_color = true;
		} else if (strcmp(a, "-v") == 0 ||
			   strcmp(a, "--verbose") == 0) {
			g->verbosity++;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			g->verbosity--;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			*help = true;
		} else if (strcmp(a, "--version") == 0) {
			*version = true;
		} else {
			argv[n++] = argv[i];
		}
#undef TAKE
#undef VALUE
	}
	argv[n] = NULL;
	*argc = n;
	g->color = !no_color && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	return 0;
}

int
main(int argc, char **argv)
{
	struct kr_globals g = { .config = "config/deploy.yml" };
	const struct kr_cmd_entry *cmd;
	bool help = false, version = false;
	int rc;

	if ((rc = parse_globals(&g, &argc, argv, &help, &version)) != 0)
		return rc;
	if (version) {
		printf("kreconcile %s\n", KR_VERSION);
		return KR_EXIT_OK;
	}
	if (argc < 2) {
		print_help(help ? stdout : stderr);
		return help ? KR_EXIT_OK : KR_EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc < 3) {
			print_help(stdout);
			return KR_EXIT_OK;
		}
		return help_command(argv[2]);
	}
	if (!(cmd = find_command(argv[1])))
		return kr_cli_usage(NULL,
			"unknown command '%s' (see kreconcile --help)",
			argv[1]);
	if (help)
		return help_command(cmd->name);
	if (g.ndestinations > 1 && !(cmd->flags & KR_CMD_DESTINATIONS))
		return kr_cli_usage(cmd,
			"'%s' takes one destination (-d), not "
			"%zu",
			cmd->name, g.ndestinations);
	if (g.json && !(cmd->flags & KR_CMD_JSON))
		return kr_cli_usage(
			cmd, "'%s' has no --json output", cmd->name);
	optind = 1;
	return cmd->exec(&g, argc - 1, argv + 1);
}
