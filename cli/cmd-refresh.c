/* kreconcile refresh: registered in the command table; being built (issue 4/5). */
#include "cli/cli.h"

static int
cmd_refresh_exec(const struct kr_globals *g, int argc, char **argv)
{
	kr_cli_error("refresh: this command is not built yet");
	return KR_EXIT_ERROR;
}

const struct kr_cmd_entry kr_cmd_refresh_entry = {
	.name = "refresh",
	.summary = "read every host into the state database (one exec per host)",
	.usage = "kreconcile refresh [--accept-new-host-keys]",
	.flags = 0,
	.exec = cmd_refresh_exec,
};
