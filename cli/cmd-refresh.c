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
#include "cli/hosts.h"
#include "cli/load.h"
#include "common/error.h"

static const struct option refresh_options[] = {
	KR_CLI_OPTION_ACCEPT_NEW,
	{ NULL, 0, NULL, 0 },
};

static int
cmd_refresh_exec(const struct kr_globals *g, int argc, char **argv)
{
	struct kr_cli_observe_opts oo = { .refresh = true };
	struct kr_loaded l;
	struct kr_diags diags = { 0 };
	struct kr_cli_hosts hosts = { 0 };
	struct kr_store *s = NULL;
	int64_t run = 0;
	int c, rc = KR_EXIT_ERROR, err;
	char summary[128];

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", refresh_options, NULL)) != -1) {
		switch (c) {
		case KR_CLI_OPT_ACCEPT_NEW:
			oo.accept_new_host_keys = true;
			break;
		default:
			return kr_cli_opt_error(&kr_cmd_refresh_entry, c, argv);
		}
	}
	if ((err = kr_cli_opt_no_more(&kr_cmd_refresh_entry, argc, argv)))
		return err;

	/* refresh needs no version: without one no revision is recorded */
	if (kr_cli_load_report(&l, &diags, g, KR_LOAD_ANY_VERSION) < 0 ||
		kr_cli_run_begin(&s, &run, g, &l, KR_RUN_REFRESH,
			KR_CLI_REV_IF_VERSIONED) < 0)
		goto out;
	err = kr_cli_hosts_observe(&hosts, g, &l, s, run, &oo);
	if (err < 0 && !hosts.n) {
		kr_cli_run_fail(s, run);
		goto out;
	}
	rc = err < 0 ? KR_EXIT_ERROR : kr_cli_hosts_exit(&hosts);
	snprintf(summary, sizeof(summary), "%zu of %zu hosts observed",
		hosts.n - hosts.failed, hosts.n);
	kr_store_run_end(s, run,
		rc == KR_EXIT_OK      ? "ok" :
		rc == KR_EXIT_PARTIAL ? "partial" :
					"failed",
		summary);
	if (hosts.failed)
		kr_cli_error("%zu of %zu hosts could not be observed",
			hosts.failed, hosts.n);
	else if (rc == KR_EXIT_OK)
		kr_cli_progress(g, "refreshed %zu host%s into %s", hosts.n,
			hosts.n == 1 ? "" : "s", kr_store_path(s));
out:
	kr_cli_hosts_release(&hosts);
	kr_store_close(s);
	kr_loaded_release(&l);
	kr_diags_release(&diags);
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
