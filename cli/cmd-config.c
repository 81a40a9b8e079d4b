/* kreconcile config: placeholder until the config loader lands. */
#include "cli/cli.h"

static int
cmd_config_exec(const struct kr_globals *g, int argc, char **argv)
{
	kr_cli_error("config: configuration loading is not built yet");
	return KR_EXIT_ERROR;
}

const struct kr_cmd_entry kr_cmd_config_entry = {
	.name = "config",
	.summary = "print the resolved per-host desired state",
	.usage = "kreconcile config [--json]",
	.flags = KR_CMD_JSON,
	.exec = cmd_config_exec,
};
