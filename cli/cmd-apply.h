/*
 * What kreconcile apply's files share: cli/cmd-apply.c parses the options
 * and runs the engine; cli/cmd-apply-report.c prints its outcome.
 */
#ifndef KR_CLI_CMD_APPLY_H
#define KR_CLI_CMD_APPLY_H

#include "cli/cli.h"
#include "reconciler/engine.h"

/* --json: one object on stdout, {format_version, plan, applied, result,
 * hosts_match}. */
void kr_cli_apply_print_json(const struct kr_engine_result *r);

/* The text outcome on stdout: "Apply complete: ..." and whether the hosts
 * match now. */
void kr_cli_apply_print_result(const struct kr_engine_result *r);

/* -v: each configured host's SSH execs and connections in the run. */
void kr_cli_apply_print_execs(
	const struct kr_globals *g, const struct kr_engine_result *r);

#endif
