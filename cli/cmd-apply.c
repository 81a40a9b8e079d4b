/*
 * kreconcile apply: plan afresh (read every host, look up images, diff) or
 * check a saved plan against a fresh one, print it, ask (unless
 * --auto-approve), take Kamal's deploy lock, carry out every host's changes
 * in parallel (reconciler/apply.h: one exec per host, each action
 * journaled), read the hosts again and say whether they now match. All of
 * it goes over one SSH connection per host (cli/hosts.h kr_cli_conns),
 * opened by the first observe and closed when the run ends.
 *
 * Ctrl-C and SIGTERM are caught by a thread of their own (every other
 * thread blocks them, so no exec in flight is cut): the hosts already
 * running finish their script, no other host starts, the lock is
 * released and the journal says what did not run
 * (cli/cmd-apply-signal.c, with the confirmation). What it prints of its
 * progress and outcome is in cli/cmd-apply-report.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd-apply.h"
#include "cli/cmd_common.h"
#include "cli/hosts.h"
#include "cli/load.h"
#include "common/buf.h"
#include "common/error.h"
#include "drivers/docker.h"
#include "reconciler/apply.h"
#include "reconciler/diff.h"
#include "reconciler/plan.h"

enum {
	OPT_AUTO_APPROVE = KR_CLI_OPT_ACCEPT_NEW + 1,
	OPT_PRUNE,
	OPT_LOCK_WAIT,
	OPT_MESSAGE,
	OPT_NO_DIGEST_CHECK,
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

/* Apply's hosts get the run's connection (opened by the observe). */
static int
apply_connect(struct kr_transport **out, const char *host, void *arg)
{
	return kr_cli_conns_get(out, arg, host);
}

/* The connection stays open for the second observe and the lock. */
static void
apply_disconnect(struct kr_transport *t, void *arg)
{
	(void)t;
	(void)arg;
}

/*
 * Hosts no longer configured that apply acted on: the shared observe step
 * reads only configured hosts (a removed one comes from its last
 * snapshot), so read these again here and store what they show now, or the
 * next plan would plan their removals again from the old snapshot.
 */
static void
reobserve_removed(struct kr_cli_hosts *after, const struct kr_loaded *l,
	struct kr_cli_conns *cc, const struct kr_apply_result *res,
	struct kr_store *s, int64_t run)
{
	const struct kr_desired *d = l->desired;
	size_t i, j;

	for (i = d->nhosts; i < after->n; i++) {
		struct kr_docker_scope_buf sb;
		struct kr_observe_job job;
		const char *name = after->hosts[i].name;
		bool acted = false;
		char *json;

		for (j = 0; j < res->nhosts; j++)
			if (strcmp(res->hosts[j].name, name) == 0 &&
			    (res->hosts[j].state == KR_APPLY_HOST_OK ||
			     res->hosts[j].state == KR_APPLY_HOST_FAILED))
				acted = true;
		if (!acted)
			continue;
		memset(&job, 0, sizeof(job));
		kr_docker_scope_from_desired(&sb, d, NULL);
		kr_cli_ssh_for_host(&job.opts, &cc->ssh, name,
			d->nhosts ? d->hosts[0].user : "root", 22);
		job.scope = &sb.scope;
		job.conns = &cc->conns;	/* apply's connection to it */
		kr_docker_observe_all(&job, 1, 1, NULL, NULL);
		json = kr_observed_host_dump(&job.result);
		if (kr_store_snapshot_add(s, run, job.result.name,
			job.result.status, job.result.error,
			job.result.status == KR_OBS_OK ? job.result.fingerprint :
			NULL, json, job.result.observed_at) < 0)
			kr_cli_error("%s", kr_error_last());
		free(json);
		kr_observed_host_release(&after->hosts[i]);
		after->hosts[i] = job.result;
		after->execs[i] = job.execs;
		kr_docker_scope_buf_release(&sb);
	}
}

/* Release the deploy lock, journaled. */
static int
lock_release(struct kr_store *s, int64_t run, struct kr_transport *t,
	const struct kr_desired *d)
{
	char *addr = kr_cli_lock_address(d), *msg = NULL;
	int64_t e = 0;
	int err;

	kr_store_journal_begin(&e, s, run, d->lock_host, addr, "release");
	err = kr_apply_lock_release(t, d->service, d->destination, NULL);
	if (err < 0)
		msg = kr_xstrdup(kr_error_last());
	if (e)
		kr_store_journal_end(s, e, err < 0 ? "failed" : "ok", msg);
	if (err < 0)
		kr_cli_error("%s", msg);
	free(msg);
	free(addr);
	return err;
}

