/*
 * kreconcile refresh: read every configured host (one SSH exec each, all in
 * parallel) into the state database, like Terraform's refresh-only. An
 * unreachable or failing host is reported with its reason and does not stop
 * the others. Exit 0 when every host was read, 3 when some failed, 1 when
 * all failed or nothing could be done.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_common.h"
#include "cli/run.h"
#include "common/error.h"

static const struct option refresh_options[] = {
	KR_CLI_OPTION_ACCEPT_NEW,
	{ NULL, 0, NULL, 0 },
};

static int
cmd_refresh_exec(const struct kr_globals *g, int argc, char **argv)
{
	struct kr_engine_opts o = { .op = KR_OP_REFRESH,
		.refresh = true,
		.load_flags = KR_LOAD_ANY_VERSION };
	struct kr_engine_result r;
	struct kr_cli_printer pr = { .g = g };
	struct kr_cli_signals sigs;
	int c, rc, err;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", refresh_options, NULL)) != -1) {
		switch (c) {
		case KR_CLI_OPT_ACCEPT_NEW:
			o.accept_new_host_keys = true;
			break;
		default:
			return kr_cli_opt_error(&kr_cmd_refresh_entry, c, argv);
		}
	}
	if ((err = kr_cli_opt_no_more(&kr_cmd_refresh_entry, argc, argv)))
		return err;

	kr_cli_source(&o.src, g);
	kr_cli_printer_events(&o.events, &pr);
	kr_cli_signals_start(&sigs, &pr);
	o.cancel = &sigs.cancel;
	kr_engine_run(&r, &o);
	kr_cli_signals_stop(&sigs);
	rc = kr_cli_outcome_exit(r.outcome);
	if (r.outcome == KR_OUTCOME_CANCELLED && sigs.signal)
		kr_cli_error("%s", kr_cli_signal_word(&sigs));
	else if (r.hosts.failed)
		kr_cli_error("%zu of %zu hosts could not be observed",
			r.hosts.failed, r.hosts.n);
	else if (rc == KR_EXIT_OK)
		kr_cli_progress(g, "refreshed %zu host%s into %s", r.hosts.n,
			r.hosts.n == 1 ? "" : "s", r.store_path);
	kr_engine_result_release(&r);
	return rc;
}

const struct kr_cmd_entry kr_cmd_refresh_entry = {
	.name = "refresh",
	.summary =
		"read every host into the state database (one exec per host)",
	.usage = "kreconcile refresh [--accept-new-host-keys]\n"
		 "  --accept-new-host-keys  trust and record the key of a host "
		 "not yet in known_hosts\n"
		 "                          (a changed key is always refused)",
	.flags = 0,
	.complete = "--accept-new-host-keys",
	.exec = cmd_refresh_exec,
};
