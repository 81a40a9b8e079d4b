/* kreconcile plan: registered in the command table; being built (issue 4/5). */
#include "cli/cli.h"

static int
cmd_plan_exec(const struct kr_globals *g, int argc, char **argv)
{
	kr_cli_error("plan: this command is not built yet");
	return KR_EXIT_ERROR;
}

const struct kr_cmd_entry kr_cmd_plan_entry = {
	.name = "plan",
	.summary = "show every change apply would make, and why",
	.usage = "kreconcile plan [--json] [--detailed-exitcode] [--refresh=false] [-o FILE] [--prune]",
	.flags = KR_CMD_JSON,
	.exec = cmd_plan_exec,
};