/*
 * Take Kamal's deploy lock on d->lock_host, journaled; with --lock-wait
 * one attempt every 2 s until the deadline, so Ctrl-C is heard. *t is the
 * run's connection to the lock host once reached; *execs counts the
 * attempts. 0 when taken; otherwise the reason is printed, the run ended
 * as failed and a negative KR_E* returned.
 */
static int
lock_acquire(struct kr_transport **t, unsigned *execs,
	struct kr_cli_conns *cc, struct kr_store *s, int64_t run,
	const struct kr_globals *g, const struct kr_desired *d,
	const char *who, const char *message, long lock_wait)
{
	struct kr_apply_lock_opts lo = {
		.service = d->service,
		.destination = d->destination,
		.who = who,
		.version = d->version,
		.message = message ? message : "kreconcile apply",
	};
	time_t deadline = time(NULL) + lock_wait;
	char *addr, *holder = NULL;
	int64_t entry = 0;
	int err;

	kr_cli_conns_add(cc, d, d->lock_host);
	if ((err = kr_cli_conns_get(t, cc, d->lock_host)) < 0) {
		kr_cli_error("cannot take the deploy lock on '%s': %s",
			d->lock_host, kr_error_last());
		kr_store_run_end(s, run, "failed", kr_error_last());
		return err;
	}
	/* from here a signal lets the step in flight finish */
	kr_cli_apply_signals_arm();
	addr = kr_cli_lock_address(d);
	kr_store_journal_begin(&entry, s, run, d->lock_host, addr, "acquire");
	for (;;) {
		free(holder);
		holder = NULL;
		(*execs)++;
		err = kr_apply_lock_acquire(&holder, *t, &lo);
		if (err != KR_ELOCKED || kr_cli_apply_interrupted ||
		    time(NULL) + 2 > deadline)
			break;
		if (*execs == 1)
			kr_cli_progress(g, "the deploy lock is held; "
				"waiting up to %ld s", lock_wait);
		sleep(2);
	}
	if (entry)
		kr_store_journal_end(s, entry, err == 0 ? "ok" :
			err == KR_ELOCKED ? "held" : "failed",
			err == KR_ELOCKED ? holder : err < 0 ?
			kr_error_last() : NULL);
	if (err < 0) {
		kr_cli_error("%s", kr_error_last());
		if (holder)
			fprintf(stderr, "%s\n", holder);
		if (holder && !lock_wait)
			fprintf(stderr, "(wait for it with --lock-wait "
				"SECONDS)\n");
		kr_store_run_end(s, run, "failed", "locked");
	}
	free(holder);
	free(addr);
	return err;
}

