/*
 * kreconcile plan: read every host (or, with --refresh=false, take the last
 * snapshots), ask the registry for the images that are not on the hosts
 * already, diff, and print the plan (Terraform-shaped text, or --json).
 * -o FILE saves the JSON plan atomically for a later apply; the desired
 * revision and the run are recorded in the state database.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd_common.h"
#include "cli/run.h"
#include "common/buf.h"
#include "common/error.h"
#include "reconciler/plan.h"

enum {
	OPT_REFRESH = KR_CLI_OPT_ACCEPT_NEW + 1,
	OPT_DETAILED,
	OPT_PRUNE,
	OPT_NO_DIGEST_CHECK,
};

static const struct option plan_options[] = {
	KR_CLI_OPTION_ACCEPT_NEW,
	{ "refresh", optional_argument, NULL, OPT_REFRESH },
	{ "detailed-exitcode", no_argument, NULL, OPT_DETAILED },
	{ "prune", no_argument, NULL, OPT_PRUNE },
	{ "no-digest-check", no_argument, NULL, OPT_NO_DIGEST_CHECK },
	{ "out", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 },
};

/* Write data to path atomically: a temp file beside it, fsync, rename. */
static int
save_atomic(const char *path, const char *data, size_t len)
{
	char *tmp = kr_xasprintf("%s.tmp-XXXXXX", path);
	int fd = mkstemp(tmp), err = 0;
	size_t off = 0;

	if (fd < 0) {
		kr_error_set(KR_EIO, "cannot create a file beside '%s': %s",
			path, strerror(errno));
		free(tmp);
		return KR_EIO;
	}
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			err = KR_EIO;
			break;
		}
		off += (size_t)w;
	}
	if (!err && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		err = KR_EIO;
	if (close(fd) < 0 && !err)
		err = KR_EIO;
	if (!err && rename(tmp, path) < 0)
		err = KR_EIO;
	if (err) {
		kr_error_set(err, "cannot write the plan to '%s': %s", path,
			strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return err;
}

static int
parse_bool(bool *out, const char *s)
{
	if (!s || strcmp(s, "true") == 0 || strcmp(s, "1") == 0 ||
		strcmp(s, "yes") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0 ||
		strcmp(s, "no") == 0) {
		*out = false;
		return 0;
	}
	return -1;
}

static int
cmd_plan_exec(const struct kr_globals *g, int argc, char **argv)
{
	struct kr_engine_opts o = {
		.op = KR_OP_PLAN, .refresh = true, .include_removed = true
	};
	struct kr_engine_result r;
	struct kr_cli_printer pr = { .g = g };
	struct kr_cli_signals sigs;
	struct kr_buf text = KR_BUF_INIT, json = KR_BUF_INIT;
	const char *outfile = NULL;
	bool detailed = false;
	int c, rc, err;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:", plan_options, NULL)) != -1) {
		switch (c) {
		case KR_CLI_OPT_ACCEPT_NEW:
			o.accept_new_host_keys = true;
			break;
		case OPT_REFRESH:
			if (parse_bool(&o.refresh, optarg) < 0)
				return kr_cli_usage(&kr_cmd_plan_entry,
					"--refresh takes true or false, not "
					"'%s'",
					optarg);
			break;
		case OPT_DETAILED:
			detailed = true;
			break;
		case OPT_PRUNE:
			o.prune = true;
			break;
		case OPT_NO_DIGEST_CHECK:
			o.no_digest_check = true;
			break;
		case 'o':
			outfile = optarg;
			break;
		default:
			return kr_cli_opt_error(&kr_cmd_plan_entry, c, argv);
		}
	}
	if ((err = kr_cli_opt_no_more(&kr_cmd_plan_entry, argc, argv)))
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
	if (!r.plan)
		goto out;
	if (outfile || g->json)
		kr_plan_render_json(&json, r.plan, KR_PLAN_JSON_INDENT);
	if (outfile && save_atomic(outfile, json.ptr, json.len) < 0) {
		kr_cli_error("%s", kr_error_last());
		rc = KR_EXIT_ERROR;
		goto out;
	}
	if (g->json) {
		fwrite(json.ptr, 1, json.len, stdout);
	} else {
		kr_plan_render_text(
			&text, r.plan, g->color ? KR_PLAN_COLOR : 0);
		fwrite(text.ptr, 1, text.len, stdout);
	}
	if (fflush(stdout) != 0) {
		kr_cli_error("cannot write the plan: %s", strerror(errno));
		rc = KR_EXIT_ERROR;
		goto out;
	}
	if (outfile)
		kr_cli_progress(g, "saved the plan to %s", outfile);
	/* changes pending is a success unless asked to tell */
	if (rc == KR_EXIT_CHANGES && !detailed)
		rc = KR_EXIT_OK;
out:
	kr_buf_release(&text);
	kr_buf_release(&json);
	kr_engine_result_release(&r);
	return rc;
}

const struct kr_cmd_entry kr_cmd_plan_entry = {
	.name = "plan",
	.summary = "show every change apply would make, and why",
	.usage =
		"kreconcile plan [--json] [--detailed-exitcode] "
		"[--refresh=false] "
		"[-o FILE] [--prune]\n"
		"  --refresh=false         plan from the last snapshots in the "
		"state database\n"
		"  --detailed-exitcode     exit 0 no changes, 2 changes, 1 "
		"error, 3 some hosts not observed\n"
		"  -o, --out FILE          save the plan (JSON) for "
		"'kreconcile apply FILE'\n"
		"  --prune                 plan removal of roles, accessories "
		"and hosts no longer configured\n"
		"  --no-digest-check       a tag pushed again (another "
		"registry digest) is no change\n"
		"  --accept-new-host-keys  trust the key of a host not yet in "
		"known_hosts",
	.flags = KR_CMD_JSON,
	.complete = "--refresh=false --detailed-exitcode -o|--out=FILE --prune "
		    "--no-digest-check "
		    "--accept-new-host-keys",
	.exec = cmd_plan_exec,
};
