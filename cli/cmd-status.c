/* kreconcile status: registered in the command table; being built (issue 4/5). */
#include "cli/cli.h"

static int
cmd_status_exec(const struct kr_globals *g, int argc, char **argv)
{
	kr_cli_error("status: this command is not built yet");
	return KR_EXIT_ERROR;
}

const struct kr_cmd_entry kr_cmd_status_entry = {
	.name = "status",
	.summary = "show what each host runs, as last read",
	.usage = "kreconcile status [--json]",
	.flags = KR_CMD_JSON,
	.exec = cmd_status_exec,
};