static int
cmd_apply_exec(const struct kr_globals *g, int argc, char **argv)
{
	struct kr_cli_observe_opts oo = { .refresh = true,
		.include_removed = true };
	struct kr_diff_opts dopts = { 0 };
	struct kr_image_lookup *images = NULL;
	struct kr_plan_identity saved;
	struct kr_loaded l;
	struct kr_globals lg;
	struct kr_diags diags = { 0 };
	struct kr_cli_hosts hosts = { 0 }, after = { 0 };
	struct kr_apply_result res = { 0 };
	struct kr_apply_opts ao = { 0 };
	struct kr_cli_conns cc;
	struct kr_cli_apply_progress pc = { g };
	struct kr_cli_apply_signals sigs;
	struct kr_buf text = KR_BUF_INIT;
	struct kr_store *s = NULL;
	struct kr_plan *plan = NULL, *plan2 = NULL;
	struct kr_transport *lock_t = NULL;
	const char *planfile = NULL, *message = NULL;
	char *planjson = NULL, *who = NULL;
	bool auto_approve = false, prune = false, have_saved = false;
	bool conns_ready = false, locked = false;
	long lock_wait = 0;
	int64_t run = 0;
	size_t nimages = 0, planlen = 0, waiting, i;
	unsigned lock_execs = 0;
	int c, rc = KR_EXIT_ERROR, err;
	char summary[256], *end;

	memset(&l, 0, sizeof(l));
	memset(&saved, 0, sizeof(saved));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", apply_options, NULL)) != -1) {
		switch (c) {
		case KR_CLI_OPT_ACCEPT_NEW:
			oo.accept_new_host_keys = true;
			break;
		case OPT_AUTO_APPROVE:
			auto_approve = true;
			break;
		case OPT_PRUNE:
			prune = true;
			break;
		case OPT_NO_DIGEST_CHECK:
			dopts.no_digest_check = true;
			break;
		case OPT_LOCK_WAIT:
			errno = 0;
			lock_wait = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || lock_wait < 0 ||
			    lock_wait > 86400)
				return kr_cli_usage(&kr_cmd_apply_entry,
					"--lock-wait takes seconds (0 to "
					"86400), not '%s'", optarg);
			break;
		case OPT_MESSAGE:
			message = optarg;
			break;
		default:
			return kr_cli_opt_error(&kr_cmd_apply_entry, c, argv);
		}
	}
	if (optind < argc)
		planfile = argv[optind++];
	if ((err = kr_cli_opt_no_more(&kr_cmd_apply_entry, argc, argv)))
		return err;

	kr_cli_apply_signals_start(&sigs);

	if (planfile) {
		if (read_file(&planjson, &planlen, planfile) < 0 ||
		    kr_plan_identity_read(&saved, planjson, planlen) < 0) {
			kr_cli_error("%s", kr_error_last());
			goto out;
		}
		have_saved = true;
	}
	/* a saved plan names its version: the default when none is given */
	lg = *g;
	if (have_saved && !lg.app_version && saved.version &&
	    !getenv("VERSION"))
		lg.app_version = saved.version;
	if (kr_cli_load_report(&l, &diags, &lg, 0) < 0 ||
	    kr_cli_run_begin(&s, &run, g, &l, KR_RUN_APPLY,
		KR_CLI_REV_ALWAYS) < 0)
		goto out;
	/* one connection per host for the whole run, opened by the observe */
	if (kr_cli_conns_init(&cc, g, &l, oo.accept_new_host_keys) < 0) {
		kr_cli_run_fail(s, run);
		goto out;
	}
	conns_ready = true;
	cc.store = s;
	cc.run = run;
	oo.conns = &cc;
	if (kr_cli_hosts_observe(&hosts, g, &l, s, run, &oo) < 0) {
		kr_cli_run_fail(s, run);
		goto out;
	}
	if (kr_cli_images_resolve(&images, &nimages, l.desired, &hosts, g,
		    !dopts.no_digest_check)) {
		kr_cli_error("cannot apply: images could not be looked up in "
			"the registry");
		kr_store_run_end(s, run, "failed", "registry lookup failed");
		goto out;
	}
	dopts.now = time(NULL);
	dopts.prune = have_saved ? saved.prune : prune || l.desired->prune;
	dopts.images = images;
	dopts.nimages = nimages;
	if (kr_diff_build(&plan, l.desired, hosts.hosts, hosts.n, &dopts) < 0) {
		kr_cli_run_fail(s, run);
		goto out;
	}
	if (have_saved && kr_plan_identity_check(&saved, plan) < 0) {
		kr_cli_error("%s; run 'kreconcile plan' again", kr_error_last());
		kr_store_run_end(s, run, "failed", "stale plan");
		goto out;
	}

	if (!g->json) {
		kr_plan_render_text(&text, plan, g->color ? KR_PLAN_COLOR : 0);
		fwrite(text.ptr, 1, text.len, stdout);
		fflush(stdout);
	}
	if (!kr_plan_has_changes(plan)) {
		if (g->json)
			kr_cli_apply_print_json(plan, NULL, plan,
				!hosts.failed);
		rc = kr_cli_hosts_exit(&hosts);
		/* a version whose image is not pushed yet is no success */
		waiting = kr_cli_apply_plan_waiting(plan);
		if (waiting) {
			kr_cli_error("%zu change%s wait%s for an image the "
				"registry does not have yet; nothing applied",
				waiting, waiting == 1 ? "" : "s",
				waiting == 1 ? "s" : "");
			rc = KR_EXIT_ERROR;
		}
		kr_store_run_end(s, run, rc == KR_EXIT_OK ? "ok" : "partial",
			"no changes");
		goto out;
	}
	if (!auto_approve) {
		if (!isatty(STDIN_FILENO)) {
			kr_cli_error("refusing to apply without confirmation: "
				"stdin is not a terminal (use --auto-approve)");
			kr_store_run_end(s, run, "failed", "not confirmed");
			goto out;
		}
		if (!kr_cli_apply_confirm(g->json ? stderr : stdout)) {
			fprintf(g->json ? stderr : stdout, "\nApply cancelled.\n");
			kr_store_run_end(s, run, "cancelled", "not confirmed");
			goto out;
		}
	}

	who = kr_cli_performer();

	/* Kamal's deploy lock, on the primary role's first host */
	if (l.desired->lock_host && !kr_cli_apply_interrupted) {
		if (lock_acquire(&lock_t, &lock_execs, &cc, s, run, g,
			l.desired, who, message, lock_wait) < 0)
			goto out;
		locked = true;
	}

	/* every host apply may touch has its slot before the threads */
	for (i = 0; i < plan->nhosts; i++)
		kr_cli_conns_add(&cc, l.desired, plan->hosts[i].name);
	ao.desired = l.desired;
	ao.plan = plan;
	ao.store = s;
	ao.run = run;
	ao.connect = apply_connect;
	ao.disconnect = apply_disconnect;
	ao.connect_arg = &cc;
	{
		long long maxp = l.config->sshkit_max_concurrent_starts;

		ao.max_parallel = maxp > 0 && maxp < 1000 ? (unsigned)maxp : 0;
	}
	ao.performer = who;
	ao.interrupted = &kr_cli_apply_interrupted;
	ao.progress = kr_cli_apply_progress;
	ao.progress_arg = &pc;
	if (kr_apply_run(&res, &ao) < 0) {
		kr_cli_run_fail(s, run);
		goto out;
	}
	for (i = 0; i < res.nhosts; i++)
		if (res.hosts[i].state == KR_APPLY_HOST_FAILED ||
		    res.hosts[i].state == KR_APPLY_HOST_SKIPPED)
			kr_cli_error("host %s: %s", res.hosts[i].name,
				res.hosts[i].error ? res.hosts[i].error :
				"failed");

	/*
	 * Release first, then read the hosts: the snapshot the store keeps
	 * (what 'status' shows) must not say the lock is still ours.
	 */
	if (locked) {
		lock_execs++;
		if (lock_release(s, run, lock_t, l.desired) == 0)
			locked = false;
	}
	/* what the hosts look like now */
	if (kr_cli_hosts_observe(&after, g, &l, s, run, &oo) == 0) {
		reobserve_removed(&after, &l, &cc, &res, s, run);
		if (kr_diff_build(&plan2, l.desired, after.hosts, after.n,
			&dopts) < 0)
			plan2 = NULL;
	}

	if (g->json)
		kr_cli_apply_print_json(plan, &res, plan2, !after.failed);
	else
		kr_cli_apply_print_result(&res, plan2, after.failed);
	kr_cli_apply_print_execs(g, l.desired, &hosts, &after, &res, lock_execs,
		&cc);

	if (res.hosts_failed + res.hosts_skipped == 0 && !res.interrupted &&
	    plan2 && !after.failed)
		/* every host did its part: done only if nothing is left */
		rc = kr_cli_apply_plan_done(plan2) ? KR_EXIT_OK : KR_EXIT_ERROR;
	else if (res.hosts_ok > 0)
		rc = KR_EXIT_PARTIAL;
	else
		rc = KR_EXIT_ERROR;
	snprintf(summary, sizeof(summary), "Apply: %zu added, %zu changed, "
		"%zu destroyed; %zu host(s) failed%s", res.added, res.changed,
		res.destroyed, res.hosts_failed + res.hosts_skipped,
		res.interrupted ? "; interrupted" : "");
	kr_store_run_end(s, run, rc == KR_EXIT_OK ? "ok" :
		rc == KR_EXIT_PARTIAL ? "partial" : "failed", summary);
