/* kreconcile validate: placeholder until the config loader lands. */
#include "cli/cli.h"

static int
cmd_validate_exec(const struct kr_globals *g, int argc, char **argv)
{
	kr_cli_error("validate: configuration loading is not built yet");
	return KR_EXIT_ERROR;
}

const struct kr_cmd_entry kr_cmd_validate_entry = {
	.name = "validate",
	.summary = "check deploy.yml and the secrets, print a summary or every error",
	.usage = "kreconcile validate [--skip-secrets]",
	.exec = cmd_validate_exec,
};
