/* kreconcile apply: registered in the command table; being built (issue 4/5). */
#include "cli/cli.h"

static int
cmd_apply_exec(const struct kr_globals *g, int argc, char **argv)
{
	kr_cli_error("apply: this command is not built yet");
	return KR_EXIT_ERROR;
}

const struct kr_cmd_entry kr_cmd_apply_entry = {
	.name = "apply",
	.summary = "carry out a plan: only the difference, in few steps",
	.usage = "kreconcile apply [PLANFILE] [--auto-approve] [--prune] [--lock-wait SECONDS]",
	.flags = KR_CMD_JSON,
	.exec = cmd_apply_exec,
};