out:
	if (locked && lock_t)
		lock_release(s, run, lock_t, l.desired);
	/* lock_t is the run's connection to the lock host: closed here */
	if (conns_ready)
		kr_cli_conns_release(&cc);
	kr_cli_apply_signals_stop(&sigs);
	if (kr_cli_apply_interrupted && rc == KR_EXIT_OK)
		rc = KR_EXIT_ERROR;
	kr_apply_result_release(&res);
	kr_plan_free(plan2);
	kr_plan_free(plan);
	kr_cli_images_free(images, nimages);
	kr_buf_release(&text);
	kr_cli_hosts_release(&after);
	kr_cli_hosts_release(&hosts);
	if (have_saved)
		kr_plan_identity_release(&saved);
	free(planjson);
	free(who);
	kr_store_close(s);
	kr_loaded_release(&l);
	kr_diags_release(&diags);
	return rc;
}

const struct kr_cmd_entry kr_cmd_apply_entry = {
	.name = "apply",
	.summary = "carry out a plan: only the difference, in few steps",
	.usage = "kreconcile apply [PLANFILE] [--auto-approve] [--prune] "
		 "[--lock-wait SECONDS]\n"
		 "  PLANFILE                a plan saved by 'kreconcile plan -o'; "
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
		 "exit: 0 applied and hosts match, 1 error or nothing applied, 3 "
		 "some hosts failed",
	.flags = KR_CMD_JSON,
	.exec = cmd_apply_exec,
};
