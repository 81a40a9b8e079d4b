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
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd_common.h"
#include "cli/hosts.h"
#include "cli/load.h"
#include "common/buf.h"
#include "common/error.h"
#include "reconciler/diff.h"
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
	struct kr_cli_observe_opts oo = { .refresh = true,
		.include_removed = true };
	struct kr_diff_opts dopts = { 0 };
	struct kr_image_lookup *images = NULL;
	struct kr_plan_summary sum;
	struct kr_loaded l;
	struct kr_diags diags = { 0 };
	struct kr_cli_hosts hosts = { 0 };
	struct kr_buf text = KR_BUF_INIT, json = KR_BUF_INIT;
	struct kr_store *s = NULL;
	struct kr_plan *plan = NULL;
	const char *outfile = NULL;
	bool detailed = false, prune = false;
	int64_t run = 0;
	size_t nimages = 0, bad_images;
	int c, rc = KR_EXIT_ERROR, err;
	char summary[160];

	memset(&l, 0, sizeof(l));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:", plan_options, NULL)) != -1) {
		switch (c) {
		case KR_CLI_OPT_ACCEPT_NEW:
			oo.accept_new_host_keys = true;
			break;
		case OPT_REFRESH:
			if (parse_bool(&oo.refresh, optarg) < 0)
				return kr_cli_usage(&kr_cmd_plan_entry,
					"--refresh takes true or false, not "
					"'%s'",
					optarg);
			break;
		case OPT_DETAILED:
			detailed = true;
			break;
		case OPT_PRUNE:
			prune = true;
			break;
		case OPT_NO_DIGEST_CHECK:
			dopts.no_digest_check = true;
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

	if (kr_cli_load_report(&l, &diags, g, 0) < 0 ||
		kr_cli_run_begin(&s, &run, g, &l, KR_RUN_PLAN,
			KR_CLI_REV_ALWAYS) < 0)
		goto out;
	if (kr_cli_hosts_observe(&hosts, g, &l, s, run, &oo) < 0) {
		kr_cli_run_fail(s, run);
		goto out;
	}
	bad_images =
		kr_cli_images_resolve(&images, &nimages, l.desired, &hosts, g,
			!dopts.no_digest_check);
	if (bad_images) {
		kr_cli_error("cannot plan: %zu image%s could not be looked up "
			     "in the registry",
			bad_images, bad_images == 1 ? "" : "s");
		kr_store_run_end(s, run, "failed", "registry lookup failed");
		goto out;
	}

	dopts.now = time(NULL);
	dopts.prune = prune || l.desired->prune;
	dopts.images = images;
	dopts.nimages = nimages;
	if (kr_diff_build(&plan, l.desired, hosts.hosts, hosts.n, &dopts) < 0) {
		kr_cli_run_fail(s, run);
		goto out;
	}
	if (outfile || g->json)
		kr_plan_render_json(&json, plan, KR_PLAN_JSON_INDENT);
	if (outfile && save_atomic(outfile, json.ptr, json.len) < 0) {
		kr_cli_run_fail(s, run);
		goto out;
	}
	if (g->json) {
		fwrite(json.ptr, 1, json.len, stdout);
	} else {
		kr_plan_render_text(&text, plan, g->color ? KR_PLAN_COLOR : 0);
		fwrite(text.ptr, 1, text.len, stdout);
	}
	if (fflush(stdout) != 0) {
		kr_cli_error("cannot write the plan: %s", strerror(errno));
		goto out;
	}
	if (outfile)
		kr_cli_progress(g, "saved the plan to %s", outfile);

	kr_plan_summarize(&sum, plan);
	snprintf(summary, sizeof(summary),
		"Plan: %zu to add, %zu to change, %zu to destroy; %zu waiting; "
		"%zu host(s) not observed",
		sum.add, sum.change, sum.destroy, sum.waiting, hosts.failed);
	if (hosts.failed && hosts.failed == l.desired->nhosts)
		rc = KR_EXIT_ERROR;
	else if (hosts.failed)
		rc = KR_EXIT_PARTIAL;
	else if (detailed && kr_plan_has_changes(plan))
		rc = KR_EXIT_CHANGES;
	else
		rc = KR_EXIT_OK;
	kr_store_run_end(s, run,
		rc == KR_EXIT_ERROR	  ? "failed" :
		rc == KR_EXIT_PARTIAL	  ? "partial" :
		kr_plan_has_changes(plan) ? "changes" :
					    "ok",
		summary);
out:
	kr_plan_free(plan);
	kr_cli_images_free(images, nimages);
	kr_buf_release(&text);
	kr_buf_release(&json);
	kr_cli_hosts_release(&hosts);
	kr_store_close(s);
	kr_loaded_release(&l);
	kr_diags_release(&diags);
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
	.exec = cmd_plan_exec,
};
