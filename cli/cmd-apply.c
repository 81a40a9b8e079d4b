/*
 * kreconcile apply: the engine's apply (reconciler/engine.h): plan afresh
 * or check a saved plan against a fresh one, print it, ask (unless
 * --auto-approve), take Kamal's deploy lock, carry out every host's
 * changes, read the hosts again and say whether they now match.
 *
 * Ctrl-C and SIGTERM set the run's cancel flag (cli/run.c): before the
 * lock nothing has changed and the run ends at once; after, the hosts
 * already running finish their script, no other host starts, the lock is
 * released and the journal says what did not run. What it prints of its
 * outcome is in cli/cmd-apply-report.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd-apply.h"
#include "cli/cmd_common.h"
#include "cli/run.h"
#include "common/buf.h"
#include "common/error.h"

enum {
	OPT_AUTO_APPROVE = KR_CLI_OPT_ACCEPT_NEW + 1,
	OPT_PRUNE,
	OPT_NO_DIGEST_CHECK,
	OPT_LOCK_WAIT,
	OPT_MESSAGE,
};

static const struct option apply_options[] = {
	KR_CLI_OPTION_ACCEPT_NEW,
	{ "auto-approve", no_argument, NULL, OPT_AUTO_APPROVE },
	{ "prune", no_argument, NULL, OPT_PRUNE },
	{ "no-digest-check", no_argument, NULL, OPT_NO_DIGEST_CHECK },
	{ "lock-wait", required_argument, NULL, OPT_LOCK_WAIT },
	{ "message", required_argument, NULL, OPT_MESSAGE },
	{ NULL, 0, NULL, 0 },
};

static int
read_file(char **out, size_t *len, const char *path)
{
	struct kr_buf b = KR_BUF_INIT;
	char chunk[8192];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		kr_error_set(KR_EIO, "cannot read the plan '%s': %s", path,
			strerror(errno));
		return KR_EIO;
	}
	kr_buf_init(&b, 64 * 1024 * 1024);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (kr_buf_put(&b, chunk, n) < 0)
			break;
	if (ferror(f) || n > 0) {
		fclose(f);
		kr_buf_release(&b);
		kr_error_set(KR_EIO, "cannot read the plan '%s'", path);
		return KR_EIO;
	}
	fclose(f);
	*out = kr_buf_detach(&b, len);
	return 0;
}

static int
cmd_apply_exec(const struct kr_globals *g, int argc, char **argv)
{
	struct kr_engine_opts o = {
		.op = KR_OP_APPLY, .refresh = true, .include_removed = true
	};
	struct kr_engine_result r;
	struct kr_cli_printer pr = { .g = g, .print_plan = !g->json };
	struct kr_cli_signals sigs;
	const char *planfile = NULL;
	char *planjson = NULL, *who = NULL, *end;
	bool auto_approve = false;
	size_t planlen = 0;
	int c, rc, err;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", apply_options, NULL)) != -1) {
		switch (c) {
		case KR_CLI_OPT_ACCEPT_NEW:
			o.accept_new_host_keys = true;
			break;
		case OPT_AUTO_APPROVE:
			auto_approve = true;
			break;
		case OPT_PRUNE:
			o.prune = true;
			break;
		case OPT_NO_DIGEST_CHECK:
			o.no_digest_check = true;
			break;
		case OPT_LOCK_WAIT:
			errno = 0;
			o.lock_wait = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || o.lock_wait < 0 ||
				o.lock_wait > 86400)
				return kr_cli_usage(&kr_cmd_apply_entry,
					"--lock-wait takes seconds (0 to "
					"86400), not '%s'",
					optarg);
			break;
		case OPT_MESSAGE:
			o.message = optarg;
			break;
		default:
			return kr_cli_opt_error(&kr_cmd_apply_entry, c, argv);
		}
	}
	if (optind < argc)
		planfile = argv[optind++];
	if ((err = kr_cli_opt_no_more(&kr_cmd_apply_entry, argc, argv)))
		return err;
	if (planfile && read_file(&planjson, &planlen, planfile) < 0) {
		kr_cli_error("%s", kr_error_last());
		return KR_EXIT_ERROR;
	}

	kr_cli_source(&o.src, g);
	o.saved_plan = planjson;
	o.saved_plan_len = planlen;
	o.performer = who = kr_cli_performer();
	kr_cli_signals_start(&sigs, &pr);
	o.cancel = &sigs.cancel;
	if (!auto_approve) {
		o.confirm = kr_cli_confirm;
		o.confirm_arg = &sigs;
	}
	kr_cli_printer_events(&o.events, &pr);
	kr_engine_run(&r, &o);
	kr_cli_signals_stop(&sigs);

	rc = kr_cli_outcome_exit(r.outcome);
	if (r.outcome == KR_OUTCOME_CANCELLED && sigs.signal)
		kr_cli_error("%s before anything was changed",
			kr_cli_signal_word(&sigs));
	if (r.plan && (r.apply_ran || !kr_plan_has_changes(r.plan))) {
		if (g->json)
			kr_cli_apply_print_json(&r);
		else if (r.apply_ran)
			kr_cli_apply_print_result(&r);
	}
	if (r.apply_ran)
		kr_cli_apply_print_execs(g, &r);
	kr_engine_result_release(&r);
	free(planjson);
	free(who);
	return rc;
}

const struct kr_cmd_entry kr_cmd_apply_entry = {
	.name = "apply",
	.summary = "carry out a plan: only the difference, in few steps",
	.usage = "kreconcile apply [PLANFILE] [--auto-approve] [--prune] "
		 "[--lock-wait SECONDS]\n"
		 "  PLANFILE                a plan saved by 'kreconcile plan "
		 "-o'; "
		 "refused when stale\n"
		 "                          (its version is the default)\n"
		 "  --auto-approve          do not ask (required when stdin is "
		 "not a terminal)\n"
		 "  --prune                 also remove roles, accessories and "
		 "hosts no longer configured\n"
		 "  --no-digest-check       a tag pushed again (another "
		 "registry digest) is no change\n"
		 "  --lock-wait SECONDS     wait this long for Kamal's deploy "
		 "lock (default: fail at once)\n"
		 "  --message TEXT          the deploy lock's message\n"
		 "  --accept-new-host-keys  trust the key of a host not yet in "
		 "known_hosts\n"
		 "exit: 0 applied and hosts match, 1 error or nothing applied, "
		 "3 "
		 "some hosts failed",
	.flags = KR_CMD_JSON,
	.complete =
		"--auto-approve --prune --no-digest-check --lock-wait=SECONDS "
		"--message=TEXT --accept-new-host-keys FILE",
	.exec = cmd_apply_exec,
};
